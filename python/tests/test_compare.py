"""compare: rows from this machine's threads, from a thread pool, and from a Dask cluster of
worker processes are the same rows."""

import numpy as np
import pytest

import cvxnn

PROBLEMS = [cvxnn.planted_teacher("3-3-1", 30, seed=s) + (f"teacher {s}",) for s in (1, 2)]
METHODS = ["lbfgs", "adam", "scr"]
# no global bound (bound_time 0): these tests are about the rows
SETTINGS = dict(hidden_layer_sizes=(3,), n_starts=2, random_state=7, weight_decay=1e-3,
                max_iter=40, bound_time=0)
# what a local run adds to each row with a weight decay (an executor's rows have no networks
# to certify a bound from)
AGAINST_OPTIMUM = {"optimum", "optimum_scope", "lower_bound", "above_bound"}


def without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds" and k not in AGAINST_OPTIMUM}
            for r in rows]


def test_local_rows_are_ordered_and_scored():
    rows = cvxnn.compare(PROBLEMS, METHODS, n_jobs=2, **SETTINGS)
    assert len(rows) == 2 * 2 * 3
    assert [(r["problem"], r["start"], r["method"]) for r in rows] == [
        (p[2], s, m) for p in PROBLEMS for s in range(2) for m in METHODS
    ]
    for r in rows:
        assert "error" not in r and np.isfinite(r["loss"])
        # the weight-decay objective (1/2N)‖f − y‖² + (β/2)Σw² is at least half the MSE
        assert r["objective"] >= 0.5 * r["loss"] * (1 - 1e-12)
    # the same seeds for every method: each start's seed is shared across methods
    seeds = {(r["problem"], r["start"]): set() for r in rows}
    for r in rows:
        seeds[(r["problem"], r["start"])].add(r["init_seed"])
    assert all(len(v) == 1 for v in seeds.values())


def test_thread_count_does_not_change_the_rows():
    one = cvxnn.compare(PROBLEMS, METHODS, n_jobs=1, **SETTINGS)
    two = cvxnn.compare(PROBLEMS, METHODS, n_jobs=2, **SETTINGS)
    assert without_seconds(one) == without_seconds(two)


def test_an_executor_gives_the_local_rows():
    from concurrent.futures import ThreadPoolExecutor

    local = cvxnn.compare(PROBLEMS, METHODS, **SETTINGS)
    with ThreadPoolExecutor(2) as pool:
        remote = cvxnn.compare(PROBLEMS, METHODS, executor=pool, **SETTINGS)
    assert without_seconds(remote) == without_seconds(local)


def test_auto_patterns_decide_alike_in_every_task():
    # 12 samples in 2-D may be enumerated, 60 may not: patterns="auto" decides by the largest
    # problem, so both problems sample, locally and task by task
    from concurrent.futures import ThreadPoolExecutor

    problems = [cvxnn.planted_teacher("2-3-1", n, seed=1) + (f"N = {n}",) for n in (12, 60)]
    kwargs = dict(hidden_layer_sizes=(3,), weight_decay=1e-3, patterns="auto", bound_time=0)
    local = cvxnn.compare(problems, ["convex"], **kwargs)
    assert [r["certificate"]["scope"] for r in local] == ["restricted", "restricted"]
    with ThreadPoolExecutor(2) as pool:
        remote = cvxnn.compare(problems, ["convex"], executor=pool, **kwargs)
    assert without_seconds(remote) == without_seconds(local)


def test_a_dask_cluster_of_worker_processes_gives_the_local_rows():
    distributed = pytest.importorskip("distributed")
    local = cvxnn.compare(PROBLEMS, METHODS, **SETTINGS)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = cvxnn.compare(PROBLEMS, METHODS, executor=client.get_executor(),
                                   **SETTINGS)
    assert without_seconds(remote) == without_seconds(local)


def test_as_frame_gives_a_dataframe():
    pandas = pytest.importorskip("pandas")
    frame = cvxnn.compare(PROBLEMS[:1], ["lbfgs"], as_frame=True, hidden_layer_sizes=(3,))
    assert isinstance(frame, pandas.DataFrame) and list(frame["method"]) == ["lbfgs"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(methods=["nope"]), "unknown method"),
        (dict(methods=["scr"], learning_rate_init=0.1), "not read by method scr"),
        (dict(methods=["lbfgs"], time_limit=-1.0), "time limit"),
        (dict(methods=["lbfgs"], n_starts=0), "n_starts must be at least 1"),
    ],
)
def test_bad_comparisons_are_value_errors_before_any_run(kwargs, message):
    from concurrent.futures import ThreadPoolExecutor

    with pytest.raises(ValueError, match=message):
        cvxnn.compare(PROBLEMS, **kwargs)
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match=message):
        cvxnn.compare(PROBLEMS, executor=pool, **kwargs)


def test_with_a_weight_decay_rows_stand_against_the_convex_optimum_and_a_global_bound():
    X, Y = cvxnn.planted_teacher("3-4-1", 60, seed=2, noise=0.1)
    rows = cvxnn.compare([(X, Y, "sampled")], ["lbfgs", "adam"], hidden_layer_sizes=(8,),
                         n_starts=2, weight_decay=1e-2, patterns=20, bound_time=5, max_iter=300)
    rows += cvxnn.compare([(X[:20, :1], Y[:20], "enumerated")], ["lbfgs", "adam"],
                          hidden_layer_sizes=(8,), n_starts=2, weight_decay=1e-2, max_iter=300)
    assert len(rows) == 8
    for r in rows:
        # a lower bound on every two-layer network: below each row's network and below the
        # convex optimum (a network itself), and the excess is measured against it
        bound = r["lower_bound"]
        assert bound is not None and 0 < bound <= r["optimum"] * (1 + 1e-9)
        assert r["objective"] >= bound * (1 - 1e-9)
        assert r["above_bound"] == pytest.approx((r["objective"] - bound) / bound, rel=1e-12)
    scopes = {r["problem"]: r["optimum_scope"] for r in rows}
    # 20 patterns of 3-D data are a sample; 20 samples in 1-D are enumerated (the global optimum)
    assert scopes == {"sampled": "restricted", "enumerated": "global"}
    without = cvxnn.compare((X, Y), ["lbfgs"], hidden_layer_sizes=(8,), max_iter=300)
    assert "lower_bound" not in without[0]

"""``compare``: several methods on the same problems from the same seeded starts, one row per
(problem, start, method), on this machine's threads or on any ``concurrent.futures.Executor`` (a
Dask or Ray cluster). A row depends only on its problem, method, start index and the plan, never
on where it ran, so both give the same rows (but for ``seconds``)."""

import os

import numpy as np
from sklearn.utils.validation import check_X_y

from . import _core, _request
from ._common import seed_of


def _problems(problems):
    """(X, Y, name) triples from one ``(X, y)`` pair or a list of pairs or triples."""
    if isinstance(problems, tuple) and len(problems) in (2, 3) and hasattr(problems[0], "shape"):
        problems = [problems]
    out = []
    for i, p in enumerate(problems):
        if len(p) not in (2, 3):
            raise ValueError("each problem is (X, y) or (X, y, name)")
        name = str(p[2]) if len(p) == 3 else f"problem {i}"
        # scikit-learn's checks and messages (empty, non-finite, sparse, 1-D X, lengths)
        try:
            X, y = check_X_y(p[0], p[1], dtype=np.float64, order="C", multi_output=True,
                             y_numeric=True)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{name}: {e}") from None
        Y = np.ascontiguousarray(y.reshape(len(y), -1))
        out.append((X, Y, name))
    if not out:
        raise ValueError("compare needs at least one problem")
    return out


def _set_against_optimum(rows, optimum):
    """Each row's problem's convex optimum and proven global lower bound, and how far above
    that bound the row's network is."""
    by_problem = {p["problem"]: p for p in optimum["problems"]}
    for row in rows:
        p = by_problem.get(row["problem"])
        if p is None:
            continue
        if p["scope"] == "global" and p["certified"]:
            bound = p["dual_bound"]
        else:
            bound = (p.get("global_bound") or {}).get("lower_bound")
        row["optimum"] = p["objective"]
        row["optimum_scope"] = p["scope"]
        row["lower_bound"] = bound
        objective = row.get("objective")
        row["above_bound"] = (
            (objective - bound) / bound
            if objective is not None and bound is not None and bound > 0
            else None
        )


def _task(request, problem, index, start, method):
    """One row (runs wherever the executor sends it: only cvxnn must be installed there)."""
    return _core.compare_task(request, problem, index, start, method)


def _request_of(problems, methods, hidden, output, plan, settings):
    """The comparison request: the schema of ``cvxnn compare --config``, on arrays."""
    d, k = problems[0][0].shape[1], problems[0][1].shape[1]
    request = {
        "methods": methods,
        "data": {"arrays": [p[2] for p in problems]},
        "arch": "-".join(str(w) for w in [d, *hidden, k]),
        "output": output,
        **{key: value for key, value in plan.items() if value is not None},
    }
    groups = set()
    for m in methods:
        groups.update(_core.method_groups(m))
    out = {}
    for name, value in settings.items():
        keys = _request.NETWORK_KEYS.get(name)
        if keys is None:
            raise ValueError(f"unknown setting {name!r}")
        read = [key for key in keys if key.split(".")[0] in groups] or [keys[0]]
        for key in read:
            group, field = key.split(".")
            out.setdefault(group, {})[field] = _request._plain(name, value)
    request.update(out)
    return request


def compare(
    problems,
    methods,
    hidden_layer_sizes=(8,),
    output_activation="linear",
    n_starts=1,
    restarts=1,
    random_state=1,
    init_scheme=None,
    time_limit=None,
    weight_decay=None,
    bound_time=None,
    n_jobs=None,
    executor=None,
    as_frame=False,
    **settings,
):
    """Runs every method of ``methods`` on every problem from ``n_starts`` seeded starts.

    Parameters
    ----------
    problems : ``(X, y)``, or a list of ``(X, y)`` or ``(X, y, name)``
    methods : list of str
        Names from ``cvxnn.method_names()``.
    hidden_layer_sizes, output_activation : the architecture, as for ``MLPRegressor``.
    n_starts, restarts : starts per problem (every method gets the same seeds), and attempts per
        start (the row reports the best).
    random_state : int
        The base of the start seeds.
    init_scheme : {"gaussian", "he", "glorot"}, optional
        Every method's random start (None: each method's own).
    time_limit : float, optional
        Seconds per attempt.
    weight_decay : float, optional
        β: the methods that take a weight decay train with it, and every row reports its
        network's weight-decay objective (``objective``). Run locally, each problem's convex
        optimum is also solved (``patterns`` as for ``ConvexReLURegressor``, ``auto`` when not
        given), and where it is not global a global lower bound is certified from the best
        row's network within ``bound_time`` seconds (default 10; 0: none), as ``cvxnn compare
        --weight-decay`` does.
    n_jobs : int, optional
        Threads on this machine (None: one per core); ignored with ``executor``.
    executor : concurrent.futures.Executor, optional
        Where to run the tasks, e.g. ``distributed.Client(...).get_executor()`` for Dask or a
        ``ProcessPoolExecutor``.
    as_frame : bool, default=False
        Return a pandas DataFrame instead of the list of dicts (needs pandas).
    **settings
        Method settings, as ``MLPRegressor`` takes them (``max_iter``, ``learning_rate_init``,
        …); each method reads its own, and one that no method reads is refused.

    Returns
    -------
    One dict per (problem, start, method), in that order: ``method``, ``problem``, ``start``,
    ``init_seed``, ``loss`` (MSE), ``output_error``, ``seconds``, ``iterations``, ``stop``,
    ``objective`` (with ``weight_decay``), ``certificate`` (exact and convex methods),
    ``warnings``, ``error`` (when every attempt failed). With ``weight_decay``, run locally:
    ``optimum`` and ``optimum_scope`` (the problem's convex optimum: ``global`` over every
    two-layer ReLU network of any width, else ``restricted`` to its patterns), ``lower_bound``
    (a proven lower bound on every two-layer ReLU network's objective: the global optimum's
    dual bound, or the certified global bound; None when there is neither) and ``above_bound``
    (``(objective − lower_bound) / lower_bound``: the row's network is at most this far above
    the best two-layer network).

    Ctrl-C stops the runs in flight (locally) and raises ``KeyboardInterrupt`` whose ``rows``
    holds the rows of the runs started before it.
    """
    problems = _problems(problems)
    methods = [str(m) for m in ([methods] if isinstance(methods, str) else methods)]
    hidden = [int(h) for h in np.atleast_1d(hidden_layer_sizes)]
    plan = {
        "starts": int(n_starts),
        "restarts": int(restarts),
        "seed": seed_of(random_state),
        "init_scheme": init_scheme,
        "time_limit": None if time_limit is None else float(time_limit),
        "weight_decay": None if weight_decay is None else float(weight_decay),
        "bound_time": None if bound_time is None else float(bound_time),
    }
    for name, value in (("n_starts", plan["starts"]), ("restarts", plan["restarts"])):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if not methods:
        raise ValueError("methods must name at least one method (cvxnn.method_names())")
    settings = {k: v for k, v in settings.items() if v is not None}
    arrays = [(p[0], p[1]) for p in problems]
    try:
        request = _request.dumps(
            _request_of(problems, methods, hidden, output_activation, plan, settings)
        )
        if executor is not None:
            # checked here, once, before anything is sent: bad settings fail at once, not per
            # task; the tasks get the request resolved by every problem (`auto` patterns)
            request = _core.compare_check(request, arrays)
    except ValueError as e:
        raise _request.respell(e, _request.spelling()) from None
    if executor is None:
        jobs = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
        if jobs < 1:
            raise ValueError(f"n_jobs must be at least 1, got {jobs}")
        try:
            rows, optimum, raised = _core.compare_all(request, arrays, jobs)
        except ValueError as e:
            raise _request.respell(e, _request.spelling()) from None
        if optimum is not None:
            _set_against_optimum(rows, optimum)
        if raised is not None:
            raised.rows = rows
            raise raised
    else:
        futures = [
            executor.submit(_task, request, arrays[p], p, s, m)
            for p in range(len(problems))
            for s in range(plan["starts"])
            for m in range(len(methods))
        ]
        rows = [f.result() for f in futures]
    if as_frame:
        import pandas

        return pandas.DataFrame(rows)
    return rows

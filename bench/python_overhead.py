"""The Python package's call overhead: each method fits the planted 3-3-2 teacher (N = 30) from
Python, and the fit's wall time is set against the training's own time in Rust (the run's
`seconds`, timed inside cvxnn from the start of the run to its end). The difference is what the
Python layer costs: input validation, copying the arrays, the worker thread, the run's JSON record
and the fitted attributes. One table: medians over the repeats, and the overhead as a share of the
Rust time."""

import argparse
import statistics
import time
import warnings

import cvxnn

METHODS = [
    ("scr", dict(method="scr")),
    ("lbfgs", dict(method="lbfgs")),
    ("adam", dict(method="adam")),
    ("lm", dict(method="lm")),
    ("convex", None),
]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=30)
    a = p.parse_args()
    X, Y = cvxnn.planted_teacher("3-3-2", 30, seed=1)
    print(f"3-3-2 teacher, N = 30, {a.repeats} fits per method (medians)\n")
    print(f"{'method':8} {'iterations':>10} {'Rust s':>10} {'Python s':>10} {'overhead s':>11} "
          f"{'share':>7}")
    for name, params in METHODS:
        rust, wall = [], []
        for r in range(a.repeats + 1):
            if params is None:
                est = cvxnn.ConvexReLURegressor(weight_decay=1e-3)
                y = Y[:, 0]
            else:
                est = cvxnn.MLPRegressor(hidden_layer_sizes=(3,), random_state=1, **params)
                y = Y
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", cvxnn.TrainingWarning)
                t0 = time.perf_counter()
                est.fit(X, y)
                t1 = time.perf_counter()
            if r == 0:
                continue  # the first call loads code and warms caches
            rust.append(est.run_["final"]["seconds"])
            wall.append(t1 - t0)
        r_med, w_med = statistics.median(rust), statistics.median(wall)
        over = statistics.median(w - r for w, r in zip(wall, rust))
        print(f"{name:8} {est.n_iter_:>10} {r_med:>10.4f} {w_med:>10.4f} {over:>11.5f} "
              f"{over / r_med:>7.1%}")


if __name__ == "__main__":
    main()

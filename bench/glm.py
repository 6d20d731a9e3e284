#!/usr/bin/env python3
"""Ridge, lasso and elastic net: cvxnn (interior point, Clarabel) against scikit-learn on the
bundled data sets, same data (inputs standardised, target = last column), same hyper-parameters.

Both objectives are computed here, with scikit-learn's formula, from each side's coefficients and
intercept. Times: cvxnn's fit time from its JSON (the solve, not the process start); scikit-learn's
`fit` wall time (Ridge: its default solver; Lasso/ElasticNet: coordinate descent with tol 1e-12 and
max_iter 10^6 so that it converges as far as it can).

Run through bench/run_glm.sh (installs scikit-learn into bench/.venv).
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CVXNN = os.environ.get("CVXNN_BIN", os.path.join(ROOT, "target", "release", "cvxnn"))


def objective(model, alpha, l1_ratio, x, y, w, b):
    r = y - x @ w - b
    n = len(y)
    if model == "ridge":
        return r @ r + alpha * (w @ w)
    if model == "lasso":
        return r @ r / (2 * n) + alpha * np.abs(w).sum()
    return r @ r / (2 * n) + alpha * l1_ratio * np.abs(w).sum() + 0.5 * alpha * (1 - l1_ratio) * (w @ w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="diabetes,iris,wine,breast_cancer")
    ap.add_argument("--alphas", default="0.01,0.1,1,10")
    a = ap.parse_args()
    print(f"{'data':>14} {'model':>11} {'alpha':>6} {'cvxnn objective':>18} {'sklearn objective':>18} "
          f"{'rel diff':>9} {'cvxnn s':>8} {'sklearn s':>9}  ratio")
    worst = 0.0
    for name in a.sets.split(","):
        raw = np.loadtxt(os.path.join(ROOT, "data", f"{name}.csv"), delimiter=",", skiprows=1)
        x = StandardScaler().fit_transform(raw[:, :-1])
        y = raw[:, -1]
        for model in ["ridge", "lasso", "elastic-net"]:
            for alpha in map(float, a.alphas.split(",")):
                l1 = 0.5
                out = subprocess.run([CVXNN, "glm", "--model", model, "--alpha", str(alpha),
                                      "--l1-ratio", str(l1), "--data", name, "--standardize",
                                      "--json"], check=True, capture_output=True, text=True)
                fit = json.loads(out.stdout)["fit"]
                cw, cb = np.array(fit["coef"]), fit["intercept"]
                if model == "ridge":
                    sk = Ridge(alpha=alpha)
                elif model == "lasso":
                    sk = Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000)
                else:
                    sk = ElasticNet(alpha=alpha, l1_ratio=l1, tol=1e-12, max_iter=1_000_000)
                t0 = time.perf_counter()
                sk.fit(x, y)
                st = time.perf_counter() - t0
                fo = objective(model, alpha, l1, x, y, cw, cb)
                so = objective(model, alpha, l1, x, y, sk.coef_, sk.intercept_)
                rel = (fo - so) / abs(so)
                worst = max(worst, abs(rel))
                print(f"{name:>14} {model:>11} {alpha:>6g} {fo:>18.10e} {so:>18.10e} {rel:>9.1e} "
                      f"{fit['seconds']:>8.4f} {st:>9.4f}  {st / fit['seconds']:.2f}")
    print(f"largest relative objective difference: {worst:.1e}")


if __name__ == "__main__":
    main()

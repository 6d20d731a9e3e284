#!/usr/bin/env python3
"""Ridge, lasso, elastic net and binary logistic regression: cvxnn (interior point, Clarabel) against scikit-learn on the
bundled data sets, same data (inputs standardised, target = last column), same hyper-parameters.

Both objectives are computed here, with scikit-learn's formula, from each side's coefficients and
intercept. Times: cvxnn's fit time from its JSON (the solve, not the process start); scikit-learn's
`fit` wall time (Ridge: its default solver; Lasso/ElasticNet: coordinate descent with tol 1e-12 and
max_iter 10^6 so that it converges as far as it can; LogisticRegression: lbfgs for ℓ2, saga for ℓ1,
tol 1e-12).

Run through bench/run_glm.sh (installs scikit-learn into bench/.venv).
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np
import warnings

from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
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


def logistic_objective(c, penalty, x, y, w, b):
    m = -y * (x @ w + b)
    loss = np.logaddexp(0.0, m).sum()
    r = np.abs(w).sum() if penalty == "l1" else 0.5 * (w @ w)
    return c * loss + r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="diabetes,iris,wine,breast_cancer")
    ap.add_argument("--alphas", default="0.01,0.1,1,10")
    ap.add_argument("--cs", default="0.01,0.1,1,10", help="logistic regression's C values")
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
    # binary logistic regression: breast cancer as is, iris and wine one class against the rest
    for name, positive in [("breast_cancer", None), ("iris", 1), ("wine", 1)]:
        raw = np.loadtxt(os.path.join(ROOT, "data", f"{name}.csv"), delimiter=",", skiprows=1)
        x = StandardScaler().fit_transform(raw[:, :-1])
        t = raw[:, -1]
        pos = t.max() if positive is None else positive
        y = np.where(t == pos, 1.0, -1.0)
        for penalty in ["l2", "l1"]:
            for c in map(float, a.cs.split(",")):
                args = [CVXNN, "glm", "--model", "logistic", "--c", str(c), "--penalty", penalty,
                        "--data", name, "--standardize", "--json"]
                if positive is not None:
                    args += ["--positive-class", str(positive)]
                fit = json.loads(subprocess.run(args, check=True, capture_output=True,
                                                text=True).stdout)["fit"]
                cw, cb = np.array(fit["coef"]), fit["intercept"]
                if penalty == "l2":
                    sk = LogisticRegression(C=c, l1_ratio=0.0, solver="lbfgs", tol=1e-12,
                                            max_iter=100_000)
                else:
                    sk = LogisticRegression(C=c, l1_ratio=1.0, solver="saga", tol=1e-12,
                                            max_iter=1_000_000)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sk.fit(x, y)
                st = time.perf_counter() - t0
                fo = logistic_objective(c, penalty, x, y, cw, cb)
                so = logistic_objective(c, penalty, x, y, sk.coef_.ravel(), sk.intercept_[0])
                rel = (fo - so) / abs(so)
                worst = max(worst, abs(rel))
                label = f"logistic-{penalty}"
                print(f"{name:>14} {label:>11} {c:>6g} {fo:>18.10e} {so:>18.10e} {rel:>9.1e} "
                      f"{fit['seconds']:>8.4f} {st:>9.4f}  {st / fit['seconds']:.2f}")
    print(f"largest relative objective difference: {worst:.1e}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Interior point against first order, against scikit-learn: cvxnn's two paths for the convex
models (`glm --solver ipm` and `--solver first-order`) and scikit-learn's fit on the same data and
hyper-parameters.

Part `classes` (bundled sets, inputs standardised):
  - softmax regression on iris and wine, C in {0.1, 1, 10}, l2 and l1, against
    LogisticRegression (multinomial: lbfgs for l2, saga for l1, tol 1e-12);
  - the linear SVM on breast cancer, iris and wine (class 1 against the rest), C in {0.01, 0.1, 1},
    against SVC(kernel="linear", tol=1e-10).
Part `random` (seeded Gaussian data, n = 10^3 .. 10^5, d = 10 .. 1000, as .npy files):
  - ridge (alpha 1), lasso (alpha 0.1) and l2 logistic regression (C 1): y = Xw + noise with 10 %
    of w non-zero; labels = sign(Xw/sqrt(k) + noise). scikit-learn: Ridge's default solver, Lasso
    by coordinate descent at tol 1e-10, LogisticRegression lbfgs at tol 1e-10.

Every objective is computed here from each side's coefficients with the scikit-learn formula.
cvxnn's time is the fit time from its JSON (loading excluded); scikit-learn's is `fit`. Both run
on one thread (OMP/OpenBLAS/RAYON_NUM_THREADS=1). A cvxnn
run is skipped ("skip") where its program would not fit in memory or time (interior-point
logistic regression above n*d = 10^7), and stopped after --timeout seconds ("timeout").

Run through bench/run_glm_scale.sh (installs scikit-learn into bench/.venv).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CVXNN = os.environ.get("CVXNN_BIN", os.path.join(ROOT, "target", "release", "cvxnn"))


def cvxnn(args, timeout):
    try:
        out = subprocess.run([CVXNN, "glm", "--json"] + args, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if out.returncode != 0:
        return None, "error: " + out.stderr.strip()[:80]
    fit = json.loads(out.stdout)["fit"]
    return fit, fit["status"]


def softmax_objective(c, penalty, x, y, w, b):
    z = x @ w.T + b
    m = z.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))
    loss = (lse - z[np.arange(len(y)), y]).sum()
    r = np.abs(w).sum() if penalty == "l1" else 0.5 * (w * w).sum()
    return c * loss + r


def svm_objective(c, x, y, w, b):
    return 0.5 * w @ w + c * np.maximum(0.0, 1.0 - y * (x @ w + b)).sum()


def least_squares_objective(model, alpha, x, y, w, b):
    r = y - x @ w - b
    if model == "ridge":
        return r @ r + alpha * (w @ w)
    return r @ r / (2 * len(y)) + alpha * np.abs(w).sum()


def logistic_objective(c, x, y, w, b):
    return c * np.logaddexp(0.0, -y * (x @ w + b)).sum() + 0.5 * (w @ w)


def fmt_t(t):
    return f"{t:9.4f}" if isinstance(t, float) else f"{t:>9}"


HEADER = (f"{'data':>16} {'model':>12} {'param':>6} {'ipm objective':>17} {'fo − ipm':>9} "
          f"{'sk − ipm':>9} {'ipm s':>9} {'fo s':>9} {'sklearn s':>9} {'sk/ipm':>7} {'sk/fo':>7}"
          f"  fo status")


def row(data, model, param, ipm, fo, sk_obj, sk_t, fo_status):
    """One table line; ipm and fo are (objective, seconds) or a status string."""
    ref = ipm[0] if isinstance(ipm, tuple) else (fo[0] if isinstance(fo, tuple) else sk_obj)
    rel = lambda v: f"{(v - ref) / abs(ref):9.1e}"
    ipm_o = f"{ipm[0]:17.10e}" if isinstance(ipm, tuple) else f"{ipm:>17}"
    fo_d = rel(fo[0]) if isinstance(fo, tuple) and isinstance(ipm, tuple) else (
        f"{'(ref)':>9}" if isinstance(fo, tuple) else f"{fo:>9}")
    sk_d = rel(sk_obj)
    ipm_t = ipm[1] if isinstance(ipm, tuple) else ipm
    fo_t = fo[1] if isinstance(fo, tuple) else fo
    ratio = lambda t: f"{sk_t / t:7.2f}" if isinstance(t, float) and t > 0 else f"{'—':>7}"
    print(f"{data:>16} {model:>12} {param:>6g} {ipm_o} {fo_d} {sk_d} {fmt_t(ipm_t)} {fmt_t(fo_t)} "
          f"{sk_t:9.4f} {ratio(ipm_t)} {ratio(fo_t)}  {fo_status}", flush=True)


def timed_fit(sk, x, y):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(x, y)
    return time.perf_counter() - t0


def both(args, timeout, objective):
    """cvxnn's two solvers: (objective, seconds) or a status string each, and fo's status."""
    res = []
    status = ""
    for solver in ["ipm", "first-order"]:
        if solver == "ipm" and args[0] == "skip-ipm":
            res.append("skip")
            continue
        a = [v for v in args if v != "skip-ipm"]
        fit, st = cvxnn(a + ["--solver", solver], timeout)
        if fit is None:
            res.append(st.split(":")[0])
        else:
            res.append((objective(fit), fit["seconds"]))
        if solver == "first-order":
            status = st
    return res[0], res[1], status


def part_classes(timeout):
    for name in ["iris", "wine"]:
        raw = np.loadtxt(os.path.join(ROOT, "data", f"{name}.csv"), delimiter=",", skiprows=1)
        x = StandardScaler().fit_transform(raw[:, :-1])
        classes = np.unique(raw[:, -1])
        y = np.searchsorted(classes, raw[:, -1])
        for penalty in ["l2", "l1"]:
            for c in [0.1, 1.0, 10.0]:
                args = ["--model", "logistic", "--c", str(c), "--penalty", penalty, "--data",
                        name, "--standardize"]
                obj = lambda f: softmax_objective(c, penalty, x, y, np.array(f["coef"]),
                                                  np.array(f["intercept"]))
                ipm, fo, st = both(args, timeout, obj)
                sk = LogisticRegression(C=c, l1_ratio=0.0 if penalty == "l2" else 1.0,
                                        solver="lbfgs" if penalty == "l2" else "saga",
                                        tol=1e-12, max_iter=1_000_000)
                sk_t = timed_fit(sk, x, y)
                sk_o = softmax_objective(c, penalty, x, y, sk.coef_, sk.intercept_)
                row(name, f"softmax-{penalty}", c, ipm, fo, sk_o, sk_t, st)
    for name, positive in [("breast_cancer", None), ("iris", 1), ("wine", 1)]:
        raw = np.loadtxt(os.path.join(ROOT, "data", f"{name}.csv"), delimiter=",", skiprows=1)
        x = StandardScaler().fit_transform(raw[:, :-1])
        t = raw[:, -1]
        pos = t.max() if positive is None else positive
        y = np.where(t == pos, 1.0, -1.0)
        for c in [0.01, 0.1, 1.0]:
            args = ["--model", "svm", "--c", str(c), "--data", name, "--standardize"]
            if positive is not None:
                args += ["--positive-class", str(positive)]
            obj = lambda f: svm_objective(c, x, y, np.array(f["coef"]), f["intercept"])
            ipm, fo, st = both(args, timeout, obj)
            sk = SVC(kernel="linear", C=c, tol=1e-10, max_iter=-1)
            sk_t = timed_fit(sk, x, y)
            sk_o = svm_objective(c, x, y, sk.coef_.ravel(), sk.intercept_[0])
            row(name, "svm", c, ipm, fo, sk_o, sk_t, st)


def part_random(timeout, sizes, dims, tmp, models):
    for n in sizes:
        for d in dims:
            rng = np.random.default_rng(1000 * n + d)
            x = rng.standard_normal((n, d))
            w = np.zeros(d)
            k = max(1, d // 10)
            w[rng.choice(d, k, replace=False)] = rng.standard_normal(k)
            y_reg = x @ w + rng.standard_normal(n)
            y_cls = np.where(x @ w / np.sqrt(k) + 0.5 * rng.standard_normal(n) > 0, 1.0, 0.0)
            reg_file = os.path.join(tmp, f"reg_{n}_{d}.npy")
            cls_file = os.path.join(tmp, f"cls_{n}_{d}.npy")
            np.save(reg_file, np.column_stack([x, y_reg]))
            np.save(cls_file, np.column_stack([x, y_cls]))
            label = f"rand {n}x{d}"
            for model, alpha in [("ridge", 1.0), ("lasso", 0.1)]:
                if model not in models:
                    continue
                args = ["--model", model, "--alpha", str(alpha), "--data", reg_file]
                obj = lambda f: least_squares_objective(model, alpha, x, y_reg,
                                                        np.array(f["coef"]), f["intercept"])
                ipm, fo, st = both(args, timeout, obj)
                sk = Ridge(alpha=alpha) if model == "ridge" else Lasso(
                    alpha=alpha, tol=1e-10, max_iter=1_000_000)
                sk_t = timed_fit(sk, x, y_reg)
                sk_o = least_squares_objective(model, alpha, x, y_reg, sk.coef_, sk.intercept_)
                row(label, model, alpha, ipm, fo, sk_o, sk_t, st)
            yl = 2 * y_cls - 1
            if "logistic" not in models:
                continue
            args = ["--model", "logistic", "--c", "1", "--data", cls_file]
            if n * d > 10**7:
                args = ["skip-ipm"] + args
            obj = lambda f: logistic_objective(1.0, x, yl, np.array(f["coef"]), f["intercept"])
            ipm, fo, st = both(args, timeout, obj)
            sk = LogisticRegression(C=1.0, solver="lbfgs", tol=1e-10, max_iter=1_000_000)
            sk_t = timed_fit(sk, x, y_cls)
            sk_o = logistic_objective(1.0, x, yl, sk.coef_.ravel(), sk.intercept_[0])
            row(label, "logistic-l2", 1.0, ipm, fo, sk_o, sk_t, st)
            for f in (reg_file, cls_file):
                if os.path.exists(f):
                    os.remove(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="classes,random")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--dims", default="10,100,1000")
    ap.add_argument("--models", default="ridge,lasso,logistic", help="random part's models")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per cvxnn fit")
    a = ap.parse_args()
    print(HEADER)
    parts = a.parts.split(",")
    if "classes" in parts:
        part_classes(a.timeout)
    if "random" in parts:
        with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as tmp:
            part_random(a.timeout, [int(v) for v in a.sizes.split(",")],
                        [int(v) for v in a.dims.split(",")], tmp, a.models.split(","))
    print("fo − ipm, sk − ipm: relative objective differences; sk/ipm, sk/fo: scikit-learn's time "
          "divided by cvxnn's (> 1: cvxnn faster)", file=sys.stderr)


if __name__ == "__main__":
    main()

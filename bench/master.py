"""The convex program's default solver (`--solver auto`) against CVXPY + Clarabel on the same
programs at d = 10 ... 60: the restricted solve that column generation repeats must be robust and
no slower than the generic route a user would otherwise take.

Each case is a noisy 4-unit ReLU teacher (standard normal inputs, seeded) with sampled gates
(standard normal vectors in d + 1 dimensions, seeded, written to a file and read by cvxnn with
--gates, so both sides solve the same program):

  gated:  (1/N) sum_i l(sum_p D_p Xt u_p, y_i) + beta sum_p ||u_p||
  relu:   (1/N) sum_i l(sum_p D_p Xt (v_p - w_p), y_i) + beta sum_p (||v_p|| + ||w_p||),
          (2 D_p - I) Xt v_p >= 0, (2 D_p - I) Xt w_p >= 0

with l the squared loss (1/2)(p - y)^2 or the logistic loss log(1 + exp(-s p)), s = +-1 (the
teacher's sign). cvxnn's value is its certificate's dual bound (a proven lower bound on the
program, within its relative gap of the optimum; the gated model's reported objective is its
cone decomposition's, a different number); CVXPY's is problem.value. Times are wall seconds of
the whole run: cvxnn's process (reading the CSV included), CVXPY's modelling and solve.

Usage: python bench/master.py target/release/cvxnn [--only 0,3] [--no-cvxpy]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import cvxpy as cp
import numpy as np

BETA = 1e-3
# (N, d, gates, formulation, loss): the three programs at d = 60 (ReLU, 40 gates,
# N = 300; logistic gated, 60 gates, N = 500; squared gated, 200 gates, N = 1 000, where `auto`
# once stalled) and the same shapes at d = 10, 20, 40
CASES = [
    (300, 10, 40, "relu", "squared"),
    (300, 20, 40, "relu", "squared"),
    (300, 40, 40, "relu", "squared"),
    (300, 60, 40, "relu", "squared"),
    (500, 10, 60, "gated", "logistic"),
    (500, 20, 60, "gated", "logistic"),
    (500, 40, 60, "gated", "logistic"),
    (500, 60, 60, "gated", "logistic"),
    (1000, 10, 200, "gated", "squared"),
    (1000, 30, 200, "gated", "squared"),
    (1000, 60, 200, "gated", "squared"),
]


def teacher(rng, n, d):
    """A noisy 4-unit ReLU teacher on standard normal inputs, drawn from `rng` (bench/convex.py's
    too)."""
    x = rng.standard_normal((n, d))
    w = rng.standard_normal((d, 4))
    b = rng.standard_normal(4)
    a = rng.standard_normal(4)
    y = np.maximum(x @ w + b, 0) @ a + 0.1 * rng.standard_normal(n)
    return x, y


def case_data(n, d, p, seed):
    """The teacher's data and, from the same generator after it, the gates."""
    rng = np.random.default_rng(seed)
    x, y = teacher(rng, n, d)
    gates = rng.standard_normal((d + 1, p))
    return x, y, gates


def run_cvxnn(binary, x, y, gates, form, loss, tmp):
    data = os.path.join(tmp, "data.csv")
    header = ",".join([f"x{i}" for i in range(x.shape[1])] + ["y"])
    np.savetxt(data, np.column_stack([x, y]), delimiter=",", header=header, comments="")
    gfile = os.path.join(tmp, "gates.csv")
    np.savetxt(gfile, gates.T, delimiter=",")
    report = os.path.join(tmp, "r.json")
    cmd = [binary, "train", "--method", "convex", "--data", data, "--arch", f"{x.shape[1]}-8-1",
           "--weight-decay", str(BETA), "--gates", gfile, "--formulation", form, "--loss", loss,
           "--solver", "auto", "--report", report, "--model-out", os.path.join(tmp, "m.json"),
           "--time-limit", "600"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    run = json.load(open(report))["runs"][0]
    cert = run["certificate"]
    return cert["dual_bound"], cert["rel_gap"], cert["certified"], cert["solver"], seconds


def run_cvxpy(x, y, gates, form, loss):
    n = x.shape[0]
    xt = np.column_stack([x, np.ones(n)])
    p = gates.shape[1]
    mask = (xt @ gates >= 0).astype(float)
    t0 = time.perf_counter()
    u = cp.Variable((p, xt.shape[1]))
    constraints = []
    if form == "gated":
        pred = cp.sum(cp.multiply(mask, xt @ u.T), axis=1)
        penalty = cp.sum(cp.norm(u, 2, axis=1))
    else:
        w = cp.Variable((p, xt.shape[1]))
        pred = cp.sum(cp.multiply(mask, xt @ (u - w).T), axis=1)
        penalty = cp.sum(cp.norm(u, 2, axis=1)) + cp.sum(cp.norm(w, 2, axis=1))
        sign = 2 * mask - 1
        constraints = [cp.multiply(sign, xt @ u.T) >= 0, cp.multiply(sign, xt @ w.T) >= 0]
    if loss == "squared":
        fit = cp.sum_squares(pred - y) / (2 * n)
    else:
        fit = cp.sum(cp.logistic(-cp.multiply(labels(y), pred))) / n
    problem = cp.Problem(cp.Minimize(fit + BETA * penalty), constraints)
    problem.solve(solver=cp.CLARABEL)
    return problem.value, time.perf_counter() - t0


def labels(y):
    """The teacher's sign as +-1 (cvxnn reads the 0/1 column the script writes the same way)."""
    return np.where(y > 0, 1.0, -1.0)


def main():
    binary = sys.argv[1]
    only = None
    if "--only" in sys.argv:
        only = {int(v) for v in sys.argv[sys.argv.index("--only") + 1].split(",")}
    with_cvxpy = "--no-cvxpy" not in sys.argv
    print("| # | program | N | d | gates | cvxnn auto (s) | solver | gap | CVXPY + Clarabel (s) "
          "| ratio | values agree to |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, (n, d, p, form, loss) in enumerate(CASES):
        if only is not None and k not in only:
            continue
        x, y, gates = case_data(n, d, p, seed=k)
        target = y if loss == "squared" else (y > 0).astype(float)
        with tempfile.TemporaryDirectory() as tmp:
            value, gap, certified, solver, secs = run_cvxnn(binary, x, target, gates, form, loss,
                                                            tmp)
        gap_text = f"{gap:.1e}" + ("" if certified else " (not certified)")
        if with_cvxpy:
            ref, ref_secs = run_cvxpy(x, y, gates, form, loss)
            agree = abs(value - ref) / abs(ref)
            cvx = f"{ref_secs:.1f} | {secs / ref_secs:.2f} | {agree:.1e}"
        else:
            cvx = "– | – | –"
        print(f"| {k} | {form} {loss} | {n} | {d} | {p} | {secs:.1f} | {solver} | {gap_text} "
              f"| {cvx} |", flush=True)


if __name__ == "__main__":
    main()

"""cvxnn's convex two-layer model against scnn (pyscnn, Mishkin, Sahiner & Pilanci) on the same
program: the same data, the same gate vectors, the same beta.

Both solve  (1/2N) ||sum_i D_i Xt u_i - y||^2 + beta sum_i ||u_i||  (gated model) or its
cone-constrained ReLU version, with Xt = [X, 1] and D_i = diag(1[Xt g_i >= 0]). scnn gets Xt and
the gates as they are (bias=False, unitize_data=False: no rescaling on either side) and its
defaults otherwise (float32, R-FISTA for gated, augmented Lagrangian for ReLU). cvxnn reads the
same gates with --gates and runs two solvers: the interior point (ipm) and the working-set solver
(ws, --solver active-set); "ws to scnn" is when the latter's certified primal first went below
scnn's final objective. Every objective below is computed by this script from the returned
weights, by one formula:

  gated: (1/2N)||sum_i D_i Xt u_i - y||^2 + beta sum_i ||u_i||       (scnn's parameters; cvxnn's
         value is its certificate's gated_objective, since its network is a cone decomposition)
  relu:  the ReLU network's (1/2N)||f(X) - y||^2 + (beta/2)(||W1||^2 + ||b1||^2 + ||W2||^2),
         scnn's network read off its (v_i, w_i) exactly as cvxnn reads off its own.

CVXPY + Clarabel (--cvxpy) solves the same program, modelled directly (the masks as a constant
N x P matrix, one second-order cone per group), on the cases with N * P <= CVXPY_MAX_NP; its time
includes the modelling, which is what a user pays, and its objective is computed by the same
formula from its returned variables.

Usage: bench/.venv-torch/bin/python bench/convex.py target/release/cvxnn [--only 0,3,5] [--no-ipm]
       [--no-scnn] [--cvxpy]
(--only: the cases to run, by their index in CASES; --no-ipm: skip the interior point, whose
runs on the large cases stop at the 300 s limit; "scnn over opt" is then against ws's optimum;
--no-scnn: skip scnn, which did not finish case 10 in 22 minutes)
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import cvxpy as cp
import master
import numpy as np
from scnn.metrics import Metrics
from scnn.models import ConvexGatedReLU, ConvexReLU
from scnn.optimize import optimize_model
from scnn.regularizers import NeuronGL1
from scnn.solvers import AL, RFISTA

BETA = 1e-3
# CVXPY's model holds the masked products as dense N x P expressions: above this it took minutes
# and gigabytes (the measurement: 10-90 s and up to 5 GB for N <= 1 000)
CVXPY_MAX_NP = 100_000
# (data, N, d, patterns, formulation): data "teacher" is the noisy teacher below on N samples of
# d inputs; a bundled set's name reads data/<name>.csv (inputs standardised, the target too when
# it is not 0/1), its N and d are its own.
CASES = [
    ("teacher", 1000, 2, 50, "gated"),
    ("teacher", 1000, 10, 100, "gated"),
    ("teacher", 10000, 20, 200, "gated"),
    ("teacher", 1000, 2, 50, "relu"),
    ("teacher", 1000, 10, 100, "relu"),
    ("teacher", 5000, 50, 100, "gated"),
    ("diabetes", None, None, 50, "gated"),
    ("diabetes", None, None, 50, "relu"),
    ("breast_cancer", None, None, 50, "gated"),
    ("breast_cancer", None, None, 50, "relu"),
    ("teacher", 100000, 20, 1000, "gated"),
]


def teacher(n, d, seed):
    """A noisy 4-unit ReLU teacher on standard normal inputs (bench/master.py's)."""
    return master.teacher(np.random.default_rng(seed), n, d)


def bundled(name):
    """A bundled data set, inputs standardised (and the target, unless it is 0/1)."""
    path = os.path.join(os.path.dirname(__file__), "..", "data", f"{name}.csv")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    x, y = raw[:, :-1], raw[:, -1]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    if not np.all(np.isin(y, [0.0, 1.0])):
        y = (y - y.mean()) / y.std()
    return x, y


def gated_objective(xt, y, gates, u):
    d_mask = (xt @ gates >= 0).astype(float)  # N x P
    pred = np.einsum("np,np->n", d_mask, xt @ u.T)
    return 0.5 * np.mean((pred - y) ** 2) + BETA * np.linalg.norm(u, axis=1).sum()


def network_objective(x, y, w1, b1, w2):
    f = np.maximum(x @ w1.T + b1, 0) @ w2
    return 0.5 * np.mean((f - y) ** 2) + 0.5 * BETA * (
        (w1**2).sum() + (b1**2).sum() + (w2**2).sum()
    )


def network_of(v, w):
    """Balanced units of a ReLU-model solution (v_i, w_i rows), as cvxnn reads them off."""
    rows, outs = [], []
    for mat, sign in ((v, 1.0), (w, -1.0)):
        for u in mat:
            nu = np.linalg.norm(u)
            if nu > 0:
                rows.append(u / np.sqrt(nu))
                outs.append(sign * np.sqrt(nu))
    rows = np.array(rows).reshape(-1, v.shape[1])
    return rows[:, :-1], rows[:, -1], np.array(outs)


def violation(xt, gates, v, w):
    s = 2 * (xt @ gates >= 0) - 1.0
    worst = 0.0
    top = max(np.linalg.norm(v, axis=1).max(), np.linalg.norm(w, axis=1).max(), 1e-300)
    norms = np.linalg.norm(xt, axis=1)
    for mat in (v, w):
        z = s * (xt @ mat.T)  # N x P
        worst = max(worst, (np.maximum(-z, 0) / norms[:, None]).max() / top)
    return worst


def run_scnn(xt, y, gates, form):
    model = ConvexGatedReLU(gates) if form == "gated" else ConvexReLU(gates)
    solver = RFISTA(model) if form == "gated" else AL(model)
    t0 = time.perf_counter()
    model, _ = optimize_model(
        model,
        solver,
        Metrics(),
        xt,
        y,
        regularizer=NeuronGL1(BETA),
        return_convex=True,
        unitize_data=False,
        verbose=False,
    )
    seconds = time.perf_counter() - t0
    p = [np.asarray(a, dtype=float) for a in model.parameters]
    # scnn drops gates whose pattern repeats another's: its own gates define its masks
    used = np.asarray(model.G, dtype=float)
    if form == "gated":
        return gated_objective(xt, y, used, p[0][0]), seconds, None, used.shape[1]
    v, w = p[0][0], p[1][0]
    w1, b1, w2 = network_of(v, w)
    obj = network_objective(xt[:, :-1], y, w1, b1, w2)
    return obj, seconds, violation(xt, used, v, w), used.shape[1]


def run_cvxpy(xt, y, gates, form):
    """The same program in CVXPY, solved by Clarabel; (objective, seconds, cone violation)."""
    n, dim = xt.shape
    p = gates.shape[1]
    mask = (xt @ gates >= 0).astype(float)  # N x P
    t0 = time.perf_counter()
    u = cp.Variable((p, dim))
    if form == "gated":
        pred = cp.sum(cp.multiply(mask, xt @ u.T), axis=1)
        penalty = cp.sum(cp.norm(u, 2, axis=1))
        constraints = []
    else:
        w = cp.Variable((p, dim))
        pred = cp.sum(cp.multiply(mask, xt @ (u - w).T), axis=1)
        penalty = cp.sum(cp.norm(u, 2, axis=1)) + cp.sum(cp.norm(w, 2, axis=1))
        sign = 2 * mask - 1
        constraints = [cp.multiply(sign, xt @ u.T) >= 0, cp.multiply(sign, xt @ w.T) >= 0]
    problem = cp.Problem(cp.Minimize(cp.sum_squares(pred - y) / (2 * n) + BETA * penalty), constraints)
    problem.solve(solver=cp.CLARABEL)
    seconds = time.perf_counter() - t0
    if u.value is None:
        return float("nan"), seconds, None
    if form == "gated":
        return gated_objective(xt, y, gates, u.value), seconds, None
    w1, b1, w2 = network_of(u.value, w.value)
    return (network_objective(xt[:, :-1], y, w1, b1, w2), seconds,
            violation(xt, gates, u.value, w.value))


def run_cvxnn(binary, x, y, gates, form, solver, tmp):
    data = os.path.join(tmp, "data.csv")
    np.savetxt(data, np.column_stack([x, y]), delimiter=",")
    gfile = os.path.join(tmp, "gates.csv")
    np.savetxt(gfile, gates.T, delimiter=",")
    report, model = os.path.join(tmp, "r.json"), os.path.join(tmp, "m.json")
    d = x.shape[1]
    cmd = [binary, "train", "--method", "convex", "--data", data, "--arch", f"{d}-8-1",
           "--weight-decay", str(BETA), "--gates", gfile, "--formulation", form,
           "--solver", solver, "--report", report, "--model-out", model, "--time-limit", "300"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    r = json.load(open(report))["runs"][0]
    cert = r["certificate"]
    m = json.load(open(model))
    w1 = np.array(m["weights"][0]["data"]).reshape(m["weights"][0]["cols"], m["weights"][0]["rows"]).T
    b1 = np.array(m["biases"][0])
    w2 = np.array(m["weights"][1]["data"])
    if form == "gated":
        obj = cert["gated_objective"]
    else:
        obj = network_objective(x, y, w1, b1, w2)
    progress = r["stages"][0].get("progress", [])
    return obj, seconds, cert, progress


def first_time_below(progress, target):
    for p in progress:
        if p["objective"] <= target:
            return p["seconds"]
    return None


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/cvxnn"
    print(f"beta = {BETA}; objectives by one formula (see the docstring); seconds are wall time")
    head = (f"{'data':<13} {'N':>6} {'d':>3} {'P':>4} {'model':<6} {'scnn obj':>13} {'scnn s':>7} "
            f"{'ipm obj':>13} {'ipm gap':>8} {'ipm s':>7} {'ws obj':>13} {'ws gap':>8} {'ws s':>7} "
            f"{'ws to scnn':>10} {'scnn over opt':>13} {'cvxpy obj':>13} {'cvxpy s':>7}")
    print(head)
    rows = []
    only = None
    if "--only" in sys.argv:
        only = {int(i) for i in sys.argv[sys.argv.index("--only") + 1].split(",")}
    for index, (source, n, d, p, form) in enumerate(CASES):
        if only is not None and index not in only:
            continue
        if source == "teacher":
            x, y = teacher(n, d, seed=n + d + p)
        else:
            x, y = bundled(source)
            n, d = x.shape
        xt = np.column_stack([x, np.ones(n)])
        gates = np.random.default_rng(778).standard_normal((d + 1, p))
        if "--no-scnn" in sys.argv:
            s_obj, s_sec, s_viol = float("nan"), float("nan"), None
        else:
            s_obj, s_sec, s_viol, _ = run_scnn(xt, y, gates, form)
        c_obj, c_sec, c_viol = float("nan"), float("nan"), None
        if "--cvxpy" in sys.argv and n * p <= CVXPY_MAX_NP:
            c_obj, c_sec, c_viol = run_cvxpy(xt, y, gates, form)
        with tempfile.TemporaryDirectory() as tmp:
            f_obj, f_sec, f_cert, f_prog = run_cvxnn(binary, x, y, gates, form, "active-set", tmp)
            if "--no-ipm" in sys.argv:
                i_obj, i_sec, i_cert = f_obj, float("nan"), {"rel_gap": float("nan")}
            else:
                i_obj, i_sec, i_cert, _ = run_cvxnn(binary, x, y, gates, form, "ipm", tmp)
        reach = first_time_below(f_prog, s_obj)
        over = (s_obj - i_obj) / i_obj
        row = dict(data=source, N=n, d=d, P=p, model=form, scnn_objective=s_obj, scnn_seconds=s_sec,
                   scnn_violation=s_viol, ipm_objective=i_obj, ipm_gap=i_cert["rel_gap"],
                   ipm_seconds=i_sec, ws_objective=f_obj, ws_gap=f_cert["rel_gap"],
                   ws_seconds=f_sec, ws_seconds_to_scnn=reach, ws_violation=f_cert["max_violation"],
                   scnn_over_optimum=over, cvxpy_objective=c_obj, cvxpy_seconds=c_sec,
                   cvxpy_violation=c_viol)
        rows.append(row)
        print(f"{source:<13} {n:>6} {d:>3} {p:>4} {form:<6} {s_obj:>13.6e} {s_sec:>7.2f} {i_obj:>13.6e} "
              f"{i_cert['rel_gap']:>8.1e} {i_sec:>7.2f} {f_obj:>13.6e} {f_cert['rel_gap']:>8.1e} "
              f"{f_sec:>7.2f} {('-' if reach is None else f'{reach:.2f}'):>10} {over:>13.2e}"
              f" {c_obj:>13.6e} {c_sec:>7.2f}"
              + ("" if form == "gated" else
                 f"   cone violation: ws {f_cert['max_violation']:.1e}"
                 + ("" if s_viol is None else f", scnn {s_viol:.1e}")
                 + ("" if c_viol is None else f", cvxpy {c_viol:.1e}")))
    json.dump(rows, open(os.path.join(os.path.dirname(__file__), "convex_results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()

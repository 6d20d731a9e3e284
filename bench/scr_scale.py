#!/usr/bin/env python3
"""SCR at scale: ADMM iterations and seconds of one SCR step against N and the start, two builds of
cvxnn side by side (before / after a change), whole 50-iteration runs from random parameters, and
CVXPY + Clarabel (the column-split form) on the same first subproblem from random parameters.

The instance is `train --teacher 3-3-2 --n N --seed 1` (linear output); every cvxnn run uses the
default settings (inexact SCR: the first step to 1e-5). The CVXPY program is built from the exact
parameters cvxnn draws (written by `examples/scr_subproblem.rs`), so both solve the same program;
the table gives both objectives. Seconds are the step's own (the report's), and the process's wall
time for whole runs and CVXPY (modelling included).

Usage (from the repository root):
    bash bench/run_scr_scale.sh                       # builds both, installs cvxpy, runs all
    bash bench/run_scr_scale.sh --sizes 1000,10000 --no-cvxpy
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AFTER = os.environ.get("CVXNN_BIN", os.path.join(ROOT, "target", "release", "cvxnn"))
BEFORE = os.environ.get("CVXNN_BEFORE_BIN")
SUBPROBLEM = os.environ.get("SUBPROBLEM_BIN")


def train(binary, n, init, max_iter, timeout):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, "r.json")
        cmd = [binary, "train", "--method", "scr", "--teacher", "3-3-2", "--n", str(n), "--seed",
               "1", "--init", init, "--max-iter", str(max_iter), "--report", rep,
               "--model-out", os.path.join(d, "m.json")]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        wall = time.perf_counter() - t0
        stage = json.load(open(rep))["runs"][0]["stages"][0]
        its = stage["iterations"]
        return {"admm": sum(i["solver_iterations"] for i in its), "steps": len(its),
                "seconds": its[0]["seconds"] if max_iter == 1 else wall, "wall": wall,
                "objective": its[0]["objective"], "status": its[-1]["status"],
                "stop": stage["final"]["stop_reason"], "output_error": stage["final"]["output_error"]}


def solve_cvxpy(path):
    """Runs in a child process: the column-split form of the first subproblem in `path`."""
    import numpy as np
    import cvxpy as cp

    t0 = time.perf_counter()
    doc = json.load(open(path))
    X, Y = np.array(doc["x"]), np.array(doc["y"])
    L = doc["layers"][0]
    XW, YH, xh, ys = (np.array(L[k]) for k in ("xw", "yh", "xh", "ys"))
    (nx, N), ny, nh = X.shape, Y.shape[0], XW.shape[1]
    W1, b1 = cp.Variable((nh, nx)), cp.Variable((nh, 1))
    W2, b2 = cp.Variable((ny, nh)), cp.Variable((ny, 1))
    H = cp.Variable((nh, N))
    ones = np.ones((1, N))
    S1 = H - W1 @ X - b1 @ ones
    cons = [H >= 0, S1 >= 0]
    # linear output: Z2 = Y; M_1 = [[Z2 − B2 + X_W Y_H + W2 Y_H + X_W H, W2 + X_W], [H + Y_H, I]]
    top = Y + XW @ YH - b2 @ ones + W2 @ YH + XW @ H
    M1 = cp.bmat([[top, W2 + XW], [H + YH, np.eye(nh)]])
    m = ny + nh
    Wm = cp.Variable((m, m), symmetric=True)
    z = cp.Variable(N + nh)
    for j in range(N + nh):
        col = cp.reshape(M1[:, j], (m, 1), order="F")
        cons.append(cp.bmat([[Wm, col], [col.T, cp.reshape(z[j], (1, 1), order="F")]]) >> 0)
    h, s = cp.vec(H, order="F"), cp.vec(S1, order="F")
    x, y = xh.flatten(order="F"), ys.flatten(order="F")
    # m = [[xy + hy + xs, h + x], [s + y, 1]]; ‖m‖_* = max(‖(a + 1, c − b)‖, ‖(a − 1, b + c)‖)
    a = x * y + cp.multiply(y, h) + cp.multiply(x, s)
    t = cp.Variable(nh * N)
    cons += [cp.SOC(t, cp.vstack([a + 1, (s + y) - (h + x)]), axis=0),
             cp.SOC(t, cp.vstack([a - 1, (h + x) + (s + y)]), axis=0)]
    prob = cp.Problem(cp.Minimize(0.5 * cp.trace(Wm) + 0.5 * cp.sum(z) + cp.sum(t)), cons)
    prob.solve(solver=cp.CLARABEL)
    print(json.dumps({"objective": prob.value, "seconds": time.perf_counter() - t0,
                      "status": prob.status}))


def cvxpy_step(n, timeout):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sub.json")
        subprocess.run([SUBPROBLEM, "3-3-2", "linear", str(n), "1", "random", path], check=True)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", path], check=True,
                             capture_output=True, text=True, timeout=timeout).stdout
        r = json.loads(out.strip().splitlines()[-1])
        r["wall"] = time.perf_counter() - t0
        return r


def fmt(r, key):
    return "—" if r is None else (f"{r[key]:.2f}" if isinstance(r[key], float) else str(r[key]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--inits", default="zero,random,perturbed")
    ap.add_argument("--whole-sizes", default="1000,10000,100000")
    ap.add_argument("--before-whole-max", type=int, default=10000,
                    help="largest N of a whole run with the 'before' build (they take hours above)")
    ap.add_argument("--cvxpy-sizes", default="1000,10000")
    ap.add_argument("--no-cvxpy", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--child")
    a = ap.parse_args()
    if a.child:
        solve_cvxpy(a.child)
        return
    builds = [("before", BEFORE)] if BEFORE else []
    builds.append(("after", AFTER))
    results = {"steps": [], "whole": [], "cvxpy": []}

    def attempt(f, *args):
        try:
            return f(*args)
        except subprocess.TimeoutExpired:
            return None

    print("One SCR step (3-3-2 teacher, linear output, default settings)")
    print(f"{'N':>7} {'init':<10}" + "".join(f" {b + ' ADMM its':>16} {b + ' s':>10}" for b, _ in builds)
          + f" {'speed-up':>9}")
    for n in [int(s) for s in a.sizes.split(",") if s]:
        for init in a.inits.split(","):
            row = {b: attempt(train, path, n, init, 1, a.timeout) for b, path in builds}
            line = f"{n:>7} {init:<10}"
            for b, _ in builds:
                line += f" {fmt(row[b], 'admm'):>16} {fmt(row[b], 'seconds'):>10}"
            if BEFORE and row["before"] and row["after"]:
                line += f" {row['before']['seconds'] / row['after']['seconds']:>8.1f}×"
            print(line, flush=True)
            results["steps"].append(dict(n=n, init=init, **row))
    print("\nWhole runs: --init random --max-iter 50")
    print(f"{'N':>7}" + "".join(f" {b + ' ADMM its':>16} {b + ' s':>10} {b + ' out err':>16}" for b, _ in builds))
    for n in [int(s) for s in a.whole_sizes.split(",") if s]:
        row = {b: (attempt(train, path, n, "random", 50, a.timeout)
                   if b == "after" or n <= a.before_whole_max else None) for b, path in builds}
        line = f"{n:>7}"
        for b, _ in builds:
            r = row[b]
            line += f" {fmt(r, 'admm'):>16} {fmt(r, 'wall'):>10} " + (
                f"{r['output_error']:>16.3e}" if r else f"{'—':>16}")
        print(line, flush=True)
        results["whole"].append(dict(n=n, **row))
    if not a.no_cvxpy:
        print("\nFirst step from random parameters: CVXPY + Clarabel (split form) vs cvxnn")
        print(f"{'N':>7} {'cvxpy s':>9} {'cvxnn s':>9} {'ratio':>8} {'cvxpy objective':>18} {'cvxnn objective':>18} {'rel diff':>9}  status")
        for n in [int(s) for s in a.cvxpy_sizes.split(",") if s]:
            ours = attempt(train, AFTER, n, "random", 1, a.timeout)
            try:
                peer = cvxpy_step(n, a.timeout)
            except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as e:
                print(f"{n:>7} cvxpy failed or timed out: {e}")
                continue
            rel = abs(peer["objective"] - ours["objective"]) / abs(peer["objective"])
            print(f"{n:>7} {peer['wall']:>9.2f} {ours['wall']:>9.2f} {peer['wall'] / ours['wall']:>7.0f}× "
                  f"{peer['objective']:>18.9f} {ours['objective']:>18.9f} {rel:>9.1e}  {peer['status']}",
                  flush=True)
            results["cvxpy"].append(dict(n=n, cvxpy=peer, cvxnn=ours))
    json.dump(results, open(os.path.join(ROOT, "bench", "scr_scale_results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""One SCR step of the 3-3-2 ReLU network, three ways, on the same instance.

- CVXPY + Clarabel with `normNuc` (the seed's formulation: one PSD block of side N + n_y + 2 n_h);
- CVXPY + Clarabel with the column-split nuclear norm (docs/scr.md §8);
- cvxnn with its ADMM backend and its interior-point (Clarabel) backend.

The instance is the planted teacher written by `cvxnn generate teacher` (seed 1, ReLU output) and
the first SCR step from the zero start (all parameters zero), so every method solves the same convex
program (8) with λ = μ = 1. Times include modelling (what a user pays); peak memory is the child
process's maximum RSS. A peer that fails or exceeds --timeout at one N is skipped for larger N.

Usage (from the repository root):
    bash bench/run_scr_step.sh                 # makes bench/.venv, installs cvxpy + clarabel, runs
    python3 bench/scr_step.py --sizes 30,100   # with an environment that already has them
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CVXNN = os.environ.get("CVXNN_BIN", os.path.join(ROOT, "target", "release", "cvxnn"))


def solve_cvxpy(data_csv, form):
    """Runs in a child process: prints a JSON line with the objective and seconds."""
    import numpy as np
    import cvxpy as cp

    t0 = time.perf_counter()
    table = np.loadtxt(data_csv, delimiter=",", skiprows=1, ndmin=2)
    X, Y = table[:, :3].T, table[:, 3:].T
    nx, nh, ny, N = 3, 3, 2, X.shape[1]
    W1, b1 = cp.Variable((nh, nx)), cp.Variable((nh, 1))
    W2, b2 = cp.Variable((ny, nh)), cp.Variable((ny, 1))
    H, Z2 = cp.Variable((nh, N)), cp.Variable((ny, N))
    ones = np.ones((1, N))
    S1 = H - W1 @ X - b1 @ ones
    pos = (Y > 0).astype(float)
    cons = [H >= 0, S1 >= 0, Z2 <= Y, cp.multiply(pos, Z2) == pos * Y]
    # zero parameters: M_1 = [[Z2 - B2, W2], [H, I]]; m_k = [[0, h], [s, 1]]
    M1 = cp.bmat([[Z2 - b2 @ ones, W2], [H, np.eye(nh)]])
    m = ny + nh
    if form == "normnuc":
        prod = cp.normNuc(M1)
    else:
        Wm = cp.Variable((m, m), symmetric=True)
        z = cp.Variable(N + nh)
        for j in range(N + nh):
            col = cp.reshape(M1[:, j], (m, 1), order="F")
            cons.append(cp.bmat([[Wm, col], [col.T, cp.reshape(z[j], (1, 1), order="F")]]) >> 0)
        prod = 0.5 * cp.trace(Wm) + 0.5 * cp.sum(z)
    h, s = cp.vec(H, order="F"), cp.vec(S1, order="F")
    t = cp.Variable(nh * N)
    cons += [
        cp.SOC(t, cp.vstack([np.ones(nh * N), s - h]), axis=0),
        cp.SOC(t, cp.vstack([-np.ones(nh * N), h + s]), axis=0),
    ]
    prob = cp.Problem(cp.Minimize(prod + cp.sum(t)), cons)
    prob.solve(solver=cp.CLARABEL)
    print(json.dumps({"objective": prob.value, "seconds": time.perf_counter() - t0,
                      "status": prob.status}))


MEM_LIMIT_GB = 16.0


def limit_memory():
    """Caps a child's address space so an out-of-memory peer fails alone instead of the machine."""
    import resource
    cap = int(MEM_LIMIT_GB * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run_child(cmd, timeout):
    """Runs `cmd` under GNU time; returns (stdout, peak RSS in MB) or raises. On a timeout the
    whole process group is killed (GNU time's child too, not only time itself)."""
    with tempfile.NamedTemporaryFile(suffix=".time") as tf:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=limit_memory, start_new_session=True)
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise
        if p.returncode != 0:
            raise RuntimeError(stderr.strip().splitlines()[-1] if stderr else "failed")
        rss_kb = int(open(tf.name).read().split()[-1])
        return stdout, rss_kb / 1024


def cvxnn_step(data_csv, backend, timeout):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, "r.json")
        cmd = [CVXNN, "train", "--method", "scr", "--data", data_csv, "--arch", "3-3-2",
               "--output-activation", "relu", "--init", "zero", "--max-iter", "1",
               "--backend", backend, "--model-out", os.path.join(d, "m.json"), "--report", rep]
        if backend == "admm":
            cmd.append("--admm-exact")  # the full tolerance (1e-9), not inexact SCR's first step
        t0 = time.perf_counter()
        _, rss = run_child(cmd, timeout)
        wall = time.perf_counter() - t0
        it = json.load(open(rep))["runs"][0]["stages"][0]["iterations"][0]
        return {"objective": it["objective"], "seconds": it["seconds"], "wall": wall,
                "rss_mb": rss, "status": it["status"]}


def cvxpy_step(data_csv, form, timeout):
    t0 = time.perf_counter()
    out, rss = run_child([sys.executable, __file__, "--child", form, data_csv], timeout)
    r = json.loads(out.strip().splitlines()[-1])
    r.update(rss_mb=rss, wall=time.perf_counter() - t0)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="30,100,300,1000,10000,100000")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--methods", default="cvxpy-normnuc,cvxpy-split,cvxnn-admm,cvxnn-ipm")
    ap.add_argument("--mem-limit-gb", type=float, default=16.0,
                    help="address-space cap of each solver process (an exceeding peer is skipped)")
    ap.add_argument("--child", nargs=2)
    a = ap.parse_args()
    global MEM_LIMIT_GB
    MEM_LIMIT_GB = a.mem_limit_gb
    if a.child:
        solve_cvxpy(a.child[1], a.child[0])
        return
    methods = a.methods.split(",")
    skipped = {}
    rows = []
    print(f"{'N':>7} {'method':<15} {'seconds':>9} {'peak MB':>8} {'objective':>16} {'vs cvxnn-admm':>14}  status")
    for n in [int(s) for s in a.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            data = os.path.join(d, "data.csv")
            subprocess.run([CVXNN, "generate", "teacher", "--arch", "3-3-2", "--output-activation",
                            "relu", "--n", str(n), "--seed", "1", "--out", data],
                           check=True, capture_output=True)
            results = {}
            for m in methods:
                if m in skipped:
                    results[m] = {"skipped": skipped[m]}
                    continue
                try:
                    if m.startswith("cvxnn-"):
                        results[m] = cvxnn_step(data, m.split("-")[1], a.timeout)
                    else:
                        results[m] = cvxpy_step(data, m.split("-")[1], a.timeout)
                except subprocess.TimeoutExpired:
                    skipped[m] = f"exceeded {a.timeout:.0f} s at N={n}"
                    results[m] = {"skipped": skipped[m]}
                except Exception as e:  # out of memory, solver failure, …
                    skipped[m] = f"failed at N={n}: {e}"
                    results[m] = {"skipped": skipped[m]}
            base = results.get("cvxnn-admm", {}).get("seconds")
            for m in methods:
                r = results[m]
                if "skipped" in r:
                    print(f"{n:>7} {m:<15} {'—':>9} {'—':>8} {'—':>16} {'—':>14}  {r['skipped']}")
                    continue
                ratio = f"{r['seconds'] / base:.2f}×" if base else "—"
                print(f"{n:>7} {m:<15} {r['seconds']:>9.3f} {r['rss_mb']:>8.0f} {r['objective']:>16.9f} {ratio:>14}  {r['status']}")
                rows.append(dict(n=n, method=m, **r))
            sys.stdout.flush()
    json.dump(rows, open(os.path.join(ROOT, "bench", "scr_step_results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()

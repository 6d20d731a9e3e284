#!/usr/bin/env python3
"""Exact training by MILP (cvxnn built with --features milp): how far certification reaches.

Parts (--parts, comma-separated):
  teacher      largest N with a certified optimum within the time limit, for 2-K-1 ReLU nets on
               seeded teacher data (noise-free and with label noise), without a gradient start;
               each series stops at its first uncertified run
  exact        the same as a feasibility problem (exact fit) on noise-free teachers
  bigm         one big-M for all samples vs per-sample interval bounds vs LP tightening, same
               instance
  blum-rivest  Blum & Rivest's 3-node network (MILP) vs one perceptron (LP) as the instance grows;
               the MILP's answer is checked against brute force where it runs (<= 24 elements)

Standard library only; no peer is run (the MILP trainers of the literature need Gurobi or CPLEX).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("CVXNN_BIN", "target/release/cvxnn")


def run(args, check=False):
    t0 = time.perf_counter()
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if check and p.returncode != 0:
        sys.exit(f"cvxnn {' '.join(args)} failed:\n{p.stderr}")
    return p, wall


def relu_fit(tmp, k, n, noise, seed, bound, limit, tighten="interval", starts=0, loss="l1"):
    rep = os.path.join(tmp, "r.json")
    if os.path.exists(rep):
        os.remove(rep)
    p, wall = run([
        "train", "--method", "milp", "--teacher", f"2-{k}-1", "--n", str(n), "--noise",
        str(noise), "--seed", str(seed), "--weight-bound", str(bound), "--time-limit",
        str(limit), "--tighten", tighten, "--milp-starts", str(starts), "--loss", loss,
        "--model-out",
        os.path.join(tmp, "m.json"), "--report", rep,
    ])
    if not os.path.exists(rep):
        sys.exit(f"no report (rc {p.returncode}):\n{p.stderr}")
    # (an infeasible exact fit exits 1 with its report written); the figures are the certificate's
    r = json.load(open(rep))["runs"][0]["certificate"]
    r["wall"] = wall
    return r


def certified(r, tol=1e-6):
    return r["abs_gap"] is not None and r["abs_gap"] <= tol


def fmt(v, spec=".4g"):
    return "-" if v is None else format(v, spec)


def part_teacher(tmp, a):
    print(f"\n## Certified optimum vs N (2-K-1 ReLU, |w| <= {a.bound}, L1, interval big-M, "
          f"no start, time limit {a.limit} s, teacher seed {a.seed})\n")
    print("| K | label noise | N | status | L1 loss | lower bound | gap | nodes | binaries | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in a.ks:
        for noise in a.noises:
            for n in a.sizes:
                r = relu_fit(tmp, k, n, noise, a.seed, a.bound, a.limit)
                print(f"| {k} | {noise} | {n} | {r['status']} | {fmt(r['incumbent'])} | "
                      f"{fmt(r['lower_bound'])} | {fmt(r['abs_gap'], '.1e')} | {r['nodes']} | "
                      f"{r['binaries']} | {r['seconds']:.2f} |", flush=True)
                if not certified(r):
                    break


def part_exact(tmp, a):
    print(f"\n## Exact fit (feasibility, every error <= 1e-6) on noise-free teachers (2-K-1 ReLU, "
          f"|w| <= {a.bound}, interval big-M, no start, time limit {a.limit} s, teacher seed "
          f"{a.seed})\n")
    print("| K | N | status | largest error | nodes | binaries | seconds |")
    print("|---|---|---|---|---|---|---|")
    for k in a.ks:
        for n in a.sizes:
            r = relu_fit(tmp, k, n, 0.0, a.seed, a.bound, a.limit, loss="exact")
            print(f"| {k} | {n} | {r['status']} | {fmt(r['incumbent'], '.1e')} | {r['nodes']} | "
                  f"{r['binaries']} | {r['seconds']:.2f} |", flush=True)
            if r["status"] != "optimal":
                break


def part_bigm(tmp, a):
    print(f"\n## Big-M side by side (same instance, same L-BFGS start for all three, "
          f"time limit {a.limit} s)\n")
    print("| instance | big-M | mean M | status | L1 loss | lower bound | nodes | LP tightening (s) | MILP (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (k, n, noise) in ((2, 15, 0.1), (2, 20, 0.1), (3, 12, 0.1)):
        for t in ("global", "interval", "lp"):
            r = relu_fit(tmp, k, n, noise, a.seed, a.bound, a.limit, tighten=t, starts=4)
            mean_m = r.get("mean_big_m")
            print(f"| 2-{k}-1, N={n}, noise {noise} | {t} | {fmt(mean_m)} | {r['status']} | "
                  f"{fmt(r['incumbent'])} | {fmt(r['lower_bound'])} | {r['nodes']} | "
                  f"{r['tighten_seconds']:.2f} | {r['seconds']:.2f} |", flush=True)


def part_blum_rivest(tmp, a):
    print(f"\n## Blum–Rivest instances: 3-node network (MILP, exact fit, B = 2n) vs one "
          f"perceptron (LP); sets = {a.density}n of 3 elements, seeds 1..{a.br_seeds}, "
          f"time limit {a.limit} s, medians\n")
    print("| elements n | kind | points | brute force: satisfiable | MILP: fits | agree | "
          "MILP nodes | MILP (s) | perceptron LP (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    csv = os.path.join(tmp, "br.csv")
    inst = os.path.join(tmp, "br.json")
    for n in a.elements:
        for planted in (True, False):
            rows = []
            for seed in range(1, a.br_seeds + 1):
                g = ["generate", "blum-rivest", "--elements", str(n), "--sets", str(round(a.density * n)),
                     "--set-size", "3", "--seed", str(seed), "--out", csv,
                     "--instance-out", inst]
                if planted:
                    g.append("--planted")
                run(g, check=True)
                truth = json.load(open(inst))["satisfiable"]
                rep = os.path.join(tmp, "t.json")
                p, _ = run(["train", "--method", "milp", "--threshold", "--arch", f"{n}-2-1",
                            "--data", csv, "--loss", "exact", "--weight-bound", str(2 * n),
                            "--time-limit", str(a.limit), "--model-out",
                            os.path.join(tmp, "thr.json"), "--report", rep])
                r = json.load(open(rep))["runs"][0]["certificate"]
                fits = {"optimal": True, "infeasible": False}.get(r["status"])
                # the LP: one threshold unit (never separates these points)
                t0 = time.perf_counter()
                run(["perceptron", "--data", csv], check=True)
                lp = time.perf_counter() - t0
                rows.append((truth, fits, r["nodes"], r["seconds"], lp))
            truths = {t for t, *_ in rows}
            fitss = {f for _, f, *_ in rows}
            checked = [(t, f) for t, f, *_ in rows if t is not None and f is not None]
            agree = "-" if not checked else "yes" if all(t == f for t, f in checked) else "NO"
            med = lambda i: statistics.median(r[i] for r in rows)
            show = lambda s: "/".join(sorted("-" if v is None else str(v).lower() for v in s))
            print(f"| {n} | {'planted' if planted else 'random'} | "
                  f"{1 + n + round(a.density * n)} | "
                  f"{show(truths)} | {show(fitss)} | {agree} | "
                  f"{med(2):.0f} | {med(3):.3f} | {med(4):.3f} | {med(3) / med(4):.1f} |",
                  flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="teacher,bigm,blum-rivest")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--bound", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")],
                    default=[10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200])
    ap.add_argument("--elements", type=lambda s: [int(v) for v in s.split(",")],
                    default=[6, 8, 10, 12, 16, 20, 24, 32])
    ap.add_argument("--ks", type=lambda s: [int(v) for v in s.split(",")], default=[2, 3],
                    help="hidden widths of the teacher part")
    ap.add_argument("--noises", type=lambda s: [float(v) for v in s.split(",")],
                    default=[0.0, 0.1], help="label noise levels of the teacher part")
    ap.add_argument("--br-seeds", type=int, default=3)
    ap.add_argument("--density", type=float, default=3.0, help="sets per element")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for part in a.parts.split(","):
            {"teacher": part_teacher, "exact": part_exact, "bigm": part_bigm,
             "blum-rivest": part_blum_rivest}[part](tmp, a)


if __name__ == "__main__":
    main()

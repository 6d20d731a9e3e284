"""How far is each answer from the provably best network, on bundled data: diabetes (d = 10) and
breast_cancer (d = 30), inputs standardised (diabetes's target too; breast_cancer's 0/1 label
fitted by the squared loss), objective ||f(X) - y||^2/(2N) + (beta/2)(||W1||^2 + ||b1||^2 +
||W2||^2) with beta = 1e-3, for two-layer ReLU networks of any width.

For each set, one run each (2 cores):
  1. the convex program on 500 sampled patterns (`train --method convex --patterns 500`): the
     restricted optimum, certified on its patterns only (no bound on other networks);
  2. Adam's best of 10 starts on the same objective, 16 hidden units
     (`compare --methods adam --starts 10 --weight-decay`), and the global lower bound that
     compare certifies from the best network among its rows in `--bound-time` seconds;
  3. `certify --improve` on the restricted optimum's network with the same time: a second bound.
The table gives each network's objective and how far above the best bound it is at most.

Usage: python bench/real_data.py target/release/cvxnn [--seconds 600]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BETA = 1e-3
HERE = os.path.dirname(os.path.abspath(__file__))


def standardised(name, tmp):
    raw = np.genfromtxt(os.path.join(HERE, "..", "data", f"{name}.csv"), delimiter=",",
                        names=True)
    cols = raw.dtype.names
    a = np.column_stack([raw[c] for c in cols]).astype(float)
    x, y = a[:, :-1], a[:, -1]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    if not np.all(np.isin(y, [0.0, 1.0])):
        y = (y - y.mean()) / y.std()
    path = os.path.join(tmp, f"{name}.csv")
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=",".join(cols), comments="")
    return path, x.shape


def run(cmd):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return time.perf_counter() - t0


def main():
    binary = sys.argv[1]
    seconds = 600.0
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
    print("| data | N | d | restricted optimum, 500 patterns (s) | Adam best of 10 (s) | "
          "bound from compare's best (status, s) | bound from certify --improve on the "
          "restricted network (status, s) | restricted above best bound | Adam above best bound |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["diabetes", "breast_cancer"]:
            data, (n, d) = standardised(name, tmp)
            rep, model = os.path.join(tmp, "r.json"), os.path.join(tmp, "m.json")
            t_convex = run([binary, "train", "--method", "convex", "--data", data, "--arch",
                            f"{d}-8-1", "--weight-decay", str(BETA), "--patterns", "500",
                            "--seed", "1", "--time-limit", str(seconds), "--report", rep,
                            "--model-out", model])
            cert = json.load(open(rep))["runs"][0]["certificate"]
            restricted = cert["objective"]
            cmp_json = os.path.join(tmp, "c.json")
            t_cmp = run([binary, "compare", "--data", data, "--arch", f"{d}-16-1", "--methods",
                         "adam", "--starts", "10", "--weight-decay",
                         str(BETA), "--bound-time", str(seconds), "--json", cmp_json, "--plot",
                         os.path.join(tmp, "c.svg")])
            doc = json.load(open(cmp_json))
            adam = min(r["objective"] for r in doc["rows"])
            problem = doc["convex_optimum"]["problems"][0]
            cmp_bound = problem.get("global_bound") or {}
            cert_json = os.path.join(tmp, "cert.json")
            run([binary, "certify", "--model", model, "--data", data, "--weight-decay", str(BETA),
                 "--improve", "--time-limit", str(seconds), "--report", cert_json])
            own = json.load(open(cert_json))
            own_bound = own["bound"]["lower_bound"]
            best = max(cmp_bound.get("lower_bound", 0.0), own_bound)
            above = lambda v: f"{100 * (v - best) / best:.1f} %" if best > 0 else "–"
            print(f"| {name} | {n} | {d} | {restricted:.6e} (gap {cert['rel_gap']:.0e}, "
                  f"{t_convex:.0f}) | {adam:.6e} ({t_cmp:.0f}, with the bound) | "
                  f"{cmp_bound.get('lower_bound', float('nan')):.6e} "
                  f"({cmp_bound.get('status', '–')}, {cmp_bound.get('seconds', 0):.0f}) | "
                  f"{own_bound:.6e} ({own['bound']['status']}, {own['seconds']:.0f}) | "
                  f"{above(restricted)} | {above(adam)} |", flush=True)


if __name__ == "__main__":
    main()

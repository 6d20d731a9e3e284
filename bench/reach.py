"""How far the global bound reaches (issue 30's grid): for each case, an L-BFGS network of 16
units on the weight-decay objective, then `cvxnn certify --improve` with a time limit. One row
per case: the network's objective, the best network found (its own or column generation's),
the proven global lower bound, the relative gap between them, the pricer's status and the
seconds; "time to 1e-4" is the certify time when the gap reached 1e-4, else "-".

Cases:
  planted  noisy d-8-1 teachers (`cvxnn generate teacher`, seed 3, Gaussian label noise of 10 %
           of the targets' spread, seed 1), d in --dims, N in --sizes, beta = 1e-2
           (bench/global.sh's cases);
  pca      the bundled diabetes (d = 10) and breast_cancer (d = 30) sets, inputs standardised
           and projected on their first k principal components (k in --dims, k <= d), the
           target standardised (breast_cancer's 0/1 label fitted by the squared loss),
           beta = 1e-3 (bench/real_data.py's objective).

Rows are printed as each case ends, so a run cut short keeps what it measured.

Usage: python bench/reach.py target/release/cvxnn [--seconds 600] [--dims 4 6 8 10 12]
           [--sizes 500 2000 10000] [--cases planted pca]
Needs numpy. Run it alone: the bound reached in a time limit depends on the cores it gets.
"""

import argparse
import json
import os
import tempfile

import numpy as np

from real_data import run  # a command, timed; its failure ends the bench

HERE = os.path.dirname(os.path.abspath(__file__))


def write_csv(path, x, y):
    cols = [f"x{j}" for j in range(x.shape[1])] + ["y"]
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=",".join(cols), comments="")


def planted(binary, d, n, tmp):
    clean = os.path.join(tmp, "clean.csv")
    run([binary, "generate", "teacher", "--arch", f"{d}-8-1", "--n", str(n), "--seed", "3",
         "--out", clean])
    a = np.loadtxt(clean, delimiter=",", skiprows=1)
    x, y = a[:, :-1], a[:, -1]
    y = y + 0.1 * y.std() * np.random.default_rng(1).standard_normal(n)
    path = os.path.join(tmp, "data.csv")
    write_csv(path, x, y)
    return path, 1e-2


def pca(name, k, tmp):
    raw = np.genfromtxt(os.path.join(HERE, "..", "data", f"{name}.csv"), delimiter=",",
                        names=True)
    a = np.column_stack([raw[c] for c in raw.dtype.names]).astype(float)
    x, y = a[:, :-1], a[:, -1]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    if not np.all(np.isin(y, [0.0, 1.0])):
        y = (y - y.mean()) / y.std()
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    path = os.path.join(tmp, "data.csv")
    write_csv(path, x @ vt[:k].T, y)
    return path, 1e-3


def certify(binary, data, d, beta, seconds, tmp):
    model, cert = os.path.join(tmp, "m.json"), os.path.join(tmp, "c.json")
    train_s = run([binary, "train", "--method", "lbfgs", "--data", data, "--arch", f"{d}-16-1",
                   "--weight-decay", str(beta), "--standardize", "--steps", "20000", "--seed",
                   "1", "--model-out", model])
    cert_s = run([binary, "certify", "--model", model, "--data", data, "--weight-decay",
                  str(beta), "--improve", "--time-limit", str(seconds), "--report", cert])
    c = json.load(open(cert))
    lb = c["bound"]["lower_bound"]
    best = min(c["objective"], (c.get("improved") or {}).get("objective", float("inf")))
    gap = (best - lb) / lb if lb > 0 else float("inf")
    return c["objective"], best, lb, gap, c["bound"]["status"], train_s, cert_s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--dims", type=int, nargs="+", default=[4, 6, 8, 10, 12])
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    p.add_argument("--cases", nargs="+", default=["planted", "pca"])
    args = p.parse_args()
    print(f"certify --improve --time-limit {args.seconds:g}, on {os.cpu_count()} cores "
          f"(affinity: {len(os.sched_getaffinity(0))})")
    print("| case | d | N | β | L-BFGS objective | best found | proven bound | gap | status | "
          "certify s | time to 1e-4 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    cases = []
    if "planted" in args.cases:
        cases += [("planted", d, n) for n in args.sizes for d in args.dims]
    if "pca" in args.cases:
        cases += [(name, k, None) for name, dim in [("diabetes", 10), ("breast_cancer", 30)]
                  for k in args.dims if k <= dim]
    for case, d, n in cases:
        with tempfile.TemporaryDirectory() as tmp:
            if case == "planted":
                data, beta = planted(args.binary, d, n, tmp)
            else:
                data, beta = pca(case, d, tmp)
                n = sum(1 for _ in open(data)) - 1
            obj, best, lb, gap, status, _, secs = certify(args.binary, data, d, beta,
                                                           args.seconds, tmp)
            reached = f"{secs:.0f}" if gap <= 1e-4 else "-"
            label = case if case == "planted" else f"{case} PCA"
            print(f"| {label} | {d} | {n} | {beta:g} | {obj:.6e} | {best:.6e} | {lb:.6e} | "
                  f"{100 * gap:.3g} % | {status} | {secs:.0f} | {reached} |", flush=True)


if __name__ == "__main__":
    main()

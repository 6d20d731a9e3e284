#!/usr/bin/env bash
# How far the global bound of `cvxnn certify` reaches (docs/global.md): planted noisy teachers
# in d = 2…8 inputs, an L-BFGS network of 16 units trained on the weight-decay objective, then
# `certify` with a time limit. Prints one row per case: the network's objective, the proven
# lower bound, the ceiling its residual allows, the status and the time.
# With CERTIFY_FLAGS=--improve, `certify --improve` (column generation from the network's
# units beside its own residual): the gap is then that of the best network found, at most
# "gap" above the best two-layer network of any width.
# Usage: [CERTIFY_FLAGS=--improve] bash bench/global.sh [N] [seconds] [dims...]
#        (defaults: 500 60 2 4 6 8)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/cvxnn
n=${1:-500}
limit=${2:-60}
shift 2 || true
dims=${*:-2 4 6 8}
beta=1e-2
work=$(mktemp -d)
printf '%-4s %-6s %-12s %-12s %-12s %-10s %-12s %-8s %-12s %-10s\n' d N objective bound ceiling excess status seconds best-found gap
for d in $dims; do
  "$bin" generate teacher --arch "$d-8-1" --n "$n" --seed 3 --out "$work/clean.csv" 2>/dev/null
  # 10 % label noise, seeded
  python3 - "$work/clean.csv" "$work/t.csv" <<'PY'
import csv, random, statistics, sys
random.seed(1)
rows = list(csv.reader(open(sys.argv[1])))
ys = [float(r[-1]) for r in rows[1:]]
sd = statistics.pstdev(ys)
with open(sys.argv[2], "w") as f:
    f.write(",".join(rows[0]) + "\n")
    for r in rows[1:]:
        f.write(",".join(r[:-1] + [repr(float(r[-1]) + 0.1 * sd * random.gauss(0, 1))]) + "\n")
PY
  "$bin" train --method lbfgs --data "$work/t.csv" --arch "$d-16-1" --weight-decay "$beta" \
    --standardize --steps 20000 --seed 1 --model-out "$work/m.json" --report "$work/r.json" \
    >/dev/null 2>&1
  start=$(date +%s.%N)
  "$bin" certify --model "$work/m.json" --data "$work/t.csv" --weight-decay "$beta" \
    --time-limit "$limit" ${CERTIFY_FLAGS:-} --json >"$work/c.json"
  end=$(date +%s.%N)
  python3 - "$work/c.json" "$d" "$n" "$start" "$end" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
b = c["bound"]
ex = c["excess"]
best = min(c["objective"], (c.get("improved") or {}).get("objective", float("inf")))
lb = b["lower_bound"]
gap = (best - lb) / lb if lb > 0 else float("inf")
print(f'{sys.argv[2]:<4} {sys.argv[3]:<6} {c["objective"]:<12.5e} {lb:<12.5e} '
      f'{b["ceiling"] or float("nan"):<12.5e} {(100*ex if ex is not None else float("inf")):<9.3g}% '
      f'{b["status"]:<12} {float(sys.argv[5]) - float(sys.argv[4]):<8.1f} {best:<12.5e} '
      f'{100*gap:<9.3g}%')
PY
done
rm -rf "$work"

#!/usr/bin/env bash
# Column generation on the enumerable 3-D teachers of docs/global.md §5: ten noisy 3-6-1
# teachers, N = 30, β = 1e-3, `--patterns generate`; with --enumerate, each also with every
# pattern enumerated (the interior point: about a minute each). Prints one row per teacher:
# certificate, objective, bound, patterns and seconds.
# Usage: bash bench/generate.sh [--enumerate]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/cvxnn
modes=(generate)
if [[ "${1:-}" == "--enumerate" ]]; then modes+=(all); fi
printf '%-5s %-9s %-48s %-16s %-16s %-9s %-8s\n' seed patterns certificate objective bound used seconds
for seed in 1 2 3 4 5 6 7 8 9 10; do
  for mode in "${modes[@]}"; do
    start=$(date +%s.%N)
    line=$("$bin" train --method convex --teacher 3-6-1 --n 30 --noise 0.1 --seed "$seed" \
      --arch 3-8-1 --weight-decay 1e-3 --patterns "$mode" --max-patterns 20000 2>/dev/null \
      | grep -E "optimum")
    end=$(date +%s.%N)
    python3 - "$seed" "$mode" "$line" "$start" "$end" <<'PY'
import re, sys
seed, mode, line, start, end = sys.argv[1:]
what = line[:48].strip()
nums = line[48:].split()
print(f"{seed:<5} {mode:<9} {what:<48} {nums[0]:<16} {nums[1]:<16} {nums[4]:<9} {float(end) - float(start):<8.2f}")
PY
  done
done

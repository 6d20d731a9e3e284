#!/usr/bin/env bash
# Builds cvxnn with HiGHS (feature milp; needs cmake and libclang-dev, about 7 minutes the first
# time) and runs bench/milp.py. Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --features milp
# a copy, so that rebuilding target/release during a long run does not swap the binary
cp target/release/cvxnn target/cvxnn-milp-bench
export CVXNN_BIN="$PWD/target/cvxnn-milp-bench"
python3 bench/milp.py "$@"

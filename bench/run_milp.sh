#!/usr/bin/env bash
# Builds cvxnn with HiGHS (feature milp; needs cmake and libclang-dev, about 7 minutes the first
# time) and runs bench/milp.py. Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --features milp
export CVXNN_BIN="$PWD/target/release/cvxnn"
python3 bench/milp.py "$@"

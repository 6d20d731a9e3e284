#!/usr/bin/env bash
# Builds cvxnn, installs scikit-learn into bench/.venv and runs bench/glm.py. Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/bench-plain cargo build --release
export CVXNN_BIN="$PWD/target/bench-plain/release/cvxnn"
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q scikit-learn numpy
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 bench/.venv/bin/python bench/glm.py "$@"

#!/usr/bin/env bash
# Builds cvxnn, installs PyTorch (CPU use, float64, one thread) into bench/.venv-torch and runs
# bench/gradient.py. Arguments are passed on (e.g. --cases 3-3-2,10-50-1).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/bench-plain cargo build --release
export CVXNN_BIN="$PWD/target/bench-plain/release/cvxnn"
[ -x bench/.venv-torch/bin/python ] || python3 -m venv bench/.venv-torch
bench/.venv-torch/bin/pip install -q torch numpy
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 bench/.venv-torch/bin/python bench/gradient.py "$@"

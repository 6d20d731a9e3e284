#!/usr/bin/env bash
# Builds cvxnn, installs PyTorch (CPU use) into bench/.venv-torch and runs
# bench/gradient.py. Arguments are passed on (e.g. --cases 3-3-2,10-50-1 --threads 1,2): both tools
# get the same thread count (torch.set_num_threads, cvxnn --threads).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/bench-plain cargo build --release
export CVXNN_BIN="$PWD/target/bench-plain/release/cvxnn"
[ -x bench/.venv-torch/bin/python ] || python3 -m venv bench/.venv-torch
bench/.venv-torch/bin/pip install -q torch numpy
bench/.venv-torch/bin/python bench/gradient.py "$@"

#!/usr/bin/env bash
# Builds cvxnn, installs scnn (pyscnn 0.0.10, with its PyTorch) into bench/.venv-torch and runs
# bench/convex.py: cvxnn's convex two-layer model against scnn (and, with --cvxpy, CVXPY +
# Clarabel) on the same data, gates and beta.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/bench-plain cargo build --release
[ -x bench/.venv-torch/bin/python ] || python3 -m venv bench/.venv-torch
bench/.venv-torch/bin/pip install -q torch numpy pyscnn==0.0.10 cvxpy clarabel
bench/.venv-torch/bin/python bench/convex.py "$PWD/target/bench-plain/release/cvxnn" "$@"

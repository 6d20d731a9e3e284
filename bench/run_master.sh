#!/usr/bin/env bash
# Builds cvxnn, installs CVXPY and Clarabel into bench/.venv-cvxpy and runs bench/master.py (the
# convex program's `auto` solver against CVXPY + Clarabel at d = 10 ... 60). Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
[ -x bench/.venv-cvxpy/bin/python ] || python3 -m venv bench/.venv-cvxpy
bench/.venv-cvxpy/bin/pip install -q numpy cvxpy clarabel
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 bench/.venv-cvxpy/bin/python bench/master.py target/release/cvxnn "$@"

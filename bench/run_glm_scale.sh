#!/usr/bin/env bash
# Builds cvxnn, installs scikit-learn into bench/.venv and runs bench/glm_scale.py (interior point
# against first order against scikit-learn). Arguments are passed on, e.g. --parts classes.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/bench-plain cargo build --release
export CVXNN_BIN="$PWD/target/bench-plain/release/cvxnn"
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q scikit-learn numpy
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 RAYON_NUM_THREADS=1 bench/.venv/bin/python bench/glm_scale.py "$@"

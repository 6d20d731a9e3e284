#!/usr/bin/env bash
# Builds cvxnn (with the interior-point backend), installs CVXPY + Clarabel into bench/.venv and
# runs bench/scr_step.py. Needs Debian's libopenblas-dev for `--features sdp`. Arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
# a target directory of its own, so that other builds cannot swap the binary during a long run
CARGO_TARGET_DIR=target/bench cargo build --release --features sdp
export CVXNN_BIN="$PWD/target/bench/release/cvxnn"
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q cvxpy clarabel numpy
OPENBLAS_NUM_THREADS=1 bench/.venv/bin/python bench/scr_step.py "$@"

#!/usr/bin/env bash
# Builds cvxnn at HEAD and at an earlier commit (BEFORE, default 260fc34: the ADMM backend before
# issue 15), installs CVXPY + Clarabel into bench/.venv and runs bench/scr_scale.py; arguments
# are passed on. BEFORE= (empty) runs the current build only.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE="${BEFORE-260fc34}"
# target directories of their own, so that other builds cannot swap the binaries during a long run
CARGO_TARGET_DIR=target/bench cargo build --release --bin cvxnn --example scr_subproblem
export CVXNN_BIN="$PWD/target/bench/release/cvxnn"
export SUBPROBLEM_BIN="$PWD/target/bench/release/examples/scr_subproblem"
if [ -n "$BEFORE" ]; then
  tree="$PWD/target/bench-before-src"
  [ -d "$tree" ] || git worktree add -f --detach "$tree" "$BEFORE"
  git -C "$tree" checkout -q --detach "$BEFORE"
  (cd "$tree" && CARGO_TARGET_DIR="$PWD/../bench-before" cargo build --release --bin cvxnn)
  export CVXNN_BEFORE_BIN="$PWD/target/bench-before/release/cvxnn"
fi
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q cvxpy clarabel numpy
OPENBLAS_NUM_THREADS=1 bench/.venv/bin/python bench/scr_scale.py "$@"

#!/usr/bin/env bash
# `certify` on PyTorch-trained networks (bench/certify_pytorch.py): makes bench/.venv-py with
# PyTorch, onnx and this checkout's Python package, builds the binary, prints one table.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=bench/.venv-py
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet torch onnx scikit-learn numpy ./python
"$venv/bin/python" bench/certify_pytorch.py

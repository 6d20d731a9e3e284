#!/usr/bin/env bash
# Installs the Python package (pip install ./python) into bench/.venv-py and runs
# bench/python_overhead.py; arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bench/.venv-py/bin/python ] || python3 -m venv bench/.venv-py
bench/.venv-py/bin/pip install -q ./python
bench/.venv-py/bin/python bench/python_overhead.py "$@"

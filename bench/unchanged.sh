#!/usr/bin/env bash
# Behaviour unchanged, shown in one run: the same commands with the binary of a base revision and
# with this checkout's, and every figure they write compared (times left out). Prints one line per
# output and exits 1 if any figure differs.
#
#   bash bench/unchanged.sh fadef21        # the revision before the run-request rewrite
#
# The base is built from a git worktree into target/unchanged-base (a few minutes the first time).
set -euo pipefail
base=${1:?usage: bash bench/unchanged.sh BASE_REVISION}
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --quiet --detach "$work/base" "$base"
echo "building $base and this checkout" >&2
(cd "$work/base" && cargo build --release --quiet --bin cvxnn --target-dir "$root/target/unchanged-base")
cargo build --release --quiet --bin cvxnn
old_bin="$root/target/unchanged-base/release/cvxnn"
new_bin="$root/target/release/cvxnn"

# Every command writes its outputs into the current folder; stdout goes to <name>.out.
run_all() {
    local bin=$1 dir=$2
    mkdir -p "$dir" && cd "$dir"
    "$bin" demo > demo.out 2>/dev/null
    "$bin" generate teacher --arch 3-4-2 --n 40 --seed 11 --out teacher.csv > /dev/null 2>&1
    for m in scr gd sgd adam lbfgs lm scr+lbfgs; do
        case $m in
            scr) budget=(--max-iter 20) ;;
            scr+lbfgs) budget=(--max-iter 20 --steps 400) ;;
            *) budget=(--steps 400) ;;
        esac
        "$bin" train --data teacher.csv --arch 3-4-2 --method "$m" "${budget[@]}" \
            --model-out "train-$m.model.json" --report "train-$m.report.json" > /dev/null 2>&1
    done
    "$bin" train --teacher 3-3-2 --method lbfgs --standardize --weight-decay 1e-3 \
        --model-out train-standardized.model.json --report train-standardized.report.json \
        > /dev/null 2>&1
    "$bin" train --teacher 2-3-1 --noise 0.1 --method convex --weight-decay 1e-2 \
        --model-out convex-all.model.json --report convex-all.report.json > /dev/null 2>&1
    "$bin" train --data diabetes --arch 10-1 --standardize --method convex --weight-decay 1e-2 \
        --patterns 40 --model-out convex-sampled.model.json --report convex-sampled.report.json \
        > /dev/null 2>&1 || true
    "$bin" compare --teachers 3 --starts 2 --methods adam,lbfgs,lm,scr,scr+lbfgs --steps 500 \
        --json compare.json --plot compare.svg > /dev/null 2>&1
    "$bin" compare --teachers 3 --arch 2-8-1 --noise 0.1 --weight-decay 1e-2 \
        --methods convex,adam,lbfgs --json compare-convex.json --plot compare-convex.svg \
        > /dev/null 2>&1
    for data in diabetes wine; do
        for model in ridge lasso elastic-net; do
            for solver in ipm first-order; do
                "$bin" glm --model "$model" --data "$data" --alpha 0.5 --solver "$solver" \
                    --standardize --test-fraction 0.25 --json > "glm-$data-$model-$solver.out" 2>/dev/null
            done
        done
    done
    for data in iris breast_cancer; do
        for model in logistic svm; do
            for solver in ipm first-order; do
                "$bin" glm --model "$model" --data "$data" --c 0.5 --solver "$solver" \
                    --standardize --json > "glm-$data-$model-$solver.out" 2>/dev/null || true
            done
        done
    done
    "$bin" glm --model logistic --data iris --penalty l1 --positive-class 1 --json \
        > glm-iris-logistic-l1.out 2>/dev/null
    "$bin" perceptron --data iris --json > perceptron-iris.out 2>/dev/null
    "$bin" perceptron --data iris --classes 1,2 --positive-class 1 --json \
        > perceptron-iris-12.out 2>/dev/null
    "$bin" perceptron --data wine --json > perceptron-wine.out 2>/dev/null
    cd - > /dev/null
}
echo "running the commands with both binaries" >&2
run_all "$old_bin" "$work/old"
run_all "$new_bin" "$work/new"
python3 bench/unchanged.py "$work/old" "$work/new"

"""Binary labels for the convex model's classification losses (docs/convex.md §7).

    python bench/labels.py N D SEED OUT.csv

Inputs x ~ N(0, I_D); labels 1 where a random D-6-1 ReLU network (weights N(0, 1), seeded)
outputs more than its median, else 0; 5 % of the labels flipped. The 5-D figures of
docs/convex.md §7 are from `python bench/labels.py 5000 5 11 labels5.csv` and

    cvxnn train --method convex --data labels5.csv --arch 5-8-1 --loss logistic \
        --weight-decay 1e-2 --patterns 60

(and `--loss hinge`). Needs numpy (bench/.venv has it).
"""
import sys

import numpy as np

n, d, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
X = rng.normal(size=(n, d))
W = rng.normal(size=(6, d))
b = rng.normal(size=6)
a = rng.normal(size=6)
f = np.maximum(X @ W.T + b, 0) @ a
y = (f > np.median(f)).astype(int)
flip = rng.random(n) < 0.05
y[flip] = 1 - y[flip]
with open(sys.argv[4], "w") as fh:
    fh.write(",".join([f"x{i}" for i in range(d)] + ["y"]) + "\n")
    for row, label in zip(X, y):
        fh.write(",".join(f"{v:.17g}" for v in row) + f",{label}\n")

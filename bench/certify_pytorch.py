"""`certify` on networks trained by PyTorch (docs/global.md §1): a two-layer ReLU net trained with
MSELoss and weight decay λ, exported by `torch.onnx.export`, certified by `cvxnn certify` on the
command line and by `cvxnn.certify` from Python. PyTorch minimises twice cvxnn's objective with
β = λ/2 (MSELoss is a mean without ½; its decay λw is the gradient of (λ/2)‖w‖², on every
parameter, output bias included), so the table states both objectives.

Run by bench/run_certify_pytorch.sh, which makes the venv.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import cvxnn

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "cvxnn"


def teacher(d, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((8, d))
    a = rng.standard_normal(8)
    y = np.maximum(X @ W.T, 0) @ a
    return X, y + 0.1 * y.std() * rng.standard_normal(n)


def train(X, y, width, lam, seed):
    torch.manual_seed(seed)
    d = X.shape[1]
    net = torch.nn.Sequential(torch.nn.Linear(d, width), torch.nn.ReLU(), torch.nn.Linear(width, 1))
    net = net.double()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, weight_decay=lam)
    for _ in range(5000):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(Xt), yt)
        loss.backward()
        opt.step()
    with torch.no_grad():
        mse = torch.nn.functional.mse_loss(net(Xt), yt).item()
        decay = sum((p**2).sum().item() for p in net.parameters())
        out_bias = (net[2].bias ** 2).sum().item()
    return net, mse + 0.5 * lam * decay, out_bias


def main():
    print(f"{'case':<16} {'pytorch obj':>12} {'cvxnn obj':>12} {'bound':>12} {'excess':>9} "
          f"{'status':>11} {'cli s':>6} {'same in Python':>15}")
    for d, n, width, lam in [(2, 200, 16, 2e-2), (4, 500, 16, 2e-2), (6, 500, 32, 2e-2)]:
        X, y = teacher(d, n, seed=d)
        net, torch_objective, out_bias = train(X, y, width, lam, seed=0)
        with tempfile.TemporaryDirectory() as tmp:
            onnx = Path(tmp) / "net.onnx"
            torch.onnx.export(net, torch.from_numpy(X[:1]), onnx, dynamo=False)
            data = Path(tmp) / "data.csv"
            np.savetxt(data, np.column_stack([X, y]), delimiter=",")
            t0 = time.perf_counter()
            out = subprocess.run(
                [str(BIN), "certify", "--model", str(onnx), "--data", str(data),
                 "--weight-decay", str(lam / 2), "--time-limit", "60", "--json"],
                check=True, capture_output=True, text=True,
            )
            seconds = time.perf_counter() - t0
            cli = json.loads(out.stdout)
            py = cvxnn.certify(onnx, X, y, weight_decay=lam / 2, time_limit=60)
        b = cli["bound"]
        excess = cli["excess"]
        # a time-limited search stops at a different cell in each run: only proved ones compare
        if b["status"] == "proved":
            same = str(py["bound"]["lower_bound"] == b["lower_bound"])
        else:
            same = "n/a"
        print(f"{f'd={d} N={n} m={width}':<16} {torch_objective:>12.5e} {cli['objective']:>12.5e} "
              f"{b['lower_bound']:>12.5e} {100 * excess if excess is not None else float('inf'):>8.2f}% "
              f"{b['status']:>11} {seconds:>6.1f} {same:>15}")
        # cvxnn's objective is PyTorch's halved, less the output bias's decay, which cvxnn does
        # not count (float64 throughout)
        recovered = 2 * cli["objective"] + 0.5 * lam * out_bias
        assert abs(recovered - torch_objective) <= 1e-9 * torch_objective, (
            recovered, torch_objective)


if __name__ == "__main__":
    sys.exit(main())

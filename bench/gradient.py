#!/usr/bin/env python3
"""Adam and L-BFGS: cvxnn against PyTorch (CPU, float64, the same thread count: `--threads`,
default 1), same network, data and initial weights.

For each case the script draws the inputs X ~ N(0, 1) and a random teacher of the same
architecture (numpy, seeded), writes the data as .npy and the initial network in cvxnn's model
format, and then
- Adam, full batch, lr 1e-3, a fixed number of steps: steps per second of the training loop
  (cvxnn: the `seconds` of its report, which covers the loop and the final loss and gradient;
  PyTorch: the loop and one more forward and backward pass for the same final figures);
- L-BFGS (memory 10, strong-Wolfe line search) until the gradient norm is below 1e-8 or
  `--lbfgs-iters` iterations: time, iterations and final loss.
The losses at the end are printed for both, so that "same problem" can be checked.

Run through bench/run_gradient.sh, which builds cvxnn and installs torch into bench/.venv-torch.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CVXNN = os.environ.get("CVXNN_BIN", os.path.join(ROOT, "target", "release", "cvxnn"))

CASES = {
    # name: (widths, N, Adam steps, L-BFGS iterations at most (None: --lbfgs-iters))
    "3-3-2": ([3, 3, 2], 30, 5000, None),
    "10-50-1": ([10, 50, 1], 1000, 2000, None),
    "784-128-10": ([784, 128, 10], 10000, 20, None),
    # the MNIST shape (synthetic data): about 240 GFLOP a full-batch step
    "784-512-512-10": ([784, 512, 512, 10], 60000, 3, 5),
}


def step_flops(widths, n):
    """Multiply-adds × 2 of one full-batch gradient (both tools evaluate steps + 1 of them: the
    last for the final figures): the forward GEMMs, the weight gradients, and
    the back-propagated errors of every layer but the first."""
    pairs = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2.0 * n * (2 * sum(pairs) + sum(pairs[1:]))


def gemm_peak(threads, dtype, size=2048, reps=5):
    """The machine's GEMM rate (GFLOP/s) on `threads` threads: PyTorch's (its BLAS) on a square
    product, the best of `reps`."""
    import torch
    torch.set_num_threads(threads)
    a = torch.randn(size, size, dtype=dtype)
    b = torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 / best / 1e9


def he_init(widths, rng):
    ws, bs = [], []
    for a, b in zip(widths[:-1], widths[1:]):
        ws.append(rng.normal(0.0, np.sqrt(2.0 / a), size=(b, a)))
        bs.append(np.zeros(b))
    return ws, bs


def forward(ws, bs, x):
    h = x
    for l, (w, b) in enumerate(zip(ws, bs)):
        z = w @ h + b[:, None]
        h = z if l == len(ws) - 1 else np.maximum(z, 0.0)
    return h


def write_case(tmp, widths, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(widths[0], n))
    tw, tb = [rng.normal(size=(b, a)) for a, b in zip(widths[:-1], widths[1:])], [
        rng.normal(size=b) for b in widths[1:]]
    y = forward(tw, tb, x)
    ws, bs = he_init(widths, rng)
    data = os.path.join(tmp, "data.npy")
    np.save(data, np.ascontiguousarray(np.vstack([x, y]).T))
    model = os.path.join(tmp, "init.json")
    with open(model, "w") as f:
        json.dump({
            "format": "cvxnn-mlp", "version": 1,
            "arch": {"widths": widths, "output": "linear"},
            "weights": [{"rows": w.shape[0], "cols": w.shape[1],
                         "data": w.flatten(order="F").tolist()} for w in ws],
            "biases": [b.tolist() for b in bs],
        }, f)
    return x, y, ws, bs, data, model


def cvxnn_run(widths, data, model, tmp, args):
    report = os.path.join(tmp, "report.json")
    cmd = [CVXNN, "train", "--data", data, "--arch", "-".join(map(str, widths)),
           "--init", "model", "--init-model", model, "--model-out", os.path.join(tmp, "out.json"),
           "--report", report, "--output-tol", "0", *args]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    with open(report) as f:
        r = json.load(f)
    # the stage's own figures: its `seconds` cover the optimiser's loop only
    return r["runs"][0]["stages"][0]["final"]


def torch_setup(x, y, ws, bs, threads):
    import torch
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float64)
    layers = []
    for l, (w, b) in enumerate(zip(ws, bs)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if l < len(ws) - 1:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    xt = torch.from_numpy(np.ascontiguousarray(x.T))
    yt = torch.from_numpy(np.ascontiguousarray(y.T))
    return torch, net, xt, yt


def torch_adam(x, y, ws, bs, steps, lr, threads):
    torch, net, xt, yt = torch_setup(x, y, ws, bs, threads)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    lossf = torch.nn.MSELoss()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = lossf(net(xt), yt)
        loss.backward()
        opt.step()
    # the final loss and gradient, as cvxnn's report has them (its last evaluation, timed)
    opt.zero_grad()
    loss = lossf(net(xt), yt)
    loss.backward()
    secs = time.perf_counter() - t0
    return secs, loss.item()


def torch_lbfgs(x, y, ws, bs, iters, gtol, threads):
    torch, net, xt, yt = torch_setup(x, y, ws, bs, threads)
    opt = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=iters, max_eval=iters * 25,
                            tolerance_grad=gtol, tolerance_change=0.0, history_size=10,
                            line_search_fn="strong_wolfe")
    lossf = torch.nn.MSELoss()

    def closure():
        opt.zero_grad()
        loss = lossf(net(xt), yt)
        loss.backward()
        return loss

    t0 = time.perf_counter()
    opt.step(closure)
    secs = time.perf_counter() - t0
    state = opt.state[opt._params[0]]
    with torch.no_grad():
        final = lossf(net(xt), yt).item()
    return secs, final, state.get("n_iter", 0), state.get("func_evals", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lbfgs-iters", type=int, default=500)
    ap.add_argument("--gtol", type=float, default=1e-8)
    ap.add_argument("--threads", default="1",
                    help="thread counts, comma-separated: each case runs on each, both tools")
    a = ap.parse_args()
    print(f"{'case':>12} {'N':>6} {'thr':>3} {'method':>7} {'who':>8} {'seconds':>9} "
          f"{'steps/s':>10} {'iters':>6} {'evals':>6} {'final loss':>12}  ratio")
    runs = [(name, int(t)) for name in a.cases.split(",") for t in a.threads.split(",")]
    import torch
    for t in sorted({t for _, t in runs}):
        print(f"GEMM peak on {t} thread(s), 2048³ by PyTorch: "
              f"DGEMM {gemm_peak(t, torch.float64):.1f} GFLOP/s, "
              f"SGEMM {gemm_peak(t, torch.float32):.1f} GFLOP/s")
    for name, threads in runs:
        widths, n, steps, case_iters = CASES[name]
        lbfgs_iters = case_iters or a.lbfgs_iters
        flops = step_flops(widths, n)
        with tempfile.TemporaryDirectory() as tmp:
            x, y, ws, bs, data, model = write_case(tmp, widths, n, a.seed)
            # Adam
            th = ["--threads", str(threads)]
            c = cvxnn_run(widths, data, model, tmp,
                          ["--method", "adam", "--lr", str(a.lr), "--steps", str(steps),
                           "--grad-tol", "0", *th])
            t_secs, t_loss = torch_adam(x, y, ws, bs, steps, a.lr, threads)
            c_rate, t_rate = c["iterations"] / c["seconds"], steps / t_secs
            print(f"{name:>12} {n:>6} {threads:>3} {'adam':>7} {'cvxnn':>8} {c['seconds']:>9.3f} "
                  f"{c_rate:>10.1f} {c['iterations']:>6} {c['evaluations']:>6} {c['loss']:>12.6e}  "
                  f"{c_rate / t_rate:.2f}× PyTorch's steps/s, "
                  f"{c['evaluations'] * flops / c['seconds'] / 1e9:.1f} GFLOP/s")
            print(f"{name:>12} {n:>6} {threads:>3} {'adam':>7} {'pytorch':>8} {t_secs:>9.3f} "
                  f"{t_rate:>10.1f} {steps:>6} {steps:>6} {t_loss:>12.6e}  "
                  f"{(steps + 1) * flops / t_secs / 1e9:.1f} GFLOP/s")
            # L-BFGS
            c = cvxnn_run(widths, data, model, tmp,
                          ["--method", "lbfgs", "--steps", str(lbfgs_iters),
                           "--grad-tol", str(a.gtol), *th])
            t_secs, t_loss, t_it, t_ev = torch_lbfgs(x, y, ws, bs, lbfgs_iters, a.gtol, threads)
            print(f"{name:>12} {n:>6} {threads:>3} {'lbfgs':>7} {'cvxnn':>8} {c['seconds']:>9.3f} "
                  f"{'':>10} {c['iterations']:>6} {c['evaluations']:>6} {c['loss']:>12.6e}  "
                  f"{t_secs / c['seconds']:.2f}× faster ({c['stop_reason']})")
            print(f"{name:>12} {n:>6} {threads:>3} {'lbfgs':>7} {'pytorch':>8} {t_secs:>9.3f} "
                  f"{'':>10} {t_it:>6} {t_ev:>6} {t_loss:>12.6e}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

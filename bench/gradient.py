#!/usr/bin/env python3
"""Adam and L-BFGS: cvxnn against PyTorch (CPU, the same precision and thread count:
`--precisions`, default f64 and f32, and `--threads`, default 1), same network, data and initial
weights.

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


def torch_setup(x, y, ws, bs, threads, precision):
    import torch
    torch.set_num_threads(threads)
    dtype = torch.float64 if precision == "f64" else torch.float32
    torch.set_default_dtype(dtype)
    layers = []
    for l, (w, b) in enumerate(zip(ws, bs)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w).to(dtype))
            lin.bias.copy_(torch.from_numpy(b).to(dtype))
        layers.append(lin)
        if l < len(ws) - 1:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    xt = torch.from_numpy(np.ascontiguousarray(x.T)).to(dtype)
    yt = torch.from_numpy(np.ascontiguousarray(y.T)).to(dtype)
    return torch, net, xt, yt


def torch_adam(x, y, ws, bs, steps, lr, threads, precision):
    torch, net, xt, yt = torch_setup(x, y, ws, bs, threads, precision)
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


def torch_lbfgs(x, y, ws, bs, iters, gtol, threads, precision):
    torch, net, xt, yt = torch_setup(x, y, ws, bs, threads, precision)
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
    ap.add_argument("--precisions", default="f64,f32",
                    help="precisions, comma-separated (f64, f32): each case runs in each")
    a = ap.parse_args()
    print(f"{'case':>14} {'N':>6} {'thr':>3} {'prec':>4} {'method':>6} {'who':>7} {'seconds':>8} "
          f"{'steps/s':>9} {'iters':>5} {'evals':>5} {'final loss':>12}  ratio")
    runs = [(name, int(t), p) for name in a.cases.split(",") for t in a.threads.split(",")
            for p in a.precisions.split(",")]
    import torch
    peaks = {}
    for t in sorted({t for _, t, _ in runs}):
        peaks[t, "f64"] = gemm_peak(t, torch.float64)
        peaks[t, "f32"] = gemm_peak(t, torch.float32)
        print(f"GEMM peak on {t} thread(s), 2048³ by PyTorch: "
              f"DGEMM {peaks[t, 'f64']:.1f} GFLOP/s, SGEMM {peaks[t, 'f32']:.1f} GFLOP/s")
    for name, threads, prec in runs:
        widths, n, steps, case_iters = CASES[name]
        lbfgs_iters = case_iters or a.lbfgs_iters
        flops = step_flops(widths, n)
        peak = peaks[threads, prec]
        head = f"{name:>14} {n:>6} {threads:>3} {prec:>4}"
        with tempfile.TemporaryDirectory() as tmp:
            x, y, ws, bs, data, model = write_case(tmp, widths, n, a.seed)
            # Adam
            th = ["--threads", str(threads), "--precision", prec]
            c = cvxnn_run(widths, data, model, tmp,
                          ["--method", "adam", "--lr", str(a.lr), "--steps", str(steps),
                           "--grad-tol", "0", *th])
            t_secs, t_loss = torch_adam(x, y, ws, bs, steps, a.lr, threads, prec)
            c_rate, t_rate = c["iterations"] / c["seconds"], steps / t_secs
            c_gf = c["evaluations"] * flops / c["seconds"] / 1e9
            t_gf = (steps + 1) * flops / t_secs / 1e9
            print(f"{head} {'adam':>6} {'cvxnn':>7} {c['seconds']:>8.3f} "
                  f"{c_rate:>9.1f} {c['iterations']:>5} {c['evaluations']:>5} {c['loss']:>12.6e}  "
                  f"{c_rate / t_rate:.2f}× PyTorch's steps/s, "
                  f"{c_gf:.1f} GFLOP/s = {100 * c_gf / peak:.0f} % of peak")
            print(f"{head} {'adam':>6} {'pytorch':>7} {t_secs:>8.3f} "
                  f"{t_rate:>9.1f} {steps:>5} {steps:>5} {t_loss:>12.6e}  "
                  f"{t_gf:.1f} GFLOP/s = {100 * t_gf / peak:.0f} % of peak")
            # L-BFGS
            c = cvxnn_run(widths, data, model, tmp,
                          ["--method", "lbfgs", "--steps", str(lbfgs_iters),
                           "--grad-tol", str(a.gtol), *th])
            t_secs, t_loss, t_it, t_ev = torch_lbfgs(x, y, ws, bs, lbfgs_iters, a.gtol, threads,
                                                     prec)
            print(f"{head} {'lbfgs':>6} {'cvxnn':>7} {c['seconds']:>8.3f} "
                  f"{'':>9} {c['iterations']:>5} {c['evaluations']:>5} {c['loss']:>12.6e}  "
                  f"{t_secs / c['seconds']:.2f}× faster ({c['stop_reason']}), "
                  f"{c['evaluations'] / c['seconds']:.2f} evals/s = "
                  f"{c['evaluations'] / c['seconds'] / (t_ev / t_secs):.2f}× PyTorch's")
            print(f"{head} {'lbfgs':>6} {'pytorch':>7} {t_secs:>8.3f} "
                  f"{'':>9} {t_it:>5} {t_ev:>5} {t_loss:>12.6e}  {t_ev / t_secs:.2f} evals/s")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

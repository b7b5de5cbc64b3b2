#!/usr/bin/python3
"""PyTorch peer of `latent bench train`: the same workloads W1-W3 (see dev.latent.workload.Workload),
the same batch sizes, Adam, float32, on CPU. Prints one JSON object per line:
{"bench":"train","workload":"w1","provider":"pytorch","config":"intra_op=1,openblas=2","batch":256,"samples_per_s":...}

Run with Debian's python3-torch: /usr/bin/python3 bench/peers/train_peers.py --workload w1 --seconds 3
The thread configuration is set by the caller through --intra-op and the OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS environment (they must be set before torch loads its BLAS).
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn


class KlSparseAE(nn.Module):
    """W1: 784-196-784 sigmoid; KL sparsity on the hidden mean activation."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(784, 196)
        self.dec = nn.Linear(196, 784)

    def forward(self, x):
        h = torch.sigmoid(self.enc(x))
        return torch.sigmoid(self.dec(h)), h


def w1_loss(model, x, rho=0.1, beta=3.0, wd=1e-4):
    y, h = model(x)
    b = x.shape[0]
    rec = 0.5 * ((y - x) ** 2).sum() / b
    r = h.mean(0).clamp(1e-7, 1 - 1e-7)
    kl = beta * (rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r))).sum()
    decay = 0.5 * wd * (model.enc.weight.pow(2).sum() + model.dec.weight.pow(2).sum())
    return rec + kl + decay


def build(workload):
    if workload == "w1":
        return KlSparseAE(), 256, (784,)
    if workload == "w2":
        sizes = [784, 1000, 500, 250, 30, 250, 500, 1000, 784]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if sizes[i + 1] != 30:
                layers.append(nn.Sigmoid())
        return nn.Sequential(*layers), 256, (784,)
    if workload == "w3":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, 2, 1, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, 2, 1, 1), nn.Sigmoid()), 128, (1, 28, 28)
    raise SystemExit("unknown workload " + workload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True, choices=["w1", "w2", "w3"])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--intra-op", type=int, default=1)
    ap.add_argument("--config", default="")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.intra_op)
    model, batch, shape = build(args.workload)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand((batch,) + shape)
    mse = nn.MSELoss()

    def step():
        opt.zero_grad(set_to_none=False)
        if args.workload == "w1":
            loss = w1_loss(model, x)
        else:
            loss = mse(model(x), x)
        loss.backward()
        opt.step()
        return loss

    warm_end = time.perf_counter() + max(0.5, args.seconds / 3)
    while time.perf_counter() < warm_end:
        step()
    steps = 0
    t0 = time.perf_counter()
    while True:
        step()
        steps += 1
        dt = time.perf_counter() - t0
        if dt >= args.seconds and steps >= 3:
            break
    print(json.dumps({"bench": "train", "workload": args.workload, "provider": "pytorch",
                      "config": args.config or ("intra_op=%d" % args.intra_op), "batch": batch,
                      "samples_per_s": round(batch * steps / dt, 1), "torch": torch.__version__}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

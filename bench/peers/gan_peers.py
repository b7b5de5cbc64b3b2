#!/usr/bin/python3
"""PyTorch peer of latent's W4 (dev.latent.workload.GanWorkload): one discriminator step plus one generator
step of the default 28x28 DCGAN on a batch of 64, float32, CPU. Same networks as dev.latent.model.gan.Gan:

  G: z(100) -> Linear(100, 128*7*7, no bias) -> (128,7,7) -> BN -> ReLU -> ConvT(128,64,4,2,1, no bias)
     -> BN -> ReLU -> ConvT(64,1,4,2,1) -> tanh
  D: Conv(1,64,4,2,1) -> LeakyReLU(0.2) -> Conv(64,128,4,2,1, no bias) -> BN -> LeakyReLU(0.2)
     -> Flatten -> Linear(6272, 1)

D step: BCEWithLogits(D(x), 1) + BCEWithLogits(D(G(z).detach()), 0), separate forward passes; G step:
fresh z, non-saturating BCEWithLogits(D(G(z)), 1); Adam(2e-4, betas (0.5, 0.999)) for each network.
Prints one JSON object per line, in the format of train_peers.py:
{"bench":"train","workload":"w4","provider":"pytorch","config":"...","batch":64,"samples_per_s":...,"steps_per_s":...}
samples/s = 64 x (D step + G step) pairs per second.

Run with Debian's python3-torch: /usr/bin/python3 bench/peers/gan_peers.py --seconds 3 --intra-op 1
(set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS in the environment before torch loads).
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn


def networks(z=100):
    g = nn.Sequential(
        nn.Linear(z, 128 * 7 * 7, bias=False), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return g, d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--intra-op", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--config", default="")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.intra_op)
    b = args.batch
    g, d = networks()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(b, 1, 28, 28) * 2 - 1
    ones = torch.ones(b, 1)
    zeros = torch.zeros(b, 1)

    def step():
        opt_d.zero_grad(set_to_none=False)
        fake = g(torch.randn(b, 100))
        loss_d = bce(d(real), ones)
        loss_d.backward()
        loss_f = bce(d(fake.detach()), zeros)
        loss_f.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=False)
        loss_g = bce(d(g(torch.randn(b, 100))), ones)
        loss_g.backward()
        opt_g.step()
        return loss_g

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
    print(json.dumps({"bench": "train", "workload": "w4", "provider": "pytorch",
                      "config": args.config or ("intra_op=%d" % args.intra_op), "batch": b,
                      "samples_per_s": round(b * steps / dt, 1), "steps_per_s": round(steps / dt, 3),
                      "torch": torch.__version__}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

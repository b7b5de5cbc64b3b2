#!/usr/bin/python3
"""PyTorch peer of `latent bench encode`: workload W5, the encoder of a latent model file (read with
json + numpy, the published safetensors format) as torch Linear layers, float32, CPU, inference mode.
Measures single-sample latency (batch 1) and batch-256 throughput; prints one JSON object per line:
{"bench":"encode","engine":"pytorch","config":"intra_op=1,openblas=2","batch":1,"us_per_call":...,"samples_per_s":...,"correct":true}

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/peers/encode_peers.py --model w5.safetensors --intra-op 1

The thread configuration comes from --intra-op and the OPENBLAS_NUM_THREADS / OMP_NUM_THREADS
environment (set before torch loads its BLAS). Before timing, the codes of the first rows are checked
against a float64 numpy recomputation (tolerance 1e-4, as latent's own check).
"""
import argparse
import json
import struct
import time

import numpy as np
import torch


def read_model(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"])
    return tensors, json.loads(meta["encoder"])


ACTIVATIONS = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
               "softplus": torch.nn.Softplus, "identity": torch.nn.Identity}


def build(tensors, spec):
    layers = []
    for s in spec:
        w = tensors[s["weight"]]
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.copy()))
            lin.bias.copy_(torch.from_numpy(tensors[s["bias"]].copy()))
        layers.append(lin)
        layers.append(ACTIVATIONS[s["activation"]]())
    return torch.nn.Sequential(*layers).eval()


def reference(tensors, spec, x):
    h = x.astype(np.float64)
    for s in spec:
        z = h @ tensors[s["weight"]].astype(np.float64).T + tensors[s["bias"]].astype(np.float64)
        h = 1 / (1 + np.exp(-z)) if s["activation"] == "sigmoid" else z
    return h


def seconds_per_call(call, seconds):
    """Median seconds per call over timed groups of >= 5 ms, after a warm-up of half the time."""
    warm_end = time.perf_counter() + seconds * 0.5
    while time.perf_counter() < warm_end:
        call()
    t0 = time.perf_counter()
    call()
    one = max(1e-7, time.perf_counter() - t0)
    per_group = int(max(1, min(1 << 20, 5e-3 / one)))
    per_call = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(per_call) < 5:
        s = time.perf_counter()
        for _ in range(per_group):
            call()
        per_call.append((time.perf_counter() - s) / per_group)
    per_call.sort()
    return per_call[len(per_call) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--intra-op", type=int, default=1)
    ap.add_argument("--config", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.intra_op)
    tensors, spec = read_model(args.model)
    model = build(tensors, spec)
    x = np.random.default_rng(7).random((256, tensors[spec[0]["weight"]].shape[1]), dtype=np.float32)
    ref = reference(tensors, spec, x[:8])
    for batch in (1, 256):
        xb = torch.from_numpy(x[:batch].copy())
        with torch.inference_mode():
            codes = model(xb).numpy()
            correct = bool(np.all(np.abs(codes[:8] - ref[:batch]) <= 1e-4))
            s = seconds_per_call(lambda: model(xb), args.seconds)
        print(json.dumps({"bench": "encode", "engine": "pytorch", "config": args.config, "batch": batch,
                          "us_per_call": round(s * 1e6, 1), "samples_per_s": round(batch / s, 1),
                          "correct": correct, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()

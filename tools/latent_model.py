#!/usr/bin/python3
"""Read and write latent model files with nothing but the published safetensors format, json and numpy.

A latent model file is safetensors: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
({"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}),
then raw little-endian float32 data. __metadata__["encoder"] lists the encoder's dense layers:
[{"type": "dense", "weight": NAME, "bias": NAME, "activation": "sigmoid"}, ...]; a layer computes
y = f(x W^T + b) with W of shape (out, in); a "shared_input_residual" layer (residual autoencoder)
computes h + f([h, x] W^T + b) from the previous output h and the encoder's input x, W of shape (m, m + n).

  /usr/bin/python3 tools/latent_model.py encode MODEL INPUT OUTPUT   # INPUT/OUTPUT: safetensors with tensor "x" / "codes"
  /usr/bin/python3 tools/latent_model.py rewrite MODEL OUTPUT       # re-write (reversed order, unpadded header)
"""
import json
import struct
import sys

import numpy as np


def read(path):
    """Returns (tensors: dict name -> float32 array, metadata: dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: dtype %s not supported" % (name, info["dtype"]))
        b, e = info["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"])
    return tensors, meta


def write(path, tensors, metadata=None, pad=True):
    """Writes tensors (in dict order) and string metadata as safetensors."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "softplus": lambda z: np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))),
    "identity": lambda z: z,
}


def activation(name):
    if name.startswith("leaky_relu"):
        slope = float(name.split(":")[1]) if ":" in name else 0.01
        return lambda z: np.where(z > 0, z, slope * z)
    return ACTIVATIONS[name]


def encode(tensors, meta, x):
    """The codes of the rows of x (float64 arithmetic, returned as float32)."""
    x = x.astype(np.float64)
    h = x
    for layer in json.loads(meta["encoder"]):
        w = tensors[layer["weight"]].astype(np.float64)
        b = tensors[layer["bias"]].astype(np.float64)
        if layer["type"] == "dense":
            h = activation(layer["activation"])(h @ w.T + b)
        elif layer["type"] == "shared_input_residual":
            # h + f(W [h; x] + b): the residual autoencoder's blocks also read the encoder's input
            h = h + activation(layer["activation"])(np.concatenate([h, x], axis=1) @ w.T + b)
        else:
            raise ValueError("unsupported layer type " + layer["type"])
    return h.astype(np.float32)


def main(argv):
    if len(argv) == 4 and argv[0] == "encode":
        tensors, meta = read(argv[1])
        inputs, _ = read(argv[2])
        write(argv[3], {"codes": encode(tensors, meta, inputs["x"])}, {"source": "tools/latent_model.py"})
    elif len(argv) == 3 and argv[0] == "rewrite":
        tensors, meta = read(argv[1])
        write(argv[2], dict(reversed(list(tensors.items()))), meta, pad=False)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])

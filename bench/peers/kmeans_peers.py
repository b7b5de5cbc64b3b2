#!/usr/bin/env python3
"""scikit-learn peers of `latent bench kmeans`: KMeans (lloyd, n_init=1) and MiniBatchKMeans on the
same rows and initial centroids latent used (raw little-endian float32 files), printing one JSON
object per line in latent's format. Time per iteration is a difference of two fits with fixed
iteration counts (tol=0), so setup (validation, norms, thread start) cancels out."""
import argparse
import json
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans, MiniBatchKMeans


def best_time(fn, repeats=2):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()
    x = np.fromfile(a.data, dtype="<f4").reshape(a.n, a.d)
    c0 = np.fromfile(a.init, dtype="<f4").reshape(a.k, a.d)
    base = {"bench": "kmeans", "k": a.k, "n": a.n, "d": a.d, "engine": "scikit-learn " + sklearn.__version__}

    def lloyd(iters):
        km = KMeans(n_clusters=a.k, init=c0, n_init=1, max_iter=iters, tol=0.0, algorithm="lloyd")
        km.fit(x)
        return km

    one = best_time(lambda: lloyd(1))
    many = best_time(lambda: lloyd(1 + a.iterations))
    km = lloyd(1 + a.iterations)
    if km.n_iter_ != 1 + a.iterations:
        raise SystemExit("scikit-learn converged after %d iterations; timing needs %d" % (km.n_iter_, 1 + a.iterations))
    print(json.dumps(dict(base, method="lloyd", ms_per_iter=round((many - one) * 1000 / a.iterations, 2),
                          inertia=float(km.inertia_))), flush=True)

    steps_per_epoch = a.n // a.batch

    def minibatch(epochs):
        mb = MiniBatchKMeans(n_clusters=a.k, init=c0, n_init=1, batch_size=a.batch, max_iter=epochs, tol=0.0,
                             max_no_improvement=None, reassignment_ratio=0.0, random_state=0, compute_labels=False)
        mb.fit(x)
        return mb

    one = best_time(lambda: minibatch(1))
    two = best_time(lambda: minibatch(2))
    print(json.dumps(dict(base, method="minibatch", batch=a.batch,
                          ms_per_iter=round((two - one) * 1000 / steps_per_epoch, 3))), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains scikit-learn's NMF (coordinate descent) on a CSR matrix written by bench/training.ts.

Usage: sklearn_nmf.py <prefix> <rows> <columns> <k> <seed> <max_iter> <tol>
                      <l1Artist> <l2Artist> <l1User> <l2User>
Reads <prefix>.indptr (int32), <prefix>.indices (int32), <prefix>.data (float32) and the shared
start <prefix>.w0 (rows x k) and <prefix>.h0 (columns x k, i.e. H transposed), float32; prints one
JSON line: seconds, objective (our absolute-penalty objective), iterations, sklearn version.

Penalties: scikit-learn scales alpha_W by n_features (users) and alpha_H by n_samples (artists),
  l1 on W = alpha_W * l1_ratio * n_features,  l2 on W = alpha_W * (1 - l1_ratio) * n_features,
and likewise for H with n_samples, so our absolute penalties become
  alpha_W = (l1Artist + l2Artist) / users,  alpha_H = (l1User + l2User) / artists,
  l1_ratio = l1 / (l1 + l2), which must be the same for both sides.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import NMF


def main() -> None:
    prefix = sys.argv[1]
    rows, columns, k, seed, max_iter = (int(x) for x in sys.argv[2:7])
    tol = float(sys.argv[7])
    l1_artist, l2_artist, l1_user, l2_user = (float(x) for x in sys.argv[8:12])

    indptr = np.fromfile(prefix + ".indptr", dtype=np.int32)
    indices = np.fromfile(prefix + ".indices", dtype=np.int32)
    data = np.fromfile(prefix + ".data", dtype=np.float32)
    matrix = sp.csr_matrix((data, indices, indptr), shape=(rows, columns))
    w0 = np.fromfile(prefix + ".w0", dtype=np.float32).reshape(rows, k)
    h0 = np.ascontiguousarray(np.fromfile(prefix + ".h0", dtype=np.float32).reshape(columns, k).T)

    total_artist = l1_artist + l2_artist
    total_user = l1_user + l2_user
    ratio_artist = l1_artist / total_artist if total_artist > 0 else None
    ratio_user = l1_user / total_user if total_user > 0 else None
    if ratio_artist is not None and ratio_user is not None and abs(ratio_artist - ratio_user) > 1e-12:
        sys.exit("scikit-learn needs the same L1/L2 ratio on both factors")
    l1_ratio = ratio_artist if ratio_artist is not None else (ratio_user or 0.0)

    model = NMF(
        n_components=k,
        init="custom",
        solver="cd",
        tol=tol,
        max_iter=max_iter,
        random_state=seed,
        alpha_W=total_artist / columns,
        alpha_H=total_user / rows,
        l1_ratio=l1_ratio,
    )
    started = time.perf_counter()
    w = model.fit_transform(matrix, W=w0, H=h0)
    seconds = time.perf_counter() - started
    h = model.components_.astype(np.float64)
    w = w.astype(np.float64)

    # 0.5 ||X - W H||^2 = 0.5 (||X||^2 - 2 <X, W H> + tr((W^T W)(H H^T))), never dense.
    x = matrix.astype(np.float64)
    cells = x.tocoo()
    predicted = np.einsum("ij,ji->i", w[cells.row], h[:, cells.col])
    cross = float(cells.data @ predicted)
    fit = 0.5 * (float(x.multiply(x).sum()) - 2 * cross + float(np.sum((w.T @ w) * (h @ h.T))))
    penalties = (l1_artist * w.sum() + 0.5 * l2_artist * np.sum(w * w)
                 + l1_user * h.sum() + 0.5 * l2_user * np.sum(h * h))
    print(json.dumps({
        "seconds": seconds,
        "objective": fit + float(penalties),
        "iterations": int(model.n_iter_),
        "version": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()

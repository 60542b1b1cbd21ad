"""Anchor graph hashing (AGH), one- and two-layer: graph Laplacian eigenfunctions through anchors."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features
from hashkit.shallow.sph import squared_distances

# Eigenvalues of the reduced matrix at or below this carry no graph structure (and would blow up
# through the sigma^-1/2 scaling); the eigenfunctions behind them are not used.
_EIGENVALUE_FLOOR = 1e-9


def kmeans_centres(features: np.ndarray, n_clusters: int, n_iterations: int, seed: int) -> np.ndarray:
    """``n_clusters`` k-means centres by ``n_iterations`` Lloyd steps from distinct random items.

    A centre that loses all its items keeps its position, so there are always ``n_clusters``.
    """
    rng = np.random.default_rng(seed)
    centres = features[rng.choice(len(features), size=n_clusters, replace=False)]
    rows = np.arange(len(features))
    feature_norms = np.square(features).sum(axis=1)
    for _ in range(n_iterations):
        assignment = squared_distances(features, centres, feature_norms).argmin(axis=1)
        membership = sparse.csr_matrix(
            (np.ones(len(features)), (assignment, rows)), shape=(n_clusters, len(features))
        )
        counts = np.asarray(membership.sum(axis=1)).ravel()
        sums = membership @ features
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


def nearest_anchors(features: np.ndarray, anchors: np.ndarray, n_nearest: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(n, n_nearest)`` of each item's nearest anchors and the squared distances to them."""
    squared = np.clip(squared_distances(features, anchors), 0.0, None)
    indices = np.argpartition(squared, n_nearest - 1, axis=1)[:, :n_nearest]
    return indices, np.take_along_axis(squared, indices, axis=1)


def anchor_weights(squared: np.ndarray, bandwidth: float) -> np.ndarray:
    """Row-normalised Gaussian weights ``exp(-D^2 / t) / sum exp(-D^2 / t)`` over the nearest anchors."""
    # Shifting by the row minimum leaves the normalised weights unchanged but keeps the nearest
    # anchor's kernel at 1, so a far-away item cannot underflow to an all-zero row.
    kernel = np.exp(-(squared - squared.min(axis=1, keepdims=True)) / bandwidth)
    return kernel / kernel.sum(axis=1, keepdims=True)


def anchor_matrix(indices: np.ndarray, weights: np.ndarray, n_anchors: int) -> sparse.csr_matrix:
    """The sparse ``(n, n_anchors)`` matrix ``Z`` with the weights at the nearest anchors."""
    n_items, n_nearest = indices.shape
    rows = np.repeat(np.arange(n_items), n_nearest)
    return sparse.csr_matrix((weights.ravel(), (rows, indices.ravel())), shape=(n_items, n_anchors))


def spectral_projection(z: sparse.csr_matrix, n_functions: int) -> np.ndarray:
    """The ``(m, n_functions)`` matrix ``W`` with ``Y = Z W`` the anchor graph's eigenfunctions.

    The anchor graph ``A = Z Lambda^-1 Z^T`` (``Lambda = diag(Z^T 1)``) shares its nonzero
    eigenvalues with the ``m x m`` matrix ``M = Lambda^-1/2 Z^T Z Lambda^-1/2``: for an eigenpair
    ``(sigma, v)`` of ``M``, ``y = Z Lambda^-1/2 v / sqrt(sigma)`` is an eigenvector of ``A``.
    ``M``'s top eigenvector ``Lambda^1/2 1`` (eigenvalue 1) gives the constant vector, useless as a
    bit, so it is projected out before the eigensolve; the next ``n_functions`` follow, scaled by
    ``sqrt(n)`` so that ``Y^T Y = n I``. A ``ValueError`` names ``n_bits`` when the graph has too
    few informative eigenvalues.
    """
    degrees = np.asarray(z.sum(axis=0)).ravel()
    inverse_root = 1.0 / np.sqrt(degrees)
    reduced = (z.T @ z).toarray() * inverse_root[:, None] * inverse_root[None, :]
    trivial = np.sqrt(degrees) / np.linalg.norm(np.sqrt(degrees))
    eigenvalues, eigenvectors = np.linalg.eigh(reduced - np.outer(trivial, trivial))
    order = np.argsort(eigenvalues)[::-1][:n_functions]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    usable = int((eigenvalues > _EIGENVALUE_FLOOR).sum())
    if usable < n_functions:
        raise ValueError(
            f"n_bits: the anchor graph has only {usable} informative eigenfunctions, fewer than the "
            f"{n_functions} needed; use fewer bits or more anchors"
        )
    return np.sqrt(z.shape[0]) * inverse_root[:, None] * eigenvectors / np.sqrt(eigenvalues)


def second_layer_thresholds(embedding: np.ndarray, z: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds ``(b_plus, b_minus)`` of the second layer, one per eigenfunction (column of ``Y``).

    The second bit of an item is ``sign(y - b_plus)`` where the first is +1 and
    ``sign(-y + b_minus)`` where it is -1; relaxed, it is ``u = |y| - c`` with ``c = b_plus`` on
    the positive side and ``-b_minus`` on the negative side. The thresholds minimise the relaxed
    cut ``u^T (I - A) u`` of that bit over the anchor graph ``A = Z Lambda^-1 Z^T`` subject to
    the bit being balanced (``1^T u = 0``). Since ``y`` is orthogonal to ``1`` and ``A 1 = 1`` the
    minimiser is closed-form: with ``n+``, ``n-`` the sizes of the two sides, ``e`` the
    indicator of the positive side, ``s = e^T y``, ``q = e^T A |y|`` and ``r = n+ - e^T A e``,
    ``tau = (s - q) / r``, ``b_plus = (2 s + n- tau) / n`` and ``b_minus = (n+ tau - 2 s) / n``.
    """
    n_items = len(embedding)
    positive = (embedding >= 0).astype(np.float64)
    inverse_degrees = 1.0 / np.asarray(z.sum(axis=0)).ravel()
    z_positive = z.T @ positive
    positive_sums = (embedding * positive).sum(axis=0)
    cut_to_magnitude = (z_positive * (z.T @ np.abs(embedding)) * inverse_degrees[:, None]).sum(axis=0)
    n_positive = positive.sum(axis=0)
    # A positive side with no edge leaving it (r = 0) has no cut to minimise: keep tau = 0.
    within_positive = n_positive - (z_positive * z_positive * inverse_degrees[:, None]).sum(axis=0)
    tau = np.divide(
        positive_sums - cut_to_magnitude, within_positive,
        out=np.zeros(embedding.shape[1]), where=within_positive > _EIGENVALUE_FLOOR,
    )
    b_plus = (2 * positive_sums + (n_items - n_positive) * tau) / n_items
    b_minus = (n_positive * tau - 2 * positive_sums) / n_items
    return b_plus, b_minus


class AGH(ShallowHasher):
    """Anchor graph hashing {cite}`liu2011agh`, one-layer (1-AGH) and two-layer (2-AGH).

    Objective: spectral hashing on the data's own neighbourhood graph: codes minimising
    ``sum_ij A_ij ||y_i - y_j||^2`` under balanced, uncorrelated bits, whose relaxed solution is
    the graph Laplacian's eigenvectors. An exact kNN graph costs ``O(n^2)``; AGH replaces it with
    the low-rank *anchor graph* ``A = Z Lambda^-1 Z^T``. Algorithm: ``n_anchors`` k-means centres
    are the anchors; ``Z`` holds, for each item, Gaussian weights ``exp(-D^2 / t)`` to its
    ``n_nearest_anchors`` nearest anchors normalised to sum to 1 (other entries 0); the
    eigenvectors of ``A`` come from the ``m x m`` matrix ``Lambda^-1/2 Z^T Z Lambda^-1/2`` (see
    :func:`spectral_projection`) as ``Y = Z W``, and the same ``W`` gives the eigenfunction of a
    new item through its own ``z(x)``: ``y(x) = W^T z(x)``. One layer: ``n_bits``
    eigenfunctions, each thresholded at 0. Two layers: ``n_bits / 2`` eigenfunctions give two bits
    each, the sign and a second threshold per side of 0 (see :func:`second_layer_thresholds`), so
    the low eigenfunctions are used twice instead of reaching for noisy high ones.

    Defaults: ``m = 300`` anchors and ``s = 2`` nearest anchors as in the paper; the bandwidth
    ``t = sigma^2`` with ``sigma`` the mean distance from a training item to its ``s``-th nearest
    anchor, as in the authors' release. The anchors are found by ``kmeans_iterations`` Lloyd
    steps from random training items (``seed``): anchors only need to cover the data. ``n_bits``
    is at most ``n_anchors - 1`` (one layer) or an even number up to ``2 (n_anchors - 1)``
    (two layers).
    """

    def __init__(
        self,
        n_bits: int,
        n_anchors: int = 300,
        n_nearest_anchors: int = 2,
        layers: int = 1,
        kmeans_iterations: int = 5,
        seed: int = 0,
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.n_nearest_anchors = check_positive_int(n_nearest_anchors, "n_nearest_anchors")
        self.kmeans_iterations = check_positive_int(kmeans_iterations, "kmeans_iterations")
        if layers not in (1, 2):
            raise ValueError(f"layers: expected 1 or 2, got {layers!r}")
        if layers == 2 and n_bits % 2:
            raise ValueError(
                f"n_bits: two-layer AGH gives two bits per eigenfunction, so n_bits must be even, got {n_bits}"
            )
        if self.n_nearest_anchors > self.n_anchors:
            raise ValueError(
                f"n_nearest_anchors: {n_nearest_anchors} nearest anchors out of only {n_anchors} anchors"
            )
        n_functions = self.n_bits // layers
        if n_functions > self.n_anchors - 1:
            raise ValueError(
                f"n_bits: {layers}-layer AGH with {n_anchors} anchors has at most {n_anchors - 1} "
                f"eigenfunctions, so n_bits can be at most {layers * (n_anchors - 1)}, got {n_bits}"
            )
        self.layers = layers
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> AGH:
        """Learn the anchors, the bandwidth, the projection ``W`` (and thresholds); ``labels`` are ignored."""
        features = check_features(features)
        if self.n_anchors > len(features):
            raise ValueError(
                f"n_anchors: {self.n_anchors} anchors need at least as many items, got {len(features)}"
            )
        anchors = kmeans_centres(features, self.n_anchors, self.kmeans_iterations, self.seed)
        indices, squared = nearest_anchors(features, anchors, self.n_nearest_anchors)
        bandwidth = float(np.sqrt(squared.max(axis=1)).mean() ** 2)
        if bandwidth == 0.0:
            raise ValueError("features: every item coincides with its anchors; AGH needs spread data")
        # An anchor no training item is near has no degree; dropping it changes no row of Z.
        used = np.unique(indices)
        remap = np.full(self.n_anchors, -1)
        remap[used] = np.arange(len(used))
        z = anchor_matrix(remap[indices], anchor_weights(squared, bandwidth), len(used))
        projection = spectral_projection(z, self.n_bits // self.layers)
        if self.layers == 2:
            self.thresholds_ = second_layer_thresholds(np.asarray(z @ projection), z)
        self.anchors_ = anchors[used]
        self.bandwidth_ = bandwidth
        self.projection_ = projection
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``; two layers give ``[first | second]``."""
        self._check_fitted("anchors_", "bandwidth_", "projection_")
        features = check_features(features, n_dims=self.anchors_.shape[1])
        indices, squared = nearest_anchors(features, self.anchors_, self.n_nearest_anchors)
        weights = anchor_weights(squared.astype(np.float64), self.bandwidth_)
        embedding = np.einsum("ns,nsk->nk", weights, self.projection_[indices])
        if self.layers == 1:
            return sign(embedding)
        b_plus, b_minus = self.thresholds_
        second = np.where(embedding >= 0, embedding - b_plus, b_minus - embedding)
        return np.hstack([sign(embedding), sign(second)])

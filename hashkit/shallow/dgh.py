"""Discrete graph hashing (DGH): binary codes that maximise an anchor graph's affinity directly."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from hashkit.checks import check_non_negative, check_non_negative_int, check_positive_int
from hashkit.codes import sign
from hashkit.shallow.agh import AGH, anchor_matrix, anchor_weights, nearest_anchors
from hashkit.shallow.base import ShallowHasher, check_features

INITIALIZATIONS = ("I", "R")
# Eigenvalues of (JB)^T JB at or below this fraction of the largest count as zero: the rank of JB.
_RANK_TOLERANCE = 1e-10


class AnchorGraph:
    """The anchor graph ``A = Z Lambda^-1 Z^T`` of ``Z`` (``n x m``, rows summing to 1), kept low-rank.

    ``A`` is never formed: ``A M = Z (Lambda^-1 (Z^T M))`` costs ``O(n s r)`` for ``s`` nonzeros
    per row of ``Z``. ``A`` is symmetric positive semi-definite with rows summing to 1.
    """

    def __init__(self, z: sparse.csr_matrix) -> None:
        self.z = sparse.csr_matrix(z, dtype=np.float64)
        self.degrees = np.asarray(self.z.sum(axis=0)).ravel()
        if (self.degrees <= 0).any():
            raise ValueError("z: every anchor needs a positive degree (a column of Z summing to more than 0)")

    def times(self, matrix: np.ndarray) -> np.ndarray:
        """``A @ matrix``."""
        return np.asarray(self.z @ ((self.z.T @ matrix) / self.degrees[:, None]))

    def dense(self) -> np.ndarray:
        """``A`` as a dense ``(n, n)`` array (for small graphs and checks only)."""
        z = self.z.toarray()
        return (z / self.degrees) @ z.T


def signed_gradient_step(graph: AnchorGraph, codes: np.ndarray, target: np.ndarray, rho: float) -> np.ndarray:
    """One step of DGH's signed gradient method for ``max_B tr(B^T A B) + rho tr(Y^T B)``.

    The gradient at ``B`` is ``2 A B + rho Y``; the step takes its sign, and where an entry of the
    gradient is exactly 0 it keeps the current bit (the paper's ``C(x, y)``: ``x`` unless ``x = 0``).
    Because ``A`` is positive semi-definite the objective is convex in ``B``, so it lies above its
    linearisation and the step can only raise it.
    """
    gradient = 2.0 * graph.times(codes) + rho * target
    return np.where(gradient > 0, 1.0, np.where(gradient < 0, -1.0, codes))


def nearest_balanced_uncorrelated(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """DGH's Y-step: ``argmax_Y tr(B^T Y)`` over ``Y`` with ``1^T Y = 0`` and ``Y^T Y = n I``.

    With ``J = I - 11^T / n`` and the thin SVD ``J B = U Sigma V^T`` of rank ``r'``, the maximiser is
    ``Y = sqrt(n) [U Ubar] [V Vbar]^T``: ``Vbar`` completes ``V`` to an orthonormal basis of
    ``R^r`` and ``Ubar`` holds ``r - r'`` orthonormal columns orthogonal to ``U`` and to ``1``
    (drawn at random from ``rng``, then orthogonalised). ``V`` and ``Sigma^2`` come from the
    ``r x r`` eigenproblem of ``(J B)^T J B``, and ``U = J B V Sigma^-1``. At full rank ``Y`` is
    unique, ``sqrt(n) J B ((J B)^T J B)^(-1/2)``, and ``tr(B^T Y) = sqrt(n) sum(Sigma)``.
    """
    codes = np.asarray(codes, dtype=np.float64)
    n_items, n_bits = codes.shape
    if n_items <= n_bits:
        raise ValueError(f"codes: the Y-step needs more items than bits, got {n_items} items and {n_bits} bits")
    centred = codes - codes.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    largest = eigenvalues[0] if len(eigenvalues) else 0.0
    rank = int((eigenvalues > _RANK_TOLERANCE * max(largest, 1.0)).sum())
    left = centred @ eigenvectors[:, :rank] / np.sqrt(eigenvalues[:rank])
    if rank < n_bits:
        known = np.hstack([np.full((n_items, 1), 1.0 / np.sqrt(n_items)), left])
        fill = rng.standard_normal((n_items, n_bits - rank))
        for _ in range(2):  # twice, so that rounding leaves nothing along the known columns
            fill -= known @ (known.T @ fill)
            fill, _ = np.linalg.qr(fill)
        left = np.hstack([left, fill])
    return np.sqrt(n_items) * left @ eigenvectors.T


class DGH(ShallowHasher):
    """Discrete graph hashing {cite}`liu2014dgh`.

    Objective: the graph-hashing problem of spectral hashing on the anchor graph
    ``A = Z Lambda^-1 Z^T`` of :class:`~hashkit.shallow.agh.AGH`, ``max tr(B^T A B)`` over
    ``B in {-1, 1}^(n x r)``, but with the balance (``1^T B = 0``) and decorrelation
    (``B^T B = n I``) constraints softened into a penalty on the distance from ``B`` to the set
    ``Omega`` of balanced, uncorrelated real matrices. That gives
    ``max_{B, Y} Q(B, Y) = tr(B^T A B) + rho tr(B^T Y)`` with ``B`` binary and ``Y in Omega``,
    solved without relaxing ``B``.

    Algorithm (alternating maximisation, each half-step non-decreasing in ``Q``): the B-step runs
    the signed gradient method ``B <- sgn(2 A B + rho Y)`` (a zero gradient entry keeps its bit;
    :func:`signed_gradient_step`) for at most ``n_b_iterations`` steps or until ``B`` stops
    changing; the Y-step is the closed form of :func:`nearest_balanced_uncorrelated` (an SVD of
    the centred ``B``). At most ``n_outer_iterations`` rounds, fewer once ``Q`` rises by less than
    ``tolerance`` (relative); ``objective_history_`` holds ``Q`` after each round.

    Start: the ``r`` leading non-trivial eigenvectors ``H`` of ``A`` (AGH's, with their
    eigenvalues ``Theta``). ``initialization="I"`` (DGH-I) takes ``Y_0 = sqrt(n) H`` and
    ``B_0 = sgn(H)``; ``"R"`` (DGH-R) rotates them first, maximising ``tr(R^T Theta H^T B_0)``
    over orthogonal ``R`` and binary ``B_0`` by alternating ``B_0 = sgn(H Theta R)`` and
    ``R = U V^T`` from the SVD of ``Theta H^T B_0`` (from ``R = I``, ``n_rotation_iterations`` at
    most), then ``Y_0 = sqrt(n) H R``. Out of sample, the code minimises the graph-weighted
    Hamming distance to the training codes: ``b(x) = sgn(B^T Z Lambda^-1 z(x))``, a product with
    an ``(m, r)`` matrix over the ``s`` nearest anchors of ``x``.

    Defaults: anchors, ``s`` and bandwidth as :class:`~hashkit.shallow.agh.AGH` computes them, with
    ``m = 300`` anchors and ``s = 3`` nearest anchors; at most 100 rotation, 300 signed-gradient and
    20 outer iterations; DGH-R. ``rho = 1`` is ours (the paper's experimental value could not be
    read here): the entries of ``2 A B`` lie in ``[-2, 2]`` and those of ``Y`` are about ±1, and a
    much smaller ``rho`` lets the B-step drift towards constant bits, which maximise
    ``tr(B^T A B)`` (on unclustered Gaussian data, ``rho = 0.1`` left bits 99 % one-sided, ``rho = 1``
    kept every bit within 37 %). ``n_bits`` is at most ``n_anchors - 1``, and a graph with fewer
    informative eigenvectors than ``n_bits`` is an error naming ``n_bits``.
    """

    def __init__(
        self,
        n_bits: int,
        n_anchors: int = 300,
        n_nearest_anchors: int = 3,
        rho: float = 1.0,
        initialization: str = "R",
        n_rotation_iterations: int = 100,
        n_b_iterations: int = 300,
        n_outer_iterations: int = 20,
        tolerance: float = 1e-6,
        kmeans_iterations: int = 5,
        seed: int = 0,
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.n_nearest_anchors = check_positive_int(n_nearest_anchors, "n_nearest_anchors")
        if self.n_nearest_anchors > self.n_anchors:
            raise ValueError(f"n_nearest_anchors: {n_nearest_anchors} nearest anchors out of only {n_anchors} anchors")
        if self.n_bits > self.n_anchors - 1:
            raise ValueError(
                f"n_bits: DGH with {n_anchors} anchors has at most {n_anchors - 1} graph eigenvectors to start "
                f"from, so n_bits can be at most {n_anchors - 1}, got {n_bits}"
            )
        self.rho = check_non_negative(rho, "rho")
        if initialization not in INITIALIZATIONS:
            raise ValueError(f"initialization: expected 'I' (DGH-I) or 'R' (DGH-R), got {initialization!r}")
        self.initialization = initialization
        self.n_rotation_iterations = check_non_negative_int(n_rotation_iterations, "n_rotation_iterations")
        self.n_b_iterations = check_positive_int(n_b_iterations, "n_b_iterations")
        self.n_outer_iterations = check_positive_int(n_outer_iterations, "n_outer_iterations")
        self.tolerance = check_non_negative(tolerance, "tolerance")
        self.kmeans_iterations = check_positive_int(kmeans_iterations, "kmeans_iterations")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> DGH:
        """Learn the anchor graph, the training codes ``codes_`` and the out-of-sample projection;
        ``labels`` are ignored."""
        features = check_features(features)
        if len(features) <= self.n_bits:
            raise ValueError(f"features: DGH needs more items than bits, got {len(features)} items")
        # AGH finds the anchors, the bandwidth and the graph's leading eigenfunctions (Y = Z W).
        spectral = AGH(self.n_bits, self.n_anchors, self.n_nearest_anchors, layers=1,
                       kmeans_iterations=self.kmeans_iterations, seed=self.seed).fit(features)
        z = self._anchor_matrix(features, spectral.anchors_, spectral.bandwidth_)
        graph = AnchorGraph(z)
        embedding = np.asarray(z @ spectral.projection_)  # sqrt(n) H, with H^T H = I
        codes, target = self._start(graph, embedding)
        rng = np.random.default_rng(self.seed)
        history = [self._objective(graph, codes, target)]
        for _ in range(self.n_outer_iterations):
            for _ in range(self.n_b_iterations):
                updated = signed_gradient_step(graph, codes, target, self.rho)
                if np.array_equal(updated, codes):
                    break
                codes = updated
            target = nearest_balanced_uncorrelated(codes, rng)
            history.append(self._objective(graph, codes, target))
            if history[-1] - history[-2] <= self.tolerance * abs(history[-2]):
                break
        self.anchors_ = spectral.anchors_
        self.bandwidth_ = spectral.bandwidth_
        self.codes_ = codes.astype(np.int8)
        self.target_ = target
        self.objective_history_ = np.array(history)
        self.projection_ = np.asarray(z.T @ codes) / graph.degrees[:, None]  # (B^T Z Lambda^-1)^T
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sgn(B^T Z Lambda^-1 z(x))`` of ``features``."""
        self._check_fitted("anchors_", "bandwidth_", "projection_")
        features = check_features(features, n_dims=self.anchors_.shape[1])
        indices, squared = nearest_anchors(features, self.anchors_, self.n_nearest_anchors)
        weights = anchor_weights(squared.astype(np.float64), self.bandwidth_)
        return sign(np.einsum("ns,nsk->nk", weights, self.projection_[indices]))

    def _anchor_matrix(self, features: np.ndarray, anchors: np.ndarray, bandwidth: float) -> sparse.csr_matrix:
        indices, squared = nearest_anchors(features, anchors, self.n_nearest_anchors)
        return anchor_matrix(indices, anchor_weights(squared.astype(np.float64), bandwidth), len(anchors))

    def _start(self, graph: AnchorGraph, embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(B_0, Y_0)`` of DGH-I or DGH-R from ``sqrt(n) H``."""
        if self.initialization == "I":
            return sign(embedding).astype(np.float64), embedding
        n_items = len(embedding)
        eigenvalues = np.einsum("nk,nk->k", embedding, graph.times(embedding)) / n_items  # A H = H Theta
        rotation = np.eye(self.n_bits)
        scaled = embedding * eigenvalues  # sqrt(n) H Theta; the factor sqrt(n) leaves every sign alone
        codes = sign(scaled @ rotation).astype(np.float64)
        for _ in range(self.n_rotation_iterations):
            u, _, v_t = np.linalg.svd(scaled.T @ codes)
            rotation = u @ v_t
            updated = sign(scaled @ rotation).astype(np.float64)
            if np.array_equal(updated, codes):
                break
            codes = updated
        return codes, embedding @ rotation

    def _objective(self, graph: AnchorGraph, codes: np.ndarray, target: np.ndarray) -> float:
        return float(np.sum(codes * graph.times(codes)) + self.rho * np.sum(codes * target))

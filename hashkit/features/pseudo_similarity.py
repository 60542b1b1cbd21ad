"""Pseudo-similarities of the training items, built once from features, for unsupervised deep hashing.

Two unsupervised deep methods train on pairwise targets that they compute from features of the
training images before training starts (the authors use the relu7/fc7 features of a network
pre-trained on ImageNet); labels never enter.

* :func:`ssdh_similarity` — SSDH {cite}`yang2018ssdh`: the cosine distances of all pairs
  are split about the peak of their histogram into two half Gaussians; a pair well inside the left
  tail is similar (+1), well inside the right tail dissimilar (−1), and the rest unknown (0).
  Returns :class:`SSDHTargets`.
* :func:`mls3rduh_similarity` — MLS³RDUH {cite}`tu2020mls3rduh`: the cosine, ``2c − 1``,
  corrected by the neighbourhood structure: a cosine neighbour that is also a neighbour on the data
  manifold is +1, one that is not is −1. Returns :class:`ManifoldTargets`.
* :func:`manifold_similarity_blocks`, :func:`manifold_similarity` — MLS³RDUH's manifold
  similarity ``(1 − α)(I − α D^{-½} A D^{-½})^{-1}`` of a graph, a block of rows at a time.

Neither stores a dense float ``n × n`` matrix: each returns an object whose ``batch(positions)``
gives the ``(B, B)`` float targets of a batch of training positions, which is what the methods in
:mod:`hashkit.deep.methods.ssdh` and :mod:`hashkit.deep.methods.mls3rduh` read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
from scipy import linalg, sparse

from hashkit.checks import check_non_negative, check_positive, check_positive_int
from hashkit.features.neighbourhood import nearest_neighbours

SOLVERS = ("cholesky", "cg")


def _unit_rows(features: np.ndarray) -> np.ndarray:
    """``features`` with each row scaled to unit length: float64 if given float64, else float32.

    A ``ValueError`` naming ``features`` when it is not a finite numeric 2-D array of at least two
    rows, or a row is all zeros (its cosine with anything is undefined).
    """
    features = np.asarray(features)
    if features.ndim != 2 or len(features) < 2 or not np.issubdtype(features.dtype, np.number):
        raise ValueError(f"features: expected a numeric (n_items >= 2, n_dims) array, got {features.dtype} "
                         f"{features.shape}")
    points = features.astype(np.float64 if features.dtype == np.float64 else np.float32)
    if not np.isfinite(points).all():
        raise ValueError("features: contains NaN or infinite values")
    norms = np.linalg.norm(points, axis=1)
    if (norms == 0).any():
        raise ValueError(f"features: row {int(np.flatnonzero(norms == 0)[0])} is all zeros, so its cosine with any "
                         "other item is undefined")
    return points / norms[:, None].astype(points.dtype)


def _positions(positions: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(positions, torch.Tensor):
        positions = positions.detach().cpu().numpy()
    return np.asarray(positions, dtype=np.int64)


# --- SSDH ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SSDHTargets:
    """SSDH's similarity of the training items (see :func:`ssdh_similarity`), and how it was set.

    Attributes:
        signs: ``(n, n)`` int8: +1 similar, −1 dissimilar, 0 unknown; symmetric. Item ``i`` is
            position ``i`` of the features given (the training split's order).
        histogram: the distances in each bin, as fitted: ordered pairs ``(i, j)``, each pair of
            distinct items twice (as the authors' code counts them); ``edges``: the ``bins + 1`` edges.
        peak: ``m*``, the left edge of the fullest bin; both fitted means equal it (mirroring).
        left_std, right_std: ``σ_l`` and ``σ_r`` of the mirrored halves (NaN for an empty half).
        similar_below, dissimilar_above: the thresholds ``m* − α σ_l`` and ``m* + β σ_r`` on the
            cosine distance (−inf and +inf when the half they come from is empty).
    """

    signs: np.ndarray
    histogram: np.ndarray
    edges: np.ndarray
    peak: float
    left_std: float
    right_std: float
    similar_below: float
    dissimilar_above: float

    @property
    def n_items(self) -> int:
        return len(self.signs)

    def batch(self, positions: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``(B, B)`` float32 targets of the training items at ``positions``: +1, −1 or 0 (unknown)."""
        chosen = _positions(positions)
        return torch.from_numpy(self.signs[np.ix_(chosen, chosen)].astype(np.float32))

    def pair_counts(self) -> dict[str, int]:
        """How many unordered pairs of distinct items are similar, dissimilar and unknown."""
        diagonal = np.diagonal(self.signs)
        similar, dissimilar = -int(np.count_nonzero(diagonal == 1)), -int(np.count_nonzero(diagonal == -1))
        for start in range(0, self.n_items, 1024):  # a block of rows at a time: no n × n temporary
            rows = self.signs[start:start + 1024]
            similar += int(np.count_nonzero(rows == 1))
            dissimilar += int(np.count_nonzero(rows == -1))
        similar, dissimilar = similar // 2, dissimilar // 2
        return {"similar": similar, "dissimilar": dissimilar,
                "unknown": self.n_items * (self.n_items - 1) // 2 - similar - dissimilar}


def _distance_blocks(unit: np.ndarray, block_rows: int) -> Iterator[tuple[slice, np.ndarray]]:
    """Row blocks of the cosine distances ``1 − cos`` of all pairs, float64, with exact zeros on the diagonal."""
    n_items = len(unit)
    for start in range(0, n_items, block_rows):
        rows = slice(start, min(start + block_rows, n_items))
        distances = 1.0 - (unit[rows] @ unit.T).astype(np.float64)
        np.clip(distances, 0.0, 2.0, out=distances)
        local = np.arange(rows.stop - rows.start)
        distances[local, start + local] = 0.0
        yield rows, distances


def ssdh_similarity(features: np.ndarray, bins: int = 100, alpha: float = 2.0, beta: float = 2.0, *,
                    histogram_range: tuple[float, float] = (0.0, 1.0), self_pairs: bool = False,
                    block_rows: int = 256) -> SSDHTargets:
    """SSDH's semantic structure (§3.1) of the items whose ``features`` (rows) are given.

    1. The cosine distances ``d = 1 − cos`` of all pairs are histogrammed in ``bins`` equal bins on
       ``histogram_range``; ``m*`` is the left edge of the fullest bin (the first, on ties).
    2. The distances ``d ≤ m*`` are mirrored about ``m*`` and a Gaussian is fitted to them and their
       mirror images (maximum likelihood); so are the distances ``d > m*``. Mirroring makes both
       means ``m*`` exactly, and ``σ²`` the mean of ``(d − m*)²`` over the half.
    3. ``S_ij = +1`` if ``d_ij < m* − α σ_l``, ``−1`` if ``d_ij > m* + β σ_r``, else 0 (unknown:
       the loss ignores the pair).

    Defaults are the authors' (``main.py``): 100 bins, α = β = 2. As in that code:

    * the histogram spans [0, 1], the range of cosine distances between non-negative features
      such as relu7; distances above 1 (features with negative entries) are left out of the
      histogram but enter the fit of the right half; ``histogram_range=(0, 2)`` covers them all;
    * the diagonal follows the rule like any pair: ``d_ii = 0``, so ``S_ii = +1`` whenever the
      lower threshold is above 0.

    Where the code and the paper part, the paper is followed and the code is a switch: the paper
    fits the distances of point pairs, the code the full ``n × n`` distance matrix, its ``n`` zero
    self-distances included. Here the fit uses the pairs of distinct items (each counted twice, as
    there, which changes nothing), and ``self_pairs=True`` adds the self-distances as the code
    does. It matters only for small ``n``: the zeros widen ``σ_l``.

    Storage: ``signs`` is a dense int8 ``n × n`` matrix, ``n²`` bytes: 16 MB at n = 4,000, 110 MB at
    n = 10,500. A sparse matrix would store each nonzero in 5 bytes (a 4-byte column index and the
    value), smaller only while fewer than a fifth of the pairs are ±1; how many are depends on the
    data and on α and β (at α = β = 0 every pair is ±1), so the dense int8 matrix bounds memory
    whatever the data, and a batch is a plain index into it. No float ``n × n`` matrix is ever
    held: the distances are computed ``block_rows`` rows at a time, twice (once for the
    histogram and the fits, once for the thresholds).

    Raises ``ValueError`` naming ``features``, ``bins``, ``alpha``, ``beta``, ``histogram_range``,
    ``self_pairs`` or ``block_rows`` when it is out of range.
    """
    unit = _unit_rows(features)
    bins = check_positive_int(bins, "bins")
    alpha = check_non_negative(alpha, "alpha")
    beta = check_non_negative(beta, "beta")
    block_rows = check_positive_int(block_rows, "block_rows")
    if not isinstance(self_pairs, bool):
        raise ValueError(f"self_pairs: expected True or False, got {self_pairs!r}")
    try:
        low, high = (float(value) for value in histogram_range)
    except (TypeError, ValueError):
        raise ValueError(f"histogram_range: expected (low, high), got {histogram_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"histogram_range: expected finite low < high, got {histogram_range!r}")

    edges = np.linspace(low, high, bins + 1)
    histogram = np.zeros(bins, dtype=np.int64)
    # Moments of the distances by cell: cell c holds the d with exactly c edges below them
    # (searchsorted, side="left"), so that "d ≤ edges[k]" is "cell ≤ k" for any k, found after the pass.
    count = np.zeros(bins + 2)
    total = np.zeros(bins + 2)
    squares = np.zeros(bins + 2)
    for rows, distances in _distance_blocks(unit, block_rows):
        off_diagonal = np.ones(distances.shape, dtype=bool)
        local = np.arange(rows.stop - rows.start)
        off_diagonal[local, rows.start + local] = self_pairs
        values = distances[off_diagonal]
        bin_index = np.searchsorted(edges, values, side="right") - 1
        bin_index[values == high] = bins - 1  # the last bin is closed, as numpy's histogram
        inside = (bin_index >= 0) & (bin_index < bins)
        histogram += np.bincount(bin_index[inside], minlength=bins)
        cell = np.searchsorted(edges, values, side="left")
        count += np.bincount(cell, minlength=bins + 2)
        total += np.bincount(cell, weights=values, minlength=bins + 2)
        squares += np.bincount(cell, weights=values * values, minlength=bins + 2)

    fullest = int(np.argmax(histogram))
    peak = float(edges[fullest])

    def half_std(cells: slice) -> float:
        items = count[cells].sum()
        if items == 0:
            return math.nan
        # Σ (d − m*)² = Σ d² − 2 m* Σ d + m*² · items
        spread = squares[cells].sum() - 2 * peak * total[cells].sum() + peak * peak * items
        return math.sqrt(max(spread, 0.0) / items)

    left_std = half_std(slice(0, fullest + 1))
    right_std = half_std(slice(fullest + 1, None))
    similar_below = -math.inf if math.isnan(left_std) else peak - alpha * left_std
    dissimilar_above = math.inf if math.isnan(right_std) else peak + beta * right_std

    signs = np.zeros((len(unit), len(unit)), dtype=np.int8)
    for rows, distances in _distance_blocks(unit, block_rows):
        block = signs[rows]
        block[distances < similar_below] = 1
        block[distances > dissimilar_above] = -1
    return SSDHTargets(signs=signs, histogram=histogram, edges=edges, peak=peak, left_std=left_std,
                       right_std=right_std, similar_below=similar_below, dissimilar_above=dissimilar_above)


# --- MLS³RDUH -----------------------------------------------------------------------------------

def _check_adjacency(adjacency: sparse.spmatrix | np.ndarray) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(adjacency, dtype=np.float64)
    if matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(f"adjacency: expected a square matrix, got shape {matrix.shape}")
    if not np.isfinite(matrix.data).all() or (matrix.data < 0).any():
        raise ValueError("adjacency: expected finite non-negative weights")
    if abs(matrix - matrix.T).max() > 1e-12 * max(1.0, abs(matrix).max()):
        raise ValueError("adjacency: expected a symmetric matrix")
    degrees = np.asarray(matrix.sum(axis=1)).ravel()
    if (degrees == 0).any():
        raise ValueError(f"adjacency: node {int(np.flatnonzero(degrees == 0)[0])} has no edge; "
                         "drop isolated nodes first")
    return matrix


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    return float(alpha)


def manifold_similarity_blocks(adjacency: sparse.spmatrix | np.ndarray, alpha: float = 0.99, *,
                               solver: str = "cholesky", block_rows: int = 512, tolerance: float = 1e-10,
                               max_iterations: int = 10_000) -> Iterator[tuple[slice, np.ndarray]]:
    """Row blocks of the manifold similarity ``M = (1 − α)(I − α D^{-½} A D^{-½})^{-1}`` of a graph.

    ``adjacency``: the symmetric non-negative weights ``A`` of a graph with no isolated node
    (``D`` is the diagonal of its degrees). ``M`` is the fixed point of the diffusion
    ``F ← α D^{-½} A D^{-½} F + (1 − α) I`` (Zhou et al.'s ranking on manifolds): the series
    ``(1 − α) Σ_t (α D^{-½} A D^{-½})^t``. ``Q = I − α D^{-½} A D^{-½}`` is symmetric positive
    definite (its eigenvalues lie in [1 − α, 1 + α]), so ``M`` is symmetric, and its rows come as
    columns of ``Q⁻¹`` — ``block_rows`` at a time, never the whole inverse:

    * ``solver="cholesky"``: one dense Cholesky factorisation of ``Q``, then triangular solves
      against ``block_rows`` columns of the identity. Memory: the ``n × n`` float64 factor —
      128 MB at n = 4,000, 882 MB at n = 10,500 — and time ``~n³/3 + 2n³`` flops (all of
      :func:`mls3rduh_similarity` took 10.5 s of CPU at n = 4,000 on the shared two-core machine;
      10,500 is ~18 times the flops). The authors invert ``Q`` densely (``torch.inverse``,
      float32), which needs the matrix and its inverse at once.
    * ``solver="cg"``: conjugate gradients on the sparse ``Q``, ``block_rows`` right-hand sides
      together, until every residual is below ``tolerance`` times its right-hand side (the
      condition number is at most ``(1 + α)/(1 − α)``, 199 at α = 0.99, so a few hundred
      iterations). Memory: the sparse graph and a few ``n × block_rows`` blocks; time
      ``iterations × nnz(A) × n`` multiply-adds, more than the dense route at the graphs MLS³RDUH
      builds (a few percent dense; twice its CPU time at n = 1,500, and the gap grows with n): the
      choice when ``n²`` floats do not fit.

    Yields ``(rows, block)``: ``block`` is ``M[rows]``, float64. Raises ``ValueError`` naming
    ``adjacency``, ``alpha``, ``solver``, ``block_rows``, ``tolerance`` or ``max_iterations``, and
    ``RuntimeError`` if conjugate gradients have not converged after ``max_iterations``.
    """
    matrix = _check_adjacency(adjacency)
    alpha = _check_alpha(alpha)
    if solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {', '.join(SOLVERS)}, got {solver!r}")
    block_rows = check_positive_int(block_rows, "block_rows")
    tolerance = check_positive(tolerance, "tolerance")
    max_iterations = check_positive_int(max_iterations, "max_iterations")
    return _manifold_blocks(matrix, alpha, solver, block_rows, tolerance, max_iterations)


def _manifold_blocks(matrix: sparse.csr_matrix, alpha: float, solver: str, block_rows: int, tolerance: float,
                     max_iterations: int) -> Iterator[tuple[slice, np.ndarray]]:
    n_nodes = matrix.shape[0]
    scale = 1.0 / np.sqrt(np.asarray(matrix.sum(axis=1)).ravel())
    normalised = sparse.diags(scale) @ matrix @ sparse.diags(scale)
    system = sparse.identity(n_nodes, format="csr") - alpha * normalised
    if solver == "cholesky":
        factor = linalg.cho_factor(system.toarray(), lower=True, overwrite_a=True, check_finite=False)
        del system
    for start in range(0, n_nodes, block_rows):
        rows = slice(start, min(start + block_rows, n_nodes))
        right = np.zeros((n_nodes, rows.stop - rows.start))
        right[np.arange(rows.start, rows.stop), np.arange(rows.stop - rows.start)] = 1.0 - alpha
        if solver == "cholesky":
            columns = linalg.cho_solve(factor, right, check_finite=False)
        else:
            columns = _block_conjugate_gradients(system, right, tolerance, max_iterations)
        # M is symmetric: the columns of the block are its rows.
        yield rows, np.ascontiguousarray(columns.T)


def _block_conjugate_gradients(system: sparse.csr_matrix, right: np.ndarray, tolerance: float,
                               max_iterations: int) -> np.ndarray:
    """Solve ``system · X = right`` for a symmetric positive definite ``system``, each column by
    conjugate gradients, all columns in step."""
    solution = np.zeros_like(right)
    residual = right.copy()
    direction = residual.copy()
    squared = (residual * residual).sum(axis=0)
    goal = (tolerance ** 2) * (right * right).sum(axis=0)
    for _ in range(max_iterations):
        if (squared <= goal).all():
            return solution
        product = system @ direction
        curvature = (direction * product).sum(axis=0)
        step = np.divide(squared, curvature, out=np.zeros_like(squared), where=curvature > 0)
        solution += step * direction
        residual -= step * product
        new_squared = (residual * residual).sum(axis=0)
        ratio = np.divide(new_squared, squared, out=np.zeros_like(squared), where=squared > 0)
        direction = residual + ratio * direction
        squared = new_squared
    if (squared <= goal).all():
        return solution
    raise RuntimeError(f"solver: conjugate gradients did not reach a relative residual of {tolerance:g} in "
                       f"{max_iterations} iterations; raise max_iterations or use solver='cholesky'")


def manifold_similarity(adjacency: sparse.spmatrix | np.ndarray, alpha: float = 0.99, *,
                        solver: str = "cholesky", **options) -> np.ndarray:
    """The whole ``n × n`` manifold similarity of :func:`manifold_similarity_blocks` (small graphs)."""
    return np.vstack([block for _, block in manifold_similarity_blocks(adjacency, alpha, solver=solver, **options)])


@dataclass(frozen=True, eq=False)
class ManifoldTargets:
    """MLS³RDUH's targets of the training items (see :func:`mls3rduh_similarity`), stored small.

    Attributes:
        features: ``(n, d)`` float32 unit-length features, item ``i`` at row ``i`` (the training
            split's order): the cosine of any pair, hence its default target ``2 cos − 1``, is
            computed from them per batch.
        overrides: ``(n, n)`` int8 CSR, symmetric: +1 for the pairs whose cosine neighbour is also a
            manifold neighbour, −1 for cosine neighbours that are not; absent elsewhere.
        k, manifold_k: the sizes of the cosine and the manifold neighbour lists.
        isolated: positions of the items with no mutual cosine neighbour, left out of the graph.
    """

    features: np.ndarray
    overrides: sparse.csr_matrix
    k: int
    manifold_k: int
    isolated: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.features)

    def batch(self, positions: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``(B, B)`` float32 targets of the training items at ``positions``.

        ``2 cos − 1``, −1 where the cosine is ≤ 0 and +1 on the diagonal; then the overrides."""
        chosen = _positions(positions)
        points = torch.from_numpy(self.features[chosen])
        targets = (2 * (points @ points.T) - 1).clamp_(-1.0, 1.0)
        targets[torch.from_numpy(chosen[:, None] == chosen[None, :])] = 1.0
        overrides = torch.from_numpy(self._override_block(chosen))
        return torch.where(overrides != 0, overrides.to(targets.dtype), targets)

    def _override_block(self, chosen: np.ndarray) -> np.ndarray:
        """``overrides[chosen][:, chosen]`` as a dense int8 array, from the chosen rows' entries only."""
        if np.unique(chosen).size != chosen.size:  # a position twice: scipy's general indexing
            return self.overrides[chosen][:, chosen].toarray()
        where = np.full(self.n_items, -1, dtype=np.int64)
        where[chosen] = np.arange(chosen.size)
        starts, stops = self.overrides.indptr[chosen], self.overrides.indptr[chosen + 1]
        lengths = stops - starts
        entries = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        rows = np.repeat(np.arange(chosen.size), lengths)
        columns = where[self.overrides.indices[entries]]
        inside = columns >= 0
        block = np.zeros((chosen.size, chosen.size), dtype=np.int8)
        block[rows[inside], columns[inside]] = self.overrides.data[entries[inside]]
        return block

    def dense(self) -> np.ndarray:
        """All ``n × n`` targets as float32 (small ``n``: inspection and tests)."""
        return self.batch(np.arange(self.n_items)).numpy()


def _mutual_graph(unit: np.ndarray, lists: np.ndarray) -> sparse.csr_matrix:
    """The cosines on the mutual pairs of the neighbour ``lists`` with a positive cosine, symmetric."""
    n_items, k = lists.shape
    rows = np.repeat(np.arange(n_items), k)
    cosines = np.empty(rows.size)
    chunk = max(1, 2 ** 22 // max(1, k * unit.shape[1]))  # rows per chunk: about 16 MB of gathered features
    for start in range(0, n_items, chunk):
        stop = min(start + chunk, n_items)
        cosines[start * k:stop * k] = np.einsum("id,ikd->ik", unit[start:stop], unit[lists[start:stop]]).ravel()
    listed = sparse.csr_matrix((cosines, (rows, lists.ravel())), shape=(n_items, n_items))
    mutual = listed.multiply(listed.T > 0)
    # Both directions carry the same cosine up to rounding: their mean makes A exactly symmetric.
    graph = sparse.csr_matrix((mutual + mutual.T) * 0.5)
    graph.data[graph.data <= 0] = 0.0
    graph.eliminate_zeros()
    return graph


def mls3rduh_similarity(features: np.ndarray, neighbour_share: float = 0.06, alpha: float = 0.99,
                        manifold_factor: float = 1.5, *, solver: str = "cholesky",
                        block_rows: int = 512) -> ManifoldTargets:
    """MLS³RDUH's manifold-corrected similarity of the items whose ``features`` (rows) are given.

    1. ``C``: the cosines of the features. Each item's cosine neighbours are its
       ``k = round(neighbour_share · n)`` nearest other items
       (:func:`hashkit.features.neighbourhood.nearest_neighbours`).
    2. The graph ``A``: ``C_ij`` on the mutual pairs (``j`` lists ``i`` and ``i`` lists ``j``) with a
       positive cosine, 0 elsewhere. Items with no edge are isolated; they are dropped from the graph.
    3. The manifold similarity ``M = (1 − α)(I − α D^{-½} A D^{-½})^{-1}`` of that graph
       (:func:`manifold_similarity_blocks`, with ``solver``); an item's manifold neighbours are the
       ``⌈manifold_factor · k⌉`` largest entries of its row, itself included (the authors' code
       does not exclude it; ties go to the lower position).
    4. Targets: ``S_ij = +1`` if ``j`` is both a cosine and a manifold neighbour of ``i``; ``−1`` if it
       is a cosine neighbour only; otherwise ``2 C_ij − 1``, and ``−1`` where ``C_ij ≤ 0``. Made
       symmetric as the code does: a pair is +1 if +1 from either side, else −1 if −1 from either
       side; +1 on the diagonal.

    Defaults are those of the authors' code: k = 6% of the training set, α = 0.99, 1.5k manifold
    neighbours (the paper itself could not be consulted for this module).

    What the authors' ``MLS3RDUH.py`` does differently, and why it is not followed:

    * It takes ``k = ⌊0.06 n⌋`` and ``⌊0.09 n⌋`` manifold neighbours; here ``round(0.06 n)`` and
      ``⌈1.5k⌉`` — the same at the study's n = 4,000 (240 and 360) and 10,500 (630 and 945).
    * It keeps edges with a cosine above 10⁻⁴ (here above 0), and it makes a pair +1 when its
      cosine exceeds 0.999 and −1 when below 10⁻⁴, winning over the neighbour rules; here only
      ``C ≤ 0`` gives −1 (``2C − 1`` is within 0.002 of ±1 at the code's thresholds anyway), and a
      near-duplicate that is a cosine neighbour only stays −1.
    * It finds the cosine neighbours again after dropping the isolated items, so an isolated item
      is nobody's neighbour; here too (an isolated item takes part in no ±1 rule; its pairs keep
      ``2C − 1``). But where that leaves an item fewer than ``k`` neighbours, the code fills its
      list with arbitrary non-neighbours (zeros in the sort), which then become −1; here the list
      is just shorter.
    * It shuffles the remaining items before the inverse (no effect but on ties), and it extracts
      its fc7 features with the network in training mode, dropout on; the features are the
      caller's here.

    Storage: the unit features as float32 (``n × d × 4`` bytes: 65.5 MB at n = 4,000 and d = 4,096,
    172 MB at n = 10,500) and the overrides, at most ``2nk`` pairs of 5 bytes (≤ 9.6 MB at 4,000,
    ≤ 66 MB at 10,500); the float ``n × n`` targets (a dense float32 would be 64 MB and 441 MB) are
    formed per batch by :meth:`ManifoldTargets.batch`. Building needs the manifold solve's memory
    (see :func:`manifold_similarity_blocks`).

    Raises ``ValueError`` naming ``features``, ``neighbour_share``, ``alpha``, ``manifold_factor``,
    ``solver`` or ``block_rows``.
    """
    unit = _unit_rows(features)
    n_items = len(unit)
    share = check_positive(neighbour_share, "neighbour_share")
    k = math.floor(share * n_items + 0.5)
    if not 1 <= k <= n_items - 1:
        raise ValueError(f"neighbour_share: {share:g} of {n_items} items gives k = {k} cosine neighbours; "
                         f"expected 1..{n_items - 1}")
    alpha = _check_alpha(alpha)
    factor = check_positive(manifold_factor, "manifold_factor")
    if solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {', '.join(SOLVERS)}, got {solver!r}")
    block_rows = check_positive_int(block_rows, "block_rows")

    lists = nearest_neighbours(unit, k, metric="cosine")
    graph = _mutual_graph(unit, lists)
    degrees = np.asarray(graph.sum(axis=1)).ravel()
    kept = np.flatnonzero(degrees > 0)
    if kept.size == 0:
        raise ValueError(f"neighbour_share: with k = {k} no two items are mutual neighbours with a positive cosine; "
                         "raise neighbour_share")
    manifold_k = min(math.ceil(round(factor * k, 9)), kept.size)

    # Manifold neighbour lists, in positions of the whole training set.
    manifold_rows, manifold_cols = [], []
    for rows, block in manifold_similarity_blocks(graph[kept][:, kept], alpha, solver=solver, block_rows=block_rows):
        top = np.argsort(-block, axis=1, kind="stable")[:, :manifold_k]
        manifold_rows.append(np.repeat(kept[rows], manifold_k))
        manifold_cols.append(kept[top.ravel()])
    shape = (n_items, n_items)
    manifold = sparse.csr_matrix((np.ones(sum(r.size for r in manifold_rows), dtype=np.int8),
                                  (np.concatenate(manifold_rows), np.concatenate(manifold_cols))), shape=shape)

    is_kept = np.zeros(n_items, dtype=bool)
    is_kept[kept] = True
    listed = is_kept[:, None] & is_kept[lists]  # an isolated item neither lists nor is listed
    rows = np.repeat(np.arange(n_items), k)[listed.ravel()]
    cosine = sparse.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, lists[listed])), shape=shape)
    both = cosine.multiply(manifold) > 0
    cosine_only = (cosine > 0).astype(np.int8) - both.astype(np.int8) > 0
    similar = (both + both.T) > 0
    dissimilar = ((cosine_only + cosine_only.T) > 0).astype(np.int8) - similar.astype(np.int8) > 0
    overrides = sparse.csr_matrix(similar.astype(np.int8) - dissimilar.astype(np.int8))
    overrides.eliminate_zeros()
    return ManifoldTargets(features=unit.astype(np.float32), overrides=overrides, k=k, manifold_k=manifold_k,
                           isolated=np.flatnonzero(~is_kept))

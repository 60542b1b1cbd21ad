"""CNNH: supervised hashing via image representation learning {cite}`xia2014cnnh` (Xia, Pan, Lai, Liu, Yan, AAAI 2014).

Two stages. Stage 1 (:func:`approximate_codes`) learns target codes ``H`` for the training items
from their labels alone, by coordinate descent on ``‖S − HHᵀ/q‖²``; stage 2 (:class:`CNNH`) trains
the network to output them (and, in CNNH+, the class labels too).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from hashkit.checks import check_non_negative, check_positive_int
from hashkit.codes import sign
from hashkit.deep.method import HashingMethod, TrainingContext

# Rows of S formed at once when the objective is evaluated: bounds its memory to BLOCK × n floats.
OBJECTIVE_BLOCK = 1024


def similarity_rows(labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of CNNH's ``S``: +1 where two items share a label, −1 elsewhere, +1 on the diagonal.

    An item is similar to itself even without a label: the diagonal term ``(‖h_i‖²/q − 1)²`` of
    the objective then pulls every relaxed code towards ±1 entries.
    """
    block = np.where(labels[rows] @ labels.T > 0, 1.0, -1.0)
    block[np.arange(len(rows)), rows] = 1.0
    return block


def stage1_objective(codes: np.ndarray, labels: np.ndarray) -> float:
    """CNNH's eq. (1) ``‖S − HHᵀ/q‖²_F`` of (relaxed) codes ``H`` (``n × q``), in blocks of rows."""
    n, n_bits = codes.shape
    total = 0.0
    for start in range(0, n, OBJECTIVE_BLOCK):
        rows = np.arange(start, min(start + OBJECTIVE_BLOCK, n))
        total += float(((similarity_rows(labels, rows) - codes[rows] @ codes.T / n_bits) ** 2).sum())
    return total


def approximate_codes(labels: np.ndarray, n_bits: int, sweeps: int = 10, tolerance: float = 1e-4,
                      rng: np.random.Generator | None = None) -> tuple[np.ndarray, list[float]]:
    """CNNH's stage 1: relaxed codes ``H ∈ [−1, 1]^{n×q}`` minimising ``‖S − HHᵀ/q‖²_F``.

    ``S`` is :func:`similarity_rows` (±1 from the multi-hot ``labels``). The objective equals
    ``‖HHᵀ − qS‖²_F / q²``; with ``L = HHᵀ − qS``, changing one entry ``H_ij`` by ``d`` changes
    ``‖L‖²`` by the quartic

        ``Δ(d) = 4 r d + 2(‖h_j‖² + H_ij² + L_ii) d² + 4 H_ij d³ + d⁴``,  ``r = L_iᵀ h_j``

    (``h_j`` the ``j``-th column of ``H``). Each entry takes the Newton step of this function from
    ``d = 0``, ``d = −Δ'(0)/Δ''(0) = −r / (‖h_j‖² + H_ij² + L_ii)``, clipped to
    ``[−1 − H_ij, 1 − H_ij]`` so that ``H`` stays in the box: the paper's update as two
    re-implementations write it (DeepHash-pytorch's ``CNNH.py``, whose comments cite the paper's
    formulas 6–8, and github.com/heheqianqian/CNNH ``stage1/lahc.py``; the paper's text was not
    available to this study). Two cases that update leaves open are hashkit's, chosen to keep the
    descent monotone: where ``Δ''(0) ≤ 0`` (no Newton step) it takes the better end of the box,
    and it leaves an entry unchanged when the step would not lower the objective (``Δ(d) ≥ 0``,
    computed exactly; DeepHash-pytorch instead undoes a whole sweep that raised it). Every
    accepted step lowers the objective.

    Order: a sweep visits the rows in a random order and, within each row, its ``q`` entries in a
    random order, as heheqianqian's loop does (DeepHash-pytorch shuffles all ``n·q`` entries
    together); visiting them row by row lets a row ``L_i`` be formed once per visit, so that no
    ``n × n`` matrix is ever stored. A sweep costs
    ``O(n² (q + c))`` time and ``O(n (q + c))`` memory. The descent stops after ``sweeps`` sweeps
    (the paper's ``T``) or once a sweep lowers the objective by less than ``tolerance`` times its
    value (the stopping tolerance that heheqianqian's re-implementation takes as an input beside
    ``T``).

    Randomness: the initial ``H`` is uniform in ``[−1, 1]``, then per sweep one permutation of the
    rows and per row one permutation of the bits, all drawn from ``rng`` in that order.

    Returns:
        ``(H, objectives)``: the relaxed codes (``float64``; ``sign(H)`` are the target codes) and
        ``‖S − HHᵀ/q‖²_F`` before the first sweep and after each sweep.
    """
    n_bits = check_positive_int(n_bits, "n_bits")
    sweeps = check_positive_int(sweeps, "sweeps")
    tolerance = check_non_negative(tolerance, "tolerance")
    rng = np.random.default_rng() if rng is None else rng
    labels = np.asarray(labels, dtype=np.float64)
    n = len(labels)
    codes = rng.uniform(-1.0, 1.0, (n, n_bits))
    objectives = [stage1_objective(codes, labels)]
    for _ in range(sweeps):
        gram = codes.T @ codes  # G = HᵀH, kept up to date entry by entry
        for i in rng.permutation(n):
            row = codes[i]  # a view: the updates below write into H
            residual_row = codes @ row - n_bits * similarity_rows(labels, np.array([i]))[0]  # L_i
            residual_ii = float(residual_row[i])
            projections = residual_row @ codes  # r_k = L_iᵀ h_k for every bit k
            for j in rng.permutation(n_bits):
                value = float(row[j])
                curvature = float(gram[j, j]) + value * value + residual_ii  # Δ''(0) / 4
                if curvature > 0:
                    steps = (min(max(-float(projections[j]) / curvature, -1.0 - value), 1.0 - value),)
                else:
                    steps = (-1.0 - value, 1.0 - value)
                changes = [4 * projections[j] * d + 2 * curvature * d * d + 4 * value * d ** 3 + d ** 4 for d in steps]
                best = int(np.argmin(changes))
                step = steps[best]
                if not changes[best] < 0:
                    continue
                # Bookkeeping with the old row and Gram matrix: L_i gains d h_j + (d H_ij + d²) e_i,
                # column j of H gains d e_i.
                projections += step * gram[j] + (step * value + step * step) * row
                residual_ii += 2 * step * value + step * step
                projections[j] += step * residual_ii
                gram[j, :] += step * row
                gram[:, j] += step * row
                gram[j, j] += step * step
                row[j] = value + step
        objectives.append(stage1_objective(codes, labels))
        if objectives[-2] - objectives[-1] <= tolerance * objectives[-2]:
            break
    return codes, objectives


class CNNH(HashingMethod):
    """Stage 1 learns target codes from the labels; stage 2 trains the network to output them.

    Stage 1 (in :meth:`begin`, :func:`approximate_codes`): ``min ‖S − HHᵀ/q‖²_F`` over
    ``H ∈ [−1, 1]^{n×q}`` by coordinate descent, with ``S_ij = 1`` when two training items share a
    label and −1 otherwise (the ±1 similarity: DeepHash-pytorch's first ``CNNH.py`` used {0, 1}
    and was fixed to ±1 in its commit "fix bug"; with {0, 1} the objective would ask dissimilar
    codes to be orthogonal rather than opposite). The targets are ``codes_ = sign(H)``; the
    objective after each sweep is ``stage1_objectives_``.

    Stage 2 (the batch loss): the network's ``q`` outputs ``u`` (linear: no squashing function)
    regress the targets, ``mean_{i, k} (u_ik − H_ik)²``. The stage-2 loss is hashkit's choice:
    heheqianqian's re-implementation lists it as unknown to its author, and squared error on a
    linear output is what DeepHash-pytorch's ``CNNH.py`` uses (its first version: absolute error).
    Codes of any image are ``sign(u)``.

    Variant: **CNNH** by default, the hash-code outputs only. This is the variant BGAN's Table 5
    lists ("CNNH [37]"), and its numbers there are the CNNH row that the DNNH and DHN papers report
    (the same four numbers in the DHN paper's NUS-WIDE column; *unverified*, from memory of those
    papers). ``use_labels=True`` gives **CNNH+**: ``c`` more outputs for the class labels, trained
    with ``label_weight`` times softmax cross-entropy on single-label data or per-label logistic
    loss on multi-label data (CNNH+ adds the labels to the output layer, *unverified*, from memory
    of the paper; the loss and its weight are hashkit's choice).

    Defaults: ``sweeps = 10`` (the maximum number of sweeps ``T``: DeepHash-pytorch's value; the
    paper's is not known to us), ``tolerance = 1e-4`` (relative decrease per sweep: hashkit's
    value), ``label_weight = 1`` (hashkit's), initial ``H`` uniform in ``[−1, 1]``
    (DeepHash-pytorch's).

    Cost: stage 1 is ``O(n² (q + c))`` time per sweep (``n`` training items, ``c`` labels) and runs
    once, before the first epoch, on the CPU; on 1,500 items at 32 bits it takes a few seconds.
    """

    name = "CNNH"
    # Learned state: the target codes (n × bits, ±1), the stage-1 objective per sweep, and whether
    # the data are single-label (CNNH+'s label loss).
    codes_: torch.Tensor
    stage1_objectives_: list[float]
    single_label_: bool

    def __init__(self, sweeps: int = 10, tolerance: float = 1e-4, use_labels: bool = False,
                 label_weight: float = 1.0) -> None:
        if not isinstance(use_labels, bool):
            raise ValueError(f"use_labels: expected True (CNNH+) or False (CNNH), got {use_labels!r}")
        self.sweeps = check_positive_int(sweeps, "sweeps")
        self.tolerance = check_non_negative(tolerance, "tolerance")
        self.use_labels = use_labels
        self.label_weight = check_non_negative(label_weight, "label_weight")

    def output_width(self, n_bits: int, n_classes: int) -> int:
        return n_bits + n_classes if self.use_labels else n_bits

    def begin(self, context: TrainingContext) -> None:
        labels = context.train_labels.detach().cpu().numpy()
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=context.generator).item())
        relaxed, self.stage1_objectives_ = approximate_codes(labels, context.n_bits, self.sweeps, self.tolerance,
                                                             np.random.default_rng(seed))
        self.codes_ = sign(torch.from_numpy(relaxed)).to(device=context.device, dtype=torch.float32)
        self.single_label_ = bool((labels.sum(axis=1) == 1).all())

    def activation(self, logits: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return logits

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor,
             context: TrainingContext) -> torch.Tensor:
        n_bits = context.n_bits
        regression = ((outputs[:, :n_bits] - self.codes_[positions]) ** 2).mean()
        if not self.use_labels:
            return regression
        scores = outputs[:, n_bits:]
        if self.single_label_:
            classification = F.cross_entropy(scores, labels.argmax(dim=1))
        else:
            classification = F.binary_cross_entropy_with_logits(scores, labels)
        context.record(regression=regression.item(), classification=classification.item())
        return regression + self.label_weight * classification

    def codes(self, outputs: torch.Tensor, context: TrainingContext) -> torch.Tensor:
        return sign(outputs[:, :context.n_bits])

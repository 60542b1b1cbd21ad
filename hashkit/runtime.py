"""Seeds and devices, which every training run sets up the same way, and a clock for a chapter's sections."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch (CPU and CUDA); return a torch generator seeded the same way.

    Returning a generator lets data loaders and samplers draw from their own stream, so adding a
    random call elsewhere does not shift which batches a run sees.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device``, or a clear error when it names hardware that is not here."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}") from error
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: CUDA was requested but no GPU is available here; use device='cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} GPU(s) are available")
    elif resolved.type != "cpu":
        raise ValueError(f"device: expected 'cpu' or 'cuda', got {device!r}")
    return resolved


class SectionClock:
    """Wall time of a chapter's sections: ``with clock.section("Table 1"): ...``, then :meth:`table`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def table(self) -> pd.DataFrame:
        """One row per section (in the order first timed) and a total: section, seconds."""
        rows = [{"section": name, "seconds": seconds} for name, seconds in self.seconds.items()]
        rows.append({"section": "total", "seconds": sum(self.seconds.values())})
        return pd.DataFrame(rows, columns=["section", "seconds"])

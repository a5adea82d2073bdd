"""Slow models for the live tests, written with plain torch: forward returns its input unchanged
after a busy loop of small matrix products whose length is calibrated on this machine, so that one
call on a 2048-sample buffer takes about a given number of milliseconds.

The calibration runs here, in the test process, on one torch thread (nn~ runs models on one thread
too); the machine's load can change between calibration and the Pd run, so tests read the model's
actual duration back from nn~'s `stats` (model_ms_mean) before judging what they see.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import List

import torch
from torch import nn


class Busy(nn.Module):
    """forward: x, after `iters` products of a 64x64 matrix (each call), and `stall_iters` more on
    call number `stall_at` only (counted from 1, load-time calls included; 0: never)."""

    def __init__(self, iters: int, stall_at: int = 0, stall_iters: int = 0) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1], dtype=torch.long))
        self.iters = iters
        self.stall_at = stall_at
        self.stall_iters = stall_iters
        self.calls = 0
        torch.manual_seed(0)
        self.register_buffer("w", torch.randn(64, 64) / 8.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls = self.calls + 1
        n = self.iters
        if self.calls == self.stall_at:
            n = n + self.stall_iters
        h = self.w
        for _ in range(n):
            h = torch.tanh(torch.mm(h, self.w))
        # tanh keeps h finite, so this adds exactly 0 and keeps the loop from being optimised away
        return x + 0.0 * h[0, 0]

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


def ms_per_iter(samples: int = 2048) -> float:
    """Milliseconds one loop iteration takes on one torch thread, undisturbed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m = torch.jit.script(Busy(200))
        x = torch.zeros(1, 1, samples)
        with torch.inference_mode():
            for _ in range(20):  # TorchScript profiles and optimises the first calls (about ten)
                m(x)
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                m(x)
                times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)
    # the fastest call: the others were preempted by whatever else runs on the machine
    return 1000 * min(times) / 200


def save_busy(
    path: Path, ms: float, per_iter: float, stall_at: int = 0, stall_ms: float = 0.0
) -> Path:
    """Saves a Busy model whose call takes about `ms` (plus `stall_ms` once, on call `stall_at`)."""
    iters = max(1, round(ms / per_iter))
    stall = round(stall_ms / per_iter) if stall_at else 0
    torch.jit.script(Busy(iters, stall_at, stall)).save(str(path))
    return path

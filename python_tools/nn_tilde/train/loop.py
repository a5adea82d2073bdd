"""What every training loop shares: the process group under `torchrun`, the step log (progress
bar, loss history, validation and checkpoint schedule), the checkpoint dict, its atomic save and
the per-checkpoint plot. The loops themselves are the trainer modules (autoencoder.py, ddsp.py).

Checkpoints (rank 0 only) are ``OUT/ckpt_{step:07d}.pt`` and ``OUT/last.pt``: a dict with
``format``, ``kind`` (the model type's, from registry.py), ``config`` (TrainConfig as a dict),
``model`` (state dict of the offline model), ``optimizer``, ``step``, ``history`` (losses) and
what the trainer adds (DDSP: ``features_key``). `nn-tilde export` reads them (checkpoint.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

if TYPE_CHECKING:  # the loops get a TrainConfig; they need no import of config.py to use it
    from nn_tilde.train.config import TrainConfig

CHECKPOINT_FORMAT = 1


@contextmanager
def process_group() -> Iterator[tuple[int, int]]:
    """(rank, world size); under torchrun, initialises the process group and destroys it after."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    try:
        yield (dist.get_rank(), dist.get_world_size()) if world > 1 else (0, 1)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def mean_across(value: float, world: int) -> float:
    """The mean of `value` over the ranks (all of them must call it)."""
    if world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / world


def stderr_bar(step: int, total: int, loss: float, extra: str = "") -> None:
    width = 30
    done = int(width * step / max(total, 1))
    bar = "#" * done + "-" * (width - done)
    end = "\n" if step >= total else ""
    print(f"\r[{bar}] {step}/{total} loss {loss:.4f}{extra}", end=end, file=sys.stderr, flush=True)


class StepLog:
    """What every training loop does after an optimiser step: the train-loss history, the
    progress bar (mean of the last 20 losses, steps per second since this run started), and the
    validation / checkpoint schedule (every N steps and at the last one)."""

    def __init__(
        self, config: TrainConfig, history: dict[str, list[list[float]]], step: int, progress: bool
    ) -> None:
        self.total, self.history, self.progress = config.steps, history, progress
        self.first, self.start = step, time.perf_counter()
        self.running: list[float] = []

    def train(self, step: int, value: float) -> None:
        self.history["train"].append([step, value])
        self.running.append(value)
        if self.progress:
            rate = (step - self.first) / max(time.perf_counter() - self.start, 1e-9)
            recent = self.running[-20:]
            stderr_bar(step, self.total, sum(recent) / len(recent), f" ({rate:.1f} step/s)")

    def due(self, step: int, every: int) -> bool:
        return step % every == 0 or step == self.total

    def valid(self, step: int, value: float) -> None:
        self.history["valid"].append([step, value])
        if self.progress:
            print(f"\nstep {step}: validation loss {value:.4f}", file=sys.stderr)


def checkpoint_dict(
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    history: dict[str, list[list[float]]],
    **extra: Any,
) -> dict[str, Any]:
    """The checkpoint of every model type; `extra` keys (e.g. ``features_key``) come last."""
    return {
        "format": CHECKPOINT_FORMAT,
        "kind": config.entry.kind,
        "config": config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "history": history,
        **extra,
    }


def save_checkpoint(ckpt: dict[str, Any], out_dir: Path, step: int) -> None:
    """``OUT/last.pt`` (replaced atomically: a crash mid-write leaves the previous one) and
    ``OUT/ckpt_{step:07d}.pt``."""
    tmp = out_dir / ".last.pt.tmp"
    torch.save(ckpt, tmp)
    tmp.replace(out_dir / "last.pt")
    torch.save(ckpt, out_dir / f"ckpt_{step:07d}.pt")


def save_plot(
    config: TrainConfig,
    history: dict[str, list[list[float]]],
    out_dir: Path,
    step: int,
    render: Callable[[], tuple[np.ndarray, np.ndarray]],
    say: Callable[[str], None],
) -> None:
    """``OUT/plot_{step:07d}.png``: the losses and the spectrograms of `render()`'s (input, output),
    both [T]. Without matplotlib, says so once and turns `config.plot` off."""
    try:
        from nn_tilde.train.plots import save_plots
    except ImportError:
        say("matplotlib is not installed; no plots (pip install matplotlib==3.10.3)")
        config.plot = False
        return
    x, y = render()
    save_plots(out_dir / f"plot_{step:07d}.png", history, x, y, config.sample_rate, step)

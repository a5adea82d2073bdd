"""The training loop: one process, or several under `torchrun` (DDP; gloo on CPU, nccl on GPU).

Reproducibility: the model is initialised from `seed`; each step's crops come from a generator
seeded by (seed, rank, step), so a resumed run draws the same batches as an uninterrupted one.

Checkpoints (rank 0 only) are ``OUT/ckpt_{step:07d}.pt`` and ``OUT/last.pt``: a dict with
``config`` (TrainConfig as a dict), ``model`` (state dict of the offline AutoEncoder),
``optimizer``, ``step`` and ``history`` (losses). `nn-tilde export` reads them.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from nn_tilde.models.autoencoder import AutoEncoder
from nn_tilde.train.config import TrainConfig
from nn_tilde.train.data import AudioSet, DataError, split_files
from nn_tilde.train.loss import MultiScaleSTFTLoss

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1


def build_model(config: TrainConfig) -> AutoEncoder:
    m = config.model
    return AutoEncoder(
        latent=m.latent,
        capacity=m.capacity,
        ratios=tuple(m.ratios),
        dilations=tuple(m.dilations),
        n_bands=m.n_bands,
        causal=m.causal,
    )


def kl_divergence(mean: Tensor, std: Tensor) -> Tensor:
    """KL(N(mean, std) || N(0, 1)), averaged. mean, std: [B, latent, T']."""
    var = std * std
    return 0.5 * (mean * mean + var - torch.log(var) - 1).mean()


class _DDPModel(nn.Module):
    """Encoder+decoder in one DDP forward (DDP needs every parameter used in one forward)."""

    def __init__(self, model: AutoEncoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, noise: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mean, std = self.model.posterior(x)
        z = mean + std * noise
        return self.model.decode(z), mean, std


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if world > 1:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


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


def train(
    config: TrainConfig,
    data_dir: Path,
    out_dir: Path,
    resume: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict[str, Any]:
    """Train; returns the final checkpoint dict. Raises DataError for an unusable data folder."""
    if config.model_type == "ddsp":
        from nn_tilde.train.ddsp import train_ddsp

        return train_ddsp(config, data_dir, out_dir, resume, progress, say)
    rank, world = _distributed()
    try:
        return _train(config, data_dir, out_dir, resume, progress and rank == 0, say, rank, world)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(
    config: TrainConfig,
    data_dir: Path,
    out_dir: Path,
    resume: Path | None,
    progress: bool,
    say: Callable[[str], None],
    rank: int,
    world: int,
) -> dict[str, Any]:
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    train_files, valid_files = split_files(data_dir, config.val_split)
    if not train_files:
        raise DataError(f"{data_dir}: no .wav/.flac/.ogg files; point at a folder of audio")
    train_set = AudioSet(train_files, config.sample_rate, config.crop)
    valid_set = AudioSet(valid_files, config.sample_rate, config.crop) if valid_files else None
    if rank == 0:
        say(
            f"data: {len(train_files)} training files ({train_set.seconds(config.sample_rate):.1f}"
            f" s), {len(valid_files)} validation files; {world} process(es)"
        )
    torch.manual_seed(config.seed)
    model = build_model(config)
    loss_fn = MultiScaleSTFTLoss(config.loss_scales)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.5, 0.9))
    step = 0
    history: dict[str, list[list[float]]] = {"train": [], "valid": []}
    if resume is not None:
        ckpt = torch.load(resume, map_location="cpu", weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, history = int(ckpt["step"]), ckpt["history"]
        if rank == 0:
            say(f"resumed from {resume} at step {step}")
    wrapped: nn.Module = _DDPModel(model)
    if world > 1:
        wrapped = nn.parallel.DistributedDataParallel(wrapped)
    out_dir.mkdir(parents=True, exist_ok=True)
    valid_batch = valid_set.fixed_batch(config.val_crops, config.seed) if valid_set else None
    ckpt: dict[str, Any] = _checkpoint(config, model, optimizer, step, history)
    log = StepLog(config, history, step, progress)
    while step < config.steps:
        rng = np.random.default_rng([config.seed, rank, step])
        x = train_set.random_batch(config.batch_size, rng)
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        model.train()
        noise = torch.randn(
            x.shape[0], config.model.latent, x.shape[-1] // config.ratio, generator=gen
        )
        y, mean, std = wrapped(x, noise)
        spectral = loss_fn(x, y)
        loss = spectral + config.beta_kl * kl_divergence(mean, std)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        log.train(step, _mean_across(float(spectral.detach()), world))
        if valid_batch is not None and log.due(step, config.val_every):
            log.valid(step, validate(model, valid_batch, loss_fn))
        if rank == 0 and log.due(step, config.ckpt_every):
            ckpt = _checkpoint(config, model, optimizer, step, history)
            _save(ckpt, out_dir, step)
            if config.plot:
                _plots(
                    model,
                    valid_batch if valid_batch is not None else x,
                    config,
                    history,
                    out_dir,
                    step,
                    say,
                )
        if world > 1:
            dist.barrier()
    return ckpt


@torch.no_grad()
def validate(model: AutoEncoder, batch: Tensor, loss_fn: MultiScaleSTFTLoss) -> float:
    """Spectral loss of the deterministic reconstruction (posterior mean). batch: [N, 1, T]."""
    model.eval()
    y = model.decode(model.encode(batch))
    return float(loss_fn(batch, y))


def _mean_across(value: float, world: int) -> float:
    if world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / world


def _checkpoint(config, model, optimizer, step, history) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "kind": "nn_tilde.autoencoder",
        "config": config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "history": history,
    }


def _save(ckpt: dict[str, Any], out_dir: Path, step: int) -> None:
    path = out_dir / f"ckpt_{step:07d}.pt"
    tmp = out_dir / ".last.pt.tmp"
    torch.save(ckpt, tmp)
    tmp.replace(out_dir / "last.pt")
    torch.save(ckpt, path)


def _plots(model, batch, config, history, out_dir, step, say) -> None:
    try:
        from nn_tilde.train.plots import save_plots
    except ImportError:
        say("matplotlib is not installed; no plots (pip install matplotlib==3.10.3)")
        config.plot = False
        return
    with torch.no_grad():
        model.eval()
        # the loudest crop: a fixed validation crop may well fall on a rest, and a silent
        # spectrogram shows nothing of the reconstruction
        loudest = int(batch.pow(2).mean(dim=(1, 2)).argmax())
        x = batch[loudest : loudest + 1]
        y = model.decode(model.encode(x))
    save_plots(
        out_dir / f"plot_{step:07d}.png",
        history,
        x[0, 0].numpy(),
        y[0, 0].numpy(),
        config.sample_rate,
        step,
    )

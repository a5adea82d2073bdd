"""`nn-tilde train` with ``model_type = "autoencoder"`` (the default; section ``[model]``): the
streaming PQMF autoencoder (`nn_tilde.models.autoencoder`) on one process, or several under
`torchrun` (DDP; gloo on CPU, nccl on GPU). Loss: multi-scale spectral plus ``beta_kl`` times the
KL of the variational latent.

Reproducibility: the model is initialised from `seed`; each step's crops come from a generator
seeded by (seed, rank, step), so a resumed run draws the same batches as an uninterrupted one.
Checkpoints: see loop.py (``kind == "nn_tilde.autoencoder"``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from nn_tilde.models.autoencoder import AutoEncoder, ExportedAutoEncoder
from nn_tilde.train.data import AudioSet, DataError, split_files
from nn_tilde.train.loop import (
    StepLog,
    checkpoint_dict,
    mean_across,
    process_group,
    save_checkpoint,
    save_plot,
)
from nn_tilde.train.loss import MultiScaleSTFTLoss

if TYPE_CHECKING:
    from nn_tilde.train.config import TrainConfig


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


def train(
    config: TrainConfig,
    data_dir: Path,
    out_dir: Path,
    resume: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict[str, Any]:
    """Train; returns the final checkpoint dict. Raises DataError for an unusable data folder."""
    with process_group() as (rank, world):
        return _train(config, data_dir, out_dir, resume, progress and rank == 0, say, rank, world)


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
    ckpt: dict[str, Any] = checkpoint_dict(config, model, optimizer, step, history)
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
        log.train(step, mean_across(float(spectral.detach()), world))
        if valid_batch is not None and log.due(step, config.val_every):
            log.valid(step, validate(model, valid_batch, loss_fn))
        if rank == 0 and log.due(step, config.ckpt_every):
            ckpt = checkpoint_dict(config, model, optimizer, step, history)
            save_checkpoint(ckpt, out_dir, step)
            if config.plot:
                batch = valid_batch if valid_batch is not None else x
                save_plot(config, history, out_dir, step, lambda b=batch: loudest(model, b), say)
        if world > 1:
            dist.barrier()
    return ckpt


@torch.no_grad()
def validate(model: AutoEncoder, batch: Tensor, loss_fn: MultiScaleSTFTLoss) -> float:
    """Spectral loss of the deterministic reconstruction (posterior mean). batch: [N, 1, T]."""
    model.eval()
    y = model.decode(model.encode(batch))
    return float(loss_fn(batch, y))


@torch.no_grad()
def loudest(model: AutoEncoder, batch: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The loudest crop of `batch` [N, 1, T] and its reconstruction, both [T], for the plot: a
    fixed validation crop may well fall on a rest, and a silent spectrogram shows nothing."""
    model.eval()
    i = int(batch.pow(2).mean(dim=(1, 2)).argmax())
    x = batch[i : i + 1]
    y = model.decode(model.encode(x))
    return x[0, 0].numpy(), y[0, 0].numpy()


def model_from_checkpoint(
    ckpt: dict[str, Any],
    config: TrainConfig,
    name: str,
    metadata: dict[str, str] | None = None,
) -> ExportedAutoEncoder:
    """Rebuild the offline AutoEncoder, load its weights, wrap its streaming form for nn~."""
    model = build_model(config)
    model.load_state_dict(ckpt["model"])
    model.eval()
    fields = {
        "name": name,
        "training_steps": str(ckpt["step"]),
        "architecture": "nn_tilde.streaming.AutoEncoder",
        "model_config": json.dumps(dataclasses.asdict(config.model), sort_keys=True),
    }
    fields.update(metadata or {})
    with torch.no_grad():
        return ExportedAutoEncoder(model.streaming(), config.sample_rate, fields)

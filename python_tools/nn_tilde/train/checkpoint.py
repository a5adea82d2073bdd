"""Training checkpoint -> nn~ model: reads the checkpoint, its config (as it was written, by
whichever version of the kit) and rebuilds the model with the trainer its `kind` names in the
registry (for the autoencoder: encode, decode, forward; for DDSP: forward, decode, features)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nn_tilde.authoring.module import Module
from nn_tilde.train.config import TrainConfig
from nn_tilde.train.registry import DEFAULT_MODEL_TYPE, MODEL_TYPES, for_kind, model_type


class CheckpointError(Exception):
    """Not a training checkpoint of `nn-tilde train`; the message names the fix."""


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise CheckpointError(
            f"{path}: cannot be read by torch.load ({exc}); give a .pt file "
            f"written by `nn-tilde train`"
        )
    if not isinstance(ckpt, dict) or for_kind(ckpt.get("kind")) is None:
        raise CheckpointError(
            f"{path} is not an `nn-tilde train` checkpoint; export other models with "
            f"`nn-tilde export SCRIPT.py:FACTORY OUT.ts`"
        )
    return ckpt


def config_from_checkpoint(ckpt: dict[str, Any]) -> TrainConfig:
    """The checkpoint's TrainConfig, as it was trained. Earlier versions of the kit wrote every
    model type's section (the shipped DDSP checkpoints have a `model` section too): only the
    section of the checkpoint's model type is read. Section keys the checkpoint predates get
    their legacy values (a checkpoint without `n_bands` was trained without PQMF), not today's
    defaults."""
    data = dict(ckpt["config"])
    entry = for_kind(ckpt.get("kind"))
    if entry is None:  # a config without its checkpoint: the model type it names
        entry = model_type(data.get("model_type", DEFAULT_MODEL_TYPE))
    data["model_type"] = entry.name
    for other in MODEL_TYPES:
        if other is not entry:
            data.pop(other.section, None)
    data[entry.section] = {**entry.legacy_keys, **(data.get(entry.section) or {})}
    return TrainConfig.from_dict(data)


def model_from_checkpoint(path: Path, metadata: dict[str, str] | None = None) -> Module:
    """Rebuild the trained model, load its weights, wrap its streaming form for nn~."""
    ckpt = load_checkpoint(path)
    trainer = for_kind(ckpt["kind"]).load_trainer()
    return trainer.model_from_checkpoint(
        ckpt, config_from_checkpoint(ckpt), Path(path).stem, metadata
    )

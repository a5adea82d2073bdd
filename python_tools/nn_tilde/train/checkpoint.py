"""Training checkpoint -> streaming nn~ model (encode, decode, forward) via the export API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from nn_tilde.authoring.module import Module
from nn_tilde.models.autoencoder import ExportedAutoEncoder
from nn_tilde.train.config import LEGACY_MODEL_KEYS, TrainConfig
from nn_tilde.train.loop import build_model


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
    kinds = ("nn_tilde.autoencoder", "nn_tilde.ddsp")
    if not isinstance(ckpt, dict) or ckpt.get("kind") not in kinds:
        raise CheckpointError(
            f"{path} is not an `nn-tilde train` checkpoint; export other models with "
            f"`nn-tilde export SCRIPT.py:FACTORY OUT.ts`"
        )
    return ckpt


def config_from_checkpoint(ckpt: dict[str, Any]) -> TrainConfig:
    """The checkpoint's TrainConfig; model keys it predates get their legacy values (a
    checkpoint without `n_bands` was trained without PQMF), not today's defaults."""
    data = dict(ckpt["config"])
    model = dict(data.get("model") or {})
    for key, value in LEGACY_MODEL_KEYS.items():
        model.setdefault(key, value)
    data["model"] = model
    return TrainConfig.from_dict(data)


def model_from_checkpoint(path: Path, metadata: dict[str, str] | None = None) -> Module:
    """Rebuild the offline AutoEncoder, load its weights, wrap its streaming form for nn~."""
    ckpt = load_checkpoint(path)
    if ckpt["kind"] == "nn_tilde.ddsp":
        from nn_tilde.train.ddsp import model_from_checkpoint as ddsp_model

        return ddsp_model(ckpt, Path(path).stem, metadata)
    config = config_from_checkpoint(ckpt)
    model = build_model(config)
    model.load_state_dict(ckpt["model"])
    model.eval()
    fields = {
        "name": Path(path).stem,
        "training_steps": str(ckpt["step"]),
        "architecture": "nn_tilde.streaming.AutoEncoder",
        "model_config": json.dumps(config.to_dict()["model"], sort_keys=True),
    }
    fields.update(metadata or {})
    with torch.no_grad():
        return ExportedAutoEncoder(model.streaming(), config.sample_rate, fields)

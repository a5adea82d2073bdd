"""Training checkpoint -> streaming nn~ model (encode, decode, forward) via the export API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nn_tilde.authoring.module import Module
from nn_tilde.models.autoencoder import StreamingAutoEncoder
from nn_tilde.train.config import LEGACY_MODEL_KEYS, TrainConfig
from nn_tilde.train.loop import build_model


class CheckpointError(Exception):
    """Not a training checkpoint of `nn-tilde train`; the message names the fix."""


class ExportedAutoEncoder(Module):
    """nn~ wrapper of a StreamingAutoEncoder.

    encode: audio [B, 1, N] -> latents [B, latent, N / ratio]
    decode: latents [B, latent, N / ratio] -> audio [B, 1, N]
    forward: audio [B, 1, N] -> audio [B, 1, N]
    Latencies are declared in host samples (format extension).
    """

    def __init__(self, stream: StreamingAutoEncoder, sample_rate: int, metadata: dict[str, str]):
        super().__init__(sample_rate, metadata=metadata)
        self.stream = stream
        r, n = stream.ratio, stream.latent
        self.register_method(
            "encode",
            1,
            1,
            n,
            r,
            input_labels=["(signal) audio in"],
            output_labels=[f"(signal) latent {i}" for i in range(n)],
            latency=stream.encode_delay * r,
        )
        self.register_method(
            "decode",
            n,
            r,
            1,
            1,
            input_labels=[f"(signal) latent {i}" for i in range(n)],
            output_labels=["(signal) audio out"],
            latency=stream.decode_delay,
        )
        self.register_method(
            "forward",
            1,
            1,
            1,
            1,
            input_labels=["(signal) audio in"],
            output_labels=["(signal) audio out"],
            latency=stream.forward_delay,
        )
        self.stream.reset()

    @torch.jit.export
    def encode(self, x: Tensor) -> Tensor:
        return self.stream.encode(x)

    @torch.jit.export
    def decode(self, z: Tensor) -> Tensor:
        return self.stream.decode(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.stream(x)

    @torch.jit.export
    def reset(self) -> None:
        self.stream.reset()


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

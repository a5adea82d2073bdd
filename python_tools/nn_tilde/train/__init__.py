"""`nn-tilde data` and `nn-tilde train`: render a data set, train a model on a folder of audio
(CPU, or DDP under torchrun), then `nn-tilde export CHECKPOINT.pt OUT.ts`.

Modules: registry (the model types: config section, checkpoint kind, trainer; `train()`),
sections (each model type's config section), config (defaults, TOML/JSON, overrides), errors
(ConfigError), render (phrases rendered with fluidsynth), data (audio folder, random crops), loss
(multi-scale STFT), loop (what every trainer shares: step log, DDP, checkpoint dict and save,
plot), autoencoder and ddsp (one trainer per model type), plots (PNG), checkpoint (checkpoint ->
nn~ model, through the registry).

The config names are imported here; the others (`DataError`, `MultiScaleSTFTLoss`) lazily
(PEP 562), so that loading a config does not import torch.
"""

from typing import Any

from nn_tilde.train.config import ConfigError, TrainConfig, load_config
from nn_tilde.train.sections import AutoEncoderConfig, DDSPConfig

_LAZY = {"DataError": "nn_tilde.train.data", "MultiScaleSTFTLoss": "nn_tilde.train.loss"}

__all__ = [
    "AutoEncoderConfig",
    "ConfigError",
    "DDSPConfig",
    "DataError",
    "MultiScaleSTFTLoss",
    "TrainConfig",
    "load_config",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nn_tilde.train' has no attribute {name!r}")

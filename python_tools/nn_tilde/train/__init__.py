"""`nn-tilde train`: train the streaming AutoEncoder on a folder of audio (CPU, or DDP under
torchrun), then `nn-tilde export CHECKPOINT.pt OUT.ts`.

Modules: config (defaults, TOML/JSON, overrides), dataset (audio folder, random crops),
loss (multi-scale STFT), loop (training, validation, checkpoints, DDP), plots (PNG),
export (checkpoint -> nn~ model with encode/decode/forward).
"""

from .config import ConfigError, ModelConfig, TrainConfig, load_config
from .dataset import DataError
from .loss import MultiScaleSTFTLoss

__all__ = [
    "ConfigError",
    "DataError",
    "ModelConfig",
    "MultiScaleSTFTLoss",
    "TrainConfig",
    "load_config",
]

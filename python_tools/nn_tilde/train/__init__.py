"""`nn-tilde data` and `nn-tilde train`: render a data set, train a model on a folder of audio
(CPU, or DDP under torchrun), then `nn-tilde export CHECKPOINT.pt OUT.ts`.

Modules: config (defaults, TOML/JSON, overrides), render (phrases rendered with fluidsynth),
data (audio folder, random crops), loss (multi-scale STFT), loop (step log, validation,
checkpoints, DDP), autoencoder and ddsp (one trainer per model type), plots (PNG),
checkpoint (checkpoint -> nn~ model with its methods).
"""

from nn_tilde.train.config import ConfigError, ModelConfig, TrainConfig, load_config
from nn_tilde.train.data import DataError
from nn_tilde.train.loss import MultiScaleSTFTLoss

__all__ = [
    "ConfigError",
    "DataError",
    "ModelConfig",
    "MultiScaleSTFTLoss",
    "TrainConfig",
    "load_config",
]

"""One config section per model type: the arguments of the model, and the checks that need the
generic keys too (`crop` against the model's ratio). Torch-free, so that loading a config (and
`nn-tilde --help`, and a config error) does not import torch. `registry.py` names each section.

Each section class has `ratio` (audio samples per model frame: what `crop` must be a multiple
of) and `validate(config)` (raises ConfigError naming the fix).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nn_tilde.train.errors import ConfigError

if TYPE_CHECKING:  # config.py imports the sections through the registry; the type is enough here
    from nn_tilde.train.config import TrainConfig


@dataclass
class AutoEncoderConfig:
    """Arguments of `nn_tilde.models.autoencoder.AutoEncoder` (section `[model]`).

    The default is a causal 16-band PQMF model with latent ratio 16 * 8 * 16 = 2048 (about
    0.7 M parameters, 240 samples of forward latency, well above 20x real time on one thread).
    `n_bands = 1, causal = false, capacity = 16, ratios = [4, 4, 4, 2], dilations = [1, 3, 9]`
    is the earlier default (no PQMF, ratio 128); checkpoints written before `n_bands` existed
    are read with `n_bands = 1, causal = false` (see `LEGACY_MODEL_KEYS`).
    """

    latent: int = 8
    capacity: int = 32
    ratios: list[int] = field(default_factory=lambda: [8, 16])
    dilations: list[int] = field(default_factory=lambda: [1, 3])
    n_bands: int = 16  # PQMF bands (a power of two); 1 = no PQMF
    causal: bool = True  # no lookahead: streaming delay is the PQMF's only

    @property
    def ratio(self) -> int:
        """Latent frame rate divider: n_bands times the product of the stage strides."""
        r = self.n_bands
        for x in self.ratios:
            r *= x
        return r

    def validate(self, config: TrainConfig) -> None:
        n = self.n_bands
        if n < 1 or n & (n - 1):
            raise ConfigError(
                f"model.n_bands={n}: the PQMF needs a power of two of bands (e.g. 16), or 1 for "
                f"no PQMF"
            )
        if self.ratio & (self.ratio - 1):
            raise ConfigError(
                f"model.n_bands {n} times model.ratios {self.ratios} is {self.ratio}, not a "
                f"power of two; nn~ needs power-of-two ratios, e.g. ratios [8, 16]"
            )
        if config.crop % self.ratio or config.crop < 2 * self.ratio:
            raise ConfigError(
                f"crop={config.crop} must be a multiple of the model ratio {self.ratio} and at "
                f"least {2 * self.ratio}"
            )


# Values of autoencoder keys added after the first release, for checkpoints saved without them
# (read by checkpoint.config_from_checkpoint through the registry, never for config files).
LEGACY_MODEL_KEYS: dict[str, Any] = {"n_bands": 1, "causal": False}


@dataclass
class DDSPConfig:
    """Arguments of `nn_tilde.models.ddsp.model.DDSP` (section `[ddsp]`)."""

    hop: int = 512  # feature frame hop in samples (a power of two)
    channels: int = 8  # 8: DDSP-CNN-Tiny (2,454 parameters); 16: 7,086
    dilations: list[int] = field(default_factory=lambda: [1, 3, 9, 1, 3, 9])
    n_harmonics: int = 60
    n_noise: int = 65
    reverb: bool = False
    reverb_length: int = 8192
    table_size: int = 1024
    feature_cache: str = ""  # default: DATA/.nn_tilde_cache/ddsp

    @property
    def ratio(self) -> int:
        """Audio samples per feature frame."""
        return self.hop

    def validate(self, config: TrainConfig) -> None:
        hop = self.hop
        if hop < 1 or hop & (hop - 1):
            raise ConfigError(f"ddsp.hop={hop} is not a power of two; nn~ needs e.g. 512")
        if config.crop % hop or config.crop < 2 * hop:
            raise ConfigError(
                f"crop={config.crop} must be a multiple of ddsp.hop={hop}, at least {2 * hop}"
            )

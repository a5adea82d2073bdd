"""Training configuration: dataclass defaults < config file (TOML or JSON) < CLI overrides."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A bad config file or override; the message names the fix."""


@dataclass
class ModelConfig:
    """Arguments of `nn_tilde.models.autoencoder.AutoEncoder`.

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


# Values of model keys added after the first release, for configs saved without them.
LEGACY_MODEL_KEYS: dict[str, Any] = {"n_bands": 1, "causal": False}


@dataclass
class DDSPConfig:
    """Arguments of `nn_tilde.models.ddsp.model.DDSP` (used when `model_type = "ddsp"`)."""

    hop: int = 512  # feature frame hop in samples (a power of two)
    channels: int = 8  # 8: DDSP-CNN-Tiny (2,454 parameters); 16: 7,086
    dilations: list[int] = field(default_factory=lambda: [1, 3, 9, 1, 3, 9])
    n_harmonics: int = 60
    n_noise: int = 65
    reverb: bool = False
    reverb_length: int = 8192
    table_size: int = 1024
    feature_cache: str = ""  # default: DATA/.nn_tilde_cache/ddsp


@dataclass
class TrainConfig:
    """Every knob of `nn-tilde train`. Sizes are in samples at `sample_rate`."""

    sample_rate: int = 44100
    crop: int = 16384  # training excerpt length (a multiple of the model ratio)
    batch_size: int = 8
    steps: int = 10000
    lr: float = 1e-4
    beta_kl: float = 0.01  # weight of the KL term of the variational latent
    val_every: int = 500
    val_crops: int = 16  # fixed validation excerpts
    val_split: float = 0.1  # share of files held out when the folder has no valid/ subfolder
    ckpt_every: int = 1000
    plot: bool = True
    seed: int = 0
    loss_scales: list[int] = field(default_factory=lambda: [2048, 1024, 512, 256, 128])
    num_threads: int = 0  # torch intra-op threads per process; 0 keeps torch's default
    model: ModelConfig = field(default_factory=ModelConfig)
    model_type: str = "autoencoder"  # or "ddsp" (nn_tilde.models.ddsp, section [ddsp])
    ddsp: DDSPConfig = field(default_factory=DDSPConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        model = data.pop("model", {}) or {}
        ddsp = data.pop("ddsp", {}) or {}
        _check_keys(ModelConfig, model, "model.")
        _check_keys(DDSPConfig, ddsp, "ddsp.")
        _check_keys(cls, data, "")
        cfg = cls(**data, model=ModelConfig(**model), ddsp=DDSPConfig(**ddsp))
        cfg.validate()
        return cfg

    @property
    def ratio(self) -> int:
        """Latent frame rate divider: n_bands times the product of the stage strides."""
        r = self.model.n_bands
        for x in self.model.ratios:
            r *= x
        return r

    def validate(self) -> None:
        if self.model_type not in ("autoencoder", "ddsp"):
            raise ConfigError(f'model_type={self.model_type!r}: use "autoencoder" or "ddsp"')
        if self.model_type == "ddsp":
            self._validate_ddsp()
            return
        n = self.model.n_bands
        if n < 1 or n & (n - 1):
            raise ConfigError(
                f"model.n_bands={n}: the PQMF needs a power of two of bands (e.g. 16), or 1 for "
                f"no PQMF"
            )
        if self.ratio & (self.ratio - 1):
            raise ConfigError(
                f"model.n_bands {n} times model.ratios {self.model.ratios} is {self.ratio}, not a "
                f"power of two; nn~ needs power-of-two ratios, e.g. ratios [8, 16]"
            )
        if self.crop % self.ratio or self.crop < 2 * self.ratio:
            raise ConfigError(
                f"crop={self.crop} must be a multiple of the model ratio {self.ratio} and at "
                f"least {2 * self.ratio}"
            )
        for name in ("batch_size", "steps", "val_every", "ckpt_every", "val_crops", "sample_rate"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if not 0 <= self.val_split < 1:
            raise ConfigError("val_split must be in [0, 1)")

    def _validate_ddsp(self) -> None:
        hop = self.ddsp.hop
        if hop < 1 or hop & (hop - 1):
            raise ConfigError(f"ddsp.hop={hop} is not a power of two; nn~ needs e.g. 512")
        if self.crop % hop or self.crop < 2 * hop:
            raise ConfigError(
                f"crop={self.crop} must be a multiple of ddsp.hop={hop}, at least {2 * hop}"
            )
        for name in ("batch_size", "steps", "val_every", "ckpt_every", "val_crops", "sample_rate"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")


def _check_keys(cls: type, data: dict[str, Any], prefix: str) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
            f"known: {', '.join(sorted(prefix + k for k in known))}"
        )


def load_config(path: Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Defaults, then `path` (.toml or .json), then `KEY=VALUE` overrides (VALUE parsed as JSON,
    else kept as a string; dotted keys reach into `model`, e.g. ``model.latent=4``)."""
    data: dict[str, Any] = TrainConfig().to_dict()
    if path is not None:
        data = _merge(data, _read(path))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set steps=200")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ConfigError(f"--set {key}: {p} is not a section; try model.{parts[-1]}")
            node = node[p]
        node[parts[-1]] = value
    try:
        return TrainConfig.from_dict(data)
    except TypeError as exc:
        raise ConfigError(f"bad config: {exc}")


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file; give a .toml or .json file")
    text = path.read_text()
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: invalid JSON ({exc})")
    if path.suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise ConfigError(f"{path}: TOML needs Python >= 3.11; use a .json config instead")
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML ({exc})")
    raise ConfigError(f"{path}: unknown config format; use a .toml or .json file")


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out

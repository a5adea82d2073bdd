"""Training configuration: dataclass defaults < config file (TOML or JSON) < CLI overrides.

Generic keys are `TrainConfig`'s fields; `model_type` picks a registered model type
(registry.py), whose keys are one section, named by the registry (`[model]` for the autoencoder,
`[ddsp]` for DDSP) and held in `TrainConfig.model`. A section of another model type is an error.
Torch-free.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nn_tilde.train.errors import ConfigError
from nn_tilde.train.registry import DEFAULT_MODEL_TYPE, MODEL_TYPES, ModelType, describe, model_type

__all__ = ["ConfigError", "TrainConfig", "load_config"]


@dataclass
class TrainConfig:
    """Every knob of `nn-tilde train`. Sizes are in samples at `sample_rate`."""

    sample_rate: int = 44100
    crop: int = 16384  # training excerpt length (a multiple of the model ratio)
    batch_size: int = 8
    steps: int = 10000
    lr: float = 1e-4
    beta_kl: float = 0.01  # weight of the KL term of the variational latent (autoencoder)
    val_every: int = 500
    val_crops: int = 16  # fixed validation excerpts
    val_split: float = 0.1  # share of files held out when the folder has no valid/ subfolder
    ckpt_every: int = 1000
    plot: bool = True
    seed: int = 0
    loss_scales: list[int] = field(default_factory=lambda: [2048, 1024, 512, 256, 128])
    num_threads: int = 0  # torch intra-op threads per process; 0 keeps torch's default
    model_type: str = DEFAULT_MODEL_TYPE  # a name in registry.MODEL_TYPES
    # the section of model_type (e.g. AutoEncoderConfig, DDSPConfig); None: its defaults
    model: Any = None

    def __post_init__(self) -> None:
        if self.model is None:
            self.model = self.entry.section_class()

    @property
    def entry(self) -> ModelType:
        """The registry's entry for `model_type`."""
        return model_type(self.model_type)

    @property
    def ratio(self) -> int:
        """Audio samples per model frame (the autoencoder's latent ratio, DDSP's hop)."""
        return self.model.ratio

    def to_dict(self) -> dict[str, Any]:
        """Generic keys, then the section under its registered name (what config files hold)."""
        data = asdict(self)
        data[self.entry.section] = data.pop("model")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        entry = model_type(data.get("model_type", DEFAULT_MODEL_TYPE))
        for other in MODEL_TYPES:
            if other is not entry and other.section in data:
                raise ConfigError(
                    f'section [{other.section}] configures model_type "{other.name}", but '
                    f'model_type is "{entry.name}": remove [{other.section}] (and any --set '
                    f'{other.section}.KEY), or set model_type = "{other.name}"'
                )
        section = data.pop(entry.section, None)
        section = {} if section is None else section
        if not isinstance(section, dict):
            raise ConfigError(
                f"{entry.section} must be a section ([{entry.section}] in TOML, an object in "
                f"JSON), not {section!r}"
            )
        _check_keys(entry.section_class, section, f"{entry.section}.")
        generic = {f.name for f in dataclasses.fields(cls)} - {"model"}
        _check_names(generic | {entry.section}, data, "")
        cfg = cls(**data, model=entry.section_class(**section))
        cfg.validate()
        return cfg

    def validate(self) -> None:
        entry = self.entry
        if not isinstance(self.model, entry.section_class):
            raise ConfigError(
                f'model_type "{entry.name}" takes a {entry.section_class.__name__} (section '
                f"[{entry.section}]), not a {type(self.model).__name__}"
            )
        self.model.validate(self)
        for name in ("batch_size", "steps", "val_every", "ckpt_every", "val_crops", "sample_rate"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if not 0 <= self.val_split < 1:
            raise ConfigError("val_split must be in [0, 1)")


def _check_keys(cls: type, data: dict[str, Any], prefix: str) -> None:
    _check_names({f.name for f in dataclasses.fields(cls)}, data, prefix)


def _check_names(known: set[str], data: dict[str, Any], prefix: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
            f"known: {', '.join(sorted(prefix + k for k in known))}"
        )


def load_config(path: Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Defaults, then `path` (.toml or .json), then `KEY=VALUE` overrides (VALUE parsed as JSON,
    else kept as a string; dotted keys reach into the model type's section, e.g.
    ``model.latent=4``, or ``ddsp.hop=256`` with ``model_type=ddsp``)."""
    data: dict[str, Any] = _read(path) if path is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected keys and sections at the top, not {type(data).__name__}"
        )
    sections = {t.section for t in MODEL_TYPES}
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
            child = node.setdefault(p, {}) if node is data and p in sections else node.get(p)
            if not isinstance(child, dict):
                raise ConfigError(
                    f"--set {key}: {p} is not a section; the sections are those of the model "
                    f"types {describe()}, e.g. --set model.latent=4"
                )
            node = child
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

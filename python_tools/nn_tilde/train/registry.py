"""The model types `nn-tilde train` knows: the one place that maps a `model_type` to its config
section, its checkpoint `kind` and its trainer module.

Adding a model type is one entry in `MODEL_TYPES`, a section class in sections.py and a trainer
module with the `Trainer` functions. Nothing else in the kit branches on a model type: config.py
reads and writes the section the entry names, `train()` below runs the entry's trainer, and
checkpoint.py rebuilds a model through the entry of the checkpoint's `kind`.

Torch-free: trainers are imported (with importlib) only when one is used, so that reading a config
does not import torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from nn_tilde.train.errors import ConfigError
from nn_tilde.train.sections import LEGACY_MODEL_KEYS, AutoEncoderConfig, DDSPConfig

if TYPE_CHECKING:  # config.py imports the registry; these are for signatures only
    from nn_tilde.authoring.module import Module
    from nn_tilde.train.config import TrainConfig


@runtime_checkable
class Trainer(Protocol):
    """What a trainer module defines (as module-level functions)."""

    def train(
        self,
        config: TrainConfig,
        data_dir: Path,
        out_dir: Path,
        resume: Path | None,
        progress: bool,
        say: Callable[[str], None],
    ) -> dict[str, Any]:
        """Train; write `OUT/ckpt_*.pt` and `OUT/last.pt`; return the final checkpoint dict."""
        ...

    def model_from_checkpoint(
        self,
        ckpt: dict[str, Any],
        config: TrainConfig,
        name: str,
        metadata: dict[str, str] | None,
    ) -> Module:
        """A checkpoint of this type (and its config, as checkpoint.py read it) -> nn~ model."""
        ...


@dataclass(frozen=True)
class ModelType:
    name: str  # the value of `model_type`
    section: str  # its config section, as written in files and in `--set SECTION.KEY=VALUE`
    section_class: type  # the section's dataclass (sections.py)
    kind: str  # the checkpoint's "kind"
    trainer: str  # the trainer module, imported when first used
    # keys added to the section after checkpoints were written, with the values they had then
    legacy_keys: Mapping[str, Any] = field(default_factory=dict)

    def load_trainer(self) -> Trainer:
        return importlib.import_module(self.trainer)  # type: ignore[return-value]


MODEL_TYPES: tuple[ModelType, ...] = (
    ModelType(
        name="autoencoder",
        section="model",
        section_class=AutoEncoderConfig,
        kind="nn_tilde.autoencoder",
        trainer="nn_tilde.train.autoencoder",
        legacy_keys=LEGACY_MODEL_KEYS,
    ),
    ModelType(
        name="ddsp",
        section="ddsp",
        section_class=DDSPConfig,
        kind="nn_tilde.ddsp",
        trainer="nn_tilde.train.ddsp",
    ),
)
DEFAULT_MODEL_TYPE = MODEL_TYPES[0].name


def describe() -> str:
    """The registered types and their sections, for error messages."""
    return ", ".join(f'"{t.name}" (section [{t.section}])' for t in MODEL_TYPES)


def model_type(name: object) -> ModelType:
    for t in MODEL_TYPES:
        if t.name == name:
            return t
    raise ConfigError(
        f"model_type={name!r} is not a registered model type; use one of {describe()}"
    )


def for_kind(kind: object) -> ModelType | None:
    """The entry whose checkpoints have this `kind`, or None."""
    return next((t for t in MODEL_TYPES if t.kind == kind), None)


def resume_problem(trained: TrainConfig, config: TrainConfig) -> str | None:
    """Why a checkpoint trained with `trained` cannot be resumed with `config` (None: it can).
    The weights are loaded into the model `config` builds, so the model type and its section
    must be the same; generic keys such as steps or lr may change."""
    if trained.model_type != config.model_type:
        return (
            f'it was trained as model_type "{trained.model_type}", the config says '
            f'"{config.model_type}"'
        )
    old, new = asdict(trained.model), asdict(config.model)
    section = config.entry.section
    changed = [f"{section}.{k}={old[k]!r} -> {new.get(k)!r}" for k in old if old[k] != new.get(k)]
    if changed:
        return (
            f"it was trained with another [{section}] section ({', '.join(changed)}); its "
            f"weights do not fit that model"
        )
    return None


def train(
    config: TrainConfig,
    data_dir: Path,
    out_dir: Path,
    resume: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict[str, Any]:
    """Train `config.model_type`'s model with its trainer; returns the final checkpoint dict.
    Raises DataError for an unusable data folder."""
    trainer = model_type(config.model_type).load_trainer()
    return trainer.train(config, data_dir, out_dir, resume, progress, say)

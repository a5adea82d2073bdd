"""The training registry is the one place that knows the model types: config sections, checkpoint
kinds and trainers all go through it (torch-free; the trainers are imported when used)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nn_tilde.train
from nn_tilde.train.config import ConfigError, TrainConfig, load_config
from nn_tilde.train.registry import MODEL_TYPES, Trainer, for_kind, model_type

TRAIN = Path(nn_tilde.train.__file__).parent


def test_entries_are_distinct_and_do_not_shadow_generic_keys() -> None:
    for attribute in ("name", "section", "kind", "trainer"):
        values = [getattr(t, attribute) for t in MODEL_TYPES]
        assert len(set(values)) == len(values), attribute
    generic = {f.name for f in dataclasses.fields(TrainConfig)} - {"model"}
    assert not generic & {t.section for t in MODEL_TYPES}
    # the section names as users write them, and the checkpoint kinds already written
    assert [(t.name, t.section, t.kind) for t in MODEL_TYPES] == [
        ("autoencoder", "model", "nn_tilde.autoencoder"),
        ("ddsp", "ddsp", "nn_tilde.ddsp"),
    ]


@pytest.mark.parametrize("entry", MODEL_TYPES, ids=lambda t: t.name)
def test_trainer_module_satisfies_the_interface(entry) -> None:
    trainer = entry.load_trainer()
    assert isinstance(trainer, Trainer)
    for name in ("train", "model_from_checkpoint"):
        want = list(inspect.signature(getattr(Trainer, name)).parameters)[1:]  # without self
        assert list(inspect.signature(getattr(trainer, name)).parameters) == want, name
    assert for_kind(entry.kind) is entry and model_type(entry.name) is entry


@pytest.mark.parametrize("entry", MODEL_TYPES, ids=lambda t: t.name)
def test_section_round_trip(entry) -> None:
    """to_dict writes the one section under its registered name; from_dict reads it back."""
    config = load_config(None, [f"model_type={entry.name}"])
    assert isinstance(config.model, entry.section_class)
    data = config.to_dict()
    assert entry.section in data
    assert not {t.section for t in MODEL_TYPES if t is not entry} & set(data)
    assert TrainConfig.from_dict(json.loads(json.dumps(data))) == config


def test_unknown_model_type_lists_the_registered_ones(tmp_path) -> None:
    with pytest.raises(ConfigError, match="rave") as err:
        load_config(None, ["model_type=rave"])
    for t in MODEL_TYPES:
        assert f'"{t.name}" (section [{t.section}])' in str(err.value)


def test_section_of_another_model_type_is_refused_naming_the_fix(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('model_type = "ddsp"\n[model]\nlatent = 4\n')
    with pytest.raises(ConfigError, match=r'remove \[model\].*or set model_type = "autoencoder"'):
        load_config(cfg)
    with pytest.raises(ConfigError, match=r'remove \[ddsp\].*or set model_type = "ddsp"'):
        load_config(None, ["ddsp.hop=256"])
    with pytest.raises(ConfigError, match="not a section"):
        load_config(None, ["steps.x=1"])
    # the right section, in a file and with --set, works as before
    cfg.write_text('model_type = "ddsp"\n[ddsp]\nhop = 256\n')
    c = load_config(cfg, ["ddsp.channels=16", "crop=4096"])
    assert (c.model_type, c.model.hop, c.model.channels, c.ratio) == ("ddsp", 256, 16, 256)
    with pytest.raises(ConfigError, match=r"ddsp\.hop=3"):
        load_config(cfg, ["ddsp.hop=3"])


def test_checkpoints_of_earlier_versions_still_load() -> None:
    """Earlier versions wrote every model type's section (the shipped DDSP checkpoints have a
    `model` section without `n_bands`): the checkpoint-reading path keeps only its own."""
    from nn_tilde.train.checkpoint import config_from_checkpoint

    old = load_config(None, ["model_type=ddsp"]).to_dict()
    old["model"] = {"latent": 8, "capacity": 16, "ratios": [4, 4, 4, 2], "dilations": [1, 3, 9]}
    with pytest.raises(ConfigError, match=r"section \[model\]"):
        TrainConfig.from_dict(old)  # a user's config with both: refused
    c = config_from_checkpoint({"kind": "nn_tilde.ddsp", "config": old})
    assert c.model_type == "ddsp" and c.model.hop == 512
    ae = load_config(None).to_dict()
    ae["ddsp"] = dataclasses.asdict(load_config(None, ["model_type=ddsp"]).model)
    del ae["model"]["n_bands"]
    c = config_from_checkpoint({"kind": "nn_tilde.autoencoder", "config": ae})
    assert (c.model_type, c.model.n_bands) == ("autoencoder", 1)


def test_config_loading_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from nn_tilde.train.config import ConfigError, load_config\n"
        "load_config(None, ['model_type=ddsp', 'ddsp.hop=256'])\n"
        "try:\n"
        "    load_config(None, ['model_type=rave'])\n"
        "except ConfigError:\n"
        "    pass\n"
        "import nn_tilde.train\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _branches_on_model_type(tree: ast.AST) -> list[int]:
    """Lines comparing `model_type` or a checkpoint `kind` with something."""

    def names_type(node: ast.AST) -> bool:
        if isinstance(node, (ast.Attribute, ast.Name)):  # config.model_type (not inspect's .kind)
            return getattr(node, "attr", getattr(node, "id", None)) == "model_type"
        if isinstance(node, ast.Subscript):  # ckpt["kind"], data["model_type"]
            key = node.slice
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get":
            key = node.args[0] if node.args else None  # ckpt.get("kind")
        else:
            return False
        return isinstance(key, ast.Constant) and key.value in ("model_type", "kind")

    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare) and any(map(names_type, [node.left, *node.comparators]))
    ]


def test_only_the_registry_branches_on_the_model_type() -> None:
    kit = TRAIN.parent
    found = {
        str(f.relative_to(kit)): lines
        for f in sorted(kit.rglob("*.py"))
        if f != TRAIN / "registry.py"
        and (lines := _branches_on_model_type(ast.parse(f.read_text())))
    }
    assert not found, f"branch on the model type outside train/registry.py: {found}"
    for branch in ('config.model_type == "ddsp"', 'ckpt.get("kind") in KINDS', 'c["kind"] != k'):
        assert _branches_on_model_type(ast.parse(branch)), branch

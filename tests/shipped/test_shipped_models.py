"""Every model shipped in models/ passes `nn-tilde check --strict`, and is reproduced by the command
models/README.md gives for it (same contract, same outputs on the embedded test vectors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from support.commands import NN_TILDE

REPO = Path(__file__).resolve().parents[2]
MODELS = sorted((REPO / "models").glob("*.ts"))
MAKERS = {"demo.ts": REPO / "models" / "make_demo.py"}
# Trained models: their recipe (data, train, export commands) is in models/README.md and takes
# about an hour of CPU, too long for a test; tests/shipped/test_trained_models.py plays them in Pd.
TRAINED = {"violin_pqmf.ts"}
# models rebuilt from a shipped training checkpoint: name -> (recipe, checkpoint)
CHECKPOINT_MAKERS = {
    name: (REPO / "models" / "make_ddsp.py", REPO / "models" / name.replace(".ts", ".pt"))
    for name in ("ddsp_violin.ts", "ddsp_flute.ts")
}


def test_models_folder_is_documented():
    readme = (REPO / "models" / "README.md").read_text()
    assert MODELS, "models/ ships no model"
    for m in MODELS:
        assert m.name in readme, f"{m.name} has no entry in models/README.md"


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_shipped_model_passes_the_checker(model: Path):
    p = subprocess.run(
        [*NN_TILDE, "check", "--strict", "--quick", "--no-speed", str(model)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "result: PASS" in p.stdout


@pytest.mark.parametrize("model", [m for m in MODELS if m.name in TRAINED], ids=lambda p: p.name)
def test_trained_model_documents_its_recipe(model: Path):
    """The README entry gives the commands, and the file says how long it was trained."""
    readme = (REPO / "models" / "README.md").read_text()
    entry = readme[readme.index(f"## {model.name}") :]
    commands = ("nn-tilde data", "nn-tilde train", "nn-tilde export", "nn-tilde check --strict")
    for command in commands:
        assert command in entry, f"{model.name}: README entry lacks `{command}`"
    meta = torch.jit.load(str(model)).get_metadata()
    assert int(meta["training_steps"]) > 0 and meta["architecture"].endswith("AutoEncoder")
    assert model.stat().st_size < 20 * 2**20


@pytest.mark.parametrize(
    "model", [m for m in MODELS if m.name not in TRAINED], ids=lambda p: p.name
)
def test_shipped_model_is_reproduced_by_its_recipe(model: Path, tmp_path: Path):
    out = tmp_path / model.name
    if model.name in CHECKPOINT_MAKERS:
        maker, ckpt = CHECKPOINT_MAKERS[model.name]
        cmd = [sys.executable, str(maker), str(ckpt), str(out)]
    else:
        maker = MAKERS.get(model.name)
        assert maker is not None, (
            f"no recipe known for {model.name}: add it to MAKERS and models/README.md"
        )
        cmd = [sys.executable, str(maker), str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    shipped, rebuilt = torch.jit.load(str(model)), torch.jit.load(str(out))
    assert list(shipped.get_methods()) == list(rebuilt.get_methods())
    for m in shipped.get_methods():
        assert torch.equal(getattr(shipped, f"{m}_params"), getattr(rebuilt, f"{m}_params"))
        x = getattr(shipped, f"{m}_test_input")
        torch.manual_seed(0)
        a = getattr(shipped, m)(x)
        torch.manual_seed(0)
        b = getattr(rebuilt, m)(x)
        assert torch.allclose(a, b, atol=1e-6), m

"""`nn-tilde train` and checkpoint export on a tiny synthetic set (STYLE.md item 14)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from nn_tilde.cli import main
from nn_tilde.train.config import ConfigError, load_config
from nn_tilde.train.loss import MultiScaleSTFTLoss
from support import pdrun
from support.commands import TORCHRUN

pytestmark = [
    pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning"),
    # matplotlib 3.10.3 calls pyparsing names deprecated in pyparsing 3.3
    pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
RATE = 22050

TINY = """
sample_rate = 22050
crop = 2048
batch_size = 2
steps = 4
val_every = 2
ckpt_every = 2
val_crops = 2
loss_scales = [256, 128, 64]
num_threads = 1
[model]
latent = 2
capacity = 4
ratios = [2]
dilations = [1]
n_bands = 2
"""


def _synthetic_set(folder: Path, n: int = 4, seconds: float = 0.5) -> None:
    """Decaying harmonic tones at 44.1 kHz (resampled to the model rate by the loader)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    t = np.arange(int(44100 * seconds)) / 44100
    for i in range(n):
        f0 = rng.uniform(110, 880)
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5)) * np.exp(-3 * t) * 0.3
        sf.write(folder / f"tone{i}.wav", np.stack([x, x], 1), 44100)  # stereo -> mono


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train")
    _synthetic_set(root / "data")
    (root / "tiny.toml").write_text(TINY)
    argv = ["train", str(root / "data"), str(root / "run"), "--config", str(root / "tiny.toml")]
    assert main([*argv, "-q"]) == 0
    return root


def test_loss_prefers_the_right_signal() -> None:
    torch.manual_seed(0)
    loss = MultiScaleSTFTLoss([256, 64])
    x = torch.randn(2, 1, 2048)
    assert float(loss(x, x)) < 1e-4
    assert float(loss(x, 0.9 * x)) < float(loss(x, torch.randn_like(x)))


def test_config_layers(tmp_path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"steps": 7, "model": {"latent": 3}}))
    c = load_config(cfg, ["model.capacity=5", "lr=0.01"])
    assert (c.steps, c.model.latent, c.model.capacity, c.lr) == (7, 3, 5, 0.01)
    assert c.batch_size == 8  # default kept
    with pytest.raises(ConfigError, match="unknown config key"):
        load_config(None, ["stepz=3"])
    with pytest.raises(ConfigError, match="power of two"):
        load_config(None, ["model.ratios=[3, 2]"])
    with pytest.raises(ConfigError, match="n_bands"):
        load_config(None, ["model.n_bands=3"])


def test_default_model_is_pqmf_ratio_2048() -> None:
    c = load_config(None)
    assert (c.model.n_bands, c.model.causal, c.ratio) == (16, True, 2048)
    assert load_config(None, ["model.n_bands=1"]).ratio == 128  # no PQMF


def test_checkpoint_config_predating_pqmf_means_no_pqmf() -> None:
    """A checkpoint written before `n_bands` existed rebuilds the model it was trained as."""
    from nn_tilde.train.checkpoint import config_from_checkpoint

    old = load_config(None).to_dict()
    for key in ("n_bands", "causal"):
        del old["model"][key]
    old["model"]["ratios"] = [4, 4, 4, 2]
    c = config_from_checkpoint({"config": old})
    assert (c.model.n_bands, c.model.causal, c.ratio) == (1, False, 128)


def test_usage_errors(tmp_path, capsys) -> None:
    assert main(["train", str(tmp_path / "missing"), str(tmp_path / "o")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["train", str(tmp_path / "empty"), str(tmp_path / "o"), "-q"]) == 2
    assert "no .wav/.flac/.ogg" in capsys.readouterr().err
    assert main(["train", str(tmp_path), str(tmp_path / "o"), "--resume"]) == 2
    assert "train without --resume" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing.pt"), str(tmp_path / "o.ts")]) == 2


def test_training_outputs(trained) -> None:
    run = trained / "run"
    names = sorted(p.name for p in run.iterdir())
    assert names == [
        "ckpt_0000002.pt",
        "ckpt_0000004.pt",
        "last.pt",
        "plot_0000002.png",
        "plot_0000004.png",
    ]
    ckpt = torch.load(run / "last.pt", weights_only=False)
    assert ckpt["step"] == 4
    assert [s for s, _ in ckpt["history"]["train"]] == [1, 2, 3, 4]
    assert [s for s, _ in ckpt["history"]["valid"]] == [2, 4]
    assert all(np.isfinite(v) for _, v in ckpt["history"]["train"])
    assert (run / "plot_0000004.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_matches_uninterrupted(trained, tmp_path) -> None:
    """4 steps in one go == 2 steps, then --resume to 4 (same seeds, same batches)."""
    run = tmp_path / "run"
    shutil.copytree(trained / "run", run)
    (run / "last.pt").unlink()
    shutil.copy(run / "ckpt_0000002.pt", run / "last.pt")
    cfg = str(trained / "tiny.toml")
    assert main(["train", str(trained / "data"), str(run), "--config", cfg, "--resume", "-q"]) == 0
    a = torch.load(trained / "run" / "last.pt", weights_only=False)
    b = torch.load(run / "last.pt", weights_only=False)
    assert b["step"] == 4
    for k, v in a["model"].items():
        torch.testing.assert_close(b["model"][k], v, msg=k)
    # and training changed the weights at all
    c = torch.load(trained / "run" / "ckpt_0000002.pt", weights_only=False)
    assert any(not torch.equal(c["model"][k], v) for k, v in a["model"].items())


def test_resume_refuses_a_checkpoint_that_does_not_fit_the_config(
    trained, tmp_path, capsys
) -> None:
    """--resume with another model section or model type: a usage error naming what differs,
    before any training (the weights would not load into the model the config builds)."""
    run = tmp_path / "run"
    shutil.copytree(trained / "run", run)
    base = ["train", str(trained / "data"), str(run), "--config", str(trained / "tiny.toml")]
    assert main([*base, "--set", "model.latent=3", "--resume", "-q"]) == 2
    err = capsys.readouterr().err
    assert "another [model] section" in err and "model.latent=" in err and "-> 3" in err, err
    ddsp = ["train", str(trained / "data"), str(run), "--set", "model_type=ddsp"]
    assert main([*ddsp, "--resume", "-q"]) == 2
    err = capsys.readouterr().err
    assert 'trained as model_type "autoencoder"' in err and '"ddsp"' in err, err
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert main([*base, "--resume", str(tmp_path / "junk.pt"), "-q"]) == 2
    assert "cannot be read by torch.load" in capsys.readouterr().err
    # nothing was trained: the run folder holds what it held
    assert torch.load(run / "last.pt", weights_only=False)["step"] == 4


def test_export_check_and_pd(trained, tmp_path) -> None:
    """Checkpoint -> export API -> checker -> (if built) a render through nn~ in Pd."""
    from nn_tilde.check.runner import CheckOptions, check_file
    from nn_tilde.train.checkpoint import model_from_checkpoint

    out = tmp_path / "tiny.ts"
    model = model_from_checkpoint(trained / "run" / "last.pt")
    model.export_to_ts(out, fresh_process=False, buffer_sizes=[64, 512])
    loaded = torch.jit.load(str(out))
    assert loaded.get_methods() == ["encode", "decode", "forward"]
    assert loaded.encode_params.tolist() == [1, 1, 2, 4]
    assert loaded.decode_params.tolist() == [2, 4, 1, 1]
    assert loaded.forward_params.tolist() == [1, 1, 1, 1]
    options = CheckOptions.quick(speed=False, largest_buffer=1024, chunk_trials=1)
    report = check_file(out, options)
    assert report.exit_code(False) == 0, report.to_text(strict=False, verbose=False)

    pd_external = Path(os.environ.get("NN_PD_DIR", ROOT / "build" / "nn~")) / "nn~.pd_linux"
    if not pd_external.exists():
        pytest.skip(f"{pd_external} is not built (bash scripts/setup.sh builds it)")
    (tmp_path / "pd").mkdir()
    t = np.arange(8192) / 44100
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
    result = pdrun.render(tmp_path / "pd", f"{out} forward 512", x, 1)
    assert "couldn't create" not in result.log and not result.nn_errors(), result.log
    assert np.isfinite(result.outputs).all() and np.abs(result.outputs).max() > 0


def test_export_declares_the_exact_streaming_delay(trained, tmp_path, capsys) -> None:
    """`nn-tilde export CKPT` declares the streaming layers' delays, not the probe's estimate, and
    the file's forward, fed chunk by chunk, is the offline model shifted by exactly that delay."""
    from nn_tilde.train.autoencoder import build_model
    from nn_tilde.train.checkpoint import config_from_checkpoint, load_checkpoint

    out = tmp_path / "tiny.ts"
    ckpt = trained / "run" / "last.pt"
    assert main(["export", str(ckpt), str(out), "--no-check", "--no-fresh-process"]) == 0
    printed = capsys.readouterr().out
    ck = load_checkpoint(ckpt)
    model = build_model(config_from_checkpoint(ck))
    model.load_state_dict(ck["model"])
    model.eval()
    stream = model.streaming()
    # tiny config: 2 causal PQMF bands of 32 taps, so 32 - 2 = 30 samples, all in the synthesis
    assert (stream.encode_delay, stream.decode_delay, stream.forward_delay) == (0, 30, 30)
    loaded = torch.jit.load(str(out))
    declared = {m: int(getattr(loaded, f"{m}_latency").item()) for m in loaded.get_methods()}
    assert declared == {"encode": 0, "decode": 30, "forward": 30}
    assert json.loads(loaded.get_metadata()["model_config"])["n_bands"] == 2
    assert f"declared {declared}" in printed
    gen = torch.Generator().manual_seed(3)
    x = 0.3 * torch.randn(1, 1, 4 * 256, generator=gen)
    sizes = [4, 64, 8, 256, 4, 128, 32, 512, 12, 4]
    assert sum(sizes) == x.size(-1)
    with torch.no_grad():
        loaded.reset()
        z = torch.cat([loaded.forward(c) for c in torch.split(x, sizes, -1)], -1)
        y = model(x)
    d = declared["forward"]
    torch.testing.assert_close(z[..., d:], y[..., : x.size(-1) - d], atol=1e-4, rtol=1e-3)
    # one sample off is visibly wrong: the declared delay is the exact one
    assert (z[..., d + 1 :] - y[..., : x.size(-1) - d - 1]).abs().max() > 1e-3


def test_export_cli_rejects_other_pickles(tmp_path, capsys) -> None:
    torch.save({"weights": 1}, tmp_path / "other.pt")
    assert main(["export", str(tmp_path / "other.pt"), str(tmp_path / "o.ts")]) == 2
    assert "not an `nn-tilde train` checkpoint" in capsys.readouterr().err


def test_ddp_two_cpu_processes(tmp_path) -> None:
    """torchrun --nproc_per_node 2 (gloo): both ranks train, rank 0 writes the checkpoint."""
    _synthetic_set(tmp_path / "data")
    (tmp_path / "tiny.toml").write_text(TINY)
    cmd = [*TORCHRUN, "--standalone", "--nproc_per_node", "2", "-m", "nn_tilde", "train"]
    cmd += [str(tmp_path / "data"), str(tmp_path / "run"), "--config", str(tmp_path / "tiny.toml")]
    cmd += ["--set", "steps=2", "--set", "plot=false", "-q"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 process(es)" in proc.stderr
    ckpt = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    assert ckpt["step"] == 2 and len(ckpt["history"]["train"]) == 2
    assert not list((tmp_path / "run").glob("*.png"))


def test_plot_without_matplotlib_says_so_and_stops_plotting(tmp_path, monkeypatch) -> None:
    """Every trainer plots through loop.save_plot: without matplotlib it says so, renders
    nothing and turns `plot` off, so the trainers do not call it (or say it) again."""
    from nn_tilde.train.loop import save_plot

    monkeypatch.setitem(sys.modules, "nn_tilde.train.plots", None)  # import raises ImportError
    for model_type in ("autoencoder", "ddsp"):
        config, said = load_config(None, [f"model_type={model_type}"]), []
        history: dict[str, list[list[float]]] = {"train": [], "valid": []}
        save_plot(config, history, tmp_path, 1, lambda: pytest.fail("rendered"), said.append)
        assert not config.plot and len(said) == 1 and "matplotlib" in said[0]
    assert not list(tmp_path.iterdir())

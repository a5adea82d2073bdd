"""The built nn~ plugin (VST3 and LV2) in a host made of JUCE's hosting classes
(tests/plugin/plugin_host.cpp): its output is the model run in Python, shifted by the latency the
plugin reports; state round trips; bad files, missing files and swaps end in messages, never a
crash.
The host renders offline (setNonRealtime), so the plugin runs the engine's wait policy."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from plugin_run import host_binary, lv2_bundle, render, vst3_bundle

from support import catalogue
from support.reference import host_reference

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "models" / "demo.ts"
TOL = 1e-6
FORMATS = ["vst3", "lv2"]

pytestmark = pytest.mark.skipif(
    host_binary() is None or vst3_bundle() is None or lv2_bundle() is None,
    reason="the plugin is not built (needs JUCE: scripts/setup.sh, then cmake --build build)",
)


def _signal(channels: int, frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.8 * rng.uniform(-1, 1, (channels, frames))).astype(np.float32)


def _demo_forward(x: np.ndarray, drive: float = 4.0) -> np.ndarray:
    """models/make_demo.py's forward: tanh(drive x) / tanh(drive), written from its docstring."""
    return (np.tanh(drive * x.astype(np.float64)) / math.tanh(drive)).astype(np.float32)


def _shifted(y: np.ndarray, latency: int) -> np.ndarray:
    """What the plugin outputs for a model output y: y delayed by `latency` samples."""
    out = np.zeros_like(y)
    out[:, latency:] = y[:, : y.shape[1] - latency]
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_demo_plays_with_no_state_and_matches_python(fmt: str, tmp_path: Path):
    x = _signal(1, 44100, seed=1)
    r = render(fmt, x, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.latency > 0, r.stdout
    assert r.latency == r.latency_after
    if fmt == "vst3":  # reported at prepareToPlay, before any audio
        assert r.latency_before == r.latency
    np.testing.assert_allclose(r.out, _shifted(_demo_forward(x), r.latency), atol=TOL, rtol=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_stereo_bus_runs_a_mono_method_as_two_batch_items(fmt: str, tmp_path: Path):
    x = _signal(2, 30000, seed=2)
    x[1] *= 0.25  # two different channels: a mix-up would show
    r = render(fmt, x, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    np.testing.assert_allclose(r.out, _shifted(_demo_forward(x), r.latency), atol=TOL, rtol=0)


def _accumulator(tmp_path: Path) -> Path:
    return catalogue.build("accumulator", tmp_path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_stateful_model_matches_python(fmt: str, tmp_path: Path):
    """`accumulator` adds 1e-3 per call: the plugin's buffers must be the engine's (B = latency / 2
    with no headroom), one call each, from the model's fresh state."""
    path = _accumulator(tmp_path)
    x = _signal(1, 40000, seed=3)
    r = render(fmt, x, tmp_path, env={"NN_PLUGIN_MODEL": str(path)})
    assert r.returncode == 0, r.stdout + r.stderr
    b = r.latency // 2
    ref = host_reference(str(path), "forward", x, b)
    got = r.out[:, r.latency : r.latency + ref.shape[1]]
    n = got.shape[1]
    np.testing.assert_allclose(got, ref[:, :n], atol=TOL, rtol=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_state_restores_model_and_parameters(fmt: str, tmp_path: Path):
    path = _accumulator(tmp_path)
    x = _signal(1, 20000, seed=4)
    state = tmp_path / "state.bin"
    a = render(
        fmt,
        x,
        tmp_path,
        env={"NN_PLUGIN_MODEL": str(path)},
        args=["--state-out", str(state), "--param", "Dry/wet", "0.5"],
        tag="a",
    )
    assert a.returncode == 0 and state.exists(), a.stdout + a.stderr
    b = render(fmt, x, tmp_path, args=["--state-in", str(state)], tag="b")
    assert b.returncode == 0, b.stdout + b.stderr
    assert f"restored {path} (method forward)" in b.stderr, b.stderr
    np.testing.assert_allclose(b.out, a.out, atol=TOL, rtol=0)
    # dry/wet 0.5: half the delayed dry signal, half the model: not the demo's output
    assert not np.allclose(b.out, _shifted(_demo_forward(x), b.latency), atol=1e-3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_refused_file_gives_a_message_and_silence(fmt: str, tmp_path: Path):
    bad = tmp_path / "not_a_model.ts"
    bad.write_bytes(b"this is not a TorchScript archive")
    x = _signal(1, 8000, seed=5)
    r = render(fmt, x, tmp_path, env={"NN_PLUGIN_MODEL": str(bad)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[nn~] error:" in r.stderr and "not_a_model.ts" in r.stderr, r.stderr
    assert np.all(r.out == 0.0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_file_at_restore_gives_a_message_silence_and_keeps_the_rest(
    fmt: str, tmp_path: Path
):
    model = tmp_path / "gone.ts"
    shutil.copy(DEMO, model)
    x = _signal(1, 8000, seed=6)
    state, again = tmp_path / "state.bin", tmp_path / "again.bin"
    a = render(
        fmt,
        x,
        tmp_path,
        env={"NN_PLUGIN_MODEL": str(model)},
        args=["--state-out", str(state), "--param", "Output gain", "0.25"],
        tag="a",
    )
    assert a.returncode == 0, a.stdout + a.stderr
    model.unlink()
    b = render(
        fmt, x, tmp_path, args=["--state-in", str(state), "--state-out", str(again)], tag="b"
    )
    assert b.returncode == 0, b.stdout + b.stderr
    assert "missing" in b.stderr and "gone.ts" in b.stderr, b.stderr
    assert np.all(b.out == 0.0)
    # The state saved again still names the file and keeps the parameter: with the file back, a
    # third instance restored from it plays what the first played.
    shutil.copy(DEMO, model)
    c = render(fmt, x, tmp_path, args=["--state-in", str(again)], tag="c")
    assert c.returncode == 0, c.stdout + c.stderr
    assert np.abs(a.out).max() > 0
    np.testing.assert_allclose(c.out, a.out, atol=TOL, rtol=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_model_swap_while_rendering(fmt: str, tmp_path: Path):
    path = _accumulator(tmp_path)
    state = tmp_path / "acc.bin"
    x = _signal(1, 30000, seed=7)
    a = render(
        fmt,
        x,
        tmp_path,
        env={"NN_PLUGIN_MODEL": str(path)},
        args=["--state-out", str(state)],
        tag="a",
    )
    assert a.returncode == 0, a.stdout + a.stderr
    b = render(fmt, x, tmp_path, args=["--swap-state", str(state), "20"], tag="b")
    assert b.returncode == 0, b.stdout + b.stderr
    assert np.all(np.isfinite(b.out))
    # Before the swap: the demo.
    head = 20 * 512
    np.testing.assert_allclose(
        b.out[:, :head], _shifted(_demo_forward(x), b.latency)[:, :head], atol=TOL, rtol=0
    )


class FixedRate(torch.nn.Module):
    """x / 2, made for 44100 Hz, and no set_sample_rate: it cannot follow another rate."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.5

    @torch.jit.export
    def get_sample_rate(self) -> int:
        return 44100


@pytest.mark.parametrize("fmt", FORMATS)
def test_model_that_cannot_follow_the_host_rate_is_refused(fmt: str, tmp_path: Path):
    """The plugin refuses rather than resamples (docs/PLUGIN.md says why): at 48000 Hz a model made
    for 44100 Hz without set_sample_rate gives a message and silence; at 44100 Hz it plays."""
    path = catalogue.save_scripted(FixedRate(), tmp_path / "fixed_rate.ts")
    x = _signal(1, 8000, seed=8)
    env = {"NN_PLUGIN_MODEL": str(path)}
    r = render(fmt, x, tmp_path, env=env, rate=48000, tag="48k")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "set the project's sample rate to 44100 Hz" in r.stderr, r.stderr
    assert np.all(r.out == 0.0)
    ok = render(fmt, x, tmp_path, env=env, rate=44100, tag="44k")
    assert "set the project's sample rate" not in ok.stderr, ok.stderr
    np.testing.assert_allclose(ok.out, _shifted(0.5 * x, ok.latency), atol=TOL, rtol=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_demo_follows_another_host_rate(fmt: str, tmp_path: Path):
    """demo.ts takes the host's rate (set_sample_rate): at 48000 Hz it plays, with the core's
    rate.mismatch warning (it was made at 44100 Hz)."""
    x = _signal(1, 8000, seed=9)
    r = render(fmt, x, tmp_path, rate=48000)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "made for 44100 Hz" in r.stderr, r.stderr
    np.testing.assert_allclose(r.out, _shifted(_demo_forward(x), r.latency), atol=TOL, rtol=0)


def test_load_while_rendering_keeps_the_old_model_until_the_new_one_is_ready(tmp_path: Path):
    """The editor's Load path (NnProcessor::load_file, in the test host's own process): the demo
    plays, without a gap, until the background load is done; then the new model plays."""
    path = _accumulator(tmp_path)
    x = _signal(1, 60000, seed=10)
    src, dst = tmp_path / "in.f32", tmp_path / "out.f32"
    x.tofile(src)
    p = subprocess.run(
        [
            str(host_binary()),
            "--load-while-rendering",
            str(path),
            "40",
            "--in",
            str(src),
            "--out",
            str(dst),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    values = dict(line.split() for line in p.stdout.splitlines())
    latency, loaded_at = int(values["latency"]), int(values["loaded_at"])
    assert loaded_at > 40, p.stdout + p.stderr
    y = np.fromfile(dst, dtype=np.float32)[None]
    assert np.all(np.isfinite(y))
    demo = _shifted(_demo_forward(x), latency)
    half = _shifted(0.5 * x, latency)  # the accumulator without its offset (1e-3 per call)
    # Up to the request, the demo; after it, each engine buffer (B = latency / 2) is either the
    # demo's or the new model's, never silence, and once the new model plays it stays.
    swap = 40 * 512
    np.testing.assert_allclose(y[:, :swap], demo[:, :swap], atol=TOL, rtol=0)
    b = latency // 2
    switched = False
    for start in range(latency, y.shape[1] - b, b):
        seg = slice(start, start + b)
        is_demo = np.abs(y[:, seg] - demo[:, seg]).max() <= TOL
        is_new = np.abs(y[:, seg] - half[:, seg]).max() < 0.05
        assert is_demo or is_new, f"buffer at {start} is neither model's output"
        assert not (switched and is_demo), f"the demo plays again at {start}"
        switched = switched or (is_new and not is_demo)
    assert switched, "the new model never played"

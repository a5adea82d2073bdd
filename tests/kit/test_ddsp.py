"""DDSP-CNN-Tiny: streaming == offline for the decoder, the synthesisers and the whole
model (random chunk sizes, STYLE.md item 10), the nn~ export under the checker, and a training
smoke test (seconds) through `nn-tilde train` with ``model_type = "ddsp"``. The feature extractor
has its own tests (test_ddsp_features.py)."""

import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from nn_tilde.cli import main
from nn_tilde.models.ddsp.decoder import Decoder
from nn_tilde.models.ddsp.model import DDSP, StreamingDDSP
from nn_tilde.models.ddsp.synth import HarmonicSynth, NoiseSynth, Reverb
from nn_tilde.streaming import random_chunk_sizes

pytestmark = [
    pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning"),
]

HOP = 512


def _chunks(total: int, seed: int = 0) -> list[int]:
    return random_chunk_sizes(total, 1, random.Random(seed), max_chunk=9)


def _run(stream, tensors: list[torch.Tensor], sizes: list[int], dim: int) -> torch.Tensor:
    pieces = zip(*[torch.split(t, sizes, dim) for t in tensors], strict=True)
    return torch.cat([stream(*p) for p in pieces], -1)


def _trained_like(model: DDSP) -> DDSP:
    """Random weights large enough that every unit matters (an untrained net is near-linear)."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.add_(torch.randn_like(p) * 0.4)
        model.loud_mean.fill_(-35.0)
        model.loud_std.fill_(15.0)
    return model.eval()


def _feats(batch: int, frames: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(2)
    f0 = 100 + 900 * torch.rand(batch, 1, frames, generator=g)
    f0[..., frames // 3 :] = 2500.0  # harmonics cross Nyquist
    loud = -80 + 70 * torch.rand(batch, 1, frames, generator=g)
    return torch.cat([f0, loud], 1)


@pytest.mark.parametrize("channels", [8, 16])
def test_decoder_streams_like_offline(channels: int) -> None:
    dec = Decoder(channels).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for p in dec.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        x = torch.randn(2, 2, 120)
        y = dec(x)
        generic = dec.streaming()
        assert generic.delay == 0
        fused = dec.fused_streaming()
        scripted = torch.jit.script(dec.fused_streaming())
        sizes = _chunks(120)
        torch.testing.assert_close(_run(generic, [x], sizes, -1), y, atol=1e-5, rtol=1e-5)
        z = torch.cat([fused(c) for c in torch.split(x, sizes, -1)], 1).transpose(1, 2)
        torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-5)
        z = torch.cat([scripted(c) for c in torch.split(x, sizes, -1)], 1).transpose(1, 2)
        torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-5)
    assert sum(p.numel() for p in Decoder(8).parameters()) == 2454


def test_harmonic_synth_streams_like_offline_and_plays_f0() -> None:
    synth = HarmonicSynth()
    frames = 200
    f0 = torch.full((2, frames), 441.0)
    f0[1] = torch.linspace(200, 3000, frames)
    amps = torch.rand(2, frames, 60)
    with torch.no_grad():
        y = synth(f0, amps)
        synth.reset()
        z = _run(synth, [f0, amps], _chunks(frames, 3), 1)
        scripted = torch.jit.script(HarmonicSynth())
        z2 = _run(scripted, [f0, amps], _chunks(frames, 4), 1)
    torch.testing.assert_close(z, y, atol=2e-5, rtol=1e-5)
    torch.testing.assert_close(z2, y, atol=2e-5, rtol=1e-5)
    # a 441 Hz fundamental only: the spectrum peaks at 441 Hz and the phase never drifts
    with torch.no_grad():
        synth.reset()
        one = torch.zeros(1, frames, 60)
        one[..., 0] = 1.0
        s = synth(f0[:1], one)[0, HOP * 4 :].numpy()
    t = np.arange(HOP * 4, HOP * frames) / 44100
    # (the first frame glides up from 0 Hz, so compare up to a constant phase)
    half = len(t) // 2
    angles = []
    for part in (slice(0, half), slice(half, None)):
        z = np.mean(s[part] * np.exp(-2j * np.pi * 441 * t[part]))
        assert abs(abs(z) - 0.5) < 1e-3  # a unit sine at 441 Hz
        angles.append(np.angle(z))
    assert abs(angles[0] - angles[1]) < 1e-3  # no phase drift over 2.3 s


def test_noise_synth_streams_like_offline() -> None:
    synth = NoiseSynth(noise_frames=16)
    mags = torch.rand(2, 70, 65)
    with torch.no_grad():
        y = synth(mags)  # longer than the noise table: cycles it
        synth.reset()
        z = _run(synth, [mags], _chunks(70, 5), 1)
        scripted = torch.jit.script(NoiseSynth(noise_frames=16))
        z2 = _run(scripted, [mags], _chunks(70, 6), 1)
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(z2, y, atol=1e-5, rtol=1e-5)
    # unit magnitudes: unit-variance white noise
    with torch.no_grad():
        synth.reset()
        w = synth(torch.ones(1, 64, 65))[0, HOP:]
    assert 0.8 < float(w.std()) < 1.2


def test_reverb_streams_like_offline() -> None:
    rev = Reverb(length=1000)
    x = torch.randn(2, 5000)
    with torch.no_grad():
        y = rev(x)
        rev.reset()
        z = _run(rev, [x], random_chunk_sizes(5000, 100, random.Random(0), 9), 1)
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("reverb", [False, True])
def test_whole_decode_path_streams_like_offline(fused: bool, reverb: bool) -> None:
    model = _trained_like(DDSP(reverb=reverb, reverb_length=2048))
    feats = _feats(2, 90)
    with torch.no_grad():
        model.reset()
        y = model(feats)
        stream = torch.jit.script(StreamingDDSP(model, fused=fused))
        z = torch.cat([stream(c) for c in torch.split(feats, _chunks(90, 7), -1)], -1)
    assert float(y.abs().max()) > 0.01
    torch.testing.assert_close(z, y, atol=5e-5, rtol=1e-4)


def test_exported_model_contract_and_attributes(tmp_path: Path) -> None:
    from nn_tilde.check.runner import CheckOptions, check_file
    from nn_tilde.models.ddsp.features import Features
    from nn_tilde.models.ddsp.model import ExportedDDSP

    model = _trained_like(DDSP())
    exported = ExportedDDSP(model, lambda: Features(44100, HOP), {"name": "test"})
    out = tmp_path / "ddsp.ts"
    exported.export_to_ts(out, fresh_process=False)
    m = torch.jit.load(str(out))
    assert m.get_methods() == ["forward", "decode", "features"]
    assert m.forward_params.tolist() == [1, 1, 1, 1]
    assert m.decode_params.tolist() == [2, HOP, 1, 1]
    assert m.features_params.tolist() == [1, 1, 2, HOP]
    assert sorted(m.get_attributes()) == ["loudness_offset", "pitch_shift"]
    # forward == decode(features(x)) on a fresh load, and pitch_shift moves the synthesised pitch
    t = np.arange(HOP * 40) / 44100
    x = torch.tensor(0.3 * np.sin(2 * np.pi * 330 * t), dtype=torch.float32).view(1, 1, -1)
    with torch.no_grad():
        feats = m.features(x)
        torch.testing.assert_close(m.forward(x), m.decode(feats), atol=1e-5, rtol=1e-5)
        assert m.set_pitch_shift(12.0) == 0 and list(m.get_pitch_shift()) == [12.0]
        assert m.set_pitch_shift(100.0) != 0
        assert m.set_loudness_offset(-6.0) == 0
        m.reset()
        shifted = m.decode(feats)
    assert float(shifted.abs().max()) > 0
    report = check_file(out, CheckOptions.quick(speed=False))
    assert report.exit_code(True) == 0, report.to_text(strict=True, verbose=False)


def _tones(folder: Path, n: int = 3, seconds: float = 1.0) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    t = np.arange(int(44100 * seconds)) / 44100
    for i in range(n):
        f0 = rng.uniform(200, 800)
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * 0.2
        sf.write(folder / f"tone{i}.wav", x.astype(np.float32), 44100)


def test_training_smoke_and_export(tmp_path: Path) -> None:
    """`nn-tilde train` (model_type ddsp, a few steps), features cached, then `nn-tilde export`."""
    _tones(tmp_path / "data")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        'model_type = "ddsp"\ncrop = 8192\nbatch_size = 2\nsteps = 3\nval_every = 3\n'
        "ckpt_every = 3\nval_crops = 2\nnum_threads = 1\nplot = false\nlr = 0.003\n"
        "loss_scales = [1024, 256, 64]\n[ddsp]\nchannels = 8\n"
    )
    run = tmp_path / "run"
    argv = ["train", str(tmp_path / "data"), str(run), "--config", str(cfg), "-q"]
    assert main(argv) == 0
    ckpt = torch.load(run / "last.pt", weights_only=False)
    assert ckpt["kind"] == "nn_tilde.ddsp" and ckpt["step"] == 3
    assert all(np.isfinite(v) for _, v in ckpt["history"]["train"])
    assert list((tmp_path / "data" / ".nn_tilde_cache" / "ddsp").glob("*.npy"))
    out = tmp_path / "tiny.ts"
    assert main(["export", str(run / "last.pt"), str(out), "--no-fresh-process"]) == 0
    m = torch.jit.load(str(out))
    assert m.get_model_sample_rate() == 44100
    assert m.get_metadata()["training_steps"] == "3"

"""DDSP features (nn_tilde.models.ddsp.features): streaming == offline, TorchScript, pitch
accuracy on
synthetic tones, loudness calibration and A-weighting."""

import random

import numpy as np
import pytest
import torch

from nn_tilde.models.ddsp.features import (
    Features,
    a_weighting_db,
    analyze_offline,
    bench_features,
    compute_features,
)
from nn_tilde.streaming.check import random_chunk_sizes, run_chunked, scripted_roundtrip

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

SR = 44100
HOP = 512

torch.set_num_threads(1)


def harmonic(f0, seconds=0.6, sr=SR, n_harm=30, amp=0.3, rolloff=1.0, phase_seed=0):
    """Sawtooth-like tone (harmonic k at amplitude 1/k^rolloff) below Nyquist."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(phase_seed)
    out = np.zeros_like(t)
    for k in range(1, n_harm + 1):
        if k * f0 >= 0.45 * sr:
            break
        out += np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) / k**rolloff
    return (amp * out / np.abs(out).max()).astype(np.float32)


def sine(freq, seconds=0.5, amp=1.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def cents(est, ref):
    return 1200.0 * np.log2(np.asarray(est) / ref)


def mixed_signal(batch=1, seed=0):
    """Tones, a glide, silence and noise (exercises the f0 hold), [B, 1, T], T multiple of hop."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(batch):
        f = 110.0 * 2 ** (b / 3)
        glide_f = np.linspace(f, 3 * f, int(0.3 * SR))
        glide = 0.3 * np.sin(2 * np.pi * np.cumsum(glide_f) / SR)
        parts = [
            np.zeros(3000),
            harmonic(f, 0.25, phase_seed=b),
            np.zeros(9000),
            0.05 * rng.standard_normal(6000),
            glide,
            harmonic(2.5 * f, 0.2, phase_seed=b + 7),
        ]
        x = np.concatenate(parts)
        rows.append(x[: len(x) // HOP * HOP])
    n = min(len(r) for r in rows)
    return torch.tensor(np.stack([r[:n] for r in rows]), dtype=torch.float32)[:, None]


def offline(feat, x):
    """The module run as one chunk with delay frames of zeros appended, delay removed."""
    feat.reset()
    y = feat.analyze(torch.nn.functional.pad(x, [0, feat.delay * HOP]))[..., feat.delay :]
    feat.reset()
    return y


def assert_close_features(a, b):
    # f0 (held) and loudness; voicing flags identical
    assert torch.equal(a[:, 3], b[:, 3])
    torch.testing.assert_close(a[:, 0], b[:, 0], rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(a[:, 1], b[:, 1], rtol=0, atol=1e-3)
    torch.testing.assert_close(a[:, 2], b[:, 2], rtol=0, atol=1e-4)


def test_interface_and_delay():
    feat = Features()
    assert feat.delay == 1 and feat.chunk_multiple == HOP
    assert (feat.ratio_num, feat.ratio_den) == (1, HOP)
    x = mixed_signal()
    y = feat(x)
    assert y.shape == (1, 2, x.size(-1) // HOP)
    assert torch.isfinite(y).all() and (y[:, 0] > 0).all()
    assert feat.analyze(x).shape == (1, 4, x.size(-1) // HOP)


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("scripted", [False, True])
def test_streaming_equals_offline(batch, scripted, tmp_path):
    torch.manual_seed(0)
    x = mixed_signal(batch)
    ref = offline(Features(), x)
    feat = Features()
    if scripted:
        feat = scripted_roundtrip(feat, str(tmp_path / "features.ts"))
    rng = random.Random(batch)
    for _ in range(2):
        feat.reset()
        sizes = random_chunk_sizes(x.size(-1), HOP, rng, max_chunk=6)
        z = run_chunked(feat.analyze, x, sizes)
        assert z.shape == (batch, 4, x.size(-1) // HOP)
        assert_close_features(ref[..., : z.size(-1) - feat.delay], z[..., feat.delay :])
    # forward = first two channels of analyze, same stream conventions
    feat.reset()
    z2 = run_chunked(feat, x, random_chunk_sizes(x.size(-1), HOP, rng))
    n = z2.size(-1) - feat.delay
    torch.testing.assert_close(z2[:, 0, 1:], ref[:, 0, :n], rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(z2[:, 1, 1:], ref[:, 1, :n], rtol=0, atol=1e-3)


def test_batch_change_and_reset_start_new_stream(tmp_path):
    x4 = mixed_signal(4)
    feat = scripted_roundtrip(Features(), str(tmp_path / "f.ts"))
    first = feat.analyze(x4[..., : 8 * HOP])
    feat.analyze(x4[:1, :, : 8 * HOP])  # batch change: new stream
    feat.reset()
    again = feat.analyze(x4[..., : 8 * HOP])
    torch.testing.assert_close(first, again)
    feat.reset()
    fresh = Features().analyze(x4[..., : 8 * HOP])
    torch.testing.assert_close(first, fresh, rtol=1e-5, atol=1e-4)


def test_compute_features_aligned():
    x = mixed_signal()[0, 0]
    n = x.numel() - 100  # not a multiple of hop
    f0, loud = compute_features(x[:n].numpy(), SR)
    assert f0.shape == loud.shape == (-(-n // HOP),)
    ref = offline(Features(), x[None, None])[0]
    k = (n - 1024) // HOP + 1  # frames whose window (t*hop +- 1024) ends before the cut
    np.testing.assert_allclose(f0[:k], ref[0, :k].numpy(), rtol=1e-5)
    np.testing.assert_allclose(loud[:k], ref[1, :k].numpy(), atol=1e-4)


def test_frame_centred_on_hop():
    # a click at sample 10 * hop: loudness peaks on frame 10, symmetric around it
    x = np.zeros(30 * HOP, np.float32)
    x[10 * HOP] = 1.0
    _, loud = compute_features(x, SR)
    assert int(np.argmax(loud)) == 10
    assert abs(loud[9] - loud[11]) < 1e-3 and abs(loud[8] - loud[12]) < 1e-3


def test_unvoiced_holds_last_f0():
    feat = Features()
    x = np.concatenate([np.zeros(6 * HOP), harmonic(330.0, 0.3), np.zeros(20 * HOP)])
    res = analyze_offline(x, SR)
    f0, voiced = res["f0"], res["voiced"]
    assert (f0[:3] == feat.f0_init).all() and voiced[:3].sum() == 0
    assert voiced[-5:].sum() == 0 and voiced.sum() > 10
    assert abs(cents(f0[-1], 330.0)) < 10
    assert np.all(f0 > 0)


@pytest.mark.parametrize("f0", np.geomspace(80.0, 1500.0, 12).round(2).tolist())
def test_pitch_harmonic_tones(f0):
    res = analyze_offline(harmonic(f0, 0.5, phase_seed=int(f0)), SR)
    core = slice(3, -3)
    err = np.abs(cents(res["f0"][core], f0))
    assert np.median(err) < 10.0
    assert res["voiced"][core].mean() > 0.95
    assert (err > 600).mean() == 0  # no octave errors on a clean tone


@pytest.mark.parametrize("f0", [50.0, 98.0, 220.0, 523.25, 1046.5, 1975.5])
def test_pitch_sines_and_periodicity(f0):
    res = analyze_offline(sine(f0, 0.5, 0.5), SR)
    core = slice(3, -3)
    assert np.median(np.abs(cents(res["f0"][core], f0))) < 10.0
    assert res["voiced"][core].min() == 1.0
    assert res["periodicity"][core].min() > 0.9


def test_noise_is_unvoiced():
    rng = np.random.default_rng(1)
    res = analyze_offline((0.3 * rng.standard_normal(SR // 2)).astype(np.float32), SR)
    assert res["voiced"].mean() < 0.1


def test_loudness_gain_and_calibration():
    x = sine(1000.0, 0.5, 0.25)
    _, l1 = compute_features(x, SR)
    _, l2 = compute_features(2 * x, SR)
    core = slice(3, -3)
    np.testing.assert_allclose(l2[core] - l1[core], 20 * np.log10(2), atol=0.01)
    # full-scale 1 kHz sine: mean square 1/2 -> -3.01 dB (A-weighting is 0 dB at 1 kHz)
    _, lf = compute_features(sine(1000.0, 0.5, 1.0), SR)
    np.testing.assert_allclose(lf[core], -3.01, atol=0.05)
    _, silent = compute_features(np.zeros(8 * HOP, np.float32), SR)
    assert np.all(silent == -100.0)


def test_a_weighting():
    np.testing.assert_allclose(a_weighting_db(np.array([1000.0])), 0.0, atol=0.01)
    np.testing.assert_allclose(a_weighting_db(np.array([50.0, 100.0])), [-30.2, -19.1], atol=0.1)
    core = slice(3, -3)
    lv = {f: np.median(compute_features(sine(f, 0.5, 0.5), SR)[1][core]) for f in (50, 1000)}
    drop = lv[1000] - lv[50]
    # a 2048-sample Hann frame spreads 50 Hz over +-43 Hz where A rises fast: ~29 dB, not 30.2
    assert 28.0 < drop < 32.0, drop


@pytest.mark.parametrize("frame", [None, 2176, 2056, 2050])
def test_blocked_decimation_is_the_fir(frame):
    """The decimation filter, computed in blocks against a banded matrix, equals the plain FIR
    decimation (numpy) on the analysis buffer, also for frames that are not whole hops."""
    feat = Features(SR, HOP, frame=frame)
    x = torch.randn(1, 1, 4 * HOP) * 0.3
    n = feat.context + x.size(-1)  # the analysis buffer: cache + input
    buf = torch.randn(1, n)
    got = feat.decimate_signal(buf)[0].numpy()
    fir = feat.fir_bank[: feat.taps, 0].numpy()
    want = np.correlate(buf[0].numpy(), fir, mode="valid")[:: feat.decimate]
    assert feat.decimate == 2 and got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert torch.isfinite(feat(x)).all()


def test_float64_and_bench_smoke():
    x = mixed_signal().double()
    y = Features()(x)
    assert y.dtype == torch.float64 and torch.isfinite(y).all()
    res = bench_features(seconds=0.05)
    assert res["eager"] > 0 and res["scripted"] > 0


def test_pitch_eval_sines():
    from nn_tilde.evaluate import pitch as pitch_eval

    rows = pitch_eval.evaluate(step=12, instruments=["sine"], progress=lambda s: None)
    assert len(rows) == 1 and rows[0]["voiced"] > 0.99
    assert rows[0]["median"] < 5 and rows[0]["octave"] == 0
    assert "pure sine" in pitch_eval.format_table(rows)


def test_pitch_eval_rendered_flute():
    import shutil

    from nn_tilde.evaluate import pitch as pitch_eval
    from nn_tilde.train import render as data

    try:
        data.find_soundfont()
    except data.DataError:
        pytest.skip("no GM soundfont")
    if shutil.which("fluidsynth") is None:
        pytest.skip("no fluidsynth")
    rows = pitch_eval.evaluate(step=12, instruments=["flute"], progress=lambda s: None)
    assert rows[0]["voiced"] > 0.9 and rows[0]["median"] < 15 and rows[0]["octave"] < 0.05

"""The trained models shipped in models/ play in nn~ under `pd -batch`: encode -> decode and
forward give finite, non-silent output of the input's length, equal (1e-4) to the TorchScript file
run in Python buffer by buffer with the host convention, shifted by the latency nn~ reports.

(`nn-tilde check --strict` on every shipped model is in test_shipped_models.py.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from support import pdrun
from support.reference import host_reference

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.pd, pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")]

# trained models and the buffer size they are played at here (their ratio is 2048)
TRAINED = {"violin_pqmf.ts": 2048}
TOL = 1e-4


def _input(frames: int) -> np.ndarray:
    """A violin-register phrase: a gliding sawtooth-ish tone with vibrato and an envelope."""
    t = np.arange(frames) / 44100
    f0 = 440 * 2 ** (t / t[-1]) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / 44100
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = np.minimum(1, t / 0.1) * np.minimum(1, (t[-1] - t) / 0.2)
    return (0.3 * x * env).astype(np.float32)[None]


def _render(tmp: Path, model: Path, method: str, x: np.ndarray, n_out: int, buf: int):
    tmp.mkdir()
    res = pdrun.render(tmp, f"{model} {method} {buf}", x, n_out, extra_frames=3 * buf)
    assert res.returncode == 0 and "couldn't create" not in res.log, res.log
    assert not res.nn_errors(), res.nn_errors()
    assert res.outputs is not None, res.log
    return res, int(res.info["latency"][0])


def _compare(y: np.ndarray, latency: int, expected: np.ndarray) -> float:
    """max |nn~ - python| over the whole input, nn~'s output shifted by its latency."""
    assert np.all(y[:, :latency] == 0.0), "output before the reported latency must be silent"
    n = expected.shape[1]
    assert y.shape[1] - latency >= n, "recording too short"
    return float(np.abs(y[:, latency : latency + n] - expected).max())


@pytest.mark.parametrize("name", sorted(TRAINED))
def test_trained_model_plays_in_pd(name: str, tmp_path: Path) -> None:
    if not (REPO / "models" / name).exists():
        pytest.fail(f"models/{name} is missing")
    try:
        pdrun.external_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    model = REPO / "models" / name
    buf = TRAINED[name]
    loaded = torch.jit.load(str(model))
    latent = int(loaded.encode_params[2])
    x = _input(12 * buf)

    # forward
    res, lat = _render(tmp_path / "fwd", model, "forward", x, 1, buf)
    want = host_reference(str(model), "forward", x, buf)
    y = res.outputs
    assert y.shape == (1, x.shape[1] + 3 * buf) and np.isfinite(y).all()
    assert np.abs(y).max() > 1e-2, "forward is silent"
    assert _compare(y, lat, want) <= TOL

    # encode, then decode the latents nn~ produced (frames held for 2048 samples)
    res, lat_e = _render(tmp_path / "enc", model, "encode", x, latent, buf)
    z = res.outputs
    assert z.shape[0] == latent and np.isfinite(z).all() and np.abs(z).max() > 1e-3
    assert _compare(z, lat_e, host_reference(str(model), "encode", x, buf)) <= TOL
    assert lat_e % buf == 0  # so the held latent frames stay on buffer boundaries
    z = np.ascontiguousarray(z[:, lat_e : lat_e + x.shape[1]])
    res, lat_d = _render(tmp_path / "dec", model, "decode", z, 1, buf)
    y = res.outputs
    assert y.shape == (1, x.shape[1] + 3 * buf) and np.isfinite(y).all()
    assert np.abs(y).max() > 1e-2, "decode is silent"
    assert _compare(y, lat_d, host_reference(str(model), "decode", z, buf)) <= TOL
    sf.write(tmp_path / "decoded.wav", y[0], 44100)  # for listening when the test is kept

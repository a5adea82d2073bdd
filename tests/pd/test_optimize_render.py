"""nn~ plays files written by `nn-tilde optimize` (frozen, and int8-quantized: libtorch's
quantized kernels in the host), and its render equals the optimized file run in Python buffer
by buffer (the host convention of support/reference.py), shifted by the reported latency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nn_tilde import cli
from nn_tilde.optimize.run import read_record
from support import accel_models, pdrun
from support.reference import host_reference

pytestmark = [
    pytest.mark.pd,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning"),
]


def _signal(frames: int) -> np.ndarray:
    rng = np.random.default_rng(9)
    t = np.arange(frames) / 44100.0
    x = 0.5 * np.sin(2 * np.pi * 330.0 * t) + 0.2 * rng.uniform(-1, 1, frames)
    return x[None].astype(np.float32)


@pytest.mark.parametrize(
    "model,variant,method",
    [
        ("conv_stack", "int8-static", "forward"),
        ("autoencoder", "frozen", "forward"),
        ("autoencoder", "frozen+ofi", "encode"),
    ],
)
def test_nn_plays_the_optimized_file_as_python_runs_it(tmp_path: Path, model, variant, method):
    source = accel_models.export(model, tmp_path)
    out = tmp_path / f"{model}_{variant}.ts"
    bounds = ["--min-snr", "0", "--max-peak", "10"]
    argv = ["optimize", str(source), "-o", str(out), "--variant", variant, "--passes", variant]
    assert cli.main([*argv, *bounds, "--seconds", "0.05", "--no-plot", "--no-check", "-q"]) == 0
    assert read_record(out)["variant"] == variant
    x = _signal(20000)
    n_out = 4 if method == "encode" else 1
    res = pdrun.render(tmp_path, f"{out} {method} 2048", x, n_out, extra_frames=4 * 2048)
    assert res.returncode == 0, res.log
    assert not res.nn_errors(), res.nn_errors()
    assert res.outputs is not None, res.log
    expected = host_reference(str(out), method, x, 2048)
    latency = int(res.info["latency"][0])
    n = min(expected.shape[1], res.outputs.shape[1] - latency)
    err = np.abs(res.outputs[:, latency : latency + n] - expected[:, :n]).max()
    assert err <= 1e-6, f"max |nn~ - python| = {err:g}"
    assert np.abs(expected).max() > 1e-3  # the model made sound: the comparison means something

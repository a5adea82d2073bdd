"""Models written with the reference nn_tilde Python package (1.6.0, installed apart from our kit
because both are imported as `nn_tilde`) load in our nn~ and render what the model computes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support import pdrun
from support.reference import host_reference

pytestmark = pytest.mark.pd

SCRIPT = r"""
import sys, torch
import nn_tilde  # the reference package
from typing import List

class Model(nn_tilde.Module):
    def __init__(self):
        super().__init__()
        self.register_attribute("gain", 0.5)
        self.register_method(
            "forward", 1, 1, 1, 1, input_labels=["(signal) in"], output_labels=["(signal) out"]
        )
        self.register_method("encode", 1, 1, 2, 256)
        self.register_method("decode", 2, 256, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x * 3.0) * self.gain[0]

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        g = x.reshape(b, t // 256, 256)
        return torch.stack([g.abs().mean(-1), g[..., 0]], 1)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z[:, :1] - z[:, 1:]).repeat_interleave(256, -1)

    @torch.jit.export
    def get_gain(self) -> List[float]:
        return [self.gain[0]]

    @torch.jit.export
    def set_gain(self, g: float) -> int:
        self.gain = (g,)
        return 0

Model().export_to_ts(sys.argv[1])
"""


def _reference_dir() -> Path:
    d = os.environ.get("NN_REF_PACKAGE_DIR")
    if not d or not (Path(d) / "nn_tilde").is_dir():
        pytest.skip(
            "the reference package is not installed: scripts/test.sh installs it "
            "(pip install --no-deps --target build/ref-nn-tilde nn-tilde==1.6.0)"
        )
    return Path(d)


@pytest.fixture(scope="module")
def ref_model(tmp_path_factory) -> Path:
    ref = _reference_dir()
    out = tmp_path_factory.mktemp("ref") / "ref_model.ts"
    script = out.with_name("export_ref.py")
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ref))
    p = subprocess.run(
        [sys.executable, str(script), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=out.parent,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.mark.parametrize("method,n_in,n_out", [("forward", 1, 1), ("encode", 1, 2)])
def test_reference_package_model_renders(tmp_path: Path, ref_model: Path, method, n_in, n_out):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (n_in, 12288)).astype(np.float32)
    res = pdrun.render(
        tmp_path,
        f"{ref_model} {method} 1024",
        x,
        n_out,
        messages=["set gain 0.25"],
        extra_frames=4096,
    )
    assert res.returncode == 0 and not res.nn_errors(), res.log
    import torch

    m = torch.jit.load(str(ref_model))
    m.set_gain(0.25)
    p = tmp_path / "gain.ts"
    m.save(str(p))
    expected = host_reference(str(p), method, x, 1024)
    latency = int(res.info["latency"][0])
    y = res.outputs
    err = np.abs(y[:, latency : latency + expected.shape[1]] - expected).max()
    assert err <= 1e-6, err
    assert res.info["methods"] == ["forward", "encode", "decode"]
    assert res.info["attribute"] == ["gain", "float"]

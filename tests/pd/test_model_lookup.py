"""Where `[nn~ demo]` finds its model: next to the patch first, then in Pd's search path, then in
the models/ folder beside the nn~ binary Pd loaded (the package's own models; build/nn~/models in
the build tree, which the build fills with models/demo.ts). Three files named demo.ts that sound
different tell which one played, and `info` names it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from support import pdrun
from support.plain_models import Gain
from support.reference import host_reference

pytestmark = pytest.mark.pd

BUF = 512


def _input() -> np.ndarray:
    t = np.arange(20000) / 44100.0
    return (0.8 * np.sin(2 * np.pi * 330.0 * t)).astype(np.float32)[None]


def _gain_model(path: Path, gain: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.script(Gain(gain)).save(str(path))
    return path


def _render(tmp: Path, search_path: Path | None = None) -> pdrun.PdResult:
    extra = ["-path", str(search_path)] if search_path else []
    return pdrun.render(
        tmp,
        f"demo forward {BUF}",
        _input(),
        1,
        extra_frames=4 * BUF,
        run=lambda patch: pdrun.run_pd(patch, extra=extra),
    )


def _played(res: pdrun.PdResult, expected: np.ndarray) -> None:
    assert res.returncode == 0 and not res.nn_errors(), res.log
    assert res.outputs is not None, res.log
    latency = int(res.info["latency"][0])
    n = expected.shape[1]
    err = np.abs(res.outputs[:, latency : latency + n] - expected).max()
    assert err <= 1e-6, f"max |nn~ - python| = {err:g}"


def test_the_patch_folder_comes_first(tmp_path: Path):
    mine = _gain_model(tmp_path / "demo.ts", 0.5)
    elsewhere = _gain_model(tmp_path / "searched" / "demo.ts", 0.25)
    res = _render(tmp_path, search_path=elsewhere.parent)
    assert res.info["model"] == [str(mine)], res.log
    x = _input()
    _played(res, 0.5 * x[:, : (x.shape[1] // BUF) * BUF])


def test_pd_search_path_before_the_package_models(tmp_path: Path):
    searched = _gain_model(tmp_path / "searched" / "demo.ts", 0.25)
    res = _render(tmp_path, search_path=searched.parent)
    assert Path(res.info["model"][0]).resolve() == searched.resolve(), res.log
    x = _input()
    _played(res, 0.25 * x[:, : (x.shape[1] // BUF) * BUF])


def test_the_package_models_folder_comes_last(tmp_path: Path):
    res = _render(tmp_path)
    shipped = pdrun.external_dir() / "models" / "demo.ts"
    assert Path(res.info["model"][0]).resolve() == shipped.resolve(), res.log
    _played(res, host_reference(str(shipped), "forward", _input(), BUF))


def test_a_missing_model_names_the_package_models_folder(tmp_path: Path):
    p = pdrun.render(tmp_path, "nosuchmodel forward", _input(), 1)
    expected = f"not found next to the patch or in Pd's search path, nor in {pdrun.external_dir()}"
    assert expected in p.log, p.log

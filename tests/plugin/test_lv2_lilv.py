"""The LV2 bundle outside JUCE: in a host built on lilv (tests/plugin/lv2_host.c) it renders a WAV
through demo.ts with the expected output and reports its latency on the latency port; `lv2info`
lists its ports and the lilv host its parameters (lv2info does not show LV2 parameters)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from plugin_run import BUILD, lv2_bundle, lv2_uri

LILV_HOST = BUILD / "nn_lv2_host"

pytestmark = pytest.mark.skipif(
    lv2_bundle() is None or not LILV_HOST.exists(),
    reason="the LV2 bundle or the lilv host is not built",
)


def test_lilv_host_renders_the_demo_and_reads_the_latency_port(tmp_path: Path):
    rng = np.random.default_rng(11)
    x = (0.8 * rng.uniform(-1, 1, (30000, 2))).astype(np.float32)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, 44100, subtype="FLOAT")
    # freeWheeling=1: the host renders faster than real time, which JUCE passes on as an offline
    # render (setNonRealtime), so the plugin waits for every buffer.
    p = subprocess.run(
        [str(LILV_HOST), str(lv2_bundle()), lv2_uri(), str(src), str(dst), "freeWheeling=1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    latency = int(p.stdout.split("latency")[1].split()[0])
    assert latency > 0, p.stdout
    y, rate = sf.read(dst, dtype="float32")
    assert rate == 44100 and y.shape == x.shape
    ref = np.tanh(4.0 * x.astype(np.float64)) / math.tanh(4.0)  # models/make_demo.py's forward
    expected = np.zeros_like(y)
    expected[latency:] = ref[: len(ref) - latency]
    np.testing.assert_allclose(y, expected, atol=1e-6, rtol=0)


def test_lv2info_lists_the_ports_and_lilv_the_parameters():
    assert shutil.which("lv2info"), "needs lilv-utils (scripts/setup.sh)"
    env = dict(os.environ, LV2_PATH=str(lv2_bundle().parent))
    p = subprocess.run(["lv2info", lv2_uri()], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    for word in ["audio_in_1", "audio_in_2", "audio_out_1", "audio_out_2", "reported by port"]:
        assert word in p.stdout, f"{word} missing from lv2info:\n{p.stdout}"
    # lv2info does not show LV2 parameters (patch:writable): the lilv host lists them.
    q = subprocess.run(
        [str(LILV_HOST), str(lv2_bundle()), lv2_uri()], capture_output=True, text=True, timeout=120
    )
    assert q.returncode == 0, q.stdout + q.stderr
    for label in [
        "Input gain",
        "Output gain",
        "Dry/wet",
        "Bypass",
        "Late policy",
        "Attribute 1",
        "Attribute 8",
    ]:
        assert f" {label}" in q.stdout, f"{label} missing:\n{q.stdout}"

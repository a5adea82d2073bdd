"""Runs the built nn~ plugin (VST3 or LV2) in the JUCE test host (tests/plugin/plugin_host.cpp) and
reads back what it rendered. The build folder is NN_BUILD_DIR, else the repository's build/."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("NN_BUILD_DIR", REPO / "build"))


def _one(pattern: str) -> Optional[Path]:
    found = sorted(BUILD.glob(pattern))
    return found[0] if found else None


def vst3_bundle() -> Optional[Path]:
    return _one("nn_plugin_artefacts/*/VST3/nn~.vst3")


def lv2_bundle() -> Optional[Path]:
    return _one("nn_plugin_artefacts/*/LV2/nn~.lv2")


def lv2_uri() -> str:
    """The plugin's URI, as the bundle's manifest names it (CMake's NN_PLUGIN_LV2_URI)."""
    manifest = (lv2_bundle() / "manifest.ttl").read_text()
    return re.search(r"^<(https?://[^>]+)>\s+a lv2:Plugin", manifest, re.M).group(1)


def host_binary() -> Optional[Path]:
    return _one("nn_plugin_host_artefacts/*/nn_plugin_host")


@dataclass
class Render:
    out: np.ndarray  # [channels, frames]
    latency: int  # what the plugin reports (VST3: at prepareToPlay; LV2: its port after a run)
    latency_before: int  # what the host read before rendering
    latency_after: int  # and after
    returncode: int
    stdout: str
    stderr: str


def render(
    fmt: str,
    x: np.ndarray,
    tmp: Path,
    *,
    env: Optional[Dict[str, str]] = None,
    rate: int = 44100,
    block: int = 512,
    args: Optional[List[str]] = None,
    tag: str = "r",
) -> Render:
    """x: [channels, frames] float32 -> the plugin's output, same shape. JUCE's LV2 wrapper exports
    the plugin's default layout only (stereo): a mono signal goes to both LV2 inputs and the first
    output is returned."""
    mono_lv2 = fmt == "lv2" and x.shape[0] == 1
    if mono_lv2:
        x = np.concatenate([x, x])
    host = host_binary()
    assert host is not None, f"no test host in {BUILD}: build the target nn_plugin_host"
    src, dst = tmp / f"{tag}_in.f32", tmp / f"{tag}_out.f32"
    np.ascontiguousarray(x, dtype=np.float32).tofile(src)
    if fmt == "vst3":
        where = ["--vst3", str(vst3_bundle())]
    else:
        where = ["--lv2", str(lv2_bundle().parent), lv2_uri()]
    cmd = [str(host), *where, "--in", str(src), "--out", str(dst), "--channels", str(x.shape[0])]
    cmd += ["--rate", str(rate), "--block", str(block), *(args or [])]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NN_PLUGIN_")}
    full_env.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=full_env)
    lat = after = -1
    for line in p.stdout.splitlines():
        if line.startswith("latency "):
            lat = int(line.split()[1])
        if line.startswith("latency_after "):
            after = int(line.split()[1])
    out = np.fromfile(dst, dtype=np.float32).reshape(x.shape) if dst.exists() else np.zeros(0)
    if mono_lv2 and out.size:
        out = out[:1]
    # JUCE's LV2 host reads the plugin's latency port after a run: before the render it says 0.
    latency = after if fmt == "lv2" else lat
    return Render(out, latency, lat, after, p.returncode, p.stdout, p.stderr)

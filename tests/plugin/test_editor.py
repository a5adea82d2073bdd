"""The plugin's editor opens under Xvfb (a display of its own), and what it draws names the demo
model: the test host builds the processor in its own process, opens the editor in a window, writes
the editor's snapshot to the build folder (plugin_editor.png) and lists the labels it shows; the
screen itself is captured with ImageMagick's `import` (plugin_screen.png) and must not be blank."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from gui.layout import Xvfb
from plugin_run import BUILD, host_binary

pytestmark = pytest.mark.skipif(host_binary() is None, reason="the plugin's test host is not built")


def _colours(png) -> int:
    """Number of distinct colours in a PNG (ImageMagick's `identify`)."""
    p = subprocess.run(
        ["identify", "-format", "%k", str(png)], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip())


def test_editor_shows_the_model_under_xvfb():
    assert shutil.which("Xvfb") and shutil.which("import"), (
        "needs xvfb and imagemagick (scripts/setup.sh)"
    )
    x = Xvfb()
    try:
        shot, screen = BUILD / "plugin_editor.png", BUILD / "plugin_screen.png"
        env = {"DISPLAY": x.display, "PATH": "/usr/bin:/bin", "HOME": str(BUILD)}
        p = subprocess.Popen(
            [str(host_binary()), "--editor-shot", str(shot)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        for line in p.stdout:  # the host says `ready` while its window is on screen
            lines.append(line.rstrip("\n"))
            if line.strip() == "ready":
                subprocess.run(
                    ["import", "-display", x.display, "-window", "root", str(screen)], timeout=60
                )
                break
        rest, err = p.communicate(input="\n", timeout=120)
        lines += rest.splitlines()
    finally:
        x.close()
    assert p.returncode == 0, "\n".join(lines) + err
    labels = [line[len("label ") :] for line in lines if line.startswith("label ")]
    assert any("demo" in text and "demo.ts" in text for text in labels), labels
    assert any("latency" in text and "ms" in text for text in labels), labels
    assert shot.exists() and _colours(shot) > 16, "the editor's snapshot is blank"
    assert screen.exists() and _colours(screen) > 16, "the screen under Xvfb is blank"

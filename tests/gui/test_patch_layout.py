"""Every shipped patch, opened in the real Pd GUI (Tk, under Xvfb) of Pd 0.53 (Debian's
puredata-gui) and of Pd 0.55.2 (unpacked by scripts/setup.sh), reads cleanly: no box over a box, no
comment over a box or a comment, no cord across a comment or through a box, no backslash on
screen, nothing outside the window as it opens (see layout.py). A screenshot of each window is
saved in build/patch-screenshots/ to look at. A deliberately broken patch proves that each rule
fires."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from gui import layout
from support.pdrun import REPO, external_dir

SHOTS = REPO / "build" / "patch-screenshots"
GUIS = {
    "pd-0.53": Path("/usr/bin/puredata"),
    "pd-0.55.2": REPO / "build" / "pd-0.55.2" / "usr" / "bin" / "puredata",
}
# the Tcl files each Pd must run: its own, never the other's
GUI_DIRS = {
    "pd-0.53": Path("/usr/lib/puredata/tcl"),
    "pd-0.55.2": REPO / "build" / "pd-0.55.2" / "usr" / "lib" / "puredata" / "tcl",
}


def shipped():
    """(patch file, extra search path): the help patches as installed beside nn~ and its models,
    the demo from patches/ (it finds ../models/ddsp_violin.ts)."""
    return [
        (external_dir() / "nn~-help.pd", []),
        (external_dir() / "nn~-multichannel.pd", []),
        (REPO / "patches" / "ddsp-violin-demo.pd", []),
    ]


@pytest.fixture(scope="module")
def display():
    if shutil.which("Xvfb") is None or shutil.which("import") is None:
        pytest.skip("Xvfb or ImageMagick's import missing: run bash scripts/setup.sh")
    x = layout.Xvfb()
    yield x.display
    x.close()


def gui(version: str) -> str:
    pd_bin = GUIS[version]
    tcl = pd_bin.parents[1] / "lib" / "puredata" / "tcl" / "pd-gui.tcl"
    if not pd_bin.exists() or not tcl.exists():
        pytest.skip(f"{version} or its GUI ({tcl}) is missing: run bash scripts/setup.sh")
    return str(pd_bin)


@pytest.mark.parametrize("version", list(GUIS))
@pytest.mark.parametrize("name", ["nn~-help.pd", "nn~-multichannel.pd", "ddsp-violin-demo.pd"])
def test_shipped_patch_reads_cleanly(version, name, display):
    patch, paths = next((p, x) for p, x in shipped() if p.name == name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = SHOTS / version
    windows = layout.draw(gui(version), patch, display, stem, [external_dir(), *paths])
    assert windows, f"no window drawn for {name}"
    for w in windows:
        assert f"pd-{w.pd}".startswith(version), f"{version} announced itself as Pd {w.pd}"
        assert Path(w.guidir).resolve() == GUI_DIRS[version].resolve(), (
            f"{version} ran the GUI in {w.guidir}, not its own {GUI_DIRS[version]}"
        )
    for w in windows:
        assert Path(w.screenshot).is_file(), f"no screenshot of {w.title}: {w.screenshot}"
    expected = 1 + len(layout.subpatch_names(patch))
    assert len(windows) == expected, [w.title for w in windows]
    assert sum(len(w.boxes) for w in windows) > 10  # the items were really read back
    found = layout.problems(windows)
    assert not found, f"{name} in {version}:\n" + "\n".join(found)


def test_help_has_a_reference_subpatch_and_see_also(display, tmp_path):
    """The help follows Pd's documentation style: header, [pd reference], see also, version."""
    patch = external_dir() / "nn~-help.pd"
    assert "reference" in layout.subpatch_names(patch)
    windows = layout.draw(gui("pd-0.53"), patch, display, tmp_path / "s", [external_dir()])
    texts = " ".join(" ".join(t.split()) for t in layout.shown_texts(windows))
    for needed in [
        "nn~-multichannel",
        "ddsp-violin-demo",
        "see also",
        "Inlets",
        "Outlets",
        "Arguments",
        "Flags",
        "Messages",
        "nn~ 0.",
    ]:
        assert needed.lower() in texts.lower(), f"the help does not show {needed!r}"


BROKEN = """#N canvas 10 10 300 200 12;
#X obj 20 20 osc~ 440;
#X obj 40 25 *~ 0.5;
#X text 20 60 glued\\, escape over a box;
#X obj 30 70 dac~;
#X obj 200 20 noise~;
#X text 100 95 a comment under a cord;
#X obj 20 160 print x;
#X obj 10 125 mtof;
#X obj 500 500 print far;
#X connect 4 0 6 0;
#X connect 0 0 6 0;
"""


def test_each_rule_fires_on_a_broken_patch(tmp_path, display):
    patch = tmp_path / "broken.pd"
    patch.write_text(BROKEN)
    windows = layout.draw(gui("pd-0.53"), patch, display, tmp_path / "s", [])
    found = "\n".join(layout.problems(windows))
    assert "[osc~ 440] at" in found and "overlaps obj [*~ 0.5]" in found
    assert "overlaps comment [glued" in found or "comment [glued" in found
    assert "a backslash shows: 'glued\\\\, escape" in found
    assert "crosses comment [a comment under a cord]" in found
    assert "runs through obj [mtof]" in found
    assert "runs through obj [print x]" not in found  # a cord's own ends are not "through"
    assert "[print far]" in found and "outside the window" in found


@pytest.mark.parametrize("name", ["nn~-help.pd", "nn~-multichannel.pd", "ddsp-violin-demo.pd"])
def test_comments_have_a_width_and_no_semicolon(name):
    """A comment's wrapping must not depend on the font (an explicit `, f N` width), and holds no
    semicolon: Pd 0.55 starts a new line after one, 0.53 does not, so the two would differ."""
    text = (REPO / "patches" / name).read_text()
    comments = re.findall(r"^#X text -?\d+ -?\d+ (.*?);$", text, re.M | re.S)
    assert comments
    for c in comments:
        assert re.search(r", f \d+$", c), f"{name}: comment without a width: {c[:60]!r}"
        assert "\\;" not in c, f"{name}: comment with a semicolon: {c[:60]!r}"

"""The help patch opens in pd -batch without a single error, and documents every message the
external accepts (read from the adapter's class_addmethod calls) and nothing it does not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from nn_tilde.host import pd
from support import pdrun

pytestmark = pytest.mark.pd

ADAPTER = pdrun.REPO / "nn_tilde" / "pd" / "nn_tilde_pd.cpp"
HELP = pdrun.REPO / "patches" / "nn~-help.pd"


def accepted_selectors() -> set[str]:
    src = ADAPTER.read_text()
    sel = set(
        re.findall(r'class_addmethod\(nn_tilde_class, \(t_method\)\w+, gensym\("(\w+)"\)', src)
    )
    sel.discard("dsp")
    if "class_addbang" in src:
        sel.add("bang")
    return sel


def run_help(folder: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Opens folder/nn~-help.pd in pd -batch with only `folder` on the search path, then quits."""
    return pd.run(
        folder / "nn~-help.pd",
        [folder],
        binary=pdrun.pd_binary(),
        nrt=False,
        noaudio=False,
        nomidi=False,
        sr=None,
        send=["pd quit"],
        timeout=120,
        cwd=cwd,
    )


def test_help_patch_opens_without_errors():
    p = run_help(pdrun.external_dir())
    log = p.stdout + p.stderr
    assert p.returncode == 0, log
    assert "error" not in log.lower(), log
    assert "nn~ " in log  # the external really loaded


def test_help_patch_is_the_installed_one():
    assert (pdrun.external_dir() / "nn~-help.pd").read_text() == HELP.read_text()


def messages_wired_to_nn(text: str) -> list[str]:
    """The message boxes connected to an [nn~ ...] box of the same canvas (main or subpatch)."""
    stack: list[list[str]] = []
    wired: list[str] = []
    for line in re.split(r";\n", text):
        if line.startswith("#N canvas"):
            stack.append([])
        elif line.startswith("#X restore"):
            stack.pop()
            stack[-1].append("#X restore")
        elif line.startswith(("#X obj", "#X msg", "#X text", "#X floatatom", "#X symbolatom")):
            stack[-1].append(line)
        elif line.startswith("#X connect"):
            src, _, dst, _ = map(int, line.split()[2:6])
            boxes = stack[-1]
            if (
                boxes[src].startswith("#X msg")
                and boxes[dst].startswith("#X obj")
                and (boxes[dst].split()[4] == "nn~")
            ):
                wired.append(boxes[src].split(maxsplit=4)[4])
    return wired


def test_help_documents_every_message():
    """Every message nn~ accepts has a message box wired to an [nn~] in the help, and every
    message box wired to one names a message nn~ accepts."""
    documented = {b.split()[0] for b in messages_wired_to_nn(HELP.read_text())}
    text = HELP.read_text()
    accepted = accepted_selectors()
    assert accepted - documented - {"bang"} == set(), (
        f"undocumented messages: {accepted - documented}"
    )
    assert documented - accepted == set(), (
        f"help shows messages nn~ does not accept: {documented - accepted}"
    )
    assert "bang" in text  # bang is described in words (same as info)


def test_install_step_lays_out_a_folder_pd_can_use(tmp_path):
    build = pdrun.external_dir().parent
    p = subprocess.run(
        ["cmake", "--install", str(build), "--prefix", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    pkg = tmp_path / "nn~"
    for f in ["nn~.pd_linux", "nn~-help.pd", "README.md", "MODEL_FORMAT.md", "models/demo.ts"]:
        assert (pkg / f).is_file(), f"{f} missing from the installed folder"
    # from a neutral working directory, with only the installed folder on Pd's path
    p = run_help(pkg, cwd=tmp_path)
    log = p.stdout + p.stderr
    assert p.returncode == 0 and "error" not in log.lower(), log

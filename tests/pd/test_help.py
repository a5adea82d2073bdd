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


def test_help_documents_every_message():
    text = HELP.read_text()
    boxes = re.findall(r"#X msg \d+ \d+ ([^;]*);", text)
    documented = {b.split()[0] for b in boxes if not b.startswith("\\")}
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

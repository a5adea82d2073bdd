"""One version: the VERSION file's number is what nn~'s `info` prints in Pd, what `nn-tilde
--version` prints, what the Max package declares and what the release files are named with."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support import pdrun

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()


def test_the_version_file_holds_one_version_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION), VERSION
    assert f"## {VERSION}\n" in (REPO / "CHANGELOG.md").read_text()


@pytest.mark.pd
def test_pd_info_prints_the_version(tmp_path: Path):
    res = pdrun.render(
        tmp_path, f"{REPO / 'models' / 'demo.ts'} forward", np.zeros((1, 4096), np.float32), 1
    )
    assert res.info.get("version") == [VERSION], res.log


def test_the_kit_prints_the_version():
    cli = Path(sys.executable).parent / "nn-tilde"
    p = subprocess.run([str(cli), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.split() == ["nn-tilde", VERSION], p.stdout + p.stderr


def test_the_max_package_declares_the_version():
    text = (REPO / "patches" / "max" / "package-info.json.in").read_text()
    assert '"version": "@PROJECT_VERSION@"' in text  # CMake writes the VERSION file's number there


def test_the_release_files_carry_the_version():
    dist = REPO / "dist"
    names = sorted(p.name for p in dist.glob("*")) if dist.is_dir() else []
    if not names:
        pytest.skip("dist/ is empty: run `bash scripts/package.sh` first")
    assert f"nn~[v{VERSION}](Linux-amd64-32)(Linux-amd64-64).dek" in names, names
    assert f"nn_tilde_kit-{VERSION}-py3-none-any.whl" in names, names
    assert f"nn_tilde_kit-{VERSION}.tar.gz" in names, names
    stale = [n for n in names if re.search(r"\d+\.\d+\.\d+", n) and VERSION not in n]
    assert not stale, f"release files of another version in dist/: {stale}"

"""The release of scripts/package.sh (dist/) on a clean machine.

The Pd package: the .dek is unpacked as deken does into a fresh HOME's ~/.local/lib/pd/extra (a
folder Pd searches on Linux without being told), Pd runs in `env -i` (no LD_LIBRARY_PATH, no
virtual environment) with nothing but that HOME, from a copy of Pd outside the repository (Debian's
0.53, 0.55.2 and its pd64 copied out of build/), and a patch with `[nn~ demo forward]` renders what
the demo model computes in Python; the dynamic loader's own log (LD_DEBUG=libs) shows that every
torch library comes from the package and nothing at all from the repository (its build tree and
.venv).

The kit: the wheel installed with pip into a fresh virtual environment answers `nn-tilde
--version` and `nn-tilde check models/demo.ts`.

scripts/test.sh runs scripts/package.sh before pytest; run it yourself before these tests alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nn_tilde.host import pd
from support import pdrun
from support.reference import host_reference

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"
VERSION = (REPO / "VERSION").read_text().strip()
DEK = DIST / f"nn~[v{VERSION}](Linux-amd64-32)(Linux-amd64-64).dek"
BUF = 1024
TORCH = "torch==2.13.0"  # pinned as scripts/setup.sh pins it
TORCH_LIBS = re.compile(r"lib(torch|c10|gomp|omp|iomp)[^/]*\.so")


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.name} not in dist/: run `bash scripts/package.sh` first")
    return path


def _unzip(dek: Path, dest: Path) -> None:
    """As deken does: the archive's nn~/ folder into `dest`, Unix modes kept."""
    with zipfile.ZipFile(dek) as z:
        for info in z.infolist():
            z.extract(info, dest)
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                os.chmod(dest / info.filename, stat.S_IMODE(mode))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("clean-home")
    _unzip(_need(DEK), home / ".local" / "lib" / "pd" / "extra")
    return home


def _pd_copy(tmp: Path, name: str) -> str:
    """A Pd that shares nothing with the repository: Debian's, or build/'s 0.55.2 copied out."""
    if name == "pd-0.53":
        return "/usr/bin/pd"
    src = REPO / "build" / "pd-0.55.2" / "usr"
    if not src.is_dir():
        pytest.skip("build/pd-0.55.2 missing: run scripts/setup.sh")
    dest = tmp / "pd-0.55.2"
    if not dest.exists():
        shutil.copytree(src, dest, symlinks=True)
    return str(dest / "bin" / ("puredata64" if name == "pd64-0.55.2" else "puredata"))


def _clean_run(home: Path, binary: str, log: Path):
    """Runs a patch as a user would: env -i, a fresh HOME, no -path, the loader logging to `log`."""

    def run(patch: Path) -> subprocess.CompletedProcess:
        env = {
            "HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LD_DEBUG": "libs",
            "LD_DEBUG_OUTPUT": str(log),
        }
        # -noprefs: nothing from the machine's own Pd settings (the fresh HOME has none anyway)
        cmd = pd.command(patch, (), binary=binary, sr=44100)
        return subprocess.run(
            ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *cmd],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=patch.parent,
        )

    return run


def _loaded(log_prefix: Path) -> set[str]:
    """Every file the dynamic loader initialised, in any process of the run."""
    files = set()
    for f in log_prefix.parent.glob(log_prefix.name + ".*"):
        for line in f.read_text(errors="replace").splitlines():
            m = re.search(r"calling init: (\S+)", line)
            if m:
                files.add(m.group(1))
    return files


@pytest.mark.pd
@pytest.mark.parametrize("pd_name", ["pd-0.53", "pd-0.55.2", "pd64-0.55.2"])
def test_the_package_plays_demo_on_a_clean_machine(tmp_path: Path, home: Path, pd_name: str):
    package = home / ".local" / "lib" / "pd" / "extra" / "nn~"
    binary = _pd_copy(tmp_path, pd_name)
    work = tmp_path / "patch"
    work.mkdir()
    t = np.arange(30000) / 44100.0
    x = (0.7 * np.sin(2 * np.pi * 220.0 * t) * np.linspace(0, 1.2, t.size)).astype(np.float32)[None]
    log = tmp_path / "ld" / "libs"
    log.parent.mkdir()
    res = pdrun.render(
        work,
        f"demo forward {BUF}",
        x,
        1,
        extra_frames=4 * BUF,
        run=_clean_run(home, binary, log),
    )
    assert res.returncode == 0, res.log
    assert not res.nn_errors(), res.log
    # The model came from the package's own models/ folder (the patch folder and Pd's path lack it).
    assert res.info["model"] == [str(package / "models" / "demo.ts")], res.log
    assert res.info["version"] == [VERSION], res.log
    expected = host_reference(str(REPO / "models" / "demo.ts"), "forward", x, BUF)
    latency = int(res.info["latency"][0])
    assert res.outputs is not None, res.log
    n = expected.shape[1]
    err = np.abs(res.outputs[:, latency : latency + n] - expected).max()
    assert err <= 1e-6, f"max |nn~ - python| = {err:g}"

    loaded = _loaded(log)
    external = "nn~.linux-amd64-64.so" if pd_name.startswith("pd64") else "nn~.pd_linux"
    assert str(package / external) in loaded, sorted(loaded)
    torch_libs = sorted(f for f in loaded if TORCH_LIBS.search(Path(f).name))
    assert {Path(f).name for f in torch_libs} >= {"libtorch_cpu.so", "libc10.so"}, torch_libs
    outside = [f for f in torch_libs if Path(f).parent != package]
    assert not outside, f"torch libraries loaded from outside the package: {outside}"
    from_repo = [f for f in loaded if f.startswith(str(REPO)) or f.startswith(sys.prefix)]
    assert not from_repo, f"loaded from the repository or its .venv: {from_repo}"


def test_the_package_holds_what_it_should_and_finds_its_libraries_through_origin(home: Path):
    package = home / ".local" / "lib" / "pd" / "extra" / "nn~"
    for f in ["nn~.pd_linux", "nn~.linux-amd64-64.so", "nn~-help.pd", "MODEL_FORMAT.md",
              "README.md", "LICENSE", "CHANGELOG.md", "models/demo.ts"]:  # fmt: skip
        assert (package / f).is_file(), f
    assert "GNU GENERAL PUBLIC LICENSE" in (package / "LICENSE").read_text()
    libs = sorted(p.name for p in package.glob("*.so*") if not p.name.startswith("nn~"))
    # what the externals load, no more: no Python bindings, no test libraries
    assert not [n for n in libs if re.search(r"python|test|jit_?backend|aoti|shm", n)], libs
    for elf in [*package.glob("*.so*"), package / "nn~.pd_linux"]:
        dyn = subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True).stdout
        paths = re.findall(r"\((?:RUNPATH|RPATH)\).*\[(.*)\]", dyn)
        assert paths == ["$ORIGIN"], f"{elf.name}: {paths}"
        sections = subprocess.run(["readelf", "-S", str(elf)], capture_output=True, text=True)
        assert ".debug_info" not in sections.stdout, f"{elf.name} is not stripped"


def test_the_checksum_and_objects_file_match_the_dek():
    dek = _need(DEK)
    sha = Path(str(dek) + ".sha256").read_text().split()
    assert sha == [hashlib.sha256(dek.read_bytes()).hexdigest(), dek.name]
    objects = Path(str(dek) + ".txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in objects] == ["nn~"]


def _kit(suffix: str) -> Path:
    return _need(DIST / f"nn_tilde_kit-{VERSION}{suffix}")


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_checks_the_demo(tmp_path: Path):
    wheel = _kit("-py3-none-any.whl")
    _kit(".tar.gz")  # the sdist is made too
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "HOME", "http", "HTTP"))}
    env["PATH"] = "/usr/bin:/bin"
    # torch pinned: an unpinned one would pull CUDA packages.
    pip = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel), TORCH],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    cli = venv / "bin" / "nn-tilde"
    v = subprocess.run(
        [str(cli), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert v.returncode == 0 and v.stdout.split() == ["nn-tilde", VERSION], v.stdout + v.stderr
    where = subprocess.run(
        [str(py), "-c", "import nn_tilde; print(nn_tilde.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    check = subprocess.run(
        [str(cli), "check", str(REPO / "models" / "demo.ts")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stdout + check.stderr

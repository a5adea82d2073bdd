"""Runs PureData on generated patches: which pd, where nn~ is, the command line, the patch text.

One definition for everything that starts a Pd: the tests' harness (tests/support/pdrun.py and
pdlive.py, the bad-input and multichannel patches), the benchmarks, scripts/demo.py and the DDSP
bench (``nn-tilde ddsp bench --pd``).

Two ways to run a patch:
  - batch (``-batch``, the default): Pd computes DSP ticks as fast as it can, its logical clock
    does not wait for the wall clock; for renders, whose result must not depend on machine load.
  - clock-paced (``batch=False``): Pd runs each tick when the wall clock reaches its logical time,
    as with a sound card, so delays in the patch are real delays (background loads finish while
    the patch plays, lateness can be measured).
"""

from __future__ import annotations

import itertools
import os
import resource
import subprocess
from collections.abc import Sequence
from pathlib import Path

# The source checkout holding this kit (python_tools/nn_tilde/host/pd.py): its build/nn~ is where
# the build puts the external. Only meaningful for an editable install, as the benches are run.
REPO = Path(__file__).resolve().parents[3]


def pd_binary(default: str = "pd") -> str:
    """The Pd to run: $NN_PD_BIN (e.g. build/pd-0.55.2/usr/bin/puredata), else `default`."""
    return os.environ.get("NN_PD_BIN", default)


def external_dir(default: Path | None = None) -> Path:
    """Folder holding nn~.pd_linux: $NN_PD_DIR, else `default` (build/nn~ of the checkout)."""
    d = Path(os.environ.get("NN_PD_DIR", default or REPO / "build" / "nn~"))
    if not (d / "nn~.pd_linux").exists():
        raise FileNotFoundError(
            f"nn~.pd_linux not found in {d}: build it first (cmake --build build) or set NN_PD_DIR"
        )
    return d


def command(
    patch: Path | str,
    paths: Sequence[Path | str] = (),
    *,
    binary: str | None = None,
    batch: bool = True,
    nrt: bool = True,
    noaudio: bool = True,
    nomidi: bool = True,
    sr: int | None = 44100,
    extra: Sequence[str] = (),
    send: Sequence[str] = (),
) -> list[str]:
    """The command line opening `patch` in Pd without its GUI or preferences.

    paths: folders on Pd's search path (nn~'s folder among them); binary: the executable, else
    pd_binary(); batch: -batch, else clock-paced; nrt: -nrt (no real-time priority, which a
    clock-paced live run leaves out to be scheduled as Pd usually is); noaudio, nomidi: no sound
    card or MIDI device; sr: -r (None: Pd's default rate); extra: more flags, before -open;
    send: messages sent after the patch is open (-send, e.g. "pd quit")."""
    cmd = [binary or pd_binary(), "-nogui"]
    if batch:
        cmd.append("-batch")
    cmd.append("-noprefs")
    if nrt:
        cmd.append("-nrt")
    if noaudio:
        cmd.append("-noaudio")  # the same as -nosound for Pd
    if nomidi:
        cmd.append("-nomidi")
    if sr is not None:
        cmd += ["-r", str(sr)]
    for p in paths:
        cmd += ["-path", str(p)]
    cmd += [*extra, "-open", str(patch)]
    for m in send:
        cmd += ["-send", m]
    return cmd


def run(
    patch: Path | str,
    paths: Sequence[Path | str] = (),
    *,
    timeout: float = 300,
    cwd: Path | str | None = None,
    **flags,
) -> subprocess.CompletedProcess:
    """Runs command(patch, paths, **flags) to its end; stdout and stderr captured as text."""
    return subprocess.run(
        command(patch, paths, **flags), capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


class Patch:
    """The text of a Pd patch: objects and messages numbered in creation order, as `#X connect`
    refers to them, and their connections. Boxes go in a column (or a grid of `columns`): the
    layout only matters to someone opening the patch in Pd's editor."""

    def __init__(self, canvas: str = "0 50 900 700 12", columns: int = 1) -> None:
        self.lines = [f"#N canvas {canvas};"]
        self.conns: list[str] = []
        self.count = 0
        self.columns = columns

    def add(self, kind: str, text: str) -> int:
        """A box of `kind` (obj, msg, restore...) with `text`; returns its number."""
        n = self.count
        x, y = 10 + 150 * (n % self.columns), 10 + 20 * (n // self.columns)
        self.lines.append(f"#X {kind} {x} {y} {text};")
        self.count += 1
        return n

    def obj(self, text: str) -> int:
        return self.add("obj", text)

    def msg(self, text: str) -> int:
        return self.add("msg", text)

    def connect(self, a: int, outlet: int, b: int, inlet: int) -> None:
        self.conns.append(f"#X connect {a} {outlet} {b} {inlet};")

    def subpatch(self, name: str) -> int:
        """An empty [pd name], filled later by messages to `pd-name` (dynamic patching)."""
        self.lines.append(f"#N canvas 0 50 450 300 {name} 0;")
        return self.add("restore", f"pd {name}")

    def text(self) -> str:
        return "\n".join(self.lines + self.conns) + "\n"

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.write_text(self.text())
        return path


def render_cpu(
    creation: str | None,
    source: Sequence[str],
    ms: float,
    folder: Path,
    paths: Sequence[Path | str] = (),
    binary: str | None = "pd",
) -> tuple[float, str]:
    """CPU seconds (user + system) of one ``pd -batch`` run that plays ``ms`` milliseconds of the
    objects `source` (chained: each into the next) through ``[nn~ <creation>]`` (None: the source
    alone, the cost of Pd itself), and its log, where nn~'s `info` lines start with ``bench:``.
    For benchmarks that time a render: start-up and loading cancel between a long and a short
    run. The patch is written into `folder`."""
    patch = Patch("0 50 500 400 12")
    lb = patch.obj("loadbang")
    t = patch.obj("t b b")
    dsp = patch.msg("\\; pd dsp 1")
    wait = patch.obj(f"delay {ms:.3f}")
    quit_ = patch.msg("\\; pd quit")
    chain = [patch.obj(text) for text in source]
    for a, b in itertools.pairwise(chain):
        patch.connect(a, 0, b, 0)
    for a, outlet, b, inlet in [
        (lb, 0, t, 0),
        (t, 0, dsp, 0),
        (lb, 0, wait, 0),
        (wait, 0, quit_, 0),
    ]:
        patch.connect(a, outlet, b, inlet)
    if creation:
        nn = patch.obj(f"nn~ {creation}")
        info = patch.msg("info")
        patch.connect(chain[-1], 0, nn, 0)
        patch.connect(nn, 1, patch.obj("print bench"), 0)
        patch.connect(t, 1, info, 0)
        patch.connect(info, 0, nn, 0)

    def child_cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime

    before = child_cpu()
    p = run(patch.write(Path(folder) / "bench.pd"), paths, binary=binary, sr=44100, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError(p.stdout + p.stderr)
    return child_cpu() - before, p.stdout + p.stderr

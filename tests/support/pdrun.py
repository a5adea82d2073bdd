"""Runs PureData in batch mode on generated patches: the harness of the patch tests and the demo.

A render patch reads an input sound file into tables, plays them into [nn~ ...] with tabplay~ from
the very first DSP tick (so nn~'s buffers line up with sample 0 of the file), records every signal
outlet with tabwrite~, writes the recording with soundfiler (float32) and quits. nn~'s message
outlet goes to [print nninfo], so its `info` lines (latency among them) appear on stderr.

The pd command line and the patch text come from the kit's nn_tilde.host.pd, which the benchmarks
and scripts/demo.py use too.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import soundfile as sf

from nn_tilde.host import pd

REPO = Path(__file__).resolve().parents[2]


def pd_binary() -> str:
    """The Pd to run: $NN_PD_BIN (e.g. build/pd-0.55.2/usr/bin/puredata or puredata64), else
    Debian's."""
    return pd.pd_binary("/usr/bin/pd")


def pd_version() -> tuple:
    """(major, minor) of pd_binary(), from `pd -version`."""
    p = subprocess.run([pd_binary(), "-version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"Pd-(\d+)\.(\d+)", p.stdout + p.stderr)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def has_multichannel() -> bool:
    """Multichannel signals (snake~, clone -d, nn~ -m/-v) exist from Pd 0.54."""
    return pd_version() >= (0, 54)


def external_dir() -> Path:
    """Folder holding nn~.pd_linux: $NN_PD_DIR, else the default build tree."""
    return pd.external_dir(REPO / "build" / "nn~")


@dataclass
class PdResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: Optional[np.ndarray] = None  # [channels, frames]
    info: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def nn_errors(self) -> List[str]:
        return [
            line for line in self.log.splitlines() if "[nn~]" in line and "error" in line.lower()
        ]


def run_pd(
    patch: Path, timeout: float = 300, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess:
    """Runs `patch` in pd -batch at 44.1 kHz with nn~'s folder on the search path."""
    return pd.run(
        patch, [external_dir()], binary=pd_binary(), sr=44100, extra=extra, timeout=timeout
    )


def parse_info(log: str) -> Dict[str, List[str]]:
    info: Dict[str, List[str]] = {}
    for line in log.splitlines():
        m = re.match(r"^nninfo: (\S+)(.*)$", line.strip())
        if m:
            info[m.group(1)] = m.group(2).split()
    return info


def render(
    tmp: Path,
    creation: str,
    inputs: np.ndarray,
    n_out: int,
    messages: Sequence[str] = (),
    extra_frames: int = 0,
    block: int = 64,
    arrays: Optional[Dict[str, Sequence[float]]] = None,
    run: Optional[Callable[[Path], subprocess.CompletedProcess]] = None,
) -> PdResult:
    """Render `inputs` ([in_channels, frames], float32) through [nn~ <creation>] in pd -batch.

    messages: sent to nn~ right after creation and before DSP starts (e.g. "set gain 2").
    extra_frames: recorded beyond the input length (to catch the latency tail).
    arrays: extra Pd arrays created and filled before the messages are sent (for buffer attributes).
    run: runs the written patch (default run_pd: this build's nn~ on the search path); the package
    tests run it in an installed package's environment instead.
    """
    tmp = Path(tmp)
    n_in = inputs.shape[0]
    frames = inputs.shape[1]
    rec = frames + extra_frames
    in_files = []
    for c in range(n_in):
        f = tmp / f"in{c}.wav"
        sf.write(f, inputs[c].astype(np.float32), 44100, subtype="FLOAT")
        in_files.append(f)
    out_file = tmp / "out.wav"
    patch = pd.Patch()
    obj, msg, conn = patch.obj, patch.msg, patch.connect
    block_obj = obj(f"block~ {block}") if block != 64 else None
    _ = block_obj
    lb = obj("loadbang")
    trig = obj("t b b b b")
    conn(lb, 0, trig, 0)
    tables = [obj(f"table nnin{c} {frames}") for c in range(n_in)]
    outs = [obj(f"table nnout{c} {rec}") for c in range(n_out)]
    _ = (tables, outs)
    reads = msg(" \\, ".join(f"read -resize {in_files[c]} nnin{c}" for c in range(n_in)))
    sfr = obj("soundfiler")
    conn(reads, 0, sfr, 0)
    nn = obj(f"nn~ {creation}")
    pr = obj("print nninfo")
    conn(nn, n_out, pr, 0)
    play = [obj(f"tabplay~ nnin{c}") for c in range(n_in)]
    for c in range(n_in):
        conn(play[c], 0, nn, c)
    recs = [obj(f"tabwrite~ nnout{c}") for c in range(n_out)]
    for c in range(n_out):
        conn(nn, c, recs[c], 0)
    fills = []
    for name, values in (arrays or {}).items():
        obj(f"table {name} {len(values)}")
        fills.append(msg("\\; " + name + " 0 " + " ".join(f"{v:g}" for v in values)))
    setup = None
    if messages:
        setup = msg(" \\, ".join(messages))
        conn(setup, 0, nn, 0)
    dsp = msg("\\; pd dsp 1")
    info = msg("info")
    conn(info, 0, nn, 0)
    go = obj("t b b")
    for p in play:
        conn(go, 0, p, 0)
    for r in recs:
        conn(go, 0, r, 0)
    ms = (rec + 2 * block) / 44.1
    wait = obj(f"delay {ms:.3f}")
    stats = msg("stats")
    conn(stats, 0, nn, 0)
    write = msg(
        "write -bytes 4 " + str(out_file) + " " + " ".join(f"nnout{c}" for c in range(n_out))
    )
    sfw = obj("soundfiler")
    conn(write, 0, sfw, 0)
    quit_ = msg("\\; pd quit")
    after = obj("t b b b")
    conn(wait, 0, after, 0)
    conn(after, 2, stats, 0)
    conn(after, 1, write, 0)
    conn(after, 0, quit_, 0)
    # loadbang order (right to left): read files, setup messages, start DSP + play/record, info
    conn(trig, 3, reads, 0)
    for f in fills:  # Pd fans out in connection order: the arrays are filled before `setup` runs
        conn(trig, 2, f, 0)
    if setup is not None:
        conn(trig, 2, setup, 0)
    conn(trig, 1, go, 0)
    conn(trig, 1, dsp, 0)
    conn(trig, 1, wait, 0)
    conn(trig, 0, info, 0)
    p = (run or run_pd)(patch.write(tmp / "render.pd"))
    res = PdResult(p.returncode, p.stdout, p.stderr, info=parse_info(p.stdout + p.stderr))
    if out_file.exists():
        data, _sr = sf.read(out_file, dtype="float32", always_2d=True)
        res.outputs = data.T
    return res

"""Runs PureData paced by the clock (`pd -nogui -noaudio`, no -batch), as a live host: the
harness of the live tests (tests/pd/test_live.py) and of benchmarks/live.py.

Without -batch, Pd's scheduler runs each DSP tick when the wall clock reaches its logical time, as
it would with a sound card. The generated patch measures how late each tick runs: [bang~] fires
after every tick, and the wall time elapsed ([realtime]) minus the logical time elapsed ([timer])
since a common reset is that tick's lateness; it is printed per tick, between two marks. Each
[nn~] gets [sig~ 1] as input; samples of its output above 0.5 are summed ([rpole~ 1]) to tell how
much of the signal played, and its `stats` line is printed at the end mark.

Lateness is reported relative to the median tick: Pd's -nosound scheduler sleeps in steps of about
a millisecond, so every tick has some constant offset, and only the excess means Pd was held up.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from nn_tilde.host import pd
from support import pdrun

SR = 44100
POLICY_NAMES = {0: "SCHED_OTHER", 1: "SCHED_FIFO", 2: "SCHED_RR", 3: "SCHED_BATCH", 5: "SCHED_IDLE"}


@dataclass
class LiveResult:
    returncode: int
    log: str
    ticks: np.ndarray  # per DSP tick: lateness in ms, relative to the median tick
    seconds: float  # measured span (logical time between the marks)
    stats: List[Dict[str, float]]  # per object, its `stats` line at the end mark
    played: List[float]  # per object: share of the measured span whose output was above 0.5
    threads: Dict[str, str] = field(default_factory=dict)  # thread name -> policy/nice, mid-run

    @property
    def pd_realtime(self) -> bool:
        """Pd's own thread (the process's first) runs in a real-time class: Debian's Pd 0.53 as root
        does (SCHED_FIFO), Pd 0.55's `puredata` without -rt does not (SCHED_OTHER)."""
        if not self.threads:
            return False
        first = min(self.threads, key=lambda k: int(k.rsplit("/", 1)[1]))
        return self.threads[first].startswith(("SCHED_FIFO", "SCHED_RR"))

    @property
    def late_max_ms(self) -> float:
        return float(self.ticks.max()) if self.ticks.size else float("nan")

    def late_share(self, ms: float) -> float:
        """Share of ticks that ran more than `ms` late."""
        return float((self.ticks > ms).mean()) if self.ticks.size else float("nan")

    def warnings(self) -> List[str]:
        return [line for line in self.log.splitlines() if "the model is late" in line]


def _patch(
    creations: Sequence[str],
    seconds: float,
    settle: float,
    messages: Sequence[str],
    every: Optional[Tuple[int, str]],
) -> str:
    patch = pd.Patch()
    add, conn = patch.add, patch.connect
    lb = add("obj", "loadbang")
    dsp = add("msg", "\\; pd dsp 1")
    conn(lb, 0, dsp, 0)
    settle_del = add("obj", f"delay {settle * 1000:.0f}")
    conn(lb, 0, settle_del, 0)
    start = add("obj", "t b b b")
    conn(settle_del, 0, start, 0)
    real = add("obj", "realtime")
    timer = add("obj", "timer")
    conn(start, 2, real, 0)
    conn(start, 2, timer, 0)
    mark_start = add("msg", "start")
    mark_print = add("obj", "print mark")
    conn(start, 1, mark_start, 0)
    conn(mark_start, 0, mark_print, 0)
    end_del = add("obj", f"delay {seconds * 1000:.0f}")
    conn(start, 0, end_del, 0)
    end = add("obj", "t b b b")
    conn(end_del, 0, end, 0)
    mark_end = add("msg", "end")
    conn(end, 1, mark_end, 0)
    conn(mark_end, 0, mark_print, 0)
    quit_del = add("obj", "delay 300")
    conn(end, 0, quit_del, 0)
    quit_msg = add("msg", "\\; pd quit")
    conn(quit_del, 0, quit_msg, 0)
    # per tick: realtime (hot, left) minus timer (cold, right, banged first by [t b b])
    tick = add("obj", "bang~")
    tbb = add("obj", "t b b")
    conn(tick, 0, tbb, 0)
    lat = add("obj", "expr $f1 - $f2")
    conn(tbb, 1, timer, 1)
    conn(timer, 0, lat, 1)
    conn(tbb, 0, real, 1)
    conn(real, 0, lat, 0)
    tick_print = add("obj", "print tick")
    conn(lat, 0, tick_print, 0)
    one = add("obj", "sig~ 1")
    ref_sum = add("obj", "rpole~ 1")
    conn(one, 0, ref_sum, 0)
    ref_snap = add("obj", "snapshot~")
    conn(ref_sum, 0, ref_snap, 0)
    conn(start, 1, ref_snap, 0)
    conn(end, 2, ref_snap, 0)
    ref_print = add("obj", "print total")
    conn(ref_snap, 0, ref_print, 0)
    info = add("obj", "print nninfo")
    for i, creation in enumerate(creations):
        nn = add("obj", f"nn~ {creation}")
        conn(one, 0, nn, 0)
        conn(nn, 1, info, 0)
        for m in messages:
            msg = add("msg", m)
            conn(lb, 0, msg, 0)
            conn(msg, 0, nn, 0)
        if every:
            metro = add("obj", f"metro {every[0]}")
            conn(start, 1, metro, 0)
            stop = add("msg", "stop")
            conn(end, 2, stop, 0)
            conn(stop, 0, metro, 0)
            again = add("msg", every[1])
            conn(metro, 0, again, 0)
            conn(again, 0, nn, 0)
        reset = add("msg", "resetstats")
        conn(start, 1, reset, 0)
        conn(reset, 0, nn, 0)
        stats = add("msg", "stats")
        conn(end, 2, stats, 0)
        conn(stats, 0, nn, 0)
        above = add("obj", "expr~ $v1 > 0.5")
        conn(nn, 0, above, 0)
        acc = add("obj", "rpole~ 1")
        conn(above, 0, acc, 0)
        snap = add("obj", "snapshot~")
        conn(acc, 0, snap, 0)
        conn(start, 1, snap, 0)
        conn(end, 2, snap, 0)
        pr = add("obj", f"print played{i}")
        conn(snap, 0, pr, 0)
    return patch.text()


def _threads(pid: int) -> Dict[str, str]:
    """Scheduling of each thread of a running process: name -> 'POLICY nice N'."""
    out: Dict[str, str] = {}
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        nice, policy = int(fields[16]), int(fields[38])  # stat fields 19 and 41
        out[f"{name}/{task.name}"] = f"{POLICY_NAMES.get(policy, policy)} nice {nice}"
    return out


def run_live(
    tmp: Path,
    creations: Sequence[str],
    seconds: float = 3.0,
    settle: float = 1.0,
    messages: Sequence[str] = (),
    every: Optional[Tuple[int, str]] = None,
    timeout: float = 120,
) -> LiveResult:
    """Runs [nn~ <creation>] objects (each fed [sig~ 1]) in a clock-paced Pd for `settle` seconds
    (model warm-up, not measured), then measures for `seconds`. messages: sent to every nn~ at load
    (e.g. "policy silence"); every: (ms, message) sent to every nn~ periodically while measuring."""
    patch = Path(tmp) / "live.pd"
    patch.write_text(_patch(creations, seconds, settle, messages, every))
    # Clock-paced (no -batch) and without -nrt, as a live Pd runs; the Pd of pdrun.pd_binary().
    cmd = pd.command(
        patch, [pdrun.external_dir()], binary=pdrun.pd_binary(), batch=False, nrt=False, sr=SR
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads: Dict[str, str] = {}
    t_end = time.monotonic() + timeout
    sampled = False
    while proc.poll() is None and time.monotonic() < t_end:
        time.sleep(0.1)
        # sample the threads once the objects exist (Pd's loading of torch takes a while)
        if not sampled and time.monotonic() > t_end - timeout + 2 + settle:
            threads = _threads(proc.pid)
            sampled = True
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    log = out + err
    return _parse(proc.returncode, log, len(creations), threads)


def _parse(rc: int, log: str, n: int, threads: Dict[str, str]) -> LiveResult:
    ticks: List[float] = []
    inside = False
    stats: List[Dict[str, float]] = []
    snaps: Dict[str, List[float]] = {}
    for line in log.splitlines():
        line = line.strip()
        if line == "mark: start":
            inside = True
        elif line == "mark: end":
            inside = False
        elif line.startswith("tick: ") and inside:
            ticks.append(float(line.split()[1]))
        elif line.startswith("nninfo: stats"):
            words = line.split()[2:]
            stats.append({k: float(v) for k, v in zip(words[0::2], words[1::2], strict=False)})
        else:
            m = re.match(r"^(played\d+|total): (\S+)$", line)
            if m:
                snaps.setdefault(m.group(1), []).append(float(m.group(2)))
    arr = np.array(ticks)
    if arr.size:
        arr = arr - np.median(arr)
    total = snaps.get("total", [0.0, 0.0])
    span = total[-1] - total[0] if len(total) >= 2 else 0.0
    played = []
    for i in range(n):
        s = snaps.get(f"played{i}", [])
        played.append((s[-1] - s[0]) / span if len(s) >= 2 and span > 0 else float("nan"))
    return LiveResult(rc, log, arr, span / SR, stats, played, threads)


def summary(res: LiveResult, label: Optional[str] = None) -> str:
    t = res.ticks
    head = f"{label}: " if label else ""
    if not t.size:
        return head + "no ticks measured"
    return (
        f"{head}{t.size} ticks over {res.seconds:.1f} s; late beyond the median: "
        f"p99 {np.percentile(t, 99):.2f} ms, max {t.max():.2f} ms, "
        f">2 ms {100 * res.late_share(2):.1f} %, >10 ms {100 * res.late_share(10):.1f} %; "
        f"played {', '.join(f'{p:.2f}' for p in res.played)}"
    )

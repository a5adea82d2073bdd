"""Bad-input tests in a real Pd: every broken file, contract violation, misbehaving model and bad
message must print a specific `[nn~]` error (or note) naming the problem, and Pd must keep running
to the end of the patch. Each scenario patch prints markers (`MARK: <name>`) after the bad object or
message; a test checks that the error is printed before its marker, that the last marker appears,
and that Pd exits 0. Where audio plays, the recorded output is checked as well.

Scenarios run as patches built by `Scenario`: a timeline of steps (messages sent with `; receiver
...`, delays, and "wait until this nn~ has finished loading" polls of its `info` state). Scenarios
with asynchronous loads run Pd in real time (no -batch) so that delays are real delays; the others
run with -batch.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest
import soundfile as sf

from nn_tilde.host import pd
from support import catalogue, pdrun, plain_models

pytestmark = pytest.mark.pd

SR = 44100
B = 2048  # nn~'s default buffer size
LAT = 2 * B  # its latency with Pd's 64-sample blocks


# ---- scenario patches ----------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    log: str  # Pd prints errors, posts and [print] lines on stderr with -nogui
    tables: Dict[str, np.ndarray] = field(default_factory=dict)

    def lines(self) -> List[str]:
        return self.log.splitlines()

    def index(self, needle: str, start: int = 0) -> int:
        """Index of the first line at or after `start` containing `needle`, or -1."""
        ls = self.lines()
        for i in range(start, len(ls)):
            if needle in ls[i]:
                return i
        return -1

    def errors(self) -> List[str]:
        return [line for line in self.lines() if line.startswith("error: [nn~]")]

    def printed(self, name: str) -> Dict[str, List[str]]:
        """Last `[print name]` line of each key: what nn~ `name` sent out of its message outlet."""
        out: Dict[str, List[str]] = {}
        for line in self.lines():
            m = re.match(rf"^{re.escape(name)}: (\S+)(.*)$", line.strip())
            if m:
                out[m.group(1)] = m.group(2).split()
        return out


class Scenario(pd.Patch):
    """A Pd patch: nn~ objects with receivers, recorded signals and a timeline of steps."""

    def __init__(self, tmp: Path, name: str = "scenario") -> None:
        super().__init__(columns=5)
        self.tmp = Path(tmp)
        self.file = self.tmp / f"{name}.pd"
        self.canvas = f"pd-{name}.pd"  # receiver of the patch's own canvas, for dynamic patching
        self.tables: List[Tuple[str, int]] = []
        self.steps: List[Tuple[str, object]] = []
        self.go: Optional[int] = None
        mark_r = self.obj("r mark")
        self.connect(mark_r, 0, self.obj("print MARK"), 0)
        self.connect(self.obj("r sfw"), 0, self.obj("soundfiler"), 0)
        self.go = self.obj(
            "r go"
        )  # bangs every recorder: `go bang` with DSP on starts the recording

    # -- building blocks
    def _go(self) -> int:
        assert self.go is not None
        return self.go

    def record(self, src: int, table: str, frames: int, outlet: int = 0) -> None:
        """Records outlet `outlet` of object `src` into `table` from the `go` bang on."""
        self.obj(f"table {table} {frames}")
        w = self.obj(f"tabwrite~ {table}")
        self.connect(src, outlet, w, 0)
        self.connect(self._go(), 0, w, 0)
        self.tables.append((table, frames))

    def sine(
        self, freq: float = 220.0, amp: float = 0.5, table: Optional[str] = None, frames: int = 0
    ) -> int:
        """[osc~ freq] * amp, recorded into `table` when given (nn~'s input, sample for sample)."""
        osc = self.obj(f"osc~ {freq}")
        mul = self.obj(f"*~ {amp}")
        self.connect(osc, 0, mul, 0)
        if table:
            self.record(mul, table, frames)
        return mul

    def nn(
        self,
        name: str,
        creation: str,
        n_out: int = 1,
        source: Optional[int] = None,
        record: Optional[str] = None,
        frames: int = 0,
    ) -> int:
        """[nn~ creation] receiving on `name`; its message outlet: [print name], `name-out`."""
        x = self.obj(f"nn~ {creation}")
        self.connect(self.obj(f"r {name}"), 0, x, 0)
        self.connect(x, n_out, self.obj(f"print {name}"), 0)
        self.connect(x, n_out, self.obj(f"s {name}-out"), 0)
        if source is not None:
            self.connect(source, 0, x, 0)
        if record:
            self.record(x, record, frames)
        return x

    # -- timeline
    def send(self, *messages: str) -> Scenario:
        """One step: messages `receiver selector args...`, sent in order at one logical time."""
        self.steps.append(("send", messages))
        return self

    def mark(self, name: str) -> Scenario:
        return self.send(f"mark {name}")

    def delay(self, ms: float) -> Scenario:
        self.steps.append(("delay", ms))
        return self

    def wait_loaded(self, name: str) -> Scenario:
        """Polls `info` on nn~ `name` every 20 ms until its state is no longer `loading`, then gives
        its clock 50 ms to show the load's events."""
        self.steps.append(("idle", name))
        return self

    def _chain(self) -> None:
        lb = self.obj("loadbang")
        prev, prev_out = lb, 0
        for kind, arg in self.steps:
            if kind == "send":
                t = self.obj("t b b")
                m = self.msg(" ".join("\\; " + s for s in arg))  # type: ignore[union-attr]
                self.connect(prev, prev_out, t, 0)
                self.connect(t, 1, m, 0)
                prev, prev_out = t, 0
            elif kind == "delay":
                d = self.obj(f"delay {arg}")
                self.connect(prev, prev_out, d, 0)
                prev, prev_out = d, 0
            elif kind == "idle":
                t = self.obj("t b b")
                one = self.msg("1")
                gate = self.obj("spigot")
                info = self.msg("info")
                self.connect(prev, prev_out, t, 0)
                self.connect(t, 1, one, 0)
                self.connect(one, 0, gate, 1)
                self.connect(t, 0, info, 0)
                self.connect(info, 0, self.obj(f"s {arg}"), 0)
                state = self.obj("route state")
                self.connect(self.obj(f"r {arg}-out"), 0, state, 0)
                self.connect(state, 0, gate, 0)
                loading = self.obj("route loading")
                self.connect(gate, 0, loading, 0)
                again = self.obj("delay 20")
                self.connect(loading, 0, again, 0)
                self.connect(again, 0, info, 0)
                done = self.obj("t b b")
                zero = self.msg("0")
                self.connect(loading, 1, done, 0)
                self.connect(done, 1, zero, 0)
                self.connect(zero, 0, gate, 1)
                settle = self.obj("delay 50")
                self.connect(done, 0, settle, 0)
                prev, prev_out = settle, 0
        # the end: write every table, print the final marker, quit
        writes = [f"sfw write -bytes 4 {self.tmp / (t + '.wav')} {t}" for t, _ in self.tables]
        t = self.obj("t b b")
        self.connect(prev, prev_out, t, 0)
        self.connect(
            t, 1, self.msg(" ".join("\\; " + s for s in [*writes, "mark END", "pd quit"])), 0
        )

    def run(self, realtime: bool = False, timeout: float = 90) -> Run:
        self._chain()
        self.write(self.file)
        p = pd.run(
            self.file,
            [pdrun.external_dir()],
            binary=pdrun.pd_binary(),
            batch=not realtime,
            sr=SR,
            timeout=timeout,
            cwd=self.tmp,
        )
        run = Run(p.returncode, p.stdout + p.stderr)
        for t, _ in self.tables:
            f = self.tmp / f"{t}.wav"
            if f.exists():
                run.tables[t] = sf.read(f, dtype="float32")[0]
        return run


def check_sequence(run: Run, expected: Sequence[Tuple[str, str]]) -> None:
    """Each (message, marker): `message` is printed after the previous marker and before `marker`;
    Pd printed the final marker and exited 0."""
    start, prev, prev_start = 0, None, 0
    for needle, marker in expected:
        if marker == prev:  # several messages before the same marker
            start = prev_start
        m = run.index(f"MARK: {marker}", start)
        assert m >= 0, f"marker {marker!r} missing: Pd stopped before it?\n{run.log}"
        e = run.index(needle, start)
        assert 0 <= e < m, f"expected {needle!r} before marker {marker!r}\n{run.log}"
        prev, prev_start, start = marker, start, m + 1
    assert run.index("MARK: END") >= 0, f"Pd did not reach the end of the patch\n{run.log}"
    assert run.returncode == 0, run.log


def delayed(x: np.ndarray, lat: int, n: int) -> np.ndarray:
    """x delayed by lat samples (zeros first), n samples long."""
    y = np.zeros(n, dtype=np.float32)
    y[lat:] = x[: n - lat]
    return y


# The short file names these patches use, and the catalogue entry each one is.
FILES = {
    "empty": "empty",
    "random": "random_bytes",
    "truncated": "truncated",
    "noparams": "no_params",
    "nomethods": "plain_module",
    "params3": "three_params",
    "params5": "five_params",
    "ratio0": "ratio_zero",
    "rationeg": "ratio_negative",
    "hugeratio": "in_ratio_2_20",
    "manychannels": "in_channels_1025",
    "floatparams": "float_params",
    "listedmissing": "listed_missing",
    "tuple": "returns_tuple",
    "throws": "throws",
    "wrongshape": "wrong_shape",
    "throwsafter": "throws_after_4",
    "shapeafter": "shape_after_4",
    "nan": "nan_when_loud",
    "nansilence": "nan_on_silence",
    "ratio3": "ratio3_both",
    "stuck": "stuck",
}


def copy_models(d: Path, *names: str) -> None:
    for n in names:
        if n in plain_models.BUILDERS:
            plain_models.save(n, d)
        else:
            entry = FILES[n]
            builder = (
                catalogue.BY_NAME[entry].build
                if entry in catalogue.BY_NAME
                else catalogue.NOT_CHECKABLE[entry]
            )
            builder(Path(d) / f"{n}.ts")


# ---- files that cannot be loaded, contracts that are violated, bad creation arguments ------------

# (creation arguments, the specific error)
CREATION_CASES = [
    ("missing", "[nn~] model file 'missing' not found next to the patch or in Pd's search path"),
    ("empty", "empty.ts' is empty (0 bytes): export the model again"),
    (
        "random",
        "random.ts' is not a TorchScript model (PytorchStreamReader failed reading zip",
    ),
    (
        "truncated",
        "truncated.ts' is not a TorchScript model (PytorchStreamReader failed reading zip",
    ),
    (
        "noparams",
        "[nn~] method 'forward' has no forward_params buffer [in_channels, in_ratio, out_channels,"
        " out_ratio] [params.missing]",
    ),
    (
        "nomethods",
        "[nn~] the model declares no method: each method needs a <method>_params buffer"
        " [methods.none]",
    ),
    (
        "params3",
        "[nn~] forward_params holds 3 values, expected 4: [in_channels, in_ratio, out_channels,"
        " out_ratio] [params.count]",
    ),
    ("params5", "[nn~] forward_params holds 5 values, expected 4: [in_channels,"),
    (
        "ratio0",
        "[nn~] forward_params: in_ratio is 0; each entry must be a whole number from 1 to 1048576"
        " [params.range]",
    ),
    (
        "rationeg",
        "[nn~] forward_params: out_ratio is -2; each entry must be a whole number from 1 to",
    ),
    (
        "manychannels",
        "[nn~] method 'forward': in_channels is 1025; nn~ accepts at most 1024 channels per method"
        " [channels.limit]",
    ),
    (
        "hugeratio",
        "[nn~] the model's ratios need a buffer of 1048576 samples, more than nn~ allows (131072)"
        " [buffer.limit]",
    ),
    (
        "floatparams",
        "[nn~] forward_params holds [1, 1.5, 1, 1]: channels and ratios must be whole numbers"
        " [params.fraction]",
    ),
    (
        "listedmissing",
        "[nn~] method 'decode' is listed but the file has no such TorchScript method"
        " [method.missing]",
    ),
    (
        "tuple",
        "[nn~] method 'forward' returned a tuple, expected a tensor [batch, channels, frames]"
        " [call.type]",
    ),
    (
        "throws",
        "[nn~] method 'forward' threw on a buffer of zeros: builtins.RuntimeError: boom: this"
        " model always fails",
    ),
    (
        "wrongshape",
        "[nn~] method 'forward' returned shape [1, 1, 1024] for input [1, 1, 2048], expected [1, 1,"
        " 2048] as forward_params declare [call.shape]",
    ),
    ("identity nosuch", "identity.ts' has no method 'nosuch'; available: forward"),
    (
        "identity 0",
        "[nn~] buffer size must be a positive number of samples, got 0; using the default",
    ),
    (
        "identity -5",
        "[nn~] buffer size must be a positive number of samples, got -5; using the default",
    ),
    (
        "identity 10000000",
        "[nn~] buffer size 10000000 is too large (at most 131072); using the default",
    ),
    (
        "identity 100.5",
        "[nn~] buffer size must be a whole number of samples, got 100.5; using the default",
    ),
]


@pytest.fixture(scope="module")
def creation_run(tmp_path_factory) -> Run:
    """One Pd run: each bad object is created by a message to the patch's canvas while DSP runs,
    followed by a marker; then messages to an object whose model failed to load."""
    d = tmp_path_factory.mktemp("creation")
    copy_models(d, "identity", *[c for c, _ in CREATION_CASES if c in FILES])
    sc = Scenario(d, "creation")
    sc.nn("failed", "empty")  # a model that failed at creation: it must still take every message
    sc.send("pd dsp 1", "go bang", "mark init").delay(20)
    for i, (creation, _) in enumerate(CREATION_CASES):
        sc.send(f"{sc.canvas} obj 10 {400 + 20 * i} nn~ {creation}", f"mark case{i}").delay(10)
    sc.send("failed reload", "mark reload")
    sc.send("failed set gain 1", "mark set")
    sc.send("failed get gain", "mark get")
    sc.send("failed method forward", "mark method")
    sc.send("failed bufsize 512", "failed info", "failed stats", "mark info")
    sc.delay(50)
    return sc.run()


@pytest.mark.parametrize("case", range(len(CREATION_CASES)), ids=[c for c, _ in CREATION_CASES])
def test_unloadable_model_is_reported_and_pd_keeps_running(creation_run: Run, case: int):
    creation, message = CREATION_CASES[case]
    start = creation_run.index(f"MARK: case{case - 1}" if case else "MARK: init") + 1
    end = creation_run.index(f"MARK: case{case}")
    assert end >= 0, f"Pd did not get past [nn~ {creation}]\n{creation_run.log}"
    between = creation_run.lines()[start:end]
    assert any(message in line and line.startswith("error: [nn~]") for line in between), (
        f"[nn~ {creation}] should print {message!r}; printed:\n" + "\n".join(between)
    )
    assert creation_run.index("MARK: END") >= 0 and creation_run.returncode == 0, creation_run.log


def test_object_without_model_answers_every_message(creation_run: Run):
    check_sequence(
        creation_run,
        [
            ("error: [nn~] no model to reload: send `load <file> [<method>]` first", "reload"),
            ("error: [nn~] no model loaded: send `load <file> [<method>]` first", "set"),
            ("error: [nn~] no model loaded: send `load <file> [<method>]` first", "get"),
            ("error: [nn~] no model loaded: send `load <file> [<method>]` first", "method"),
            ("[nn~] state empty", "info"),
        ],
    )
    assert creation_run.printed("failed")["buffer"] == ["512"]
    assert "Bad arguments" not in creation_run.log and "no method for" not in creation_run.log, (
        creation_run.log
    )


# ---- buffer sizes --------------------------------------------------------------------------------


def test_ratio_3_adapts_the_buffer_size_says_so_and_renders(tmp_path: Path):
    """A ratio that does not divide 2048 (or a requested 1001): nn~ rounds the buffer up to a
    multiple of 3, says which size it uses, and renders the host convention at the latency it
    reports."""
    copy_models(tmp_path, "ratio3")
    n = 14000
    sc = Scenario(tmp_path, "ratio3")
    src = sc.sine(table="in", frames=n)
    sc.nn("r3", "ratio3", source=src, record="out", frames=n)
    sc.nn("r3b", "ratio3 1001", source=src, record="outb", frames=n)
    sc.mark("created").send("pd dsp 1", "go bang").delay(n / 44.1 + 20)
    run = sc.send("r3 info", "r3b info").run()
    check_sequence(
        run,
        [
            (
                "[nn~] warning: the default buffer size 2048 is not a multiple of the model's"
                " ratios (3): using 2049",
                "created",
            ),
            (
                "[nn~] warning: buffer size 1001 is not a multiple of the model's ratios (3):"
                " using 1002",
                "created",
            ),
        ],
    )
    warn = (
        "[nn~] warning: method 'forward' has ratio 3, not a power of two: nn~ plays it at a buffer"
        " size that is a multiple of 3, the reference nn~ cannot play it [ratio.pow2]"
    )
    assert run.log.count(warn) == 2, run.log  # once per object, not once per ratio
    assert not run.errors(), run.log
    x = run.tables["in"]
    for name, table, b in (("r3", "out", 2049), ("r3b", "outb", 1002)):
        info = run.printed(name)
        assert info["buffer"] == [str(b)] and info["latency"] == [str(2 * b)], info
        y = run.tables[table]
        lat = 2 * b
        u = np.arange(n - lat)
        expected = np.concatenate(
            [np.zeros(lat, np.float32), x[3 * (u // 3) + 2]]
        )  # last of each 3, held
        np.testing.assert_array_equal(
            y, expected, err_msg=f"[nn~ {name}] does not render decimate-by-3 / hold-3"
        )


def test_odd_buffer_size_renders_and_bad_bufsize_messages_are_refused(tmp_path: Path):
    """[nn~ identity 1001] renders exactly at latency 2002; no bad `bufsize` changes the 1001."""
    copy_models(tmp_path, "identity")
    n = 9000
    sc = Scenario(tmp_path, "oddbuf")
    src = sc.sine(table="in", frames=n)
    sc.nn("odd", "identity 1001", source=src, record="out", frames=n)
    bad = [
        ("0", "[nn~] buffer size must be a positive number of samples, got 0"),
        ("-64", "[nn~] buffer size must be a positive number of samples, got -64"),
        ("100.5", "[nn~] buffer size must be a whole number of samples, got 100.5"),
        ("10000000", "[nn~] buffer size 10000000 is too large (at most 131072)"),
        ("1e+10", "[nn~] buffer size 10000000000 is too large (at most 131072)"),
    ]
    for i, (value, _) in enumerate(bad):
        sc.send(f"odd bufsize {value}", f"mark bad{i}")
    # no number at all: Pd's own argument check refuses it before nn~ sees it
    sc.send("odd bufsize", "mark none").send("odd bufsize big", "mark symbol")
    sc.send("pd dsp 1", "go bang").delay(n / 44.1 + 20)
    run = sc.send("odd info").run()
    pd_refusal = "error: bad arguments for message 'bufsize' to object 'nn~'"
    check_sequence(
        run,
        [(m, f"bad{i}") for i, (_, m) in enumerate(bad)]
        + [(pd_refusal, "none"), (pd_refusal, "symbol")],
    )
    assert len(run.errors()) == len(bad), run.errors()
    assert "not a multiple" not in run.log, "1001 suits a ratio-1 model as it is"
    info = run.printed("odd")
    assert info["buffer"] == ["1001"] and info["latency"] == ["2002"], info
    np.testing.assert_array_equal(run.tables["out"], delayed(run.tables["in"], 2002, n))


def test_headroom_while_playing_and_bad_headroom_messages(tmp_path: Path):
    """`headroom 1`: latency 3B (info says so) and the output is exactly the input delayed by 3B;
    `headroom 2` while DSP runs restarts the stream at 4B; bad values are refused with the range."""
    copy_models(tmp_path, "identity")
    n = 12 * B
    sc = Scenario(tmp_path, "headroom")
    src = sc.sine(table="in", frames=n)
    sc.nn("h", f"identity {B}", source=src, record="out", frames=n)
    bad = ["-1", "9", "1.5"]
    for i, value in enumerate(bad):
        sc.send(f"h headroom {value}", f"mark bad{i}")
    sc.send("h headroom 1", "pd dsp 1", "go bang").delay(n / 44.1 + 20)
    sc.send("h info", "mark before").send("h headroom 2").delay(10)
    run = sc.send("h info", "mark after").run()
    message = "[nn~] headroom must be a whole number of buffers from 0 to 8"
    check_sequence(
        run,
        [
            (f"{message} (extra latency for a model slower than real time), got {v}", f"bad{i}")
            for i, v in enumerate(bad)
        ],
    )
    assert len(run.errors()) == len(bad), run.errors()
    check_sequence(run, [(f"h: latency {3 * B}", "before"), (f"h: latency {4 * B}", "after")])
    assert "h: headroom 1" in run.log and "h: headroom 2" in run.log
    np.testing.assert_array_equal(run.tables["out"], delayed(run.tables["in"], 3 * B, n))


# ---- models that fail or misbehave while playing -------------------------------------------------


def test_model_that_fails_during_playback_is_stopped_with_an_error_and_silence(tmp_path: Path):
    """ThrowsAfter and ShapeAfter pass the load-time warm-up, play 4 buffers, then raise or return a
    wrong shape on the worker: each error reaches the console through the main thread's clock,
    once, and the output becomes silence."""
    copy_models(tmp_path, "throwsafter", "shapeafter")
    n = 8 * B + LAT
    sc = Scenario(tmp_path, "failing")
    src = sc.sine(table="in", frames=n)
    sc.nn("t", "throwsafter", source=src, record="out", frames=n)
    sc.nn("s", "shapeafter", source=src, record="outs", frames=n)
    sc.send("pd dsp 1", "go bang").delay(n / 44.1 + 20)
    run = sc.send("mark played", "t info", "s info").run()
    stopped = "; the model is stopped (fix it, then send `reload`)"
    threw = "error: [nn~] method 'forward' threw: builtins.RuntimeError: boom after 4 calls"
    shape = (
        "error: [nn~] method 'forward' returned shape [1, 1, 2047] for input [1, 1, 2048], expected"
        " [1, 1, 2048] as forward_params declare" + stopped + " [call.shape]"
    )
    check_sequence(run, [(threw, "played"), (shape, "played")])
    line = run.lines()[run.index(threw)]
    assert line.endswith(stopped), line
    assert len(run.errors()) == 2, run.errors()  # a stopped model is not called again
    assert run.printed("t")["state"] == ["failed"] and run.printed("s")["state"] == ["failed"]
    x = run.tables["in"]
    for table in ("out", "outs"):
        y = run.tables[table]
        np.testing.assert_array_equal(y[: LAT + 4 * B], delayed(x, LAT, LAT + 4 * B))
        assert np.all(y[LAT + 4 * B :] == 0.0), "a failed model must output silence"


def test_reload_brings_a_failed_model_back(tmp_path: Path):
    """After ThrowsAfter failed, `reload` (as the error message advises) loads it afresh: 4 good
    buffers again, then the same error again. The output is the input, silence, the input,
    silence, buffer for buffer."""
    copy_models(tmp_path, "throwsafter")
    n = 3 * SR
    sc = Scenario(tmp_path, "recover")
    src = sc.sine(table="in", frames=n)
    sc.nn("t", "throwsafter", source=src, record="out", frames=n)
    sc.send("pd dsp 1", "go bang").delay((LAT + 6 * B) / 44.1).mark("failed")
    sc.send("t reload").wait_loaded("t").mark("reloaded").delay((LAT + 6 * B) / 44.1)
    run = sc.run(realtime=True)
    threw = "error: [nn~] method 'forward' threw: builtins.RuntimeError: boom after 4 calls"
    check_sequence(run, [(threw, "failed"), ("[nn~] loaded ", "reloaded"), (threw, "END")])
    assert len(run.errors()) == 2, run.errors()
    kinds = "".join(str(k) for k in classify_buffers(run.tables["out"], run.tables["in"], (1, 0)))
    assert re.fullmatch(r"0000(1+)00001+", kinds), f"input (0) / silence (1) per buffer: {kinds}"


def test_nan_output_is_replaced_by_zero_with_a_warning(tmp_path: Path):
    """NaNAbove is finite on silence and NaN while playing: nn~ warns once from the worker (through
    the clock) and counts the samples in `stats`. NaNOnSilence is NaN already on the load-time
    buffer of zeros: nn~ warns when the object is created. No NaN reaches the output."""
    copy_models(tmp_path, "nan", "nansilence")
    n = 3 * B + LAT
    sc = Scenario(tmp_path, "nan")
    src = sc.sine(table="in", frames=n)
    sc.nn("nanm", "nan", source=src, record="out", frames=n)
    sc.nn("nans", "nansilence", source=src, record="outs", frames=n)
    sc.mark("created").send("pd dsp 1", "go bang").delay(n / 44.1 + 20)
    run = sc.send("mark played", "nanm stats").run()
    check_sequence(
        run,
        [
            (
                "[nn~] warning: method 'forward' outputs NaN or Inf on silence; nn~ replaces them"
                " by 0 [call.nonfinite]",
                "created",
            ),
            ("[nn~] warning: the model produced NaN or Inf (", "played"),
        ],
    )
    assert "they are replaced by 0 (see `stats`)" in run.log
    stats = run.printed("nanm")["stats"]
    assert int(dict(zip(stats[0::2], stats[1::2], strict=True))["nonfinite"]) > 0, stats
    x = delayed(run.tables["in"], LAT, n)
    y = run.tables["out"]
    assert np.isfinite(y).all(), "NaN reached the output file"
    np.testing.assert_array_equal(y, np.where(x > 0.25, 0.0, x).astype(np.float32))
    ys = run.tables["outs"]
    assert np.isfinite(ys).all(), "NaN reached the output file"
    np.testing.assert_array_equal(ys[LAT:], np.where(x[LAT:] == 0, 0.0, 1.0).astype(np.float32))


# ---- methods, attributes, policy -----------------------------------------------------------------


def test_bad_method_attribute_and_policy_messages(tmp_path: Path):
    """[nn~ attributed] with `set gain 2`: every bad message is refused with its own error and the
    output stays 2 * input."""
    copy_models(tmp_path, "attributed")
    n = 6 * B + LAT
    sc = Scenario(tmp_path, "attrs")
    src = sc.sine(table="in", frames=n)
    sc.nn("a", "attributed", source=src, record="out", frames=n)
    attrs = "this model has: gain, offset, mute, mode, name, range"
    cases = [
        ("a set nosuch 1", f"[nn~] unknown attribute 'nosuch'; {attrs}"),
        ("a set range 1", "[nn~] attribute 'range' takes 2 value(s) (float float), got 1"),
        ("a set range 1 2 3", "[nn~] attribute 'range' takes 2 value(s) (float float), got 3"),
        ("a set gain", "[nn~] attribute 'gain' takes 1 value(s) (float), got 0"),
        ("a set gain abc", "[nn~] value 1 of 'gain' must be a number (float), got 'abc'"),
        ("a set mute 2", "[nn~] value 1 of 'mute' must be 0 or 1 (bool), got 2"),
        ("a set mode 1.5", "[nn~] value 1 of 'mode' must be a whole number (int), got 1.5"),
        ("a set", "[nn~] usage: set <attribute> <value> ..."),
        ("a get nosuch", f"[nn~] unknown attribute 'nosuch'; {attrs}"),
        ("a method nosuch", "[nn~] unknown method 'nosuch'; this model has: forward"),
        ("a policy sometimes", "[nn~] unknown policy 'sometimes': use wait, silence or hold"),
        ("a load 3", "[nn~] usage: load <model file> [<method>]"),
        (
            "a get",
            "error: bad arguments for message 'get' to object 'nn~'",
        ),  # Pd's own argument check
    ]
    sc.send("a set gain 2")
    for i, (message, _) in enumerate(cases):
        sc.send(message, f"mark case{i}")
    sc.send("pd dsp 1", "go bang")
    # refused by the model itself (set_gain returns -1), on the worker: reported through the clock
    sc.send("a set gain -1", "a get gain").delay(4 * B / 44.1 + 20).mark("refused")
    sc.delay(n / 44.1)
    run = sc.send("a info").run()
    check_sequence(
        run,
        [(m, f"case{i}") for i, (_, m) in enumerate(cases)]
        + [("[nn~] the model refused the value for 'gain' (set_gain returned -1)", "refused")],
    )
    assert len(run.errors()) == len(cases), run.errors()  # the `get` refusal is Pd's, not nn~'s
    info = run.printed("a")
    assert info["gain"] == ["2"] and info["state"] == ["ready"] and info["policy"] == ["wait"], info
    np.testing.assert_allclose(
        run.tables["out"], 2.0 * delayed(run.tables["in"], LAT, n), rtol=0, atol=1e-7
    )


# ---- load and reload while a good model plays ----------------------------------------------------


def classify_buffers(y: np.ndarray, x_in: np.ndarray, gains: Sequence[float]) -> List[int]:
    """For each whole B-sample buffer of the output y after the latency, the index in `gains` of the
    gain g with y == g * x_in delayed by LAT. Fails on a buffer that matches none: nn~ swaps models
    only at buffer boundaries and never plays silence or garbage in between."""
    out = []
    x = delayed(x_in, LAT, len(y))
    recorded = (
        int(np.nonzero(x_in)[0][-1]) + 1
    )  # both recordings end when Pd quits, maybe before full
    for start in range(LAT, min(len(y), recorded) - B + 1, B):
        xs, ys = x[start : start + B], y[start : start + B]
        match = [i for i, g in enumerate(gains) if np.allclose(ys, g * xs, rtol=0, atol=1e-6)]
        assert match, (
            f"buffer at sample {start} is neither of gains {gains}: max |y| = {np.abs(ys).max():g}"
        )
        out.append(match[0])
    return out


def test_bad_loads_while_a_good_model_keeps_playing(tmp_path: Path):
    copy_models(tmp_path, "gain", "identity", "mix2to3", "random", "truncated", "throws")
    n = 3 * SR
    sc = Scenario(tmp_path, "loads")
    src = sc.sine(table="in", frames=n)
    sc.nn("g", "gain", source=src, record="out", frames=n)
    sc.send("pd dsp 1", "go bang").delay(100)
    keeps = "; the previous model keeps playing"
    expected = [
        ("g load", "[nn~] usage: load <model file> [<method>]"),
        ("g load identity forward extra", "[nn~] usage: load <model file> [<method>]"),
        (
            "g load nosuchfile",
            "[nn~] model file 'nosuchfile' not found next to the patch or in Pd's search path",
        ),
        (
            "g load random",
            "random.ts' is not a TorchScript model (PytorchStreamReader failed",
        ),
        (
            "g load truncated",
            "truncated.ts' is not a TorchScript model (PytorchStreamReader failed",
        ),
        (
            "g load throws",
            "[nn~] method 'forward' threw on a buffer of zeros: builtins.RuntimeError: boom: this"
            " model always fails",
        ),
        (
            "g load identity nosuch",
            "identity.ts' has no method 'nosuch'; available: forward" + keeps,
        ),
    ]
    for i, (message, _) in enumerate(expected):
        sc.send(message).wait_loaded("g").mark(f"case{i}")
    # a good model with more channels than the object has signal inlets and outlets: it loads with
    # a warning for each; its first output (left + right) is the input, as the right inlet is silent
    sc.delay(150).send("g load mix2to3").wait_loaded("g").mark("good").delay(300)
    run = sc.run(realtime=True)
    check_sequence(
        run,
        [(m, f"case{i}") for i, (_, m) in enumerate(expected)]
        + [
            (
                "[nn~] warning: method 'forward' has 2 in channel(s) but this object has 1 signal"
                " inlets: missing inputs get silence; recreate the object (retype its box)",
                "good",
            ),
            (
                "[nn~] warning: method 'forward' has 3 out channel(s) but this object has 1 signal"
                " outlets: extra outputs are dropped or silent; recreate the object",
                "good",
            ),
            ("[nn~] loaded ", "good"),
        ],
    )
    for i in (3, 4, 5):  # loader errors say the old model stays
        line = run.lines()[run.index(expected[i][1])]
        # the rule id, when the error has one, stays last
        assert line.startswith("error: [nn~]") and re.search(
            re.escape(keeps) + r"( \[[a-z_.]+\])?$", line
        ), line
    assert len(run.errors()) == len(expected), run.errors()
    assert run.printed("g")["loaded"][0].endswith("mix2to3.ts"), run.printed("g")
    kinds = classify_buffers(run.tables["out"], run.tables["in"], (0.5, 1.0))
    switch = kinds.index(1) if 1 in kinds else len(kinds)
    assert switch >= 5, f"the good model was replaced too early: {kinds}"
    assert kinds == [0] * switch + [1] * (len(kinds) - switch) and switch < len(kinds), (
        f"gain 0.5 must play through every bad load, then the input after the good one: {kinds}"
    )


def test_reload_of_a_rewritten_file_keeps_the_old_model_until_the_file_is_fixed(tmp_path: Path):
    """model.ts is overwritten with a truncated copy, then deleted, then fixed (by [file copy] and
    [file delete] in the patch), with a `reload` after each: only the fixed file replaces the
    model."""
    copy_models(tmp_path, "gain", "identity", "truncated")
    model = tmp_path / "model.ts"
    shutil.copy(tmp_path / "gain.ts", model)
    n = 3 * SR
    sc = Scenario(tmp_path, "reload")
    src = sc.sine(table="in", frames=n)
    sc.nn("m", "model", source=src, record="out", frames=n)
    sc.connect(sc.obj("r fcopy"), 0, sc.obj("file copy"), 0)
    sc.connect(sc.obj("r fdelete"), 0, sc.obj("file delete"), 0)
    sc.send("pd dsp 1", "go bang").delay(100)
    sc.send(f"fcopy list {tmp_path / 'truncated.ts'} {model}", "m reload").wait_loaded("m").mark(
        "broken"
    )
    sc.send(f"fdelete symbol {model}", "m reload").wait_loaded("m").mark("deleted")
    sc.delay(100)
    sc.send(f"fcopy list {tmp_path / 'identity.ts'} {model}", "m reload", "m reload").wait_loaded(
        "m"
    ).mark("fixed")
    sc.delay(300)
    run = sc.run(realtime=True)
    keeps = "; the previous model keeps playing"
    check_sequence(
        run,
        [
            (
                f"error: [nn~] '{model}' is not a TorchScript model (PytorchStreamReader",
                "broken",
            ),
            (
                f"error: [nn~] cannot open model file '{model}': No such file or directory",
                "deleted",
            ),
            (f"[nn~] loaded {model} forward", "fixed"),
        ],
    )
    kept = re.compile(re.escape(keeps) + r"( \[[a-z_.]+\])?$")
    assert all(kept.search(e) for e in run.errors()) and len(run.errors()) == 2, run.errors()
    kinds = classify_buffers(run.tables["out"], run.tables["in"], (0.5, 1.0))
    switch = kinds.index(1) if 1 in kinds else len(kinds)
    assert (
        switch >= 5 and switch < len(kinds) and kinds == [0] * switch + [1] * (len(kinds) - switch)
    ), f"gain 0.5 must play until the fixed file is reloaded, then identity: {kinds}"


# ---- deleting objects while their worker computes ------------------------------------------------


def test_deleting_objects_while_their_worker_computes(tmp_path: Path):
    """[nn~ heavy] objects are created in a subpatch while DSP runs and deleted with `clear` while
    their worker computes (under -batch with the wait policy the audio thread runs ahead of the
    worker, so it is always busy), and once while a `load` is under way. Another nn~ keeps playing
    correctly."""
    copy_models(tmp_path, "heavy", "gain")
    n = 20 * B
    sc = Scenario(tmp_path, "delete")
    sc.subpatch("sub")
    src = sc.sine(table="in", frames=n)
    sc.nn("g", "gain", source=src, record="out", frames=n)
    sc.send("pd dsp 1", "go bang").delay(20)
    create = [
        "pd-sub obj 10 10 nn~ heavy",
        "pd-sub obj 10 40 osc~ 100",
        "pd-sub obj 10 70 r dyn",
        "pd-sub obj 10 100 print heavy",
        "pd-sub connect 1 0 0 0",
        "pd-sub connect 2 0 0 0",
        "pd-sub connect 0 1 3 0",
    ]
    sc.send(*create).delay(150).send("dyn stats", "pd-sub clear", "mark deleted0")
    for i in (1, 2):
        sc.send(*create).delay(60 * i).send("pd-sub clear", f"mark deleted{i}")
    sc.send(*create, "dyn load heavy", "pd-sub clear", "mark deleted-loading")
    sc.send(*create, "pd-sub clear", "mark deleted-at-once")
    sc.delay(n / 44.1)
    run = sc.run()
    for m in ("deleted0", "deleted1", "deleted2", "deleted-loading", "deleted-at-once"):
        assert run.index(f"MARK: {m}") >= 0, f"Pd stopped before {m}\n{run.log}"
    check_sequence(run, [("heavy: stats", "deleted0")])
    assert not run.errors(), run.errors()
    stats = run.printed("heavy")["stats"]
    values = dict(zip(stats[0::2], stats[1::2], strict=True))
    assert int(values["buffers"]) >= 2 and float(values["model_ms_mean"]) > 0, (
        f"the worker never computed: {stats}"
    )
    # every buffer of [nn~ gain] is exact: the DSP restarts of the dynamic patching made no gap
    kinds = classify_buffers(run.tables["out"], run.tables["in"], (0.5,))
    assert len(kinds) == (n - LAT) // B, kinds


def test_deleting_an_object_whose_model_hangs_does_not_hang_pd(tmp_path: Path):
    """[nn~ stuck] never returns from a call on a signal. Deleting it (`clear` of its subpatch)
    gives up on the call after 2 s, says so, and Pd goes on: the next steps run and Pd quits
    with 0 (the exit guard waits 5 s for the call, then ends the process before libtorch's
    destructors)."""
    copy_models(tmp_path, "stuck", "gain")
    sc = Scenario(tmp_path, "stuck")
    sc.subpatch("sub")
    rt = sc.obj("realtime")
    sc.connect(sc.obj("r rt-start"), 0, rt, 0)
    sc.connect(sc.obj("r rt-stop"), 0, rt, 1)
    sc.connect(rt, 0, sc.obj("print ELAPSED"), 0)
    src = sc.sine()
    sc.nn("g", "gain", source=src)
    sc.send("pd dsp 1")
    sc.send(
        "pd-sub obj 10 10 nn~ stuck",
        "pd-sub obj 10 40 osc~ 100",
        "pd-sub obj 10 70 r dyn",
        "pd-sub obj 10 100 s dyn-out",
        "pd-sub connect 1 0 0 0",
        "pd-sub connect 2 0 0 0",
        "pd-sub connect 0 1 3 0",
        "dyn policy silence",
    )
    # Clock-paced, so the 300 ms after the load are wall time too: by then the worker has had a
    # buffer of the sine and is inside the call (in -batch they can pass before it starts one).
    sc.wait_loaded("dyn").delay(300)
    sc.send("rt-start bang", "pd-sub clear", "rt-stop bang", "mark deleted").delay(100)
    sc.send("g info", "mark after")
    t0 = time.monotonic()
    run = sc.run(realtime=True, timeout=120)
    took = time.monotonic() - t0
    check_sequence(
        run, [("deleted an object whose model was still inside a call after 2 s", "after")]
    )
    elapsed = float(run.lines()[run.index("ELAPSED:")].split()[-1])
    assert elapsed < 4000, f"deleting the object blocked Pd for {elapsed:.0f} ms"
    assert elapsed >= 1900, f"gave up after {elapsed:.0f} ms, before the 2 s wait"
    assert run.printed("g")["state"] == ["ready"]
    assert took < 60, f"Pd took {took:.0f} s"

"""nn~ with Pd's multichannel signals, rendered in pd -batch and compared with the model
run in Python (tests/support/reference.py) at 1e-6:

  -v  voices: each channel of a cable is a batch item (snake~ in N, clone -do N, a width that
      changes while the patch runs); a stateful model shows that every voice keeps its own state
      (a voice's output equals that voice run alone).
  -m  one cable with the method's input channels (a narrower cable wraps) and one with its outputs.

Which tests exist depends on the Pd under test ($NN_PD_BIN): with Pd 0.54+ the renders, with 0.53
(no multichannel signals) the fallback: the flags print a clear error and nn~ works as plain nn~.
No test is skipped, so NN_STRICT_SKIPS=1 holds in both runs of scripts/test.sh.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from nn_tilde.host import pd
from support import pdrun
from support.reference import host_reference

pytestmark = pytest.mark.pd

SR = 44100
B = 512  # nn~'s buffer size in these renders
TOL = 1e-6
HAS_MC = pdrun.has_multichannel()


class Leaky(nn.Module):
    """forward: y[t] = x[t] + 0.5 * x[t-1] with x[-1] carried from the previous call, one state per
    batch item: a voice that borrowed another's state would differ from the voice run alone."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1], dtype=torch.long))
        self.last = torch.zeros(1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, 1, T]
        if self.last.shape[0] != x.shape[0]:
            self.last = torch.zeros(x.shape[0], 1, 1)
        prev = torch.cat([self.last, x[:, :, :-1]], dim=-1)
        self.last = x[:, :, -1:].clone()
        return x + 0.5 * prev

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("mc") / "leaky.ts"
    torch.jit.script(Leaky()).save(str(p))
    return p


def voices(n: int, frames: int, seed: int = 1) -> np.ndarray:
    """n different test signals: [n, frames] float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / SR
    x = [
        0.4 * np.sin(2 * np.pi * (110 + 57 * k) * t) + 0.1 * rng.standard_normal(frames)
        for k in range(n)
    ]
    return np.asarray(x, dtype=np.float32)


def alone(path: Path, x: np.ndarray, method: str = "forward") -> np.ndarray:
    """The model run on one voice (or one set of input channels) alone: [out_channels, frames]."""
    return host_reference(str(path), method, x, B)


def delayed(ref: np.ndarray, lat: int, frames: int) -> np.ndarray:
    """What nn~ outputs for `ref` with `lat` samples of latency: [channels, frames]."""
    out = np.zeros((ref.shape[0], frames), dtype=np.float32)
    n = min(frames - lat, ref.shape[1])
    out[:, lat : lat + n] = ref[:, :n]
    return out


class Patch(pd.Patch):
    """A pd -batch render: input tables played from DSP start, output tables written to out.wav."""

    def __init__(self, tmp: Path, inputs: np.ndarray, n_out: int, rec: int) -> None:
        super().__init__()
        self.tmp, self.n_out, self.rec = tmp, n_out, rec
        self.frames = inputs.shape[1]
        files = []
        for c, x in enumerate(inputs):
            f = tmp / f"in{c}.wav"
            sf.write(f, x, SR, subtype="FLOAT")
            files.append(f)
            self.obj(f"table nnin{c} {self.frames}")
        for c in range(n_out):
            self.obj(f"table nnout{c} {rec}")
        self.reads = self.msg(
            " \\, ".join(f"read -resize {f} nnin{c}" for c, f in enumerate(files))
        )
        self.connect(self.reads, 0, self.obj("soundfiler"), 0)
        self.info = self.obj("print nninfo")
        self.go = self.obj("r nngo")  # bang: play and record from the first DSP tick
        self.recs = [self.obj(f"tabwrite~ nnout{c}") for c in range(n_out)]
        for r in self.recs:
            self.connect(self.go, 0, r, 0)

    def player(self, c: int) -> int:
        p = self.obj(f"tabplay~ nnin{c}")
        self.connect(self.go, 0, p, 0)
        return p

    def run(self, at_ms: Sequence[tuple] = (), realtime: bool = False) -> pdrun.PdResult:
        """at_ms: (milliseconds after DSP start, message box text) pairs, e.g. dynamic patching.
        realtime: run Pd's clock at real-time pace (no -batch), so that a background load finishes
        while the patch plays."""
        out = self.tmp / "out.wav"
        write = self.msg(
            f"write -bytes 4 {out} " + " ".join(f"nnout{c}" for c in range(self.n_out))
        )
        self.connect(write, 0, self.obj("soundfiler"), 0)
        quit_ = self.msg("\\; pd quit")
        lb = self.obj("loadbang")
        t = self.obj("t b b b")
        self.connect(lb, 0, t, 0)
        self.connect(t, 2, self.reads, 0)
        self.connect(t, 1, self.msg("\\; pd dsp 1 \\; nngo bang"), 0)
        for ms, text in at_ms:
            d = self.obj(f"delay {ms}")
            self.connect(t, 1, d, 0)
            self.connect(d, 0, self.msg(text), 0)
        end = self.obj(f"delay {(self.rec + 256) * 1000.0 / SR:.3f}")
        self.connect(t, 0, end, 0)
        after = self.obj("t b b")
        self.connect(end, 0, after, 0)
        self.connect(after, 1, write, 0)
        self.connect(after, 0, quit_, 0)
        patch = self.write(self.tmp / "mc.pd")
        if realtime:
            p = pd.run(patch, [pdrun.external_dir()], binary=pdrun.pd_binary(), batch=False, sr=SR)
        else:
            p = pdrun.run_pd(patch)
        res = pdrun.PdResult(
            p.returncode, p.stdout, p.stderr, info=pdrun.parse_info(p.stdout + p.stderr)
        )
        if out.exists():
            data, _ = sf.read(out, dtype="float32", always_2d=True)
            res.outputs = data.T
        return res


def latency(res: pdrun.PdResult) -> int:
    return int(float(res.info["latency"][0]))


def check(res: pdrun.PdResult, want: np.ndarray, what: str, start: int = 0) -> None:
    assert res.returncode == 0, res.log
    assert not res.nn_errors(), res.nn_errors()
    assert res.outputs is not None, res.log
    assert res.outputs.shape[0] == want.shape[0], f"{what}: {res.outputs.shape} vs {want.shape}"
    err = np.abs(res.outputs[:, start:] - want[:, start:]).max()
    assert err < TOL, f"{what}: differs from the model run in Python by {err:g}"


def nn_box(p: Patch, creation: str) -> int:
    nn_ = p.obj(f"nn~ {creation}")
    info = p.msg("info")
    p.connect(info, 0, nn_, 0)
    p.connect(nn_, 1, p.info, 0)
    p.connect(p.go, 0, info, 0)
    return nn_


if HAS_MC:

    def test_voices_from_snake_each_keep_their_own_state(tmp_path, leaky):
        n, frames = 5, 8 * B
        x = voices(n, frames)
        p = Patch(tmp_path, x, n, frames)
        snake = p.obj(f"snake~ in {n}")
        for c in range(n):
            p.connect(p.player(c), 0, snake, c)
        nn_ = nn_box(p, f"-v {leaky} forward {B}")
        p.connect(snake, 0, nn_, 0)
        out = p.obj(f"snake~ out {n}")
        p.connect(nn_, 0, out, 0)
        for c in range(n):
            p.connect(out, c, p.recs[c], 0)
        res = p.run()
        lat = latency(res)
        want = np.concatenate([delayed(alone(leaky, x[c : c + 1]), lat, frames) for c in range(n)])
        check(res, want, "nn~ -v from snake~ in 5")

    def test_voices_from_clone_do(tmp_path, leaky):
        n, frames = 8, 6 * B
        x = voices(n, frames, seed=2)
        p = Patch(tmp_path, x, n, frames)
        (tmp_path / "voice.pd").write_text(
            "#N canvas 0 50 300 200 12;\n#X obj 10 10 r nngo;\n#X obj 10 40 tabplay~ nnin$1;\n"
            "#X obj 10 70 outlet~;\n#X connect 0 0 1 0;\n#X connect 1 0 2 0;\n"
        )
        cl = p.obj(f"clone -do -s 0 {n} voice")
        nn_ = nn_box(p, f"-v {leaky} forward {B}")
        p.connect(cl, 0, nn_, 0)
        out = p.obj(f"snake~ out {n}")
        p.connect(nn_, 0, out, 0)
        for c in range(n):
            p.connect(out, c, p.recs[c], 0)
        res = p.run()
        lat = latency(res)
        want = np.concatenate([delayed(alone(leaky, x[c : c + 1]), lat, frames) for c in range(n)])
        check(res, want, "nn~ -v from clone -do 8")

    def width_change(tmp_path, x, creation, setup=None):
        """[nn~ <creation>] fed a 2-channel cable of x's first voices, then at 4B (dynamic
        patching, DSP restarts) a 3-channel one; records its 3 output channels. `setup` is a
        message box sent to nn~ when the recording starts."""
        p = Patch(tmp_path, x, 3, x.shape[1])
        players = [p.player(c) for c in range(3)]
        two, three = p.obj("snake~ in 2"), p.obj("snake~ in 3")
        for c in range(2):
            p.connect(players[c], 0, two, c)
        for c in range(3):
            p.connect(players[c], 0, three, c)
        nn_ = nn_box(p, creation)
        if setup:
            box = p.msg(setup)
            p.connect(p.go, 0, box, 0)
            p.connect(box, 0, nn_, 0)
        p.connect(two, 0, nn_, 0)
        out = p.obj("snake~ out 3")
        p.connect(nn_, 0, out, 0)
        for c in range(3):
            p.connect(out, c, p.recs[c], 0)
        swap = f"\\; pd-mc.pd disconnect {two} 0 {nn_} 0 \\; pd-mc.pd connect {three} 0 {nn_} 0"
        return p.run([(f"{4 * B * 1000.0 / SR:.3f}", swap)])

    def test_voices_follow_a_width_that_changes_while_playing(tmp_path, leaky):
        """A 2-channel cable, then (dynamic patching, DSP restarts) a 3-channel one: same box."""
        frames = 12 * B
        x = voices(3, frames, seed=3)
        res = width_change(tmp_path, x, f"-v {leaky} forward {B}")
        assert res.returncode == 0, res.log
        assert res.outputs is not None, res.log
        lat = latency(res)
        # Before the change: voices 1 and 2 as run alone, the third outlet channel silent.
        t0 = 4 * B
        for c in range(2):
            want = delayed(alone(leaky, x[c : c + 1]), lat, frames)[0]
            assert np.abs(res.outputs[c, :t0] - want[:t0]).max() < TOL
        assert np.abs(res.outputs[2, :t0]).max() == 0
        # After it: three voices, each from the restart on as if run alone from there (a new engine
        # with fresh state; its latency counts from the restart, found here to the block).
        best = None
        for start in range(t0 - 256, t0 + 1024, 64):
            err = max(
                np.abs(
                    res.outputs[c, start + lat :]
                    - delayed(alone(leaky, x[c : c + 1, start:]), lat, frames - start)[0, lat:]
                ).max()
                for c in range(3)
            )
            best = err if best is None else min(best, err)
        assert best < TOL, f"after the width change the voices differ by {best:g}"

    def test_voices_keep_attribute_values_across_a_width_change(tmp_path, model_dir):
        """[nn~ -v attributed] after `set gain 3` and `set offset 0.25`; the cable then goes from
        2 to 3 channels while playing. The new engine gets the values set again, so every voice
        is still x * 3 + 0.25 after the restart (the model read afresh would say gain 1, offset 0).
        """
        frames = 12 * B
        x = voices(3, frames, seed=6)
        creation = f"-v {model_dir / 'attributed.ts'} forward {B}"
        res = width_change(tmp_path, x, creation, setup="set gain 3 \\, set offset 0.25")
        t0 = 4 * B
        assert res.returncode == 0, res.log
        assert not res.nn_errors(), res.nn_errors()
        lat = latency(res)
        # memoryless: once a voice plays, output t is 3 * input (t - lat) + 0.25, restart or not
        start = t0 + 2 * lat + B
        for c in range(3):
            want = 3.0 * x[c, start - lat : frames - lat] + 0.25
            err = np.abs(res.outputs[c, start:] - want).max()
            assert err < TOL, f"voice {c} after the width change differs by {err:g}"
        for c in range(2):  # and before it, the values applied from the first buffer
            want = 3.0 * x[c, B : t0 - lat] + 0.25
            err = np.abs(res.outputs[c, lat + B : t0] - want).max()
            assert err < TOL, f"voice {c} before the width change differs by {err:g}"

    def test_multichannel_mode_with_a_narrower_cable_wraps(tmp_path, model_dir):
        """mix2to3 (2 in, 3 out) fed a 1-channel cable: both inputs get that channel."""
        frames = 6 * B
        x = voices(1, frames, seed=4)
        p = Patch(tmp_path, x, 3, frames)
        nn_ = nn_box(p, f"-m {model_dir / 'mix2to3.ts'} forward {B}")
        p.connect(p.player(0), 0, nn_, 0)
        out = p.obj("snake~ out 3")
        p.connect(nn_, 0, out, 0)
        for c in range(3):
            p.connect(out, c, p.recs[c], 0)
        res = p.run()
        want = delayed(
            alone(model_dir / "mix2to3.ts", np.concatenate([x, x])), latency(res), frames
        )
        check(res, want, "nn~ -m with a 1-channel cable")

    def test_multichannel_mode_follows_a_method_with_other_channel_counts(tmp_path, model_dir):
        """[nn~ -m identity] then `load mix2to3`: the cables become 2 in / 3 out at the DSP restart
        nn~ asks for, without retyping the box. Real time, so the load finishes while it plays."""
        frames = 2 * SR
        x = voices(2, frames, seed=5)
        p = Patch(tmp_path, x, 3, frames)
        snake = p.obj("snake~ in 2")
        for c in range(2):
            p.connect(p.player(c), 0, snake, c)
        nn_ = nn_box(p, f"-m {model_dir / 'identity.ts'} forward {B}")
        p.connect(snake, 0, nn_, 0)
        load = p.msg(f"load {model_dir / 'mix2to3.ts'}")
        p.connect(load, 0, nn_, 0)
        p.connect(p.go, 0, load, 0)
        out = p.obj("snake~ out 3")
        p.connect(nn_, 0, out, 0)
        for c in range(3):
            p.connect(out, c, p.recs[c], 0)
        res = p.run(realtime=True)
        assert res.returncode == 0, res.log
        assert "-m: the cables become 2 input and 3 output channels" in res.log, res.log
        assert "recreate the object" not in res.log, "-m follows the method: no retyping needed"
        assert not res.nn_errors(), res.nn_errors()
        # mix2to3 is memoryless: once it plays, output t is the model of input t - latency.
        lat, tail = latency(res), frames // 2
        want = np.stack([x[0] + x[1], x[0] - x[1], x[0] * x[1]])[:, tail - lat : frames - lat]
        err = np.abs(res.outputs[:, tail:] - want).max()
        assert err < TOL, f"after the load the three channels differ by {err:g}"

    def test_plain_nn_names_a_multichannel_cable(tmp_path, model_dir):
        frames = 4 * B
        x = voices(2, frames)
        p = Patch(tmp_path, x, 1, frames)
        snake = p.obj("snake~ in 2")
        for c in range(2):
            p.connect(p.player(c), 0, snake, c)
        nn_ = nn_box(p, f"{model_dir / 'identity.ts'} forward {B}")
        p.connect(snake, 0, nn_, 0)
        p.connect(nn_, 0, p.recs[0], 0)
        res = p.run()
        assert "inlet 1 gets a 2-channel cable: nn~ reads its first channel" in res.log
        assert "can't take multichannel inputs" not in res.log
        want = delayed(alone(model_dir / "identity.ts", x[:1]), latency(res), frames)
        assert np.abs(res.outputs - want).max() < TOL

    def test_multichannel_help_patch_opens_without_errors():
        patch = pdrun.external_dir() / "nn~-multichannel.pd"
        p = pdrun.run_pd(patch, extra=["-send", "pd quit"], timeout=120)
        log = p.stdout + p.stderr
        assert p.returncode == 0, log
        assert "error" not in log.lower() and "couldn't create" not in log, log

else:

    @pytest.mark.parametrize("flag", ["-v", "-m"])
    def test_modes_in_pd_053_say_why_and_work_plain(tmp_path, model_dir, flag):
        frames = 6 * B
        x = voices(1, frames)
        p = Patch(tmp_path, x, 1, frames)
        nn_ = nn_box(p, f"{flag} {model_dir / 'identity.ts'} forward {B}")
        p.connect(p.player(0), 0, nn_, 0)
        p.connect(nn_, 0, p.recs[0], 0)
        res = p.run()
        assert (
            f"[nn~] {flag} needs multichannel signals (Pd 0.54 or later); this is Pd 0.53"
            in res.log
        ), res.log
        assert "working as plain nn~" in res.log
        want = delayed(alone(model_dir / "identity.ts", x), latency(res), frames)
        assert res.outputs is not None and np.abs(res.outputs - want).max() < TOL


def test_pd_under_test_is_what_scripts_test_sh_asked_for():
    """The version the tests above were chosen for (printed for the log of scripts/test.sh)."""
    major, minor = pdrun.pd_version()
    assert (major, minor) >= (0, 53)
    assert ((major, minor) >= (0, 54)) == HAS_MC

"""nn~ in a live host: Pd paced by the clock (support/pdlive.py), with models of known speed
(support/live_models.py). docs/DESIGN.md, "When the model is late" and "Threads", describe what
these check.

The machine is shared (2 cores, other jobs compiling), so the bounds are ratios and generous
margins, each chosen so that an engine without the behaviour under test fails it (see the
comments). A model's
actual speed is read back from `stats` rather than trusted from the calibration. Pd runs as root
here, so its scheduler thread is SCHED_FIFO and nothing but our own threads can hold it up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import live_models, pdlive

B = 2048
BUF_MS = 1000 * B / pdlive.SR  # 46.4 ms of audio per buffer


@pytest.fixture(scope="module")
def per_iter(tmp_path_factory) -> float:
    """Milliseconds per loop iteration of live_models.Busy as nn~'s worker runs it now, under the
    machine's current load (measured by nn~ itself in a short live run: the worker's scheduling and
    the other jobs make it differ several-fold from a calibration in this process)."""
    tmp = tmp_path_factory.mktemp("calibrate")
    guess = live_models.ms_per_iter()
    res = pdlive.run_live(tmp, [_model(tmp, guess, 0.2)], seconds=1.5, settle=0.5)
    (st,) = res.stats
    iters = max(1, round(0.2 * BUF_MS / guess))
    return st["model_ms_mean"] / iters


def _model(tmp: Path, per_iter: float, ratio: float, name: str = "busy", **kw) -> str:
    path = live_models.save_busy(tmp / f"{name}.ts", ratio * BUF_MS, per_iter, **kw)
    return f"{path} forward {B}"


def _overloaded(
    tmp: Path, per_iter: float, messages, seconds: float, hi: float = 1.85
) -> pdlive.LiveResult:
    """A live run with a model at 1.5x real time, measured: the machine's load changes the model's
    speed, so a run whose model ran outside 1.2x-1.85x is repeated with the loop rescaled (the
    tests accept 1.1x-1.9x: the margin is for the measurement of the run that is kept)."""
    for attempt in range(5):
        creation = _model(tmp, per_iter, 1.5, name=f"over{attempt}")
        res = pdlive.run_live(tmp, [creation], seconds=seconds, messages=messages)
        ratio = _ratio(res.stats[0]) if res.stats else 1.5
        if 1.2 < ratio < hi:
            break
        per_iter *= ratio / 1.5
    return res


def _ratio(stats: dict) -> float:
    return stats["model_ms_mean"] / BUF_MS


def test_light_model_plays_every_buffer_and_pd_keeps_time(tmp_path: Path, per_iter: float):
    res = pdlive.run_live(tmp_path, [_model(tmp_path, per_iter, 0.05)], seconds=3)
    print(pdlive.summary(res, "light"), res.stats)
    assert res.returncode == 0
    (st,) = res.stats
    assert st["late"] == 0 and st["dropped"] == 0 and st.get("skipped", 0) == 0
    assert st["inline"] == 0  # policy wait, live: the worker computes
    assert res.played[0] > 0.99
    assert res.late_share(5) < 0.01 and res.late_max_ms < 30
    assert not res.warnings()


@pytest.mark.parametrize("policy", ["silence", "hold"])
def test_overload_under_live_policies_plays_what_it_can(
    tmp_path: Path, per_iter: float, policy: str
):
    """A model at 1.5x real time. Before: the worker worked through its backlog in order, every
    buffer it finished was too late, nothing played, nothing was skipped and no warning came."""
    res = _overloaded(tmp_path, per_iter, [f"policy {policy}"], seconds=4)
    print(pdlive.summary(res, f"overload {policy}"), res.stats)
    assert res.returncode == 0
    (st,) = res.stats
    ratio = _ratio(st)
    assert 1.1 < ratio < 1.9, f"the model ran at {ratio:.2f}x real time, not about 1.5x"
    # Pd keeps time: the audio thread never waits under these policies.
    assert res.late_share(5) < 0.01 and res.late_max_ms < 30
    assert st["audio_us_max"] < 5000
    # The worker skips what cannot play and computes the newest buffer: part of the output plays
    # (docs/DESIGN.md: (2 - r) / 2 of the time at r x real time, 25 % at 1.5x; bounds 1.1x-1.9x).
    share = 1 - st["late"] / st["blocks"]
    if policy == "silence":
        # what was counted is what was heard (the first buffers after a reset are the tolerance);
        # before, blocks of buffers never handed off were silent but not counted late
        assert abs(share - res.played[0]) < 0.05, (share, res.played[0])
    assert 0.04 < share < 0.6, f"{share:.2f} of the blocks played"
    assert st.get("skipped", 0) > 0
    # the warning, with the measured ratio, at most once per 5 s
    warnings = res.warnings()
    assert 1 <= len(warnings) <= 2, warnings
    assert "x real time" in warnings[0] and "bufsize" in warnings[0]
    assert "`headroom 1`" in warnings[0] or "`headroom 2`" in warnings[0], warnings[0]


def test_headroom_lets_a_model_at_1_5x_play_two_buffers_in_three(tmp_path: Path, per_iter: float):
    """With latency 2B a buffer has B of time, so a model at 1.5x real time can never play a whole
    buffer (the test above: 25 % of the time at best). `headroom 1` gives each buffer 2B: the worker
    computes the newest buffer, skips the one that would be late, and about 1/r of the buffers play
    (docs/DESIGN.md: 2 in 3 at 1.5x). An engine without skipping plays nothing here either."""
    # headroom 1 gives each buffer 2B: near 2x the margin for scheduling is gone (a run at 1.75x
    # played 0.43), so this test keeps the model at 1.2x-1.65x
    res = _overloaded(tmp_path, per_iter, ["policy silence", "headroom 1"], seconds=4, hi=1.65)
    print(pdlive.summary(res, "overload headroom 1"), res.stats)
    assert res.returncode == 0
    (st,) = res.stats
    ratio = _ratio(st)
    assert 1.1 < ratio < 1.7, f"the model ran at {ratio:.2f}x real time, not about 1.5x"
    assert res.late_share(5) < 0.01 and res.late_max_ms < 30
    share = 1 - st["late"] / st["blocks"]
    assert abs(share - res.played[0]) < 0.05, (share, res.played[0])
    # About 1/r plays; the first buffers and the machine's jitter cost a little, so 3/4 of it is
    # asserted, and more than the (2 - r) / 2 that latency 2B allows at best (a run without the
    # headroom played 0.40 at 1.27x, against 0.59 asserted here; with it 0.80 at 1.19x)
    assert share > 0.75 / ratio, f"{share:.2f} of the blocks played at {ratio:.2f}x with headroom 1"
    assert share > (2 - ratio) / 2 + 0.1
    assert st.get("skipped", 0) > 0


def test_overload_under_wait_stalls_pd_and_stats_show_it(tmp_path: Path, per_iter: float):
    """policy wait in a live host: Pd's audio waits for the model, on the worker; `stats` counts
    the waits in the longest call. Before: the longest call read a few microseconds."""
    res = _overloaded(tmp_path, per_iter, [], seconds=2)
    print(pdlive.summary(res, "overload wait"), res.stats)
    assert res.returncode == 0
    (st,) = res.stats
    assert _ratio(st) > 1.1
    assert st["inline"] == 0  # never computed on Pd's thread
    assert st["late"] == 0 and st["waits"] > 0
    assert st["audio_us_max"] > 5000  # each wait is about (ratio - 1) x 46 ms
    # Pd falls behind the clock (the stall README describes). Lateness is measured against the
    # median tick, which drifts with the stall, so only a floor well under what runs show
    # (200-250 ms at ratio 1.1-1.3) is asserted; silence and hold stay under 30 ms
    assert res.late_max_ms > 50
    assert not res.warnings()


@pytest.mark.parametrize("policy", ["silence", "wait"])
def test_model_late_once(tmp_path: Path, per_iter: float, policy: str):
    """One call takes 300 ms longer (call 30, about 1 s in). Under silence a few buffers are lost,
    no warning. Under wait Pd stalls, then catches up faster than real time; an engine that takes
    that for an offline render computes the model on the audio thread (inline > 0), and one that
    times only the call ending a buffer misses the stall in audio_us_max."""
    creation = _model(tmp_path, per_iter, 0.05, stall_at=30, stall_ms=300)
    res = pdlive.run_live(tmp_path, [creation], seconds=3, messages=[f"policy {policy}"])
    print(pdlive.summary(res, f"late once {policy}"), res.stats)
    assert res.returncode == 0
    (st,) = res.stats
    assert st["model_ms_max"] > 150  # the stall happened while measuring
    assert not res.warnings()
    assert st["inline"] == 0
    if policy == "silence":
        assert res.late_max_ms < 30
        assert 1 <= st.get("skipped", 0) <= 12
        # what is lost is the stall and about two buffers, not a backlog: a worker that computes
        # the stale buffers in order fails this
        lost_ms = 1000 * st["late"] * 64 / pdlive.SR
        assert lost_ms < st["model_ms_max"] + 3 * BUF_MS, lost_ms
        assert res.played[0] > 1 - (st["model_ms_max"] + 3 * BUF_MS) / 3000
    else:
        assert st["late"] == 0 and st.get("skipped", 0) == 0
        assert st["audio_us_max"] > 150_000
        assert res.late_max_ms > 150


def test_eight_objects_do_not_delay_pd(tmp_path: Path, per_iter: float):
    """Eight objects at 10 % of real time each. Before: the workers inherited Pd's SCHED_FIFO and
    Pd's ticks waited for their model calls (up to 37 ms); with a Pd that is not real-time, workers
    only two nice steps below it delayed its ticks by up to 21 ms."""
    creation = _model(tmp_path, per_iter, 0.1)
    res = pdlive.run_live(tmp_path, [creation] * 8, seconds=3, messages=["policy silence"])
    print(pdlive.summary(res, "eight objects"), res.threads)
    assert res.returncode == 0 and len(res.stats) == 8
    batch = [t for t, p in res.threads.items() if p.startswith("SCHED_BATCH")]
    fifo = [t for t, p in res.threads.items() if p.startswith("SCHED_FIFO")]
    assert len(batch) >= 16, res.threads  # eight workers and eight loaders
    assert len(fifo) <= 2, res.threads  # Pd's own threads
    # ten nice steps below Pd (realtime.h): what keeps a Pd that is not real-time in time
    nices = [int(p.split()[-1]) for p in res.threads.values()]
    assert all(int(res.threads[t].split()[-1]) >= min(nices) + 10 for t in batch), res.threads
    if res.pd_realtime:  # Debian's Pd 0.53 as root: SCHED_FIFO, nothing of ours can hold it up
        assert res.late_share(5) < 0.01 and res.late_max_ms < 10
    else:
        # Pd 0.55's `puredata` without -rt is SCHED_OTHER and shares the two cores with the eight
        # workers through the kernel's fair scheduler. Measured here: at nice + 2 ticks ran up to
        # 21 ms late (6.7 % over 10 ms), at nice + 10 up to 7-8 ms (none over 10 ms).
        assert res.late_share(10) < 0.01 and res.late_max_ms < 15
    # how much plays depends on the CPU the other jobs leave: every object plays something
    assert min(res.played) > 0.05


def test_reload_every_second_keeps_pd_in_time(tmp_path: Path, per_iter: float):
    creation = _model(tmp_path, per_iter, 0.05)
    res = pdlive.run_live(
        tmp_path, [creation], seconds=3, messages=["policy silence"], every=(1000, "reload")
    )
    print(pdlive.summary(res, "reload"), res.stats)
    assert res.returncode == 0
    assert "error" not in res.log.lower()
    (st,) = res.stats
    assert res.late_share(5) < 0.01 and res.late_max_ms < 30
    assert st["inline"] == 0
    assert res.played[0] > 0.8

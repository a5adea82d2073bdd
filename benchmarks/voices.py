"""Benchmark: N voices of a model in pd -batch, as one [nn~ -v] object and as N plain objects.

Both patches play N different tones (osc~ plus a little noise~, so every voice differs) into the
model at buffer size B and run for a short and a long time; CPU time per buffer is
(long run - short run) / (buffers difference), so start-up and model loading cancel. Printed per
voice: CPU time per buffer and the real-time factor on one core (buffer duration / CPU time per
voice), and the ratio of one -v object to N objects (goal: at most 1/3). Needs a Pd with
multichannel signals (0.54+): $NN_PD_BIN, else build/pd-0.55.2/usr/bin/puredata (scripts/setup.sh
unpacks it). Prints figures; not a test. Run it on a quiet machine.

Usage: python benchmarks/voices.py [--model models/ddsp_violin.ts] [--voices 8] [--buffer 2048]
                                      [--runs 10 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

from nn_tilde.host import pd

REPO = Path(__file__).resolve().parents[1]
SR = 44100


def child_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def patch_text(model: Path, voices: int, buffer: int, n: int, one_object: bool) -> str:
    """A patch rendering n buffers: N tones -> [nn~ -v] (one_object) or N x [nn~] -> summed."""
    patch = pd.Patch("0 50 600 400 12")
    add, connect = patch.obj, patch.connect
    lb = add("loadbang")
    dsp = patch.msg("\\; pd dsp 1")
    connect(lb, 0, dsp, 0)
    delay = add(f"delay {n * buffer * 1000.0 / SR:.3f}")
    connect(lb, 0, delay, 0)
    quit_ = patch.msg("\\; pd quit")
    connect(delay, 0, quit_, 0)
    noise = add("noise~")
    amp = add("*~ 0.05")
    connect(noise, 0, amp, 0)
    out = add("*~ 0")  # a sink that keeps every output on the DSP chain
    tones = []
    for v in range(voices):
        osc = add(f"osc~ {196 * 2 ** (v / 12):.3f}")
        mix = add("*~ 0.3")
        connect(osc, 0, mix, 0)
        connect(amp, 0, mix, 0)
        tones.append(mix)
    if one_object:
        snake = add(f"snake~ in {voices}")
        nn = add(f"nn~ -v {model} forward {buffer}")
        for v, t in enumerate(tones):
            connect(t, 0, snake, v)
        connect(snake, 0, nn, 0)
        connect(nn, 0, out, 0)
    else:
        for t in tones:
            nn = add(f"nn~ {model} forward {buffer}")
            connect(t, 0, nn, 0)
            connect(nn, 0, out, 0)
    return patch.text()


def pd_cpu(pd_bin: str, text: str, tmp: Path) -> float:
    patch = tmp / "bench.pd"
    patch.write_text(text)
    before = child_cpu()
    p = pd.run(patch, [REPO / "build" / "nn~"], binary=pd_bin, sr=SR, timeout=3600)
    log = p.stdout + p.stderr
    if p.returncode != 0 or "error" in log.lower():
        raise RuntimeError(log)
    return child_cpu() - before


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=REPO / "models" / "ddsp_violin.ts")
    ap.add_argument("--voices", type=int, default=8)
    ap.add_argument("--buffer", type=int, default=2048)
    ap.add_argument("--runs", type=int, nargs=2, default=[10, 60], metavar=("SHORT", "LONG"))
    ap.add_argument("--repeat", type=int, default=3, help="median of this many measurements")
    args = ap.parse_args(argv)
    short, long_ = args.runs
    if not 0 < short < long_ or args.voices < 1 or args.buffer < 1 or args.repeat < 1:
        print(
            "error: need 0 < SHORT < LONG and positive --voices/--buffer/--repeat", file=sys.stderr
        )
        return 2
    pd_bin = pd.pd_binary(str(REPO / "build" / "pd-0.55.2" / "usr" / "bin" / "puredata"))
    if not Path(pd_bin).exists():
        print(f"error: {pd_bin} is missing: run scripts/setup.sh or set NN_PD_BIN", file=sys.stderr)
        return 1
    buf_s = args.buffer / SR
    print(
        f"{args.model.name}: {args.voices} voices, buffer {args.buffer} ({buf_s * 1e3:.1f} ms), "
        f"CPU = (long - short) / {long_ - short} buffers, median of {args.repeat}, {pd_bin}"
    )
    per_voice = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for label, one in (("one nn~ -v", True), (f"{args.voices} x nn~", False)):
            runs = []
            for _ in range(args.repeat):
                t_long = pd_cpu(
                    pd_bin, patch_text(args.model, args.voices, args.buffer, long_, one), tmp
                )
                t_short = pd_cpu(
                    pd_bin, patch_text(args.model, args.voices, args.buffer, short, one), tmp
                )
                runs.append((t_long - t_short) / (long_ - short))
            per_buffer = sorted(runs)[len(runs) // 2]
            v = per_buffer / args.voices
            per_voice[one] = v
            print(
                f"{label:<12} {per_buffer * 1e3:9.2f} ms/buffer  {v * 1e3:8.3f} ms per voice per "
                f"buffer  {buf_s / v:7.1f}x real time per voice on one core"
            )
    ratio = per_voice[True] / per_voice[False]
    print(f"one -v object / {args.voices} objects: {ratio:.2f} (goal <= 0.33)")
    print(f"per-voice speed: {buf_s / per_voice[True] / 800 * 100:.1f}% of 800x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())

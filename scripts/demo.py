"""Main job of the README: render a melody through the shipped demo model inside a real PureData
(pd -batch), once through [nn~ models/demo forward] and once through [nn~ models/demo encode] ->
[nn~ models/demo decode], and print where the sound files are with a short summary.

Usage: python scripts/demo.py [--out DIR] [--seconds S]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SR = 44100


def melody(seconds: float) -> np.ndarray:
    """A voice-like phrase: five notes with vibrato, a few harmonics and soft attacks."""
    notes = [57, 60, 64, 62, 69]  # MIDI
    n = int(seconds * SR)
    per = n // len(notes)
    out = np.zeros(n, dtype=np.float64)
    phase = 0.0
    for i, note in enumerate(notes):
        t = np.arange(per) / SR
        f0 = 440.0 * 2 ** ((note - 69) / 12) * (1 + 0.006 * np.sin(2 * np.pi * 5.5 * t))
        ph = phase + 2 * np.pi * np.cumsum(f0) / SR
        phase = ph[-1]
        env = np.minimum(1.0, t / 0.04) * np.minimum(1.0, (t[-1] - t) / 0.08)
        tone = sum((0.6 / k) * np.sin(k * ph) for k in range(1, 6))
        out[i * per : (i + 1) * per] = 0.5 * env * tone
    return out.astype(np.float32)


def build_patch(patch: Path, inp: Path, outs: dict[str, Path], frames: int) -> None:
    lines = ["#N canvas 0 50 700 500 12;"]
    n = 0

    def add(kind: str, text: str) -> int:
        nonlocal n
        lines.append(f"#X {kind} 10 {10 + 22 * n} {text};")
        n += 1
        return n - 1

    conns = []
    lb = add("obj", "loadbang")
    t = add("obj", "t b b b")
    add("obj", f"table demo_in {frames}")
    for name in outs:
        add("obj", f"table demo_{name} {frames + 8192}")
    rd = add("msg", f"read -resize {inp} demo_in")
    sfr = add("obj", "soundfiler")
    play = add("obj", "tabplay~ demo_in")
    fwd = add("obj", "nn~ models/demo forward")
    enc = add("obj", "nn~ models/demo encode")
    dec = add("obj", "nn~ models/demo decode")
    rec_f = add("obj", "tabwrite~ demo_forward")
    rec_r = add("obj", "tabwrite~ demo_resynth")
    info = add("msg", "info")
    pr = add("obj", "print demo")
    dsp = add("msg", "\\; pd dsp 1")
    wait = add("obj", f"delay {(frames + 8192) / 44.1:.1f}")
    write = add("msg", " \\, ".join(f"write -bytes 4 {p} demo_{k}" for k, p in outs.items()))
    sfw = add("obj", "soundfiler")
    quit_ = add("msg", "\\; pd quit")
    after = add("obj", "t b b")
    conns += [(lb, 0, t, 0), (t, 2, rd, 0), (rd, 0, sfr, 0), (t, 1, play, 0), (t, 1, rec_f, 0), (t, 1, rec_r, 0),
              (t, 1, dsp, 0), (t, 1, wait, 0), (t, 0, info, 0), (info, 0, fwd, 0), (fwd, 1, pr, 0),
              (play, 0, fwd, 0), (play, 0, enc, 0), (enc, 0, dec, 0), (enc, 1, dec, 1), (fwd, 0, rec_f, 0),
              (dec, 0, rec_r, 0), (wait, 0, after, 0), (after, 1, write, 0), (write, 0, sfw, 0), (after, 0, quit_, 0)]
    lines += [f"#X connect {a} {b} {c} {d};" for a, b, c, d in conns]
    patch.write_text("\n".join(lines) + "\n")


def describe(name: str, y: np.ndarray) -> str:
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    return f"  {name:<22} {len(y) / SR:5.2f} s   rms {rms:.3f}   peak {float(np.abs(y).max()):.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "out", help="folder for the sound files (default: out/)")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of the melody (default 4)")
    args = ap.parse_args(argv)
    if not 0.5 <= args.seconds <= 60:
        print("error: --seconds must be between 0.5 and 60", file=sys.stderr)
        return 2
    ext = REPO / "build" / "nn~"
    if not (ext / "nn~.pd_linux").exists():
        print("error: build/nn~/nn~.pd_linux is missing: run scripts/setup.sh first", file=sys.stderr)
        return 1
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    x = melody(args.seconds)
    inp = out / "demo-input.wav"
    sf.write(inp, x, SR, subtype="FLOAT")
    outs = {"forward": out / "demo-forward.wav", "resynth": out / "demo-resynth.wav"}
    patch = out / "demo.pd"
    build_patch(patch, inp, outs, len(x))
    p = subprocess.run(["pd", "-nogui", "-batch", "-noprefs", "-nrt", "-noaudio", "-nomidi", "-r", str(SR),
                        "-path", str(ext), "-open", str(patch)], capture_output=True, text=True, timeout=600)
    log = p.stdout + p.stderr
    if p.returncode != 0 or any(not f.exists() for f in outs.values()) or "error" in log.lower():
        print(log, file=sys.stderr)
        print("error: the Pd render failed (see the log above)", file=sys.stderr)
        return 1
    latency = next((ln.split()[-1] for ln in log.splitlines() if ln.startswith("demo: latency")), "?")
    print(f"Rendered {args.seconds:g} s through nn~ in pd -batch (model models/demo.ts, latency {latency} samples):")
    print(describe(inp.name, x))
    for f in outs.values():
        y, _ = sf.read(f, dtype="float32")
        print(describe(f.name, y))
    print(f"Sound files: {out}/  (patch: {patch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

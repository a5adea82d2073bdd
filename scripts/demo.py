"""Main job of the README: timbre transfer in a real PureData (pd -batch). The patch
patches/ddsp-violin-demo.pd makes a voice-like melody in Pd and plays it through
[nn~ ../models/ddsp_violin forward] (DDSP-CNN-Tiny, models/README.md); the same patch is opened here
as an abstraction in pd -batch, which writes its input and output (5 s), then this script draws
their spectrograms into a PNG, measures how closely the violin follows the melody's pitch and
prints where the files are.

With --classic: the earlier demo instead, a melody through the hand-written models/demo.ts (once
through [nn~ models/demo forward], once through encode -> decode).

Usage: python scripts/demo.py [--out DIR] [--classic [--seconds S]]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python_tools"))  # the kit of this checkout

from nn_tilde.host import pd  # noqa: E402

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
    pd_patch = pd.Patch("0 50 700 500 12")
    add = pd_patch.add
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
    for a, outlet, b, inlet in [
        (lb, 0, t, 0),
        (t, 2, rd, 0),
        (rd, 0, sfr, 0),
        (t, 1, play, 0),
        (t, 1, rec_f, 0),
        (t, 1, rec_r, 0),
        (t, 1, dsp, 0),
        (t, 1, wait, 0),
        (t, 0, info, 0),
        (info, 0, fwd, 0),
        (fwd, 1, pr, 0),
        (play, 0, fwd, 0),
        (play, 0, enc, 0),
        (enc, 0, dec, 0),
        (enc, 1, dec, 1),
        (fwd, 0, rec_f, 0),
        (dec, 0, rec_r, 0),
        (wait, 0, after, 0),
        (after, 1, write, 0),
        (write, 0, sfw, 0),
        (after, 0, quit_, 0),
    ]:
        pd_patch.connect(a, outlet, b, inlet)
    pd_patch.write(patch)


def describe(name: str, y: np.ndarray) -> str:
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    return f"  {name:<22} {len(y) / SR:5.2f} s   rms {rms:.3f}   peak {float(np.abs(y).max()):.3f}"


DDSP_SECONDS = 5.0  # what patches/ddsp-violin-demo.pd records


def render_ddsp_demo(out: Path, ext: Path) -> tuple[Path, Path, str]:
    """Open patches/ddsp-violin-demo.pd as an abstraction in pd -batch; returns (input wav, output
    wav, Pd log). The patch starts its melody and DSP on load; the wrapper saves its recordings."""
    inp, outp = out / "ddsp-violin-input.wav", out / "ddsp-violin-output.wav"
    for f in (inp, outp):
        f.unlink(missing_ok=True)
    wrapper = out / "ddsp-violin-batch.pd"
    wrapper.write_text(
        "#N canvas 0 50 400 300 12;\n"
        "#X obj 10 10 ddsp-violin-demo;\n"
        "#X obj 10 40 loadbang;\n"
        f"#X obj 10 70 delay {DDSP_SECONDS * 1000 + 50:.0f};\n"
        f"#X msg 10 100 \\; ddsp-demo-write symbol {outp} \\; ddsp-demo-write-in symbol {inp} "
        "\\; pd quit;\n"
        "#X connect 1 0 2 0;\n#X connect 2 0 3 0;\n"
    )
    p = pd.run(wrapper, [ext, REPO / "patches"], binary="pd", sr=SR, timeout=600)
    return inp, outp, p.stdout + p.stderr


def ddsp_summary(inp: Path, outp: Path, png: Path) -> list[str]:
    """Spectrogram PNG of input and output, and the output's pitch against the input's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nn_tilde.models.ddsp.features import analyze_offline
    from nn_tilde.train.plots import log_spectrogram

    x, _ = sf.read(inp, dtype="float32")
    y, _ = sf.read(outp, dtype="float32")
    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for ax, sig, title in (
        (axes[0], x, "input: voice-like melody made in Pd"),
        (axes[1], y, "output: [nn~ ../models/ddsp_violin forward] in pd -batch"),
    ):
        spec = log_spectrogram(sig, 2048)
        ax.imshow(
            spec,
            origin="lower",
            aspect="auto",
            vmin=-100,
            vmax=max(spec.max(), -60),
            cmap="magma",
            extent=(0, len(sig) / SR, 0, SR / 2000),
        )
        ax.set_ylim(0, 8)
        ax.set_ylabel("kHz")
        ax.set_title(title)
    axes[1].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)
    # pitch: nn~ delays by its buffering (2 x 2048) plus the model's own latency (1024)
    lag = (2 * 2048 + 1024) // 512
    a, b = analyze_offline(x, SR), analyze_offline(y, SR)
    fa, fb = a["f0"][: len(a["f0"]) - lag], b["f0"][lag:]
    both = (a["voiced"][: len(fa)] > 0) & (b["voiced"][lag:] > 0)
    cents = np.abs(1200 * np.log2(fb[both] / fa[both]))
    voiced_in = int((a["voiced"][: len(fa)] > 0).sum())
    return [
        f"  pitch of the violin vs the melody: median {np.median(cents):.1f} cents, 95th "
        "percentile "
        f"{np.percentile(cents, 95):.1f} cents, voiced on "
        f"{100 * both.sum() / max(voiced_in, 1):.0f} % of the "
        f"melody's voiced frames",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--out", type=Path, default=REPO / "out", help="folder for the sound files (default: out/)"
    )
    ap.add_argument(
        "--classic", action="store_true", help="the demo.ts render instead of the violin"
    )
    ap.add_argument(
        "--seconds", type=float, default=4.0, help="--classic: length of the melody (default 4)"
    )
    args = ap.parse_args(argv)
    if not args.classic:
        return main_ddsp(args.out)
    return main_classic(args)


def main_ddsp(out_arg: Path) -> int:
    ext = Path(os.environ.get("NN_PD_DIR", REPO / "build" / "nn~"))  # as tests/support/pdrun.py
    if not (ext / "nn~.pd_linux").exists():
        print(
            "error: build/nn~/nn~.pd_linux is missing: run scripts/setup.sh first", file=sys.stderr
        )
        return 1
    out = out_arg.resolve()
    out.mkdir(parents=True, exist_ok=True)
    inp, outp, log = render_ddsp_demo(out, ext)
    if not inp.exists() or not outp.exists() or "error" in log.lower():
        print(log, file=sys.stderr)
        print("error: the Pd render failed (see the log above)", file=sys.stderr)
        return 1
    png = out / "ddsp-violin-spectrogram.png"
    lines = ddsp_summary(inp, outp, png)
    print(
        "Rendered patches/ddsp-violin-demo.pd in pd -batch: a melody made in Pd, played on the "
        "violin by "
        f"[nn~ ../models/ddsp_violin forward] ({DDSP_SECONDS:g} s):"
    )
    for f in (inp, outp):
        y, _ = sf.read(f, dtype="float32")
        print(describe(f.name, y))
    print("\n".join(lines))
    print(f"Sound files and spectrogram: {out}/  ({png.name})")
    return 0


def main_classic(args: argparse.Namespace) -> int:
    if not 0.5 <= args.seconds <= 60:
        print("error: --seconds must be between 0.5 and 60", file=sys.stderr)
        return 2
    ext = REPO / "build" / "nn~"
    if not (ext / "nn~.pd_linux").exists():
        print(
            "error: build/nn~/nn~.pd_linux is missing: run scripts/setup.sh first", file=sys.stderr
        )
        return 1
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    x = melody(args.seconds)
    inp = out / "demo-input.wav"
    sf.write(inp, x, SR, subtype="FLOAT")
    outs = {"forward": out / "demo-forward.wav", "resynth": out / "demo-resynth.wav"}
    patch = out / "demo.pd"
    build_patch(patch, inp, outs, len(x))
    p = pd.run(patch, [ext], binary="pd", sr=SR, timeout=600)
    log = p.stdout + p.stderr
    if p.returncode != 0 or any(not f.exists() for f in outs.values()) or "error" in log.lower():
        print(log, file=sys.stderr)
        print("error: the Pd render failed (see the log above)", file=sys.stderr)
        return 1
    latency = next(
        (ln.split()[-1] for ln in log.splitlines() if ln.startswith("demo: latency")), "?"
    )
    print(
        f"Rendered {args.seconds:g} s through nn~ in pd -batch (model models/demo.ts, latency "
        f"{latency} samples):"
    )
    print(describe(inp.name, x))
    for f in outs.values():
        y, _ = sf.read(f, dtype="float32")
        print(describe(f.name, y))
    print(f"Sound files: {out}/  (patch: {patch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Accuracy of the DDSP f0 tracker on single notes of known pitch.

    nn-tilde ddsp pitch-eval [--step 1] [--sample-rate 44100] [--only NAME ...]

Renders, with fluidsynth and the General MIDI soundfont (``nn_tilde.train.render``), one MIDI
file per instrument holding every note of its range (``--step`` semitones apart; 1 s notes, 0.6 s
apart, velocity 100, reverb and chorus off), plus pure sines synthesised at the same kind of
pitches, and runs ``compute_features`` / ``analyze_offline`` (the streaming numbers, aligned).

On the *sustained part* of each note (from 0.15 s after the onset to 0.05 s before the note-off)
it reports, per instrument:

* voiced share: frames judged voiced;
* median and 95th percentile of |f0 error| in cents on voiced frames, against the equal-tempered
  pitch of the MIDI note (A4 = 440 Hz; the soundfont's own tuning and vibrato count as error);
* octave errors: voiced frames more than 600 cents off (closer to another octave, or a fifth
  above an octave); gross errors: more than 50 cents off.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from nn_tilde.models.ddsp.features import Features, analyze_offline
from nn_tilde.train import render as data

# name: (0-based GM program, lowest, highest MIDI note); highest capped at f0_max (2 kHz ~ B6)
EVAL_INSTRUMENTS: dict[str, tuple[int, int, int]] = {
    "violin": (40, 55, 95),
    "flute": (73, 60, 95),
    "trumpet": (56, 54, 84),
    "choir aahs": (52, 48, 79),
    "voice oohs": (53, 48, 79),
    "cello": (42, 36, 76),
    "contrabass": (43, 32, 60),
}
SINE_RANGE = (32, 95)  # 51.9 Hz .. 1975.5 Hz

NOTE_S = 1.0
GAP_S = 0.6
ATTACK_S = 0.15
RELEASE_S = 0.05


def midi_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def render_notes(
    program: int, pitches: list[int], sample_rate: int, tmp: Path, velocity: int = 100
) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """One fluidsynth render of ``pitches`` played one after the other; returns the audio and
    (onset s, duration s, pitch) per note."""
    notes = []
    t = 0.3
    for p in pitches:
        notes.append(data.Note(t, NOTE_S, int(p), velocity))
        t += NOTE_S + GAP_S
    phrase = data.Phrase(notes=notes, tempo=120.0)
    mid = tmp / f"prog{program}.mid"
    mid.write_bytes(data.midi_bytes(phrase, program))
    audio = data.render_midi(
        mid, tmp / f"prog{program}.wav", data.find_soundfont(), sample_rate, phrase.end + 0.5
    )
    return audio, [(n.start, n.duration, n.pitch) for n in notes]


def sine_notes(pitches: list[int], sample_rate: int) -> tuple[np.ndarray, list]:
    """Pure sines at the equal-tempered pitches, amplitude 0.5, laid out like the renders."""
    total = 0.3 + len(pitches) * (NOTE_S + GAP_S) + 0.5
    audio = np.zeros(int(total * sample_rate), np.float32)
    notes = []
    t = 0.3
    n = int(NOTE_S * sample_rate)
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.01 * sample_rate))
    for p in pitches:
        i = round(t * sample_rate)
        audio[i : i + n] = 0.5 * ramp * np.sin(2 * np.pi * midi_hz(p) * np.arange(n) / sample_rate)
        notes.append((t, NOTE_S, p))
        t += NOTE_S + GAP_S
    return audio, notes


def silent_notes(audio: np.ndarray, notes: list, sample_rate: int, floor_db: float = -60.0):
    """Notes the soundfont did not render (sustained part below ``floor_db`` re full scale)."""
    out = []
    for start, dur, pitch in notes:
        seg = audio[int((start + ATTACK_S) * sample_rate) : int((start + dur) * sample_rate)]
        if 10 * np.log10(float(np.mean(seg.astype(np.float64) ** 2)) + 1e-20) < floor_db:
            out.append(pitch)
    return out


def note_errors(res: dict, notes: list, sample_rate: int, hop: int) -> tuple[list, list]:
    """Per note: cents errors of voiced sustained frames, voiced flags of sustained frames."""
    errs, flags = [], []
    frame_t = np.arange(len(res["f0"])) * hop / sample_rate  # frame t centred on t * hop
    for start, dur, pitch in notes:
        sel = (frame_t >= start + ATTACK_S) & (frame_t <= start + dur - RELEASE_S)
        voiced = res["voiced"][sel] > 0.5
        flags.append(voiced)
        errs.append(1200.0 * np.log2(res["f0"][sel][voiced] / midi_hz(pitch)))
    return errs, flags


def summarize(name: str, pitches: list[int], errs: list, flags: list) -> dict:
    allerr = np.abs(np.concatenate(errs)) if errs else np.zeros(0)
    allflags = np.concatenate(flags)

    def note_median(e):
        return np.median(np.abs(e[0])) if e[0].size else 0.0

    worst = max(zip(errs, pitches, strict=True), key=note_median)
    return {
        "name": name,
        "range": f"{min(pitches)}-{max(pitches)}",
        "hz": f"{midi_hz(min(pitches)):.0f}-{midi_hz(max(pitches)):.0f}",
        "notes": len(pitches),
        "frames": int(allflags.size),
        "voiced": float(allflags.mean()) if allflags.size else 0.0,
        "median": float(np.median(allerr)) if allerr.size else float("nan"),
        "p95": float(np.percentile(allerr, 95)) if allerr.size else float("nan"),
        "octave": float((allerr > 600).mean()) if allerr.size else 0.0,
        "gross": float((allerr > 50).mean()) if allerr.size else 0.0,
        "worst_note": int(worst[1]),
        "worst_median": float(np.median(np.abs(worst[0]))) if worst[0].size else float("nan"),
    }


def format_table(rows: list[dict]) -> str:
    head = (
        "| source | MIDI (Hz) | notes | sustained frames | voiced share | median |err| (cents) "
        "| p95 |err| (cents) | octave errors (>600 c) | gross errors (>50 c) | worst note "
        "(median c) |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['name']} | {r['range']} ({r['hz']}) | {r['notes']} | {r['frames']} | "
        f"{100 * r['voiced']:.1f} % | {r['median']:.1f} | {r['p95']:.1f} | "
        f"{100 * r['octave']:.2f} % | {100 * r['gross']:.2f} % | "
        f"{r['worst_note']} ({r['worst_median']:.1f}) |"
        for r in rows
    ]
    return head + "\n".join(lines)


def evaluate(
    sample_rate: int = 44100, hop: int = 512, step: int = 1, instruments=None, progress=print
) -> list[dict]:
    torch.set_num_threads(1)
    feat = Features(sample_rate, hop)
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name, (program, low, high) in EVAL_INSTRUMENTS.items():
            if instruments and name not in instruments:
                continue
            pitches = list(range(low, high + 1, step))
            audio, notes = render_notes(program, pitches, sample_rate, tmp)
            silent = silent_notes(audio, notes, sample_rate)
            if silent:
                progress(f"{name}: notes {silent} not rendered by the soundfont (silent), skipped")
                notes = [n for n in notes if n[2] not in silent]
                pitches = [p for p in pitches if p not in silent]
            res = analyze_offline(audio, sample_rate, hop, features=feat)
            errs, flags = note_errors(res, notes, sample_rate, hop)
            rows.append(summarize(f"{name} (GM {program + 1})", pitches, errs, flags))
            progress(format_table(rows[-1:]).splitlines()[-1])
    if not instruments or "sine" in instruments:
        pitches = list(range(SINE_RANGE[0], SINE_RANGE[1] + 1, step))
        audio, notes = sine_notes(pitches, sample_rate)
        res = analyze_offline(audio, sample_rate, hop, features=feat)
        errs, flags = note_errors(res, notes, sample_rate, hop)
        rows.append(summarize("pure sine", pitches, errs, flags))
        progress(format_table(rows[-1:]).splitlines()[-1])
    return rows

"""`nn-tilde data`: render a training set of one General MIDI instrument with fluidsynth.

Generated phrases (random walks on a scale, varied register, dynamics and articulation) are
written as Standard MIDI Files and rendered by ``fluidsynth`` with Debian's ``fluid-soundfont-gm``
(FluidR3_GM, sampled from real instruments). Output::

    OUT/train/phrase_0000.wav ...     mono float WAV at the requested rate
    OUT/valid/phrase_0000.wav ...     held-out phrases (different random seeds)
    OUT/manifest.json                 instrument, program, seed, per-file notes and split

No Python MIDI library is needed: the files are written byte by byte (format 0, one track).
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)

# GM program (0-based) and a playable MIDI pitch range per instrument.
INSTRUMENTS: dict[str, tuple[int, int, int]] = {
    "piano": (0, 36, 96),
    "violin": (40, 55, 100),
    "viola": (41, 48, 88),
    "cello": (42, 36, 76),
    "contrabass": (43, 28, 60),
    "trumpet": (56, 54, 84),
    "trombone": (57, 40, 72),
    "horn": (60, 41, 77),
    "alto-sax": (65, 49, 81),
    "oboe": (68, 58, 91),
    "bassoon": (70, 34, 72),
    "clarinet": (71, 50, 91),
    "flute": (73, 60, 96),
    "guitar": (24, 40, 84),
}

_SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "chromatic": tuple(range(12)),
}

TICKS = 480  # per quarter note


class DataError(Exception):
    """A missing tool or bad request; the message names the fix."""


@dataclass
class Note:
    """One note: onset and duration in seconds, MIDI pitch and velocity."""

    start: float
    duration: float
    pitch: int
    velocity: int


@dataclass
class Phrase:
    notes: list[Note] = field(default_factory=list)
    tempo: float = 120.0
    articulation: str = "legato"

    @property
    def end(self) -> float:
        return max((n.start + n.duration for n in self.notes), default=0.0)


def generate_phrase(rng: random.Random, low: int, high: int, seconds: float) -> Phrase:
    """A random-walk melody of about `seconds` within [low, high] with a dynamic curve."""
    scale = _SCALES[rng.choice(list(_SCALES))]
    root = rng.randrange(12)
    pitches = [p for p in range(low, high + 1) if (p - root) % 12 in scale]
    articulation = rng.choice(["legato", "detache", "staccato", "mixed"])
    tempo = rng.uniform(60, 160)
    beat = 60.0 / tempo
    # register: start somewhere in the range, walk by small steps with occasional leaps
    idx = rng.randrange(len(pitches))
    base_vel = rng.randint(35, 110)
    swell = rng.choice([-1.0, 0.0, 1.0])  # decrescendo, flat, crescendo
    phrase = Phrase(tempo=tempo, articulation=articulation)
    t = 0.0
    while t < seconds:
        dur_beats = rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0])
        length = dur_beats * beat
        if rng.random() < 0.1:  # rest
            t += length
            continue
        step = rng.choice([-2, -1, -1, 1, 1, 2]) if rng.random() > 0.15 else rng.randint(-7, 7)
        idx = min(max(idx + step, 0), len(pitches) - 1)
        art = (
            rng.choice(["legato", "detache", "staccato"])
            if articulation == "mixed"
            else articulation
        )
        gate = {"legato": 1.02, "detache": 0.85, "staccato": 0.35}[art]
        progress = min(t / seconds, 1.0)
        vel = base_vel + swell * 30 * (progress - 0.5) + rng.uniform(-8, 8)
        phrase.notes.append(Note(t, length * gate, pitches[idx], int(min(max(vel, 10), 127))))
        t += length
    return phrase


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(phrase: Phrase, program: int, channel: int = 0) -> bytes:
    """A format-0 Standard MIDI File of `phrase` played by GM `program` (0-based)."""
    us_per_beat = round(60_000_000 / phrase.tempo)
    sec_to_ticks = TICKS * phrase.tempo / 60.0
    events: list[tuple[int, int, bytes]] = []  # (tick, order, data); note-offs before note-ons
    for n in phrase.notes:
        on = round(n.start * sec_to_ticks)
        off = max(on + 1, round((n.start + n.duration) * sec_to_ticks))
        events.append((on, 1, bytes([0x90 | channel, n.pitch, n.velocity])))
        events.append((off, 0, bytes([0x80 | channel, n.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray()
    track += b"\x00\xff\x51\x03" + us_per_beat.to_bytes(3, "big")
    track += b"\x00" + bytes([0xC0 | channel, program])
    track += b"\x00" + bytes([0xB0 | channel, 7, 110])  # channel volume
    last = 0
    for tick, _, data in events:
        track += _varlen(tick - last) + data
        last = tick
    track += _varlen(TICKS) + b"\xff\x2f\x00"  # a beat of tail, end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def find_soundfont(explicit: str | Path | None = None) -> Path:
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise DataError(f"{path}: no such soundfont; give an .sf2 file")
        return path
    for cand in SOUNDFONT_CANDIDATES:
        if Path(cand).is_file():
            return Path(cand)
    raise DataError(
        "no General MIDI soundfont found; install one with `apt-get install fluid-soundfont-gm` "
        "or pass --soundfont FILE.sf2"
    )


def find_fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise DataError("fluidsynth is not installed; install it with `apt-get install fluidsynth`")
    return exe


def render_midi(
    midi: Path, wav: Path, soundfont: Path, sample_rate: int, max_seconds: float | None = None
) -> np.ndarray:
    """Render `midi` with fluidsynth; returns mono float32 audio [T] (also written to `wav`),
    cut to `max_seconds` (fluidsynth renders a long release tail)."""
    raw = wav.with_suffix(".raw.wav")
    cmd = [find_fluidsynth(), "-ni", "-q", "-g", "0.6", "-r", str(sample_rate), "-F", str(raw)]
    cmd += ["-o", "synth.reverb.active=0", "-o", "synth.chorus.active=0", str(soundfont), str(midi)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not raw.is_file():
        raise DataError(f"fluidsynth failed ({proc.returncode}): {proc.stderr.strip()[:400]}")
    audio, rate = sf.read(str(raw), dtype="float32", always_2d=True)
    raw.unlink()
    if rate != sample_rate:
        raise DataError(f"fluidsynth wrote {rate} Hz instead of {sample_rate} Hz")
    mono = audio.mean(axis=1)
    if max_seconds is not None:
        mono = mono[: int(max_seconds * sample_rate)]
    peak = float(np.abs(mono).max()) if mono.size else 0.0
    if peak > 0:
        mono = mono * (0.9 / peak)
    sf.write(str(wav), mono.astype(np.float32), sample_rate, subtype="FLOAT")
    return mono.astype(np.float32)


def render_dataset(
    out: Path,
    instrument: str,
    n_train: int = 32,
    n_valid: int = 4,
    seconds: float = 8.0,
    sample_rate: int = 44100,
    seed: int = 0,
    soundfont: str | Path | None = None,
    progress=None,
) -> dict:
    """Render `n_train` + `n_valid` phrases of `instrument` into OUT/{train,valid}; returns
    the manifest (also written to OUT/manifest.json)."""
    if instrument not in INSTRUMENTS:
        raise DataError(
            f"unknown instrument {instrument!r}; choose one of {', '.join(sorted(INSTRUMENTS))}"
        )
    sf2 = find_soundfont(soundfont)
    find_fluidsynth()
    program, low, high = INSTRUMENTS[instrument]
    out = Path(out)
    files = []
    with tempfile.TemporaryDirectory() as tmp:
        for split, count, offset in (("train", n_train, 0), ("valid", n_valid, 1_000_000)):
            folder = out / split
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                rng = random.Random(seed * 10_000_019 + offset + i)
                phrase = generate_phrase(rng, low, high, seconds)
                mid = Path(tmp) / f"{split}_{i}.mid"
                mid.write_bytes(midi_bytes(phrase, program))
                wav = folder / f"phrase_{i:04d}.wav"
                audio = render_midi(mid, wav, sf2, sample_rate, phrase.end + 0.5)
                pitches = [n.pitch for n in phrase.notes]
                files.append(
                    {
                        "path": str(wav.relative_to(out)),
                        "split": split,
                        "seconds": round(len(audio) / sample_rate, 3),
                        "notes": len(phrase.notes),
                        "pitch_range": [min(pitches, default=0), max(pitches, default=0)],
                        "tempo": round(phrase.tempo, 2),
                        "articulation": phrase.articulation,
                    }
                )
                if progress is not None:
                    progress(f"{split} {i + 1}/{count}: {wav.name}")
    manifest = {
        "instrument": instrument,
        "gm_program": program,
        "soundfont": str(sf2),
        "sample_rate": sample_rate,
        "seed": seed,
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest

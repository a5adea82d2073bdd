"""`nn-tilde data`: MIDI writing (always) and fluidsynth rendering (skipped only without it)."""

import json
import random
import shutil
import struct

import numpy as np
import pytest
import soundfile as sf

from nn_tilde.cli import main
from nn_tilde.train.render import INSTRUMENTS, find_soundfont, generate_phrase, midi_bytes


def test_phrases_vary_and_stay_in_range() -> None:
    _, low, high = INSTRUMENTS["violin"]
    phrases = [generate_phrase(random.Random(s), low, high, 4.0) for s in range(8)]
    for p in phrases:
        assert p.notes and all(low <= n.pitch <= high for n in p.notes)
        assert all(1 <= n.velocity <= 127 and n.duration > 0 for n in p.notes)
        assert 2.0 <= p.end <= 6.5
    assert len({p.articulation for p in phrases}) > 1
    assert len({round(p.tempo) for p in phrases}) > 1
    velocities = {n.velocity for p in phrases for n in p.notes}
    assert max(velocities) - min(velocities) > 30


def test_midi_file_structure() -> None:
    phrase = generate_phrase(random.Random(1), 60, 72, 2.0)
    data = midi_bytes(phrase, program=73)
    assert data[:4] == b"MThd" and struct.unpack(">IHHH", data[4:14]) == (6, 0, 1, 480)
    assert data[14:18] == b"MTrk"
    (length,) = struct.unpack(">I", data[18:22])
    track = data[22:]
    assert len(track) == length and track.endswith(b"\xff\x2f\x00")
    assert bytes([0xC0, 73]) in track  # program change
    assert track.count(b"\x90") >= len(phrase.notes)


def test_unknown_instrument_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(["data", str(tmp_path / "d"), "--instrument", "kazoo"]) == 2
    assert "choose one of" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")
def test_render_flute_set(tmp_path) -> None:
    find_soundfont()  # fluid-soundfont-gm must come with fluidsynth in CI: fail, not skip
    out = tmp_path / "flute"
    argv = ["data", str(out), "--instrument", "flute", "--train", "2", "--valid", "1"]
    argv += ["--seconds", "1.5", "--sample-rate", "22050", "-q"]
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["gm_program"] == 73 and manifest["sample_rate"] == 22050
    splits = [f["split"] for f in manifest["files"]]
    assert splits == ["train", "train", "valid"]
    audio = []
    for f in manifest["files"]:
        x, sr = sf.read(out / f["path"])
        assert sr == 22050 and x.ndim == 1 and 1.5 <= len(x) / sr <= 4.0
        assert np.sqrt(np.mean(x**2)) > 0.01  # an instrument played, not silence
        audio.append(x)
    assert not np.allclose(audio[0][:10000], audio[1][:10000])  # different phrases

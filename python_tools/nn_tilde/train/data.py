"""Audio folder -> mono float32 arrays at the model rate -> random or fixed crops."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


class DataError(Exception):
    """No usable audio; the message names the fix."""


def list_audio(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)


def load_mono(path: Path, sample_rate: int) -> np.ndarray:
    """Read `path` (wav/flac/ogg), average channels, resample to `sample_rate`. -> [T] float32."""
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != sample_rate:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(rate, sample_rate)
        mono = resample_poly(mono, sample_rate // g, rate // g).astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)


def split_files(folder: Path, val_split: float) -> tuple[list[Path], list[Path]]:
    """train/valid file lists: FOLDER/train and FOLDER/valid when both exist (`nn-tilde data`
    layout), else a deterministic hash split of every file with share `val_split` held out."""
    train_dir, valid_dir = folder / "train", folder / "valid"
    if train_dir.is_dir() and valid_dir.is_dir():
        return list_audio(train_dir), list_audio(valid_dir)
    files = list_audio(folder)
    if val_split <= 0 or len(files) < 2:
        return files, []
    valid = [p for p in files if _unit_hash(p.relative_to(folder)) < val_split]
    if not valid:
        valid = files[-1:]
    if len(valid) == len(files):
        valid = valid[:1]
    train = [p for p in files if p not in valid]
    return train, valid


def _unit_hash(path: Path) -> float:
    digest = hashlib.sha1(str(path).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class AudioSet:
    """Every file of a list, loaded in memory; crops are drawn across files by length."""

    def __init__(self, files: list[Path], sample_rate: int, crop: int) -> None:
        self.crop = crop
        self.clips: list[np.ndarray] = []
        for f in files:
            x = load_mono(f, sample_rate)
            if len(x) < crop:
                x = np.pad(x, (0, crop - len(x)))
            self.clips.append(x)
        if not self.clips:
            raise DataError("no audio files (.wav, .flac, .ogg) found; check the data folder")
        lengths = np.array([len(c) - crop + 1 for c in self.clips], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    def seconds(self, sample_rate: int) -> float:
        return sum(len(c) for c in self.clips) / sample_rate

    def random_batch(self, batch: int, rng: np.random.Generator) -> torch.Tensor:
        """Random crops -> [batch, 1, crop]."""
        out = np.empty((batch, 1, self.crop), dtype=np.float32)
        for b in range(batch):
            clip = self.clips[rng.choice(len(self.clips), p=self.weights)]
            start = rng.integers(0, len(clip) - self.crop + 1)
            out[b, 0] = clip[start : start + self.crop]
        return torch.from_numpy(out)

    def fixed_batch(self, count: int, seed: int) -> torch.Tensor:
        """The same `count` crops for every validation: -> [count, 1, crop]."""
        return self.random_batch(count, np.random.default_rng(seed + 7919))

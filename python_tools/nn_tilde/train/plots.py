"""PNG per checkpoint: loss curves, input and output spectrograms (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def log_spectrogram(x: np.ndarray, n_fft: int = 1024) -> np.ndarray:
    """x: [T] -> dB magnitude [n_fft // 2 + 1, frames] (Hann window, hop n_fft // 4)."""
    n_fft = min(n_fft, 1 << (max(len(x), 16).bit_length() - 1))
    hop = n_fft // 4
    frames = max(1, 1 + (len(x) - n_fft) // hop)
    window = np.hanning(n_fft).astype(np.float32)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    padded = np.pad(x, (0, max(0, idx.max() + 1 - len(x))))
    spec = np.abs(np.fft.rfft(padded[idx] * window, axis=1)).T
    return 20 * np.log10(spec + 1e-6)


def save_plots(
    path: Path,
    history: dict[str, list[list[float]]],
    x: np.ndarray,
    y: np.ndarray,
    sample_rate: int,
    step: int,
) -> None:
    """history: {"train": [[step, loss]...], "valid": [...]}; x, y: [T] input and output."""
    fig, axes = plt.subplots(3, 1, figsize=(8, 9))
    for name, rows in history.items():
        if rows:
            arr = np.asarray(rows)
            axes[0].plot(arr[:, 0], arr[:, 1], label=name, marker="o" if name == "valid" else None)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("multi-scale spectral loss")
    axes[0].set_title(f"losses (step {step})")
    axes[0].legend()
    seconds = len(x) / sample_rate
    for ax, sig, title in ((axes[1], x, "input"), (axes[2], y, "output")):
        spec = log_spectrogram(sig)
        ax.imshow(
            spec,
            origin="lower",
            aspect="auto",
            vmin=-100,
            vmax=max(spec.max(), -60),
            extent=(0, seconds, 0, sample_rate / 2000),
            cmap="magma",
        )
        ax.set_title(f"{title} spectrogram")
        ax.set_ylabel("kHz")
    axes[2].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)

"""Quality of a DDSP nn~ model on held-out phrases: spectral distance and pitch following.

    nn-tilde ddsp evaluate models/ddsp_violin.ts /tmp/ddsp_violin/valid [--json]

For every audio file of the folder (rendered phrases of the instrument the model was trained on):

* the scripted model's ``forward`` runs on the phrase as nn~ would run it (fresh load, buffers of
  2048 samples, one after the other), and its declared ``forward_latency`` is removed;
* **spectral distance**: the kit's multi-scale spectral loss (``MultiScaleSTFTLoss``, FFT sizes
  2048 ... 64; lower is better) between the output and the real phrase. Baseline for scale:
  a "trivial" resynthesis from the same features, a sine at the tracked f0 whose RMS follows
  the tracked loudness (``baseline``);
* **pitch following**: f0 of input and output by the kit's offline extractor
  (``analyze_offline``); on frames where the input is voiced, the error in cents
  ``1200 |log2(f0_out / f0_in)|`` (median, 95th percentile, over frames where both are voiced)
  and the share of those frames where the output is voiced too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nn_tilde.models.ddsp.features import analyze_offline
from nn_tilde.train.data import list_audio, load_mono
from nn_tilde.train.loss import MultiScaleSTFTLoss

SCALES = (2048, 1024, 512, 256, 128, 64)


def run_forward(model: torch.jit.ScriptModule, audio: np.ndarray, buffer: int = 2048) -> np.ndarray:
    """audio [T] -> forward output [T] (buffer by buffer, latency removed, zero-padded tail)."""
    latency = int(model.forward_latency.item()) if hasattr(model, "forward_latency") else 0
    n = len(audio) + latency
    n = -(-n // buffer) * buffer
    x = torch.zeros(1, 1, n)
    x[0, 0, : len(audio)] = torch.from_numpy(audio)
    with torch.no_grad():
        y = torch.cat([model(c) for c in torch.split(x, buffer, -1)], -1)[0, 0].numpy()
    return y[latency : latency + len(audio)]


def sine_baseline(audio: np.ndarray, sample_rate: int, hop: int = 512) -> np.ndarray:
    """A sine at the tracked f0 with the tracked loudness as RMS (frames interpolated)."""
    res = analyze_offline(audio, sample_rate, hop)
    t_frames = np.arange(len(res["f0"])) * hop
    t = np.arange(len(audio))
    f0 = np.interp(t, t_frames, res["f0"])
    rms = np.interp(t, t_frames, 10 ** (res["loudness"] / 20))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    return (np.sqrt(2) * rms * np.sin(phase)).astype(np.float32)


def spectral_distance(reference: np.ndarray, estimate: np.ndarray) -> float:
    loss = MultiScaleSTFTLoss(SCALES)
    with torch.no_grad():
        return float(
            loss(torch.from_numpy(reference)[None, None], torch.from_numpy(estimate)[None, None])
        )


def pitch_following(
    reference: np.ndarray, estimate: np.ndarray, sample_rate: int, hop: int = 512
) -> dict[str, float]:
    a = analyze_offline(reference, sample_rate, hop)
    b = analyze_offline(estimate, sample_rate, hop)
    voiced_in = a["voiced"] > 0.5
    both = voiced_in & (b["voiced"] > 0.5)
    cents = 1200 * np.abs(
        np.log2(np.maximum(b["f0"][both], 1e-3) / np.maximum(a["f0"][both], 1e-3))
    )
    return {
        "frames_voiced_in": int(voiced_in.sum()),
        "voiced_share": float(both.sum() / max(voiced_in.sum(), 1)),
        "cents": cents,
    }


def evaluate(model_path: Path, folder: Path, limit: int = 0) -> dict:
    model = torch.jit.load(str(model_path))
    sr = int(model.get_model_sample_rate())
    files = list_audio(folder)[: limit or None]
    if not files:
        raise SystemExit(f"{folder}: no audio files")
    rows, all_cents, voiced, voiced_in = [], [], 0, 0
    for f in files:
        x = load_mono(f, sr)
        model = torch.jit.load(str(model_path))  # fresh stream per phrase
        y = run_forward(model, x)
        base = sine_baseline(x, sr)
        p = pitch_following(x, y, sr)
        all_cents.append(p["cents"])
        voiced += round(p["voiced_share"] * p["frames_voiced_in"])
        voiced_in += p["frames_voiced_in"]
        rows.append(
            {
                "file": f.name,
                "seconds": round(len(x) / sr, 2),
                "spectral_model": round(spectral_distance(x, y), 4),
                "spectral_baseline": round(spectral_distance(x, base), 4),
                "spectral_silence": round(spectral_distance(x, np.zeros_like(x)), 4),
                "cents_median": round(float(np.median(p["cents"])), 2) if len(p["cents"]) else None,
                "voiced_share": round(p["voiced_share"], 3),
            }
        )
    cents = np.concatenate(all_cents) if all_cents else np.zeros(0)
    summary = {
        "model": str(model_path),
        "files": len(rows),
        "spectral_model": round(float(np.mean([r["spectral_model"] for r in rows])), 4),
        "spectral_baseline": round(float(np.mean([r["spectral_baseline"] for r in rows])), 4),
        "spectral_silence": round(float(np.mean([r["spectral_silence"] for r in rows])), 4),
        "cents_median": round(float(np.median(cents)), 2) if len(cents) else None,
        "cents_p95": round(float(np.percentile(cents, 95)), 2) if len(cents) else None,
        "voiced_share": round(voiced / max(voiced_in, 1), 3),
        "voiced_frames_in": voiced_in,
    }
    return {"summary": summary, "files": rows}


def format_report(result: dict) -> str:
    """The report of `evaluate` as `nn-tilde ddsp evaluate` prints it: a line per file, then a
    summary."""
    lines = []
    for r in result["files"]:
        lines.append(
            f"{r['file']:24s} {r['seconds']:5.1f} s  spectral {r['spectral_model']:.3f} "
            f"(sine baseline {r['spectral_baseline']:.3f}, silence {r['spectral_silence']:.3f})  "
            f"pitch median {r['cents_median']} cents, voiced {r['voiced_share']:.2f}"
        )
    s = result["summary"]
    lines.append(
        f"mean spectral distance {s['spectral_model']:.3f} "
        f"(sine baseline {s['spectral_baseline']:.3f}, "
        f"silence {s['spectral_silence']:.3f}); pitch error median {s['cents_median']} cents, "
        f"95th percentile {s['cents_p95']} cents over {s['voiced_frames_in']} voiced input frames; "
        f"output voiced on {100 * s['voiced_share']:.1f} % of them"
    )
    return "\n".join(lines)

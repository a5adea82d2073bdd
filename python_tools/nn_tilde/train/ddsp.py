"""`nn-tilde train` with ``model_type = "ddsp"``: DDSP-CNN-Tiny on a folder of audio.

Features (f0, A-weighted loudness) come from ``nn_tilde.models.ddsp.features.compute_features``, the
offline twin of the streaming extractor that runs inside the exported model, computed once per
file and cached as ``.npy`` under ``DATA/.nn_tilde_cache/ddsp/`` (the key covers the extractor's
source, rate, hop and the file's size and mtime). Training crops start on frame boundaries:
``frames`` frames of features and ``frames * hop`` samples of audio. Loss: the kit's multi-scale
spectral loss between the synthesised and the real crop. Single process (DDP is not needed for a
2.5k-parameter model). Checkpoints: ``OUT/ckpt_*.pt`` and ``OUT/last.pt`` with ``kind ==
"nn_tilde.ddsp"``; ``nn-tilde export OUT/last.pt MODEL.ts`` writes the nn~ model.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nn_tilde.models.ddsp.model import DDSP
from nn_tilde.train.config import TrainConfig
from nn_tilde.train.data import DataError, load_mono, split_files
from nn_tilde.train.loss import MultiScaleSTFTLoss

CHECKPOINT_KIND = "nn_tilde.ddsp"


def build_ddsp(config: TrainConfig) -> DDSP:
    d = config.ddsp
    return DDSP(
        sample_rate=config.sample_rate,
        hop=d.hop,
        channels=d.channels,
        dilations=tuple(d.dilations),
        n_harmonics=d.n_harmonics,
        n_noise=d.n_noise,
        reverb=d.reverb,
        reverb_length=d.reverb_length,
        table_size=d.table_size,
    )


def features_key(sample_rate: int, hop: int) -> str:
    """Identifies the feature extractor: its module's source, the rate and the hop."""
    from nn_tilde.models.ddsp import features

    src = inspect.getsource(features)
    return hashlib.sha1(f"{src}|{sample_rate}|{hop}".encode()).hexdigest()[:12]


def file_features(
    path: Path, audio: np.ndarray, sample_rate: int, hop: int, cache: Path
) -> np.ndarray:
    """[2, T // hop] float32 (f0 Hz, loudness dB) of `audio`, from the cache when possible."""
    from nn_tilde.models.ddsp.features import compute_features

    st = path.stat()
    tag = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    file = cache / f"{path.stem}_{tag}_{features_key(sample_rate, hop)}.npy"
    if file.is_file():
        return np.load(file)
    feats = compute_features(audio, sample_rate, hop)
    if isinstance(feats, torch.Tensor):
        feats = feats.detach().cpu().numpy()
    feats = np.asarray(feats, dtype=np.float32).reshape(2, -1)[:, : len(audio) // hop]
    cache.mkdir(parents=True, exist_ok=True)
    np.save(file, feats)
    return feats


class FeatureSet:
    """Audio and aligned features of every file; crops of `frames` frames on frame boundaries."""

    def __init__(self, files: list[Path], config: TrainConfig, cache: Path) -> None:
        hop, self.frames = config.ddsp.hop, config.crop // config.ddsp.hop
        self.hop = hop
        self.audio: list[np.ndarray] = []
        self.feats: list[np.ndarray] = []
        for f in files:
            x = load_mono(f, config.sample_rate)
            feats = file_features(f, x, config.sample_rate, hop, cache)
            n = min(feats.shape[1], len(x) // hop)
            if n < self.frames:
                continue
            self.audio.append(x[: n * hop])
            self.feats.append(feats[:, :n])
        if not self.audio:
            raise DataError(f"no file is at least {config.crop} samples long; lower crop")
        lengths = np.array([f.shape[1] - self.frames + 1 for f in self.feats], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    def seconds(self, sample_rate: int) -> float:
        return sum(len(a) for a in self.audio) / sample_rate

    def loudness_stats(self) -> tuple[float, float]:
        ld = np.concatenate([f[1] for f in self.feats])
        return float(ld.mean()), float(max(ld.std(), 1e-3))

    def batch(self, count: int, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
        """-> (features [count, 2, frames], audio [count, 1, frames * hop])."""
        k, h = self.frames, self.hop
        feats = np.empty((count, 2, k), dtype=np.float32)
        audio = np.empty((count, 1, k * h), dtype=np.float32)
        for b in range(count):
            i = rng.choice(len(self.feats), p=self.weights)
            s = int(rng.integers(0, self.feats[i].shape[1] - k + 1))
            feats[b] = self.feats[i][:, s : s + k]
            audio[b, 0] = self.audio[i][s * h : (s + k) * h]
        return torch.from_numpy(feats), torch.from_numpy(audio)


def train_ddsp(
    config: TrainConfig,
    data_dir: Path,
    out_dir: Path,
    resume: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict[str, Any]:
    """Train a DDSP model; returns the final checkpoint dict."""
    from nn_tilde.train.loop import StepLog

    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    cache = (
        Path(config.ddsp.feature_cache)
        if config.ddsp.feature_cache
        else data_dir / ".nn_tilde_cache" / "ddsp"
    )
    train_files, valid_files = split_files(data_dir, config.val_split)
    if not train_files:
        raise DataError(f"{data_dir}: no .wav/.flac/.ogg files; point at a folder of audio")
    t0 = time.perf_counter()
    train_set = FeatureSet(train_files, config, cache)
    valid_set = FeatureSet(valid_files, config, cache) if valid_files else None
    say(
        f"data: {len(train_files)} training files ({train_set.seconds(config.sample_rate):.1f} s),"
        f" {len(valid_files)} validation files; features in {time.perf_counter() - t0:.1f} s"
    )
    torch.manual_seed(config.seed)
    model = build_ddsp(config)
    mean, std = train_set.loudness_stats()
    model.loud_mean.fill_(mean)
    model.loud_std.fill_(std)
    loss_fn = MultiScaleSTFTLoss(config.loss_scales)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    step = 0
    history: dict[str, list[list[float]]] = {"train": [], "valid": []}
    if resume is not None:
        ckpt = torch.load(resume, map_location="cpu", weights_only=False)
        load_weights(model, ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, history = int(ckpt["step"]), ckpt["history"]
        if ckpt.get("features_key") != features_key(config.sample_rate, config.ddsp.hop):
            model.loud_mean.fill_(mean)  # new extractor: fine-tune on its numbers
            model.loud_std.fill_(std)
            say("resuming with a different feature extractor: loudness statistics refreshed")
        say(f"resumed from {resume} at step {step}")
    out_dir.mkdir(parents=True, exist_ok=True)
    valid = (
        valid_set.batch(config.val_crops, np.random.default_rng(config.seed + 7919))
        if valid_set
        else None
    )
    ckpt = _checkpoint(config, model, optimizer, step, history)
    log = StepLog(config, history, step, progress)
    while step < config.steps:
        rng = np.random.default_rng([config.seed, step])
        feats, audio = train_set.batch(config.batch_size, rng)
        model.train()
        model.reset()
        y = model(feats)
        loss = loss_fn(audio, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        log.train(step, float(loss.detach()))
        if valid is not None and log.due(step, config.val_every):
            log.valid(step, validate(model, valid, loss_fn))
        if log.due(step, config.ckpt_every):
            ckpt = _checkpoint(config, model, optimizer, step, history)
            _save(ckpt, out_dir, step)
            if config.plot:
                _plot(
                    model,
                    valid if valid is not None else (feats, audio),
                    config,
                    history,
                    out_dir,
                    step,
                )
    return ckpt


@torch.no_grad()
def validate(model: DDSP, batch: tuple[Tensor, Tensor], loss_fn: MultiScaleSTFTLoss) -> float:
    model.eval()
    model.reset()
    y = model(batch[0])
    model.reset()
    return float(loss_fn(batch[1], y))


def _checkpoint(config, model, optimizer, step, history) -> dict[str, Any]:
    return {
        "format": 1,
        "kind": CHECKPOINT_KIND,
        "config": config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "history": history,
        "features_key": features_key(config.sample_rate, config.ddsp.hop),
    }


def _save(ckpt: dict[str, Any], out_dir: Path, step: int) -> None:
    tmp = out_dir / ".last.pt.tmp"
    torch.save(ckpt, tmp)
    tmp.replace(out_dir / "last.pt")
    torch.save(ckpt, out_dir / f"ckpt_{step:07d}.pt")


def _plot(model, batch, config, history, out_dir, step) -> None:
    try:
        from nn_tilde.train.plots import save_plots
    except ImportError:
        config.plot = False
        return
    with torch.no_grad():
        model.eval()
        model.reset()
        y = model(batch[0][:1])
        model.reset()
    save_plots(
        out_dir / f"plot_{step:07d}.png",
        history,
        batch[1][0, 0].numpy(),
        y[0, 0].numpy(),
        config.sample_rate,
        step,
    )


def load_weights(model: DDSP, state: dict[str, Tensor]) -> None:
    """Load the learned state (decoder, loudness statistics, reverb); the synthesisers' fixed
    tables are rebuilt by the constructor and not read from the checkpoint."""
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in state.items() if k in own})


def model_from_checkpoint(ckpt: dict[str, Any], name: str, metadata: dict[str, str] | None = None):
    """A DDSP checkpoint -> the nn~ model (``ExportedDDSP``), streaming extractor included."""
    from nn_tilde.models.ddsp.features import Features
    from nn_tilde.models.ddsp.model import ExportedDDSP

    config = TrainConfig.from_dict(ckpt["config"])
    model = build_ddsp(config)
    load_weights(model, ckpt["model"])
    model.eval()
    fields = {
        "name": name,
        "training_steps": str(ckpt["step"]),
        "architecture": f"DDSP-CNN-Tiny ({config.ddsp.channels} channels), nn_tilde.models.ddsp",
        "model_sample_rate_note": (
            f"trained at {config.sample_rate} Hz; runs at the host rate, no resampling"
        ),
    }
    fields.update(metadata or {})
    hop = config.ddsp.hop
    with torch.no_grad():
        return ExportedDDSP(
            model, lambda: Features(sample_rate=config.sample_rate, hop=hop), fields
        )

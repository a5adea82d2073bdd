"""`nn-tilde train` with ``model_type = "ddsp"`` (section ``[ddsp]``): DDSP-CNN-Tiny on a folder
of audio.

Features (f0, A-weighted loudness) come from ``nn_tilde.models.ddsp.features.compute_features``, the
offline twin of the streaming extractor that runs inside the exported model, computed once per
file and cached as ``.npy`` under ``DATA/.nn_tilde_cache/ddsp/`` (the key covers the extractor's
source, rate, hop and the file's size and mtime). Training crops start on frame boundaries:
``frames`` frames of features and ``frames * hop`` samples of audio. Loss: the kit's multi-scale
spectral loss between the synthesised and the real crop. Single process (DDP is not needed for a
2.5k-parameter model). Checkpoints: see loop.py (``kind == "nn_tilde.ddsp"``, plus
``features_key``); ``nn-tilde export OUT/last.pt MODEL.ts`` writes the nn~ model.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from nn_tilde.models.ddsp.features import Features, compute_features
from nn_tilde.models.ddsp.model import DDSP, ExportedDDSP
from nn_tilde.train.data import DataError, load_mono, split_files
from nn_tilde.train.loop import StepLog, checkpoint_dict, save_checkpoint, save_plot
from nn_tilde.train.loss import MultiScaleSTFTLoss

if TYPE_CHECKING:
    from nn_tilde.train.config import TrainConfig


def build_model(config: TrainConfig) -> DDSP:
    d = config.model
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
        hop, self.frames = config.model.hop, config.crop // config.model.hop
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


def train(
    config: TrainConfig,
    data_dir: Path,
    out_dir: Path,
    resume: Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict[str, Any]:
    """Train a DDSP model; returns the final checkpoint dict."""
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    cache = (
        Path(config.model.feature_cache)
        if config.model.feature_cache
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
    model = build_model(config)
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
        if ckpt.get("features_key") != features_key(config.sample_rate, config.model.hop):
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
            save_checkpoint(ckpt, out_dir, step)
            if config.plot:
                batch = valid if valid is not None else (feats, audio)
                save_plot(config, history, out_dir, step, lambda b=batch: first(model, b), say)
    return ckpt


@torch.no_grad()
def validate(model: DDSP, batch: tuple[Tensor, Tensor], loss_fn: MultiScaleSTFTLoss) -> float:
    model.eval()
    model.reset()
    y = model(batch[0])
    model.reset()
    return float(loss_fn(batch[1], y))


def _checkpoint(
    config: TrainConfig,
    model: DDSP,
    optimizer: torch.optim.Optimizer,
    step: int,
    history: dict[str, list[list[float]]],
) -> dict[str, Any]:
    key = features_key(config.sample_rate, config.model.hop)
    return checkpoint_dict(config, model, optimizer, step, history, features_key=key)


@torch.no_grad()
def first(model: DDSP, batch: tuple[Tensor, Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """The first crop of `batch` (features, audio) and its synthesis, both [T], for the plot."""
    model.eval()
    model.reset()
    y = model(batch[0][:1])
    model.reset()
    return batch[1][0, 0].numpy(), y[0, 0].numpy()


def load_weights(model: DDSP, state: dict[str, Tensor]) -> None:
    """Load the learned state (decoder, loudness statistics, reverb); the synthesisers' fixed
    tables are rebuilt by the constructor and not read from the checkpoint."""
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in state.items() if k in own})


def model_from_checkpoint(
    ckpt: dict[str, Any],
    config: TrainConfig,
    name: str,
    metadata: dict[str, str] | None = None,
) -> ExportedDDSP:
    """A DDSP checkpoint -> the nn~ model (``ExportedDDSP``), streaming extractor included."""
    model = build_model(config)
    load_weights(model, ckpt["model"])
    model.eval()
    fields = {
        "name": name,
        "training_steps": str(ckpt["step"]),
        "architecture": f"DDSP-CNN-Tiny ({config.model.channels} channels), nn_tilde.models.ddsp",
        "model_sample_rate_note": (
            f"trained at {config.sample_rate} Hz; runs at the host rate, no resampling"
        ),
    }
    fields.update(metadata or {})
    hop = config.model.hop
    with torch.no_grad():
        return ExportedDDSP(
            model, lambda: Features(sample_rate=config.sample_rate, hop=hop), fields
        )

"""Benchmark: DDSP-CNN-Tiny timed by the protocol of "Accelerating Neural Audio Synthesis", so the
thesis' 800x figure is compared on the same work, not on nn~'s streaming calls.

The protocol: 16 kHz audio, 250 frames per second (hop 64, DDSP's own frame rate), 4-second
clips (64000 samples, 1000 frames), batch 1, one thread, a first run discarded and 250 timed
runs, each component timed on its own: feature extraction (f0 + loudness of the clip), decoder
(the CNN on the clip's 1000 frames) and synthesis (harmonic + noise from the controls). The
weights are the untrained initial ones (speed does not depend on their values); the decoder has
2,454 parameters with 8 channels. Runtimes: eager PyTorch, TorchScript, and ONNX Runtime for
the decoder (the thesis' best runtime with TorchScript; one thread as the thesis forces; needs
the `accel` extra). Prints the table; not a test.

Usage: python benchmarks/thesis_protocol.py [--runs 250] [--channels 8] [--seconds-per-clip 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from nn_tilde.models.ddsp.features import Features
from nn_tilde.models.ddsp.model import DDSP

SR, HOP = 16000, 64


class _Synthesis(torch.nn.Module):
    def __init__(self, model: DDSP) -> None:
        super().__init__()
        self.model = model

    def forward(self, f0: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        self.model.reset()
        return self.model.synthesise(f0, raw)


class _Features(torch.nn.Module):
    def __init__(self, features: Features) -> None:
        super().__init__()
        self.features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.features.reset()
        return self.features(x)


def time_runs(fn, runs: int) -> list[float]:
    """Seconds of each of `runs` timed calls after one discarded call (thread CPU time, which
    other processes on a busy machine do not inflate)."""
    fn()
    out = []
    for _ in range(runs):
        start = time.thread_time()
        fn()
        out.append(time.thread_time() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=250)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--seconds-per-clip", type=float, default=4.0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    clip_s = args.seconds_per_clip
    n = int(SR * clip_s)
    model = DDSP(sample_rate=SR, hop=HOP, channels=args.channels).eval()
    features = Features(sample_rate=SR, hop=HOP).eval()
    t = torch.arange(n) / SR
    audio = (0.3 * torch.sin(2 * torch.pi * 220.0 * t * (1 + 0.1 * t))).view(1, 1, n)
    with torch.no_grad():
        feats = _Features(features)(audio)  # [1, 2, frames]
        x = model.normalise(feats)
        raw = model.decoder(x)
        f0 = feats[:, 0]
    params = sum(p.numel() for p in model.decoder.parameters())
    components = {
        "feature extraction": (_Features(features), (audio,)),
        "decoder": (model.decoder, (x,)),
        "synthesis": (_Synthesis(model), (f0, raw)),
    }
    rows = []
    with torch.no_grad():
        for name, (module, inputs) in components.items():
            kinds = {"eager": module}
            try:
                kinds["TorchScript"] = torch.jit.script(module)
            except Exception as exc:  # reported; the other rows go on
                print(f"{name}: torch.jit.script failed: {exc}", file=sys.stderr)
            for kind, fn in kinds.items():
                times = time_runs(lambda fn=fn, inputs=inputs: fn(*inputs), args.runs)
                rows.append((name, kind, times))
            if name == "decoder":
                ort_times = _onnx_decoder(module, x, args.runs)
                if ort_times is not None:
                    rows.append((name, "ONNX Runtime", ort_times))
    print(
        f"DDSP-CNN-Tiny ({args.channels} channels, decoder {params} parameters), {SR} Hz, hop "
        f"{HOP} ({SR // HOP} frames/s), {clip_s:g} s clips ({feats.shape[-1]} frames), batch 1, "
        f"one thread, {args.runs} timed runs after one discarded; torch {torch.__version__}"
    )
    print(f"{'component':20} {'runtime':13} {'mean ms':>9} {'std ms':>8} {'x real time':>12}")
    for name, kind, times in rows:
        mean = statistics.mean(times)
        std = statistics.pstdev(times)
        print(f"{name:20} {kind:13} {1e3 * mean:9.3f} {1e3 * std:8.3f} {clip_s / mean:12.1f}")
    best = {}
    for name, _, times in rows:
        best[name] = min(best.get(name, float("inf")), statistics.mean(times))
    total = sum(best.values())
    print(f"{'whole (best of each)':20} {'':13} {1e3 * total:9.3f} {'':8} {clip_s / total:12.1f}")
    return 0


def _onnx_decoder(module: torch.nn.Module, x: torch.Tensor, runs: int) -> list[float] | None:
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed (the kit's `accel` extra): no ONNX row", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "decoder.onnx"
        torch.onnx.export(module, (x,), str(path), dynamo=True, verbose=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        feed = {name: x.numpy()}
        want = module(x)
        got = torch.from_numpy(session.run(None, feed)[0])
        print(f"ONNX decoder: max |diff| against eager {float((got - want).abs().max()):.2e}")
        return time_runs(lambda: session.run(None, feed), runs)


if __name__ == "__main__":
    sys.exit(main())

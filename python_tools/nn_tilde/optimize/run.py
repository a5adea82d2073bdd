"""`optimize_file`: make every variant of a model file, measure each (error, streaming, speed,
checker), pick the fastest within the user's error bounds and write it with a record of what
was done."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from nn_tilde.check.behaviour import probe_signals
from nn_tilde.host import probe, read
from nn_tilde.optimize import measure, passes
from nn_tilde.optimize.measure import MethodFigures, VariantFigures

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

METADATA_KEY = "optimize"  # get_metadata()["optimize"]: the JSON record of what was done
EXTRA_FILE = "nn_tilde_optimize.json"  # the same record as an extra file of the archive
CALIBRATION_SECONDS = 20.0  # at most this much of the user's audio per method


@dataclass
class OptimizeOptions:
    buffer: int = 2048
    threads: int = 1
    sample_rate: int | None = None  # default: the model's own rate, else 44100
    seconds: float = 0.5  # timing budget per variant and method
    min_snr_db: float = 40.0
    max_peak: float = 0.01
    method: str | None = None  # the method whose speed decides (default forward, else the first)
    calibration: list[Path] = field(default_factory=list)  # audio files for static int8
    only: list[str] | None = None  # pass names to try (the original is always measured)
    variant: str | None = None  # write this variant (if within the bounds), not the fastest
    check: bool = True


@dataclass
class OptimizeResult:
    source: Path
    method: str
    buffer: int
    threads: int
    sample_rate: int
    variants: list[VariantFigures]
    chosen: str | None
    reasons: dict[str, str]  # why each variant not chosen was refused ("" when acceptable)

    def figures(self, name: str) -> VariantFigures:
        return next(v for v in self.variants if v.name == name)

    def speedup(self, name: str) -> float:
        base = self.figures("original").methods[self.method].cpu_ms
        mine = self.figures(name).methods[self.method].cpu_ms
        return base / mine if mine > 0 else 0.0

    def to_json(self) -> dict:
        return {
            "source": str(self.source),
            "method": self.method,
            "buffer": self.buffer,
            "threads": self.threads,
            "sample_rate": self.sample_rate,
            "chosen": self.chosen,
            "reasons": self.reasons,
            "variants": [v.as_dict() for v in self.variants],
        }


def _model_rate(model: torch.jit.ScriptModule) -> int | None:
    for getter in ("get_model_sample_rate", "get_sample_rate"):
        if probe.has_method(model, getter):
            try:
                rate = int(getattr(model, getter)())
            except Exception:
                continue
            if rate > 0:
                return rate
    return None


def read_audio(paths: Sequence[Path], limit_seconds: float) -> np.ndarray:
    """Mono float32 samples of the files, concatenated, at most `limit_seconds` at their rate."""
    import soundfile as sf

    pieces, total = [], 0
    for path in paths:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        room = int(limit_seconds * rate) - total
        if room <= 0:
            break
        pieces.append(mono[:room])
        total += len(pieces[-1])
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def calibration_inputs(
    model: torch.jit.ScriptModule,
    params: dict[str, probe.MethodParams],
    audio: np.ndarray | None,
    rate: int,
) -> dict[str, torch.Tensor]:
    """Per method, an input [1, C, frames] to calibrate on: the user's audio for methods that
    take audio; for a method taking another method's output (decode after encode), that
    method's output on the audio; else the kit's test signals, one after the other."""
    host = None
    if audio is not None and audio.size:
        host = torch.from_numpy(audio).view(1, 1, -1)
    out: dict[str, torch.Tensor] = {}
    for name, p in params.items():
        if host is not None and p.in_ratio == 1:
            out[name] = host.expand(1, p.in_channels, -1).contiguous()
    for name, p in params.items():
        if name in out or host is None:
            continue
        for other, q in params.items():
            takes_audio = q.in_ratio == 1 and other in out
            if takes_audio and (q.out_channels, q.out_ratio) == (p.in_channels, p.in_ratio):
                x = out[other]
                usable = x.shape[-1] - x.shape[-1] % max(q.out_ratio, 1)
                out[name] = probe.call(model, other, x[..., :usable], seed=0)
                if probe.has_method(model, "reset"):
                    model.reset()
                break
    for name, p in params.items():
        if name not in out:
            signals = probe_signals(p, 4 * 16384, rate)
            out[name] = torch.cat(list(signals.values()), -1)
    return out


def _calibrator(
    inputs: dict[str, torch.Tensor], params: dict[str, probe.MethodParams], buffer: int
) -> Callable[[torch.jit.ScriptModule, str], None]:
    def calibrate(model: torch.jit.ScriptModule, method: str) -> None:
        x, p = inputs[method], params[method]
        frames = p.in_frames(buffer)
        fn = getattr(model, method)
        for start in range(0, x.shape[-1] - frames + 1, frames):
            fn(x[..., start : start + frames])

    return calibrate


def _refusal(variant: VariantFigures, original: VariantFigures, options: OptimizeOptions) -> str:
    """Why this variant may not be written ("" when it may)."""
    if variant.error:
        return f"pass failed: {variant.error}"
    if variant.check == "fail":
        return "the checker fails it"
    for name, fig in variant.methods.items():
        base = original.methods[name]
        if base.streams and not fig.streams:
            diff = "n/a" if fig.stream_diff is None else f"{fig.stream_diff:.2g}"
            return f"{name}: chunks differ from one call (max {diff}): it would click in nn~"
        if fig.snr_db < options.min_snr_db:
            return f"{name}: SNR {fig.snr_db:.1f} dB below --min-snr {options.min_snr_db:g}"
        if fig.peak_error > options.max_peak:
            return f"{name}: peak error {fig.peak_error:.3g} above --max-peak {options.max_peak:g}"
    return ""


def optimize_file(
    path: Path, options: OptimizeOptions, progress: Progress = lambda _m: None
) -> tuple[OptimizeResult, dict[str, passes.Variant]]:
    """Measure every variant of the file at `path`; the result names the one to write."""
    data = Path(path).read_bytes()
    model = probe.loader_from_bytes(data)()
    params = measure.method_params(model)
    if not params:
        raise ValueError(f"{path} has no method nn~ accepts; run `nn-tilde check {path}`")
    method = options.method or ("forward" if "forward" in params else next(iter(params)))
    if method not in params:
        raise ValueError(f"no method {method!r} in {path}; it has {sorted(params)}")
    rate = options.sample_rate or _model_rate(model) or 44100
    max_ratio = max(max(p.in_ratio, p.out_ratio) for p in params.values())
    buffer = max(options.buffer, max_ratio)
    buffer -= buffer % max_ratio
    audio = read_audio(options.calibration, CALIBRATION_SECONDS) if options.calibration else None
    inputs = calibration_inputs(model, params, audio, rate)
    progress(f"making variants of {path}")
    variants = passes.make_variants(data, _calibrator(inputs, params, buffer), options.only)
    reference = probe.loader_from_bytes(data)
    want = {m: measure._run_signals(reference, m, p, rate) for m, p in params.items()}
    figures: list[VariantFigures] = []
    for variant in variants:
        fig = VariantFigures(variant.name, variant.passes, error=variant.error)
        figures.append(fig)
        if variant.data is None:
            continue
        fig.size_bytes = len(variant.data)
        load = probe.loader_from_bytes(variant.data)
        try:
            for m, p in params.items():
                progress(f"{variant.name}: {m}: error, streaming, speed")
                got = measure._run_signals(load, m, p, rate)
                snr, peak = measure.error_figures(want[m], got)
                t = measure.time_figures(
                    variant.data, m, p, buffer, options.threads, rate, options.seconds
                )
                fig.methods[m] = MethodFigures(
                    m,
                    snr_db=snr,
                    peak_error=peak,
                    stream_diff=measure.stream_diff(load, m, p, max_ratio),
                    cpu_ms=t.cpu_mean_ms,
                    p50_ms=t.p50_ms,
                    p99_ms=t.p99_ms,
                    x_real_time=t.cpu_speed,
                )
        except Exception as exc:  # a variant that throws where the original did not
            first = str(exc).strip().splitlines()
            fig.error = f"raised when called: {first[-1] if first else type(exc).__name__}"
            fig.methods = {}
            continue
        if options.check:
            progress(f"{variant.name}: checker")
            fig.check, fig.check_problems = measure.check_verdict(variant.data, rate)
    original = figures[0]
    if original.error:
        raise ValueError(f"{path}: the original does not run: {original.error}")
    reasons = {f.name: _refusal(f, original, options) for f in figures}
    acceptable = [f for f in figures if not reasons[f.name]]
    if options.variant is not None:
        acceptable = [f for f in acceptable if f.name == options.variant]
    chosen = min(acceptable, key=lambda f: f.methods[method].cpu_ms).name if acceptable else None
    result = OptimizeResult(
        Path(path), method, buffer, options.threads, rate, figures, chosen, reasons
    )
    return result, {v.name: v for v in variants}


def record(result: OptimizeResult, name: str, source_data: bytes) -> dict:
    """What the written file says about itself (metadata "optimize" and the extra file)."""
    fig = result.figures(name)
    methods = {}
    for m, f in fig.methods.items():
        methods[m] = {
            "snr_db": None if math.isinf(f.snr_db) else round(f.snr_db, 2),
            "peak_error": f.peak_error,
            "streams": f.streams,
            "x_real_time": round(f.x_real_time, 1),
        }
    return {
        "variant": name,
        "passes": fig.passes,
        "source": result.source.name,
        "source_sha256": hashlib.sha256(source_data).hexdigest(),
        "timed": {
            "method": result.method,
            "buffer": result.buffer,
            "threads": result.threads,
            "sample_rate": result.sample_rate,
        },
        "speedup": round(result.speedup(name), 3),
        "error_against_source": methods,
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_variant(variant: passes.Variant, info: dict, output: Path) -> None:
    """Save the variant with the record in get_metadata() (when the file has one) and as an
    extra file; test vectors are re-recorded from the variant itself (its error against the
    original is in the record), so nn~'s load-time verification checks this file's own output."""
    model = variant.load()
    text = json.dumps(info, sort_keys=True)
    if model._c.hasattr("_nn_metadata"):
        metadata = dict(model._nn_metadata)
        metadata[METADATA_KEY] = text
        model._c.setattr("_nn_metadata", metadata)
    if variant.passes:
        fresh = probe.loader_from_bytes(variant.data or b"")
        for m in read.read_methods(model).names:
            key_in, key_out = f"{m}_test_input", f"{m}_test_output"
            x = probe.buffer_value(model, key_in)
            if x is None or probe.buffer_value(model, key_out) is None:
                continue
            y = probe.call(fresh(), m, x, seed=0)
            model._c.setattr(key_out, y.clone())
    buf = io.BytesIO()
    torch.jit.save(model, buf, _extra_files={EXTRA_FILE: text})
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(buf.getvalue())
    partial.replace(output)


def read_record(path: Path) -> dict | None:
    """The optimize record of a file written by `nn-tilde optimize` (None if it has none)."""
    extra = {EXTRA_FILE: ""}
    torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return json.loads(extra[EXTRA_FILE]) if extra[EXTRA_FILE] else None

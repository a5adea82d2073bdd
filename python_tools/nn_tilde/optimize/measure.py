"""What `nn-tilde optimize` measures for each variant: its error against the original on the
kit's test signals, whether it still streams (chunks == one call), its speed as `nn-tilde bench`
times it, and the checker's verdict."""

from __future__ import annotations

import math
import random
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from nn_tilde.check.behaviour import probe_signals, random_chunks
from nn_tilde.check.report import FAIL, PASS, WARN
from nn_tilde.check.runner import CheckOptions, check_file
from nn_tilde.host import probe, read
from nn_tilde.host import timing as speed

STREAM_ATOL = 1e-4  # as export and the checker compare chunked and whole runs
SIGNAL_SAMPLES = 16384  # host samples per test signal (several calls at any ratio <= 8192)


@dataclass
class MethodFigures:
    """One method of one variant. snr_db: 10 log10(energy of the original's output / energy of
    the difference) over all test signals (inf when equal); peak_error: max |difference|;
    stream_diff: max |chunked - whole| (None: the original itself does not stream, or draws
    random numbers, so the check does not apply)."""

    method: str
    snr_db: float = math.inf
    peak_error: float = 0.0
    stream_diff: float | None = None
    cpu_ms: float = 0.0  # mean CPU time per call (bench's cpu_mean_ms)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    x_real_time: float = 0.0  # buffer duration / cpu_ms

    @property
    def streams(self) -> bool | None:
        return None if self.stream_diff is None else self.stream_diff <= STREAM_ATOL


@dataclass
class VariantFigures:
    name: str
    passes: list[str]
    error: str | None = None  # the pass failed: why
    methods: dict[str, MethodFigures] = field(default_factory=dict)
    check: str = ""  # the checker's verdict: pass, warn or fail
    check_problems: list[str] = field(default_factory=list)
    size_bytes: int = 0

    def as_dict(self) -> dict:
        out = asdict(self)
        for figures in out["methods"].values():
            if math.isinf(figures["snr_db"]):
                figures["snr_db"] = None  # JSON has no inf: None means "no difference at all"
        return out


def method_params(model: torch.jit.ScriptModule) -> dict[str, probe.MethodParams]:
    out = {}
    for name in read.read_methods(model).names:
        if probe.has_method(model, name):
            out[name] = read.method_params(model, name)
    return out


def _run_signals(
    load: probe.Loader, method: str, params: probe.MethodParams, rate: int
) -> torch.Tensor:
    """Each test signal on a fresh load (seed 0), outputs concatenated along time."""
    outs = []
    for x in probe_signals(params, SIGNAL_SAMPLES, rate).values():
        outs.append(probe.call(load(), method, x, seed=0).float())
    return torch.cat(outs, -1)


def error_figures(want: torch.Tensor, got: torch.Tensor) -> tuple[float, float]:
    """(SNR in dB, peak absolute error) of `got` against `want`."""
    if want.shape != got.shape:
        return -math.inf, math.inf
    diff = (got.double() - want.double()).abs()
    if not bool(torch.isfinite(diff).all()):
        return -math.inf, math.inf
    noise = float(diff.pow(2).sum())
    signal = float(want.double().pow(2).sum())
    peak = float(diff.max()) if diff.numel() else 0.0
    if noise == 0.0:
        return math.inf, peak
    if signal == 0.0:
        return -math.inf, peak
    return 10.0 * math.log10(signal / noise), peak


def stream_diff(
    load: probe.Loader, method: str, params: probe.MethodParams, max_ratio: int
) -> float | None:
    """max |chunked - whole| for random chunk sizes; None when the method draws random numbers
    (two seeds differ), where chunked and whole runs cannot be compared."""
    total = max(8 * max_ratio, 8192)
    gen = torch.Generator().manual_seed(7)
    x = torch.rand(1, params.in_channels, params.in_frames(total), generator=gen) - 0.5
    whole = probe.call(load(), method, x, seed=0)
    if not probe.allclose(probe.call(load(), method, x, seed=1), whole, STREAM_ATOL):
        return None
    chunks = random_chunks(total, max_ratio, max(max_ratio, 2048), random.Random(0))
    got = probe.call_chunked(load(), method, x, chunks, params)
    return probe.max_abs_diff(got, whole)


def check_verdict(data: bytes, rate: int | None) -> tuple[str, list[str]]:
    """The checker on the variant's bytes (quick, no timing): its verdict and the lines of its
    failures and warnings."""
    with tempfile.TemporaryDirectory(prefix="nn_tilde_optimize_") as tmp:
        path = Path(tmp) / "variant.ts"
        path.write_bytes(data)
        report = check_file(path, CheckOptions.quick(speed=False, sample_rate=rate))
    status = report.status_of()
    problems = [
        f"{f.status}: {(f.method + ': ') if f.method else ''}{f.message}"
        for f in report.findings
        if f.status in (FAIL, WARN)
    ]
    return (status if status in (PASS, WARN, FAIL) else PASS), problems


def time_figures(
    data: bytes,
    method: str,
    params: probe.MethodParams,
    buffer: int,
    threads: int,
    rate: int,
    seconds: float,
) -> speed.Timing:
    """Timed as `nn-tilde bench` times: fresh load told the host rate, consecutive calls."""
    path_load = probe.told_rate(probe.loader_from_bytes(data), rate)
    return speed.time_method(path_load, method, params, buffer, threads, rate, seconds)

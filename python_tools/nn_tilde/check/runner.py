"""`check_file`: run every check on an nn~ model file and collect a `Report`.

Works on any file `torch.jit.load` reads; the author's Python code is never needed.
"""

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch

from nn_tilde.check import behaviour as beh
from nn_tilde.check import structure as con
from nn_tilde.check.report import FAIL, MODEL, PASS, WARN, Report
from nn_tilde.host import probe
from nn_tilde.host import timing as speed

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
T = TypeVar("T")


def stderr_progress(message: str) -> None:
    print(f"[nn-tilde] {message}", file=sys.stderr, flush=True)


@dataclass
class CheckOptions:
    """Knobs of `nn-tilde check`; `quick()` keeps every check but shrinks the work."""

    host_torch: str = field(default_factory=lambda: torch.__version__)
    sample_rate: int | None = None  # host rate; default: the model's own rate, else 44100
    largest_buffer: int = 16384
    chunk_trials: int = 3
    seed: int = 0
    speed: bool = True
    speed_seconds: float = 0.3
    speed_buffers: list[int] | None = None  # default: largest ratio (>= 256), 2048, 8192
    threads: list[int] | None = None  # default: 1 and all cores
    methods: list[str] | None = None  # default: every method

    @classmethod
    def quick(cls, **overrides: object) -> "CheckOptions":
        base = {"largest_buffer": 4096, "chunk_trials": 2, "speed_seconds": 0.05}
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


def host_loader(path: Path, rate: int | None) -> probe.Loader:
    """Fresh loads of the file, each told the host rate with set_sample_rate (if any)."""
    raw = probe.loader_from_path(path)
    if rate is None:
        return raw

    def load() -> torch.jit.ScriptModule:
        model = raw()
        if probe.has_method(model, "set_sample_rate"):
            model.set_sample_rate(rate)  # what the host does right after loading
        return model

    return load


class _Guard:
    """Turns an exception escaping a check into a FAIL finding, so one bad method or getter
    never stops the report."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def run(self, check: str, method: str, default: T, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(*args)
        except Exception as exc:
            self.report.add(
                FAIL,
                check,
                f"raised during the {check} check: {beh.error_line(exc)}; every method the "
                f"host calls must run on any input nn~ can send",
                method=method,
            )
            return default


def _own_rate(model: torch.jit.ScriptModule) -> int:
    own = -1
    if probe.has_method(model, "get_model_sample_rate"):
        own = int(model.get_model_sample_rate())
    if own <= 0 and probe.has_method(model, "get_sample_rate"):
        own = int(model.get_sample_rate())
    return own


def check_file(
    path: str | Path, options: CheckOptions | None = None, progress: Progress | None = None
) -> Report:
    """Check one model file; never raises for a bad model (problems become findings).

    Raises ValueError only for a bad request: `options.methods` naming a method the file lacks.
    """
    options = options or CheckOptions()
    say = progress or (lambda _msg: None)
    path = Path(path)
    report = Report(str(path))
    report.info.update(con.archive_info(path))
    say(f"loading {path}")
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        report.add(
            FAIL,
            "load",
            f"torch.jit.load failed: {beh.error_line(exc)}. Is this a "
            f"TorchScript file written by torch.jit.save (not torch.save)?",
        )
        return report
    report.add(PASS, "load", "loads with torch.jit.load")
    g = _Guard(report)
    g.run("torch_version", MODEL, None, con.check_torch_version, report, model, options.host_torch)
    methods = g.run("contract.methods", MODEL, {}, con.check_methods, report, model)
    g.run("attribute", MODEL, None, con.check_attributes, report, model)
    g.run("clean_state", MODEL, None, con.check_clean_state, report, model)
    own = g.run("sample_rate", MODEL, -1, _own_rate, model)
    host_rate = options.sample_rate or (own if own > 0 else 44100)
    rate = g.run(
        "sample_rate",
        MODEL,
        host_rate,
        con.check_sample_rate,
        report,
        torch.jit.load(str(path)),
        host_rate,
    )
    report.info["methods"] = list(methods)
    if not methods:
        return report
    # The host's buffer is at least the largest ratio of all methods, filtered or not.
    max_ratio = max(max(p.in_ratio, p.out_ratio) for p in methods.values())
    if options.methods:
        unknown = [m for m in options.methods if m not in methods]
        if unknown:  # a usage error, not a model failure
            raise ValueError(f"no nn~ method {unknown[0]!r} in {path}; it has {sorted(methods)}")
        methods = {m: p for m, p in methods.items() if m in options.methods}
    if not methods:
        return report
    load = host_loader(path, host_rate)
    sizes = beh.buffer_sizes(max_ratio, options.largest_buffer)
    samples = max(2 * max_ratio, 4096)
    for name, params in methods.items():
        say(f"checking {name} {params}")
        if not g.run("shape", name, False, beh.check_shapes, report, load, name, params, sizes):
            continue
        args = (report, load, name, params)
        if g.run("fresh_loads", name, False, beh.check_determinism, *args, samples):
            g.run("batch", name, None, beh.check_batch, *args, samples)
            g.run(
                "chunk",
                name,
                None,
                beh.check_chunks,
                *args,
                max_ratio,
                options.chunk_trials,
                options.seed,
            )
        declared = g.run("latency", name, None, probe.declared_latency, model, name)
        g.run("latency", name, None, beh.check_latency, *args, declared, max_ratio)
        g.run("reset", name, None, beh.check_reset, *args, samples)
        g.run("numerics", name, None, beh.check_numerics, *args, max(samples, 8192), rate)
        g.run("test_vector", name, None, beh.check_test_vector, report, load, name)
    if options.speed:
        run_speed(report, load, methods, max_ratio, host_rate, options, say)
    return report


def run_speed(
    report: Report,
    load: probe.Loader,
    methods: dict[str, probe.MethodParams],
    max_ratio: int,
    rate: int,
    options: CheckOptions,
    say: Progress,
) -> None:
    buffers = options.speed_buffers or sorted(
        {max(max_ratio, 256), max(max_ratio, 2048), max(max_ratio, 8192)}
    )
    threads = options.threads or sorted({1, speed.all_threads()})
    rows = []
    for name, params in methods.items():
        timings = []
        for buffer in buffers:
            for n in threads:
                say(f"timing {name} buffer {buffer} threads {n}")
                timings.append(
                    speed.time_method(
                        load, name, params, buffer, n, rate, seconds=options.speed_seconds
                    )
                )
        rows.extend(t.as_dict() for t in timings)
        ok = [t for t in timings if t.p99_ms < t.period_ms]
        if not ok:
            report.add(
                FAIL,
                "speed",
                f"too slow at {rate} Hz for every tested buffer "
                f"{buffers}: p99 above the buffer period; use a smaller model or a "
                f"larger buffer",
                method=name,
            )
        elif len(ok) < len(timings):
            slow = sorted({(t.buffer, t.threads) for t in timings if t not in ok})
            report.add(
                WARN,
                "speed",
                f"drops out at (buffer, threads) {slow}; safe at "
                f"{sorted({(t.buffer, t.threads) for t in ok})}",
                method=name,
            )
        else:
            best = min(ok, key=lambda t: t.buffer)
            report.add(
                PASS,
                "speed",
                f"real time at every tested buffer (rtf {best.rtf:.3f} at {best.buffer})",
                method=name,
            )
    report.info["speed"] = rows


__all__ = ["FAIL", "PASS", "WARN", "CheckOptions", "check_file", "stderr_progress"]

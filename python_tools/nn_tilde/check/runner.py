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

from nn_tilde import contract
from nn_tilde.check import behaviour as beh
from nn_tilde.check import structure as con
from nn_tilde.check.report import FAIL, MODEL, PASS, SKIP, WARN, Report
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

    # as nn~ names its libtorch: no local tag ("2.13.0", not "2.13.0+cpu")
    host_torch: str = field(default_factory=lambda: torch.__version__.split("+")[0])
    sample_rate: int | None = None  # host rate; default: the model's own rate, else 44100
    largest_buffer: int = 16384
    chunk_trials: int = 3
    seed: int = 0
    speed: bool = True
    speed_seconds: float = 0.3
    speed_buffers: list[int] | None = None  # default: largest ratio (>= 256), 2048, 8192
    threads: list[int] | None = None  # default: 1 and all cores
    methods: list[str] | None = None  # default: every method
    budget: float = (
        60.0  # estimated seconds of model calls per method; checks beyond it are skipped
    )

    @classmethod
    def quick(cls, **overrides: object) -> "CheckOptions":
        base = {"largest_buffer": 4096, "chunk_trials": 2, "speed_seconds": 0.05}
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


def host_loader(path: Path, rate: int | None) -> probe.Loader:
    """Fresh loads of the file, each told the host rate with set_sample_rate (if any), as nn~
    does; a set_sample_rate that raises is the file's problem (rate.error), not the loader's."""
    raw = probe.loader_from_path(path)
    return raw if rate is None else probe.told_rate(raw, rate)


class _Guard:
    """Runs each check so that nothing the model does stops the report: an exception becomes a
    finding (a warning: nn~ plays a file whose load-time calls pass), and a check whose
    estimated cost exceeds what is left of the method's time budget is skipped and says so."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def run(self, check: str, method: str, default: T, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(*args)
        except Exception as exc:
            self.report.add(
                WARN,
                check,
                f"raised during the {check} check: {beh.error_line(exc)}; a method should run "
                f"on any input nn~ can send",
                method=method,
            )
            return default


class _Budget:
    """Estimated seconds of model calls left for one method, from the cost of one call of
    `buffer` samples measured at warm-up (calls cost about their length in samples)."""

    def __init__(self, seconds: float, call_seconds: float, buffer: int) -> None:
        self.left = seconds
        self.per_sample = call_seconds / max(buffer, 1)

    def take(self, samples: float) -> float | None:
        """Spend the cost of processing `samples` host samples; None when it does not fit
        (nothing is spent), else the estimated seconds."""
        cost = samples * self.per_sample
        if cost > self.left:
            return None
        self.left -= cost
        return cost


def check_file(
    path: str | Path, options: CheckOptions | None = None, progress: Progress | None = None
) -> Report:
    """Check one model file as nn~ would load and play it; never raises for a bad model (its
    problems become findings: failures exactly where nn~ refuses the file, warnings elsewhere).

    Raises ValueError only for a bad request: `options.methods` naming a method the file lacks.
    """
    options = options or CheckOptions()
    say = progress or (lambda _msg: None)
    path = Path(path)
    report = Report(str(path))
    if not _readable(report, path):
        return report
    report.info.update(con.archive_info(path))
    say(f"loading {path}")
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        fields = {"path": str(path), "error": beh.error_line(exc)}
        report.add_problem(contract.Problem("file.torchscript", fields))
        return report
    report.add(PASS, "load", "loads with torch.jit.load")
    g = _Guard(report)
    try:
        methods = con.check_methods(report, model)
    except Exception as exc:
        report.add_problem(contract.Problem("contract.read", {"error": beh.error_line(exc)}))
        return report
    report.info["methods"] = list(methods)
    g.run("torch_version", MODEL, None, con.check_torch_version, report, model, options.host_torch)
    g.run("attributes", MODEL, None, con.check_attributes, report, model)
    g.run("clean_state", MODEL, None, con.check_clean_state, report, model)
    if not methods:
        return report
    own = g.run("sample_rate", MODEL, -1, con.own_sample_rate, model)
    host_rate = options.sample_rate or (own if own > 0 else 44100)
    fresh = probe.loader_from_path(path)
    rate = g.run("sample_rate", MODEL, host_rate, con.check_sample_rate, report, fresh(), host_rate)
    multiple = contract.buffer_multiple(methods.values())
    buffer = contract.default_buffer(multiple)
    report.info["buffer"] = buffer
    load = host_loader(path, host_rate)
    say(f"warm-up: each method on {buffer} samples of zeros, as nn~ does at load")
    try:
        cost = beh.check_warm_up(report, load, methods, buffer)
    except Exception as exc:  # the load itself failed (e.g. out of memory)
        fields = {"method": next(iter(methods)), "error": beh.error_line(exc)}
        report.add_problem(contract.Problem("call.throws", fields))
        return report
    if report.refusals():
        return report  # nn~ refuses the file: the rest would describe a model nobody hears
    # The host's buffer is at least the largest ratio of all methods, filtered or not.
    max_ratio = max(max(p.in_ratio, p.out_ratio) for p in methods.values())
    if options.methods:
        unknown = [m for m in options.methods if m not in methods]
        if unknown:  # a usage error, not a model failure
            raise ValueError(f"no nn~ method {unknown[0]!r} in {path}; it has {sorted(methods)}")
        methods = {m: p for m, p in methods.items() if m in options.methods}
    sizes = beh.buffer_sizes(max_ratio, options.largest_buffer)
    samples = max(2 * max_ratio, 4096)
    for name, params in methods.items():
        say(f"checking {name} {params.as_list()}")
        budget = _Budget(options.budget, cost.get(name, 0.0), buffer)
        declared = g.run("latency", name, None, probe.declared_latency, model, name)
        long = beh.random_probe_samples(max_ratio, declared)
        steps: list[tuple[str, float, Callable[..., object], tuple]] = [
            ("buffer_sizes", sum(sizes), beh.check_shapes, (report, load, name, params, sizes)),
            ("fresh_loads", 3 * long, beh.check_determinism, (report, load, name, params, long)),
        ]
        kind = "deterministic"
        for check, work, fn, args in steps:
            if not _affordable(report, budget, check, name, work, options.budget):
                kind = "unknown"
                continue
            result = g.run(check, name, None, fn, *args)
            if check == "fresh_loads":
                kind = result or "unstable"
        args = (report, load, name, params)
        chunk_total = max(8 * max_ratio, 8192)
        rand = kind == "random"
        later: list[tuple[str, float, Callable[..., object], tuple]] = []
        if kind in ("deterministic", "random"):
            later += [
                ("batch", (12 if rand else 8) * samples, beh.check_batch, (*args, samples, rand)),
                (
                    "chunk",
                    (options.chunk_trials + 2) * chunk_total,
                    beh.check_chunks,
                    (*args, max_ratio, options.chunk_trials, options.seed, rand),
                ),
            ]
        later += [
            (
                "latency",
                6 * max(16384, declared or 0),
                beh.check_latency,
                (*args, declared, max_ratio),
            ),
            ("reset", 4 * samples, beh.check_reset, (*args, samples)),
            (
                "numerics",
                5 * max(samples, 8192),
                beh.check_numerics,
                (*args, max(samples, 8192), rate),
            ),
            ("test_vector", samples, beh.check_test_vector, (report, load, name)),
        ]
        for check, work, fn, call_args in later:
            if _affordable(report, budget, check, name, work, options.budget):
                g.run(check, name, None, fn, *call_args)
    if options.speed:
        g.run(
            "speed",
            MODEL,
            None,
            run_speed,
            report,
            load,
            methods,
            max_ratio,
            host_rate,
            options,
            say,
            cost,
            buffer,
        )
    return report


def check_file_safely(
    path: str | Path, options: CheckOptions | None = None, progress: Progress | None = None
) -> Report:
    """`check_file`, and a report even if the checker itself breaks (a bug of ours, or a model
    that kills an interpreter-level invariant): the report then fails and says so."""
    try:
        return check_file(path, options, progress)
    except ValueError:
        raise
    except Exception as exc:
        log.debug("checker error", exc_info=True)
        report = Report(str(path))
        report.add(
            FAIL,
            "checker",
            f"the checker itself failed ({type(exc).__name__}: {beh.error_line(exc)}); "
            f"please report it with this file",
        )
        return report


def file_report(path: Path) -> Report | None:
    """The report of a path nn~ cannot even open (missing, a folder, empty); None otherwise."""
    report = Report(str(path))
    return None if _readable(report, path) else report


def _readable(report: Report, path: Path) -> bool:
    """The file rules nn~ applies before torch sees the file."""
    if path.is_dir():
        report.add_problem(contract.Problem("file.folder", {"path": str(path)}))
        return False
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        report.add_problem(contract.Problem("file.missing", {"path": str(path), "reason": reason}))
        return False
    if size == 0:
        report.add_problem(contract.Problem("file.empty", {"path": str(path)}))
        return False
    return True


def _affordable(
    report: Report, budget: _Budget, check: str, method: str, samples: float, total: float
) -> bool:
    if budget.take(samples) is not None:
        return True
    report.add(
        SKIP,
        check,
        f"skipped: at this method's speed it would take about {samples * budget.per_sample:.0f} "
        f"s, beyond what is left of the {total:g} s budget (--budget)",
        method=method,
    )
    return False


def run_speed(
    report: Report,
    load: probe.Loader,
    methods: dict[str, probe.MethodParams],
    max_ratio: int,
    rate: int,
    options: CheckOptions,
    say: Progress,
    cost: dict[str, float] | None = None,
    warm_buffer: int = 2048,
) -> None:
    """Time each method at several buffer sizes and thread counts. A method whose warm-up call
    was already slower than real time gets its verdict from that call alone (seconds, not
    minutes); a grid that would not fit the time budget shrinks to nn~'s default buffer."""
    buffers = options.speed_buffers or sorted(
        {max(max_ratio, 256), max(max_ratio, 2048), max(max_ratio, 8192)}
    )
    threads = options.threads or sorted({1, speed.all_threads()})
    period = warm_buffer / float(rate)
    rows = []
    for name, params in methods.items():
        seconds = (cost or {}).get(name)
        if seconds is not None and seconds > period:
            report.add(
                WARN,
                "speed",
                f"{period / seconds:.2f}x real time at buffer {warm_buffer} ({1e3 * seconds:.0f} "
                f"ms per call for {1e3 * period:.0f} ms of audio): nn~ plays it with gaps; use a "
                f"smaller model, a larger buffer or fewer objects",
                method=name,
                rtf=seconds / period,
            )
            continue
        grid = [(b, n) for b in buffers for n in threads]
        per_sample = (seconds or 0.0) / warm_buffer
        estimate = sum(max(options.speed_seconds, 8 * b * per_sample) for b, _ in grid)
        if estimate > options.budget:
            grid = [(warm_buffer, 1)]
        timings = []
        for buffer, n in grid:
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
                WARN,
                "speed",
                f"too slow at {rate} Hz for every tested buffer "
                f"{sorted({t.buffer for t in timings})}: p99 above the buffer period; nn~ plays "
                f"it with gaps. Use a smaller model or a larger buffer",
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

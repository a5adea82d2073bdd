"""`nn-tilde bench`: real-time factor and latency across sample rates × buffers × threads."""

from dataclasses import dataclass, field
from pathlib import Path

import torch

from nn_tilde import contract
from nn_tilde.check.runner import Progress, host_loader
from nn_tilde.host import probe, read
from nn_tilde.host import timing as speed


@dataclass
class BenchOptions:
    sample_rates: list[int] = field(default_factory=lambda: [44100, 48000])
    buffers: list[int] | None = None  # default 64..8192, rounded up to the ratios as nn~ does
    threads: list[int] | None = None  # default: 1 and all cores
    seconds: float = 0.5
    headroom: float = 0.7  # p99 must stay below this share of the buffer period
    methods: list[str] | None = None
    quick: bool = False  # default buffers: only two (256 and 2048, rounded up as nn~ does)


@dataclass
class BenchResult:
    rows: list[dict] = field(default_factory=list)
    recommendation: dict[str, dict] = field(default_factory=dict)  # per method, None if none

    def to_json(self) -> dict:
        return {"rows": self.rows, "recommendation": self.recommendation}


def run_bench(path: str | Path, options: BenchOptions, progress: Progress) -> BenchResult:
    """Time every method; recommend per method the lowest-latency safe setting."""
    model = torch.jit.load(str(path), map_location="cpu")
    # The methods whose params nn~ accepts, as nn~ reads them (a refused one is left out).
    methods = read.read_methods(model).params
    if not methods:
        raise ValueError(f"{path} has no method nn~ accepts; run `nn-tilde check {path}`")
    # nn~'s buffer is a multiple of every ratio of every method (docs/MODEL_FORMAT.md).
    multiple = contract.buffer_multiple(methods.values())
    limit = contract.buffer_problem(methods.values())
    if limit is not None:
        raise ValueError(limit.message)
    if options.methods:
        unknown = sorted(set(options.methods) - set(methods))
        if unknown:
            raise ValueError(f"no method {unknown[0]!r} in {path}; it has {sorted(methods)}")
        methods = {m: p for m, p in methods.items() if m in options.methods}
    if options.buffers:
        wanted = options.buffers
    elif options.quick:
        wanted = [256, 2048]
    else:
        wanted = [64, 128, 256, 512, 1024, 2048, 4096, 8192]
    # what nn~ plays for each: the size rounded up to a multiple of the ratios
    buffers = sorted({contract.choose_buffer_size(b, multiple)[0] for b in wanted})
    threads = options.threads or sorted({1, speed.all_threads()})
    result = BenchResult()
    for name, params in methods.items():
        latency = probe.declared_latency(model, name) or 0
        safe = []
        for rate in options.sample_rates:
            load = host_loader(Path(path), rate)
            for buffer in buffers:
                for n in threads:
                    progress(f"bench {name} sr {rate} buffer {buffer} threads {n}")
                    t = speed.time_method(load, name, params, buffer, n, rate, options.seconds)
                    row = t.as_dict()
                    # One buffer of hand-off delay in the host plus the model's own latency.
                    row["latency_ms"] = 1e3 * (buffer + latency) / rate
                    row["safe"] = t.p99_ms <= options.headroom * t.period_ms
                    result.rows.append(row)
                    if row["safe"]:
                        safe.append(row)
        best = min(safe, key=lambda r: (r["latency_ms"], r["threads"])) if safe else None
        result.recommendation[name] = best
    return result


def format_table(result: BenchResult, headroom: float) -> str:
    lines = [
        "method       sr     buffer threads  p50ms   p99ms   rtf    late%  latency_ms safe"
        "  cpu_ms  x_rt_cpu"
    ]
    for r in result.rows:
        lines.append(
            f"{r['method'][:12]:12} {r['sample_rate']:6} {r['buffer']:6} {r['threads']:7} "
            f"{r['p50_ms']:7.3f} {r['p99_ms']:7.3f} {r['rtf']:6.3f} {100 * r['late_share']:6.1f} "
            f"{r['latency_ms']:10.2f} {'yes' if r['safe'] else 'no ':4} {r['cpu_mean_ms']:7.3f} "
            f"{r['cpu_speed']:9.1f}"
        )
    for name, best in result.recommendation.items():
        if best is None:
            lines.append(
                f"{name}: no tested setting keeps p99 under {headroom:.0%} of the buffer "
                f"period; try larger buffers (--buffers) or a lighter model"
            )
        else:
            lines.append(
                f"{name}: recommended sr {best['sample_rate']} buffer {best['buffer']} threads "
                f"{best['threads']} (latency {best['latency_ms']:.2f} ms, p99 "
                f"{best['p99_ms']:.3f} ms of {best['period_ms']:.3f} ms)"
            )
    return "\n".join(lines)

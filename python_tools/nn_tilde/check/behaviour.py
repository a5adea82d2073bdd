"""Behaviour checks on fresh loads: shapes, batch, determinism, chunking, latency, reset,
numerics and embedded test vectors. Each function adds findings for one method."""

import math
import random
import time

import torch

from nn_tilde import contract
from nn_tilde.check.report import PASS, SKIP, WARN, Report
from nn_tilde.host import probe, read
from nn_tilde.host.read import error_line

ATOL = 1e-4


def buffer_sizes(max_ratio: int, largest: int = 16384) -> list[int]:
    """Every power of two from the largest ratio to `largest` (the host's possible buffers)."""
    sizes, size = [], max(1, max_ratio)
    while size <= max(largest, max_ratio):
        sizes.append(size)
        size *= 2
    return sizes


def _noise(
    params: probe.MethodParams, host_samples: int, seed: int, batch: int = 1
) -> torch.Tensor:
    """Uniform noise in [-0.5, 0.5): x: [batch, in_channels, host_samples // in_ratio]."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, params.in_channels, params.in_frames(host_samples), generator=gen)
    return x - 0.5


def check_warm_up(
    report: Report, load: probe.Loader, methods: dict[str, probe.MethodParams], buffer: int
) -> dict[str, float]:
    """What nn~ does at load: on one fresh load, call every method once on a `buffer`-sample
    buffer of zeros (batch 1) and check what comes back. A method that throws or returns the
    wrong type or shape makes nn~ refuse the file. Returns the seconds of a second call of each
    method that passed (the checker's estimate of its cost)."""
    model = load()
    cost: dict[str, float] = {}
    for name, params in methods.items():
        first = read.read_call(model, name, params, buffer)
        for problem in first.problems:
            report.add_problem(problem)
        if first.refused:
            continue
        x = first.input
        want = (1, params.out_channels, params.out_frames(buffer))
        try:
            start = time.perf_counter()
            probe.call(model, name, x, seed=None)
            cost[name] = time.perf_counter() - start
        except Exception as exc:  # nn~ calls the chosen method three times
            fields = {"method": name, "error": error_line(exc)}
            report.add_problem(contract.Problem("call.throws", fields, name))
            continue
        report.add(
            PASS, "warm_up", f"a {buffer}-sample buffer of zeros gives {list(want)}", method=name
        )
    return cost


def check_shapes(
    report: Report, load: probe.Loader, name: str, params: probe.MethodParams, sizes: list[int]
) -> bool:
    """Noise at every buffer size a user may choose; a size that fails is a hint (nn~ refuses
    a `bufsize` it cannot warm up). Returns False when no size works."""
    model = load()
    bad: list[str] = []
    for size in sizes:
        x = _noise(params, size, seed=size)
        want = (1, params.out_channels, params.out_frames(size))
        try:
            y = probe.call(model, name, x)
        except Exception as exc:
            bad.append(f"buffer {size}: raised {error_line(exc)}")
            continue
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != want:
            got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            bad.append(f"buffer {size}: returned {got}, expected {want}")
    if bad:
        report.add(
            WARN,
            "buffer_sizes",
            f"fails at some buffer sizes nn~ can be given ({'; '.join(bad[:3])}); nn~ refuses "
            f"those sizes",
            method=name,
        )
        return len(bad) < len(sizes)
    report.add(
        PASS, "buffer_sizes", f"exact shapes for buffers {sizes[0]}..{sizes[-1]}", method=name
    )
    return True


def _rms(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.shape != b.shape:
        return math.inf
    return float((a.double() - b.double()).pow(2).mean().sqrt()) if a.numel() else 0.0


def random_probe_samples(max_ratio: int, declared_latency: int | None = None) -> int:
    """Host samples of the randomness probe: long enough to pass any state saved in the file
    (a streaming cache covers at most the method's delay) and many frames of the coarsest rate."""
    n = max(32768, 16 * max_ratio, 4 * (declared_latency or 0))
    return -(-n // max_ratio) * max_ratio


def check_determinism(
    report: Report, load: probe.Loader, name: str, params: probe.MethodParams, samples: int
) -> str:
    """Fresh loads, long input: the same seed twice, then another seed. Returns "deterministic",
    "random" (the seed changes the output: the method draws random numbers) or "unstable" (two
    identically seeded fresh loads disagree)."""
    x = _noise(params, samples, seed=11)
    a = probe.call(load(), name, x, seed=0)
    b = probe.call(load(), name, x, seed=0)
    if not probe.allclose(a, b, ATOL):
        report.add(
            WARN,
            "fresh_loads",
            f"two fresh loads disagree on the same input and seed "
            f"(max diff {probe.max_abs_diff(a, b):.3g}); the output depends on something "
            f"outside the file (uninitialised memory, time, global state)",
            method=name,
        )
        return "unstable"
    c = probe.call(load(), name, x, seed=1)
    if a.shape == c.shape and bool(torch.equal(a, c)):
        report.add(PASS, "fresh_loads", "two fresh loads agree; deterministic", method=name)
        return "deterministic"
    report.add(
        PASS,
        "random",
        f"draws random numbers (another seed changes the output by up to "
        f"{probe.max_abs_diff(a, c):.3g} over {samples} samples); batch and chunk runs are "
        f"compared within its own run-to-run variation",
        method=name,
    )
    return "random"


def _within(got: torch.Tensor, want: torch.Tensor, spread: float | None) -> bool:
    """Equal up to ATOL for a deterministic method; for a random one (spread: the RMS difference
    between two seeds), no further apart than three times that spread."""
    if spread is None:
        return probe.allclose(got, want, ATOL)
    return _rms(got, want) <= 3 * spread + ATOL


def check_batch(
    report: Report,
    load: probe.Loader,
    name: str,
    params: probe.MethodParams,
    samples: int,
    random_method: bool = False,
) -> None:
    x = _noise(params, samples, seed=21, batch=4)
    try:
        together = probe.call(load(), name, x)
    except Exception as exc:
        report.add(
            WARN,
            "batch",
            f"raised with batch 4: {error_line(exc)}; mc.nn~ (Max) runs voices as a batch",
            method=name,
        )
        return
    singles = torch.cat([probe.call(load(), name, x[i : i + 1]) for i in range(4)], 0)
    spread = None
    if random_method:
        other = torch.cat([probe.call(load(), name, x[i : i + 1], seed=1) for i in range(4)], 0)
        spread = _rms(singles, other)
    if not _within(together, singles, spread):
        how = (
            f"RMS difference {_rms(together, singles):.3g}, three times its seed-to-seed "
            f"spread {spread:.3g}"
            if spread is not None
            else f"max diff {probe.max_abs_diff(together, singles):.3g}"
        )
        report.add(
            WARN,
            "batch",
            f"a batch of 4 differs from 4 single runs ({how}); batch items must not mix "
            f"(mc.nn~ runs voices as batch items)",
            method=name,
        )
    else:
        report.add(PASS, "batch", "batch of 4 equals 4 single runs", method=name)


def random_chunks(total: int, smallest: int, largest: int, rng: random.Random) -> list[int]:
    """Power-of-two chunk sizes in [smallest, largest] summing to `total` (a multiple)."""
    choices = [s for s in buffer_sizes(smallest, largest) if s <= largest]
    chunks, left = [], total
    while left > 0:
        size = rng.choice([s for s in choices if s <= left] or [smallest])
        chunks.append(size)
        left -= size
    return chunks


def check_chunks(
    report: Report,
    load: probe.Loader,
    name: str,
    params: probe.MethodParams,
    max_ratio: int,
    trials: int,
    seed: int,
    random_method: bool = False,
) -> None:
    total = max(8 * max_ratio, 8192)
    x = _noise(params, total, seed=31)
    whole = probe.call(load(), name, x)
    spread = _rms(whole, probe.call(load(), name, x, seed=1)) if random_method else None
    rng = random.Random(seed)
    largest = max(max_ratio, 2048)
    for _ in range(trials):
        chunks = random_chunks(total, max_ratio, largest, rng)
        got = probe.call_chunked(load(), name, x, chunks, params)
        if not _within(got, whole, spread):
            diff = (got - whole).abs().amax(dim=(0, 1)) if got.shape == whole.shape else None
            first = (
                int(torch.nonzero(diff > ATOL).flatten()[0])
                if diff is not None and bool((diff > ATOL).any())
                else -1
            )
            how = (
                f"RMS difference {_rms(got, whole):.3g}, over three times its seed-to-seed "
                f"spread {spread:.3g}"
                if spread is not None
                else f"max diff {probe.max_abs_diff(got, whole):.3g}, first at output frame {first}"
            )
            report.add(
                WARN,
                "chunk",
                f"output in chunks {chunks[:8]}{'...' if len(chunks) > 8 else ''} "
                f"differs from one call ({how}); the model is not streaming-safe: keep "
                f"state across calls (cached convolutions) instead of zero padding",
                method=name,
                chunks=chunks,
            )
            return
    report.add(PASS, "chunk", f"{trials} random chunk sequences equal one call", method=name)


def check_latency(
    report: Report,
    load: probe.Loader,
    name: str,
    params: probe.MethodParams,
    declared: int | None,
    block: int = 1,
) -> None:
    """Impulse probe of `name`, the event at a multiple of `block` (the largest ratio)."""
    result = probe.measure_latency(
        load, name, params, max_latency=max(16384, declared or 0), block=block
    )
    data = {
        "declared": declared,
        "measured": result.samples,
        "first_reaction": result.first,
        "last_reaction": result.last,
        "probe": result.probe,
        "resolution": result.resolution,
    }
    report.info.setdefault("latency", {})[name] = data
    if result.samples is None:
        status = WARN if declared is not None else SKIP
        report.add(status, "latency", f"could not measure: {result.note}", method=name, **data)
        return
    if result.first is not None and result.first < 0:
        report.add(
            WARN,
            "latency",
            f"output reacts {-result.first} samples before its input: the method looks ahead "
            f"and cannot run causally in real time",
            method=name,
            **data,
        )
        return
    if declared is None:
        report.add(
            PASS,
            "latency",
            f"measured {result.samples} samples ({result.probe} probe); not declared (add "
            f"latency={result.samples} to register_method)",
            method=name,
            **data,
        )
        return
    why = result.contradicts(declared)
    if why is None:
        report.add(
            PASS,
            "latency",
            f"declared {declared} samples, within the response (first reaction {result.first}, "
            f"peak {result.samples}, last {result.last})",
            method=name,
            **data,
        )
    elif result.too_small(declared):
        report.add(
            WARN,
            "latency",
            f"declares {declared} samples but measures {result.samples} ({why}); fix "
            f"{name}_latency",
            method=name,
            **data,
        )
    else:
        report.add(
            WARN,
            "latency",
            f"declares {declared} samples but measures {result.samples} ({why}); check "
            f"{name}_latency",
            method=name,
            **data,
        )


def check_reset(
    report: Report, load: probe.Loader, name: str, params: probe.MethodParams, samples: int
) -> None:
    model = load()
    if not probe.has_method(model, "reset"):
        report.add(SKIP, "reset", "no reset() method", method=name)
        return
    probe.call(model, name, _noise(params, samples, seed=41))
    try:
        model.reset()
    except Exception as exc:
        report.add(WARN, "reset", f"reset() raised {error_line(exc)}", method=name)
        return
    x = _noise(params, samples, seed=42)
    after = probe.call(model, name, x)
    # reset() must bring the model to one state whatever it did before: compare with a fresh
    # load reset the same way (a file may be saved with caches a reset clears)
    other = load()
    other.reset()
    fresh = probe.call(other, name, x)
    if not probe.allclose(after, fresh, ATOL):
        report.add(
            WARN,
            "reset",
            f"reset() does not restore the fresh state (max diff "
            f"{probe.max_abs_diff(after, fresh):.3g}); clear every cache in reset()",
            method=name,
        )
    else:
        report.add(PASS, "reset", "reset() restores the fresh state", method=name)


def probe_signals(params: probe.MethodParams, samples: int, rate: int) -> dict[str, torch.Tensor]:
    """Silence, full-scale noise, a sine, DC and a clipped square, decimated like the host."""
    t = torch.arange(samples, dtype=torch.float64) / rate
    gen = torch.Generator().manual_seed(51)
    host = {
        "silence": torch.zeros(samples, dtype=torch.float64),
        "noise": torch.rand(samples, generator=gen, dtype=torch.float64) * 2 - 1,
        "sine": torch.sin(2 * math.pi * 440.0 * t),
        "dc": torch.ones(samples, dtype=torch.float64),
        "square": torch.clamp(3.0 * torch.sign(torch.sin(2 * math.pi * 110.0 * t)), -1, 1),
    }
    out = {}
    for key, sig in host.items():
        # The host keeps the last sample of each in_ratio group.
        frames = sig[params.in_ratio - 1 :: params.in_ratio].float()
        out[key] = frames.view(1, 1, -1).expand(1, params.in_channels, -1).contiguous()
    return out


def check_numerics(
    report: Report,
    load: probe.Loader,
    name: str,
    params: probe.MethodParams,
    samples: int,
    rate: int,
) -> None:
    stats = {}
    for key, x in probe_signals(params, samples, rate).items():
        y = probe.call(load(), name, x)
        finite = bool(torch.isfinite(y).all())
        peak = float(y.abs().max()) if finite and y.numel() else float("nan")
        dc = float(y.mean()) if finite and y.numel() else float("nan")
        stats[key] = {"finite": finite, "peak": peak, "dc": dc}
        if not finite:
            report.add(
                WARN,
                "numerics",
                f"NaN or Inf in the output for {key} input (nn~ replaces them by 0); guard "
                f"divisions/logs (add an epsilon, clamp)",
                method=name,
                signal=key,
            )
            report.info.setdefault("numerics", {})[name] = stats
            return
    report.info.setdefault("numerics", {})[name] = stats
    summary = ", ".join(f"{k} peak {v['peak']:.3g} dc {v['dc']:.3g}" for k, v in stats.items())
    loud = [k for k, v in stats.items() if v["peak"] > 1.0]
    if params.out_ratio == 1 and loud:
        report.add(
            WARN,
            "numerics",
            f"audio output exceeds full scale (clips in the DAC) for {', '.join(loud)}: {summary}",
            method=name,
        )
    else:
        report.add(PASS, "numerics", summary, method=name)


def check_test_vector(report: Report, load: probe.Loader, name: str) -> None:
    """The embedded test vector, verified as nn~ does at load (fresh load, seed 0, one call)."""
    model = load()
    x = probe.buffer_value(model, f"{name}_test_input")
    want = probe.buffer_value(model, f"{name}_test_output")
    if x is None or want is None:
        report.add(SKIP, "test_vector", "no embedded test vector", method=name)
        return
    try:
        got = probe.call(model, name, x, seed=0)
    except Exception as exc:
        fields = {"method": name, "error": error_line(exc)}
        report.add_problem(contract.Problem("test_vector.error", fields, name))
        return
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        fields = {"method": name, "error": f"returned {shape}, the file says {list(want.shape)}"}
        report.add_problem(contract.Problem("test_vector.error", fields, name))
        return
    diff = float((got.float() - want.float()).abs().max())
    tolerance = 1e-4 + 1e-3 * float(want.float().abs().max())
    if diff > tolerance:
        fields = {"method": name, "diff": f"{diff:.3g}"}
        report.add_problem(contract.Problem("test_vector.mismatch", fields, name))
    else:
        report.add(PASS, "test_vector", "reproduces its embedded test output", method=name)

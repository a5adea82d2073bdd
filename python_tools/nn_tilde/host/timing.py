"""Timing of model calls as nn~ makes them: one call per host buffer, fixed buffer size."""

import os
import time
from dataclasses import asdict, dataclass

import torch

from nn_tilde.host import probe


@dataclass
class Timing:
    """Per-call statistics for one method × buffer size × thread count × sample rate."""

    method: str
    buffer: int
    threads: int
    sample_rate: int
    calls: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    period_ms: float
    rtf: float  # mean compute time / buffer duration: below 1 keeps up on average
    late_share: float  # share of calls slower than the buffer period (each one is a dropout)
    cold_ms: float  # first call on a fresh load
    # mean CPU time per call (the calling thread's with 1 thread, where it does all the work;
    # else all of this process's threads, idle-spinning OpenMP workers included): unlike the
    # wall-clock figures it barely grows when other processes share the cores, so it is the
    # fairer speed figure on a loaded machine; cpu_speed = buffer duration / cpu_mean_ms
    # ("x real time" on that CPU)
    cpu_mean_ms: float = 0.0
    cpu_speed: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def all_threads() -> int:
    return max(1, os.cpu_count() or 1)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def time_method(
    load: probe.Loader,
    method: str,
    params: probe.MethodParams,
    buffer: int,
    threads: int,
    sample_rate: int,
    seconds: float = 0.5,
    max_calls: int = 200,
    min_calls: int = 5,
) -> Timing:
    """Time consecutive calls on one fresh load for about `seconds` (at least `min_calls`)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = load()
        x = torch.rand(1, params.in_channels, params.in_frames(buffer)) * 0.2 - 0.1
        fn = getattr(model, method)
        with torch.no_grad():
            start = time.perf_counter()
            fn(x)
            cold = time.perf_counter() - start
            # TorchScript's profiling executor optimises the graph on the next calls (the second
            # one can take as long as the first); a host warms up at load, so these are not timed
            for _ in range(2):
                fn(x)
            durations: list[float] = []
            cpu = 0.0
            # with one thread, process time would also count OpenMP workers still spinning
            # after an earlier multi-threaded call
            clock = time.thread_time if threads == 1 else time.process_time
            deadline = time.perf_counter() + seconds
            while len(durations) < max_calls and (
                len(durations) < min_calls or time.perf_counter() < deadline
            ):
                cpu_start = clock()
                start = time.perf_counter()
                fn(x)
                durations.append(time.perf_counter() - start)
                cpu += clock() - cpu_start
    finally:
        torch.set_num_threads(previous)
    durations.sort()
    period = buffer / float(sample_rate)
    mean = sum(durations) / len(durations)
    return Timing(
        method=method,
        buffer=buffer,
        threads=threads,
        sample_rate=sample_rate,
        calls=len(durations),
        p50_ms=1e3 * _percentile(durations, 0.5),
        p99_ms=1e3 * _percentile(durations, 0.99),
        max_ms=1e3 * durations[-1],
        mean_ms=1e3 * mean,
        period_ms=1e3 * period,
        rtf=mean / period,
        late_share=sum(1 for d in durations if d > period) / len(durations),
        cold_ms=1e3 * cold,
        cpu_mean_ms=1e3 * cpu / len(durations),
        cpu_speed=period / max(cpu / len(durations), 1e-9),
    )

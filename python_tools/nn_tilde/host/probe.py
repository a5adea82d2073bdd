"""Run and inspect nn~ model files with nothing but torch: shared by export, check and bench.

Everything here works on a `torch.jit.ScriptModule` as loaded by `torch.jit.load`, so it applies to
any nn~ model file (ours, RAVE exports, the reference package's) without the author's Python code.
"""

import contextlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from nn_tilde.contract import MethodParams, is_power_of_two

__all__ = ["Loader", "MethodParams", "is_power_of_two"]  # re-exported for the kit's users

Loader = Callable[[], torch.jit.ScriptModule]


def next_power_of_two(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(1, n))))


def loader_from_path(path: str | Path) -> Loader:
    """A function giving a fresh (clean-state) load of the file at each call."""
    data = Path(path).read_bytes()
    return loader_from_bytes(data)


def loader_from_bytes(data: bytes) -> Loader:
    def load() -> torch.jit.ScriptModule:
        model = torch.jit.load(io.BytesIO(data), map_location="cpu")
        model.eval()
        return model

    return load


def told_rate(raw: Loader, rate: int) -> Loader:
    """Fresh loads from `raw`, each told the host rate with set_sample_rate (if any), as nn~ does. A
    set_sample_rate that raises is the file's problem (the checker's rate.error), not the loader's:
    the model then plays at its own rate."""

    def load() -> torch.jit.ScriptModule:
        model = raw()
        if has_method(model, "set_sample_rate"):
            with contextlib.suppress(Exception):
                model.set_sample_rate(rate)
        return model

    return load


def has_method(model: torch.jit.ScriptModule, name: str) -> bool:
    return bool(model._c._has_method(name))


def optional_attr(model: torch.jit.ScriptModule, name: str) -> object | None:
    if model._c.hasattr(name):
        return getattr(model, name)
    return None


def buffer_value(model: torch.jit.ScriptModule, name: str) -> torch.Tensor | None:
    """A module-level buffer (or tensor attribute) by name, None when absent."""
    value = optional_attr(model, name)
    return value if isinstance(value, torch.Tensor) else None


def declared_latency(model: torch.jit.ScriptModule, method: str) -> int | None:
    """The extension `<method>_latency` buffer (host samples), None when not declared."""
    value = buffer_value(model, f"{method}_latency")
    if value is None or value.numel() != 1:
        return None
    return int(value.flatten()[0].item())


def call(
    model: torch.jit.ScriptModule, method: str, x: torch.Tensor, seed: int | None = 0
) -> torch.Tensor:
    """model.method(x) without gradients; seeds torch's RNG first when seed is not None."""
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad():
        return getattr(model, method)(x)


def call_chunked(
    model: torch.jit.ScriptModule,
    method: str,
    x: torch.Tensor,
    host_chunks: list[int],
    params: MethodParams,
    seed: int | None = 0,
) -> torch.Tensor:
    """Feed x: [B, C, T] in consecutive chunks of the given host-sample sizes; concat outputs."""
    if seed is not None:
        torch.manual_seed(seed)
    outs = []
    start = 0
    for size in host_chunks:
        frames = size // params.in_ratio
        outs.append(call(model, method, x[..., start : start + frames], seed=None))
        start += frames
    return torch.cat(outs, dim=-1)


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest |a - b| where both are finite; inf when shapes or non-finite positions differ."""
    if a.shape != b.shape:
        return math.inf
    if a.numel() == 0:
        return 0.0
    a, b = a.double(), b.double()
    finite_a, finite_b = torch.isfinite(a), torch.isfinite(b)
    if not torch.equal(finite_a, finite_b) or not torch.equal(
        a[~finite_a].nan_to_num(), b[~finite_b].nan_to_num()
    ):
        return math.inf
    if not bool(finite_a.any()):
        return 0.0
    return float((a[finite_a] - b[finite_b]).abs().max().item())


def allclose(a: torch.Tensor, b: torch.Tensor, atol: float, rtol: float = 1e-3) -> bool:
    """Same shape, NaN/Inf at the same places, and elsewhere max|a-b| <= atol + rtol * max|b|.

    Non-finite values are judged by the numerics check; here they only have to be reproducible.
    """
    if a.shape != b.shape:
        return False
    if a.numel() == 0:
        return True
    finite = torch.isfinite(b)
    scale = float(b[finite].double().abs().max().item()) if bool(finite.any()) else 0.0
    return bool(max_abs_diff(a, b) <= atol + rtol * scale)


@dataclass
class LatencyProbe:
    """Result of an impulse (then step) probe, in host samples after the input event.

    samples: the latency estimate: where the impulse response peaks (for a step probe, where
        the output first reacts). Exact for a pure delay; for other models an estimate (the
        alignment delay of a streamed non-causal convolution cannot be observed without the
        offline model, only bounded by the response window below). None when nothing reacted.
    first / last: the first and last output frames that change at all (bit-exact comparison;
        the peak uses a 1e-6 threshold): any declared latency must lie
        in [first, last] (the output cannot reflect an event before reacting to it, nor after
        it stopped reacting).
    """

    samples: int | None
    probe: str
    resolution: int
    note: str = ""
    first: int | None = None
    last: int | None = None

    def contradicts(self, declared: int) -> str | None:
        """Why `declared` cannot be this method's latency, or None when it is consistent."""
        tol = self.resolution - 1
        if self.first is not None and declared < self.first - tol:
            return f"the output first reacts {self.first} samples after the input"
        if self.probe == "impulse" and self.last is not None and declared > self.last + tol:
            return f"the impulse response ends {self.last} samples after the input"
        return None

    def too_small(self, declared: int) -> bool:
        """Declared latency below the first reaction: certainly wrong."""
        return self.first is not None and declared < self.first - (self.resolution - 1)


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def measure_latency(
    load: Loader,
    method: str,
    params: MethodParams,
    max_latency: int = 16384,
    seed: int = 0,
    block: int = 1,
) -> LatencyProbe:
    """Host samples between an input event and the output's response to it.

    Runs silence, then silence with an impulse (and, if nothing reacts, a step) at host sample t0
    (a multiple of ``block``, the largest ratio of all methods) on fresh loads with the same RNG
    seed, and compares the outputs frame by frame. Exact for audio-rate methods; otherwise
    accurate to the coarser ratio (`resolution`). A negative value means the output reacts
    before the event: the method looks ahead and cannot stream.
    """
    grain = max(params.in_ratio, params.out_ratio)
    # The event sits where a host buffer starts: at a multiple of `block`, the largest ratio of
    # all the model's methods (the smallest buffer a host may use). A model whose audio-rate
    # method runs on latent-rate blocks (an autoencoder's forward) reads a whole block at once,
    # so an event in mid-block would seem to be answered before it happened.
    t0 = _round_up(next_power_of_two(max(4 * grain, 1024, 2 * block)), block)
    total = _round_up(next_power_of_two(t0 + max_latency + 4 * grain), block)
    frames = params.in_frames(total)
    x0 = torch.zeros(1, params.in_channels, frames)
    y0 = call(load(), method, x0, seed=seed)
    scale = float(y0.abs().max().item()) if y0.numel() else 0.0
    for kind in ("impulse", "step"):
        x1 = x0.clone()
        f0 = t0 // params.in_ratio
        if kind == "impulse":
            x1[..., f0] = 0.5
        else:
            x1[..., f0:] = 0.5
        y1 = call(load(), method, x1, seed=seed)
        if y1.shape != y0.shape:
            return LatencyProbe(None, kind, grain, "output length changed between probe runs")
        diff = (y1 - y0).abs().amax(dim=(0, 1))
        hits = torch.nonzero(diff > 1e-6 * (1.0 + scale)).flatten()
        if hits.numel():
            # The bounds count any change at all: an output the event cannot reach is computed
            # from the same numbers in both runs, so it is bit-identical. A threshold would cut
            # off a response that starts smoothly (a long filter's tapered tail, e.g. a PQMF
            # bank's) and put the first reaction after the true, exactly computed delay.
            changed = torch.nonzero(diff > 0).flatten()
            first = int(changed[0].item()) * params.out_ratio - t0
            last = int(changed[-1].item()) * params.out_ratio - t0
            if kind == "step":
                return LatencyProbe(first, kind, grain, first=first, last=last)
            peak = int(torch.argmax(diff).item()) * params.out_ratio - t0
            return LatencyProbe(peak, kind, grain, first=first, last=last)
    return LatencyProbe(
        None, "step", grain, f"output did not react to an impulse or a step within {total} samples"
    )

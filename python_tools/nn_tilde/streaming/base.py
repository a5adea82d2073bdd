"""Streaming building blocks: the common interface, delay lines and containers.

Every streaming module processes a stream cut into chunks and keeps whatever past it needs in
buffers. Conventions shared by all of them (and relied upon by the tests):

* ``forward(x)`` takes ``x: [B, C, T]`` with ``T`` a multiple of ``chunk_multiple`` and returns
  ``[B, C', T * ratio_num / ratio_den]``.
* ``delay`` is the module's *cumulative* delay in frames at its output rate, including the delay
  of the stream it was built to receive (``delay_in``): if the offline model maps ``x`` to ``y``,
  the streaming module fed with ``x`` chunk by chunk returns ``z`` with ``z[t + delay] == y[t]``.
* Caches are buffers registered with ``persistent=False`` (never in an eager ``state_dict``; a
  TorchScript archive does store them, hence empty after ``reset()``). They are created empty
  and (re)allocated to the batch size of the input on the first call and whenever the batch
  size, dtype or device changes; such a change starts a new stream (caches are zeroed). This is
  why batch 1 and batch 4 both work after TorchScript save and reload, with no fixed
  ``max_batch`` and no state carried in a file written after ``reset()``.
* ``reset()`` empties every cache, recursively: the next call starts a fresh stream.
* A cached conv zeroes the first ``delay_in`` frames it receives after a reset (what upstream
  layers computed for times before the signal: bias, lookahead), because the offline model sees
  zero padding there. Streaming thus equals offline from the first output frame on, with no
  warm-up to discard.
"""

import math
from typing import List, Tuple

import torch
import torch.nn as nn
from torch import Tensor


def lcm(a: int, b: int) -> int:
    """Least common multiple of two positive integers."""
    return a * b // math.gcd(a, b)


def reduced(num: int, den: int) -> Tuple[int, int]:
    """The fraction ``num / den`` in lowest terms."""
    g = math.gcd(num, den)
    return num // g, den // g


class StreamingModule(nn.Module):
    """Base class: holds the bookkeeping attributes every streaming module exposes.

    Attributes (plain ints, readable on eager and scripted modules):
        delay: cumulative delay in output frames (see module docstring).
        chunk_multiple: input chunk lengths must be multiples of this.
        ratio_num, ratio_den: output frames per input frame, as a reduced fraction.
    """

    def __init__(
        self, delay: int, chunk_multiple: int = 1, ratio_num: int = 1, ratio_den: int = 1
    ) -> None:
        super().__init__()
        if delay < 0:
            raise ValueError(f"negative delay {delay}: the layer would need future input")
        self.delay: int = int(delay)
        self.chunk_multiple: int = int(chunk_multiple)
        num, den = reduced(int(ratio_num), int(ratio_den))
        self.ratio_num: int = num
        self.ratio_den: int = den

    @torch.jit.export
    def reset(self) -> None:
        """Forget the past: the next call starts a new stream. Default: stateless, nothing to do."""
        pass


class Pointwise(StreamingModule):
    """Wraps a module without temporal state (activation, eval-mode BatchNorm1d, ...).

    x: [B, C, T] -> [B, C', T]; the wrapped module is shared, not copied.
    """

    def __init__(self, module: nn.Module, delay: int) -> None:
        super().__init__(delay)
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)


class Delay(StreamingModule):
    """A delay line of ``length`` frames: ``z[t] = x[t - length]`` (zeros before the start).

    x: [B, C, T] -> [B, C, T]. Used to align parallel branches.
    """

    def __init__(self, length: int, delay_in: int = 0) -> None:
        super().__init__(delay_in + length)
        if length < 0:
            raise ValueError("a delay line cannot have negative length")
        self.length: int = int(length)
        self.register_buffer("cache", torch.zeros(0, 0, self.length), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.length == 0:
            return x
        cache = self.cache
        if (
            cache.size(0) != x.size(0)
            or cache.size(1) != x.size(1)
            or cache.dtype != x.dtype
            or cache.device != x.device
        ):
            cache = torch.zeros(x.size(0), x.size(1), self.length, dtype=x.dtype, device=x.device)
        buf = torch.cat([cache, x], -1)
        self.cache = buf[..., buf.size(-1) - self.length :].detach()
        return buf[..., : x.size(-1)]

    @torch.jit.export
    def reset(self) -> None:
        self.cache = self.cache[:0]


class StreamingSequential(StreamingModule):
    """Streaming layers applied one after the other. x: [B, C, T] -> [B, C', T']."""

    def __init__(
        self,
        layers: List[StreamingModule],
        delay: int,
        chunk_multiple: int,
        ratio_num: int,
        ratio_den: int,
    ) -> None:
        super().__init__(delay, chunk_multiple, ratio_num, ratio_den)
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    @torch.jit.export
    def reset(self) -> None:
        for layer in self.layers:
            layer.reset()


class StreamingBranches(StreamingModule):
    """Parallel branches fed the same input, already followed by their alignment delay lines.

    Outputs are summed (``concat=False``) or concatenated along channels. x: [B, C, T] ->
    [B, C', T'] where every branch yields the same ``T'`` and the same delay.
    """

    def __init__(
        self,
        branches: List[StreamingModule],
        concat: bool,
        delay: int,
        chunk_multiple: int,
        ratio_num: int,
        ratio_den: int,
    ) -> None:
        super().__init__(delay, chunk_multiple, ratio_num, ratio_den)
        self.branches = nn.ModuleList(branches)
        self.concat: bool = concat

    def forward(self, x: Tensor) -> Tensor:
        outs: List[Tensor] = []
        for branch in self.branches:
            outs.append(branch(x))
        if self.concat:
            return torch.cat(outs, 1)
        y = outs[0]
        for i in range(1, len(outs)):
            y = y + outs[i]
        return y

    @torch.jit.export
    def reset(self) -> None:
        for branch in self.branches:
            branch.reset()

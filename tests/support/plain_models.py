"""Test models for the Pd tests, written with plain torch (no nn_tilde kit): each follows
docs/MODEL_FORMAT.md by hand, so these tests do not depend on the kit under test.

Every builder returns a scripted module; `python` reference outputs come from calling the same
module directly (a fresh load of the saved file) on the same input.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import torch
from torch import nn


def _params(m: nn.Module, name: str, values: Tuple[int, int, int, int]) -> None:
    m.register_buffer(f"{name}_params", torch.tensor(list(values), dtype=torch.long))


class Identity(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class Gain(nn.Module):
    """forward: x * 0.5 (no get_methods: methods found from the _params buffers)."""

    def __init__(self, gain: float = 0.5) -> None:
        super().__init__()
        self.gain = gain
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain


class Mix2to3(nn.Module):
    """forward: 2 inputs -> 3 outputs (a, b, a*b), with labels."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (2, 1, 3, 1))
        self.forward_input_labels = ["(signal) left", "(signal) right"]
        self.forward_output_labels = ["(signal) sum", "(signal) difference", "(signal) product"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x[:, 0:1], x[:, 1:2]
        return torch.cat([a + b, a - b, a * b], dim=1)

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class EncodeDecode(nn.Module):
    """encode: audio -> 4 frames at ratio 256 (mean, max, min, last of each group);
    decode: 4 frames at ratio 256 -> audio (their weighted sum, held);
    forward: decode(encode(x))."""

    def __init__(self, ratio: int = 256) -> None:
        super().__init__()
        self.ratio = ratio
        _params(self, "encode", (1, 1, 4, ratio))
        _params(self, "decode", (4, ratio, 1, 1))
        _params(self, "forward", (1, 1, 1, 1))
        self.register_buffer("weights", torch.tensor([0.5, 0.25, 0.125, 1.0]).reshape(1, 4, 1))

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        g = x.reshape(b, t // self.ratio, self.ratio)
        return torch.stack([g.mean(-1), g.amax(-1), g.amin(-1), g[..., -1]], dim=1)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        y = (z * self.weights).sum(1, keepdim=True)
        return y.repeat_interleave(self.ratio, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["encode", "decode", "forward"]


class Attributed(nn.Module):
    """forward: x * gain + offset, with attributes gain (float), offset (float), mute (bool),
    mode (int), name (str); setters refuse a negative gain."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))
        self.register_buffer("gain_params", torch.tensor([2], dtype=torch.long))
        self.register_buffer("offset_params", torch.tensor([2], dtype=torch.long))
        self.register_buffer("mute_params", torch.tensor([0], dtype=torch.long))
        self.register_buffer("mode_params", torch.tensor([1], dtype=torch.long))
        self.register_buffer("name_params", torch.tensor([3], dtype=torch.long))
        self.register_buffer("range_params", torch.tensor([2, 2], dtype=torch.long))
        self.gain = 1.0
        self.offset = 0.0
        self.mute = False
        self.mode = 0
        self.name = "none"
        self.lo = -1.0
        self.hi = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mute:
            return torch.zeros_like(x)
        y = x * self.gain + self.offset
        if self.mode == 1:
            y = torch.clamp(y, self.lo, self.hi)
        return y

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return ["gain", "offset", "mute", "mode", "name", "range"]

    @torch.jit.export
    def get_gain(self) -> List[float]:
        return [self.gain]

    @torch.jit.export
    def set_gain(self, g: float) -> int:
        if g < 0:
            return -1
        self.gain = g
        return 0

    @torch.jit.export
    def get_offset(self) -> List[float]:
        return [self.offset]

    @torch.jit.export
    def set_offset(self, o: float) -> int:
        self.offset = o
        return 0

    @torch.jit.export
    def get_mute(self) -> List[bool]:
        return [self.mute]

    @torch.jit.export
    def set_mute(self, m: bool) -> int:
        self.mute = m
        return 0

    @torch.jit.export
    def get_mode(self) -> List[int]:
        return [self.mode]

    @torch.jit.export
    def set_mode(self, m: int) -> int:
        self.mode = m
        return 0

    @torch.jit.export
    def get_name(self) -> List[str]:
        return [self.name]

    @torch.jit.export
    def set_name(self, n: str) -> int:
        self.name = n
        return 0

    @torch.jit.export
    def get_range(self) -> Tuple[float, float]:
        return (self.lo, self.hi)

    @torch.jit.export
    def set_range(self, lo: float, hi: float) -> int:
        self.lo = lo
        self.hi = hi
        return 0


class Heavy(nn.Module):
    """A stack of 1-D convolutions costing several ms per 2048-sample buffer (for the benchmark).
    Causal left padding, stateless per call (each buffer is computed independently)."""

    def __init__(self, channels: int = 32, layers: int = 6, kernel: int = 5) -> None:
        super().__init__()
        torch.manual_seed(0)
        _params(self, "forward", (1, 1, 1, 1))
        self.inp = nn.Conv1d(1, channels, kernel, padding=kernel // 2)
        self.body = nn.ModuleList(
            [nn.Conv1d(channels, channels, kernel, padding=kernel // 2) for _ in range(layers)]
        )
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.inp(x))
        for conv in self.body:
            h = torch.tanh(conv(h)) + h
        return self.out(h) * 0.1

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class BufferAttributed(nn.Module):
    """forward: x * mean(|impulse|) once a Pd array was given to the buffer attribute `impulse`
    (type code 5), else x. Follows the buffer-attribute convention by hand."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))
        self.register_buffer("impulse_params", torch.tensor([5], dtype=torch.long))
        self.buf = torch.zeros(0)
        self.buf_sr = -1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.buf.numel() == 0:
            return x
        return x * self.buf.abs().mean()

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return ["impulse"]

    @torch.jit.export
    def get_buffer_attributes(self) -> List[str]:
        return ["impulse#0"]

    @torch.jit.export
    def set_buffer_attribute(self, name: str, buffer: torch.Tensor, sr: int) -> int:
        if name != "impulse#0" or buffer.dim() != 2 or buffer.shape[0] != 1:
            return -1
        self.buf = buffer.clone()
        self.buf_sr = sr
        return 0

    @torch.jit.export
    def clear_buffer_attribute(self, name: str) -> None:
        self.buf = torch.zeros(0)

    @torch.jit.export
    def get_impulse(self) -> List[str]:
        return ["samples=" + str(self.buf.shape[-1]) + ",sr=" + str(self.buf_sr)]

    @torch.jit.export
    def set_impulse(self, v: str) -> int:
        return 0


BUILDERS = {
    "identity": Identity,
    "gain": Gain,
    "mix2to3": Mix2to3,
    "encdec": EncodeDecode,
    "attributed": Attributed,
    "heavy": Heavy,
    "bufattr": BufferAttributed,
}


def save(name: str, directory: Path) -> Path:
    """Scripts and saves test model `name` to directory/name.ts; returns the path."""
    path = Path(directory) / f"{name}.ts"
    torch.jit.script(BUILDERS[name]()).save(str(path))
    return path


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for n in BUILDERS:
        print(save(n, out))

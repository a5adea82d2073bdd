"""Writes the small TorchScript models the mock-Max test needs beyond models/demo.ts.

  buffered.ts  forward: x * gain, where `set impulse <buffer~>` makes gain = mean(|samples|) of the
               buffer's first channel (a buffer-typed attribute, type code 5, per MODEL_FORMAT.md)

Run:  python3 tests/max/make_models.py <output dir>   (ctest fixture max_models)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import torch


class Buffered(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1], dtype=torch.long))
        self.register_buffer("impulse_params", torch.tensor([5], dtype=torch.long))
        self.register_buffer("gain", torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return ["impulse"]

    @torch.jit.export
    def get_impulse(self) -> List[str]:
        return ["buffer"]

    @torch.jit.export
    def set_impulse(self, name: str) -> int:
        return 0

    @torch.jit.export
    def get_buffer_attributes(self) -> List[str]:
        return ["impulse#0"]

    @torch.jit.export
    def set_buffer_attribute(self, name: str, buffer: torch.Tensor, sr: int) -> int:
        if name != "impulse#0" or buffer.numel() == 0:
            return -1
        self.gain.copy_(buffer.abs().mean().reshape(1))
        return 0

    @torch.jit.export
    def clear_buffer_attribute(self, name: str) -> None:
        self.gain.fill_(1.0)


def main(argv: List[str]) -> int:
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(Buffered()), str(out / "buffered.ts"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

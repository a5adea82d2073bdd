"""Benchmark: the DDSP violin as an explicit-state AOTInductor program, with the noise synth's read
position kept as a tensor buffer instead of a Python int (export fixes a Python int at its traced
value, which made the program drift from the second call). Patches the eager model's NoiseSynth
in this process only (the shipped code is unchanged), then runs nn_tilde.optimize.runtimes on
`forward` and `decode`, beside TorchScript. Prints figures; not a test. Needs g++ (AOTInductor)
and minutes.

Usage: python benchmarks/ddsp_explicit_state.py [--checkpoint models/ddsp_violin.pt]
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import torch

from nn_tilde.models.ddsp.synth import NoiseSynth
from nn_tilde.optimize import runtimes as rt

REPO = Path(__file__).resolve().parents[1]
# TorchScript scripts the class's own code (the shipped one, position an int: the same samples),
# timed in the same run for the ratio
RUNTIMES = ("torchscript", "aotinductor")


def _forward(self, mags: torch.Tensor) -> torch.Tensor:
    """NoiseSynth.forward with `pos_t` (a [1] long buffer) for `position`."""
    B, K = mags.size(0), mags.size(1)
    if self.tail.size(0) != B:
        self.tail = torch.zeros(B, 1, self.hop, dtype=mags.dtype, device=mags.device)
        self.pos_t = torch.zeros(1, dtype=torch.long)
    gain = torch.matmul(mags, self.interp)
    index = (torch.arange(K) + self.pos_t) % self.noise_frames
    rows = self.noise_spec.index_select(0, index)
    self.pos_t = (self.pos_t + K) % self.noise_frames
    grains = torch.fft.irfft(rows * gain, n=self.n_fft) * self.window
    first, second = grains[..., : self.hop], grains[..., self.hop :]
    prev = torch.cat([self.tail, second[:, :-1]], 1)
    self.tail = second[:, -1:].detach()
    return (first + prev).reshape(B, K * self.hop)


def _reset(self) -> None:
    self.tail = self.tail[:0]
    self.pos_t = torch.zeros(1, dtype=torch.long)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(REPO / "models" / "ddsp_violin.pt"))
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    model = rt.load_eager(args.checkpoint).eval()
    for mod in model.modules():
        if isinstance(mod, NoiseSynth):
            mod.register_buffer("pos_t", torch.zeros(1, dtype=torch.long), persistent=False)
            mod.forward = types.MethodType(_forward, mod)
            mod.reset = types.MethodType(_reset, mod)
    hop = int(model.hop)
    for method, channels, frames in (("forward", 1, 2048), ("decode", 2, 2048 // hop)):
        rows = rt.compare_runtimes(
            model, method, channels, frames, 2048 / 44100, args.seconds, runtimes=RUNTIMES
        )
        print(rt.format_rows(rows, f"{args.checkpoint}: {method}, noise position as a tensor"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Builds models/demo.ts with the nn_tilde kit: a small hand-written (untrained) signal model that
shows every part of the nn~ contract until the trained models land.

  forward  (1 -> 1 at audio rate)   a soft saturator: tanh(drive * x) / tanh(drive)
  encode   (1 -> 2 per 512 samples) loudness (RMS) and brightness (zero-crossing rate)
  decode   (2 per 512 -> 1)         a sine whose level follows loudness and whose pitch follows
                                    brightness, with a phase kept across buffers (reset() clears it)
  attribute `drive` (float, default 4)

Reproduce:  python models/make_demo.py models/demo.ts
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import List

import torch

import nn_tilde

RATIO = 512


class Demo(nn_tilde.Module):
    def __init__(self, sr: int = 44100) -> None:
        super().__init__(
            sr=sr,
            model_sample_rate=sr,
            metadata={
                "name": "demo",
                "author": "nn~ project",
                "description": "hand-written saturator, feature encoder and sine resynthesis "
                "(untrained)",
                "licence": "CC0-1.0",
                "training_data": "none (not trained)",
            },
        )
        self.ratio = RATIO  # TorchScript reads module attributes, not Python globals
        self.register_buffer("phase", torch.zeros(1))  # per batch item, resized on a new batch
        self.register_attribute("drive", 4.0)  # before the methods: their test calls read it
        self.register_method(
            "forward", 1, 1, 1, 1, ["(signal) input"], ["(signal) saturated"], latency=0
        )
        self.register_method(
            "encode",
            1,
            1,
            2,
            RATIO,
            ["(signal) input"],
            ["(signal) loudness (rms)", "(signal) brightness (zero crossings per sample)"],
        )
        self.register_method(
            "decode",
            2,
            RATIO,
            1,
            1,
            ["(signal) loudness", "(signal) brightness"],
            ["(signal) resynthesis"],
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = max(
            self.drive[0], 1e-3
        )  # register_attribute stores a tuple, as in the reference package
        return torch.tanh(x * d) / math.tanh(d)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        g = x.reshape(b, t // self.ratio, self.ratio)
        rms = g.pow(2).mean(-1).sqrt()
        signs = torch.sign(g)
        zcr = (signs[..., 1:] != signs[..., :-1]).float().mean(-1)
        return torch.stack([rms, zcr], dim=1)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        b = z.shape[0]
        if (
            self.phase.shape[0] != b
        ):  # one phase per batch item (mc.nn~ voices); a new batch restarts
            self.phase = torch.zeros(b)
        # rms <= 0.7 so the sine's peak (rms * sqrt 2) stays below full scale
        amp = z[:, 0:1].clamp(0.0, 0.7).repeat_interleave(self.ratio, -1)
        # zero crossings per sample -> frequency: a sine crosses zero twice per period
        freq = (z[:, 1:2].clamp(0.0, 0.5) * 0.5).repeat_interleave(self.ratio, -1)
        phase = self.phase.reshape(b, 1, 1) + torch.cumsum(freq, dim=-1) * 2.0 * math.pi
        self.phase = torch.remainder(phase[:, 0, -1], 2.0 * math.pi)
        return amp * math.sqrt(2.0) * torch.sin(phase)

    @torch.jit.export
    def reset(self) -> None:
        self.phase.zero_()

    @torch.jit.export
    def get_drive(self) -> List[float]:
        return [self.drive[0]]

    @torch.jit.export
    def set_drive(self, drive: float) -> int:
        if drive <= 0:
            return -1
        self.drive = (drive,)
        return 0


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("demo.ts"))
    report = Demo().export_to_ts(out)
    print(report)

"""Multi-scale spectral loss (after Engel et al. 2020, DDSP; as in RAVE v1)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class MultiScaleSTFTLoss(nn.Module):
    """Sum over FFT sizes of L1(|X|, |Y|) / mean|X| + L1(log|X|, log|Y|).

    x, y: [B, C, T] -> scalar. Scales longer than T are skipped (at least one is kept).
    """

    def __init__(self, scales: Sequence[int] = (2048, 1024, 512, 256, 128), eps: float = 1e-7):
        super().__init__()
        self.scales = sorted(int(s) for s in scales)
        self.eps = eps
        for s in self.scales:
            self.register_buffer(f"window_{s}", torch.hann_window(s), persistent=False)

    def magnitude(self, x: Tensor, n_fft: int) -> Tensor:
        """x: [B, C, T] -> |STFT| [B * C, n_fft // 2 + 1, frames]."""
        window = getattr(self, f"window_{n_fft}")
        spec = torch.stft(
            x.reshape(-1, x.shape[-1]),
            n_fft,
            hop_length=n_fft // 4,
            window=window,
            center=True,
            return_complex=True,
        )
        return spec.abs()

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        length = x.shape[-1]
        scales = [s for s in self.scales if s <= length] or self.scales[:1]
        total = x.new_zeros(())
        for s in scales:
            mx, my = self.magnitude(x, s), self.magnitude(y, s)
            lin = (mx - my).abs().mean() / (mx.mean() + self.eps)
            log = (torch.log(mx + self.eps) - torch.log(my + self.eps)).abs().mean()
            total = total + lin + log
        return total / len(scales)

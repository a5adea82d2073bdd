"""DDSP-CNN-Tiny decoder (after "Accelerating Neural Audio Synthesis", ETH Zurich 2022): a causal
dilated CNN from (f0, loudness) frames to synthesiser controls.

Offline it is an ordinary ``nn.Module`` built from the kit's layers (causal ``Conv1d`` padding,
``Residual``), so ``nn_tilde.streaming.to_streaming`` turns it into cached convolutions with
delay 0;
``FusedStreamingDecoder`` is a hand-flattened streaming form of the same weights with fewer
TorchScript calls (see models/README.md for what that buys).

Layout: input [B, 2, K] (normalised pitch, normalised loudness) -> 1x1 conv to ``channels`` ->
``len(dilations)`` residual units ``x + relu(LayerNorm_C(conv_k3_d(x)))`` -> 1x1 conv (dense) to
``1 + n_harmonics + n_noise`` raw controls [B, 126, K]. With 8 channels: 2,454 parameters
(16 channels: 7,086).
"""

from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nn_tilde.streaming.base import StreamingModule
from nn_tilde.streaming.convert import register_pointwise, to_streaming
from nn_tilde.streaming.layers import Conv1d, Residual


class ChannelNorm(nn.Module):
    """LayerNorm over channels at every frame. x: [B, C, K] -> [B, C, K] (pointwise in time)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        y = F.layer_norm(x.transpose(1, 2), (x.size(1),), self.weight, self.bias, self.eps)
        return y.transpose(1, 2)


register_pointwise(ChannelNorm)


def causal_conv(channels: int, dilation: int, kernel: int = 3) -> Conv1d:
    """Conv1d that only looks back: ``(kernel - 1) * dilation`` frames of left padding."""
    return Conv1d(
        channels, channels, kernel, dilation=dilation, padding=((kernel - 1) * dilation, 0)
    )


class Decoder(nn.Module):
    """x: [B, 2, K] normalised (pitch, loudness) -> raw controls [B, 1 + H + N, K]."""

    def __init__(
        self,
        channels: int = 8,
        dilations: Sequence[int] = (1, 3, 9, 1, 3, 9),
        n_harmonics: int = 60,
        n_noise: int = 65,
        kernel: int = 3,
    ) -> None:
        super().__init__()
        self.n_out = 1 + n_harmonics + n_noise
        units: List[nn.Module] = [nn.Conv1d(2, channels, 1)]
        for d in dilations:
            units.append(
                Residual(
                    nn.Sequential(
                        causal_conv(channels, d, kernel), ChannelNorm(channels), nn.ReLU()
                    )
                )
            )
        units.append(nn.Conv1d(channels, self.n_out, 1))
        self.net = nn.Sequential(*units)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def streaming(self) -> StreamingModule:
        """Generic streaming form via ``to_streaming`` (kit containers; delay 0)."""
        return to_streaming(self.eval().net)

    def fused_streaming(self, out_offset: Optional[Tensor] = None) -> "FusedStreamingDecoder":
        return FusedStreamingDecoder(self.eval(), out_offset)


class _Unit(nn.Module):
    """One residual unit, time-major and cached: ``x + relu(LayerNorm(conv_k3_d(x)))``.

    The dilated conv is one ``addmm``: the ``kernel`` taps ``x[t - (k-1-j) d]`` are read as a
    strided view of ``cat(cache, x)`` and multiplied by the conv weight laid out as
    [kernel * C_in, C_out]. Frames of every batch item are rows of 2-D matrices, so each step is a
    single ATen call (a 3-D ``linear`` costs several). x: [B * K, C] rows -> [B * K, C].
    """

    def __init__(self, conv: nn.Conv1d, norm: ChannelNorm) -> None:
        super().__init__()
        c_out, c_in, kernel = conv.weight.shape
        w = conv.weight.detach().permute(2, 1, 0).reshape(kernel * c_in, c_out)
        self.weight = nn.Parameter(w.contiguous().clone(), requires_grad=False)
        self.bias = nn.Parameter(conv.bias.detach().clone(), requires_grad=False)
        self.norm_weight = nn.Parameter(norm.weight.detach().clone(), requires_grad=False)
        self.norm_bias = nn.Parameter(norm.bias.detach().clone(), requires_grad=False)
        self.eps: float = float(norm.eps)
        self.kernel: int = int(kernel)
        self.channels: int = int(c_in)
        self.dilation: int = int(conv.dilation[0])
        self.context: int = (self.kernel - 1) * self.dilation
        self.register_buffer("cache", torch.zeros(0, self.context, self.channels), persistent=False)

    def forward(self, x: Tensor, batch: int) -> Tensor:
        C = self.channels
        K = x.size(0) // batch
        cache = self.cache
        if cache.size(0) != batch:
            cache = torch.zeros(batch, self.context, C, dtype=x.dtype, device=x.device)
        buf = torch.cat([cache, x.view(batch, K, C)], 1)  # [B, context + K, C], contiguous
        self.cache = buf[:, K:]
        n = self.context + K
        taps = buf.as_strided([batch, K, self.kernel, C], [n * C, C, self.dilation * C, 1])
        h = torch.addmm(self.bias, taps.reshape(batch * K, self.kernel * C), self.weight)
        h = F.layer_norm(h, (C,), self.norm_weight, self.norm_bias, self.eps)
        return x + torch.relu(h)

    def reset(self) -> None:
        self.cache = self.cache[:0]


class FusedStreamingDecoder(StreamingModule):
    """Streaming decoder with fewer TorchScript calls than the generic ``to_streaming`` form: the
    same arithmetic as ``Decoder`` on rows of frames (2-D ``addmm`` and ``layer_norm``, no
    transposes between layers), each dilated conv one ``addmm`` on a strided view of its cache.
    Delay 0.

    x: [B, 2, K] -> [B, K, 1 + H + N] (time-major output, ready for the synthesisers).
    ``out_offset`` is added to the output bias (used to fold constant offsets of the controls).
    """

    def __init__(self, decoder: Decoder, out_offset: Optional[Tensor] = None) -> None:
        super().__init__(0)
        layers = list(decoder.net)
        first, last = layers[0], layers[-1]
        self.in_weight = nn.Parameter(
            first.weight.detach()[..., 0].t().contiguous(), requires_grad=False
        )
        self.in_bias = nn.Parameter(first.bias.detach().clone(), requires_grad=False)
        out_bias = last.bias.detach().clone()
        if out_offset is not None:
            out_bias = out_bias + out_offset
        self.out_weight = nn.Parameter(
            last.weight.detach()[..., 0].t().contiguous(), requires_grad=False
        )
        self.out_bias = nn.Parameter(out_bias, requires_grad=False)
        units = []
        for res in layers[1:-1]:
            conv, norm, _ = list(res.branches[1])
            units.append(_Unit(conv, norm))
        self.units = nn.ModuleList(units)

    def forward(self, x: Tensor) -> Tensor:
        B, K = x.size(0), x.size(2)
        h = torch.addmm(self.in_bias, x.transpose(1, 2).reshape(B * K, x.size(1)), self.in_weight)
        for unit in self.units:
            h = unit(h, B)
        return torch.addmm(self.out_bias, h, self.out_weight).view(B, K, -1)

    @torch.jit.export
    def reset(self) -> None:
        for unit in self.units:
            unit.reset()

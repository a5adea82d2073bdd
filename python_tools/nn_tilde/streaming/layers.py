"""Offline (training-time, non-causal) layers that ``to_streaming`` knows how to convert.

Models are built and trained with these (or with plain ``nn.Conv1d`` / ``nn.ConvTranspose1d`` /
``nn.Sequential`` and pointwise modules); nothing here depends on a global streaming switch.
"""

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def same_padding(kernel_size: int, stride: int = 1, dilation: int = 1) -> Tuple[int, int]:
    """(left, right) zero padding so that a conv maps ``T`` frames to ``T / stride`` frames.

    The total is ``span - stride`` (``span = dilation * (kernel_size - 1) + 1``): more would only
    add right padding that a strided conv never reaches (the latency flaw of cached_conv#10 comes
    from centring a larger total). An odd total puts the extra frame on the left, i.e. towards
    the past, which means less lookahead and so less streaming delay.
    """
    total = max(dilation * (kernel_size - 1) + 1 - stride, 0)
    right = total // 2
    return total - right, right


class Conv1d(nn.Conv1d):
    """``nn.Conv1d`` with explicit, possibly asymmetric zero padding ("same" by default).

    x: [B, C_in, T] -> [B, C_out, T / stride] with the default padding and T a multiple of stride.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        padding: Tuple[int, int] | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=0,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        pad = padding if padding is not None else same_padding(kernel_size, stride, dilation)
        self.pad_left: int = int(pad[0])
        self.pad_right: int = int(pad[1])

    def forward(self, x: Tensor) -> Tensor:
        x = F.pad(x, [self.pad_left, self.pad_right])
        return F.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class ConvTranspose1d(nn.ConvTranspose1d):
    """Transposed conv that upsamples ``T`` frames to exactly ``T * stride`` for any kernel.

    ``nn.ConvTranspose1d`` only crops symmetrically; here the full output is cropped by
    ``crop_left`` (default: half of ``span - stride``, rounded down so that less lookahead is
    kept) and cut to ``T * stride`` (zero-extended if the kernel is shorter than the stride).

    x: [B, C_in, T] -> [B, C_out, T * stride].
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        crop_left: int | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=0,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        span = dilation * (kernel_size - 1) + 1
        self.crop_left: int = max(span - stride, 0) // 2 if crop_left is None else int(crop_left)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        s, d, g = self.stride[0], self.dilation[0], self.groups
        f = F.conv_transpose1d(x, self.weight, None, s, 0, 0, g, d)
        n = x.size(-1) * s
        need = self.crop_left + n
        if f.size(-1) < need:
            f = F.pad(f, [0, need - f.size(-1)])
        y = f[..., self.crop_left : need]
        if self.bias is not None:
            y = y + self.bias.unsqueeze(-1)
        return y


class Branches(nn.Module):
    """Parallel branches on the same input, summed (``mode="sum"``) or concatenated on channels.

    x: [B, C, T] -> [B, C', T'] (every branch must give the same T'). When streamed, the branches
    are delayed automatically so that their outputs stay aligned.
    """

    def __init__(self, *branches: nn.Module, mode: str = "sum") -> None:
        super().__init__()
        if mode not in ("sum", "cat"):
            raise ValueError(f"mode must be 'sum' or 'cat', not {mode!r}")
        if not branches:
            raise ValueError("Branches needs at least one branch")
        self.branches = nn.ModuleList(branches)
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        outs = [branch(x) for branch in self.branches]
        if self.mode == "cat":
            return torch.cat(outs, 1)
        return torch.stack(outs, 0).sum(0)


class Residual(Branches):
    """``x + body(x)``. x: [B, C, T] -> [B, C, T]."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__(nn.Identity(), body, mode="sum")

"""Cached (streaming) forms of Conv1d and ConvTranspose1d, exact for any kernel, stride, dilation
and padding.

Why our own and not cached_conv's ``CachedConv1d`` / ``CachedConvTranspose1d`` (cached-conv 2.5.0):

* Strided convolution: cached_conv pads the cache so the *right* padding becomes delay and then
  rounds up to a whole output frame (``stride_delay``), which costs up to one extra output frame of
  latency (acids-ircam/cached_conv#10). Here the cache length is chosen as the one value that makes
  every chunk of ``c`` input frames (``c`` a multiple of the stride) yield exactly ``c / stride``
  outputs *and* keeps the output grid aligned with the offline one; the delay that follows is the
  smallest an exact, chunk-aligned implementation can have (see ``StreamingConv1d``).
* Transposed convolution: cached_conv keeps ``2 * padding`` samples of overlap-add tail, which
  is the true tail ``dilation * (kernel - 1) + 1 - stride`` only when
  ``2 * padding == kernel - stride`` (acids-ircam/cached_conv#11). Here the tail length follows
  from the kernel, and the padding only sets the delay.
* Both read their incoming delay at conversion time (no global "cached mode" switch read when a
  model is built), size their caches from the input (no 64-slot batch), keep them out of the eager
  ``state_dict`` and offer ``reset()``.
"""

from typing import Final, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nn_tilde.streaming.base import StreamingModule


def _is_new_stream(cache: Tensor, x: Tensor) -> bool:
    """True when ``x``'s batch size, dtype or device differ from the cache's (or it is empty)."""
    return cache.size(0) != x.size(0) or cache.dtype != x.dtype or cache.device != x.device


def _mask_before_signal(x: Tensor, seen: int, delay_in: int) -> Tuple[Tensor, int]:
    """Zero the frames of ``x`` that come before the signal, and count the frames seen.

    The incoming stream is ``delay_in`` frames late; its first ``delay_in`` frames are what the
    upstream layers produced for negative times (bias, lookahead of the first samples). The offline
    model sees zero padding there, so they are zeroed: this keeps streaming equal to offline from
    the first frame after a reset instead of only after a warm-up.
    """
    if seen >= delay_in:
        return x, seen
    n = min(delay_in - seen, x.size(-1))
    x = torch.cat([torch.zeros_like(x[..., :n]), x[..., n:]], -1)
    return x, seen + n


class StreamingConv1d(StreamingModule):
    """Streaming Conv1d equal to an offline zero-padded conv with ``pad_left`` frames on the left.

    Offline: ``y[n] = sum_k w[k] x[n*s - pad_left + k*d]``. Streaming keeps the last ``context``
    input frames and runs a padding-free conv on ``cat(cache, chunk)``, which gives
    ``z[m] = sum_k w[k] u[m*s - context + k*d]`` where ``u`` is the incoming (already delayed by
    ``delay_in``) stream. So ``z[m] = y[m - D]`` with ``D = (context + delay_in - pad_left) / s``,
    which must be an integer. A chunk of ``c`` frames (a multiple of ``s``) yields ``c / s``
    outputs iff ``span - s <= context <= span - 1`` (``span = d*(k-1) + 1``): exactly one value
    in that window has the right remainder modulo ``s``, so ``context`` is fully determined and
    ``D`` is minimal. ``context`` may be negative when ``span < s``: the first ``-context`` frames
    of each chunk are then never read.

    x: [B, C_in, T] -> [B, C_out, T / stride], T a multiple of ``stride``.
    """

    # TorchScript constants, so scripting keeps only the branches of forward that apply: a
    # causal layer's graph then has no `if` around the convolution's input, which graph-mode
    # int8 quantization (nn-tilde optimize) needs to place its observers.
    context: Final[int]
    delay_in: Final[int]

    def __init__(
        self,
        weight: nn.Parameter,
        bias: Optional[nn.Parameter],
        stride: int,
        dilation: int,
        groups: int,
        pad_left: int,
        delay_in: int = 0,
    ) -> None:
        span = dilation * (weight.size(-1) - 1) + 1
        if pad_left < 0 or pad_left > span - 1:
            raise ValueError(
                f"left padding {pad_left} outside [0, {span - 1}]: outputs before the signal "
                "would depend on no input at all; use a padding within the kernel's reach"
            )
        context = span - stride + (pad_left - delay_in - (span - stride)) % stride
        delay = (context + delay_in - pad_left) // stride
        super().__init__(delay, chunk_multiple=stride, ratio_num=1, ratio_den=stride)
        self.weight = weight
        self.bias = bias
        self.stride: int = stride
        self.dilation: int = dilation
        self.groups: int = groups
        self.pad_left: int = pad_left
        self.delay_in = delay_in
        self.context = context
        self.seen: int = 0  # input frames seen since the stream began, counted up to delay_in
        self.in_channels: int = weight.size(1) * groups
        self.register_buffer(
            "cache", torch.zeros(0, self.in_channels, max(context, 0)), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.size(-1) % self.stride != 0:
            # a partial stride block would shift every later output: refuse instead of drifting
            raise ValueError("chunk length must be a multiple of the model's chunk_multiple")
        cache = self.cache
        if _is_new_stream(cache, x):
            cache = torch.zeros(
                x.size(0), self.in_channels, max(self.context, 0), dtype=x.dtype, device=x.device
            )
            self.seen = 0
        if self.delay_in > 0:
            x, self.seen = _mask_before_signal(x, self.seen, self.delay_in)
        if self.context > 0:
            buf = torch.cat([cache, x], -1)
            cache = buf[..., buf.size(-1) - self.context :].detach()
        elif self.context < 0:
            buf = x[..., -self.context :]
        else:
            buf = x
        self.cache = cache
        return F.conv1d(buf, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    @torch.jit.export
    def reset(self) -> None:
        self.cache = self.cache[:0]
        self.seen = 0


class StreamingConvTranspose1d(StreamingModule):
    """Streaming ConvTranspose1d equal to an offline transposed conv cropped by ``crop_left``.

    The full (unpadded) transposed conv ``f`` of a chunk starting at input frame ``i0`` touches
    outputs ``[i0*s, (i0+c-1)*s + span)``; outputs below ``(i0+c)*s`` receive nothing from later
    chunks, so they are final once the overlap-add ``tail`` (``span - s`` frames, or none) left by
    the previous chunk is added. Streaming thus emits ``f`` with no delay of its own, and the
    offline output (``y[j] = f[j + crop_left]``; torch's ``padding`` is ``crop_left``, its
    ``output_padding`` only lengthens the end) is reached after ``D = delay_in * s + crop_left``.

    x: [B, C_in, T] -> [B, C_out, T * stride].
    """

    def __init__(
        self,
        weight: nn.Parameter,
        bias: Optional[nn.Parameter],
        stride: int,
        dilation: int,
        groups: int,
        crop_left: int,
        delay_in: int = 0,
    ) -> None:
        super().__init__(delay_in * stride + crop_left, chunk_multiple=1, ratio_num=stride)
        if crop_left < 0:
            raise ValueError("crop_left must be non-negative")
        span = dilation * (weight.size(-1) - 1) + 1
        self.weight = weight
        self.bias = bias
        self.stride: int = stride
        self.dilation: int = dilation
        self.groups: int = groups
        self.crop_left: int = crop_left
        self.delay_in: int = delay_in
        self.tail: int = max(span - stride, 0)
        self.seen: int = 0  # input frames seen since the stream began, counted up to delay_in
        self.out_channels: int = weight.size(1) * groups
        self.register_buffer(
            "cache", torch.zeros(0, self.out_channels, self.tail), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        cache = self.cache
        if _is_new_stream(cache, x):
            cache = torch.zeros(
                x.size(0), self.out_channels, self.tail, dtype=x.dtype, device=x.device
            )
            self.seen = 0
        x, self.seen = _mask_before_signal(x, self.seen, self.delay_in)
        f = F.conv_transpose1d(x, self.weight, None, self.stride, 0, 0, self.groups, self.dilation)
        n_out = x.size(-1) * self.stride
        total = n_out + self.tail
        if f.size(-1) < total:  # kernel shorter than the stride: the gaps are zeros
            f = F.pad(f, [0, total - f.size(-1)])
        if self.tail > 0:
            f = torch.cat([f[..., : self.tail] + cache, f[..., self.tail :]], -1)
            cache = f[..., n_out:].detach()
        self.cache = cache
        y = f[..., :n_out]
        bias = self.bias
        if bias is not None:
            y = y + bias.unsqueeze(-1)
        return y

    @torch.jit.export
    def reset(self) -> None:
        self.cache = self.cache[:0]
        self.seen = 0

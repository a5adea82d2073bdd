"""``to_streaming``: turn a trained offline model into its streaming form, keeping its weights.

The conversion walks the module tree once, threading the delay of the stream each layer will
receive (``delay_in``, in frames at that layer's input rate). A strided conv needs it to align its
output grid; containers add it up; ``Branches`` delays the faster branches so all outputs line up.

Supported out of the box: ``nn.Conv1d`` (zero padding, int or "same"/"valid"),
``nn.ConvTranspose1d``, ``nn.Sequential``, this package's ``Conv1d`` / ``ConvTranspose1d`` /
``Branches`` / ``Residual``,
cached_conv's offline ``Conv1d`` / ``ConvTranspose1d`` / ``CachedSequential`` when installed,
weight-normalised convs (parametrisation or legacy hook; the normalised weight is snapshotted), and
pointwise modules (activations, Dropout, Identity, eval-mode BatchNorm1d). Anything else raises a
``TypeError``; extend with ``register_converter`` / ``register_pointwise``, or give the class a
method ``to_streaming(self, delay_in: int) -> StreamingModule``.
"""

import math
import warnings
from fractions import Fraction
from typing import Callable, Dict, List, Optional, Set

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.weight_norm import WeightNorm

from nn_tilde.streaming import layers
from nn_tilde.streaming.base import (
    Delay,
    Pointwise,
    StreamingBranches,
    StreamingModule,
    StreamingSequential,
    lcm,
    reduced,
)
from nn_tilde.streaming.conv import StreamingConv1d, StreamingConvTranspose1d

Converter = Callable[[nn.Module, int], StreamingModule]

_CONVERTERS: Dict[type, Converter] = {}
_POINTWISE: Set[type] = {
    nn.Identity,
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Hardtanh,
    nn.Dropout,
    nn.BatchNorm1d,
}


def register_converter(cls: type, fn: Converter) -> None:
    """Convert modules of exactly type ``cls`` with ``fn(module, delay_in) -> StreamingModule``."""
    _CONVERTERS[cls] = fn


def register_pointwise(*classes: type) -> None:
    """Declare module types that have no temporal state (they map frame t to frame t only)."""
    _POINTWISE.update(classes)


def to_streaming(module: nn.Module, delay_in: int = 0) -> StreamingModule:
    """The streaming form of ``module``: same weights, cached convolutions, known ``delay``.

    ``delay_in`` is the delay of the stream the result will be fed (0 for a model's input; for
    a decoder fed by a streaming encoder, the encoder's ``delay``). Call on an ``eval()`` model.
    """
    if module.training:
        warnings.warn(
            "to_streaming() on a module in training mode: call .eval() first (Dropout and "
            "BatchNorm1d are only pointwise in eval mode)",
            stacklevel=2,
        )
    return _convert(module, delay_in)


def input_frames_delay(stream: StreamingModule) -> Fraction:
    """``stream.delay`` expressed in frames of the stream's input (may be fractional)."""
    return Fraction(stream.delay * stream.ratio_den, stream.ratio_num)


def _convert(module: nn.Module, delay_in: int) -> StreamingModule:
    if delay_in < 0:
        raise ValueError("delay_in must be non-negative")
    hook = getattr(module, "to_streaming", None)
    if callable(hook):
        return hook(delay_in)
    cls = _plain_class(module)
    fn = _CONVERTERS.get(cls)
    if fn is not None:
        return fn(module, delay_in)
    if cls in _POINTWISE:
        return Pointwise(module, delay_in)
    raise TypeError(
        f"to_streaming: no streaming form for {cls.__module__}.{cls.__qualname__}. Build the "
        "model from supported layers (nn_tilde.streaming.Branches/Residual for parallel paths), "
        "or call register_pointwise / register_converter for this class"
    )


def _plain_class(module: nn.Module) -> type:
    """The module's class, seen through torch's generated ``Parametrized*`` subclass."""
    cls = type(module)
    if parametrize.is_parametrized(module):
        cls = cls.__bases__[0]
    return cls


def _param(module: nn.Module, name: str) -> Optional[nn.Parameter]:
    """``module.<name>`` shared as is, or a frozen snapshot when it is computed (weight norm)."""
    if parametrize.is_parametrized(module, name):
        return nn.Parameter(getattr(module, name).detach().clone(), requires_grad=False)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook(module, None)  # recompute from weight_g / weight_v now, not at the last forward
            return nn.Parameter(getattr(module, name).detach().clone(), requires_grad=False)
    value = getattr(module, name)
    if value is None or isinstance(value, nn.Parameter):
        return value
    return nn.Parameter(value.detach().clone(), requires_grad=False)


def _conv_pad_left(conv: nn.Conv1d) -> int:
    if conv.padding_mode != "zeros":
        raise ValueError(
            f"padding_mode={conv.padding_mode!r} cannot be streamed exactly: train with zeros"
        )
    if isinstance(conv.padding, str):
        if conv.padding == "valid":
            return 0
        return conv.dilation[0] * (conv.kernel_size[0] - 1) // 2  # torch's "same" split
    return int(conv.padding[0])


def _conv(pad_left: int, conv: nn.Conv1d, delay_in: int) -> StreamingConv1d:
    return StreamingConv1d(
        _param(conv, "weight"),
        _param(conv, "bias"),
        conv.stride[0],
        conv.dilation[0],
        conv.groups,
        pad_left,
        delay_in,
    )


def _conv_transpose(crop_left: int, conv: nn.ConvTranspose1d, delay_in: int) -> StreamingModule:
    return StreamingConvTranspose1d(
        _param(conv, "weight"),
        _param(conv, "bias"),
        conv.stride[0],
        conv.dilation[0],
        conv.groups,
        crop_left,
        delay_in,
    )


def convert_sequence(children: List[nn.Module], delay_in: int) -> StreamingSequential:
    """Convert modules applied in order; their delays and rates compose."""
    out: List[StreamingModule] = []
    delay, num, den, multiple = delay_in, 1, 1, 1
    for child in children:
        s = _convert(child, delay)
        # chunk c reaches this layer as c * num / den frames, which must be a multiple of its
        # chunk_multiple m: c must be a multiple of m * den / gcd(num, m * den).
        m = s.chunk_multiple * den
        multiple = lcm(multiple, m // math.gcd(num, m))
        num, den = reduced(num * s.ratio_num, den * s.ratio_den)
        delay = s.delay
        out.append(s)
    multiple = lcm(multiple, den)  # and the output length must be whole
    return StreamingSequential(out, delay, multiple, num, den)


def convert_branches(branches: List[nn.Module], concat: bool, delay_in: int) -> StreamingBranches:
    """Convert parallel branches and append delay lines so every output has the largest delay."""
    streams = [_convert(b, delay_in) for b in branches]
    rates = {(s.ratio_num, s.ratio_den) for s in streams}
    if len(rates) != 1:
        raise ValueError(f"parallel branches change the frame rate differently: {sorted(rates)}")
    ((num, den),) = rates
    delay = max(s.delay for s in streams)
    multiple = 1
    aligned: List[StreamingModule] = []
    for s in streams:
        multiple = lcm(multiple, s.chunk_multiple)
        if s.delay < delay:
            s = StreamingSequential(
                [s, Delay(delay - s.delay, s.delay)], delay, s.chunk_multiple, num, den
            )
        aligned.append(s)
    return StreamingBranches(aligned, concat, delay, multiple, num, den)


def _register_defaults() -> None:
    register_converter(nn.Conv1d, lambda m, d: _conv(_conv_pad_left(m), m, d))
    register_converter(layers.Conv1d, lambda m, d: _conv(m.pad_left, m, d))
    register_converter(nn.ConvTranspose1d, lambda m, d: _conv_transpose(m.padding[0], m, d))
    register_converter(layers.ConvTranspose1d, lambda m, d: _conv_transpose(m.crop_left, m, d))
    register_converter(nn.Sequential, lambda m, d: convert_sequence(list(m), d))
    for cls in (layers.Branches, layers.Residual):
        register_converter(cls, lambda m, d: convert_branches(list(m.branches), m.mode == "cat", d))
    try:  # cached_conv's offline layers are fine for training; only their cached forms are not
        from cached_conv import convs as cc
    except ImportError:
        return
    register_converter(cc.Conv1d, lambda m, d: _conv(_cc_pad_left(m), m, d))
    register_converter(cc.ConvTranspose1d, lambda m, d: _conv_transpose(m.padding[0], m, d))
    for cls in (cc.CachedSequential, cc.Sequential):
        register_converter(cls, lambda m, d: convert_sequence(list(m), d))


def _cc_pad_left(conv: nn.Module) -> int:
    pad = conv._pad
    return int(pad) if isinstance(pad, int) else int(pad[0])


_register_defaults()

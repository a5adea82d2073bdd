"""Why the kit has its own cached layers: cached_conv 2.5.0's flaws, shown on the same weights.

* acids-ircam/cached_conv#10: strided convs get more delay than needed.
* acids-ircam/cached_conv#11: the transposed-conv cache is only right when
  2 * padding == kernel - stride.
Both sides are judged against the offline torch layer, never against each other.
"""

import pytest
import torch
from torch import nn

from nn_tilde.streaming import Conv1d, aligned_outputs, run_chunked, to_streaming

cc = pytest.importorskip("cached_conv")

SIZES: list[int] = [4, 8, 4, 16, 12, 4]  # multiples of every stride below


def _cached_conv_error(cached: nn.Module, offline: nn.Module, x: torch.Tensor) -> float:
    """Max |error| of cached_conv's streaming layer against offline, shifted by its own delay."""
    with torch.no_grad():
        z = run_chunked(cached, x, SIZES)
        y = offline(nn.functional.pad(x, [0, 32]))
    d = cached.cumulative_delay
    n = z.size(-1) - d
    return (z[..., d:] - y[..., :n]).abs().max().item()


def _our_error(offline: nn.Module, x: torch.Tensor) -> float:
    stream = to_streaming(offline)
    y, z = aligned_outputs(offline, stream, stream.delay, x, SIZES, 32)
    return (z - y).abs().max().item()


@pytest.mark.parametrize(("kernel", "stride"), [(3, 2), (7, 4), (11, 4)])
def test_strided_conv_has_less_delay_than_cached_conv(kernel: int, stride: int) -> None:
    """Same offline layer (cached_conv's centred padding), both streamed exactly; ours is one
    output frame (``stride`` input samples) earlier."""
    torch.manual_seed(kernel)
    pad = cc.get_padding(kernel, stride)
    offline = cc.convs.Conv1d(2, 2, kernel, stride=stride, padding=pad).eval()
    cached = cc.CachedConv1d(2, 2, kernel, stride=stride, padding=pad)
    cached.load_state_dict(offline.state_dict())
    x = torch.randn(1, 2, sum(SIZES))
    assert _cached_conv_error(cached, offline, x) < 1e-5  # correct, but late:
    assert to_streaming(offline).delay == cached.cumulative_delay - 1
    assert _our_error(offline, x) < 1e-5


def test_strided_padding_keeps_the_last_samples_of_a_block() -> None:
    """The issue's own experiment: with cached_conv's "causal" padding for kernel 8, stride 4, an
    impulse in the last 3 samples of a chunk does not reach that chunk's output. With the kit's
    causal padding (span - stride on the left) every sample of the chunk does, at delay 0."""
    r = 4
    ours = Conv1d(1, 1, 2 * r, stride=r, padding=(r, 0), bias=False).eval()
    theirs = cc.convs.Conv1d(1, 1, 2 * r, stride=r, padding=cc.get_padding(2 * r, r, mode="causal"))
    theirs.eval().weight.data.copy_(ours.weight.data.abs() + 0.1)
    ours.weight.data.copy_(theirs.weight.data)
    theirs.bias.data.zero_()
    reached_ours, reached_theirs = [], []
    for d in range(1, r + 1):
        x = torch.zeros(1, 1, 2 * r)
        x[..., -d] = 1.0
        for offline, reached in ((ours, reached_ours), (theirs, reached_theirs)):
            stream = to_streaming(offline)
            assert stream.delay == 0
            with torch.no_grad():
                reached.append(bool(stream(x)[..., -1].abs().item() > 0))
    assert reached_ours == [True] * r
    assert reached_theirs == [False] * (r - 1) + [True]


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "cached_conv_ok"),
    [
        (4, 2, 1, True),
        (12, 4, 4, True),
        (8, 2, 1, False),
        (6, 2, 1, False),
        (9, 3, 1, False),
    ],
)
def test_transposed_conv_exact_where_cached_conv_is_not(
    kernel: int, stride: int, padding: int, cached_conv_ok: bool
) -> None:
    torch.manual_seed(kernel)
    offline = nn.ConvTranspose1d(2, 2, kernel, stride, padding).eval()
    cached = cc.CachedConvTranspose1d(2, 2, kernel, stride, padding)
    cached.load_state_dict(offline.state_dict())
    x = torch.randn(1, 2, sum(SIZES))
    assert (2 * padding == kernel - stride) == cached_conv_ok
    assert (_cached_conv_error(cached, offline, x) < 1e-5) == cached_conv_ok
    assert _our_error(offline, x) < 1e-5

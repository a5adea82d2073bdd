"""Every streamable layer type: offline output == streamed output shifted by the computed delay.

The reference is always the offline torch layer with the same weights; chunk sizes are random
multiples of the layer's chunk multiple; batch 1 and 4; eager and after TorchScript save/reload.
"""

import random
import zlib
from collections.abc import Callable

import pytest
import torch
from torch import nn

from nn_tilde.streaming import (
    Conv1d,
    ConvTranspose1d,
    Delay,
    aligned_outputs,
    random_chunk_sizes,
    run_chunked,
    scripted_roundtrip,
    to_streaming,
)

# torch 2.13 marks TorchScript deprecated; nn~ still loads TorchScript archives.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

C_IN, C_OUT = 3, 2

LAYERS: dict[str, Callable[[], nn.Module]] = {
    # nn.Conv1d: odd/even kernels, strides 1..4, dilation, groups, "same"/"valid" strings
    "conv_k3": lambda: nn.Conv1d(C_IN, C_OUT, 3, padding=1),
    "conv_k4_p1": lambda: nn.Conv1d(C_IN, C_OUT, 4, padding=1),
    "conv_k5_d2": lambda: nn.Conv1d(C_IN, C_OUT, 5, padding=4, dilation=2),
    "conv_k1": lambda: nn.Conv1d(C_IN, C_OUT, 1),
    "conv_same_str": lambda: nn.Conv1d(C_IN, C_OUT, 6, padding="same", dilation=3),
    "conv_valid_str": lambda: nn.Conv1d(C_IN, C_OUT, 3, padding="valid"),
    "conv_k3_s2": lambda: nn.Conv1d(C_IN, C_OUT, 3, stride=2, padding=1),
    "conv_k4_s2": lambda: nn.Conv1d(C_IN, C_OUT, 4, stride=2, padding=1),
    "conv_k8_s4": lambda: nn.Conv1d(C_IN, C_OUT, 8, stride=4, padding=2),
    "conv_k7_s3_d2": lambda: nn.Conv1d(C_IN, C_OUT, 7, stride=3, padding=6, dilation=2),
    "conv_k1_s4": lambda: nn.Conv1d(C_IN, C_OUT, 1, stride=4),
    "conv_k2_s4": lambda: nn.Conv1d(C_IN, C_OUT, 2, stride=4, padding=1),
    "conv_groups": lambda: nn.Conv1d(4, 6, 3, padding=1, groups=2),
    "conv_nobias_s2": lambda: nn.Conv1d(C_IN, C_OUT, 5, stride=2, padding=2, bias=False),
    # this package's asymmetric "same" conv
    "kit_conv_k4": lambda: Conv1d(C_IN, C_OUT, 4),
    "kit_conv_k5_s2": lambda: Conv1d(C_IN, C_OUT, 5, stride=2),
    "kit_conv_k9_s4_d2": lambda: Conv1d(C_IN, C_OUT, 9, stride=4, dilation=2),
    "kit_conv_causal_s4": lambda: Conv1d(C_IN, C_OUT, 8, stride=4, padding=(4, 0)),
    # nn.ConvTranspose1d: any kernel / stride / padding / output_padding / dilation
    "convt_k4_s2_p1": lambda: nn.ConvTranspose1d(C_IN, C_OUT, 4, stride=2, padding=1),
    "convt_k8_s2_p1": lambda: nn.ConvTranspose1d(C_IN, C_OUT, 8, stride=2, padding=1),
    "convt_k3_s1_p1": lambda: nn.ConvTranspose1d(C_IN, C_OUT, 3, padding=1),
    "convt_k5_s3_op": lambda: nn.ConvTranspose1d(C_IN, C_OUT, 5, 3, padding=2, output_padding=1),
    "convt_k2_s4": lambda: nn.ConvTranspose1d(C_IN, C_OUT, 2, stride=4),
    "convt_k4_s2_d3": lambda: nn.ConvTranspose1d(C_IN, C_OUT, 4, stride=2, padding=3, dilation=3),
    "convt_groups": lambda: nn.ConvTranspose1d(4, 6, 6, stride=2, padding=2, groups=2),
    # this package's exact-upsampling transposed conv
    "kit_convt_k7_s3": lambda: ConvTranspose1d(C_IN, C_OUT, 7, stride=3),
    "kit_convt_k16_s4": lambda: ConvTranspose1d(C_IN, C_OUT, 16, stride=4),
    "kit_convt_k1_s2": lambda: ConvTranspose1d(C_IN, C_OUT, 1, stride=2),
}


def _seed(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def _check(
    offline: nn.Module,
    stream: nn.Module,
    multiple: int,
    delay: int,
    batch: int,
    seed: int,
    n_chunks: int = 24,
    tail_frames: int = 64,
) -> None:
    rng = random.Random(seed)
    total = multiple * n_chunks
    sizes = random_chunk_sizes(total, multiple, rng, max_chunk=4)
    assert len(set(sizes)) > 1, "chunk sizes must vary"
    x = torch.randn(
        batch,
        offline_in_channels(offline),
        total,
        generator=torch.Generator().manual_seed(seed),
    )
    tail = multiple * -(-tail_frames // multiple)
    y, z = aligned_outputs(offline, stream, delay, x, sizes, tail)
    assert y.shape == z.shape and z.size(-1) > 0
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-4)


def offline_in_channels(m: nn.Module) -> int:
    for sub in m.modules():
        if isinstance(sub, (nn.Conv1d, nn.ConvTranspose1d)):
            return sub.in_channels
    raise AssertionError("no conv in model")


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_layer_matches_offline(name: str, batch: int, scripted: bool, tmp_path) -> None:
    torch.manual_seed(_seed(name))
    offline = LAYERS[name]().eval()
    stream = to_streaming(offline)
    delay, multiple = stream.delay, stream.chunk_multiple
    if scripted:
        stream = scripted_roundtrip(stream, str(tmp_path / "layer.ts"))
    _check(offline, stream, multiple, delay, batch, _seed(name, batch, scripted))


@pytest.mark.parametrize("name", ["conv_k3", "conv_k8_s4", "convt_k8_s2_p1", "kit_convt_k7_s3"])
@pytest.mark.parametrize("shift", [-1, 1])
def test_wrong_delay_fails(name: str, shift: int) -> None:
    """The comparison can fail: the same run shifted by one frame does not match."""
    torch.manual_seed(0)
    offline = LAYERS[name]().eval()
    stream = to_streaming(offline)
    if stream.delay + shift < 0:
        pytest.skip("delay 0 cannot be shifted left")
    with pytest.raises(AssertionError):
        _check(offline, stream, stream.chunk_multiple, stream.delay + shift, 1, 1)


@pytest.mark.parametrize("name", [n for n in sorted(LAYERS) if "convt" not in n])
def test_conv_delay_is_minimal(name: str) -> None:
    """Delay equals the causal bound: offline frame n reads input up to n*s - pad_left + span - 1,
    which is only complete once the stride block holding it has arrived."""
    conv = LAYERS[name]()
    stream = to_streaming(conv.eval())
    s, d, k = conv.stride[0], conv.dilation[0], conv.kernel_size[0]
    span = d * (k - 1) + 1
    if isinstance(conv, Conv1d):
        pad_left = conv.pad_left
    elif conv.padding == "same":
        pad_left = d * (k - 1) // 2  # torch puts the odd frame on the right
    elif conv.padding == "valid":
        pad_left = 0
    else:
        pad_left = conv.padding[0]
    assert stream.delay == max(0, (span - 1 - pad_left) // s)


@pytest.mark.parametrize("name", [n for n in sorted(LAYERS) if n.startswith("convt")])
def test_conv_transpose_delay_is_padding(name: str) -> None:
    """Offline y[j] needs input frame (j + padding) // stride, whose block ends at or after j +
    padding: the smallest exact delay is the padding."""
    conv = LAYERS[name]()
    assert to_streaming(conv.eval()).delay == conv.padding[0]


@pytest.mark.parametrize("name", ["conv_k4_s2", "conv_k7_s3_d2", "convt_k5_s3_op"])
@pytest.mark.parametrize("delay_in", [1, 2, 5])
def test_incoming_delay_is_absorbed(name: str, delay_in: int) -> None:
    """A layer told its input is ``delay_in`` frames late still matches offline when fed a stream
    that is actually that late, and reports the total delay."""
    torch.manual_seed(1)
    offline = LAYERS[name]().eval()
    stream = to_streaming(offline, delay_in=delay_in)
    m = stream.chunk_multiple

    def late(x: torch.Tensor) -> torch.Tensor:
        return stream(x)

    rng = random.Random(delay_in)
    total = m * 20
    x = torch.randn(2, offline.in_channels, total)
    x_late = torch.nn.functional.pad(x, [delay_in, 0])[..., :total]
    # the stream sees x delayed by delay_in; frames before the signal are garbage, not zeros
    x_late[..., :delay_in] = torch.randn(2, offline.in_channels, delay_in)
    sizes = random_chunk_sizes(total, m, rng, max_chunk=4)
    z = run_chunked(late, x_late, sizes)
    y = offline(torch.nn.functional.pad(x, [0, 16 * m]))
    n = z.size(-1) - stream.delay
    torch.testing.assert_close(z[..., stream.delay :], y[..., :n], atol=1e-5, rtol=1e-4)


def test_unequal_chunks_and_single_frame_chunks() -> None:
    """Chunks of exactly one stride block, mixed with long ones, for a long transposed kernel."""
    torch.manual_seed(2)
    offline = ConvTranspose1d(C_IN, C_OUT, 16, stride=2).eval()
    stream = to_streaming(offline)
    x = torch.randn(1, C_IN, 40)
    sizes = [1, 1, 9, 1, 2, 1, 17, 1, 1, 6]
    assert sum(sizes) == 40
    y, z = aligned_outputs(offline, stream, stream.delay, x, sizes, 16)
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("length", [0, 1, 5, 40])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_delay_line(length: int, batch: int, scripted: bool, tmp_path) -> None:
    """A delay line is the identity shifted by its length, across random chunks and resets."""
    line = Delay(length)
    assert line.delay == length
    if scripted:
        line = scripted_roundtrip(line, str(tmp_path / "delay.ts"))
    x = torch.randn(batch, 3, 60)
    sizes = random_chunk_sizes(60, 1, random.Random(length), max_chunk=9)
    for _ in range(2):
        z = run_chunked(line, x, sizes)
        torch.testing.assert_close(z[..., length:], x[..., : 60 - length], atol=0, rtol=0)
        assert not z[..., :length].any()
        line.reset()

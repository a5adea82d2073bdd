"""Whole models: offline == streaming after the computed delay, for models mixing strided convs,
transposed convs, residual and parallel branches (summed and concatenated), weight norm, plain
torch layers and cached_conv's offline layers; plus reset, batch changes, state and errors."""

import random
import zlib
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

from nn_tilde.streaming import (
    Branches,
    Conv1d,
    ConvTranspose1d,
    Residual,
    aligned_outputs,
    input_frames_delay,
    random_chunk_sizes,
    run_chunked,
    scripted_roundtrip,
    to_streaming,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

CH = 4


def res_block(ch: int, dilation: int) -> nn.Module:
    return Residual(
        nn.Sequential(
            nn.LeakyReLU(0.2),
            Conv1d(ch, ch, 3, dilation=dilation),
            nn.GELU(),
            Conv1d(ch, ch, 1),
        )
    )


def encoder_decoder() -> nn.Module:
    """RAVE-like: down 2 then 4 with dilated residual stacks, up 4 then 2, audio rate in and out."""
    return nn.Sequential(
        Conv1d(1, CH, 7),
        res_block(CH, 1),
        Conv1d(CH, CH, 4, stride=2),
        res_block(CH, 3),
        Conv1d(CH, CH, 8, stride=4),
        nn.Tanh(),
        ConvTranspose1d(CH, CH, 8, stride=4),
        res_block(CH, 1),
        ConvTranspose1d(CH, CH, 4, stride=2),
        res_block(CH, 3),
        Conv1d(CH, 1, 7),
    )


def strided_parallel() -> nn.Module:
    """Branches with different strides, kernels and delays, concatenated, then summed branches
    where one branch goes down and back up."""
    return nn.Sequential(
        Conv1d(1, CH, 3),
        Branches(
            Conv1d(CH, 2, 5, stride=2),
            nn.Sequential(Conv1d(CH, 2, 3), Conv1d(2, 2, 8, stride=2)),
            nn.Conv1d(CH, 2, 1, stride=2),
            mode="cat",
        ),
        Branches(
            nn.Identity(),
            nn.Sequential(Conv1d(6, 6, 6, stride=3), nn.ReLU(), ConvTranspose1d(6, 6, 9, stride=3)),
            Conv1d(6, 6, 9, dilation=2),
        ),
        Conv1d(6, 2, 3),
    )


def plain_torch_weight_norm() -> nn.Module:
    """Only torch layers, symmetric paddings, odd output lengths, weight norm in both flavours."""
    legacy_wn = torch.nn.utils.weight_norm  # deprecated API still used by older checkpoints
    with pytest.warns(FutureWarning):
        legacy = legacy_wn(nn.Conv1d(CH, CH, 5, padding=2))
    return nn.Sequential(
        parametrizations.weight_norm(nn.Conv1d(1, CH, 5, stride=2, padding=2)),
        nn.PReLU(CH),
        legacy,
        nn.BatchNorm1d(CH),
        parametrizations.weight_norm(nn.ConvTranspose1d(CH, CH, 6, stride=2, padding=1)),
        nn.Dropout(0.5),
        nn.Conv1d(CH, 1, 4, padding="same"),
    )


def encoder_only() -> nn.Module:
    """Audio in, latent frames out (ratio 1/16): the delay is counted in latent frames."""
    return nn.Sequential(
        Conv1d(1, CH, 5, stride=2),
        res_block(CH, 2),
        Conv1d(CH, CH, 16, stride=8),
        Conv1d(CH, 3, 3),
    )


MODELS: dict[str, Callable[[], nn.Module]] = {
    "encoder_decoder": encoder_decoder,
    "strided_parallel": strided_parallel,
    "plain_torch_weight_norm": plain_torch_weight_norm,
    "encoder_only": encoder_only,
}


def _seed(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def _build(name: str) -> nn.Module:
    torch.manual_seed(_seed(name))
    model = MODELS[name]()
    for m in model.modules():  # make eval-mode BatchNorm non-trivial
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def _compare(offline, stream, delay: int, multiple: int, batch: int, seed: int) -> None:
    rng = random.Random(seed)
    total = multiple * 24
    sizes = random_chunk_sizes(total, multiple, rng, max_chunk=5)
    assert len(set(sizes)) > 1
    x = torch.randn(batch, 1, total, generator=torch.Generator().manual_seed(seed))
    y, z = aligned_outputs(offline, stream, delay, x, sizes, tail=multiple * 32)
    assert z.size(-1) >= 8
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_model_matches_offline(name: str, batch: int, scripted: bool, tmp_path) -> None:
    offline = _build(name)
    stream = to_streaming(offline)
    delay, multiple = stream.delay, stream.chunk_multiple
    assert delay > 0
    if scripted:
        stream = scripted_roundtrip(stream, str(tmp_path / "model.ts"))
        assert (stream.delay, stream.chunk_multiple) == (
            delay,
            multiple,
        )  # readable after load
    _compare(offline, stream, delay, multiple, batch, _seed(name, batch, scripted))


def test_bookkeeping_of_rates_and_multiples() -> None:
    enc = to_streaming(_build("encoder_only"))
    assert (enc.ratio_num, enc.ratio_den, enc.chunk_multiple) == (1, 16, 16)
    ed = to_streaming(_build("encoder_decoder"))
    assert (ed.ratio_num, ed.ratio_den, ed.chunk_multiple) == (1, 1, 8)
    sp = to_streaming(_build("strided_parallel"))
    assert (sp.ratio_num, sp.ratio_den, sp.chunk_multiple) == (1, 2, 6)
    # the delay in input samples: latent frames are 16 input samples, audio frames 1
    assert input_frames_delay(enc) == 16 * enc.delay
    assert input_frames_delay(ed) == ed.delay
    assert input_frames_delay(sp) == 2 * sp.delay


@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_chunk_not_multiple_of_stride_is_refused(scripted: bool, tmp_path) -> None:
    stream = to_streaming(_build("encoder_only"))
    if scripted:
        stream = scripted_roundtrip(stream, str(tmp_path / "m.ts"))
    with pytest.raises((ValueError, torch.jit.Error), match="chunk_multiple"):
        stream(torch.randn(1, 1, 24))


def test_split_encoder_decoder_composes(tmp_path) -> None:
    """Encoder and decoder converted separately (the decoder told the encoder's delay) compose
    into the same stream, with the same delay, as the whole model converted at once."""
    model = _build("encoder_decoder")
    enc_off, dec_off = model[:6].eval(), model[6:].eval()
    enc = to_streaming(enc_off)
    dec = to_streaming(dec_off, delay_in=enc.delay)
    whole = to_streaming(model)
    assert dec.delay == whole.delay
    enc_s = scripted_roundtrip(enc, str(tmp_path / "enc.ts"))
    dec_s = scripted_roundtrip(dec, str(tmp_path / "dec.ts"))
    _compare(model, lambda x: dec_s(enc_s(x)), dec.delay, enc.chunk_multiple, 4, 7)


@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_reset_restarts_and_batch_changes(scripted: bool, tmp_path) -> None:
    offline = _build("strided_parallel")
    stream = to_streaming(offline)
    delay, m = stream.delay, stream.chunk_multiple
    if scripted:
        stream = scripted_roundtrip(stream, str(tmp_path / "m.ts"))
    x = torch.randn(4, 1, m * 12)
    first = run_chunked(stream, x, [m * 3, m, m * 8])
    stream.reset()
    again = run_chunked(stream, x, [m * 5, m * 7])
    torch.testing.assert_close(again, first, atol=1e-6, rtol=1e-5)
    # continuing without reset is a different (later) part of the stream
    assert not torch.allclose(run_chunked(stream, x, [m * 12]), first, atol=1e-3)
    # a batch change starts a new stream: batch 1 after batch 4 equals a fresh batch-1 run
    single = run_chunked(stream, x[1:2], [m * 2, m * 10])
    torch.testing.assert_close(single, first[1:2], atol=1e-6, rtol=1e-5)
    stream.reset()
    _compare(offline, stream, delay, m, 1, 3)


def test_caches_are_not_state(tmp_path) -> None:
    """No cache in the eager state_dict; after reset() a saved file carries no stream state."""
    offline = _build("encoder_decoder")
    stream = to_streaming(offline)
    keys = set(stream.state_dict())
    assert not any(k.endswith("cache") for k in keys)
    assert len(keys) == len(offline.state_dict())
    stream(torch.randn(2, 1, 64))
    caches = [b for n, b in stream.named_buffers() if n.endswith("cache")]
    assert caches and all(c.size(0) == 2 and not c.requires_grad for c in caches)
    stream.reset()
    loaded = scripted_roundtrip(stream, str(tmp_path / "m.ts"))
    assert all(b.size(0) == 0 for n, b in loaded.named_buffers() if n.endswith("cache"))


def test_weights_are_shared_not_copied() -> None:
    offline = _build("encoder_decoder")
    stream = to_streaming(offline)
    offline_ids = {id(p) for p in offline.parameters()}
    stream_ids = {id(p) for p in stream.parameters()}
    assert stream_ids == offline_ids


def test_cached_conv_offline_layers_convert() -> None:
    """A model built with cached_conv in its (default) offline mode converts to our streaming
    form: its offline layers are fine, only its cached ones are not used."""
    cc = pytest.importorskip("cached_conv")
    cc.use_cached_conv(False)
    torch.manual_seed(5)
    model = cc.CachedSequential(
        cc.Conv1d(1, CH, 5, padding=cc.get_padding(5)),
        nn.ReLU(),
        cc.Conv1d(CH, CH, 4, stride=2, padding=cc.get_padding(4, 2)),
        cc.ConvTranspose1d(CH, CH, 4, stride=2, padding=1),
        cc.Conv1d(CH, 1, 3, padding=cc.get_padding(3)),
    ).eval()
    stream = to_streaming(model)
    _compare(model, stream, stream.delay, stream.chunk_multiple, 4, 11)


def test_training_mode_warns_and_unsupported_modules_raise() -> None:
    with pytest.warns(UserWarning, match="eval"):
        to_streaming(nn.Sequential(nn.Conv1d(1, 1, 3, padding=1)))
    with pytest.raises(TypeError, match="GroupNorm"):
        to_streaming(nn.Sequential(nn.Conv1d(1, 2, 3), nn.GroupNorm(1, 2)).eval())
    with pytest.raises(ValueError, match="padding_mode"):
        to_streaming(nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect").eval())
    with pytest.raises(ValueError, match="frame rate"):
        to_streaming(Branches(nn.Identity(), Conv1d(1, 1, 3, stride=2)).eval())
    with pytest.raises(ValueError, match="left padding"):
        to_streaming(nn.Conv1d(1, 1, 3, padding=3).eval())


class Snake(nn.Module):
    """A pointwise activation the converter does not know until registered."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.rand(1, channels, 1) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.sin(self.alpha * x) ** 2 / self.alpha


class DownBlock(nn.Module):
    """A user block with its own forward, streamable through the ``to_streaming`` protocol."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.res = res_block(channels, 2)
        self.down = Conv1d(channels, channels, 4, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.res(x))

    def to_streaming(self, delay_in: int):
        from nn_tilde.streaming import convert_sequence

        return convert_sequence([self.res, self.down], delay_in)


def test_extension_points(tmp_path) -> None:
    from nn_tilde.streaming import register_pointwise

    torch.manual_seed(9)
    model = nn.Sequential(Conv1d(1, CH, 3), Snake(CH), DownBlock(CH), Conv1d(CH, 1, 5)).eval()
    with pytest.raises(TypeError, match="Snake"):
        to_streaming(model)
    register_pointwise(Snake)
    stream = to_streaming(model)
    loaded = scripted_roundtrip(stream, str(tmp_path / "m.ts"))
    _compare(model, loaded, stream.delay, stream.chunk_multiple, 4, 9)

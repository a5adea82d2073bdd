"""The RAVE-style autoencoder: each streaming method equals the offline one after its delay."""

import random

import pytest
import torch

from nn_tilde.models.autoencoder import AutoEncoder, StreamingAutoEncoder
from nn_tilde.streaming import aligned_outputs, random_chunk_sizes, scripted_roundtrip

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

LATENT, RATIO = 4, 8

# every variant has ratio 8: no PQMF (strides 4, 2), or 4 PQMF bands and one stride-2 stage
VARIANTS = {
    "plain": dict(ratios=(4, 2)),
    "pqmf": dict(ratios=(2,), n_bands=4),
    "pqmf_causal": dict(ratios=(2,), n_bands=4, causal=True),
    "causal": dict(ratios=(4, 2), causal=True),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def models(request, tmp_path_factory) -> tuple[AutoEncoder, StreamingAutoEncoder, torch.nn.Module]:
    torch.manual_seed(0)
    model = AutoEncoder(
        latent=LATENT, capacity=4, dilations=(1, 3), **VARIANTS[request.param]
    ).eval()
    stream = model.streaming()
    path = tmp_path_factory.mktemp("ae") / "ae.ts"
    return model, stream, scripted_roundtrip(stream, str(path))


@pytest.mark.parametrize("method", ["encode", "decode", "forward"])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_method_matches_offline(models, method: str, batch: int, scripted: bool) -> None:
    model, stream, loaded = models
    target = loaded if scripted else stream
    target.reset()
    delay = {"encode": stream.encode_delay, "decode": stream.decode_delay}.get(
        method, stream.forward_delay
    )
    gen = torch.Generator().manual_seed(batch)
    if method == "decode":
        x, multiple, tail = torch.randn(batch, LATENT, 48, generator=gen), 1, 32
    else:
        x, multiple, tail = (
            torch.randn(batch, 1, RATIO * 40, generator=gen),
            RATIO,
            RATIO * 32,
        )
    sizes = random_chunk_sizes(x.size(-1), multiple, random.Random(batch), max_chunk=5)
    assert len(set(sizes)) > 1
    y, z = aligned_outputs(getattr(model, method), getattr(target, method), delay, x, sizes, tail)
    assert z.size(-1) >= 8 and y.abs().max() > 1e-3
    torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-4)


def test_shapes_and_bookkeeping(models) -> None:
    model, stream, loaded = models
    x = torch.randn(2, 1, RATIO * 6)
    mean, std = model.posterior(x)
    assert mean.shape == std.shape == (2, LATENT, 6) and bool((std > 0).all())
    assert model.ratio == stream.ratio == loaded.ratio == RATIO
    assert stream.latency_samples == stream.forward_delay == loaded.forward_delay
    # the decoder has no strided conv, so delays just add up (encoder's counted in samples)
    assert stream.forward_delay == stream.encode_delay * RATIO + stream.decode_delay
    if model.n_bands > 1 and model.causal:  # only the PQMF delays
        assert stream.encode_delay == 0
        assert stream.forward_delay == stream.decode_delay == 64 - 4  # taps - bands
    loaded.reset()
    assert loaded.forward(x).shape == x.shape
    assert loaded.encode(x).shape == (2, LATENT, 6)
    assert loaded.decode(torch.randn(2, LATENT, 6)).shape == x.shape


def test_causal_pqmf_latency_is_the_filter_bank_s() -> None:
    """The default training config's shape (16 bands, causal): 240 samples, whatever the depth."""
    model = AutoEncoder(latent=2, capacity=2, ratios=(2, 4), dilations=(1,), n_bands=16)
    stream = (
        AutoEncoder(latent=2, capacity=2, ratios=(2, 4), dilations=(1,), n_bands=16, causal=True)
        .eval()
        .streaming()
    )
    assert model.ratio == stream.ratio == 128
    assert (stream.encode_delay, stream.decode_delay, stream.forward_delay) == (0, 240, 240)


def test_pqmf_needs_mono() -> None:
    with pytest.raises(ValueError, match="mono"):
        AutoEncoder(in_channels=2, n_bands=4)


def test_streaming_requires_eval() -> None:
    with pytest.raises(ValueError, match="eval"):
        AutoEncoder(capacity=2, ratios=(2,), dilations=(1,)).streaming()

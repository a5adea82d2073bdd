"""PQMF filter bank: near-perfect reconstruction, and streaming == offline after the computed delay.

Measured here (white noise, 16 bands, 256 taps, 100 dB Kaiser): analysis -> synthesis is the
identity to about 58 dB SNR (max error about 6e-3 on unit-variance noise), centred or causal.
"""

import math
import random

import pytest
import torch
from torch import nn

from nn_tilde.streaming import aligned_outputs, random_chunk_sizes, scripted_roundtrip, to_streaming
from nn_tilde.streaming.pqmf import (
    PQMFAnalysis,
    PQMFSynthesis,
    _nyquist_error,
    _prototype,
    default_taps,
    design_prototype,
    pqmf_filters,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


def _snr_db(x: torch.Tensor, y: torch.Tensor, margin: int) -> float:
    e = (y - x)[..., margin:-margin]
    return float(10 * torch.log10(x[..., margin:-margin].pow(2).mean() / e.pow(2).mean()))


@pytest.mark.parametrize("bands", [2, 4, 16])
def test_prototype_is_nearly_nyquist(bands: int) -> None:
    """The optimised cut-off makes p * p a 2M-th band filter to better than 1e-3."""
    h, err = design_prototype(bands, default_taps(bands))
    assert h.shape == (default_taps(bands),)
    assert abs(h.sum() - 1) < 1e-9 and err < 1e-3
    # and a cut-off away from the optimum is clearly worse: the search does something
    beta = 0.1102 * (100 - 8.7)
    assert _nyquist_error(_prototype(len(h), 1.2 * math.pi / (2 * bands), beta), bands) > 10 * err


@pytest.mark.parametrize("bands", [4, 16])
@pytest.mark.parametrize("causal", [False, True], ids=["centred", "causal"])
def test_reconstruction(bands: int, causal: bool) -> None:
    """synthesis(analysis(x)) == x (no lag) to > 55 dB on noise and on a swept sine."""
    torch.manual_seed(0)
    taps = default_taps(bands)
    a, s = PQMFAnalysis(bands, causal=causal), PQMFSynthesis(bands, causal=causal)
    n = bands * 1024
    t = torch.arange(n) / 44100
    sweep = torch.sin(2 * torch.pi * (50 + 10000 * t / t[-1]) * t)
    for x in (torch.randn(2, 1, n), sweep.view(1, 1, n)):
        with torch.no_grad():
            bands_ = a(x)
            y = s(bands_)
        assert bands_.shape == (x.size(0), bands, n // bands) and y.shape == x.shape
        assert _snr_db(x, y, 2 * taps) > 55
    # a one-sample shift would wreck it: the bank really is aligned
    assert _snr_db(x[..., 1:], y[..., :-1], 2 * taps) < 20


def test_bands_split_the_spectrum() -> None:
    """A sine in band k's passband leaves almost all its energy in band k."""
    bands = 16
    a = PQMFAnalysis(bands)
    n = bands * 512
    for k in (0, 5, 15):
        f = (k + 0.5) / (2 * bands)  # centre of band k, cycles per sample
        x = torch.sin(2 * torch.pi * f * torch.arange(n)).view(1, 1, n)
        with torch.no_grad():
            energy = a(x)[..., 32:-32].pow(2).mean(-1)[0]
        assert int(energy.argmax()) == k
        assert float(energy[k] / energy.sum()) > 0.99


def test_filters_are_fixed_and_mirrored() -> None:
    a, s = PQMFAnalysis(4), PQMFSynthesis(4)
    assert not a.conv.weight.requires_grad and not s.conv.weight.requires_grad
    torch.testing.assert_close(a.conv.weight[:, 0], pqmf_filters(4, default_taps(4)))
    torch.testing.assert_close(s.conv.weight[:, 0], 4 * a.conv.weight[:, 0])


@pytest.mark.parametrize("bad", [(3, 0), (1, 0), (4, 31), (4, 6)])
def test_rejects_bad_sizes(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="PQMF"):
        PQMFAnalysis(*bad)


BANKS = {
    "analysis": lambda c: PQMFAnalysis(16, causal=c),
    "synthesis": lambda c: PQMFSynthesis(16, causal=c),
    "roundtrip": lambda c: nn.Sequential(PQMFAnalysis(16, causal=c), PQMFSynthesis(16, causal=c)),
}
# delay = (context + delay_in - pad_left) / M for the strided analysis conv (context = taps - M
# here), crop_left + M * delay_in for the synthesis: analysis 8 frames centred, 0 causal; the
# round trip (taps - M) + 8 = 248 samples centred, taps - M = 240 causal
DELAYS = {
    ("analysis", False): 8,
    ("analysis", True): 0,
    ("synthesis", False): 120,
    ("synthesis", True): 240,
    ("roundtrip", False): 248,
    ("roundtrip", True): 240,
}


@pytest.mark.parametrize("name", sorted(BANKS))
@pytest.mark.parametrize("causal", [False, True], ids=["centred", "causal"])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("scripted", [False, True], ids=["eager", "script"])
def test_streaming_matches_offline(
    name: str, causal: bool, batch: int, scripted: bool, tmp_path
) -> None:
    offline = BANKS[name](causal).eval()
    stream = to_streaming(offline)
    delay, multiple = stream.delay, stream.chunk_multiple
    assert delay == DELAYS[name, causal]
    if scripted:
        stream = scripted_roundtrip(stream, str(tmp_path / "pqmf.ts"))
    gen = torch.Generator().manual_seed(batch)
    channels = 16 if name == "synthesis" else 1
    x = torch.randn(batch, channels, multiple * 60, generator=gen)
    sizes = random_chunk_sizes(x.size(-1), multiple, random.Random(batch), max_chunk=6)
    assert len(set(sizes)) > 1
    tail = multiple * 40
    for _ in range(2):  # and again after a reset
        y, z = aligned_outputs(offline, stream, delay, x, sizes, tail)
        assert z.size(-1) > 50 and y.abs().max() > 1e-2
        torch.testing.assert_close(z, y, atol=1e-5, rtol=1e-4)
        stream.reset()


@pytest.mark.parametrize("shift", [-1, 1])
def test_wrong_delay_fails(shift: int) -> None:
    offline = BANKS["roundtrip"](True).eval()
    stream = to_streaming(offline)
    x = torch.randn(1, 1, 16 * 60)
    sizes = random_chunk_sizes(x.size(-1), 16, random.Random(0), max_chunk=6)
    y, z = aligned_outputs(offline, stream, stream.delay + shift, x, sizes, 16 * 40)
    assert not torch.allclose(z, y, atol=1e-3)

"""Pseudo-QMF (cosine-modulated) filter bank: split audio into ``M`` critically sampled bands and
put it back together, as streamable layers.

Design (Lin & Vaidyanathan 1998, "A Kaiser window approach for the design of prototype filters
of cosine modulated filterbanks"): the prototype lowpass ``p`` (``taps`` coefficients, cut-off
``wc`` near ``pi / (2M)``) is a Kaiser-windowed sinc. Near-perfect reconstruction asks that
``p * p`` be a ``2M``-th band (Nyquist) filter, i.e. that its samples at ``taps - 1 + 2M l``
vanish for every ``l != 0``; the single free parameter ``wc`` is chosen by a golden-section
search to minimise the largest of them. Band ``k`` is the prototype modulated by
``cos((2k + 1) pi / (2M) (n - (taps - 1) / 2) + (-1)^k pi / 4)``; the synthesis filters are the
analysis filters reversed, so aliasing between neighbouring bands cancels and the whole bank is
linear phase.

* ``PQMFAnalysis``: x ``[B, 1, T]`` -> bands ``[B, M, T / M]`` (a strided ``Conv1d``).
* ``PQMFSynthesis``: bands ``[B, M, T']`` -> x ``[B, 1, T' * M]`` (a ``ConvTranspose1d``).

Offline, ``synthesis(analysis(x)) ~= x`` with no shift: both use centred padding (the analysis
pads ``ceil((taps - M) / 2)`` on the left, the synthesis crops as many), so the bank adds no
delay offline and training sees aligned signals. Streamed (``to_streaming``), each becomes a
cached conv whose delay is computed by the conversion like any other layer's. The filters are
fixed buffers, not trained parameters; numpy is only needed to design them.
"""

import math
from typing import Tuple

import numpy as np
import torch
from torch import Tensor, nn

from nn_tilde.streaming.base import StreamingModule
from nn_tilde.streaming.convert import to_streaming
from nn_tilde.streaming.layers import Conv1d, ConvTranspose1d


def _prototype(taps: int, cutoff: float, beta: float) -> np.ndarray:
    """Kaiser-windowed ideal lowpass, cut-off ``cutoff`` (radians / sample), unit DC gain."""
    n = np.arange(taps) - (taps - 1) / 2
    h = cutoff / math.pi * np.sinc(cutoff / math.pi * n) * np.kaiser(taps, beta)
    return h / h.sum()


def _nyquist_error(h: np.ndarray, bands: int) -> float:
    """Largest |(h * h)[taps - 1 + 2M l]|, l != 0, relative to the centre sample."""
    c = np.convolve(h, h)
    centre = len(h) - 1
    side = np.concatenate([c[centre + 2 * bands :: 2 * bands], c[centre - 2 * bands :: -2 * bands]])
    return float(np.abs(side).max() / abs(c[centre]))


def design_prototype(bands: int, taps: int, attenuation: float = 100.0) -> Tuple[np.ndarray, float]:
    """(prototype ``[taps]``, relative Nyquist error) for an ``M``-band PQMF.

    ``attenuation`` (dB) sets the Kaiser beta (Kaiser's formula); the cut-off is searched in
    ``(0.5, 1.5) * pi / (2M)`` by golden section (the error is unimodal there in practice).
    """
    if attenuation > 50:
        beta = 0.1102 * (attenuation - 8.7)
    elif attenuation > 21:
        beta = 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    else:
        beta = 0.0
    centre = math.pi / (2 * bands)
    lo, hi = 0.5 * centre, 1.5 * centre
    g = (math.sqrt(5) - 1) / 2

    def cost(w: float) -> float:
        return _nyquist_error(_prototype(taps, w, beta), bands)

    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = cost(a), cost(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = cost(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = cost(b)
    w = (lo + hi) / 2
    h = _prototype(taps, w, beta)
    return h, _nyquist_error(h, bands)


def pqmf_filters(bands: int, taps: int, attenuation: float = 100.0) -> Tensor:
    """Analysis filters ``[M, taps]`` (float32), written as conv1d (cross-correlation) weights.

    Cross-correlating with ``h_k`` is convolving with its reverse, the synthesis filter
    ``f_k``; the transposed conv of the synthesis convolves with ``h_k``. The cascade is thus
    ``f_k * h_k`` per band, as in the textbook bank, whichever way round it is written.
    """
    proto, _ = design_prototype(bands, taps, attenuation)
    n = np.arange(taps) - (taps - 1) / 2
    k = np.arange(bands)[:, None]
    phase = (-1.0) ** k * math.pi / 4
    h = 2 * proto[None] * np.cos((2 * k + 1) * math.pi / (2 * bands) * n[None] + phase)
    return torch.from_numpy(h.astype(np.float32))


def default_taps(bands: int) -> int:
    """Prototype length: 16 coefficients per band (``taps - M`` even, so padding is centred)."""
    return 16 * bands


def _check(bands: int, taps: int) -> None:
    if bands < 2 or bands & (bands - 1):
        raise ValueError(f"PQMF bands must be a power of two >= 2, not {bands}")
    if taps < 2 * bands or (taps - bands) % 2:
        raise ValueError(f"PQMF taps must be >= 2 * bands and taps - bands even, not {taps}")


class PQMFAnalysis(nn.Module):
    """x ``[B, 1, T]`` (T a multiple of ``bands``) -> bands ``[B, M, T / M]``.

    ``causal=False``: centred padding, no offline delay. ``causal=True``: all the padding on
    the left, so the bands lag the audio by ``(taps - M) / 2`` samples offline and a causal
    encoder behind it needs no lookahead at all (its streaming delay is 0); the matching
    ``PQMFSynthesis(causal=True)`` crops that lag away again.
    """

    def __init__(
        self, bands: int, taps: int = 0, attenuation: float = 100.0, causal: bool = False
    ) -> None:
        super().__init__()
        taps = taps or default_taps(bands)
        _check(bands, taps)
        self.bands: int = bands
        pad = (taps - bands, 0) if causal else None
        self.conv = Conv1d(1, bands, taps, stride=bands, bias=False, padding=pad)
        self.conv.weight.data.copy_(pqmf_filters(bands, taps, attenuation)[:, None, :])
        self.conv.weight.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)

    def to_streaming(self, delay_in: int) -> StreamingModule:
        return to_streaming(self.conv, delay_in)


class PQMFSynthesis(nn.Module):
    """bands ``[B, M, T']`` -> x ``[B, 1, T' * M]``: the inverse of ``PQMFAnalysis``.

    The band signals are critically sampled, so the synthesis multiplies by ``M`` (folded into
    its weights) to restore the level lost by keeping one sample in ``M``. ``causal`` must match
    the analysis the bands came from.
    """

    def __init__(
        self, bands: int, taps: int = 0, attenuation: float = 100.0, causal: bool = False
    ) -> None:
        super().__init__()
        taps = taps or default_taps(bands)
        _check(bands, taps)
        self.bands: int = bands
        analysis = PQMFAnalysis(bands, taps, attenuation, causal).conv
        self.conv = ConvTranspose1d(bands, 1, taps, stride=bands, bias=False)
        # the analysis output m is centred on input sample m*M - pad_left + (taps - 1) / 2, the
        # full transposed conv puts band frame m's response centred on m*M + (taps - 1) / 2:
        # cropping pad_left output samples lines the two up (no lag offline, causal or not)
        self.conv.crop_left = analysis.pad_left
        self.conv.weight.data.copy_(bands * pqmf_filters(bands, taps, attenuation)[:, None, :])
        self.conv.weight.requires_grad_(False)

    def forward(self, bands: Tensor) -> Tensor:
        return self.conv(bands)

    def to_streaming(self, delay_in: int) -> StreamingModule:
        return to_streaming(self.conv, delay_in)

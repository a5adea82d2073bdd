"""DDSP synthesisers that stream: harmonic wavetable oscillator, filtered noise, learned reverb.

Each module is its own offline model: one call on a whole signal after ``reset()`` gives the
offline output, and the same signal cut into chunks (whole frames) gives the same samples, because
every bit of the past that matters (phase, last frame, overlap-add tail, noise position, reverb
tail) lives in non-persistent buffers, as in ``nn_tilde.streaming`` (see its ``base.py``).

Why a wavetable and not a bank of sines: a bank of 60 sines costs 60 multiply-adds, a sine and a
phase per output sample (2.6 M sines per second at 44.1 kHz). Within one frame the 60 amplitudes are
constant, so the sum of harmonics is one periodic waveform: it is computed once per frame as a
table of ``table_size`` samples (a [60] x [60, table_size + 1] matrix product: the inverse Fourier
series, band-limited by zeroing the harmonics at or above Nyquist for that frame's f0) and read at
a persistent phase with linear interpolation. Between frames the old and the new table are read at
the same phase and crossfaded linearly, which is the linear amplitude interpolation of DDSP's
oscillator bank. The phase follows f0 interpolated linearly across the frame, integrated in closed
form, so pitch glides are exact and the phase never drifts between chunkings (frame phases are
accumulated in float64).
"""

import math

import torch
from torch import Tensor, nn

from nn_tilde.streaming.base import StreamingModule


def exp_sigmoid(x: Tensor, exponent: float = 10.0, max_value: float = 2.0) -> Tensor:
    """DDSP's scaled sigmoid: ``max_value * sigmoid(x) ** log(exponent) + 1e-7`` (positive)."""
    return max_value * torch.sigmoid(x) ** math.log(exponent) + 1e-7


class HarmonicSynth(StreamingModule):
    """Harmonic oscillator bank as a per-frame wavetable.

    forward(f0, amps): f0 [B, K] in Hz (0 = unvoiced), amps [B, K, n_harmonics] linear amplitudes
    of harmonics 1..n -> audio [B, K * hop]. Frame k's table is reached at the last sample of
    output hop k (crossfade from frame k - 1 over the hop). Harmonics at or above Nyquist, or below
    20 Hz (which also silences unvoiced frames), are zeroed. Delay 0 (causal, frame-synchronous).
    """

    def __init__(
        self,
        n_harmonics: int = 60,
        sample_rate: int = 44100,
        hop: int = 512,
        table_size: int = 1024,
    ) -> None:
        super().__init__(0, chunk_multiple=1, ratio_num=hop)
        self.n_harmonics: int = n_harmonics
        self.sample_rate: float = float(sample_rate)
        self.hop: int = hop
        self.table_size: int = table_size
        j = torch.arange(table_size + 2, dtype=torch.float64) / table_size  # wrap columns
        h = torch.arange(1, n_harmonics + 1, dtype=torch.float64)
        self.register_buffer(
            "basis", torch.sin(2 * math.pi * h[:, None] * j[None, :]).float(), persistent=False
        )
        self.register_buffer("harmonics", h.float(), persistent=False)
        n = torch.arange(hop, dtype=torch.float64)
        # phase (in cycles) at sample n of a frame whose f0 goes linearly from f_prev to f_cur:
        #   f_prev * n / sr + (f_cur - f_prev) * n (n + 1) / (2 hop sr)
        # = f_prev * ramp_a + f_cur * ramp_b
        self.register_buffer(
            "ramp_a", ((n - n * (n + 1) / (2 * hop)) / sample_rate).float(), persistent=False
        )
        self.register_buffer(
            "ramp_b", (n * (n + 1) / (2 * hop * sample_rate)).float(), persistent=False
        )
        self.register_buffer("fade", ((n + 1) / hop).float(), persistent=False)
        self.register_buffer("phase", torch.zeros(0, 1, dtype=torch.float64), persistent=False)
        self.register_buffer("last_f0", torch.zeros(0, 1), persistent=False)
        self.register_buffer("last_table", torch.zeros(0, 1, table_size + 2), persistent=False)
        # phase advance over a frame, (f_prev (hop - 1) + f_cur (hop + 1)) / (2 sr)
        self.inc_prev: float = (hop - 1) / (2.0 * sample_rate)
        self.inc_cur: float = (hop + 1) / (2.0 * sample_rate)

    def mask(self, f0: Tensor) -> Tensor:
        """Harmonics the synth can play: f0 [B, K] -> bool [B, K, H] (20 Hz <= h f0 < Nyquist)."""
        freqs = f0.unsqueeze(-1) * self.harmonics
        return (freqs < 0.5 * self.sample_rate) & (freqs >= 20.0)

    def forward(self, f0: Tensor, amps: Tensor, masked: bool = False) -> Tensor:
        """f0 [B, K], amps [B, K, H] (``masked``: zero outside ``mask(f0)``) -> [B, K * hop]."""
        B, K = f0.size(0), f0.size(1)
        f0 = f0.clamp(min=0.0)  # negative "frequencies" would make phases negative
        if self.phase.size(0) != B:
            self.phase = torch.zeros(B, 1, dtype=torch.float64, device=f0.device)
            self.last_f0 = torch.zeros(B, 1, dtype=f0.dtype, device=f0.device)
            self.last_table = torch.zeros(
                B, 1, self.table_size + 2, dtype=f0.dtype, device=f0.device
            )
        if not masked:
            amps = amps * self.mask(f0)
        table = torch.matmul(amps, self.basis)  # [B, K, L + 2]: one band-limited period per frame
        f_prev = torch.cat([self.last_f0, f0[:, :-1]], 1)
        t_prev = torch.cat([self.last_table, table[:, :-1]], 1)
        inc = torch.add(f_prev * self.inc_prev, f0, alpha=self.inc_cur).double()  # [B, K] cycles
        cum = torch.cumsum(inc, 1)
        start = torch.frac((cum - inc) + self.phase).float()  # phase at each frame start
        self.phase = torch.frac(cum[:, -1:] + self.phase)
        self.last_f0 = f0[:, -1:]
        self.last_table = table[:, -1:].detach()
        ph = torch.addcmul(start.unsqueeze(-1), f_prev.unsqueeze(-1), self.ramp_a)
        ph = torch.addcmul(ph, f0.unsqueeze(-1), self.ramp_b)
        pos = torch.frac(ph) * self.table_size  # [B, K, hop] in [0, L]
        i0 = pos.long()
        frac = (pos - i0.to(pos.dtype)).unsqueeze(2)
        both = torch.stack([t_prev, table], 2)  # [B, K, 2, L + 2]
        idx = i0.unsqueeze(2).expand(B, K, 2, self.hop)
        v = torch.lerp(torch.gather(both, 3, idx), torch.gather(both, 3, idx + 1), frac)
        out = torch.lerp(v[:, :, 0], v[:, :, 1], self.fade)
        return out.reshape(B, K * self.hop)

    @torch.jit.export
    def reset(self) -> None:
        self.phase = self.phase[:0]
        self.last_f0 = self.last_f0[:0]
        self.last_table = self.last_table[:0]


class NoiseSynth(StreamingModule):
    """Filtered noise, one filter per frame, shaped in the rfft domain and overlap-added.

    forward(mags): mags [B, K, n_bands] linear magnitudes of bands spread evenly from 0 Hz to
    Nyquist -> audio [B, K * hop]. Frame k is a ``2 * hop`` sample grain (fixed random-phase noise
    spectrum times the magnitudes interpolated to every bin, inverse rfft, sqrt-Hann window, so
    that the variance of the overlap-add is constant); output hop k is the first half of grain k
    plus the second half of grain k - 1. The noise spectra are a fixed table of ``noise_frames``
    grains (seeded, stored in the model) cycled by a persistent frame counter: deterministic, so
    chunked and whole runs agree and test vectors reproduce. Delay 0.
    """

    def __init__(
        self, n_bands: int = 65, hop: int = 512, noise_frames: int = 256, seed: int = 0
    ) -> None:
        super().__init__(0, chunk_multiple=1, ratio_num=hop)
        self.hop: int = hop
        self.n_fft: int = 2 * hop
        bins = hop + 1
        self.noise_frames: int = noise_frames
        gen = torch.Generator().manual_seed(seed)
        phase = torch.rand(noise_frames, bins, generator=gen, dtype=torch.float64) * 2 * math.pi
        scale = math.sqrt(self.n_fft)  # unit-variance grains for unit magnitudes
        spec = torch.polar(torch.full_like(phase, scale), phase).to(torch.complex64)
        # stored twice in a row so that K consecutive grains are one narrow() (a view)
        self.register_buffer("noise_spec", torch.cat([spec, spec], 0), persistent=False)
        # linear interpolation from band centres to rfft bins: [n_bands, bins]
        pos = torch.linspace(0, n_bands - 1, bins, dtype=torch.float64)
        lo = pos.floor().clamp(max=n_bands - 2)
        w = pos - lo
        interp = torch.zeros(n_bands, bins, dtype=torch.float64)
        cols = torch.arange(bins)
        interp[lo.long(), cols] = 1 - w
        interp[lo.long() + 1, cols] += w
        self.register_buffer("interp", interp.float(), persistent=False)
        n = torch.arange(self.n_fft, dtype=torch.float64)
        sqrt_hann = torch.sin(math.pi * n / self.n_fft).float()
        self.register_buffer("window", sqrt_hann, persistent=False)
        self.register_buffer("tail", torch.zeros(0, 1, hop), persistent=False)
        self.position: int = 0

    def forward(self, mags: Tensor) -> Tensor:
        B, K = mags.size(0), mags.size(1)
        if self.tail.size(0) != B:
            self.tail = torch.zeros(B, 1, self.hop, dtype=mags.dtype, device=mags.device)
            self.position = 0
        gain = torch.matmul(mags, self.interp)  # [B, K, bins]
        if self.noise_frames >= K:
            rows = self.noise_spec.narrow(0, self.position, K)
        else:  # longer than the table (offline use): cycle it
            index = (torch.arange(K, device=mags.device) + self.position) % self.noise_frames
            rows = self.noise_spec[index]
        self.position = (self.position + K) % self.noise_frames
        grains = torch.fft.irfft(rows * gain, n=self.n_fft) * self.window  # [B, K, 2 hop]
        first, second = grains[..., : self.hop], grains[..., self.hop :]
        prev = torch.cat([self.tail, second[:, :-1]], 1)
        self.tail = second[:, -1:].detach()
        return (first + prev).reshape(B, K * self.hop)

    @torch.jit.export
    def reset(self) -> None:
        self.tail = self.tail[:0]
        self.position = 0


class Reverb(StreamingModule):
    """Learned reverb: the dry signal plus its convolution with a learned impulse response.

    The IR (``length`` samples, initialised as exponentially decaying noise) is trained with the
    model. Streaming convolution by FFT over the last ``length - 1`` input samples plus the chunk
    (overlap-save), so any chunk length works. x: [B, T] -> [B, T]; delay 0.
    """

    def __init__(self, length: int = 8192, sample_rate: int = 44100, decay_s: float = 0.4) -> None:
        super().__init__(0)
        self.length: int = length
        gen = torch.Generator().manual_seed(1)
        t = torch.arange(length, dtype=torch.float32) / sample_rate
        ir = torch.randn(length, generator=gen) * torch.exp(-t * 6.9 / decay_s) * 0.05
        ir[0] = 0.0  # the dry path carries sample 0
        self.ir = nn.Parameter(ir)
        self.register_buffer("history", torch.zeros(0, length - 1), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        B, T = x.size(0), x.size(1)
        if self.history.size(0) != B:
            self.history = torch.zeros(B, self.length - 1, dtype=x.dtype, device=x.device)
        buf = torch.cat([self.history, x], 1)
        self.history = buf[:, buf.size(1) - (self.length - 1) :]
        n = buf.size(1) + self.length - 1
        n_fft = 1
        while n_fft < n:
            n_fft *= 2
        wet = torch.fft.irfft(
            torch.fft.rfft(buf, n=n_fft) * torch.fft.rfft(self.ir, n=n_fft), n=n_fft
        )
        return x + wet[:, self.length - 1 : self.length - 1 + T]

    @torch.jit.export
    def reset(self) -> None:
        self.history = self.history[:0]


class NoReverb(StreamingModule):
    """The dry path, when the model has no reverb. x: [B, T] -> x."""

    def __init__(self) -> None:
        super().__init__(0)

    def forward(self, x: Tensor) -> Tensor:
        return x

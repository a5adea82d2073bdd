"""Streaming control features for DDSP timbre transfer: f0 (YIN) and A-weighted loudness.

``Features`` maps audio ``x: [B, 1, T]`` (``T`` a multiple of ``hop``) to ``[B, 2, T // hop]``:

* channel 0, **f0 in Hz**: a YIN tracker (de Cheveigné & Kawahara 2002). On unvoiced frames
  (aperiodic, or quieter than ``silence_db``) the **last voiced f0 is held**; before the first
  voiced frame of a stream the output is ``f0_init`` (220 Hz). The decoder therefore never sees
  0 Hz; it is told about silence by the loudness channel.
* channel 1, **loudness in dB**: A-weighted mean power of a Hann-windowed frame, weighted in the
  frequency domain (IEC 61672 A curve applied to the frame's power spectrum, normalised so that
  a full-scale 1 kHz sine reads -3.01 dB, i.e. ``10 log10(mean square)``), floored at -100 dB.

Analysis frame and latency (defaults: 44.1 kHz, hop 512, f0 50-2000 Hz):

* one frame of ``frame`` = 2048 samples (46 ms, 2.3 periods of 50 Hz) per hop. Output frame
  ``t`` is computed from samples ``[t*hop + (1+delay)*hop - frame, t*hop + (1+delay)*hop)``,
  i.e. **centred on sample ``t*hop``** for the defaults (``frame = 4 * hop``).
* ``delay`` = 1 frame (512 samples, 11.6 ms of lookahead): ``offline[t] == streamed[t + 1]``.
* f0 is searched on the frame low-passed and decimated by ``decimate`` = 2 (22.05 kHz, a 32-tap
  Kaiser-windowed sinc, cut-off ~9.9 kHz), which halves the FFTs while keeping lags >= 11
  samples at 2 kHz (parabolic interpolation error <= ~5 cents). The YIN frame is the whole
  decimated frame (M = 1024 samples); the difference function uses every overlapping pair
  (``d(tau) = sum_{j < M - tau} (y_j - y_{j+tau})^2``, divided by ``M - tau``) so that it stays
  centred on the frame for every lag (50 Hz: 441 lags, overlap >= 583 samples = 1.3 periods);
  it comes from one zero-padded FFT autocorrelation (n = 2048) and a cumulative sum of
  energies. Then the cumulative mean normalised difference ``d'``, the absolute threshold (the
  first lag in [sr/f0_max, sr/f0_min] where ``d' < threshold`` and ``d'`` stops falling, else
  the global minimum, judged unvoiced) and parabolic interpolation of ``d'`` around it.
* a frame is voiced when ``d'`` at the chosen lag is below ``threshold`` (0.15) and the frame's
  mean square (after the low-pass) is above ``silence_db`` (-60 dB re full scale).
* periodicity (``1 - d'`` at the dip, in [0, 1]) and the voiced flag are returned by
  ``analyze()`` for evaluation.

Streaming state (non-persistent buffers, re-allocated and zeroed when the batch size, dtype or
device changes, emptied by ``reset()``): the last ``frame - hop + taps - decimate`` input samples
and the held f0 per batch item. ``compute_features`` runs the same module offline (one chunk,
``delay`` frames of zero padding appended, the first ``delay`` frames dropped), so its numbers are
the streaming numbers, aligned: frame ``t`` is centred on sample ``t * hop``.
"""

from __future__ import annotations

import math
import time
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from nn_tilde.streaming.base import StreamingModule


def a_weighting_db(freq: np.ndarray) -> np.ndarray:
    """IEC 61672-1 A-weighting in dB (0 dB at 1 kHz, -30.2 dB at 50 Hz, -inf at 0 Hz)."""
    f2 = np.asarray(freq, dtype=np.float64) ** 2
    num = (12194.0**2) * f2**2
    den = (f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2)) * (f2 + 12194.0**2)
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(np.maximum(num / den, 1e-300)) + 2.0


def _lowpass_fir(taps: int, cutoff: float, beta: float = 8.0) -> np.ndarray:
    """Kaiser-windowed sinc low-pass, ``cutoff`` in cycles per sample, unit DC gain."""
    n = np.arange(taps) - (taps - 1) / 2.0
    h = 2.0 * cutoff * np.sinc(2.0 * cutoff * n) * np.kaiser(taps, beta)
    return h / h.sum()


class Features(StreamingModule):
    """Streaming f0 (Hz, held through unvoiced frames) and A-weighted loudness (dB).

    x: [B, 1, T] with T a multiple of ``hop`` -> [B, 2, T // hop]. See the module docstring.
    ``analyze(x)`` returns [B, 4, T // hop]: f0 held, loudness, periodicity, voiced (0/1); it
    advances the same stream as ``forward`` (use one or the other on a given stream).
    """

    def __init__(
        self,
        sample_rate: int = 44100,
        hop: int = 512,
        f0_min: float = 50.0,
        f0_max: float = 2000.0,
        threshold: float = 0.15,
        frame: Optional[int] = None,
        decimate: Optional[int] = None,
        taps: Optional[int] = None,
        silence_db: float = -60.0,
        f0_init: float = 220.0,
    ) -> None:
        if frame is None:
            # >= 2 periods of f0_min, rounded up to whole hops
            frame = hop * math.ceil(2.0 * sample_rate / f0_min / hop)
        if decimate is None:
            decimate = 1
            while (
                hop % (decimate * 2) == 0
                and frame % (decimate * 2) == 0
                and sample_rate / (decimate * 2) >= 10.0 * f0_max
            ):
                decimate *= 2
        if hop % decimate or frame % decimate:
            raise ValueError(f"decimate={decimate} must divide hop={hop} and frame={frame}")
        if frame < hop:
            raise ValueError(f"frame {frame} shorter than hop {hop}")
        delay = max(0, math.ceil(frame / (2 * hop)) - 1)
        super().__init__(delay, chunk_multiple=hop, ratio_num=1, ratio_den=hop)
        if taps is None:
            taps = 16 * decimate if decimate > 1 else 1
        self.sample_rate: int = int(sample_rate)
        self.hop: int = int(hop)
        self.frame: int = int(frame)
        self.decimate: int = int(decimate)
        self.taps: int = int(taps)
        self.threshold: float = float(threshold)
        self.silence_db: float = float(silence_db)
        self.f0_init: float = float(f0_init)
        self.f0_min: float = float(f0_min)
        self.f0_max: float = float(f0_max)

        q = self.decimate
        sr_d = sample_rate / q
        m = frame // q  # YIN frame length at the decimated rate
        tmin = max(2, math.floor(sr_d / f0_max))
        tmax = math.ceil(sr_d / f0_min)
        if tmax + 2 >= m:
            raise ValueError(f"frame {frame} too short for f0_min {f0_min} Hz")
        self.m: int = m
        self.tmin: int = tmin
        self.tmax: int = tmax
        self.n_fft: int = 1 << (m + tmax + 1).bit_length()
        # samples kept between calls: frame history plus the decimation filter's history
        self.context: int = frame - hop + (taps - q if q > 1 else 0)

        fir = _lowpass_fir(taps, 0.5 / q * 0.9) if q > 1 else np.ones(1)
        # the FIR as a banded [q (p - 1) + taps, p] matrix: column j holds the taps at rows q j ..
        self.fir_block: int = math.gcd(math.gcd(hop // q, frame // q), 16) if q > 1 else 1
        p = self.fir_block
        bank = np.zeros((q * (p - 1) + taps, p))
        for j in range(p):
            bank[q * j : q * j + taps, j] = fir
        self.register_buffer("fir_bank", torch.tensor(bank, dtype=torch.float32), persistent=False)
        tau = torch.arange(1, tmax + 2)
        # d(tau) = c[m-1-tau] - c[tau-1] + e - 2 r(tau) for tau = 1..tmax+1 (c = cumsum of y^2)
        self.register_buffer("inv_overlap", 1.0 / (m - tau).float(), persistent=False)
        self.register_buffer("tau", tau.float(), persistent=False)
        # argmin key of a dip at core index i: -(n - i) < 0 <= d', so the first dip wins
        n_core = tmax - tmin + 1
        self.register_buffer(
            "lag_rank", torch.arange(n_core).float() - n_core - 1.0, persistent=False
        )
        interp = [[0.5, 1.0, 0.25, 0.0], [0.0, -2.0, 0.0, -1.0], [-0.5, 1.0, -0.25, 0.0]]
        self.register_buffer("interp", torch.tensor(interp), persistent=False)
        self.sr_over_q: float = float(sample_rate) / q
        # voicing gate on the mean square of the (decimated) frame
        self.silence_energy: float = float(m * 10.0 ** (silence_db / 10.0))
        win = torch.hann_window(frame, periodic=True, dtype=torch.float64)
        freqs = np.arange(frame // 2 + 1) * sample_rate / frame
        a_pow = 10.0 ** (a_weighting_db(freqs) / 10.0)
        fold = np.full(frame // 2 + 1, 2.0)
        fold[0] = 1.0
        if frame % 2 == 0:
            fold[-1] = 1.0
        weight = a_pow * fold / (frame * float((win**2).sum()))
        self.register_buffer("window", win.float(), persistent=False)
        self.register_buffer(
            "a_weight2",
            torch.tensor(np.repeat(weight, 2), dtype=torch.float32),
            persistent=False,
        )
        self.register_buffer("cache", torch.zeros(0, 0), persistent=False)
        self.register_buffer("held", torch.zeros(0), persistent=False)

    # ------------------------------------------------------------------ streaming state
    @torch.jit.export
    def reset(self) -> None:
        self.cache = self.cache[:0]
        self.held = self.held[:0]

    def _state(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        cache = self.cache
        held = self.held
        if (
            cache.size(0) != x.size(0)
            or cache.size(1) != self.context
            or cache.dtype != x.dtype
            or cache.device != x.device
        ):
            cache = torch.zeros(x.size(0), self.context, dtype=x.dtype, device=x.device)
            held = torch.full([x.size(0)], self.f0_init, dtype=x.dtype, device=x.device)
            # constants follow the stream's dtype and device (cast once, not per call)
            self.window = self.window.to(x.device, x.dtype)
            self.a_weight2 = self.a_weight2.to(x.device, x.dtype)
            self.fir_bank = self.fir_bank.to(x.device, x.dtype)
            self.inv_overlap = self.inv_overlap.to(x.device, x.dtype)
            self.tau = self.tau.to(x.device, x.dtype)
            self.lag_rank = self.lag_rank.to(x.device, x.dtype)
            self.interp = self.interp.to(x.device, x.dtype)
        return cache, held

    # ------------------------------------------------------------------ analysis
    @torch.jit.export
    def decimate_signal(self, buf: Tensor) -> Tensor:
        """buf [B, n] -> [B, (n - taps) // decimate + 1]: ``y[j] = sum_k fir[k] buf[q j + k]``
        (the whole of ``buf`` when not decimating). ``n - taps + decimate`` must be a multiple of
        ``decimate * fir_block``, as it is for the analysis buffer."""
        q = self.decimate
        if q == 1:
            return buf
        p = self.fir_block
        rows = buf.unfold(-1, q * (p - 1) + self.taps, q * p)  # [B, Nd / p, L]
        return torch.matmul(rows, self.fir_bank).flatten(-2)  # [B, Nd]

    @torch.jit.export
    def analyze(self, x: Tensor) -> Tensor:
        """x: [B, 1, T] -> [B, 4, T // hop]: f0 (held), loudness dB, periodicity, voiced."""
        if x.dim() != 3 or x.size(1) != 1:
            raise ValueError("Features expects x: [B, 1, T]")
        if x.size(-1) % self.hop != 0:
            raise ValueError("the input length must be a multiple of hop")
        cache, held = self._state(x)
        buf = torch.cat([cache, x[:, 0]], -1)  # [B, context + T]
        self.cache = buf[:, buf.size(-1) - self.context :].detach()
        n_frames = x.size(-1) // self.hop
        q = self.decimate
        dtype = x.dtype

        # --- loudness: Hann frame, power spectrum, A-weighted sum
        raw = buf[:, buf.size(-1) - (n_frames - 1) * self.hop - self.frame :]
        frames = raw.unfold(-1, self.frame, self.hop)  # [B, F, frame]
        spec = torch.view_as_real(torch.fft.rfft(frames * self.window))
        # [B, F, K, 2] -> [B, F, 2K]: re^2 and im^2 weighted by the same (repeated) A weight
        spec = spec.flatten(-2)
        power = torch.matmul(spec * spec, self.a_weight2)  # (x * x: aten's square is 10x slower)
        loud = torch.log10(power + 1e-10) * 10.0

        # --- f0: low-pass + decimate, YIN on each decimated frame
        # decimated signal [B, Nd]: a strided FIR, each output uses `taps` input samples. Computed
        # in blocks of `fir_block` outputs: rows of the unfolded signal times a banded matrix (2-3x
        # cheaper than one tap window per output, and 5x cheaper than a strided conv1d, at buffer
        # 2048). Nd = (frame - hop + T) / q is a multiple of gcd(hop, frame) / q, so of fir_block.
        y = self.decimate_signal(buf)
        yf = y.unfold(-1, self.m, self.hop // q)  # [B, F, m]
        spec_y = torch.fft.rfft(yf, n=self.n_fft)
        acf = torch.fft.irfft(torch.real(spec_y * spec_y.conj()), n=self.n_fft)
        c = torch.cumsum(yf * yf, -1)
        energy = c[..., self.m - 1 :]  # [B, F, 1]
        # d(tau) / (m - tau), tau = 1..tmax+1: mean squared difference over the overlap
        d = (
            (
                c.flip(-1)[..., 1 : self.tmax + 2]  # c[m - 1 - tau]
                - c[..., : self.tmax + 1]  # c[tau - 1]
                + energy
            ).add(acf[..., 1 : self.tmax + 2], alpha=-2.0)
            * self.inv_overlap
        )
        # cumulative mean normalised difference d'(tau) (>= 0 up to rounding)
        cmnd = d * self.tau / (torch.cumsum(d, -1) + 1e-20)
        # lags tmin-1 .. tmax+1 (index = tau - 1); core = tmin .. tmax
        win = cmnd[..., self.tmin - 2 : self.tmax + 1]
        core = win[..., 1:-1]
        # first lag below the threshold where d' stops falling: the bottom of the first dip
        # under the threshold (d' fell into it); none: the global minimum (then unvoiced)
        dips = (core < self.threshold) & (win[..., 2:] > core)
        key = torch.where(dips, self.lag_rank, core)
        best = torch.argmin(key, -1, keepdim=True)  # [B, F, 1]
        abc = torch.gather(win.unfold(-1, 3, 1), -2, best.unsqueeze(-1).expand(-1, -1, 1, 3))
        # parabola through d'(best - 1, best, best + 1): columns (a - c) / 2, a - 2b + c,
        # (a - c) / 4, -b, one small matmul instead of a dozen scalar ops
        p = torch.matmul(abc, self.interp).squeeze(-2)  # [B, F, 4]
        shift = (p[..., 0] / p[..., 1].clamp_min(1e-12)).clamp(-1.0, 1.0)  # [B, F]
        # f0 = sr / lag, lag = (tmin + best + shift) * decimate samples
        f0 = self.sr_over_q / (best.squeeze(-1).to(dtype) + shift + float(self.tmin))
        # 1 - d' at the interpolated minimum (b - (a - c) / 4 * shift)
        periodicity = torch.addcmul(p[..., 3], p[..., 2], shift).clamp(-1.0, 0.0) + 1.0
        voiced = (p[..., 3] > -self.threshold) & (energy.squeeze(-1) > self.silence_energy)

        # --- hold the last voiced f0 through unvoiced frames (index 0: the held value)
        f0_ext = torch.cat([held.unsqueeze(-1), f0], -1)  # [B, F + 1]
        pos = torch.arange(1, n_frames + 1, device=x.device)
        last = torch.cummax(torch.where(voiced, pos, 0), -1)[0]
        f0_held = torch.gather(f0_ext, -1, last)
        self.held = f0_held[:, -1].detach()
        return torch.stack([f0_held, loud, periodicity, voiced.to(dtype)], 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.analyze(x)[:, :2]


def _as_tensor(audio: Union[np.ndarray, Tensor]) -> Tensor:
    x = torch.as_tensor(audio) if not isinstance(audio, Tensor) else audio
    x = x.detach().to(torch.float32)
    if x.dim() == 1:
        x = x[None, None]
    elif x.dim() == 2:
        x = x[:, None]
    return x


@torch.no_grad()
def analyze_offline(
    audio: Union[np.ndarray, Tensor],
    sample_rate: int,
    hop: int = 512,
    features: Optional[Features] = None,
    **kwargs,
) -> Dict[str, np.ndarray]:
    """Offline analysis, aligned (frame ``t`` centred on sample ``t * hop``, ``ceil(T / hop)``
    frames): dict of f0, loudness, periodicity, voiced (numpy, [T'] for 1-D audio, else [B, T'])."""
    feat = features if features is not None else Features(sample_rate, hop, **kwargs)
    if feat.sample_rate != sample_rate or feat.hop != hop:
        raise ValueError("features module built for another sample rate or hop")
    x = _as_tensor(audio)
    n = x.size(-1)
    n_frames = -(-n // hop)
    x = F.pad(x, [0, n_frames * hop - n + feat.delay * hop])
    feat.reset()
    out = feat.analyze(x)[..., feat.delay :]
    feat.reset()
    out_np = out.numpy()
    if _as_tensor(audio).size(0) == 1 and np.ndim(audio) == 1:
        out_np = out_np[0]
    keys = ("f0", "loudness", "periodicity", "voiced")
    return {k: out_np[..., i, :] for i, k in enumerate(keys)}


def compute_features(
    audio: Union[np.ndarray, Tensor], sample_rate: int, hop: int = 512, **kwargs
) -> Tuple[np.ndarray, np.ndarray]:
    """Offline f0 (Hz) and loudness (dB) for making training data: the streaming numbers with the
    delay removed (frame ``t`` centred on sample ``t * hop``; ``ceil(T / hop)`` frames).
    audio: [T] (or [B, T], [B, 1, T]); keyword arguments go to ``Features``."""
    res = analyze_offline(audio, sample_rate, hop, **kwargs)
    return res["f0"], res["loudness"]


def bench_features(
    buffer: int = 2048,
    sample_rate: int = 44100,
    hop: int = 512,
    seconds: float = 3.0,
    repeats: int = 10,
) -> Dict[str, float]:
    """Real-time factor (audio duration / compute time) of ``Features`` alone on one thread, eager
    and scripted, at ``buffer`` samples per call. The time is split into ``repeats`` runs and
    both the best run and the median are given (on a shared machine the best is the closest to
    the unloaded speed); thread CPU time is reported too. Prints and returns them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mods = {
            "eager": Features(sample_rate, hop).eval(),
            "scripted": torch.jit.script(Features(sample_rate, hop).eval()),
        }
        x = torch.randn(1, 1, buffer) * 0.1
        res: Dict[str, float] = {}
        with torch.no_grad():
            for name, mod in mods.items():
                for _ in range(50):
                    mod(x)
                walls = []
                cpus = []
                for _ in range(repeats):
                    n = 0
                    t0 = time.perf_counter()
                    c0 = time.thread_time()
                    while time.perf_counter() - t0 < seconds / repeats:
                        mod(x)
                        n += 1
                    walls.append((time.perf_counter() - t0) / n)
                    cpus.append((time.thread_time() - c0) / n)
                walls.sort()
                cpus.sort()
                audio = buffer / sample_rate
                res[name] = audio / walls[0]
                res[name + "_median"] = audio / walls[len(walls) // 2]
                res[name + "_cpu"] = audio / cpus[0]
                res[name + "_us_per_call"] = walls[0] * 1e6
                print(
                    f"Features {name:8s} buffer {buffer}: best {walls[0] * 1e6:7.1f} us/call "
                    f"= {res[name]:6.0f}x real time (median {res[name + '_median']:6.0f}x, "
                    f"thread CPU {res[name + '_cpu']:6.0f}x)"
                )
        return res
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    bench_features()

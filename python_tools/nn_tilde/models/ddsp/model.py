"""DDSP timbre transfer: (f0, loudness) frames -> decoder -> harmonic + noise (+ reverb) audio.

``DDSP`` is both the training model and, after ``streaming()``, the streaming decode path: its
synthesisers keep their state between calls (call ``reset()`` before each training batch).
``ExportedDDSP`` wraps feature extractor + streaming decoder + synthesis as an nn~ model with the
methods ``forward`` (audio -> instrument audio), ``decode`` (f0, loudness -> audio) and
``features`` (audio -> f0, loudness), and the attributes ``pitch_shift`` (semitones) and
``loudness_offset`` (dB).
"""

import copy
import math
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor, nn

from nn_tilde.authoring.module import Module
from nn_tilde.models.ddsp.decoder import Decoder
from nn_tilde.models.ddsp.synth import HarmonicSynth, NoiseSynth, NoReverb, Reverb, exp_sigmoid
from nn_tilde.streaming.base import StreamingModule


class Controls(nn.Module):
    """Raw decoder output -> synthesiser controls (DDSP's scaled sigmoids, Nyquist-aware).

    f0 [B, K] Hz, raw [B, 1 + H + N, K] -> (harmonic amplitudes [B, K, H], noise magnitudes
    [B, K, N]); the harmonic distribution is normalised over the harmonics that the synth plays.
    """

    def __init__(self, n_harmonics: int, sample_rate: int) -> None:
        super().__init__()
        self.n_harmonics: int = n_harmonics
        self.nyquist: float = 0.5 * sample_rate
        self.register_buffer(
            "harmonics", torch.arange(1, n_harmonics + 1).float(), persistent=False
        )

    def forward(self, f0: Tensor, raw: Tensor):
        raw = raw.transpose(1, 2)  # [B, K, C]
        amp = exp_sigmoid(raw[..., :1])
        dist = exp_sigmoid(raw[..., 1 : 1 + self.n_harmonics])
        freqs = f0.unsqueeze(-1) * self.harmonics
        keep = ((freqs < self.nyquist) & (freqs >= 20.0)).to(dist.dtype)
        dist = dist * keep
        dist = dist / (dist.sum(-1, keepdim=True) + 1e-7)
        noise = exp_sigmoid(raw[..., 1 + self.n_harmonics :] - 5.0)
        return amp * dist, noise


class DDSP(StreamingModule):
    """Decoder + synthesis. forward(feats): feats [B, 2, K] (f0 Hz, loudness dB) -> [B, 1, K * hop].

    Normalisation of the decoder inputs: pitch (MIDI number of max(f0, 20 Hz)) as
    ``(pitch - 69) / 12``, loudness as ``(dB - loud_mean) / loud_std`` with the training set's
    statistics (buffers, set by the trainer). Streaming with delay 0 (see synth.py).
    """

    def __init__(
        self,
        sample_rate: int = 44100,
        hop: int = 512,
        channels: int = 8,
        dilations: Sequence[int] = (1, 3, 9, 1, 3, 9),
        n_harmonics: int = 60,
        n_noise: int = 65,
        reverb: bool = False,
        reverb_length: int = 8192,
        table_size: int = 1024,
    ) -> None:
        super().__init__(0, ratio_num=hop)
        self.hop: int = hop
        self.sample_rate: int = sample_rate
        self.decoder = Decoder(channels, dilations, n_harmonics, n_noise)
        self.controls = Controls(n_harmonics, sample_rate)
        self.harmonic = HarmonicSynth(n_harmonics, sample_rate, hop, table_size)
        self.noise = NoiseSynth(n_noise, hop)
        self.use_reverb: bool = reverb
        self.reverb = Reverb(reverb_length, sample_rate) if reverb else NoReverb()
        self.register_buffer("loud_mean", torch.tensor(-40.0))
        self.register_buffer("loud_std", torch.tensor(20.0))
        self.stream_decoder: Optional[nn.Module] = None

    def normalise(self, feats: Tensor) -> Tensor:
        """feats [B, 2, K] (f0 Hz, loudness dB) -> decoder input [B, 2, K]."""
        f0 = feats[:, :1].clamp(min=20.0)
        pitch = torch.log2(f0 * (1.0 / 440.0))  # octaves from A4
        loud = (feats[:, 1:2] - self.loud_mean) / self.loud_std
        return torch.cat([pitch, loud], 1)

    def synthesise(self, f0: Tensor, raw: Tensor) -> Tensor:
        """f0 [B, K], raw decoder output [B, C, K] -> audio [B, 1, K * hop] (stateful)."""
        amps, noise = self.controls(f0, raw)
        y = self.harmonic(f0, amps) + self.noise(noise)
        if self.use_reverb:
            y = self.reverb(y)
        return y.unsqueeze(1)

    def forward(self, feats: Tensor) -> Tensor:
        return self.synthesise(feats[:, 0], self.decoder(self.normalise(feats)))

    @torch.jit.export
    def reset(self) -> None:
        self.harmonic.reset()
        self.noise.reset()
        if self.use_reverb:
            self.reverb.reset()


class StreamingDDSP(StreamingModule):
    """Scriptable streaming decode path of a trained ``DDSP``: feats [B, 2, K] -> [B, 1, K * hop].

    The same arithmetic as ``DDSP.forward`` with constants folded to save TorchScript calls (each
    costs microseconds at this size): the pitch and loudness normalisation into the first layer,
    the noise offset (-5) into the last bias, the factor 2 of the scaled sigmoid into the noise
    filter and the harmonic normalisation. ``fused=False`` keeps the generic ``to_streaming``
    decoder (the kit's cached convolutions) and the unfolded controls, for comparison.
    """

    def __init__(self, model: DDSP, fused: bool = True) -> None:
        super().__init__(0, ratio_num=model.hop)
        model = copy.deepcopy(model).eval()
        self.fused: bool = fused
        self.n_harmonics: int = model.controls.n_harmonics
        mean, std = float(model.loud_mean), float(model.loud_std)
        if fused:
            n_out = model.decoder.n_out
            offset = torch.zeros(n_out)
            offset[1 + self.n_harmonics :] = -5.0
            dec = model.decoder.fused_streaming(offset)
            # input: (log2(f0), loudness dB) instead of (log2(f0 / 440), (dB - mean) / std)
            with torch.no_grad():
                w = dec.in_weight  # [2, C]: rows for (pitch, loudness)
                dec.in_bias -= w[0] * math.log2(440.0) + w[1] * (mean / std)
                w[1] /= std
                model.noise.interp *= 2.0
                model.harmonic.basis *= 2.0
            self.decoder: nn.Module = dec
        else:
            self.decoder = model.decoder.streaming()
        self.controls = model.controls
        self.harmonic = model.harmonic
        self.noise = model.noise
        self.use_reverb: bool = model.use_reverb
        self.reverb = model.reverb
        self.loud_mean: float = mean
        self.loud_std: float = std
        self.ln10: float = math.log(10.0)
        self.reset()  # the copied synthesisers may hold the training model's last state

    def forward(self, feats: Tensor) -> Tensor:
        if not self.fused:
            return self._forward_generic(feats)
        f0 = feats[:, 0]
        x = torch.cat([torch.log2(feats[:, :1].clamp(min=20.0)), feats[:, 1:]], 1)
        ctrl = torch.sigmoid(self.decoder(x)).pow(self.ln10)  # [B, K, C] = exp_sigmoid / 2
        h = self.n_harmonics
        dist = ctrl[..., 1 : 1 + h] * self.harmonic.mask(f0)
        norm = ctrl[..., :1] / (dist.sum(-1, keepdim=True) + 5e-8)  # 2 amp / (2 sum + 1e-7)
        y = self.harmonic(f0, dist * norm, True) + self.noise(ctrl[..., 1 + h :])
        if self.use_reverb:
            y = self.reverb(y)
        return y.unsqueeze(1)

    def _forward_generic(self, feats: Tensor) -> Tensor:
        f0 = feats[:, :1]
        pitch = torch.log2(f0.clamp(min=20.0) * (1.0 / 440.0))
        loud = (feats[:, 1:2] - self.loud_mean) * (1.0 / self.loud_std)
        raw = self.decoder(torch.cat([pitch, loud], 1))
        amps, noise = self.controls(f0[:, 0], raw)
        y = self.harmonic(f0[:, 0], amps) + self.noise(noise)
        if self.use_reverb:
            y = self.reverb(y)
        return y.unsqueeze(1)

    @torch.jit.export
    def reset(self) -> None:
        self.decoder.reset()
        self.harmonic.reset()
        self.noise.reset()
        if self.use_reverb:
            self.reverb.reset()


class ExportedDDSP(Module):
    """nn~ model: timbre transfer at the host rate (no resampling; trained at ``sample_rate``).

    forward: audio [B, 1, N] -> instrument audio [B, 1, N]
    decode: (f0 Hz, loudness dB) [B, 2, N / hop] -> audio [B, 1, N]
    features: audio [B, 1, N] -> (f0 Hz, loudness dB) [B, 2, N / hop]
    Attributes: pitch_shift (semitones, float), loudness_offset (dB, float), applied by forward and
    decode before the decoder. Each method owns its own streaming state.

    Declared latencies (host samples): ``features``: the extractor's delay (frames) times hop.
    ``decode``: 0, since nn~ hands a method at ratio ``hop`` the last sample of each group, and the
    synthesiser reaches that frame's controls at the last sample of the output hop. ``forward``:
    extractor delay plus one hop (the input hop is only fully analysed when it has arrived, and the
    crossfade to its controls then takes one hop).
    """

    def __init__(
        self,
        model: DDSP,
        make_features,
        metadata: Optional[Dict[str, str]] = None,
        fused: bool = True,
    ) -> None:
        super().__init__(model.sample_rate, metadata=metadata)
        hop = model.hop
        self.hop: int = hop
        model = model.eval()
        self.feat_fwd = make_features()
        self.feat_only = make_features()
        self.dec_fwd = StreamingDDSP(model, fused)
        self.dec_only = StreamingDDSP(model, fused)
        feat_delay = int(self.feat_fwd.delay)
        self.register_attribute("pitch_shift", 0.0)
        self.register_attribute("loudness_offset", 0.0)
        labels = ["(signal) f0 (Hz)", "(signal) loudness (dB, A-weighted)"]
        self.register_method(
            "forward",
            1,
            1,
            1,
            1,
            input_labels=["(signal) audio in (voice, instrument)"],
            output_labels=["(signal) instrument audio out"],
            latency=(feat_delay + 1) * hop,
        )
        self.register_method(
            "decode",
            2,
            hop,
            1,
            1,
            input_labels=labels,
            output_labels=["(signal) instrument audio out"],
            latency=0,
        )
        self.register_method(
            "features",
            1,
            1,
            2,
            hop,
            input_labels=["(signal) audio in"],
            output_labels=labels,
            latency=feat_delay * hop,
        )
        self.reset()

    def _shift(self, feats: Tensor) -> Tensor:
        ratio = 2.0 ** (self.pitch_shift[0] / 12.0)
        offset = self.loudness_offset[0]
        if ratio == 1.0 and offset == 0.0:
            return feats
        return torch.cat([feats[:, :1] * ratio, feats[:, 1:2] + offset], 1)

    @torch.jit.export
    def set_pitch_shift(self, semitones: float) -> int:
        if semitones < -48.0 or semitones > 48.0:
            return -1
        self.pitch_shift = (semitones,)
        return 0

    @torch.jit.export
    def get_pitch_shift(self) -> List[float]:
        return [self.pitch_shift[0]]

    @torch.jit.export
    def set_loudness_offset(self, db: float) -> int:
        if db < -120.0 or db > 60.0:
            return -1
        self.loudness_offset = (db,)
        return 0

    @torch.jit.export
    def get_loudness_offset(self) -> List[float]:
        return [self.loudness_offset[0]]

    def forward(self, x: Tensor) -> Tensor:
        # hard limit at full scale: extreme controls (e.g. 0 dB loudness) must not blow up a DAC
        return self.dec_fwd(self._shift(self.feat_fwd(x))).clamp(-1.0, 1.0)

    @torch.jit.export
    def decode(self, feats: Tensor) -> Tensor:
        return self.dec_only(self._shift(feats)).clamp(-1.0, 1.0)

    @torch.jit.export
    def features(self, x: Tensor) -> Tensor:
        return self.feat_only(x)

    @torch.jit.export
    def reset(self) -> None:
        self.feat_fwd.reset()
        self.feat_only.reset()
        self.dec_fwd.reset()
        self.dec_only.reset()

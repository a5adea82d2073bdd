"""A small RAVE-style convolutional autoencoder built from streamable layers (no training code).

Offline it is an ordinary non-causal model to train; ``streaming()`` returns a scriptable module
with the three nn~ methods, each its own stream with its own caches and delay:

* ``encode``: audio ``[B, 1, T]`` -> latent means ``[B, latent, T / ratio]``
* ``decode``: latents ``[B, latent, T']`` -> audio ``[B, 1, T' * ratio]``
* ``forward``: ``decode(encode(x))`` with the decoder built for the encoder's delay.

``ExportedAutoEncoder`` wraps the streaming form as an nn~ model (``nn-tilde export`` of an
autoencoder checkpoint builds it).

Architecture (after Caillon & Esling 2021, RAVE v1, without noise synthesis): with
``n_bands > 1`` a PQMF filter bank (``pqmf.py``) first splits the audio into ``n_bands``
critically sampled bands, so every conv runs at ``1 / n_bands`` of the audio rate, and the
decoder's band signals are put back together by the synthesis bank. Between them, dilated
residual stacks between strided convs (kernel ``2 * r``, stride ``r``) go down, and transposed
convs go up; weight norm on every trained conv. The encoder outputs ``2 * latent`` channels
(mean, pre-softplus scale) for a variational posterior. The latent frame rate divider is
``ratio = n_bands * prod(ratios)``.
"""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations

from nn_tilde.authoring.module import Module
from nn_tilde.streaming.convert import to_streaming
from nn_tilde.streaming.layers import Conv1d, ConvTranspose1d, Residual
from nn_tilde.streaming.pqmf import PQMFAnalysis, PQMFSynthesis


def _wn(module: nn.Module, enabled: bool) -> nn.Module:
    return parametrizations.weight_norm(module) if enabled else module


def _conv(
    c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1, causal: bool = False
) -> Conv1d:
    """A "same" conv, or with ``causal`` all its padding on the left (no lookahead, no delay)."""
    span = dilation * (kernel - 1) + 1
    pad = (max(span - stride, 0), 0) if causal else None
    return Conv1d(c_in, c_out, kernel, stride=stride, dilation=dilation, padding=pad)


def residual_stack(
    channels: int,
    dilations: Sequence[int] = (1, 3, 9),
    weight_norm: bool = True,
    causal: bool = False,
) -> nn.Sequential:
    """Dilated residual units ``x + conv1(act(conv3_d(act(x))))``. x: [B, C, T] -> [B, C, T]."""
    units: List[nn.Module] = []
    for d in dilations:
        body = nn.Sequential(
            nn.LeakyReLU(0.2),
            _wn(_conv(channels, channels, 3, dilation=d, causal=causal), weight_norm),
            nn.LeakyReLU(0.2),
            _wn(Conv1d(channels, channels, 1), weight_norm),
        )
        units.append(Residual(body))
    return nn.Sequential(*units)


class AutoEncoder(nn.Module):
    """Offline autoencoder. ``ratios`` are the per-stage strides; ``n_bands`` (1: no PQMF) times
    their product is the latent frame rate divider (``ratio``). Channels double at each stage
    from ``capacity``. ``causal`` pads every trained conv on the left only and crops nothing
    ahead in the transposed convs: no lookahead, so the streaming delay is only the PQMF's
    (a few hundred samples) instead of a receptive field that grows with ``ratio``.

    encode: x [B, in_channels, T] -> z [B, latent, T / ratio] (posterior mean)
    decode: z [B, latent, T'] -> y [B, in_channels, T' * ratio]
    """

    def __init__(
        self,
        in_channels: int = 1,
        latent: int = 8,
        capacity: int = 16,
        ratios: Sequence[int] = (4, 4, 2),
        dilations: Sequence[int] = (1, 3, 9),
        weight_norm: bool = True,
        n_bands: int = 1,
        causal: bool = False,
    ) -> None:
        super().__init__()
        if n_bands > 1 and in_channels != 1:
            raise ValueError("the PQMF stage (n_bands > 1) takes mono audio: use in_channels=1")
        self.latent = latent
        self.n_bands = n_bands
        self.causal = causal
        self.ratio = n_bands
        for r in ratios:
            self.ratio *= r
        chans = [capacity * 2**i for i in range(len(ratios) + 1)]
        io = in_channels * n_bands  # channels of the signal the convs see (bands, or audio)
        enc: List[nn.Module] = [PQMFAnalysis(n_bands, causal=causal)] if n_bands > 1 else []
        enc += [_wn(_conv(io, chans[0], 7, causal=causal), weight_norm)]
        for i, r in enumerate(ratios):
            enc += [
                residual_stack(chans[i], dilations, weight_norm, causal),
                nn.LeakyReLU(0.2),
                _wn(_conv(chans[i], chans[i + 1], 2 * r, stride=r, causal=causal), weight_norm),
            ]
        enc += [nn.LeakyReLU(0.2), _wn(_conv(chans[-1], 2 * latent, 3, causal=causal), weight_norm)]
        self.encoder = nn.Sequential(*enc)
        dec: List[nn.Module] = [_wn(_conv(latent, chans[-1], 3, causal=causal), weight_norm)]
        crop = 0 if causal else None
        for i, r in reversed(list(enumerate(ratios))):
            up = ConvTranspose1d(chans[i + 1], chans[i], 2 * r, stride=r, crop_left=crop)
            dec += [
                nn.LeakyReLU(0.2),
                _wn(up, weight_norm),
                residual_stack(chans[i], dilations, weight_norm, causal),
            ]
        dec += [nn.LeakyReLU(0.2), _wn(_conv(chans[0], io, 7, causal=causal), weight_norm)]
        dec += [PQMFSynthesis(n_bands, causal=causal)] if n_bands > 1 else []
        dec += [nn.Tanh()]
        self.decoder = nn.Sequential(*dec)

    def posterior(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """(mean, std) of q(z | x), each [B, latent, T / ratio]."""
        mean, scale = self.encoder(x).split(self.latent, 1)
        return mean, F.softplus(scale) + 1e-4

    def encode(self, x: Tensor) -> Tensor:
        """x: [B, C, T] -> posterior mean [B, latent, T / ratio]."""
        return self.encoder(x)[:, : self.latent]

    def decode(self, z: Tensor) -> Tensor:
        """z: [B, latent, T'] -> [B, C, T' * ratio]."""
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def streaming(self) -> "StreamingAutoEncoder":
        """The streaming form (same weights, weight norm folded); call on an ``eval()`` model."""
        return StreamingAutoEncoder(self)


class StreamingAutoEncoder(nn.Module):
    """Scriptable streaming ``encode`` / ``decode`` / ``forward`` of an ``AutoEncoder``.

    Delays (offline[t] == streamed[t + delay]): ``encode_delay`` in latent frames,
    ``decode_delay`` and ``forward_delay`` in audio samples. ``latency_samples`` is the forward
    delay, the number a host should report. Chunks must be multiples of ``ratio`` samples.
    """

    def __init__(self, model: AutoEncoder) -> None:
        super().__init__()
        if model.training:
            raise ValueError("call .eval() on the model before streaming()")
        self.latent: int = model.latent
        self.ratio: int = model.ratio
        enc, dec = to_streaming(model.encoder), to_streaming(model.decoder)
        # forward has its own caches; its decoder is told the encoder's delay so that the
        # latents the encoder emits before the signal starts are treated as zero padding
        fwd_enc = to_streaming(model.encoder)
        fwd_dec = to_streaming(model.decoder, delay_in=fwd_enc.delay)
        self.enc, self.dec, self.fwd_enc, self.fwd_dec = enc, dec, fwd_enc, fwd_dec
        self.encode_delay: int = enc.delay
        self.decode_delay: int = dec.delay
        self.forward_delay: int = fwd_dec.delay
        self.latency_samples: int = fwd_dec.delay

    @torch.jit.export
    def encode(self, x: Tensor) -> Tensor:
        """x: [B, C, T], T a multiple of ratio -> [B, latent, T / ratio]."""
        return self.enc(x)[:, : self.latent]

    @torch.jit.export
    def decode(self, z: Tensor) -> Tensor:
        """z: [B, latent, T'] -> [B, C, T' * ratio]."""
        return self.dec(z)

    def forward(self, x: Tensor) -> Tensor:
        """x: [B, C, T] -> [B, C, T]."""
        return self.fwd_dec(self.fwd_enc(x)[:, : self.latent])

    @torch.jit.export
    def reset(self) -> None:
        self.enc.reset()
        self.dec.reset()
        self.fwd_enc.reset()
        self.fwd_dec.reset()


class ExportedAutoEncoder(Module):
    """nn~ wrapper of a StreamingAutoEncoder.

    encode: audio [B, 1, N] -> latents [B, latent, N / ratio]
    decode: latents [B, latent, N / ratio] -> audio [B, 1, N]
    forward: audio [B, 1, N] -> audio [B, 1, N]
    Latencies are declared in host samples (format extension).
    """

    def __init__(self, stream: StreamingAutoEncoder, sample_rate: int, metadata: dict[str, str]):
        super().__init__(sample_rate, metadata=metadata)
        self.stream = stream
        r, n = stream.ratio, stream.latent
        self.register_method(
            "encode",
            1,
            1,
            n,
            r,
            input_labels=["(signal) audio in"],
            output_labels=[f"(signal) latent {i}" for i in range(n)],
            latency=stream.encode_delay * r,
        )
        self.register_method(
            "decode",
            n,
            r,
            1,
            1,
            input_labels=[f"(signal) latent {i}" for i in range(n)],
            output_labels=["(signal) audio out"],
            latency=stream.decode_delay,
        )
        self.register_method(
            "forward",
            1,
            1,
            1,
            1,
            input_labels=["(signal) audio in"],
            output_labels=["(signal) audio out"],
            latency=stream.forward_delay,
        )
        self.stream.reset()

    @torch.jit.export
    def encode(self, x: Tensor) -> Tensor:
        return self.stream.encode(x)

    @torch.jit.export
    def decode(self, z: Tensor) -> Tensor:
        return self.stream.decode(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.stream(x)

    @torch.jit.export
    def reset(self) -> None:
        self.stream.reset()

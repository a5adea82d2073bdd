"""A small RAVE-style convolutional autoencoder built from streamable layers (no training code).

Offline it is an ordinary non-causal model to train; ``streaming()`` returns a scriptable module
with the three nn~ methods, each its own stream with its own caches and delay:

* ``encode``: audio ``[B, 1, T]`` -> latent means ``[B, latent, T / ratio]``
* ``decode``: latents ``[B, latent, T']`` -> audio ``[B, 1, T' * ratio]``
* ``forward``: ``decode(encode(x))`` with the decoder built for the encoder's delay.

Architecture (after Caillon & Esling 2021, RAVE v1, without PQMF bands or noise synthesis):
dilated residual stacks between strided convs (kernel ``2 * r``, stride ``r``) going down, and
transposed convs going up; weight norm on every conv. The encoder outputs ``2 * latent``
channels (mean, pre-softplus scale) for a variational posterior.
"""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations

from .convert import to_streaming
from .layers import Conv1d, ConvTranspose1d, Residual


def _wn(module: nn.Module, enabled: bool) -> nn.Module:
    return parametrizations.weight_norm(module) if enabled else module


def residual_stack(
    channels: int, dilations: Sequence[int] = (1, 3, 9), weight_norm: bool = True
) -> nn.Sequential:
    """Dilated residual units ``x + conv1(act(conv3_d(act(x))))``. x: [B, C, T] -> [B, C, T]."""
    units: List[nn.Module] = []
    for d in dilations:
        body = nn.Sequential(
            nn.LeakyReLU(0.2),
            _wn(Conv1d(channels, channels, 3, dilation=d), weight_norm),
            nn.LeakyReLU(0.2),
            _wn(Conv1d(channels, channels, 1), weight_norm),
        )
        units.append(Residual(body))
    return nn.Sequential(*units)


class AutoEncoder(nn.Module):
    """Offline autoencoder. ``ratios`` are the per-stage strides; their product is the latent
    frame rate divider (``ratio``). Channels double at each stage from ``capacity``.

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
    ) -> None:
        super().__init__()
        self.latent = latent
        self.ratio = 1
        for r in ratios:
            self.ratio *= r
        chans = [capacity * 2**i for i in range(len(ratios) + 1)]
        enc: List[nn.Module] = [_wn(Conv1d(in_channels, chans[0], 7), weight_norm)]
        for i, r in enumerate(ratios):
            enc += [
                residual_stack(chans[i], dilations, weight_norm),
                nn.LeakyReLU(0.2),
                _wn(Conv1d(chans[i], chans[i + 1], 2 * r, stride=r), weight_norm),
            ]
        enc += [nn.LeakyReLU(0.2), _wn(Conv1d(chans[-1], 2 * latent, 3), weight_norm)]
        self.encoder = nn.Sequential(*enc)
        dec: List[nn.Module] = [_wn(Conv1d(latent, chans[-1], 3), weight_norm)]
        for i, r in reversed(list(enumerate(ratios))):
            dec += [
                nn.LeakyReLU(0.2),
                _wn(ConvTranspose1d(chans[i + 1], chans[i], 2 * r, stride=r), weight_norm),
                residual_stack(chans[i], dilations, weight_norm),
            ]
        dec += [nn.LeakyReLU(0.2), _wn(Conv1d(chans[0], in_channels, 7), weight_norm), nn.Tanh()]
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

"""A model script written for the reference nn_tilde package's API, in the style of RAVE's
export script. It must run unchanged against this kit (and against the reference package).

Usage: python ref_style_model.py OUTPUT.ts
"""

import sys
from typing import List

import cached_conv as cc
import torch
import torch.nn as nn

import nn_tilde


class TinyCodec(nn.Module):
    def __init__(self, latent: int = 4, ratio: int = 64) -> None:
        super().__init__()
        self.encoder = cc.CachedConv1d(1, latent, ratio, stride=ratio, padding=(0, 0))
        self.decoder = cc.CachedConvTranspose1d(
            latent, 1, 2 * ratio, stride=ratio, padding=ratio // 2
        )


class ScriptedTiny(nn_tilde.Module):
    def __init__(self, pretrained: TinyCodec, stereo: bool = False) -> None:
        super().__init__()
        self.encoder = pretrained.encoder
        self.decoder = pretrained.decoder
        self.sr = 22050
        self.stereo = stereo
        self.latent_size = 4
        x = torch.zeros(1, 1, 2**10)
        ratio_encode = x.shape[-1] // self.encoder(x).shape[-1]
        self.register_attribute("learn_target", False)
        self.register_attribute("temperature", 1.0)
        self.register_attribute("mix", (0.5, 2, "blend", True))
        self.register_attribute("impulse", nn_tilde.Buffer())
        self.register_method(
            "encode",
            in_channels=1,
            in_ratio=1,
            out_channels=self.latent_size,
            out_ratio=ratio_encode,
            input_labels=["(signal) Input audio signal"],
            output_labels=[f"(signal) Latent dimension {i}" for i in range(self.latent_size)],
        )
        self.register_method(
            "decode",
            in_channels=self.latent_size,
            in_ratio=ratio_encode,
            out_channels=1,
            out_ratio=1,
            input_labels=[f"(signal) Latent dimension {i}" for i in range(self.latent_size)],
            output_labels=["(signal) Reconstructed audio signal"],
        )
        self.register_method(
            "forward",
            in_channels=1,
            in_ratio=1,
            out_channels=1,
            out_ratio=1,
            input_labels=["(signal) Input audio signal"],
            output_labels=["(signal) Reconstructed audio signal"],
        )

    @torch.jit.export
    def encode(self, x):
        return self.encoder(x)

    @torch.jit.export
    def decode(self, z):
        return torch.tanh(self.decoder(z) * self.temperature[0])

    def forward(self, x):
        return self.decode(self.encode(x))

    @torch.jit.export
    def get_learn_target(self) -> bool:
        return self.learn_target[0]

    @torch.jit.export
    def set_learn_target(self, learn_target: bool) -> int:
        self.learn_target = (learn_target,)
        return 0

    @torch.jit.export
    def names(self) -> List[str]:
        return ["tiny"]


def build() -> ScriptedTiny:
    torch.manual_seed(0)
    cc.use_cached_conv(True)
    pretrained = TinyCodec()
    cc.use_cached_conv(False)
    pretrained.eval()
    with torch.no_grad():
        x = torch.zeros(1, 1, 2**10)
        pretrained.decoder(pretrained.encoder(x))  # warm-up pass, as RAVE's script does
    return ScriptedTiny(pretrained)


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    build().export_to_ts(sys.argv[1])

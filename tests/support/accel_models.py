"""Small models for the `nn-tilde optimize` and runtime tests: a causal streaming conv stack (what
static int8 quantizes), a GRU between linear layers (what dynamic int8 quantizes) and the kit's
streaming autoencoder (three methods). Tiny, CPU-cheap, made here."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

import nn_tilde
from nn_tilde.streaming import Conv1d, to_streaming


class ConvStack(nn_tilde.Module):
    """forward [1,1,1,1]: three causal convolutions (kernel 9, 9, 5) with tanh, streamed."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        torch.manual_seed(0)
        net = nn.Sequential(
            Conv1d(1, 16, 9, padding=(8, 0)),
            nn.Tanh(),
            Conv1d(16, 16, 9, padding=(8, 0)),
            nn.Tanh(),
            Conv1d(16, 1, 5, padding=(4, 0)),
        )
        self.stream = to_streaming(net.eval())
        self.register_method("forward", 1, 1, 1, 1, latency=0)
        self.set_metadata(name="conv_stack")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stream(x)

    @torch.jit.export
    def reset(self) -> None:
        self.stream.reset()


class GRUModel(nn_tilde.Module):
    """forward [16,64,16,64]: 16 control channels at ratio 64 -> linear -> GRU (its state kept
    between calls) -> linear."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        torch.manual_seed(0)
        self.inp = nn.Linear(16, 48)
        self.gru = nn.GRU(48, 48, batch_first=True)
        self.out = nn.Linear(48, 16)
        self.register_buffer("h", torch.zeros(1, 1, 48))
        self.register_method("forward", 16, 64, 16, 64, latency=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.tanh(self.inp(x.transpose(1, 2)))
        if self.h.shape[1] != z.shape[0]:
            self.h = torch.zeros(1, z.shape[0], 48)
        y, h = self.gru(z, self.h)
        self.h = h
        return self.out(y).transpose(1, 2)

    @torch.jit.export
    def reset(self) -> None:
        self.h = torch.zeros(1, 1, 48)


def autoencoder() -> nn_tilde.Module:
    """The kit's causal streaming autoencoder, tiny: encode/decode/forward at ratio 8."""
    from nn_tilde.models.autoencoder import AutoEncoder, ExportedAutoEncoder

    torch.manual_seed(0)
    model = AutoEncoder(latent=4, capacity=4, dilations=(1, 3), ratios=(4, 2), causal=True)
    with torch.no_grad():
        return ExportedAutoEncoder(model.eval().streaming(), 44100, {"name": "tiny_ae"})


BUILDERS = {"conv_stack": ConvStack, "gru": GRUModel, "autoencoder": autoencoder}


def export(name: str, folder: Path) -> Path:
    path = folder / f"{name}.ts"
    BUILDERS[name]().export_to_ts(path, fresh_process=False)
    return path

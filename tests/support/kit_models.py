"""Models written with the kit (nn_tilde.Module) for the tests: GoodModel uses every feature, and
NoisyStreamer is random, streams and is saved with its caches. The files that break a rule are
in catalogue.py. Nothing here is downloaded; everything is tiny and CPU-cheap."""

from pathlib import Path

import torch
from torch import nn

import nn_tilde
from support.catalogue import StreamingDelay

if not hasattr(nn_tilde, "Module"):  # the repo's C++ nn_tilde/ folder shadowed the kit
    raise ImportError(
        f"`import nn_tilde` found {list(getattr(nn_tilde, '__path__', []))}, not the Python kit; "
        "install it with `pip install ./python_tools` or "
        "`pip install -e python_tools --config-settings editable_mode=compat`"
    )

# ---------------------------------------------------------------------------------------------
# Good models, written with the kit


class GoodModel(nn_tilde.Module):
    """forward [2,1,2,1] delay 3 × gain; encode [1,1,4,ratio] block means; decode [4,ratio,1,1]
    holds latents; attributes of every type including a buffer."""

    def __init__(self, ratio: int = 4096, delay: int = 3) -> None:
        super().__init__(sr=44100)
        self.ratio = ratio
        self.delay_line = StreamingDelay(2, delay)
        self.register_attribute("gain", 0.5)
        self.register_attribute(
            "everything", (True, 3, 0.25, "hello", torch.ones(2), nn_tilde.Buffer())
        )
        self.register_method(
            "forward",
            2,
            1,
            2,
            1,
            input_labels=["(signal) L", "(signal) R"],
            output_labels=["(signal) L out", "(signal) R out"],
            latency=delay,
        )
        self.register_method("encode", 1, 1, 4, ratio, latency=0)
        # decode delays latents by one frame: its latency is `ratio` samples, measured at export.
        self.latent_delay = StreamingDelay(4, 1)
        self.register_method("decode", 4, ratio, 1, 1, latency="auto")
        self.set_metadata(name="good", author="tests", licence="CC0")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.delay_line(x) * self.gain[0]

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        z = x.reshape(b, c, t // self.ratio, self.ratio).mean(-1)
        return torch.cat([z, 2 * z, -z, z * z], 1)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(self.latent_delay(z).sum(1, keepdim=True))
        return y.repeat_interleave(self.ratio, -1)

    @torch.jit.export
    def reset(self) -> None:
        self.delay_line.reset()
        self.latent_delay.reset()


def export_good(path: Path, fresh_process: bool = True, **kwargs) -> Path:
    """Export GoodModel(**kwargs); fresh_process=False skips the (slow) reload subprocess."""
    GoodModel(**kwargs).export_to_ts(path, fresh_process=fresh_process)
    return path


class NoisyStreamer(nn_tilde.Module):
    """Like a RAVE export: a non-causal network converted to streaming with the kit's layers
    (its caches hold the past), noise drawn on every call, and the file saved with non-zero
    caches (the state after a warm-up). Random, streaming-safe and stateful: it must pass."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        from nn_tilde.streaming import Conv1d, to_streaming

        torch.manual_seed(3)
        net = nn.Sequential(Conv1d(1, 4, 9), nn.Tanh(), Conv1d(4, 1, 5))
        self.stream = to_streaming(net.eval())
        self.register_method(
            "forward", 1, 1, 1, 1, ["(signal) in"], ["(signal) out"], latency=self.stream.delay
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stream(x) + 0.05 * torch.randn_like(x)

    @torch.jit.export
    def reset(self) -> None:
        self.stream.reset()


def export_random_streaming(path: Path) -> Path:
    """NoisyStreamer scripted and saved right after a call on noise (caches not zero)."""
    scripted = torch.jit.script(NoisyStreamer())
    with torch.no_grad():
        scripted(torch.rand(1, 1, 4096) - 0.5)
    scripted.save(str(path))
    return path

"""Models built by the kit tests: good ones (via nn_tilde.Module) and raw TorchScript files
that each break one nn~ rule. Nothing here is downloaded; everything is tiny and CPU-cheap."""

from pathlib import Path
from typing import Dict, List, Tuple

import torch
from torch import nn

import nn_tilde

if not hasattr(nn_tilde, "Module"):  # the repo's C++ nn_tilde/ folder shadowed the kit
    raise ImportError(
        f"`import nn_tilde` found {list(getattr(nn_tilde, '__path__', []))}, not the Python kit; "
        "install it with `pip install ./python_tools` or "
        "`pip install -e python_tools --config-settings editable_mode=compat`"
    )

# ---------------------------------------------------------------------------------------------
# Good models, written with the kit


class StreamingDelay(nn.Module):
    """Streaming delay line: y[t] = x[t - delay]; state: [B, C, delay] kept across calls."""

    def __init__(self, channels: int, delay: int) -> None:
        super().__init__()
        self.delay = delay
        self.register_buffer("state", torch.zeros(1, channels, delay))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.state.shape[0] != x.shape[0]:
            self.state = torch.zeros(x.shape[0], x.shape[1], self.delay)
        y = torch.cat([self.state, x], -1)
        self.state = y[..., y.shape[-1] - self.delay :].clone()
        return y[..., : x.shape[-1]]

    @torch.jit.export
    def reset(self) -> None:
        self.state = torch.zeros(1, self.state.shape[1], self.delay)


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


# ---------------------------------------------------------------------------------------------
# Raw TorchScript files, one broken rule each. RawBase is a complete, correct nn~ model.


class RawBase(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))
        self.forward_input_labels = ["(signal) in"]
        self.forward_output_labels = ["(signal) out"]
        self.register_buffer("gain_params", torch.tensor([2]))
        self.gain = 0.5
        self.sr = 44100

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return ["gain"]

    @torch.jit.export
    def get_gain(self) -> Tuple[float]:
        return (self.gain,)

    @torch.jit.export
    def set_gain(self, gain: float) -> int:
        self.gain = gain
        return 0

    @torch.jit.export
    def get_sample_rate(self) -> int:
        return self.sr

    @torch.jit.export
    def set_sample_rate(self, sr: int) -> int:
        self.sr = sr
        return 0


class ListsMissingMethod(RawBase):
    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward", "decode"]


class MissingParams(RawBase):
    def __init__(self) -> None:
        super().__init__()
        del self.forward_params


class ThreeParams(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_params = torch.tensor([1, 1, 1])


class RatioThree(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_params = torch.tensor([1, 1, 1, 3])


class BadLabels(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_input_labels = ["(signal) a", "(signal) b"]


class LongOutput(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(x, (0, 1))


class WrongChannels(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], 1)


class Float64Output(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.double()


class RaisesOnSmallBuffers(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] < 64:
            raise RuntimeError("buffer too small")
        return x


class MixesBatch(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - x.mean(0, keepdim=True)


class ZeroPaddedDelay(RawBase):
    """Delays by 2 with zero padding per call: right offline, clicks when streamed."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(x, (2, 0))[..., : x.shape[-1]]


class WrongLatency(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.delay = StreamingDelay(1, 5)
        self.register_buffer("forward_latency", torch.tensor([2]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.delay(x)


class UsesNoise(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.01 * torch.randn_like(x)


class ResetForgetsState(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.delay = StreamingDelay(1, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.delay(x)

    @torch.jit.export
    def reset(self) -> None:
        pass


class NanOnSilence(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x.abs()) * 0.0 + x


class MissingGetter(RawBase):
    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return ["gain", "mode"]

    @torch.jit.export
    def set_mode(self, mode: int) -> int:
        return 0

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mode_params", torch.tensor([1]))


class SetterRefusesOwnValue(RawBase):
    @torch.jit.export
    def set_gain(self, gain: float) -> int:
        if gain < 1.0:
            return 1
        self.gain = gain
        return 0


class SetterArity(RawBase):
    @torch.jit.export
    def set_gain(self, gain: float, extra: float) -> int:
        self.gain = gain
        return 0


class GetterWrongType(RawBase):
    @torch.jit.export
    def get_gain(self) -> Tuple[str]:
        return ("loud",)


class UnknownTypeCode(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.gain_params = torch.tensor([9])


class AttributeWithoutParams(RawBase):
    def __init__(self) -> None:
        super().__init__()
        del self.gain_params


class BufferNotListed(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.gain_params = torch.tensor([5])
        self.audio = torch.zeros(0)

    @torch.jit.export
    def get_gain(self) -> Tuple[str]:
        return ("Buffer(empty)",)

    @torch.jit.export
    def set_gain(self, gain: str) -> int:
        return 0

    @torch.jit.export
    def get_buffer_attributes(self) -> List[str]:
        return []

    @torch.jit.export
    def set_buffer_attribute(self, name: str, buffer: torch.Tensor, sr: int) -> int:
        self.audio = buffer
        return 0

    @torch.jit.export
    def clear_buffer_attribute(self, name: str) -> None:
        self.audio = torch.zeros(0)


class WrongTestVector(RawBase):
    def __init__(self) -> None:
        super().__init__()
        x = torch.linspace(-1, 1, 256).view(1, 1, -1)
        self.register_buffer("forward_test_input", x)
        self.register_buffer("forward_test_output", x * 0.25)  # the model computes x * 0.5


class NewerTorch(RawBase):
    @torch.jit.export
    def get_metadata(self) -> Dict[str, str]:
        return {"torch_version": "2.99.0"}


class SampleRateOverwritesModelRate(RawBase):
    @torch.jit.export
    def get_model_sample_rate(self) -> int:
        return self.sr


class NoMethods(RawBase):
    @torch.jit.export
    def get_methods(self) -> List[str]:
        return []


class GetMethodsRaises(RawBase):
    @torch.jit.export
    def get_methods(self) -> List[str]:
        raise RuntimeError("boom")


class RaisesOnLongInput(RawBase):
    """Fine for every buffer a host uses up to 4096, raises on longer calls."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > 4096:
            raise RuntimeError("input too long")
        return x * 0.5


class Clips(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 4.0


class DirtyCache(RawBase):
    """A cached_conv convolution saved after a warm-up on non-silence (RAVE-style export)."""

    def __init__(self) -> None:
        super().__init__()
        import cached_conv as cc

        self.conv = cc.CachedConv1d(1, 1, 3, padding=(2, 0), bias=False)
        with torch.no_grad():
            self.conv(torch.ones(cc.MAX_BATCH_SIZE, 1, 16))  # every batch slot alike

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class NoGetMethods(nn.Module):
    """Only `forward_params`: hosts must discover the method from the buffer name."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1, 1, 1, 1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.5


def save_raw(model: nn.Module, path: Path) -> Path:
    torch.jit.save(torch.jit.script(model), str(path))
    return path


def save_not_torchscript(path: Path) -> Path:
    torch.save({"weight": torch.zeros(3)}, str(path))
    return path


# (builder, expected status, check id, message fragment): each breaks exactly one rule.
BROKEN = {
    "not_torchscript": (None, "fail", "load", "torch.jit.load failed"),
    "lists_missing_method": (ListsMissingMethod, "fail", "contract.method", "no such method"),
    "missing_params": (MissingParams, "fail", "contract.params", "missing buffer forward_params"),
    "three_params": (ThreeParams, "fail", "contract.params", "holds 3 values"),
    "ratio_three": (RatioThree, "fail", "contract.ratio", "ratio 3 is not a power of two"),
    "bad_labels": (BadLabels, "fail", "contract.labels", "has 2 entries for 1 input channels"),
    "long_output": (LongOutput, "fail", "shape", "returned (1, 1, 2)"),
    "wrong_channels": (WrongChannels, "fail", "shape", "returned (1, 2, 1)"),
    "float64_output": (Float64Output, "fail", "dtype", "torch.float64"),
    "raises_small": (RaisesOnSmallBuffers, "fail", "shape", "buffer too small"),
    "mixes_batch": (MixesBatch, "fail", "batch", "batch of 4 differs"),
    "zero_padded": (ZeroPaddedDelay, "fail", "chunk", "not streaming-safe"),
    "wrong_latency": (WrongLatency, "fail", "latency", "declares 2 samples but measures 5"),
    "uses_noise": (UsesNoise, "warn", "nondeterministic", "draws random numbers"),
    "reset_forgets": (ResetForgetsState, "fail", "reset", "does not restore the fresh state"),
    "nan_on_silence": (NanOnSilence, "fail", "numerics", "NaN or Inf"),
    "missing_getter": (MissingGetter, "fail", "attribute.accessor", "missing get_mode()"),
    "setter_refuses": (SetterRefusesOwnValue, "fail", "attribute.setter", "returned 1"),
    "setter_arity": (SetterArity, "fail", "attribute.setter", "takes 2 arguments"),
    "getter_type": (GetterWrongType, "fail", "attribute.type", "element 0 is str, declared float"),
    "unknown_code": (UnknownTypeCode, "fail", "attribute.params", "unknown type code 9"),
    "no_attr_params": (AttributeWithoutParams, "fail", "attribute.params", "missing gain_params"),
    "buffer_unlisted": (BufferNotListed, "fail", "attribute.buffer", "not listed"),
    "wrong_test_vector": (WrongTestVector, "fail", "test_vector", "does not reproduce"),
    "newer_torch": (NewerTorch, "fail", "torch_version", "newer than the host"),
    "model_rate_follows_host": (
        SampleRateOverwritesModelRate,
        "fail",
        "sample_rate",
        "changed get_model_sample_rate",
    ),
    "no_methods": (NoMethods, "fail", "contract.methods", "no nn~ method found"),
    "clips": (Clips, "warn", "numerics", "exceeds full scale"),
    "dirty_cache": (DirtyCache, "warn", "clean_state", "conv.cache.pad"),
    "no_get_methods": (NoGetMethods, "warn", "contract.methods", "discovered ['forward']"),
    "get_methods_raises": (GetMethodsRaises, "fail", "contract.methods", "raised during"),
    # With --quick the shapes stop at 4096; the 8192-sample numerics probe hits the error.
    "raises_long_input": (RaisesOnLongInput, "fail", "numerics", "input too long"),
}


def build_broken(key: str, path: Path) -> Path:
    builder = BROKEN[key][0]
    if builder is None:
        return save_not_torchscript(path)
    return save_raw(builder(), path)

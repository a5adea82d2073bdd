"""The one catalogue of model files the tests feed to nn~ and to the checker: good files, files
that break one rule of docs/MODEL_FORMAT.md each, and tricky ones (random, stateful, slow,
memory-hungry, odd dtypes, hostile sizes, files that are not models at all).

Every entry says what nn~ does with the file when `[nn~ <file>]` is created and plays its
default method for a moment (`nn`), which rules of the spec nn~ and the checker must both report
(`rules`, with nn~'s verdict words), and which checks only the checker reports (`hints`).
tests/pd/test_contract_agreement.py runs every entry through `nn-tilde check` and through nn~ in
`pd -batch` and asserts that the two agree; tests/kit/test_kit_check.py and
tests/pd/test_bad_input.py use single entries. Everything is tiny, CPU-cheap and made here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
from torch import nn

from support import plain_models

REPO = Path(__file__).resolve().parents[2]


def _params(m: nn.Module, name: str, values: Tuple[int, ...]) -> None:
    m.register_buffer(f"{name}_params", torch.tensor(list(values), dtype=torch.long))


def save_scripted(module: nn.Module, path: Path) -> Path:
    torch.jit.script(module).save(str(path))
    return path


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


# ---- files that are not models -------------------------------------------------------------------


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def truncated(path: Path) -> Path:
    """A valid identity .ts cut in half (its zip central directory is lost)."""
    save_scripted(plain_models.Identity(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def pickle_not_torchscript(path: Path) -> Path:
    torch.save({"weight": torch.zeros(3)}, str(path))
    return path


def folder(path: Path) -> Path:
    path.mkdir()
    return path


# ---- raw TorchScript files. RawBase is a complete, correct nn~ model ---------------------------


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


class MissingParams(RawBase):
    def __init__(self) -> None:
        super().__init__()
        del self.forward_params


class ThreeParams(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_params = torch.tensor([1, 1, 1])


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


class NoParams(nn.Module):
    """Lists forward in get_methods() but has no forward_params buffer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class PlainModule(nn.Module):
    """No get_methods() and no <method>_params buffer at all: a plain TorchScript module."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Params(nn.Module):
    """Identity with arbitrary forward_params (wrong length, zero or negative ratios)."""

    def __init__(self, params: Tuple[int, ...]) -> None:
        super().__init__()
        _params(self, "forward", params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class Throws(nn.Module):
    """forward raises on every call (nn~ calls it on zeros at load time)."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > 0:
            raise RuntimeError("boom: this model always fails")
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class WrongShape(nn.Module):
    """forward returns half as many frames as its params declare."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : x.shape[-1] // 2]

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class ReturnsTuple(nn.Module):
    """forward returns a tuple of tensors instead of one tensor."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x, x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class ListedMissing(nn.Module):
    """get_methods() lists `decode` and decode_params exists, but there is no decode method."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))
        _params(self, "decode", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward", "decode"]


class FloatParams(nn.Module):
    """forward_params is a float tensor holding a non-integer ratio."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forward_params", torch.tensor([1.0, 1.5, 1.0, 1.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


# ---- scripted modules that load fine and misbehave while playing ---------------------------------


class ThrowsAfter(nn.Module):
    """Identity for `limit` calls after reset(), then raises on every call. nn~'s warm-up calls
    forward 3 times and then reset(), so playback gets exactly `limit` good buffers."""

    def __init__(self, limit: int = 4) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))
        self.limit = limit
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > self.limit:
            raise RuntimeError("boom after " + str(self.limit) + " calls")
        return x

    @torch.jit.export
    def reset(self) -> None:
        self.calls = 0

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class ShapeAfter(nn.Module):
    """Identity for `limit` calls after reset(), then returns one frame too few."""

    def __init__(self, limit: int = 4) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))
        self.limit = limit
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > self.limit:
            return x[:, :, 1:]
        return x

    @torch.jit.export
    def reset(self) -> None:
        self.calls = 0

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class NaNAbove(nn.Module):
    """Identity, except samples above 0.25 become NaN (finite on silence: only playback sees it)."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x > 0.25, torch.full_like(x, float("nan")), x)

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class NaNOnSilence(nn.Module):
    """x / x: NaN where the input is 0 (so on the load-time buffer of zeros), 1 elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class Ratio3(nn.Module):
    """Identity with ratios that are not powers of two. Ratio 3 in and out (the default): the host
    decimates by 3 (last sample of each group) and holds each output frame for 3 samples; 2048 is
    not a multiple of 3, so nn~ must adapt its buffer. In ratio 1, out ratio 3: it returns every
    input frame, 3 times too many (call.shape)."""

    def __init__(self, in_ratio: int = 3, out_ratio: int = 3) -> None:
        super().__init__()
        _params(self, "forward", (1, in_ratio, 1, out_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


def spin(ns: int) -> None:
    """Return after `ns` nanoseconds of wall time, on any machine: TorchScript has no sleep, but
    prim::TimePoint reads a monotonic clock in nanoseconds (libtorch's own, so nn~ loads a file
    that calls it). The core stays busy meanwhile, as a model that computes would keep it."""
    start = torch.ops.prim.TimePoint()
    while torch.ops.prim.TimePoint() - start < ns:
        pass


class Stuck(nn.Module):
    """Identity on silence (so nn~'s load-time warm-up passes); on any signal the call does not
    return for ten minutes of wall time: a model that hangs, on a fast machine as on a slow one."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.abs().sum() > 0):
            spin(600 * 1000000000)
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class GetMethodsString(RawBase):
    """get_methods() returns a str, not a list of names: nn~ warns and finds the methods."""

    @torch.jit.export
    def get_methods(self) -> str:  # type: ignore[override]
        return "forward"


class GetMethodsInts(RawBase):
    @torch.jit.export
    def get_methods(self) -> List[int]:  # type: ignore[override]
        return [1]


class GetMethodsIntsNoParams(GetMethodsInts):
    """get_methods() returns ints and no `<method>_params` buffer exists either: refused for
    having no method, and the bad get_methods() is named with the refusal."""

    def __init__(self) -> None:
        super().__init__()
        del self.forward_params
        del self.gain_params


class ParamsNotTensor(RawBase):
    """forward_params is a list attribute, not a tensor."""

    def __init__(self) -> None:
        super().__init__()
        del self.forward_params
        self.forward_params = [1, 1, 1, 1]


class ParamsFloatWhole(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_params = torch.tensor([1.0, 1.0, 1.0, 1.0])


class ParamsFloatFraction(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_params = torch.tensor([1.5, 1.0, 1.0, 1.0])


class WithParams(RawBase):
    """RawBase with other forward_params; forward returns what they ask for, so only the params
    rule under test can fail."""

    def __init__(self, params: Tuple[int, int, int, int]) -> None:
        super().__init__()
        self.forward_params = torch.tensor(list(params))
        self.in_ratio, self.out_ratio, self.out_channels = params[1], params[3], params[2]
        self.forward_input_labels = ["(signal) in"] * max(1, min(params[0], 1024))
        self.forward_output_labels = ["(signal) out"] * max(1, min(params[2], 1024))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[-1] * self.in_ratio // self.out_ratio
        return torch.zeros(x.shape[0], self.out_channels, frames)


class LabelsNotStrings(RawBase):
    def __init__(self) -> None:
        super().__init__()
        self.forward_input_labels = [1]


class Int64Output(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 100).long()


class Float16Output(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 0.5).half()


class ReturnsList(RawBase):
    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:  # type: ignore[override]
        return [x]


class Rank2Output(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[0]


class Rank4Output(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(0)


class WrongBatch(RawBase):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], 0)


class TwoArguments(RawBase):
    """forward takes two tensors: nn~ calls it with one."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x + y


class AllocationFails(RawBase):
    """Asks for an impossible amount of memory on its first call."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        big = torch.empty(1 << 46, dtype=torch.uint8)
        return x + big[:1].float() * 0.0


class MemoryHungry(RawBase):
    """Allocates and touches 64 MiB per call, then returns its input: slow but correct."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scratch = torch.ones(16 * 1024 * 1024)
        return x + scratch[:1] * 0.0


class Slow(RawBase):
    """Takes `ms` milliseconds of wall time per call, whatever the buffer size and whatever the
    machine (`spin`): at nn~'s default buffer (2048 samples, 46 ms at 44.1 kHz) 200 ms is more
    than four times slower than real time by construction, not by arithmetic on a CPU's speed."""

    def __init__(self, ms: int = 200) -> None:
        super().__init__()
        self.ns = ms * 1000000

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spin(self.ns)
        return x * self.gain


class DecodeThrows(RawBase):
    """forward is fine, decode (a second method) throws: nn~ refuses the whole file."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "decode", (1, 1, 1, 1))

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward", "decode"]

    @torch.jit.export
    def decode(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("decode is broken")


class SetSampleRateRaises(RawBase):
    @torch.jit.export
    def set_sample_rate(self, sr: int) -> int:
        raise RuntimeError("unsupported rate")


class SetSampleRateRefuses(RawBase):
    @torch.jit.export
    def set_sample_rate(self, sr: int) -> int:
        return -1


class ModelRate48k(RawBase):
    @torch.jit.export
    def get_model_sample_rate(self) -> int:
        return 48000


class GetterRaises(RawBase):
    @torch.jit.export
    def get_gain(self) -> Tuple[float]:
        raise RuntimeError("no gain here")


class GetAttributesString(RawBase):
    @torch.jit.export
    def get_attributes(self) -> str:  # type: ignore[override]
        return "gain"


class TestVectorWrongShape(RawBase):
    def __init__(self) -> None:
        super().__init__()
        x = torch.linspace(-1, 1, 256).view(1, 1, -1)
        self.register_buffer("forward_test_input", x)
        self.register_buffer("forward_test_output", torch.zeros(1, 2, 256))


class Accumulator(RawBase):
    """A stateful model without reset(): every call adds 1e-3 to an offset it keeps, on silence
    too. nn~'s load-time calls must leave it as freshly loaded (offset 0 on the first buffer)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("offset", torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 0.5 + self.offset
        self.offset = self.offset + 1e-3
        return y


# ---- files written with the kit ---------------------------------------------------------------


def kit_good(path: Path) -> Path:
    from support import kit_models

    return kit_models.export_good(path, fresh_process=False)


def kit_random_streaming(path: Path) -> Path:
    from support import kit_models

    return kit_models.export_random_streaming(path)


def reference_style(path: Path) -> Path:
    from support import ref_style_model

    model = ref_style_model.build()
    model.export_to_ts(str(path))
    return path


def shipped(name: str) -> Callable[[Path], Path]:
    def copy(path: Path) -> Path:
        path.write_bytes((REPO / "models" / name).read_bytes())
        return path

    return copy


def plain(name: str) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        return save_scripted(plain_models.BUILDERS[name](), path)

    return build


def scripted(cls: type, *args: object) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        return save_scripted(cls(*args), path)

    return build


# ---- the catalogue -----------------------------------------------------------------------------

REFUSE, WARN, SILENT, BREAKS = "refuse", "warn", "silent", "breaks"


@dataclass(frozen=True)
class Entry:
    """One file. nn: what nn~ does when it loads the file and plays it for a moment: refuse (an
    error, nothing plays), warn (plays, prints a warning), silent (plays without a word), breaks
    (loads, then fails while playing). rules: spec rule ids both must report. hints: check ids
    only the checker reports."""

    name: str
    build: Callable[[Path], Path]
    nn: str
    rules: Tuple[str, ...] = ()
    hints: Tuple[str, ...] = ()
    checker: Dict[str, object] = field(default_factory=dict)  # extra CheckOptions


def _e(name, build, nn_, rules=(), hints=(), **checker) -> Entry:
    return Entry(name, build, nn_, tuple(rules), tuple(hints), dict(checker))


CATALOGUE: List[Entry] = [
    # good files
    _e("identity", plain("identity"), SILENT),
    _e("gain", plain("gain"), SILENT),
    _e("mix2to3", plain("mix2to3"), SILENT),
    _e("encdec", plain("encdec"), SILENT),
    _e("attributed", plain("attributed"), SILENT),
    _e("bufattr", plain("bufattr"), SILENT),
    _e("rawbase", scripted(RawBase), SILENT),
    _e("kit_good", kit_good, SILENT),
    _e("kit_random_streaming", kit_random_streaming, SILENT),
    _e("reference_style", reference_style, WARN, rules=["rate.mismatch"]),
    _e("demo", shipped("demo.ts"), SILENT),
    _e("violin_pqmf", shipped("violin_pqmf.ts"), SILENT),
    _e("ddsp_violin", shipped("ddsp_violin.ts"), SILENT),
    # not models
    _e("empty", empty_file, REFUSE, ["file.empty"]),
    _e("random_bytes", random_bytes, REFUSE, ["file.torchscript"]),
    _e("truncated", truncated, REFUSE, ["file.torchscript"]),
    _e("pickle", pickle_not_torchscript, REFUSE, ["file.torchscript"]),
    _e("folder", folder, REFUSE, ["file.folder"]),
    # methods and params
    _e("no_methods", scripted(NoMethods), REFUSE, ["methods.none"]),
    _e("plain_module", scripted(PlainModule), REFUSE, ["methods.none"]),
    _e("get_methods_raises", scripted(GetMethodsRaises), REFUSE, ["contract.read"]),
    _e("get_methods_str", scripted(GetMethodsString), WARN, ["methods.list"]),
    _e("get_methods_ints", scripted(GetMethodsInts), WARN, ["methods.list"]),
    _e(
        "get_methods_ints_no_params",
        scripted(GetMethodsIntsNoParams),
        REFUSE,
        ["methods.none", "methods.list"],
    ),
    _e("no_get_methods", scripted(NoGetMethods), SILENT, hints=["methods.discovered"]),
    _e("listed_missing", scripted(ListedMissing), REFUSE, ["method.missing"]),
    _e("missing_params", scripted(MissingParams), REFUSE, ["params.missing"]),
    _e("no_params", scripted(NoParams), REFUSE, ["params.missing"]),
    _e("params_not_tensor", scripted(ParamsNotTensor), REFUSE, ["params.type"]),
    _e("three_params", scripted(ThreeParams), REFUSE, ["params.count"]),
    _e("five_params", scripted(WithParams, (1, 1, 1, 1, 1)), REFUSE, ["params.count"]),
    _e("params_fraction", scripted(ParamsFloatFraction), REFUSE, ["params.fraction"]),
    _e("float_params", scripted(FloatParams), REFUSE, ["params.fraction"]),
    _e("params_float_whole", scripted(ParamsFloatWhole), WARN, ["params.float"]),
    _e("ratio_zero", scripted(WithParams, (1, 0, 1, 1)), REFUSE, ["params.range"]),
    _e("ratio_negative", scripted(WithParams, (1, 1, 1, -2)), REFUSE, ["params.range"]),
    _e("ratio_2_21", scripted(WithParams, (1, 1 << 21, 1, 1)), REFUSE, ["params.range"]),
    _e("out_ratio_2_18", scripted(WithParams, (1, 1, 1, 1 << 18)), REFUSE, ["buffer.limit"]),
    _e("in_ratio_2_20", scripted(WithParams, (1, 1 << 20, 1, 1)), REFUSE, ["buffer.limit"]),
    _e("in_channels_2000", scripted(WithParams, (2000, 1, 1, 1)), REFUSE, ["channels.limit"]),
    _e("in_channels_1025", scripted(WithParams, (1025, 1, 1, 1)), REFUSE, ["channels.limit"]),
    _e("out_channels_1025", scripted(WithParams, (1, 1, 1025, 1)), REFUSE, ["channels.limit"]),
    _e("channels_1024", scripted(WithParams, (1024, 1, 2, 1)), SILENT),
    # out_ratio 3 but returns every input frame: the buffer becomes 2049, the output 3x too long
    _e("ratio_three_wrong_length", scripted(Ratio3, 1, 3), REFUSE, ["ratio.pow2", "call.shape"]),
    _e("ratio3_both", scripted(Ratio3), WARN, ["ratio.pow2"]),
    _e("labels_wrong_count", scripted(BadLabels), WARN, ["labels.invalid"]),
    _e("labels_not_strings", scripted(LabelsNotStrings), WARN, ["labels.invalid"]),
    # what a call returns
    _e("throws", scripted(Throws), REFUSE, ["call.throws"]),
    _e("two_arguments", scripted(TwoArguments), REFUSE, ["call.throws"]),
    _e("allocation_fails", scripted(AllocationFails), REFUSE, ["call.throws"]),
    _e("decode_throws", scripted(DecodeThrows), REFUSE, ["call.throws"]),
    _e("returns_tuple", scripted(ReturnsTuple), REFUSE, ["call.type"]),
    _e("returns_list", scripted(ReturnsList), REFUSE, ["call.type"]),
    _e("wrong_shape", scripted(WrongShape), REFUSE, ["call.shape"]),
    _e("long_output", scripted(LongOutput), REFUSE, ["call.shape"]),
    _e("wrong_channels", scripted(WrongChannels), REFUSE, ["call.shape"]),
    _e("rank2_output", scripted(Rank2Output), REFUSE, ["call.shape"]),
    _e("rank4_output", scripted(Rank4Output), REFUSE, ["call.shape"]),
    _e("wrong_batch", scripted(WrongBatch), REFUSE, ["call.shape"]),
    _e("int64_output", scripted(Int64Output), WARN, ["call.dtype"]),
    _e("float16_output", scripted(Float16Output), WARN, ["call.dtype"]),
    _e("float64_output", scripted(Float64Output), WARN, ["call.dtype"]),
    _e("nan_on_silence", scripted(NaNOnSilence), WARN, ["call.nonfinite"]),
    _e("nan_when_loud", scripted(NaNAbove), WARN, hints=["numerics"]),
    _e("throws_after_4", scripted(ThrowsAfter), BREAKS),
    _e("shape_after_4", scripted(ShapeAfter), BREAKS),
    # behaviour only the checker sees
    _e("mixes_batch", scripted(MixesBatch), SILENT, hints=["batch"]),
    _e("zero_padded", scripted(ZeroPaddedDelay), SILENT, hints=["chunk"]),
    _e("wrong_latency", scripted(WrongLatency), SILENT, hints=["latency"]),
    _e("uses_noise", scripted(UsesNoise), SILENT, hints=["random"]),
    _e("reset_forgets", scripted(ResetForgetsState), SILENT, hints=["reset"]),
    _e("accumulator", scripted(Accumulator), SILENT),
    _e("clips", scripted(Clips), SILENT, hints=["numerics"]),
    _e("dirty_cache", scripted(DirtyCache), SILENT, hints=["clean_state"]),
    _e("raises_small", scripted(RaisesOnSmallBuffers), SILENT, hints=["buffer_sizes"]),
    _e("raises_long", scripted(RaisesOnLongInput), SILENT, hints=["numerics"]),
    _e("memory_hungry", scripted(MemoryHungry), SILENT),
    _e("slow", scripted(Slow), SILENT, hints=["speed"], speed=True, budget=10.0),
    # attributes
    _e("missing_getter", scripted(MissingGetter), WARN, ["attribute.accessor"]),
    _e("unknown_code", scripted(UnknownTypeCode), WARN, ["attribute.code"]),
    _e("no_attr_params", scripted(AttributeWithoutParams), WARN, ["attribute.params"]),
    _e("get_attributes_str", scripted(GetAttributesString), WARN, ["attributes.list"]),
    _e("setter_refuses", scripted(SetterRefusesOwnValue), SILENT, hints=["attribute.behaviour"]),
    _e("setter_arity", scripted(SetterArity), SILENT, hints=["attribute.behaviour"]),
    _e("getter_type", scripted(GetterWrongType), SILENT, hints=["attribute.behaviour"]),
    _e("getter_raises", scripted(GetterRaises), SILENT, hints=["attribute.behaviour"]),
    _e("buffer_unlisted", scripted(BufferNotListed), SILENT, hints=["attribute.behaviour"]),
    # sample rate, versions, test vectors
    _e("set_rate_raises", scripted(SetSampleRateRaises), WARN, ["rate.error"]),
    _e("set_rate_refuses", scripted(SetSampleRateRefuses), WARN, ["rate.refused"]),
    _e("model_rate_48k", scripted(ModelRate48k), WARN, ["rate.mismatch"]),
    _e(
        "model_rate_follows_host",
        scripted(SampleRateOverwritesModelRate),
        SILENT,
        hints=["attribute.behaviour"],
    ),
    _e("newer_torch", scripted(NewerTorch), WARN, ["torch.newer"]),
    _e("wrong_test_vector", scripted(WrongTestVector), WARN, ["test_vector.mismatch"]),
    _e("test_vector_shape", scripted(TestVectorWrongShape), WARN, ["test_vector.error"]),
]

BY_NAME: Dict[str, Entry] = {e.name: e for e in CATALOGUE}

# Files the agreement test leaves out, and why: a call that never returns cannot be checked (the
# checker runs the model in its own process and cannot interrupt a call; nn~ can, see
# tests/pd/test_bad_input.py).
NOT_CHECKABLE: Dict[str, Callable[[Path], Path]] = {"stuck": scripted(Stuck)}


def build(name: str, directory: Path) -> Path:
    """Writes entry `name` to directory/<name>.ts (a folder for `folder`); returns the path."""
    builder = BY_NAME[name].build if name in BY_NAME else NOT_CHECKABLE[name]
    return builder(Path(directory) / f"{name}.ts")

"""Broken model files for the bad-input patch tests, written with plain torch (no nn_tilde kit).

Each builder takes a directory (pytest's tmp_path) and returns the path it wrote. Files that are not
TorchScript at all (empty, random bytes, truncated archive) are made from bytes; the rest are small
scripted modules that break one rule of ../shared/MODEL_FORMAT.md, or that break only when played.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
from torch import nn

from support import plain_models


def _params(m: nn.Module, name: str, values: Tuple[int, ...]) -> None:
    m.register_buffer(f"{name}_params", torch.tensor(list(values), dtype=torch.long))


def _save(module: nn.Module, path: Path) -> Path:
    torch.jit.script(module).save(str(path))
    return path


# ---- files that are not models -------------------------------------------------------------------


def empty_file(d: Path) -> Path:
    p = Path(d) / "empty.ts"
    p.write_bytes(b"")
    return p


def random_bytes(d: Path) -> Path:
    p = Path(d) / "random.ts"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return p


def truncated(d: Path) -> Path:
    """A valid identity .ts cut in half (its zip central directory is lost)."""
    p = Path(d) / "truncated.ts"
    _save(plain_models.Identity(), p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


# ---- scripted modules that break the contract at load time ---------------------------------------


class NoParams(nn.Module):
    """Lists forward in get_methods() but has no forward_params buffer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class NoMethods(nn.Module):
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
    """Identity at ratio 3 in and out: the host decimates by 3 (last sample of each group) and holds
    each output frame for 3 samples. 2048 is not a multiple of 3, so nn~ must adapt its buffer."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 3, 1, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


class Stuck(nn.Module):
    """Identity on silence (so nn~'s load-time warm-up passes); on any signal the call does not
    return for minutes (10^9 loop steps): a model that hangs."""

    def __init__(self) -> None:
        super().__init__()
        _params(self, "forward", (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if bool(x.abs().sum() > 0):
            for _ in range(1000000000):
                y = y * 1.0
        return y

    @torch.jit.export
    def get_methods(self) -> List[str]:
        return ["forward"]


BUILDERS: Dict[str, Callable[[Path], Path]] = {
    "empty": empty_file,
    "random": random_bytes,
    "truncated": truncated,
    "noparams": lambda d: _save(NoParams(), Path(d) / "noparams.ts"),
    "nomethods": lambda d: _save(NoMethods(), Path(d) / "nomethods.ts"),
    "params3": lambda d: _save(Params((1, 1, 1)), Path(d) / "params3.ts"),
    "params5": lambda d: _save(Params((1, 1, 1, 1, 1)), Path(d) / "params5.ts"),
    "ratio0": lambda d: _save(Params((1, 0, 1, 1)), Path(d) / "ratio0.ts"),
    "rationeg": lambda d: _save(Params((1, 1, 1, -2)), Path(d) / "rationeg.ts"),
    "hugeratio": lambda d: _save(Params((1, 1 << 20, 1, 1)), Path(d) / "hugeratio.ts"),
    # just above nn~'s channel limit: harmless (1025 inlets) should the limit ever be dropped
    "manychannels": lambda d: _save(Params((1025, 1, 1, 1)), Path(d) / "manychannels.ts"),
    "floatparams": lambda d: _save(FloatParams(), Path(d) / "floatparams.ts"),
    "listedmissing": lambda d: _save(ListedMissing(), Path(d) / "listedmissing.ts"),
    "tuple": lambda d: _save(ReturnsTuple(), Path(d) / "tuple.ts"),
    "throws": lambda d: _save(Throws(), Path(d) / "throws.ts"),
    "wrongshape": lambda d: _save(WrongShape(), Path(d) / "wrongshape.ts"),
    "throwsafter": lambda d: _save(ThrowsAfter(), Path(d) / "throwsafter.ts"),
    "shapeafter": lambda d: _save(ShapeAfter(), Path(d) / "shapeafter.ts"),
    "nan": lambda d: _save(NaNAbove(), Path(d) / "nan.ts"),
    "nansilence": lambda d: _save(NaNOnSilence(), Path(d) / "nansilence.ts"),
    "ratio3": lambda d: _save(Ratio3(), Path(d) / "ratio3.ts"),
    "stuck": lambda d: _save(Stuck(), Path(d) / "stuck.ts"),
}


def save(name: str, directory: Path) -> Path:
    """Writes broken model `name` to directory/<name>.ts; returns the path."""
    return BUILDERS[name](Path(directory))

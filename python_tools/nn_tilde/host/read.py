"""Read a model file's methods as nn~ reads them: the one reader behind the checker, the bench and
the export.

List the methods (`get_methods()`, else the `<m>_params` buffers), read each `<m>_params` by the
rules of nn_tilde.contract, and say what nn~ refuses, in the rules' words. nn~'s own reader is
nn_tilde/core/model.cpp; tests/pd/test_contract_agreement.py holds the two to the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nn_tilde import contract
from nn_tilde.contract import MethodParams, Problem
from nn_tilde.host.probe import call, has_method, optional_attr


@dataclass
class MethodRead:
    """One method as nn~ reads it: its params (None when refused) and the rules it breaks."""

    name: str
    params: MethodParams | None
    problems: list[Problem]


@dataclass
class ModelMethods:
    """What nn~ reads of a file's methods.

    names: the methods as nn~ finds them, in its order.
    listed: True when `get_methods()` named them (else they were found from `_params` buffers).
    listing: the problems of finding them (methods.list, methods.discovered, methods.none).
    methods: each method read, in `names` order.
    ratios: buffer.limit when no buffer nn~ allows fits the accepted methods' ratios.
    """

    names: list[str] = field(default_factory=list)
    listed: bool = False
    listing: list[Problem] = field(default_factory=list)
    methods: list[MethodRead] = field(default_factory=list)
    ratios: Problem | None = None

    @property
    def params(self) -> dict[str, MethodParams]:
        """The params of each method whose `<m>_params` nn~ accepts."""
        return {m.name: m.params for m in self.methods if m.params is not None}

    @property
    def problems(self) -> list[Problem]:
        """Every rule the methods break (refusals and warnings), in the order nn~ reports them."""
        found = [*self.listing, *(p for m in self.methods for p in m.problems)]
        return found + ([self.ratios] if self.ratios is not None else [])

    @property
    def refusals(self) -> list[Problem]:
        return [p for p in self.problems if p.verdict == contract.REFUSE]

    @property
    def accepted(self) -> dict[str, MethodParams]:
        """The methods nn~ plays: all of `params`, or none when nn~ refuses the file."""
        return {} if self.refusals else dict(self.params)


def discovered_methods(model: torch.jit.ScriptModule) -> list[str]:
    """Every `m` with a `<m>_params` buffer and a method `m`, in the file's buffer order."""
    return [
        name[: -len("_params")]
        for name, _ in model.named_buffers(recurse=False)
        if name.endswith("_params") and has_method(model, name[: -len("_params")])
    ]


def read_method(
    model: torch.jit.ScriptModule, name: str
) -> tuple[MethodParams | None, list[Problem]]:
    """The rules of one method: it exists, and its `<name>_params` is acceptable. Returns the
    params (None when nn~ refuses the method) and the problems, in nn~'s order."""
    if not has_method(model, name):
        return None, [Problem("method.missing", {"method": name}, name)]
    raw = optional_attr(model, f"{name}_params")
    if raw is None:
        return contract.read_params(name, None)
    if not isinstance(raw, torch.Tensor):
        return contract.read_params(name, [], "", is_tensor=False)
    # a complex tensor holds no whole numbers: params.fraction names it
    values = [float("nan")] if raw.is_complex() else raw.flatten().tolist()
    return contract.read_params(name, values, raw.dtype)


def read_methods(model: torch.jit.ScriptModule) -> ModelMethods:
    """The methods of `model` and their params, by the rules of docs/MODEL_FORMAT.md. An exception
    from `get_methods()` propagates (the caller reports it as `contract.read`)."""
    out = ModelMethods()
    discovered = discovered_methods(model)
    if has_method(model, "get_methods"):
        listed = model.get_methods()
        names = contract.names_list(listed)
        if names is None:
            names = discovered
            fields = {"got": contract.describe(listed), "methods": names}
            out.listing.append(Problem("methods.list", fields))
        else:
            out.listed = True
    else:
        names = discovered
        out.listing.append(Problem("methods.discovered", {"methods": names}))
    out.names = list(names)
    if not names:
        out.listing.append(Problem("methods.none"))
        return out
    for name in names:
        out.methods.append(MethodRead(name, *read_method(model, name)))
    if not out.refusals:
        out.ratios = contract.buffer_problem(out.params.values())
    return out


def method_params(model: torch.jit.ScriptModule, name: str) -> MethodParams:
    """The params of method `name`; ValueError in the rule's words when nn~ refuses them."""
    params, problems = read_method(model, name)
    if params is None:
        raise ValueError(problems[0].message)
    return params


def error_line(exc: BaseException) -> str:
    """The informative line of an exception (TorchScript puts the message last)."""
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


@dataclass
class CallRead:
    """One call of a method on a buffer of zeros, judged as nn~ judges its load-time calls."""

    input: torch.Tensor  # [batch, in_channels, in_frames]
    output: object  # what the method returned (None when it threw)
    problems: list[Problem]
    error: BaseException | None = None  # what it threw

    @property
    def refused(self) -> bool:
        return any(p.verdict == contract.REFUSE for p in self.problems)


def read_call(
    model: torch.jit.ScriptModule, name: str, params: MethodParams, buffer: int, batch: int = 1
) -> CallRead:
    """Call method `name` once on `buffer` host samples of zeros and judge the result by the call
    rules: call.throws, call.type, call.shape, call.dtype, then call.nonfinite (only for an
    output nn~ accepts)."""
    x = torch.zeros(batch, params.in_channels, params.in_frames(buffer))
    try:
        y = call(model, name, x, seed=None)
    except Exception as exc:
        fields = {"method": name, "error": error_line(exc)}
        return CallRead(x, None, [Problem("call.throws", fields, name)], exc)
    want = (batch, params.out_channels, params.out_frames(buffer))
    tensor = isinstance(y, torch.Tensor)
    problems = contract.output_problems(
        name,
        tuple(y.shape) if tensor else None,
        tuple(x.shape),
        want,
        y.dtype if tensor else None,
        "" if tensor else contract.value_type_name(y),
    )
    result = CallRead(x, y, problems)
    if not result.refused and not bool(torch.isfinite(y).all()):
        problems.append(Problem("call.nonfinite", {"method": name}, name))
    return result


# The Python types a getter may return for each attribute type code (an int is a valid float).
_PY_TYPES = {0: (bool,), 1: (int,), 2: (float, int), 3: (str,), 4: (torch.Tensor,), 5: (str,)}


def _setter_arity(model: torch.jit.ScriptModule, setter: str) -> int | None:
    try:
        schema = model._c._get_method(setter).schema
    except Exception:
        return None
    return len(schema.arguments) - 1  # minus self


def attribute_behaviour(model: torch.jit.ScriptModule, name: str, codes: list[int]) -> str:
    """What goes wrong when a host gets the attribute and sets it back ("" when nothing)."""
    getter, setter = f"get_{name}", f"set_{name}"
    arity = _setter_arity(model, setter)
    if arity is not None and arity != len(codes):
        return f"{setter} takes {arity} arguments but {name}_params declares {len(codes)} elements"
    try:
        current = getattr(model, getter)()
    except Exception as exc:
        return f"{getter}() raised {error_line(exc)}"
    values = list(current) if isinstance(current, (list, tuple)) else [current]
    if len(values) != len(codes):
        return f"{getter}() returned {len(values)} values, {name}_params declares {len(codes)}"
    for i, (v, c) in enumerate(zip(values, codes, strict=True)):
        if not isinstance(v, _PY_TYPES[c]) or (c in (1, 2) and isinstance(v, bool)):
            return (
                f"element {i} is {type(v).__name__}, declared {contract.TYPE_NAMES[c]}; make "
                f"the getter return the declared types"
            )
    try:
        status = getattr(model, setter)(*values)
    except Exception as exc:
        return f"{setter} rejected its own current value with an error: {error_line(exc)}"
    if status != 0:
        return (
            f"{setter}(*{getter}()) returned {status}; a setter must accept the value its "
            f"getter reports"
        )
    return ""

"""TorchScript methods whose signature depends on registered attributes, built in memory.

TorchScript compiles from source text and cannot express "one positional argument per attribute
element", so setters and the buffer-attribute dispatchers are written as source here. The text is
compiled with `compile()` and registered in `linecache` under a synthetic file name so that
`torch.jit.script` can read it back; nothing is written to disk (the reference package writes
temporary files inside its installed package directory instead).
"""

import itertools
import linecache
from collections.abc import Callable, Sequence
from typing import Any

import torch

from nn_tilde import contract
from nn_tilde.authoring.buffer import Buffer

# Type codes of the nn~ attribute convention, one per attribute element: rules.json's
# attribute_types (nn_tilde.contract.TYPE_NAMES), by the Python type of a default value.
TYPE_NAMES: dict[int, str] = contract.TYPE_NAMES
_PY_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "tensor": torch.Tensor}
_PY_TYPES["buffer"] = Buffer
TYPE_HASH: dict[type, int] = {_PY_TYPES[name]: code for code, name in TYPE_NAMES.items()}
# TorchScript spelling of each type code in a setter signature. A buffer element is set through
# `set_buffer_attribute`; its setter slot takes (and ignores) a string, as in the reference.
_SIG_NAMES = {"tensor": "torch.Tensor", "buffer": "str"}
_SIG_TYPES: dict[int, str] = {code: _SIG_NAMES.get(name, name) for code, name in TYPE_NAMES.items()}

_counter = itertools.count()


def type_code(value: Any) -> int:
    """Type code of one attribute element (exact type: True is a bool, not an int)."""
    if isinstance(value, torch.Tensor):
        return TYPE_HASH[torch.Tensor]
    code = TYPE_HASH.get(type(value))
    if code is None:
        raise TypeError(
            f"attribute values must be bool, int, float, str, torch.Tensor or nn_tilde.Buffer, "
            f"got {type(value).__name__}; convert the default value to one of these types"
        )
    return code


def compile_function(source: str, name: str) -> Callable[..., Any]:
    """Compile `source` (one top-level def called `name`) so TorchScript can read its text."""
    filename = f"<nn_tilde-generated-{next(_counter)}-{name}>"
    # mtime None keeps linecache.checkcache from discarding the entry.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"torch": torch, "Buffer": Buffer}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def getter_source(attribute: str, codes: Sequence[int]) -> str:
    """`get_<a>()` returning a tuple of the elements (a buffer element as a short description)."""
    items = []
    for i, code in enumerate(codes):
        if code == TYPE_HASH[Buffer]:
            items.append(f"self.{attribute}[{i}].to_str()")
        else:
            items.append(f"self.{attribute}[{i}]")
    return f"@torch.jit.export\ndef get_{attribute}(self):\n    return ({', '.join(items)},)\n"


def setter_source(attribute: str, codes: Sequence[int]) -> str:
    """`set_<a>(v0, v1, ...) -> int` storing the new tuple; buffer elements keep their audio."""
    # Arguments are named <attribute><index>, as in files written by the reference package.
    args = ", ".join(f"{attribute}{i}: {_SIG_TYPES[c]}" for i, c in enumerate(codes))
    items = []
    for i, code in enumerate(codes):
        if code == TYPE_HASH[Buffer]:
            items.append(f"self.{attribute}[{i}]")
        else:
            items.append(f"{attribute}{i}")
    return (
        f"@torch.jit.export\ndef set_{attribute}(self, {args}) -> int:\n"
        f"    self.{attribute} = ({', '.join(items)},)\n"
        f"    return 0\n"
    )


def _split_buffer_name(name: str) -> tuple[str, int]:
    attribute, _, index = name.partition("#")
    return attribute, int(index)


def set_buffer_attribute_source(buffer_names: Sequence[str]) -> str:
    lines = [
        "@torch.jit.export",
        "def set_buffer_attribute(self, buffer_name: str, buffer: torch.Tensor, sr: int) -> int:",
    ]
    for name in buffer_names:
        attribute, index = _split_buffer_name(name)
        lines.append(f'    if buffer_name == "{name}":')
        lines.append(f"        return self.{attribute}[{index}].set_value(buffer, sr)")
    lines.append("    return -1")
    return "\n".join(lines) + "\n"


def clear_buffer_attribute_source(buffer_names: Sequence[str]) -> str:
    lines = [
        "@torch.jit.export",
        "def clear_buffer_attribute(self, buffer_name: str) -> None:",
    ]
    for name in buffer_names:
        attribute, index = _split_buffer_name(name)
        lines.append(f'    if buffer_name == "{name}":')
        lines.append(f"        self.{attribute}[{index}].init_value()")
    lines.append("    return")
    return "\n".join(lines) + "\n"


def is_buffer_empty_source(buffer_names: Sequence[str]) -> str:
    lines = [
        "@torch.jit.export",
        "def is_buffer_empty(self, buffer_name: str) -> bool:",
    ]
    for name in buffer_names:
        attribute, index = _split_buffer_name(name)
        lines.append(f'    if buffer_name == "{name}":')
        lines.append(f"        return not self.{attribute}[{index}].has_value")
    lines.append("    return True")
    return "\n".join(lines) + "\n"

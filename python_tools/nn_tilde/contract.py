"""The rules of the nn~ model file, in Python: used by authoring, export, the checker and the
bench. The rules themselves (ids, verdicts, messages, limits) are not written here: they are loaded
from `rules.json` beside this module, the one file that defines them for nn~ (its C++ table is
generated from it at build time), the kit and the spec (docs/MODEL_FORMAT.md's tables are rendered
from it by `render_spec`, scripts/render_rules.py).

Nothing here imports torch: the rules work on plain values (the numbers of a `_params` buffer, a
dtype's name), so the CLI can use them before torch is loaded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources


def _load() -> dict:
    """rules.json, package data of the kit (pyproject's package-data: wheels carry it)."""
    return json.loads(resources.files("nn_tilde").joinpath("rules.json").read_text("utf-8"))


_DATA = _load()

# ---- limits (docs/MODEL_FORMAT.md, "How nn~ calls a method") ----------------------------------
# name -> value; a message's `{max_channels}` is filled from here without the caller naming it.
LIMITS: dict[str, int] = {name: int(limit["value"]) for name, limit in _DATA["limits"].items()}
MAX_CHANNELS = LIMITS["max_channels"]  # per method, in and out
MAX_PARAM = LIMITS["max_param"]  # largest value of any _params entry
MAX_BUFFER = LIMITS["max_buffer"]  # largest buffer size, in samples
DEFAULT_BUFFER = LIMITS["default_buffer"]
PARAM_FIELDS = ("in_channels", "in_ratio", "out_channels", "out_ratio")

# ---- attribute type codes ------------------------------------------------------------------------
# code -> name: a type code is the index of its name in rules.json's attribute_types.
TYPE_NAMES: dict[int, str] = dict(enumerate(_DATA["attribute_types"]))
BUFFER_CODE = _DATA["attribute_types"].index("buffer")

# Values a message names without the caller giving them: the limits, and `{attribute_types}`.
DATA_FIELDS: dict[str, object] = {
    **LIMITS,
    "attribute_types": ", ".join(f"{code} {name}" for code, name in TYPE_NAMES.items()),
}

# ---- verdicts ------------------------------------------------------------------------------------
REFUSE = "refuse"  # nn~ does not load the file or cannot play the method; the checker fails it
WARN = "warn"  # nn~ plays and prints the warning; the checker warns
HINT = "hint"  # only the checker sees it; nn~ plays without a word; the checker warns

# id -> (verdict, message), in rules.json's order; `{name}` marks a value.
RULES: dict[str, tuple[str, str]] = {
    rule["id"]: (rule["verdict"], rule["message"]) for rule in _DATA["rules"]
}


def verdict(rule: str) -> str:
    return RULES[rule][0]


def message(rule: str, **fields: object) -> str:
    """The rule's message with its `{name}` fields filled in: every field must be given, except
    those rules.json holds (DATA_FIELDS: `{max_channels}`, `{attribute_types}`)."""
    values = {**DATA_FIELDS, **fields}
    return RULES[rule][1].format(**{k: _text(v) for k, v in values.items()})


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One rule that a file breaks, with the values its message names."""

    rule: str
    fields: dict[str, object] = field(default_factory=dict)
    method: str | None = None

    @property
    def verdict(self) -> str:
        return verdict(self.rule)

    @property
    def message(self) -> str:
        return message(self.rule, **self.fields)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class MethodParams:
    """The four values of a `<method>_params` buffer."""

    in_channels: int
    in_ratio: int
    out_channels: int
    out_ratio: int

    def in_frames(self, host_samples: int) -> int:
        return host_samples // self.in_ratio

    def out_frames(self, host_samples: int) -> int:
        return host_samples // self.out_ratio

    def as_list(self) -> list[int]:
        return [self.in_channels, self.in_ratio, self.out_channels, self.out_ratio]


def is_power_of_two(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def read_params(
    method: str, values: Sequence[float] | None, dtype: object = "int64", is_tensor: bool = True
) -> tuple[MethodParams | None, list[Problem]]:
    """The rules of one `<method>_params` buffer, given its flattened values and dtype name
    (`values` None: no such buffer). Returns the params when nn~ accepts them, and the problems
    (refusals and warnings) in the order nn~ reports them."""
    if values is None:
        return None, [Problem("params.missing", {"method": method}, method)]
    if not is_tensor:
        return None, [Problem("params.type", {"method": method}, method)]
    problems: list[Problem] = []
    values = list(values)
    if any(not float(v).is_integer() for v in values):
        return None, [Problem("params.fraction", {"method": method, "values": values}, method)]
    if len(values) != 4:
        return None, [Problem("params.count", {"method": method, "count": len(values)}, method)]
    ints = [int(v) for v in values]
    for name, v in zip(PARAM_FIELDS, ints, strict=True):
        if v < 1 or v > MAX_PARAM:
            fields = {"method": method, "field": name, "value": v}
            return None, [Problem("params.range", fields, method)]
    for name, v in (("in_channels", ints[0]), ("out_channels", ints[2])):
        if v > MAX_CHANNELS:
            fields = {"method": method, "field": name, "value": v}
            return None, [Problem("channels.limit", fields, method)]
    if not dtype_is_integer(dtype):
        fields = {"method": method, "dtype": dtype_name(dtype)}
        problems.append(Problem("params.float", fields, method))
    params = MethodParams(*ints)
    ratios = [params.in_ratio]
    if params.out_ratio != params.in_ratio:
        ratios.append(params.out_ratio)
    for r in ratios:
        if not is_power_of_two(r):
            problems.append(Problem("ratio.pow2", {"method": method, "ratio": r}, method))
    return params, problems


def dtype_name(dtype: object) -> str:
    """A dtype as messages name it, the same in Python and C++: "float32", "int64", "float16"."""
    return str(dtype).rsplit(".", 1)[-1]


def dtype_is_integer(dtype: object) -> bool:
    """True for integer dtypes ("torch.int64", "int32", "uint8", ...) and bool."""
    name = dtype_name(dtype)
    return name.startswith(("int", "uint")) or name == "bool"


def buffer_multiple(params: Iterable[MethodParams]) -> int:
    """The least common multiple of every ratio of every method: nn~'s buffer size is a multiple
    of it (for power-of-two ratios it is the largest ratio)."""
    m = 1
    for p in params:
        m = math.lcm(m, p.in_ratio, p.out_ratio)
    return m


def buffer_problem(params: Iterable[MethodParams]) -> Problem | None:
    """`buffer.limit` when no buffer nn~ allows fits every ratio of the file."""
    multiple = buffer_multiple(params)
    if multiple > MAX_BUFFER:
        return Problem("buffer.limit", {"multiple": multiple})
    return None


def default_buffer(multiple: int) -> int:
    """The buffer size nn~ uses when the user gives none: 2048, or the ratios' multiple above
    that (rounded up to a multiple of it)."""
    return choose_buffer_size(0, multiple)[0]


def choose_buffer_size(requested: int, multiple: int) -> tuple[int, str]:
    """The buffer size nn~ uses for `requested` (0: the default) with ratios whose lcm is
    `multiple`: rounded up to a multiple. Returns (size, note); size 0 when impossible, with the
    reason in note. nn~'s `choose_buffer_size` (nn_tilde/core/contract.cpp) gives the same sizes
    and words (tests/kit/test_contract_spec.py runs both on the same requests)."""
    multiple = max(1, multiple)
    if requested < 0:
        return 0, f"buffer size must be a positive number of samples, got {requested}"
    if requested > MAX_BUFFER:
        return 0, f"buffer size {requested} is too large (at most {MAX_BUFFER})"
    if multiple > MAX_BUFFER:
        return 0, message("buffer.limit", multiple=multiple)
    base = requested if requested > 0 else max(DEFAULT_BUFFER, multiple)
    size = -(-base // multiple) * multiple
    # The default is 2048, or the multiple when that is larger (then it needs no rounding and no
    # note): only a rounded request, or a default 2048 rounded up, is worth a note.
    if requested > 0:
        rounded = size != requested
    else:
        rounded = multiple < DEFAULT_BUFFER and size != DEFAULT_BUFFER
    note = ""
    if rounded:
        what = f"buffer size {requested}" if requested > 0 else f"the default buffer size {base}"
        note = f"{what} is not a multiple of the model's ratios ({multiple}): using {size}"
    return size, note


def labels_problem(key: str, labels: object, count: int) -> Problem | None:
    """`labels.invalid` unless `labels` is None (absent) or a list of `count` strings."""
    if labels is None:
        return None
    if (
        isinstance(labels, (list, tuple))
        and len(labels) == count
        and all(isinstance(x, str) for x in labels)
    ):
        return None
    return Problem("labels.invalid", {"key": key, "count": count})


def names_list(value: object) -> list[str] | None:
    """`value` as a list of strings, or None when it is not one (a str is not a list of names)."""
    if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
        return list(value)
    return None


def describe(value: object) -> str:
    """How a message names a returned value that has the wrong type: its type and a short repr."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


# How messages name the type of a value a method returned instead of a tensor; nn~ names the same
# TorchScript values with the same words.
VALUE_TYPE_NAMES = {
    "tuple": "tuple",
    "list": "list",
    "dict": "dict",
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "NoneType": "None",
}


def value_type_name(value: object) -> str:
    name = type(value).__name__
    return VALUE_TYPE_NAMES.get(name, name)


def output_problems(
    method: str,
    output: Sequence[int] | None,
    input_shape: Sequence[int],
    want: Sequence[int],
    dtype: object = None,
    type_name: str = "",
) -> list[Problem]:
    """The rules of one returned value, given what nn~ expects (`want`: [batch, channels,
    frames]): `output` is the returned tensor's shape, or None when the method returned
    something else (named by `type_name`, see `value_type_name`). `dtype`: the tensor's dtype."""
    if output is None:
        return [Problem("call.type", {"method": method, "type": type_name}, method)]
    if list(output) != list(want):
        fields = {"method": method, "got": list(output), "input": list(input_shape)}
        fields["want"] = list(want)
        return [Problem("call.shape", fields, method)]
    if dtype is not None and dtype_name(dtype) != "float32":
        return [Problem("call.dtype", {"method": method, "dtype": dtype_name(dtype)}, method)]
    return []


# ---- the spec's tables ---------------------------------------------------------------------------
# docs/MODEL_FORMAT.md shows the limits and the rules as tables rendered from rules.json, each
# between `<!-- begin NAME: ... -->` and `<!-- end NAME -->`; scripts/render_rules.py writes them
# and tests/kit/test_contract_spec.py fails when the file's tables differ from a new rendering.


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def fill_data_fields(text: str) -> str:
    """`text` with the fields rules.json holds (DATA_FIELDS) filled in, the others left as they
    are."""
    return re.sub(
        r"\{(\w+)\}", lambda m: str(DATA_FIELDS[m[1]]) if m[1] in DATA_FIELDS else m[0], text
    )


def rules_table() -> str:
    """The rule table of the spec, in Markdown: id, verdict, message (DATA_FIELDS filled in)."""
    lines = ["| id | verdict | message |", "|---|---|---|"]
    for rule, (verdict_, words) in RULES.items():
        lines.append(f"| {rule} | {verdict_} | {_cell(fill_data_fields(words))} |")
    return "\n".join(lines) + "\n"


def limits_table() -> str:
    """The limits of the spec, in Markdown: name (as messages name it), value, meaning."""
    lines = ["| limit | value | meaning |", "|---|---|---|"]
    for name, limit in _DATA["limits"].items():
        lines.append(f"| `{name}` | {limit['value']} | {_cell(limit['meaning'])} |")
    return "\n".join(lines) + "\n"


SPEC_TABLES = {"limits": limits_table, "rules": rules_table}


def render_spec(text: str) -> str:
    """`text` (docs/MODEL_FORMAT.md) with each table of SPEC_TABLES rendered anew between its
    markers. Raises ValueError when a marker is missing."""
    for name, render in SPEC_TABLES.items():
        pattern = re.compile(
            rf"(<!-- begin {name}:[^\n]*-->\n)(.*?)(<!-- end {name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"no `<!-- begin {name}: ... -->` ... `<!-- end {name} -->` block")
        text = pattern.sub(lambda m, r=render: m[1] + r() + m[3], text, count=1)
    return text

"""The rules are written once, in python_tools/nn_tilde/rules.json: the kit's `nn_tilde.contract`
loads it, docs/MODEL_FORMAT.md's tables are rendered from it, and messages refer to its limits by
name. (nn~'s C++ table is generated from the same file; the ctest `model_contract_rules` compares
the table nn~ was built with against it.)"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from nn_tilde import contract

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "MODEL_FORMAT.md"
RULES_JSON = REPO / "python_tools" / "nn_tilde" / "rules.json"
RENDER = "python scripts/render_rules.py"


def test_the_kit_loads_rules_json() -> None:
    data = json.loads(RULES_JSON.read_text())
    assert [r["id"] for r in data["rules"]] == list(contract.RULES)
    for r in data["rules"]:
        assert contract.RULES[r["id"]] == (r["verdict"], r["message"])
    assert {k: v["value"] for k, v in data["limits"].items()} == contract.LIMITS
    assert data["limits"]["max_channels"]["value"] == contract.MAX_CHANNELS
    assert data["limits"]["max_buffer"]["value"] == contract.MAX_BUFFER
    assert list(contract.TYPE_NAMES.values()) == data["attribute_types"]
    assert contract.TYPE_NAMES[contract.BUFFER_CODE] == "buffer"


def test_rules_json_is_package_data() -> None:
    """A wheel carries rules.json only when pyproject names it as package data."""
    import tomllib

    pyproject = tomllib.loads((REPO / "python_tools" / "pyproject.toml").read_text())
    assert "rules.json" in pyproject["tool"]["setuptools"]["package-data"]["nn_tilde"]


def test_the_spec_tables_are_rendered_from_rules_json() -> None:
    text = SPEC.read_text()
    assert "| params.range | refuse |" in text and "| `max_channels` | " in text
    assert contract.render_spec(text) == text, (
        f"docs/MODEL_FORMAT.md's tables differ from rules.json: run `{RENDER}`"
    )


def test_an_edited_spec_table_is_noticed() -> None:
    text = SPEC.read_text()
    edited = text.replace("| call.dtype | warn |", "| call.dtype | refuse |")
    assert edited != text and contract.render_spec(edited) == text
    with pytest.raises(ValueError, match="begin rules"):
        contract.render_spec(text.replace("<!-- end rules -->", ""))


def test_messages_name_limits_instead_of_typing_them() -> None:
    """A limit appears in a message only as its `{name}`, filled in by `message` without the
    caller giving it."""
    for rule, (_, words) in contract.RULES.items():
        for name, value in contract.LIMITS.items():
            assert not re.search(rf"\b{value}\b", words), (rule, name)
    words = contract.message("channels.limit", method="m", field="in_channels", value=2000)
    assert words.endswith(f"at most {contract.MAX_CHANNELS} channels per method")
    words = contract.message("buffer.limit", multiple=262144)
    assert words.endswith(f"more than nn~ allows ({contract.MAX_BUFFER})")
    # the attribute types likewise: "0 bool, 1 int, ..." is written nowhere but filled in
    codes = ", ".join(f"{code} {name}" for code, name in contract.TYPE_NAMES.items())
    assert not any(codes in words for _, words in contract.RULES.values())
    words = contract.message("attribute.code", attribute="gain", code=9)
    assert words == f"attribute 'gain' has type code 9, not one of {codes}; ignored"


def test_every_rule_has_a_known_verdict():
    assert {v for v, _ in contract.RULES.values()} <= {
        contract.REFUSE,
        contract.WARN,
        contract.HINT,
    }


@pytest.mark.parametrize(
    ("values", "dtype", "rule"),
    [
        (None, "int64", "params.missing"),
        ([1.5, 1, 1, 1], "float32", "params.fraction"),
        ([1, 1, 1], "int64", "params.count"),
        ([0, 1, 1, 1], "int64", "params.range"),
        ([1, 1 << 21, 1, 1], "int64", "params.range"),
        ([2000, 1, 1, 1], "int64", "channels.limit"),
        ([1, 1, 1025, 1], "int64", "channels.limit"),
    ],
)
def test_params_that_nn_tilde_refuses(values, dtype, rule):
    params, problems = contract.read_params("forward", values, dtype)
    assert params is None
    assert [p.rule for p in problems] == [rule]
    assert problems[0].verdict == contract.REFUSE


def test_params_that_nn_tilde_plays_with_a_warning():
    params, problems = contract.read_params("forward", [1.0, 3.0, 1.0, 1.0], "torch.float32")
    assert params == contract.MethodParams(1, 3, 1, 1)
    assert [p.rule for p in problems] == ["params.float", "ratio.pow2"]
    assert "stored as float32" in problems[0].message
    assert {p.verdict for p in problems} == {contract.WARN}
    params, problems = contract.read_params("forward", [1, 1024, 1024, 1], "torch.int32")
    assert params is not None and problems == []


def test_buffer_sizes_follow_the_ratios():
    p = contract.MethodParams
    assert contract.buffer_multiple([p(1, 4, 1, 1), p(1, 1, 2, 6)]) == 12
    assert contract.choose_buffer_size(0, 1) == (2048, "")
    assert contract.choose_buffer_size(1001, 1) == (1001, "")
    size, note = contract.choose_buffer_size(1000, 3)
    assert size == 1002 and "using 1002" in note
    assert contract.choose_buffer_size(0, 4096) == (4096, "")  # the multiple is the default
    assert contract.choose_buffer_size(0, 3000) == (3000, "")
    assert contract.choose_buffer_size(0, 3)[0] == 2049
    assert contract.buffer_problem([p(1, 1, 1, 1 << 18)]).rule == "buffer.limit"
    assert contract.buffer_problem([p(1, 1 << 17, 1, 1)]) is None
    assert contract.choose_buffer_size(0, 1 << 18)[0] == 0


def test_outputs():
    ok = contract.output_problems("f", (1, 2, 64), (1, 1, 64), (1, 2, 64), "torch.float32")
    assert ok == []
    rules = [
        contract.output_problems("f", None, (1, 1, 64), (1, 2, 64), type_name="tuple")[0].rule,
        contract.output_problems("f", (1, 2, 63), (1, 1, 64), (1, 2, 64))[0].rule,
        contract.output_problems("f", (1, 2, 64), (1, 1, 64), (1, 2, 64), "torch.int64")[0].rule,
    ]
    assert rules == ["call.type", "call.shape", "call.dtype"]


def test_messages_fill_every_field_and_name_values_as_nn_tilde_does():
    m = contract.message("params.fraction", method="forward", values=[1.5, 1.0, 1.0, 1.0])
    assert m == "forward_params holds [1.5, 1, 1, 1]: channels and ratios must be whole numbers"
    with pytest.raises(KeyError):
        contract.message("call.throws", method="forward")
    assert contract.names_list("forward") is None
    assert contract.names_list(["a", "b"]) == ["a", "b"]


def test_authoring_refuses_what_nn_tilde_refuses_in_its_words():
    import torch

    import nn_tilde

    class Wide(nn_tilde.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_method("forward", 2000, 1, 1, 1, test_method=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :1]

    with pytest.raises(ValueError) as info:
        Wide()
    want = contract.message("channels.limit", method="forward", field="in_channels", value=2000)
    assert want in str(info.value)


# Requests and ratio multiples that cover every branch of choose_buffer_size.
BUFFER_CASES = [
    (0, 1),
    (0, 0),
    (0, 3),
    (0, 2048),
    (0, 3000),
    (0, 4096),
    (512, 1),
    (1000, 3),
    (100, 2048),
    (131072, 1),
    (-1, 1),
    (131073, 1),
    (0, 262144),
    (1001, 1),
    (64, 3),
    (4096, 3000),
]


def _cpp_test_contract() -> Path:
    build = Path(os.environ.get("NN_BUILD_DIR", REPO / "build"))
    exe = build / "tests" / "cpp" / "test_contract"
    if not exe.exists():
        pytest.skip(f"{exe} is not built (cmake --build build)")
    return exe


@pytest.mark.parametrize(("requested", "multiple"), BUFFER_CASES)
def test_buffer_size_is_nn_tildes(requested: int, multiple: int) -> None:
    """The kit's choose_buffer_size and nn~'s (run through tests/cpp/test_contract) give the same
    size, note and error for the same request."""
    out = subprocess.run(
        [_cpp_test_contract(), "--choose-buffer-size", str(requested), str(multiple)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    size, note, error = out.split("\n")[:3]
    error = re.sub(r" \[[\w.]+\]$", "", error)  # nn~ ends a rule's message with its id
    assert contract.choose_buffer_size(requested, multiple) == (int(size), error or note)

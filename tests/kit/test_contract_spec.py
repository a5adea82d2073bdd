"""The rules of docs/MODEL_FORMAT.md are the rules of the code: the spec's rule table, the kit's
`nn_tilde.contract.RULES` and nn~'s C++ table (nn_tilde/core/contract.cpp) hold the same ids,
verdicts and words."""

import re
from pathlib import Path

import pytest

from nn_tilde import contract

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "MODEL_FORMAT.md"
CPP = REPO / "nn_tilde" / "core" / "contract.cpp"


def spec_rules() -> dict[str, tuple[str, str]]:
    text = SPEC.read_text()
    table = text.split("<!-- rules:", 1)[1]
    rules = {}
    for line in table.splitlines()[1:]:
        if not line.startswith("|"):
            if rules:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("id", "---") or set(cells[0]) <= {"-"}:
            continue
        rules[cells[0]] = (cells[1], cells[2])
    return rules


def cpp_rules() -> dict[str, tuple[str, str]]:
    """Entries `{"id", Verdict::X, "message"}` of the C++ table; adjacent string literals joined."""
    src = CPP.read_text()
    # the table ends at a line "};" (messages hold "{value}; ..." themselves)
    body = src.split("kRules[] = {", 1)[1].split("\n};", 1)[0]
    rules = {}
    for m in re.finditer(
        r'\{\s*"([\w.]+)",\s*Verdict::(\w+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', body
    ):
        words = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(3)))
        rules[m.group(1)] = (m.group(2).lower(), words.replace('\\"', '"'))
    return rules


def test_the_spec_table_is_the_kits_table():
    spec = spec_rules()
    assert len(spec) >= 30, "the rule table of docs/MODEL_FORMAT.md was not found"
    assert spec == contract.RULES


def test_the_spec_table_is_nn_tildes_table():
    cpp = cpp_rules()
    assert len(cpp) >= 30, f"no rule table (kRules) found in {CPP}"
    assert cpp == spec_rules()


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
    assert contract.choose_buffer_size(0, 4096)[0] == 4096
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

"""nn_tilde.host.read, the one reader of a file's methods behind the checker, the bench and the
export: the methods nn~ finds, the params it accepts, and the rules broken, in nn~'s order."""

from pathlib import Path

import pytest
import torch

from nn_tilde import contract
from nn_tilde.bench.model import BenchOptions, run_bench
from nn_tilde.host import read
from support import catalogue

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


def _read(name: str, tmp_path: Path) -> read.ModelMethods:
    return read.read_methods(torch.jit.load(str(catalogue.build(name, tmp_path))))


@pytest.mark.parametrize(
    ("name", "rules", "accepted"),
    [
        ("rawbase", [], ["forward"]),
        ("no_get_methods", ["methods.discovered"], ["forward"]),
        ("get_methods_str", ["methods.list"], ["forward"]),
        ("listed_missing", ["method.missing"], []),
        ("params_float_whole", ["params.float"], ["forward"]),
        ("ratio3_both", ["ratio.pow2"], ["forward"]),
        ("three_params", ["params.count"], []),
        ("params_not_tensor", ["params.type"], []),
        ("plain_module", ["methods.discovered", "methods.none"], []),
        ("out_ratio_2_18", ["buffer.limit"], []),
    ],
)
def test_read_methods(name: str, rules: list[str], accepted: list[str], tmp_path: Path) -> None:
    methods = _read(name, tmp_path)
    assert [p.rule for p in methods.problems] == rules
    assert list(methods.accepted) == accepted
    assert bool(methods.refusals) == (not accepted)


def test_a_refused_method_is_named_in_the_rules_words(tmp_path: Path) -> None:
    model = torch.jit.load(str(catalogue.build("three_params", tmp_path)))
    with pytest.raises(ValueError) as info:
        read.method_params(model, "forward")
    assert str(info.value) == contract.message("params.count", method="forward", count=3)


def test_the_bench_times_only_methods_it_can_call(tmp_path: Path) -> None:
    """ListedMissing lists `decode` (params, no method): the bench times forward only."""
    path = catalogue.build("listed_missing", tmp_path)
    options = BenchOptions(sample_rates=[44100], buffers=[256], threads=[1], seconds=0.01)
    result = run_bench(path, options, lambda _: None)
    assert {row["method"] for row in result.rows} == {"forward"}

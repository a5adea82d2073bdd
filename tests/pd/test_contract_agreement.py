"""The checker and nn~ give the same answer for every file of the catalogue.

Each file goes through the checker (`check_file`, as `nn-tilde check --quick --no-speed
--sample-rate 44100` runs it; the JSON report is read back) and through `[nn~ <file>]` in a real
Pd (`pd -batch`: created, then playing noise for a moment). The rules
asserted for each file (docs/MODEL_FORMAT.md):

- the checker fails it  <=>  nn~ refuses it (an error when the object is created);
- nn~ plays it but warns  =>  the checker warns or fails;
- nn~ plays it without a word  =>  the checker passes or warns;
- nn~ loads it and then fails while playing  =>  the checker at least warns.

Besides, what nn~ does is what the catalogue says it does, and for every rule of the spec that
both report, they report it in the same words.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import string
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from nn_tilde import contract
from support import catalogue, pdrun

pytestmark = [pytest.mark.pd, pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")]

RULE_SUFFIX = re.compile(r" \[([a-z_]+\.[a-z_.0-9]+)\]$")


@dataclass
class NnResult:
    """What nn~ printed: errors and warnings when the object was created, and while playing."""

    created_errors: list[str]
    created_warnings: list[str]
    playing_errors: list[str]
    playing_warnings: list[str]
    log: str

    @property
    def outcome(self) -> str:
        if self.created_errors:
            return catalogue.REFUSE
        if self.playing_errors:
            return catalogue.BREAKS
        if self.created_warnings or self.playing_warnings:
            return catalogue.WARN
        return catalogue.SILENT

    def rules(self) -> dict[str, str]:
        """rule id -> nn~'s message (without its prefix and the rule suffix)."""
        out = {}
        for line in (
            self.created_errors + self.created_warnings + self.playing_errors
        ) + self.playing_warnings:
            m = RULE_SUFFIX.search(line)
            if m:
                out[m.group(1)] = line[: m.start()]
        return out


# Pd prints logpost() at its normal level with this prefix in -batch mode (0.53 does; later versions
# may not), before nn~'s own "[nn~] warning: ".
LOG_LEVEL = re.compile(r"^verbose\(\d\): ")


def _nn_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    lines = [LOG_LEVEL.sub("", ln) for ln in lines]
    errors = [ln.split("[nn~] ", 1)[1] for ln in lines if ln.startswith("error: [nn~] ")]
    warnings = [
        ln.split("[nn~] warning: ", 1)[1] for ln in lines if ln.startswith("[nn~] warning: ")
    ]
    return errors, warnings


def run_nn(path: Path, work: Path) -> NnResult:
    """[nn~ path] created in a patch, then DSP with noise~ into it for 300 ms of Pd time."""
    patch = work / f"{path.name}.pd"
    patch.write_text(
        "#N canvas 0 0 400 300 10;\n"
        "#X obj 10 10 noise~;\n"
        f"#X obj 10 40 nn~ {path};\n"
        "#X obj 200 10 loadbang;\n"
        "#X msg 200 40 \\; pd dsp 1;\n"
        "#X obj 200 70 print MARK;\n"
        "#X msg 200 100 playing;\n"
        "#X obj 200 130 delay 300;\n"
        "#X msg 200 160 \\; pd quit;\n"
        "#X connect 0 0 1 0;\n"
        "#X connect 2 0 3 0;\n"
        "#X connect 2 0 5 0;\n"
        "#X connect 5 0 4 0;\n"
        "#X connect 2 0 6 0;\n"
        "#X connect 6 0 7 0;\n"
    )
    p = pdrun.run_pd(patch, timeout=300)
    lines = (p.stdout + p.stderr).splitlines()
    mark = next((i for i, ln in enumerate(lines) if ln.startswith("MARK: playing")), len(lines))
    ce, cw = _nn_lines(lines[:mark])
    pe, pw = _nn_lines(lines[mark:])
    log = p.stdout + p.stderr
    assert p.returncode == 0, f"Pd did not survive {path.name}:\n{log}"
    assert mark < len(lines), f"Pd never played {path.name}:\n{log}"
    return NnResult(ce, cw, pe, pw, log)


def run_checker(path: Path) -> tuple[int, dict]:
    """In a worker process that keeps torch loaded (a CLI process per file costs seconds)."""
    from nn_tilde.check.runner import CheckOptions, check_file_safely

    options = CheckOptions.quick(speed=False, sample_rate=44100, budget=2.0)
    report = check_file_safely(path, options)
    return report.exit_code(), json.loads(report.to_json())


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[NnResult, int, dict]]:
    files = tmp_path_factory.mktemp("catalogue")
    work = tmp_path_factory.mktemp("patches")
    paths = {e.name: catalogue.build(e.name, files) for e in catalogue.CATALOGUE}

    names = list(paths)
    # the checker in two processes that keep torch loaded, Pd in two threads, side by side
    ctx = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=2, mp_context=ctx) as checkers,
        ThreadPoolExecutor(max_workers=2) as pds,
    ):
        checked = checkers.map(run_checker, [paths[n] for n in names])
        played = pds.map(lambda n: run_nn(paths[n], work), names)
        pairs = list(zip(played, checked, strict=True))
    return {n: (nn, code, report) for n, (nn, (code, report)) in zip(names, pairs, strict=True)}


def _findings(report: dict) -> list[dict]:
    return [f for m in report["methods"].values() for f in m["findings"]]


@pytest.mark.parametrize("name", [e.name for e in catalogue.CATALOGUE])
def test_checker_and_nn_tilde_agree(results, name: str) -> None:
    entry = catalogue.BY_NAME[name]
    nn, code, report = results[name]
    status = report["status"]
    where = f"{name}: nn~ printed\n{nn.log[-3000:]}\nchecker: {status}, exit {code}"
    outcome = nn.outcome
    # the agreement rules
    assert (status == "fail") == (outcome == catalogue.REFUSE), where
    assert code == (1 if status == "fail" else 0), where
    if outcome in (catalogue.WARN, catalogue.BREAKS):
        assert status in ("warn", "fail"), where
    if outcome == catalogue.SILENT:
        assert status in ("pass", "warn"), where
    # what the catalogue says of the file
    assert outcome == entry.nn, where
    said = nn.rules()
    checked = {f["check"]: f for f in _findings(report) if f["status"] in ("warn", "fail")}
    for rule in entry.rules:
        assert rule in said, f"nn~ did not report {rule}; {where}"
        assert rule in checked, f"the checker did not report {rule}; {where}"
    # the same words for the same problem
    for rule, text in said.items():
        if rule not in checked:
            continue
        assert _same_words(rule, text, checked[rule]["message"]), (rule, text, checked[rule])


def _same_words(rule: str, nn_text: str, checker_text: str) -> bool:
    """Equal, except inside fields that quote an exception or a value's repr, whose wording
    belongs to torch (C++ and Python print the same error differently)."""
    if nn_text == checker_text:
        return True
    template = contract.RULES[rule][1]
    free = {"error", "reason", "got", "path"}
    pattern = ""
    for literal, field, _, _ in string.Formatter().parse(template):
        pattern += re.escape(literal)
        if field is not None:
            if field not in free:
                return False  # a deterministic field differs: not the same words
            pattern += ".*"
    return bool(re.fullmatch(pattern, nn_text)) and bool(re.fullmatch(pattern, checker_text))

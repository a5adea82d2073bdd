"""`check_file` on good models and on every entry of the catalogue (tests/support/catalogue.py):
the checker fails what nn~ refuses, warns about what nn~ warns about or cannot see, and always
returns a report within its time budget."""

import json
from pathlib import Path

import pytest

from nn_tilde.check.behaviour import random_chunks
from nn_tilde.check.report import FAIL, PASS, WARN
from nn_tilde.check.runner import CheckOptions, check_file
from support import catalogue
from support import kit_models as km

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

FAST = CheckOptions.quick(speed=False)


@pytest.fixture(scope="module")
def good_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("check") / "good.ts"
    return km.export_good(path, fresh_process=False, ratio=4096)


def _problems(report) -> list[tuple[str, str, str, str]]:
    return [
        (f.status, f.method, f.check, f.message)
        for f in report.findings
        if f.status in (WARN, FAIL)
    ]


def test_good_model_passes_strict(good_file: Path) -> None:
    report = check_file(good_file, FAST)
    assert _problems(report) == []
    assert report.exit_code(strict=True) == 0
    assert report.info["methods"] == ["forward", "encode", "decode"]
    # Every behaviour check ran (a check that silently skipped would not prove anything).
    for method in ("forward", "encode", "decode"):
        for check in (
            "warm_up",
            "buffer_sizes",
            "fresh_loads",
            "batch",
            "chunk",
            "latency",
            "reset",
            "numerics",
            "test_vector",
        ):
            statuses = [f.status for f in report.find(check, method)]
            assert statuses == [PASS], (method, check, statuses)
    assert report.info["latency"]["decode"]["measured"] == 4096
    assert report.info["latency"]["forward"]["declared"] == 3


def test_raw_reference_style_file_passes_except_unknown_torch(tmp_path: Path) -> None:
    """The control for the catalogue: RawBase is correct, so each broken file differs by one
    rule."""
    report = check_file(catalogue.build("rawbase", tmp_path), FAST)
    assert [(s, c) for s, _, c, _ in _problems(report)] == [(WARN, "torch_version")]
    assert report.exit_code() == 0
    assert report.exit_code(strict=True) == 1


def test_catalogue_covers_every_verdict() -> None:
    kinds = [e.nn for e in catalogue.CATALOGUE]
    assert len(kinds) >= 60
    assert kinds.count(catalogue.REFUSE) >= 25 and kinds.count(catalogue.WARN) >= 15
    rules = {r for e in catalogue.CATALOGUE for r in e.rules}
    from nn_tilde import contract

    # every rule a file can break has a file that breaks it (file.missing: see the CLI tests)
    assert set(contract.RULES) - rules - {"file.missing", "methods.discovered"} <= {
        "attribute.behaviour"
    }


@pytest.mark.parametrize("name", [e.name for e in catalogue.CATALOGUE if e.checker == {}])
def test_catalogue_entry_gets_its_verdict(name: str, tmp_path: Path) -> None:
    """The checker's side of the agreement (nn~'s side: tests/pd/test_contract_agreement.py):
    FAIL exactly for the files nn~ refuses, the entry's rules and hints reported."""
    entry = catalogue.BY_NAME[name]
    options = CheckOptions.quick(speed=False, sample_rate=44100, budget=5.0)
    report = check_file(catalogue.build(name, tmp_path), options)
    status = report.status_of()
    expected = {
        catalogue.REFUSE: {FAIL},
        catalogue.WARN: {WARN},
        catalogue.SILENT: {PASS, WARN},
        catalogue.BREAKS: {WARN},
    }[entry.nn]
    assert status in expected, _problems(report)
    reported = {f.check for f in report.findings if f.status in (WARN, FAIL)}
    assert set(entry.rules) <= reported, _problems(report)
    assert set(entry.hints) <= {f.check for f in report.findings}, _problems(report)
    for f in report.findings:  # a rule's finding carries nn~'s verdict and words
        if f.check in entry.rules:
            assert f.data["verdict"] in ("refuse", "warn")
            assert (f.status == FAIL) == (f.data["verdict"] == "refuse")


def test_a_slow_model_gets_its_verdict_in_seconds(tmp_path: Path) -> None:
    """The `slow` model takes 200 ms of wall time per call on any machine (it spins on a
    monotonic clock, catalogue.spin), 4.3 times the 46 ms of a 2048-sample buffer at 44.1 kHz: a
    faster CPU cannot make it keep up, a loaded one only makes it slower, so the verdict does not
    depend on the machine's speed."""
    import time

    path = catalogue.build("slow", tmp_path)
    start = time.monotonic()
    report = check_file(path, CheckOptions.quick(sample_rate=44100, budget=10.0))
    took = time.monotonic() - start
    (speed,) = report.find("speed", "forward")
    assert speed.status == WARN and "x real time at buffer 2048" in speed.message
    assert speed.data["rtf"] > 4.0  # 200 ms / 46.4 ms at least
    assert any(f.status == "skip" and "--budget" in f.message for f in report.findings)
    assert took < 60, f"the checker took {took:.0f} s on a model slower than real time"


def test_json_report_shape(good_file: Path) -> None:
    report = check_file(
        good_file,
        CheckOptions.quick(speed=True, speed_seconds=0.01, threads=[1], methods=["forward"]),
    )
    data = json.loads(report.to_json())
    assert data["status"] == "pass"
    assert set(data["methods"]) == {"(model)", "forward", "encode", "decode"}
    # --method limits the behaviour checks; the contract is still checked for every method.
    assert {f["check"] for f in data["methods"]["encode"]["findings"]} == {
        "warm_up",
        "params",
        "labels",
    }
    assert "chunk" in {f["check"] for f in data["methods"]["forward"]["findings"]}
    rows = data["info"]["speed"]
    assert {r["buffer"] for r in rows} == {4096, 8192}
    for r in rows:
        assert r["method"] == "forward" and r["threads"] == 1
        assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
        assert r["period_ms"] == pytest.approx(1e3 * r["buffer"] / 44100)
        assert 0.0 <= r["late_share"] <= 1.0 and r["cold_ms"] > 0


def test_unknown_method_option_is_a_usage_error(good_file: Path) -> None:
    with pytest.raises(
        ValueError, match=r"no nn~ method 'nope'.*\['decode', 'encode', 'forward'\]"
    ):
        check_file(good_file, CheckOptions.quick(speed=False, methods=["nope"]))


def test_host_torch_older_than_file_warns_as_nn_tilde_does(good_file: Path) -> None:
    report = check_file(
        good_file, CheckOptions.quick(speed=False, host_torch="2.5.1", methods=["forward"])
    )
    (finding,) = report.find("torch.newer")
    assert finding.status == WARN and "export it again with torch 2.5.1" in finding.message


def test_sample_rate_mismatch_warns(good_file: Path) -> None:
    report = check_file(
        good_file, CheckOptions.quick(speed=False, sample_rate=48000, methods=["encode"])
    )
    (finding,) = report.find("rate.mismatch")
    assert finding.status == WARN
    assert finding.message == (
        "the model was made for 44100 Hz but the host runs at 48000 Hz; nn~ does not resample"
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_chunks_are_powers_of_two_summing_to_total(seed: int) -> None:
    import random

    chunks = random_chunks(16384, 256, 2048, random.Random(seed))
    assert sum(chunks) == 16384
    assert all(c in (256, 512, 1024, 2048) for c in chunks)
    assert len(set(random_chunks(16384, 256, 2048, random.Random(seed + 10)))) > 1


def test_text_report_lists_latency_and_levels(good_file: Path) -> None:
    report = check_file(good_file, CheckOptions.quick(speed=False, methods=["forward"]))
    text = report.to_text()
    assert "[PASS] forward" in text
    assert "latency (samples): measured 3 (reacts 3..3), declared 3" in text
    assert "output peak/dc: silence 0/0" in text
    assert text.splitlines()[-1].startswith("result: PASS (")


def test_json_is_strict_even_with_nan_outputs(tmp_path: Path) -> None:
    report = check_file(catalogue.build("nan_on_silence", tmp_path), FAST)

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    data = json.loads(report.to_json(), parse_constant=refuse)
    assert data["status"] == "warn"
    assert data["info"]["numerics"]["forward"]["silence"] == {
        "finite": False,
        "peak": None,
        "dc": None,
    }


def test_speed_warns_when_no_buffer_keeps_up(tmp_path: Path) -> None:
    path = catalogue.build("rawbase", tmp_path)
    # At 10^12 Hz a buffer lasts nanoseconds: no call can finish within its period.
    options = CheckOptions.quick(sample_rate=10**12, speed_seconds=0.01, threads=[1])
    report = check_file(path, options)
    (finding,) = report.find("speed", "forward")
    assert finding.status == WARN and "x real time" in finding.message
    relaxed = check_file(
        path, CheckOptions.quick(sample_rate=8000, speed_seconds=0.01, threads=[1])
    )
    assert [f.status for f in relaxed.find("speed", "forward")] == [PASS]
    assert all(row["late_share"] < 1.0 for row in relaxed.info["speed"])

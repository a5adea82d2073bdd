"""`check_file` on good models and on a corpus of broken ones (each breaks one rule)."""

import json
from pathlib import Path

import pytest

from nn_tilde.check.behaviour import random_chunks
from nn_tilde.check.report import FAIL, PASS, WARN
from nn_tilde.check.runner import CheckOptions, check_file
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
            "shape",
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
    """The control for the corpus: RawBase is correct, so each broken file differs by one rule."""
    report = check_file(km.save_raw(km.RawBase(), tmp_path / "raw.ts"), FAST)
    assert [(s, c) for s, _, c, _ in _problems(report)] == [(WARN, "torch_version")]
    assert report.exit_code() == 0
    assert report.exit_code(strict=True) == 1


def test_corpus_has_at_least_20_failing_rules() -> None:
    assert sum(1 for v in km.BROKEN.values() if v[1] == FAIL) >= 20


@pytest.mark.parametrize("key", sorted(km.BROKEN))
def test_broken_model_reports_its_rule(key: str, tmp_path: Path) -> None:
    _, status, check, fragment = km.BROKEN[key]
    report = check_file(km.build_broken(key, tmp_path / f"{key}.ts"), FAST)
    matching = [f for f in report.find(check) if f.status == status]
    assert any(fragment in f.message for f in matching), _problems(report)
    assert report.exit_code(strict=True) == 1
    assert report.exit_code() == (1 if status == FAIL else 0)


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
        "contract.params",
        "contract.labels",
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


def test_host_torch_older_than_file_fails(good_file: Path) -> None:
    report = check_file(
        good_file, CheckOptions.quick(speed=False, host_torch="2.5.1", methods=["forward"])
    )
    (finding,) = report.find("torch_version")
    assert finding.status == FAIL and "Re-export with torch 2.5" in finding.message


def test_sample_rate_mismatch_warns(good_file: Path) -> None:
    report = check_file(
        good_file, CheckOptions.quick(speed=False, sample_rate=48000, methods=["encode"])
    )
    assert any(
        f.status == WARN and "Run Pd at 44100 Hz" in f.message for f in report.find("sample_rate")
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
    report = check_file(km.save_raw(km.NanOnSilence(), tmp_path / "nan.ts"), FAST)

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    data = json.loads(report.to_json(), parse_constant=refuse)
    assert data["status"] == "fail"
    assert data["info"]["numerics"]["forward"]["silence"] == {
        "finite": False,
        "peak": None,
        "dc": None,
    }


def test_speed_fails_when_no_buffer_keeps_up(tmp_path: Path) -> None:
    path = km.save_raw(km.RawBase(), tmp_path / "raw.ts")
    # At 10^12 Hz a buffer lasts nanoseconds: no call can finish within its period.
    options = CheckOptions.quick(sample_rate=10**12, speed_seconds=0.01, threads=[1])
    report = check_file(path, options)
    (finding,) = report.find("speed", "forward")
    assert finding.status == FAIL and "too slow" in finding.message
    assert all(row["late_share"] == 1.0 for row in report.info["speed"])
    relaxed = check_file(
        path, CheckOptions.quick(sample_rate=8000, speed_seconds=0.01, threads=[1])
    )
    assert [f.status for f in relaxed.find("speed", "forward")] == [PASS]

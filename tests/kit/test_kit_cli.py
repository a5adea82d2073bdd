"""The `nn-tilde` command through its installed entry point, run in tmp_path."""

import json
import subprocess
from pathlib import Path

import pytest
import torch

from support import catalogue
from support import kit_models as km
from support.commands import NN_TILDE

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

ENTRY = NN_TILDE

MODEL_SCRIPT = """
import torch
import nn_tilde


class Halve(nn_tilde.Module):
    def __init__(self, out_len_offset: int = 0):
        super().__init__(sr=48000)
        self.offset = out_len_offset
        self.register_method("forward", 1, 1, 1, 1, test_method=False, latency=0)

    def forward(self, x):
        return torch.nn.functional.pad(x, (0, self.offset)) * 0.5


def build():
    return Halve()


def build_broken():
    return Halve(out_len_offset=1)


class BadRatio(nn_tilde.Module):
    def __init__(self):
        super().__init__()
        self.register_method("forward", 1, 3, 1, 1)

    def forward(self, x):
        return x


def bad_ratio():
    return BadRatio()


def not_a_module():
    return torch.nn.Linear(1, 1)
"""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ENTRY, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    return {
        "good": km.export_good(root / "good.ts", fresh_process=False, ratio=512),
        "raw": catalogue.BY_NAME["rawbase"].build(root / "raw.ts"),
        "zero_padded": catalogue.BY_NAME["zero_padded"].build(root / "zero_padded.ts"),
    }


def test_help_lists_commands(tmp_path: Path) -> None:
    proc = run(["--help"], tmp_path)
    assert proc.returncode == 0
    for command in ("export", "check", "bench"):
        assert command in proc.stdout
    for command in ("export", "check", "bench"):
        sub = run([command, "--help"], tmp_path)
        assert sub.returncode == 0 and "usage: nn-tilde " + command in sub.stdout


def test_usage_errors_exit_2_and_name_the_fix(tmp_path: Path) -> None:
    proc = run([], tmp_path)
    assert proc.returncode == 2 and "choose a command" in proc.stderr
    proc = run(["check", "missing.ts"], tmp_path)
    assert proc.returncode == 2
    assert "cannot open model file 'missing.ts': No such file or directory" in proc.stderr
    proc = run(["check", "missing.ts", "--json"], tmp_path)  # a JSON consumer still gets a report
    assert proc.returncode == 2 and json.loads(proc.stdout)["status"] == "fail"
    proc = run(["check", str(tmp_path)], tmp_path)
    assert proc.returncode == 2 and "is a folder, not a model file" in proc.stderr
    proc = run(["check", "--threads", "x", "m.ts"], tmp_path)
    assert proc.returncode == 2 and "expected comma-separated integers" in proc.stderr
    proc = run(["bench", "m.ts", "--seconds", "-1"], tmp_path)
    assert proc.returncode == 2 and "positive number" in proc.stderr


def test_unknown_method_is_a_usage_error(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(["check", str(files["raw"]), "--method", "decode", "--no-speed", "-q"], tmp_path)
    assert proc.returncode == 2 and "--method: no nn~ method 'decode'" in proc.stderr


def test_check_good_model_json(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(
        ["check", str(files["good"]), "--quick", "--threads", "1", "--seconds", "0.01", "--json"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "pass"
    assert set(data["methods"]) == {"(model)", "forward", "encode", "decode"}
    assert {row["method"] for row in data["info"]["speed"]} == {"forward", "encode", "decode"}
    assert "[nn-tilde] checking forward" in proc.stderr  # progress goes to stderr


def test_check_exit_codes_follow_nn_tilde(files: dict[str, Path], tmp_path: Path) -> None:
    """A file nn~ plays but that does not stream: a warning, exit 0 (1 with --strict); a file nn~
    refuses: a failure, exit 1, in nn~'s words."""
    args = ["check", str(files["zero_padded"]), "--quick", "--no-speed", "-q"]
    proc = run(args, tmp_path)
    assert proc.returncode == 0
    assert "[WARN] forward" in proc.stdout and "not streaming-safe" in proc.stdout
    assert proc.stderr == ""
    assert run([*args, "--strict"], tmp_path).returncode == 1
    refused = catalogue.build("throws", tmp_path)
    proc = run(["check", str(refused), "--quick", "--no-speed", "-q"], tmp_path)
    assert proc.returncode == 1
    assert "fail call.throws: method 'forward' threw on a buffer of zeros: " in proc.stdout


def test_strict_turns_warnings_into_failure(files: dict[str, Path], tmp_path: Path) -> None:
    args = ["check", str(files["raw"]), "--quick", "--no-speed", "-q"]
    relaxed = run(args, tmp_path)
    assert relaxed.returncode == 0 and "warn torch_version" in relaxed.stdout
    strict = run([*args, "--strict"], tmp_path)
    assert strict.returncode == 1 and "result: FAIL" in strict.stdout


def test_bench_recommends_a_setting(files: dict[str, Path], tmp_path: Path) -> None:
    proc = run(
        [
            "bench",
            str(files["good"]),
            "--quick",
            "--threads",
            "1",
            "--sample-rates",
            "44100",
            "--json",
            "-q",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {(r["method"], r["buffer"]) for r in data["rows"]} == {
        (m, b) for m in ("forward", "encode", "decode") for b in (512, 2048)
    }
    best = data["recommendation"]["forward"]
    assert best["buffer"] == 512 and best["safe"]
    # forward declares 3 samples of latency on top of one 512-sample buffer.
    assert best["latency_ms"] == pytest.approx(1e3 * (512 + 3) / 44100)
    text = run(
        ["bench", str(files["good"]), "--quick", "--threads", "1", "--sample-rates", "44100", "-q"],
        tmp_path,
    )
    assert text.returncode == 0 and "forward: recommended sr 44100 buffer 512" in text.stdout


def test_bench_plays_the_buffers_nn_tilde_plays(files: dict[str, Path], tmp_path: Path) -> None:
    """As nn~ does: a buffer is rounded up to a multiple of the ratios (512 for this model, so
    1000 -> 1024 and 256 -> 512); more than nn~ allows is a usage error."""
    common = ["--threads", "1", "--sample-rates", "44100", "--seconds", "0.01", "--json", "-q"]
    proc = run(["bench", str(files["good"]), "--buffers", "1000,256", *common], tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert {r["buffer"] for r in json.loads(proc.stdout)["rows"]} == {1024, 512}
    proc = run(["bench", str(files["good"]), "--buffers", "200000"], tmp_path)
    assert proc.returncode == 2 and "more than nn~ allows (131072)" in proc.stderr


def test_export_command(tmp_path: Path) -> None:
    script = tmp_path / "halve.py"
    script.write_text(MODEL_SCRIPT)
    out = tmp_path / "halve.ts"
    proc = run(["export", f"{script}:build", str(out), "--metadata", "author=Ada"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    model = torch.jit.load(str(out))
    assert model.get_metadata()["author"] == "Ada"
    assert torch.equal(model(torch.ones(1, 1, 4)), torch.full((1, 1, 4), 0.5))
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".ts") == ["halve.ts"]


def test_export_usage_errors(tmp_path: Path) -> None:
    script = tmp_path / "halve.py"
    script.write_text(MODEL_SCRIPT)
    out = tmp_path / "out.ts"
    cases = [
        (["export", "halve.py", str(out)], "expected SCRIPT.py:FACTORY"),
        (["export", "nope.py:build", str(out)], "nope.py: no such file"),
        (["export", f"{script}:missing", str(out)], "defines no function missing()"),
        (["export", f"{script}:not_a_module", str(out)], "not an nn_tilde.Module"),
        (["export", f"{script}:build", str(out), "--metadata", "novalue"], "KEY=VALUE"),
    ]
    for args, fragment in cases:
        proc = run(args, tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert fragment in proc.stderr, (args, proc.stderr)
    assert not out.exists()


def test_export_validation_failure_exits_1(tmp_path: Path) -> None:
    script = tmp_path / "halve.py"
    script.write_text(MODEL_SCRIPT)
    out = tmp_path / "out.ts"
    proc = run(["export", f"{script}:build_broken", str(out)], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "export failed" in proc.stderr and "returned shape [1, 1, " in proc.stderr  # call.shape
    proc = run(["export", f"{script}:bad_ratio", str(out)], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "bad_ratio() raised ValueError" in proc.stderr
    assert "has ratio 3, not a power of two" in proc.stderr and "for in_ratio" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["halve.py"]

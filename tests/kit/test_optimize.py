"""nn-tilde optimize: each pass on small models keeps the nn~ contract, stays within its error,
streams (chunks == one call) or is refused for not streaming, and the written file records what
was done. Errors are measured here against the original run in this test, not taken from the
tool's own figures."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch

from nn_tilde import cli
from nn_tilde.check.behaviour import random_chunks
from nn_tilde.check.runner import CheckOptions, check_file
from nn_tilde.host import probe, read
from nn_tilde.optimize import VARIANT_NAMES, passes
from nn_tilde.optimize.run import METADATA_KEY, read_record
from support import accel_models

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("accel")
    return {name: accel_models.export(name, folder) for name in accel_models.BUILDERS}


@pytest.fixture(scope="module")
def variants(files) -> dict[str, dict[str, passes.Variant]]:
    out = {}
    for name, path in files.items():
        signals = {}

        def calibrate(model, method, _signals=signals):
            p = read.method_params(model, method)
            gen = torch.Generator().manual_seed(5)
            x = torch.rand(1, p.in_channels, p.in_frames(2048), generator=gen) * 1.6 - 0.8
            for _ in range(4):
                getattr(model, method)(x)

        made = passes.make_variants(path.read_bytes(), calibrate)
        out[name] = {v.name: v for v in made}
    return out


def _inputs(params: probe.MethodParams, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(1, params.in_channels, params.in_frames(8192), generator=gen) * 1.6 - 0.8


def _snr(want: torch.Tensor, got: torch.Tensor) -> float:
    noise = float((got - want).double().pow(2).sum())
    return math.inf if noise == 0 else 10 * math.log10(float(want.double().pow(2).sum()) / noise)


def test_variant_names_match_the_passes():
    assert tuple(passes.PASS_NAMES[1:]) == VARIANT_NAMES


@pytest.mark.parametrize("model", sorted(accel_models.BUILDERS))
@pytest.mark.parametrize("variant", ["frozen", "frozen+ofi"])
def test_frozen_variants_are_exact_stream_and_keep_the_contract(files, variants, model, variant):
    made = variants[model][variant]
    assert made.error is None, made.error
    original = torch.jit.load(str(files[model]))
    load = probe.loader_from_bytes(made.data)
    got_model = load()
    assert read.read_methods(got_model).names == read.read_methods(original).names
    assert dict(got_model.get_metadata()) == dict(original.get_metadata())
    for m in read.read_methods(original).names:
        params = read.method_params(original, m)
        assert read.method_params(got_model, m) == params
        assert probe.declared_latency(got_model, m) == probe.declared_latency(original, m)
        x = _inputs(params, 1)
        want = probe.call(torch.jit.load(str(files[model])), m, x)
        whole = probe.call(load(), m, x)
        assert probe.max_abs_diff(whole, want) <= 1e-5
        ratio = max(params.in_ratio, params.out_ratio, 64)
        chunks = random_chunks(8192, ratio, 2048, random.Random(3))
        chunked = probe.call_chunked(load(), m, x, chunks, params)
        assert probe.max_abs_diff(chunked, whole) <= 1e-5, f"{m} does not stream"
    report = check_file(_write(made, files[model].parent), CheckOptions.quick(speed=False))
    assert report.exit_code() == 0, report.to_text()


def _write(variant: passes.Variant, folder: Path) -> Path:
    path = folder / f"variant_{variant.name}.ts"
    path.write_bytes(variant.data or b"")
    return path


def test_static_int8_quantizes_the_causal_conv_stack_within_its_error_and_streams(files, variants):
    made = variants["conv_stack"]["int8-static"]
    assert made.error is None, made.error
    graph = str(made.load()._c._get_method("forward").graph)
    assert "quantized::conv1d" in graph or "quantized::conv2d" in graph
    params = probe.MethodParams(1, 1, 1, 1)
    x = _inputs(params, 2)
    want = probe.call(torch.jit.load(str(files["conv_stack"])), "forward", x)
    load = probe.loader_from_bytes(made.data)
    got = probe.call(load(), "forward", x)
    snr = _snr(want, got)
    assert 15.0 < snr < 200.0, f"SNR {snr}: int8 is neither exact nor wildly off"
    chunks = random_chunks(8192, 64, 2048, random.Random(4))
    assert probe.max_abs_diff(probe.call_chunked(load(), "forward", x, chunks, params), got) <= 1e-5


def test_dynamic_int8_quantizes_the_gru_model_but_breaks_streaming(files, variants):
    """Dynamic quantization computes activation scales from each call's own input, so a
    chunked run differs from one call: the tool must see that."""
    made = variants["gru"]["int8-dynamic"]
    assert made.error is None, made.error
    assert "quantized::linear_dynamic" in str(made.load()._c._get_method("forward").graph)
    params = probe.MethodParams(16, 64, 16, 64)
    x = _inputs(params, 3)
    load = probe.loader_from_bytes(made.data)
    whole = probe.call(load(), "forward", x)
    chunks = random_chunks(8192, 64, 2048, random.Random(5))
    assert (
        probe.max_abs_diff(probe.call_chunked(load(), "forward", x, chunks, params), whole) > 1e-4
    )


def test_a_pass_that_does_not_apply_says_why(variants):
    assert "nothing quantized" in (variants["conv_stack"]["int8-dynamic"].error or "")


def _optimize(path: Path, out: Path, *extra: str) -> int:
    return cli.main(["optimize", str(path), "-o", str(out), "--seconds", "0.05", "-q", *extra])


def test_optimize_writes_a_quantized_variant_with_its_record_and_reports(files, tmp_path, capsys):
    out = tmp_path / "fast.ts"
    args = ("--variant", "int8-static", "--passes", "int8-static", "--min-snr", "10")
    assert _optimize(files["conv_stack"], out, *args, "--max-peak", "1") == 0
    table = capsys.readouterr().out
    assert "int8-static" in table and "CHOSEN" in table
    record = read_record(out)
    assert record["variant"] == "int8-static"
    assert record["passes"][0].startswith("int8_static")
    model = torch.jit.load(str(out))
    assert json.loads(model.get_metadata()[METADATA_KEY]) == record
    # the recorded error is the error this test measures against the original
    params = probe.MethodParams(1, 1, 1, 1)
    x = _inputs(params, 6)
    want = probe.call(torch.jit.load(str(files["conv_stack"])), "forward", x)
    got = probe.call(torch.jit.load(str(out)), "forward", x)
    recorded = record["error_against_source"]["forward"]["snr_db"]
    assert recorded is not None and abs(recorded - _snr(want, got)) < 6.0
    assert record["error_against_source"]["forward"]["streams"] is True
    # the test vector is the quantized file's own output, so nn~ and the checker verify it
    report = check_file(out, CheckOptions.quick(speed=False))
    assert report.exit_code() == 0 and not report.find("test_vector.mismatch"), report.to_text()
    for suffix in ("txt", "json", "png"):
        assert (tmp_path / f"fast_optimize.{suffix}").stat().st_size > 0


def test_optimize_refuses_a_variant_outside_the_bounds_and_writes_nothing(files, tmp_path, capsys):
    out = tmp_path / "fast.ts"
    args = ("--variant", "int8-static", "--passes", "int8-static", "--no-check", "--no-plot")
    assert _optimize(files["conv_stack"], out, *args, "--min-snr", "150") == 1
    assert not out.exists()
    assert "SNR" in capsys.readouterr().out


def test_optimize_never_writes_a_variant_that_stops_streaming(files, tmp_path, capsys):
    out = tmp_path / "gru.ts"
    args = ("--variant", "int8-dynamic", "--passes", "int8-dynamic", "--no-check", "--no-plot")
    assert _optimize(files["gru"], out, *args, "--min-snr", "0", "--max-peak", "10") == 1
    assert "chunks differ" in capsys.readouterr().out
    assert not out.exists()


def test_optimize_default_writes_an_exact_variant_of_the_autoencoder(files, tmp_path):
    out = tmp_path / "ae.ts"
    args = ("--passes", "frozen,frozen+ofi", "--no-check", "--no-plot")
    assert _optimize(files["autoencoder"], out, *args) == 0
    record = read_record(out)
    assert record["variant"] in ("original", "frozen", "frozen+ofi")
    metadata = torch.jit.load(str(out)).get_metadata()
    assert json.loads(metadata[METADATA_KEY]) == record and metadata["name"] == "tiny_ae"
    for m in ("encode", "decode", "forward"):
        assert record["error_against_source"][m]["snr_db"] is None  # exact: no difference
        assert record["error_against_source"][m]["streams"] is True


def test_optimize_usage_errors(files, tmp_path):
    assert _optimize(files["gru"], tmp_path / "x.ts", "--passes", "int4") == 2
    assert _optimize(files["gru"], files["gru"]) == 2
    assert _optimize(tmp_path / "missing.ts", tmp_path / "x.ts") == 2


def test_static_int8_calibrates_on_the_users_audio(files, tmp_path):
    import numpy as np
    import soundfile as sf

    audio = tmp_path / "take.wav"
    t = np.arange(44100) / 44100.0
    sf.write(audio, (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    out = tmp_path / "cal.ts"
    args = ("--variant", "int8-static", "--passes", "int8-static", "--no-check", "--no-plot")
    bounds = ("--min-snr", "0", "--max-peak", "10")
    assert _optimize(files["conv_stack"], out, *args, *bounds, "--calibration", str(audio)) == 0
    record = read_record(out)
    assert record["variant"] == "int8-static"
    assert record["error_against_source"]["forward"]["snr_db"] is not None  # not exact: reported
    missing = tmp_path / "missing.wav"
    assert _optimize(files["conv_stack"], out, "--calibration", str(missing)) == 2

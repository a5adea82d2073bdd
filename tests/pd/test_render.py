"""Patch tests: pd -batch renders sound through nn~ and the result must equal the model run in
Python on the same input (host convention applied), shifted by the latency nn~ reports, to 1e-6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support import catalogue, pdrun
from support.reference import host_reference

pytestmark = pytest.mark.pd

TOL = 1e-6


def _signal(channels: int, frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 44100.0
    x = 0.5 * np.sin(2 * np.pi * 220.0 * (1 + np.arange(channels))[:, None] * t[None])
    x += 0.3 * rng.uniform(-1, 1, (channels, frames))
    return x.astype(np.float32)


def _check(res: pdrun.PdResult, expected: np.ndarray, errors_expected: bool = False) -> int:
    assert res.returncode == 0, res.log
    if not errors_expected:
        assert not res.nn_errors(), res.nn_errors()
    assert res.outputs is not None, "Pd wrote no output file:\n" + res.log
    latency = int(res.info["latency"][0])
    y = res.outputs
    assert y.shape[0] == expected.shape[0]
    assert np.all(y[:, :latency] == 0.0), "output before the reported latency must be silent"
    n = min(expected.shape[1], y.shape[1] - latency)
    assert n >= expected.shape[1] - 4096, "recording too short to cover the input"
    err = np.abs(y[:, latency : latency + n] - expected[:, :n]).max()
    assert err <= TOL, f"max |nn~ - python| = {err:g} (latency {latency})"
    return latency


@pytest.mark.parametrize(
    "model,method,bufsize,n_in,n_out",
    [
        ("identity", "forward", 2048, 1, 1),
        ("gain", "forward", 512, 1, 1),  # no get_methods(): found from its _params buffer
        ("mix2to3", "forward", 1024, 2, 3),
        ("encdec", "encode", 2048, 1, 4),  # audio -> 4 frames per 256 samples
        ("encdec", "decode", 1024, 4, 1),  # 4 frames per 256 samples -> audio
        ("encdec", "forward", 256, 1, 1),
        ("identity", "forward", 1001, 1, 1),  # a buffer size that is not a power of two
    ],
)
def test_render_matches_python(
    tmp_path: Path, model_dir: Path, model, method, bufsize, n_in, n_out
):
    path = model_dir / f"{model}.ts"
    x = _signal(n_in, 30000, seed=bufsize)
    res = pdrun.render(
        tmp_path, f"{path} {method} {bufsize}", x, n_out, extra_frames=3 * bufsize + 4096
    )
    expected = host_reference(str(path), method, x, bufsize)
    latency = _check(res, expected)
    assert int(res.info["buffer"][0]) == bufsize
    assert latency == 2 * bufsize if bufsize >= 64 else latency > bufsize
    assert res.info["method"][0] == method


@pytest.mark.parametrize(
    "model,method,bufsize,headroom",
    [("identity", "forward", 1024, 1), ("encdec", "encode", 512, 3)],
)
def test_headroom_adds_whole_buffers_of_latency_and_keeps_the_output_exact(
    tmp_path: Path, model_dir: Path, model, method, bufsize, headroom
):
    """`headroom N` delays the output by N more buffers (latency (2 + N) x B at Pd's 64-sample
    blocks), reported by `info`, and the render stays equal to the model run in Python."""
    path = model_dir / f"{model}.ts"
    x = _signal(1, 20000, seed=headroom)
    res = pdrun.render(
        tmp_path,
        f"{path} {method} {bufsize}",
        x,
        4 if method == "encode" else 1,
        messages=[f"headroom {headroom}"],
        extra_frames=(3 + headroom) * bufsize + 4096,
    )
    latency = _check(res, host_reference(str(path), method, x, bufsize))
    assert latency == (2 + headroom) * bufsize
    assert res.info["headroom"] == [str(headroom)]


def test_model_name_resolved_relative_to_patch_with_ts_added(tmp_path: Path, model_dir: Path):
    (tmp_path / "gain.ts").write_bytes((model_dir / "gain.ts").read_bytes())
    x = _signal(1, 8000, seed=3)
    res = pdrun.render(tmp_path, "gain", x, 1, extra_frames=8192)
    _check(res, host_reference(str(model_dir / "gain.ts"), "forward", x, 2048))
    assert res.info["model"][0] == str(tmp_path / "gain.ts")


def test_attributes_set_and_get(tmp_path: Path, model_dir: Path):
    path = model_dir / "attributed.ts"
    x = _signal(1, 12000, seed=4)
    res = pdrun.render(
        tmp_path,
        f"{path} forward 1024",
        x,
        1,
        messages=[
            "set gain 2",
            "set offset 0.125",
            "set name hello",
            "get gain",
            "get name",
            "get range",
        ],
        extra_frames=4096,
    )
    assert not res.nn_errors(), res.log
    assert res.info["gain"] == ["2"]
    assert res.info["name"] == ["hello"]
    assert res.info["range"] == ["-1", "1"]
    _check(res, 2.0 * x[:, : (x.shape[1] // 1024) * 1024] + 0.125)


def test_refused_attribute_value_is_reported(tmp_path: Path, model_dir: Path):
    path = model_dir / "attributed.ts"
    x = _signal(1, 4096, seed=5)
    res = pdrun.render(
        tmp_path, f"{path} forward 1024", x, 1, messages=["set gain -1"], extra_frames=2048
    )
    assert res.returncode == 0
    assert any("refused" in e and "gain" in e for e in res.nn_errors()), res.log
    # the refused value did not change the model: still the identity gain
    _check(res, x[:, :4096], errors_expected=True)


def test_info_reports_labels_and_channels(tmp_path: Path, model_dir: Path):
    path = model_dir / "mix2to3.ts"
    x = _signal(2, 4096, seed=6)
    res = pdrun.render(tmp_path, f"{path}", x, 3, extra_frames=4096)
    assert res.info["channels"] == ["2", "3"]
    # one symbol per label; Pd's print escapes the space inside a symbol
    assert " ".join(res.info["inputs"]) == "(signal)\\ left (signal)\\ right"
    assert len(" ".join(res.info["outputs"]).split("(signal)\\ ")) == 4
    assert res.info["state"] == ["ready"]
    assert res.info["policy"] == ["wait"]


def test_stats_count_buffers_without_late_blocks(tmp_path: Path, model_dir: Path):
    x = _signal(1, 20480, seed=7)
    res = pdrun.render(
        tmp_path, f"{model_dir / 'identity.ts'} forward 2048", x, 1, extra_frames=4096
    )
    stats = res.info["stats"]
    values = dict(zip(stats[0::2], stats[1::2], strict=True))
    assert int(values["buffers"]) >= 20480 // 2048
    assert int(values["late"]) == 0 and int(values["dropped"]) == 0


def test_kit_extensions_reported_and_test_vectors_verified(tmp_path: Path):
    """models/demo.ts (exported by the kit) declares latency, its own rate, the torch that wrote it
    and test vectors: nn~ reports them and checks the vectors on load. A tampered vector and a file
    claiming a newer torch are named in warnings."""
    import torch

    demo = pdrun.REPO / "models" / "demo.ts"
    x = _signal(1, 4096, seed=8)
    res = pdrun.render(tmp_path, f"{demo} forward", x, 1)
    assert not res.nn_errors(), res.log
    assert res.info["verified"] == ["forward", "encode", "decode"]
    assert res.info["modellatency"] == ["0"]
    assert res.info["samplerate"] == ["44100", "44100"]
    assert res.info["torch"][0].startswith(torch.__version__.split("+")[0])
    assert "warning" not in res.log

    m = torch.jit.load(str(demo))
    m.encode_test_output.mul_(2.0).add_(0.5)  # what the author "saw" no longer matches
    meta = dict(m.get_metadata())
    meta["torch_version"] = "99.0.0"
    m._nn_metadata = meta
    bad = tmp_path / "tampered.ts"
    m.save(str(bad))
    res = pdrun.render(tmp_path, f"{bad} forward", x, 1)
    assert res.returncode == 0
    assert "method 'encode' does not compute what its author saw (test vector: max" in res.log, (
        res.log
    )
    assert "the file was written by torch 99.0.0, newer than this libtorch" in res.log
    assert res.info["verified"] == ["forward", "decode"]


def test_buffer_attribute_from_a_pd_array(tmp_path: Path, model_dir: Path):
    x = _signal(1, 8192, seed=9)
    res = pdrun.render(
        tmp_path,
        f"{model_dir / 'bufattr.ts'} forward 1024",
        x,
        1,
        arrays={"imp": [0.5, -0.25, 0.25, -0.5, 0.0]},
        messages=["set impulse imp", "get impulse"],
        extra_frames=2048,
    )
    assert not res.nn_errors(), res.log
    assert res.info["impulse"] == ["samples=5\\,sr=44100"]  # Pd's print escapes the comma
    _check(res, x[:, :8192] * 0.3)


def test_buffer_attribute_needs_an_existing_array(tmp_path: Path, model_dir: Path):
    x = _signal(1, 2048, seed=10)
    res = pdrun.render(
        tmp_path,
        f"{model_dir / 'bufattr.ts'} forward 1024",
        x,
        1,
        messages=["set impulse nosucharray", "set impulse 3"],
        extra_frames=2048,
    )
    assert "no array named 'nosucharray'" in res.log
    assert "value 1 of 'impulse' must name a non-empty array (buffer)" in res.log
    _check(res, x[:, :2048], errors_expected=True)  # unchanged: the identity


def test_quit_while_workers_compute_exits_cleanly(tmp_path: Path, model_dir: Path):
    """Pd exits without freeing its objects; libtorch's statics must not be destroyed under a worker
    that is inside a model call (this crashed with SIGSEGV at exit before the exit guard)."""
    heavy = model_dir / "heavy.ts"
    patch = tmp_path / "quit.pd"
    lines = [
        "#N canvas 0 50 450 300 12;",
        "#X obj 10 10 loadbang;",
        "#X msg 10 40 \\; pd dsp 1;",
        "#X obj 10 70 delay 300;",
        "#X msg 10 100 \\; pd quit;",
        "#X obj 10 130 noise~;",
    ]
    conns = ["#X connect 0 0 1 0;", "#X connect 0 0 2 0;", "#X connect 2 0 3 0;"]
    for i in range(3):
        lines.append(f"#X obj 10 {160 + 30 * i} nn~ {heavy} forward 2048;")
        conns.append(f"#X connect 4 0 {5 + i} 0;")
    patch.write_text("\n".join(lines + conns) + "\n")
    for _ in range(3):
        p = pdrun.run_pd(patch, timeout=120)
        assert p.returncode == 0, f"exit status {p.returncode}\n{p.stdout}{p.stderr}"


def test_stateful_model_plays_from_its_fresh_state(tmp_path: Path):
    """nn~'s load-time calls (the warm-up on zeros) leave no trace: `accumulator` adds 1e-3 to an
    offset it keeps on every call and has no reset(), so any call nn~ made before playing would
    shift the whole render by a multiple of 1e-3 (far above TOL)."""
    path = catalogue.build("accumulator", tmp_path)
    x = _signal(1, 20000, seed=6)
    res = pdrun.render(tmp_path, f"{path} forward 2048", x, 1, extra_frames=3 * 2048 + 4096)
    _check(res, host_reference(str(path), "forward", x, 2048))

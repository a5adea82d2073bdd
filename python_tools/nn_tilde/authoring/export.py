"""The export pipeline behind `Module.export_to_ts`: warm up, reset, script, validate, save,
reload in a fresh process, compare.

Every check runs on fresh loads of the scripted bytes, never on the live module, so validation
cannot leave streaming state in the saved file.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from nn_tilde import contract
from nn_tilde.authoring.base import ExportError, ExportReport, reset_streaming_state
from nn_tilde.host import probe, read

if TYPE_CHECKING:  # Module calls export_module (lazily); export needs Module's type only
    from nn_tilde.authoring.module import Module

log = logging.getLogger(__name__)

# Host samples of the embedded test vector input (at least two of the largest ratio).
TEST_VECTOR_SAMPLES = 4096
TEST_VECTOR_SEED = 0
_COMPARE_ATOL = 1e-4

# Runs in a fresh interpreter with nothing but torch: per method, load, seed, run; save outputs.
_RELOAD_SCRIPT = """
import sys, torch
inputs = torch.load(sys.argv[2])
outputs = {}
with torch.no_grad():
    for name, x in inputs.items():
        model = torch.jit.load(sys.argv[1], map_location="cpu")  # fresh state per method
        torch.manual_seed(int(sys.argv[4]))
        outputs[name] = getattr(model, name)(x)
torch.save(outputs, sys.argv[3])
"""


def _script_bytes(module: Module) -> bytes:
    try:
        scripted = torch.jit.script(module)
    except Exception as exc:  # TorchScript errors are long; keep them, add the fix
        raise ExportError(
            f"torch.jit.script failed: {exc}\nFix the TorchScript error above (type-annotate "
            f"arguments, avoid unsupported Python in exported methods)"
        ) from exc
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    return buf.getvalue()


def _default_sizes(max_ratio: int) -> list[int]:
    return sorted({max_ratio, 2 * max_ratio, max(max_ratio, 512), max(max_ratio, 4096)})


def _validate_shapes(
    load: probe.Loader, methods: list[str], sizes: Sequence[int], max_ratio: int
) -> None:
    for size in sizes:
        if not probe.is_power_of_two(size) or size < max_ratio:
            raise ExportError(
                f"buffer size {size} is not a power of two >= the largest ratio {max_ratio}; "
                f"pass powers of two in buffer_sizes"
            )
    for name in methods:
        model = load()
        params = read.method_params(model, name)
        for batch in (1, 2):
            for size in sizes:
                # nn~'s load-time call, at each size and batch; the kit refuses to write a file for
                # any call rule it breaks, warnings included (nn~ would convert or zero the output).
                result = read.read_call(model, name, params, size, batch)
                if result.problems:
                    raise ExportError(
                        f"{result.problems[0].message} (buffer {size}, batch {batch}); "
                        f"{_CALL_FIXES[result.problems[0].rule]}"
                    ) from result.error


# How to fix what a call rule names, in a file the kit exports.
_CALL_FIXES = {
    "call.throws": "fix the method",
    "call.type": "return one tensor [batch, channels, frames]",
    "call.shape": "fix the method or its register_method channels/ratios",
    "call.dtype": "the kit writes float32 outputs only (add .float())",
    "call.nonfinite": "the kit writes only methods that are finite on silence",
}


def _check_attributes(load: probe.Loader, attributes: list[str]) -> None:
    """Each attribute's setter accepts the value its getter reports, in the types its
    `<name>_params` declare (the checker's attribute.behaviour, which the kit refuses)."""
    model = load()
    for name in attributes:
        codes = [int(c) for c in getattr(model, f"{name}_params").flatten().tolist()]
        problem = read.attribute_behaviour(model, name, codes)
        if problem:
            words = contract.message("attribute.behaviour", attribute=name, problem=problem)
            raise ExportError(f"{words} (the kit refuses to write such a file)")


def _deterministic(load: probe.Loader, name: str, x: torch.Tensor) -> bool:
    a = probe.call(load(), name, x, seed=TEST_VECTOR_SEED)
    b = probe.call(load(), name, x, seed=TEST_VECTOR_SEED)
    return probe.allclose(a, b, atol=1e-6, rtol=0.0)


def _reload_and_compare(data: bytes, path: Path, inputs: dict[str, torch.Tensor]) -> None:
    """Run `inputs` on a load from disk in a fresh interpreter and on an in-process load."""
    load = probe.loader_from_bytes(data)
    expected = {
        name: probe.call(load(), name, x, seed=TEST_VECTOR_SEED) for name, x in inputs.items()
    }
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".nn_tilde_export_") as tmp:
        in_file, out_file = Path(tmp) / "inputs.pt", Path(tmp) / "outputs.pt"
        torch.save(inputs, in_file)
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _RELOAD_SCRIPT,
                str(path),
                str(in_file),
                str(out_file),
                str(TEST_VECTOR_SEED),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            raise ExportError(
                f"the saved file does not load and run in a fresh Python process:\n"
                f"{proc.stderr.strip()[-2000:]}\nThis usually means the model depends on state "
                f"that TorchScript does not save; keep it in buffers or attributes"
            )
        got = torch.load(out_file)
    for name, want in expected.items():
        if not probe.allclose(got[name], want, atol=_COMPARE_ATOL):
            raise ExportError(
                f'method "{name}": output after reloading from disk in a fresh process differs '
                f"from the scripted model (max diff {probe.max_abs_diff(got[name], want):.3g}); "
                f"make sure all state lives in registered buffers or attributes"
            )


def _warn_if_not_streaming(
    load: probe.Loader, name: str, params: probe.MethodParams, max_ratio: int, report: ExportReport
) -> None:
    """One call vs. random chunks: a mismatch means clicks in nn~ (warned, not refused, so that
    offline exports written for the reference package keep working)."""
    import random

    from nn_tilde.check.behaviour import random_chunks

    total = max(8 * max_ratio, 8192)
    x = torch.rand(1, params.in_channels, params.in_frames(total)) - 0.5
    whole = probe.call(load(), name, x, seed=0)
    if not probe.allclose(probe.call(load(), name, x, seed=1), whole, _COMPARE_ATOL):
        return  # draws random numbers: chunked and whole runs cannot be compared
    chunks = random_chunks(total, max_ratio, max(max_ratio, 2048), random.Random(0))
    got = probe.call_chunked(load(), name, x, chunks, params)
    if not probe.allclose(got, whole, _COMPARE_ATOL):
        note = (
            f"{name}: output in chunks differs from one call (max diff "
            f"{probe.max_abs_diff(got, whole):.3g}): not streaming-safe, it will click in nn~; "
            f"use cached convolutions (cached_conv or nn_tilde.streaming)"
        )
        log.warning("method %s", note)
        report.notes.append(note)


def export_module(
    module: Module,
    path: Path,
    *,
    validate: bool = True,
    test_vectors: bool = True,
    fresh_process: bool = True,
    buffer_sizes: Sequence[int] | None = None,
) -> ExportReport:
    """Export `module` to `path` (see `Module.export_to_ts`)."""
    report = ExportReport(path)
    if not module._methods:
        raise ExportError("no method registered; call register_method(...) before export_to_ts")
    path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()
    module.finish()
    methods = list(module._methods)
    all_params = {m: [int(v) for v in getattr(module, f"{m}_params").tolist()] for m in methods}
    max_ratio = max(max(p[1], p[3]) for p in all_params.values())
    # Warm-up: lazily built streaming caches (cached_conv) exist only after a first call.
    with torch.no_grad():
        for m, (in_ch, in_r, _, _) in all_params.items():
            size = max(max_ratio, 512)
            getattr(module, m)(torch.zeros(1, in_ch, size // in_r))
    reset_streaming_state(module)
    data = _script_bytes(module)
    load = probe.loader_from_bytes(data)
    if validate:
        _validate_shapes(load, methods, buffer_sizes or _default_sizes(max_ratio), max_ratio)
        _check_attributes(load, list(module._attributes))

    changed = False
    nondeterministic: list[str] = []
    for m in methods:
        params = probe.MethodParams(*all_params[m])
        declared = probe.declared_latency(load(), m)
        if validate or m in module._auto_latency:
            x = torch.rand(1, params.in_channels, params.in_frames(max(4096, 2 * max_ratio)))
            if not _deterministic(load, m, x):
                nondeterministic.append(m)
                report.notes.append(f"{m}: not deterministic even with a fixed seed")
                continue
            measured = probe.measure_latency(
                load, m, params, max_latency=max(16384, declared or 0), block=max_ratio
            )
            report.latency[m] = measured.samples
            if m in module._auto_latency:
                if measured.samples is None or min(measured.samples, measured.first or 0) < 0:
                    raise ExportError(
                        f'method "{m}": latency="auto" but it could not be measured '
                        f"({measured.note or 'negative: the method looks ahead'}); declare it"
                    )
                module.register_buffer(f"{m}_latency", torch.tensor([measured.samples]))
                changed = True
            elif declared is not None and measured.samples is not None:
                why = measured.contradicts(declared)
                if why is not None and measured.too_small(declared):
                    raise ExportError(
                        f'method "{m}": declared latency {declared} samples but measured '
                        f"{measured.samples} ({why}); declare latency="
                        f'{measured.samples} or latency="auto"'
                    )
                if why is not None:
                    log.warning("method %s: declared latency %d but %s", m, declared, why)
                    report.notes.append(f"{m}: declared latency {declared} but {why}")
        if validate and m not in nondeterministic:
            _warn_if_not_streaming(load, m, params, max_ratio, report)
    if test_vectors:
        samples = max(TEST_VECTOR_SAMPLES, 2 * max_ratio)
        gen = torch.Generator().manual_seed(1234)
        for m in methods:
            if m in nondeterministic:
                continue
            params = probe.MethodParams(*all_params[m])
            x = torch.rand(1, params.in_channels, params.in_frames(samples), generator=gen)
            x = x * 2.0 - 1.0
            y = probe.call(load(), m, x, seed=TEST_VECTOR_SEED)
            if not _deterministic(load, m, x):
                continue
            module.register_buffer(f"{m}_test_input", x.clone())
            module.register_buffer(f"{m}_test_output", y.clone())
            changed = True
    if changed:
        data = _script_bytes(module)
        load = probe.loader_from_bytes(data)
    for m in methods:
        report.declared[m] = probe.declared_latency(load(), m)

    tmp_path = path.with_name(path.name + ".partial")
    tmp_path.write_bytes(data)
    try:
        if fresh_process:
            inputs = {}
            for m in methods:
                params = probe.MethodParams(*all_params[m])
                inputs[m] = torch.rand(
                    1, params.in_channels, params.in_frames(max(2048, max_ratio))
                )
            _reload_and_compare(data, tmp_path, inputs)
        tmp_path.replace(path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    log.info("exported %s (%s)", path, json.dumps(report.latency))
    return report

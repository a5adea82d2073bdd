"""One model method in three runtimes, one thread each: TorchScript (what nn~ loads), ONNX
Runtime, and a `torch.export` program compiled with AOTInductor; each checked against the eager
model over successive calls, since a streaming model's state must carry from call to call.

Neither ONNX nor an AOTInductor package keeps module state between runs the way a TorchScript
module does, so each runtime is tried two ways:

- "state inside": the method exported as it is. Buffers the method updates become constants
  (or, for AOTInductor, internal copies), so the second call may start from the first call's
  initial state: the check across calls shows it.
- "explicit state": a wrapper `(x, *state) -> (y, *new_state)` whose state tensors the host
  passes back in on the next call (the way ONNX streaming models are usually run). Plain Python
  attributes (ints, floats) cannot be state here: export fixes them at their traced value, and
  the check shows it when that matters.

The kit's streaming state starts empty ([0, C, T] caches) and is sized by the first call, a
shape change that one exported program cannot make; so the first call is made by the eager
model, both programs are traced from the state it leaves, and calls 2..N are compared.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

Progress = Callable[[str], None]
CALLS = 6  # successive calls compared
EXACT = 1e-4  # as export and the checker compare


class RuntimeError_(Exception):
    """The model or source cannot be compared (usage error); the message names the fix."""


@dataclass
class RuntimeRow:
    runtime: str
    state: str  # "module" (TorchScript), "inside", "explicit"
    ok: bool = True
    error: str | None = None
    ms_per_call: float = 0.0
    x_real_time: float = 0.0
    speedup: float = 0.0  # against TorchScript in this run
    max_diff_per_call: list[float] = field(default_factory=list)
    export_seconds: float = 0.0

    @property
    def exact(self) -> bool:
        return bool(self.max_diff_per_call) and max(self.max_diff_per_call) <= EXACT


def _slots(model: nn.Module) -> list[tuple[nn.Module, str, str]]:
    out = []
    for mod_name, mod in model.named_modules():
        for leaf, buf in mod._buffers.items():
            if buf is not None:
                out.append((mod, leaf, f"{mod_name}.{leaf}" if mod_name else leaf))
    return out


def _snapshot(slots) -> list[torch.Tensor]:
    return [mod._buffers[leaf] for mod, leaf, _ in slots]


def _restore(slots, values) -> None:
    for (mod, leaf, _), v in zip(slots, values, strict=False):
        mod._buffers[leaf] = v


def _fresh(model: nn.Module) -> None:
    if hasattr(model, "reset"):
        model.reset()


def state_slots(model: nn.Module, method: str, x: torch.Tensor):
    """The buffers `method` changes in a call (the streaming state), and their values after one
    call of the model on `x` (the state the runtimes start from). The model is left in that
    state: the exported programs are traced from it."""
    slots = _slots(model)
    _fresh(model)
    before = [b.clone() for b in _snapshot(slots)]
    with torch.no_grad():
        getattr(model, method)(x)
    after = _snapshot(slots)
    changed, state = [], []
    for slot, b0, b1 in zip(slots, before, after, strict=False):
        if b0.shape != b1.shape or not torch.equal(b0, b1):
            changed.append(slot)
            state.append(b1.clone())
    return changed, state


def python_state(model: nn.Module, method: str, x: torch.Tensor) -> list[str]:
    """Plain Python numbers that a call changes: export fixes them at their traced value."""

    def numbers() -> dict[str, float]:
        return {
            f"{n}.{k}" if n else k: v
            for n, mod in model.named_modules()
            for k, v in vars(mod).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        }

    before = numbers()
    with torch.no_grad():
        getattr(model, method)(x)
    after = numbers()
    return sorted(k for k in before if before[k] != after.get(k))


class ExplicitState(nn.Module):
    """(x, *state) -> (y, *new_state) around one method of `model` (see the module docstring)."""

    def __init__(self, model: nn.Module, method: str, slots) -> None:
        super().__init__()
        self.model = model
        self.method = method
        self.slots = slots

    def forward(self, x: torch.Tensor, *state: torch.Tensor):
        saved = _snapshot(self.slots)
        try:
            for (mod, leaf, _), s in zip(self.slots, state, strict=False):
                mod._buffers[leaf] = s.clone()
            y = getattr(self.model, self.method)(x)
            new = [mod._buffers[leaf].clone() for mod, leaf, _ in self.slots]
        finally:
            _restore(self.slots, saved)
        return (y, *new)


class MethodOnly(nn.Module):
    """The method as `forward` (state inside, for the "inside" rows)."""

    def __init__(self, model: nn.Module, method: str) -> None:
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self.model, self.method)(x)


def _inputs(channels: int, frames: int, calls: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(11)
    t = torch.arange(frames * calls, dtype=torch.float64) / 44100.0
    sig = 0.4 * torch.sin(2 * math.pi * 220.0 * t * (1 + 0.5 * t))  # a rising tone
    sig = sig.float() + 0.05 * (torch.rand(frames * calls, generator=gen) - 0.5)
    sig = sig.view(1, 1, -1).expand(1, channels, -1)
    return [sig[..., i * frames : (i + 1) * frames].contiguous() for i in range(calls)]


def _time(step: Callable[[], object], seconds: float) -> float:
    """Mean seconds per call of `step` over about `seconds`, after three untimed calls
    (TorchScript's profiling executor optimises the graph during the first ones)."""
    for _ in range(3):
        step()
    n, start = 0, time.perf_counter()
    while n < 5 or time.perf_counter() - start < seconds:
        step()
        n += 1
    return (time.perf_counter() - start) / n


def _diffs(got: Sequence[torch.Tensor], want: Sequence[torch.Tensor]) -> list[float]:
    out = []
    for g, w in zip(got, want, strict=False):
        g = torch.as_tensor(g)
        out.append(math.inf if g.shape != w.shape else float((g - w).abs().max()))
    return out


def _error_line(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"


def compare_runtimes(
    model: nn.Module,
    method: str,
    in_channels: int,
    frames: int,
    period_s: float,
    seconds: float = 1.0,
    progress: Progress = lambda _m: None,
    runtimes: Sequence[str] = ("torchscript", "onnxruntime", "aotinductor"),
) -> list[RuntimeRow]:
    """Time and check `model.method` on `frames`-frame calls (period_s: the audio they last)."""
    torch.set_num_threads(1)
    model = model.eval()
    inputs = _inputs(in_channels, frames, CALLS)
    _fresh(model)
    with torch.no_grad():
        want = [getattr(model, method)(x).clone() for x in inputs]
    rows: list[RuntimeRow] = []

    def add(row: RuntimeRow, run_calls: Callable[[], list[torch.Tensor]], step) -> None:
        try:
            got = run_calls()
            row.max_diff_per_call = _diffs(got, want if len(got) == len(want) else want[1:])
            row.ms_per_call = 1e3 * _time(step, seconds)
            row.x_real_time = period_s / (row.ms_per_call / 1e3)
        except Exception as exc:
            row.ok, row.error = False, _error_line(exc)
        rows.append(row)

    if "torchscript" in runtimes:
        progress("TorchScript")
        row = RuntimeRow("torchscript", "module")
        _fresh(model)
        try:
            t0 = time.perf_counter()
            buf = io.BytesIO()
            torch.jit.save(torch.jit.script(model), buf)
            ts = torch.jit.load(io.BytesIO(buf.getvalue()))
            row.export_seconds = time.perf_counter() - t0
            fn = getattr(ts, method)

            def ts_calls():
                fresh = torch.jit.load(io.BytesIO(buf.getvalue()))
                with torch.no_grad():
                    return [getattr(fresh, method)(x) for x in inputs]

            def ts_step():
                with torch.no_grad():
                    fn(inputs[0])

            add(row, ts_calls, ts_step)
        except Exception as exc:
            row.ok, row.error = False, _error_line(exc)
            rows.append(row)

    slots, initial = state_slots(model, method, inputs[0])  # the model is left after call 1
    later = inputs[1:]
    explicit = ExplicitState(model, method, slots).eval()
    inside = MethodOnly(model, method).eval()
    example = (inputs[1], *initial)
    with tempfile.TemporaryDirectory(prefix="nn_tilde_runtimes_") as tmp:
        compiled = (
            ("onnxruntime", "ONNX Runtime", add_onnx, "onnx"),
            ("aotinductor", "torch.export + AOTInductor", add_aoti, "pt2"),
        )
        for runtime, label, add_runtime, suffix in compiled:
            if runtime not in runtimes:
                continue
            for state in ("inside", "explicit"):
                progress(f"{label}, state {state}")
                rows_before = len(rows)
                try:
                    add_runtime(
                        rows,
                        add,
                        explicit if state == "explicit" else inside,
                        state,
                        example if state == "explicit" else (inputs[1],),
                        later,
                        len(initial),
                        Path(tmp) / f"{state}.{suffix}",
                    )
                except Exception as exc:
                    del rows[rows_before:]
                    rows.append(RuntimeRow(runtime, state, ok=False, error=_error_line(exc)))
                _restore(slots, [t.clone() for t in initial])
    base = next((r for r in rows if r.runtime == "torchscript" and r.ok), None)
    for r in rows:
        if base is not None and r.ok and r.ms_per_call > 0:
            r.speedup = base.ms_per_call / r.ms_per_call
    return rows


def _threaded(n_state: int, run_one, inputs, initial_feed):
    """Run calls threading the state outputs back in (explicit) or not (n_state 0)."""
    outs, state = [], list(initial_feed)
    for x in inputs:
        res = run_one(x, state)
        outs.append(torch.as_tensor(res[0]))
        state = [torch.as_tensor(s) for s in res[1 : 1 + n_state]]
    return outs


def add_onnx(rows, add, module, state, example, inputs, n_state, path: Path) -> None:
    import onnxruntime as ort

    t0 = time.perf_counter()
    names = ["x"] + [f"s{i}" for i in range(len(example) - 1)]
    with torch.no_grad():
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=names,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    options = ort.SessionOptions()
    # as the thesis forces: one intra-op and one inter-op thread
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    export_s = time.perf_counter() - t0
    in_names = [i.name for i in session.get_inputs()]
    initial = [t.numpy() for t in example[1:]]

    def run_one(x, st):
        feed = {in_names[0]: x.numpy()}
        for name, s in zip(in_names[1:], st, strict=False):
            feed[name] = s.numpy() if isinstance(s, torch.Tensor) else s
        return session.run(None, feed)

    n = n_state if state == "explicit" else 0
    row = RuntimeRow("onnxruntime", state, export_seconds=export_s)
    feed0 = [torch.from_numpy(a) for a in initial]
    add(row, lambda: _threaded(n, run_one, inputs, feed0), lambda: run_one(inputs[0], feed0))


def add_aoti(rows, add, module, state, example, inputs, n_state, path: Path) -> None:
    t0 = time.perf_counter()
    with torch.no_grad():
        program = torch.export.export(module, example)
        package = torch._inductor.aoti_compile_and_package(program, package_path=str(path))
    runner = torch._inductor.aoti_load_package(package)
    export_s = time.perf_counter() - t0
    initial = list(example[1:])

    def run_one(x, st):
        with torch.no_grad():
            res = runner(x, *st)
        return res if isinstance(res, (list, tuple)) else [res]

    n = n_state if state == "explicit" else 0
    row = RuntimeRow("aotinductor", state, export_seconds=export_s)
    add(row, lambda: _threaded(n, run_one, inputs, initial), lambda: run_one(inputs[0], initial))


def format_rows(rows: Sequence[RuntimeRow], title: str) -> str:
    lines = [
        title,
        f"{'runtime':12} {'state':9} {'ms/call':>8} {'x_rt':>8} {'vs_ts':>6} {'exact':>5}  "
        "max |diff| per successive call (against the eager model)",
    ]
    for r in rows:
        if not r.ok:
            lines.append(f"{r.runtime:12} {r.state:9} failed: {r.error}")
            continue
        diffs = " ".join(f"{d:.1e}" for d in r.max_diff_per_call)
        speedup = f"{r.speedup:.2f}x" if r.speedup else "-"  # no TorchScript row timed
        lines.append(
            f"{r.runtime:12} {r.state:9} {r.ms_per_call:8.3f} {r.x_real_time:8.1f} "
            f"{speedup:>6} {'yes' if r.exact else 'NO':>5}  {diffs}"
        )
    return "\n".join(lines)


def load_eager(source: str) -> nn.Module:
    """The Python model behind a comparison: a `nn-tilde train` checkpoint (.pt) or
    SCRIPT.py:FACTORY (export and AOTInductor need the Python module, not a .ts file)."""
    path = Path(source)
    if path.suffix in (".pt", ".pth", ".ckpt") and path.is_file():
        from nn_tilde.train.checkpoint import CheckpointError, model_from_checkpoint

        try:
            return model_from_checkpoint(path, {})
        except CheckpointError as exc:
            raise RuntimeError_(str(exc))
    script, sep, name = source.rpartition(":")
    if sep and script.endswith(".py") and Path(script).is_file():
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"nn_tilde_rt_{Path(script).stem}", script)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        factory = getattr(module, name, None)
        if not callable(factory):
            raise RuntimeError_(f"{script} defines no function {name}()")
        return factory()
    if path.suffix == ".ts":
        raise RuntimeError_(
            f"{source}: --runtimes needs the Python model, which a .ts file does not hold "
            "(torch.export and the ONNX exporter trace Python code): give the checkpoint "
            "(.pt) of `nn-tilde train` or SCRIPT.py:FACTORY"
        )
    raise RuntimeError_(f"{source}: give a .pt checkpoint or SCRIPT.py:FACTORY")


def run_runtimes(
    source: str | Path,
    buffer: int,
    seconds: float,
    as_json: bool,
    progress: Progress,
    method: str = "forward",
) -> int:
    """`nn-tilde bench --runtimes`: print the table (or JSON); 0, or 1 when a runtime failed."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    model = load_eager(str(source))
    if not hasattr(model, f"{method}_params"):
        raise RuntimeError_(f"{source}: no method {method!r}")
    in_ch, in_ratio, _, _ = (int(v) for v in getattr(model, f"{method}_params").tolist())
    rate = int(getattr(model, "sr", 44100) or 44100)
    rate = rate if rate > 0 else 44100
    rows = compare_runtimes(
        model, method, in_ch, buffer // in_ratio, buffer / rate, seconds, progress
    )
    _fresh(model)
    x = _inputs(in_ch, buffer // in_ratio, 1)[0]
    numbers = python_state(model, method, x)
    _fresh(model)
    title = (
        f"{source}: {method}, buffer {buffer} at {rate} Hz, batch 1, one thread; torch "
        f"{torch.__version__}; calls 2..{CALLS} after a first call by the eager model "
        "(TorchScript: calls 1..N from a fresh load)"
    )
    if as_json:
        rows_json = [asdict(r) | {"exact": r.exact} for r in rows]
        print(json.dumps({"title": title, "rows": rows_json, "python_state": numbers}, indent=2))
    else:
        print(format_rows(rows, title))
        if numbers:
            print(
                "Python numbers a call changes (export fixes them at their traced value, so "
                f"they cannot carry state in ONNX or .pt2): {', '.join(numbers)}"
            )
    return 0 if all(r.ok for r in rows) else 1

"""Real-time factor of a DDSP nn~ model per component and whole (prints figures; not a test).

    nn-tilde ddsp bench models/ddsp_violin.ts [--buffer 2048] [--seconds 2] [--pd] [--json]

One thread (``torch.set_num_threads(1)``), batch 1, ``buffer`` samples per call as nn~ would call.
Components, each eager (Python modules) and TorchScript (``torch.jit.script``): ``features``
(streaming f0 + loudness), ``decoder`` (fused streaming CNN), ``synthesis`` (controls, harmonic
wavetable and filtered noise), ``reverb`` (a learned 8192-tap reverb, streamed by FFT; not in the
shipped models); whole: the model file's ``forward`` and ``decode`` (TorchScript as nn~ runs it),
and the same after ``torch.jit.freeze`` + ``optimize_for_inference`` for comparison; ``--pd``: nn~
running ``forward`` in ``pd -batch``.

Floors, measured in the same run: an empty TorchScript method call, one trivial op (the slope of
an unrolled chain of ``x + 1``), one rfft of a buffer's analysis frames, and a bare decoder (the
issue's layers with no streaming caches: a lower bound of the real decoder). The last line compares
the 800x goal's budget with the bare decoder plus the FFT, a lower bound of any TorchScript model
doing this job. Quantisation (as in the thesis): the bare decoder's layers as ``nn.Linear``,
float and int8 (``quantize_dynamic``). ``--json`` prints ``{"rows": [...], "verdict": "..."}``.

Real-time factor = audio seconds per call / seconds of compute per call; each figure is the
median over ``repeats`` runs of the thread CPU time (``time.thread_time``, which other processes
on a busy machine do not inflate) and, for reference, of the wall time.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

import torch

from nn_tilde.models.ddsp.features import Features
from nn_tilde.models.ddsp.model import StreamingDDSP
from nn_tilde.models.ddsp.synth import Reverb


def time_call(fn: Callable[[], object], seconds: float, repeats: int = 5) -> tuple[float, float]:
    """(median thread-CPU seconds per call, median wall seconds per call)."""
    with torch.no_grad():
        for _ in range(30):
            fn()
        cpu, wall = [], []
        for _ in range(repeats):
            n, c0, w0 = 0, time.thread_time(), time.perf_counter()
            while time.perf_counter() - w0 < seconds / repeats:
                fn()
                n += 1
            cpu.append((time.thread_time() - c0) / n)
            wall.append((time.perf_counter() - w0) / n)
    return statistics.median(cpu), statistics.median(wall)


class _Synthesis(torch.nn.Module):
    """The synthesis half of StreamingDDSP (controls -> harmonic + noise), for timing alone."""

    def __init__(self, s: StreamingDDSP) -> None:
        super().__init__()
        self.s = s

    def forward(self, f0: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        ctrl = torch.sigmoid(raw).pow(self.s.ln10)
        h = self.s.n_harmonics
        dist = ctrl[..., 1 : 1 + h] * self.s.harmonic.mask(f0)
        norm = ctrl[..., :1] / (dist.sum(-1, keepdim=True) + 5e-8)
        return self.s.harmonic(f0, dist * norm, True) + self.s.noise(ctrl[..., 1 + h :])


def bench(model_path: Path, buffer: int = 2048, seconds: float = 2.0) -> list[dict]:
    torch.set_num_threads(1)
    scripted = torch.jit.load(str(model_path))
    sr = int(scripted.get_model_sample_rate())
    hop = int(scripted.decode_params[1])
    frames = buffer // hop
    audio_s = buffer / sr
    # Components are timed on fresh instances of the same classes at the file's rate and hop
    # (random weights: the cost does not depend on their values); "whole model" rows run the file.
    from nn_tilde.models.ddsp.model import DDSP

    ddsp = DDSP(sample_rate=sr, hop=hop).eval()
    stream = StreamingDDSP(ddsp)
    x = torch.randn(1, 1, buffer) * 0.1
    feats = torch.stack([torch.full((1, frames), 330.0), torch.full((1, frames), -30.0)], 1)
    x_dec = torch.cat([torch.log2(feats[:, :1]), feats[:, 1:]], 1)
    raw = torch.randn(1, frames, stream.decoder.out_bias.numel())
    f0 = feats[:, 0]
    wet = torch.randn(1, buffer) * 0.1
    comps = {
        "features": (Features(sr, hop).eval(), (x,)),
        "decoder": (stream.decoder, (x_dec,)),
        "synthesis": (_Synthesis(stream), (f0, raw)),
        "reverb (8192 taps)": (Reverb(8192, sr).eval(), (wet,)),
        "decode path (decoder + synthesis)": (stream, (feats,)),
    }
    rows = []
    for name, (mod, args) in comps.items():
        for kind, m in (("eager", mod), ("TorchScript", torch.jit.script(mod))):
            cpu, wall = time_call(lambda m=m, args=args: m(*args), seconds)
            rows.append(_row(name, kind, cpu, wall, audio_s))
    for method, arg in (("forward", x), ("decode", feats)):
        m = torch.jit.load(str(model_path))
        fn = getattr(m, method)
        cpu, wall = time_call(lambda fn=fn, arg=arg: fn(arg), seconds)
        rows.append(_row(f"whole model: {method}", "TorchScript (file)", cpu, wall, audio_s))
    m = torch.jit.load(str(model_path)).eval()
    frozen = torch.jit.optimize_for_inference(
        torch.jit.freeze(m, preserved_attrs=["decode", "features"])
    )
    cpu, wall = time_call(lambda: frozen(x), seconds)
    rows.append(_row("whole model: forward", "frozen + optimize_for_inference", cpu, wall, audio_s))
    return rows + floors(sr, hop, buffer, seconds) + quantisation(sr, hop, buffer, seconds)


class _Identity(torch.nn.Module):
    """A TorchScript call that does nothing: the cost of calling a method at all."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _op_chain(n: int):
    """A scripted function of ``n`` trivial elementwise ops in a row (``x + 1``), unrolled (no
    loop bookkeeping between them): the cost of one op is the slope over ``n``."""
    body = "".join("    x = x + 1.0\n" for _ in range(n))
    return torch.jit.CompilationUnit(f"def f(x: Tensor) -> Tensor:\n{body}    return x\n").f


def _bare_decoder(channels: int = 8, n_out: int = 126, units: int = 6):
    """A lower bound of the decoder the issue specifies: 1x1 conv in, six residual units
    ``x + relu(LayerNorm(conv(x)))``, 1x1 conv out, on the frames of one buffer, with every
    convolution reduced to one ``addmm`` on the current frames and **no** streaming caches, so it
    does less work than any real streaming decoder. Unrolled: 26 ATen calls (the fewest that
    express these layers: without a fuser, the norm, the activation and the residual add each
    take an op). Returns (scripted function, its arguments for ``frames`` frames)."""
    lines = ["    h = torch.addmm(b_in, x, w_in)\n"]
    for i in range(units):
        lines.append(f"    y = torch.layer_norm(torch.addmm(b{i}, h, w{i}), [{channels}])\n")
        lines.append("    h = h + torch.relu(y)\n")
    lines.append("    return torch.addmm(b_out, h, w_out)\n")
    params = ", ".join(f"w{i}: Tensor, b{i}: Tensor" for i in range(units))
    src = f"def f(x: Tensor, w_in: Tensor, b_in: Tensor, {params}, w_out: Tensor, b_out: Tensor):\n"
    fn = torch.jit.CompilationUnit(src + "".join(lines)).f
    weights = [torch.randn(2, channels), torch.zeros(channels)]
    for _ in range(units):
        weights += [torch.randn(channels, channels) / channels, torch.zeros(channels)]
    weights += [torch.randn(channels, n_out), torch.zeros(n_out)]
    return fn, weights


class _LinearUnit(torch.nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(channels, channels)
        self.norm = torch.nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.norm(self.lin(x)))


def _linear_decoder(channels: int = 8, n_out: int = 126, units: int = 6) -> torch.nn.Module:
    """The bare decoder's layers as ``nn.Linear`` (what int8 dynamic quantisation applies to)."""
    layers = [torch.nn.Linear(2, channels)] + [_LinearUnit(channels) for _ in range(units)]
    return torch.nn.Sequential(*layers, torch.nn.Linear(channels, n_out)).eval()


def quantisation(sample_rate: int, hop: int, buffer: int, seconds: float) -> list[dict]:
    """The thesis' int8 quantisation, measured where it applies: the bare decoder's layers as
    ``nn.Linear``, float and after ``torch.ao.quantization.quantize_dynamic`` (int8 weights)."""
    import warnings

    audio_s = buffer / sample_rate
    xf = torch.randn(max(1, buffer // hop), 2)
    float_dec = _linear_decoder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice
        int8_dec = torch.ao.quantization.quantize_dynamic(
            _linear_decoder(), {torch.nn.Linear}, dtype=torch.qint8
        )
        rows = []
        for kind, mod in (("float", float_dec), ("int8 dynamic", int8_dec)):
            scripted = torch.jit.script(mod)
            cpu, wall = time_call(lambda m=scripted: m(xf), seconds)
            rows.append(_row("quantisation: bare decoder as nn.Linear", kind, cpu, wall, audio_s))
    return rows


def floors(sample_rate: int, hop: int, buffer: int, seconds: float) -> list[dict]:
    """What any TorchScript model costs on this machine, measured in the same run as the model:
    an empty method call, one trivial op, one FFT of a buffer's analysis frames, and the bare
    decoder (a lower bound of the issue's decoder alone, see ``_BareDecoder``)."""
    audio_s = buffer / sample_rate
    frames = max(1, buffer // hop)
    x = torch.zeros(1, 1, buffer)
    rows = []
    ident = torch.jit.script(_Identity())
    cpu, wall = time_call(lambda: ident(x), seconds)
    rows.append(_row("floor: empty method call", "TorchScript", cpu, wall, audio_s))
    n = 100
    short, long = _op_chain(1), _op_chain(1 + n)
    small = torch.zeros(1, frames)
    c1, w1 = time_call(lambda: short(small), seconds)
    c2, w2 = time_call(lambda: long(small), seconds)
    rows.append(
        _row(
            f"floor: one trivial op (x + 1, {frames} floats)",
            "TorchScript, per op",
            max(c2 - c1, 1e-9) / n,
            max(w2 - w1, 1e-9) / n,
            audio_s,
        )
    )
    frame = 4 * hop
    frames_x = torch.randn(1, frames, frame)
    cpu, wall = time_call(lambda: torch.fft.rfft(frames_x), seconds)
    rows.append(_row(f"floor: rfft of {frames} x {frame} samples", "ATen", cpu, wall, audio_s))
    bare, weights = _bare_decoder()
    xf = torch.randn(frames, 2)
    cpu, wall = time_call(lambda: bare(xf, *weights), seconds)
    rows.append(_row("floor: bare decoder (26 ops, no caches)", "TorchScript", cpu, wall, audio_s))
    return rows


def verdict(rows: list[dict], goal: float = 800.0) -> str:
    """One line comparing the measured floors with the goal (real-time factor ``goal``).

    Lower bound of any TorchScript model doing the issue's job: the bare decoder (less work than
    the real decoder) plus one FFT of the buffer's analysis frames (the f0 tracker and the
    A-weighted loudness need at least that); the synthesis and the streaming state come on top.
    Figures are from Python, so each call includes the "empty method call" row (a few us that
    nn~, calling from C++, partly saves)."""

    def find(prefix: str) -> dict:
        return next(r for r in rows if r["component"].startswith(prefix))

    bare, fft, op = find("floor: bare decoder"), find("floor: rfft"), find("floor: one trivial op")
    audio_us = bare["audio_us_per_call"]
    budget = audio_us / goal
    bound = bare["us_per_call_cpu"] + fft["us_per_call_cpu"]
    text = (
        f"{goal:.0f}x real time leaves {budget:.1f} us per call (about "
        f"{budget / max(op['us_per_call_cpu'], 1e-3):.0f} trivial ops here); the bare decoder and "
        f"one FFT of the analysis frames alone take {bound:.1f} us ({audio_us / bound:.0f}x)"
    )
    whole = next(
        (r for r in rows if r["component"] == "whole model: forward" and "file" in r["mode"]), None
    )
    if whole is not None:
        us, rtf = whole["us_per_call_cpu"], whole["rtf_cpu"]
        text += f"; the model's forward takes {us:.1f} us ({rtf:.0f}x)"
    if bound > budget:
        text += f". No TorchScript model doing this job can reach {goal:.0f}x on this machine."
    else:
        text += f". The floor is within the {goal:.0f}x budget on this machine."
    return text


def pd_cpu_per_buffer(
    model: Path, buffer: int = 2048, short: int = 200, long: int = 2000, repeats: int = 3
) -> tuple[float, str]:
    """nn~ inside ``pd -batch -nrt`` playing a 220 Hz sawtooth through ``[nn~ MODEL forward
    BUFFER]``: CPU seconds per buffer as (long run - short run) / buffers (start-up and loading
    cancel; as benchmarks/pd_overhead.py), median of ``repeats``. Needs pd and nn~.pd_linux
    ($NN_PD_DIR, else build/nn~). Returns (seconds per buffer, nn~'s reported latency)."""
    import tempfile

    from nn_tilde.host import pd

    ext = pd.external_dir()

    def run(n: int, tmp: Path) -> tuple[float, str]:
        creation = f"{model.resolve()} forward {buffer}"
        return pd.render_cpu(creation, ["phasor~ 220", "*~ 0.3"], n * buffer / 44.1, tmp, [ext])

    per, latency = [], "?"
    with tempfile.TemporaryDirectory() as d:
        for _ in range(repeats):
            a, log = run(long, Path(d))
            b, _ = run(short, Path(d))
            per.append((a - b) / (long - short))
            latency = next(
                (ln.split()[-1] for ln in log.splitlines() if ln.startswith("bench: latency")), "?"
            )
    return statistics.median(per), latency


def _row(name: str, kind: str, cpu: float, wall: float, audio_s: float) -> dict:
    return {
        "component": name,
        "mode": kind,
        "us_per_call_cpu": round(cpu * 1e6, 1),
        "us_per_call_wall": round(wall * 1e6, 1),
        "rtf_cpu": round(audio_s / cpu, 1),
        "rtf_wall": round(audio_s / wall, 1),
        "audio_us_per_call": round(audio_s * 1e6, 3),
    }


def bench_with_pd(
    model: Path, buffer: int = 2048, seconds: float = 2.0, pd: bool = False
) -> list[dict]:
    """`bench`'s rows, and with `pd` one more: nn~ running `forward` in pd -batch (CPU per
    buffer)."""
    rows = bench(model, buffer, seconds)
    if pd:
        sec, latency = pd_cpu_per_buffer(model, buffer)
        rows.append(
            _row(
                f"nn~ in pd -batch (latency {latency})",
                "forward, CPU per buffer",
                sec,
                sec,
                buffer / 44100,
            )
        )
    return rows


def format_table(rows: list[dict], buffer: int) -> str:
    """The rows as `nn-tilde ddsp bench` prints them, with the verdict as the last line."""
    lines = [
        f"one thread, buffer {buffer}, batch 1; real-time factor = audio time / compute time",
        f"{'component':36s} {'mode':32s} {'us/call cpu':>12s} {'RTF cpu':>9s} "
        f"{'us/call wall':>13s} {'RTF wall':>9s}",
    ]
    for r in rows:
        lines.append(
            f"{r['component']:36s} {r['mode']:32s} {r['us_per_call_cpu']:12.1f} "
            f"{r['rtf_cpu']:9.1f} "
            f"{r['us_per_call_wall']:13.1f} {r['rtf_wall']:9.1f}"
        )
    lines.append(verdict(rows))
    return "\n".join(lines)

"""The table and plot of `nn-tilde optimize` (and of the runtime comparison)."""

from __future__ import annotations

import math
from pathlib import Path

from nn_tilde.optimize.run import OptimizeResult


def _snr(value: float) -> str:
    return "exact" if math.isinf(value) and value > 0 else f"{value:.1f}"


def format_table(result: OptimizeResult) -> str:
    """One line per variant and method: speed (as bench: mean CPU ms per call, x real time,
    speedup over the original on the deciding method), error, streaming, checker, decision."""
    head = (
        f"{result.source.name}: buffer {result.buffer}, {result.threads} thread(s), "
        f"{result.sample_rate} Hz; speed decided on '{result.method}'"
    )
    lines = [
        head,
        f"{'variant':13} {'method':10} {'cpu_ms':>8} {'x_rt':>8} {'speedup':>7} "
        f"{'snr_db':>7} {'peak':>9} {'streams':>7} {'check':>5}  decision",
    ]
    for fig in result.variants:
        if fig.error or not fig.methods:
            lines.append(f"{fig.name:13} {'-':10} not made: {fig.error}")
            continue
        for i, (m, f) in enumerate(fig.methods.items()):
            speedup = "" if m != result.method else f"{result.speedup(fig.name):.2f}x"
            streams = {None: "n/a", True: "yes", False: "NO"}[f.streams]
            decision = ""
            if i == 0:
                if fig.name == result.chosen:
                    decision = "CHOSEN"
                else:
                    decision = result.reasons[fig.name] or "acceptable, slower"
            lines.append(
                f"{fig.name if i == 0 else '':13} {m[:10]:10} {f.cpu_ms:8.3f} "
                f"{f.x_real_time:8.1f} {speedup:>7} {_snr(f.snr_db):>7} {f.peak_error:9.2e} "
                f"{streams:>7} {fig.check if i == 0 else '':>5}  {decision}"
            )
    if result.chosen is None:
        lines.append("no variant chosen: nothing written")
    for fig in result.variants:
        for problem in fig.check_problems:
            lines.append(f"  checker on {fig.name}: {problem}")
    return "\n".join(lines)


def plot(result: OptimizeResult, path: Path) -> Path:
    """Bars of x real time per variant for the deciding method (as the thesis' runtime figure:
    one bar per runtime/variant, real-time factor on a log axis), SNR written on each bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [f for f in result.variants if f.methods and not f.error]
    names = [f.name for f in rows]
    speeds = [f.methods[result.method].x_real_time for f in rows]
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(rows) + 1.9))
    colours = ["tab:green" if n == result.chosen else "tab:blue" for n in names]
    for i, n in enumerate(names):
        if result.reasons.get(n):
            colours[i] = "tab:gray"
    ax.barh(names, speeds, color=colours)
    if speeds and max(speeds) > 10 * max(min(speeds), 1e-9):
        ax.set_xscale("log")  # as the thesis' figure, when the runtimes differ by decades
    else:
        ax.set_xlim(0, 1.35 * max(speeds, default=1.0))  # bars from 0: lengths compare
    ax.invert_yaxis()
    ax.set_xlabel(f"x real time ('{result.method}', CPU time per call)")
    for y, f in enumerate(rows):
        fm = f.methods[result.method]
        error = "exact" if _snr(fm.snr_db) == "exact" else f"SNR {_snr(fm.snr_db)} dB"
        ax.text(fm.x_real_time, y, f"  {fm.x_real_time:.0f}x, {error}", va="center", fontsize=8)
    failed = [f"{f.name}: {f.error}"[:90] for f in result.variants if f.error]
    if failed:
        fig.text(0.01, 0.01, "not made: " + "; ".join(failed), fontsize=6, va="bottom")
    ax.set_title(
        f"{result.source.name}: buffer {result.buffer}, {result.threads} thread(s)\n"
        "green: written, gray: outside the error bounds or not streaming",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""The DDSP benchmark (nn-tilde ddsp bench): it runs on a shipped model, prints a figure for
every component, the whole model and the machine's floors, and its verdict follows the figures.
Speed itself is not asserted (figures, not timed tests)."""

import json
from pathlib import Path

import pytest

from nn_tilde.bench import ddsp as bench
from nn_tilde.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "ddsp_violin.ts"

pytestmark = [
    pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning"),
]


def test_bench_prints_every_row_and_a_verdict(capsys):
    assert cli_main(["ddsp", "bench", str(MODEL), "--seconds", "0.05", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    names = {(r["component"], r["mode"]) for r in rows}
    for comp in ("features", "decoder", "synthesis", "decode path (decoder + synthesis)"):
        assert (comp, "eager") in names and (comp, "TorchScript") in names, comp
    assert ("whole model: forward", "TorchScript (file)") in names
    assert ("whole model: decode", "TorchScript (file)") in names
    floors = [r for r in rows if r["component"].startswith("floor:")]
    assert len(floors) == 4, floors
    quant = {r["mode"] for r in rows if r["component"].startswith("quantisation:")}
    assert quant == {"float", "int8 dynamic"}
    audio_us = 2048 / 44100 * 1e6  # the shipped model runs at 44.1 kHz; buffer 2048
    for r in rows:
        assert r["us_per_call_cpu"] > 0 and r["rtf_cpu"] > 0, r
        assert r["audio_us_per_call"] == pytest.approx(audio_us, rel=1e-6), r
        # the real-time factor is audio time over compute time (rounding aside)
        assert r["us_per_call_cpu"] * r["rtf_cpu"] == pytest.approx(audio_us, rel=0.05), r
    assert f"leaves {audio_us / 800:.1f} us per call" in out["verdict"]


def _rows(bare_us: float, fft_us: float, op_us: float = 3.0) -> list[dict]:
    audio_us = 2048 / 44100 * 1e6

    def row(name: str, us: float) -> dict:
        return {
            "component": name,
            "mode": "m",
            "us_per_call_cpu": us,
            "rtf_cpu": audio_us / us,
            "audio_us_per_call": audio_us,
        }

    return [
        row("floor: one trivial op (x + 1, 4 floats)", op_us),
        row("floor: rfft of 4 x 2048 samples", fft_us),
        row("floor: bare decoder (26 ops, no caches)", bare_us),
    ]


def test_verdict_follows_the_floors():
    # 800x at buffer 2048 and 44.1 kHz leaves 58.0 us per call
    assert "No TorchScript model" in bench.verdict(_rows(50.0, 20.0))
    assert "within the 800x budget" in bench.verdict(_rows(30.0, 20.0))
    assert "within the 100x budget" in bench.verdict(_rows(50.0, 20.0), goal=100.0)

"""The shipped violin model (models/ddsp_violin.ts) plays in nn~ inside pd -batch: the demo patch
patches/ddsp-violin-demo.pd (a melody made in Pd through [nn~ ../models/ddsp_violin forward]) is
opened as an abstraction, as scripts/demo.py does; its output is finite, not silent, and follows
the melody's pitch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from support.pdrun import REPO, external_dir, run_pd

MODEL = REPO / "models" / "ddsp_violin.ts"


@pytest.mark.skipif(not MODEL.exists(), reason="models/ddsp_violin.ts is not shipped")
def test_violin_demo_patch_plays_and_follows_pitch(tmp_path: Path) -> None:
    from nn_tilde.models.ddsp.features import analyze_offline

    inp, out = tmp_path / "in.wav", tmp_path / "out.wav"
    wrapper = tmp_path / "batch.pd"
    wrapper.write_text(
        "#N canvas 0 50 400 300 12;\n#X obj 10 10 ddsp-violin-demo;\n#X obj 10 40 loadbang;\n"
        "#X obj 10 70 delay 5050;\n"
        f"#X msg 10 100 \\; ddsp-demo-write symbol {out} "
        f"\\; ddsp-demo-write-in symbol {inp} \\; pd quit;\n"
        "#X connect 1 0 2 0;\n#X connect 2 0 3 0;\n"
    )
    p = run_pd(wrapper, extra=["-path", str(REPO / "patches")])
    log = p.stdout + p.stderr
    assert external_dir().exists()
    assert "error" not in log.lower() and "couldn't create" not in log, log
    x, _ = sf.read(inp, dtype="float32")
    y, _ = sf.read(out, dtype="float32")
    assert len(y) == 5 * 44100 and np.isfinite(y).all()
    assert np.sqrt(np.mean(y[44100:] ** 2)) > 0.01  # plays (after nn~'s and the model's latency)
    assert np.abs(y).max() <= 1.0
    import torch

    latency = int(torch.jit.load(str(MODEL)).forward_latency.item())
    lag = (2 * 2048 + latency) // 512  # nn~ buffering (2 x 2048) + the model's forward latency
    a, b = analyze_offline(x, 44100), analyze_offline(y, 44100)
    fa, fb = a["f0"][: len(a["f0"]) - lag], b["f0"][lag:]
    voiced_in = a["voiced"][: len(fa)] > 0
    both = voiced_in & (b["voiced"][lag:] > 0)
    assert both.sum() > 0.8 * voiced_in.sum()
    cents = np.abs(1200 * np.log2(fb[both] / fa[both]))
    assert np.median(cents) < 20, np.median(cents)

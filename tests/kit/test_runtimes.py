"""nn-tilde bench --runtimes: the same streaming model in TorchScript, ONNX Runtime and
AOTInductor, checked over successive calls. Exported as it is ("state inside"), ONNX and
AOTInductor drop the state between calls; with the state passed in and out ("explicit") they
match the eager model call after call. Figures only, no timing bounds."""

from __future__ import annotations

import pytest

from nn_tilde import cli
from nn_tilde.optimize import runtimes
from support import accel_models

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning"),
]


def test_explicit_state_is_exact_over_calls_and_state_inside_is_not():
    rows = runtimes.compare_runtimes(
        accel_models.ConvStack(), "forward", 1, 2048, 2048 / 44100, seconds=0.05
    )
    by = {(r.runtime, r.state): r for r in rows}
    assert all(r.ok for r in rows), [(r.runtime, r.state, r.error) for r in rows if not r.ok]
    assert by["torchscript", "module"].exact
    assert len(by["torchscript", "module"].max_diff_per_call) == runtimes.CALLS
    for runtime in ("onnxruntime", "aotinductor"):
        explicit, inside = by[runtime, "explicit"], by[runtime, "inside"]
        assert explicit.exact, explicit.max_diff_per_call
        assert len(explicit.max_diff_per_call) == runtimes.CALLS - 1
        # the first call starts from the traced state, so it is right; later ones are not
        assert inside.max_diff_per_call[0] <= runtimes.EXACT
        assert max(inside.max_diff_per_call[1:]) > 1e-3, inside.max_diff_per_call
        assert explicit.ms_per_call > 0 and explicit.speedup > 0


def test_runtimes_needs_the_python_model(tmp_path, capsys):
    path = accel_models.export("conv_stack", tmp_path)
    assert cli.main(["bench", "--runtimes", str(path)]) == 2
    assert "needs the Python model" in capsys.readouterr().err

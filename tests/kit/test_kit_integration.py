"""The kit with the project's streaming layers: a non-causal offline network converted by
`nn_tilde.streaming.to_streaming`, exported with its declared delay, passes `check`."""

from pathlib import Path

import pytest
import torch
from torch import nn

import nn_tilde
from nn_tilde.check.runner import CheckOptions, check_file

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


def test_streamed_noncausal_model_exports_and_passes(tmp_path: Path) -> None:
    streaming = pytest.importorskip("nn_tilde.streaming")
    torch.manual_seed(0)
    offline = nn.Sequential(
        nn.Conv1d(1, 4, 5, padding=2), nn.Tanh(), nn.Conv1d(4, 1, 5, padding=2)
    ).eval()
    stream = streaming.to_streaming(offline)
    delay = int(stream.delay)

    class Wrapped(nn_tilde.Module):
        def __init__(self) -> None:
            super().__init__(sr=44100)
            self.net = stream
            self.register_method("forward", 1, 1, 1, 1, latency=delay)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

        @torch.jit.export
        def reset(self) -> None:
            self.net.reset()

    path = tmp_path / "stream.ts"
    Wrapped().export_to_ts(path)
    report = check_file(path, CheckOptions.quick(speed=False))
    problems = [(f.status, f.check, f.message) for f in report.findings if f.status != "pass"]
    assert [p for p in problems if p[0] in ("warn", "fail")] == []
    latency = report.info["latency"]["forward"]
    # Two 5-tap centred convolutions: 4 samples of lookahead, streamed 4 samples late.
    assert delay == 4 and (latency["first_reaction"], latency["last_reaction"]) == (0, 8)
    # The streamed output equals the offline output shifted by the declared delay.
    x = torch.randn(1, 1, 2048)
    with torch.no_grad():
        want = offline(x)
    got = torch.jit.load(str(path))(x)
    torch.testing.assert_close(got[..., delay:], want[..., :-delay], atol=1e-5, rtol=1e-4)

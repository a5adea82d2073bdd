"""Latency probes, comparisons, timing and the bench recommendation, on tiny scripted models."""

import io
import math

import pytest
import torch
from torch import nn

from nn_tilde.bench.model import BenchOptions, format_table, run_bench
from nn_tilde.host import probe
from nn_tilde.host import timing as speed
from support import catalogue
from support import kit_models as km

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class Delay(nn.Module):
    def __init__(self, delay: int) -> None:
        super().__init__()
        self.line = km.StreamingDelay(1, delay)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.line(x)


class LookAhead(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(x, (0, 2))[..., 2:]


class Deaf(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class Threshold(nn.Module):
    """Causal 8-sample mean, gated at 0.1: a lone 0.5 impulse (mean 0.0625) stays silent."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.nn.functional.avg_pool1d(torch.nn.functional.pad(x, (7, 0)), 8, 1)
        return torch.relu(mean - 0.1)


class Hold(nn.Module):
    """decode-like: latents [B, 1, T/256] delayed one frame, held for 256 samples."""

    def __init__(self) -> None:
        super().__init__()
        self.line = km.StreamingDelay(1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.line(z).repeat_interleave(256, -1)


def _loader(module: nn.Module) -> probe.Loader:
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(module), buf)
    return probe.loader_from_bytes(buf.getvalue())


AUDIO = probe.MethodParams(1, 1, 1, 1)


@pytest.mark.parametrize("delay", [1, 37, 3000])
def test_impulse_measures_a_delay_line_exactly(delay: int) -> None:
    result = probe.measure_latency(_loader(Delay(delay)), "forward", AUDIO)
    assert (result.samples, result.probe, result.resolution) == (delay, "impulse", 1)


def test_lookahead_is_negative() -> None:
    assert probe.measure_latency(_loader(LookAhead()), "forward", AUDIO).samples == -2


def test_deaf_model_has_no_latency() -> None:
    result = probe.measure_latency(_loader(Deaf()), "forward", AUDIO, max_latency=1024)
    assert result.samples is None and "did not react" in result.note


def test_step_probe_when_impulse_is_too_small() -> None:
    result = probe.measure_latency(_loader(Threshold()), "forward", AUDIO)
    assert (result.samples, result.probe) == (1, "step")


def test_frame_rate_latency() -> None:
    result = probe.measure_latency(_loader(Hold()), "forward", probe.MethodParams(1, 256, 1, 1))
    assert (result.samples, result.resolution) == (256, 256)


def test_comparisons() -> None:
    nan, inf = math.nan, math.inf
    a = torch.tensor([1.0, nan, inf])
    assert probe.allclose(a, a.clone(), 1e-4)
    assert not probe.allclose(a, torch.tensor([1.0, 1.0, inf]), 1e-4)
    assert not probe.allclose(a, torch.tensor([1.0, nan, -inf]), 1e-4)
    assert not probe.allclose(torch.zeros(2), torch.zeros(3), 1e-4)
    assert probe.allclose(torch.tensor([100.0]), torch.tensor([100.05]), 1e-4)  # rtol 1e-3
    assert not probe.allclose(torch.tensor([1.0]), torch.tensor([1.01]), 1e-4)
    assert probe.max_abs_diff(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5])) == 0.5


def test_power_of_two_helpers() -> None:
    assert [n for n in range(1, 70) if probe.is_power_of_two(n)] == [1, 2, 4, 8, 16, 32, 64]
    assert [probe.next_power_of_two(n) for n in (1, 3, 64, 65)] == [1, 4, 64, 128]


def test_timing_late_share_follows_the_period() -> None:
    load = _loader(Delay(3))
    fast = speed.time_method(load, "forward", AUDIO, 256, 1, sample_rate=1, seconds=0.01)
    assert fast.late_share == 0.0 and fast.rtf < 1e-3
    assert fast.period_ms == pytest.approx(256_000.0)
    slow = speed.time_method(load, "forward", AUDIO, 256, 1, sample_rate=10**12, seconds=0.01)
    assert slow.late_share == 1.0 and slow.rtf > 1.0
    assert slow.calls >= 5 and slow.p50_ms <= slow.p99_ms <= slow.max_ms


def test_bench_recommends_nothing_when_nothing_keeps_up(tmp_path) -> None:
    path = catalogue.build("rawbase", tmp_path)
    impossible = BenchOptions(sample_rates=[10**12], buffers=[64], threads=[1], seconds=0.01)
    result = run_bench(path, impossible, lambda _m: None)
    assert result.recommendation == {"forward": None}
    assert "no tested setting keeps p99 under 70%" in format_table(result, 0.7)
    easy = BenchOptions(sample_rates=[8000, 48000], buffers=[64, 128], threads=[1], seconds=0.01)
    best = run_bench(path, easy, lambda _m: None).recommendation["forward"]
    assert (best["sample_rate"], best["buffer"]) == (48000, 64)  # lowest latency wins
    with pytest.raises(ValueError, match="no method 'decode'"):
        run_bench(path, BenchOptions(methods=["decode"]), lambda _m: None)


class Symmetric(nn.Module):
    """A streamed linear-phase FIR: 9 taps centred 4 samples late (lookahead 4, delay 4)."""

    def __init__(self) -> None:
        super().__init__()
        self.line = km.StreamingDelay(1, 8)
        self.register_buffer("taps", torch.tensor([1.0, 2, 3, 4, 5, 4, 3, 2, 1]).view(1, 1, 9))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        past = (
            torch.cat([self.line.state[:, :, -8:], x], -1)
            if self.line.state.shape[0] == x.shape[0]
            else torch.nn.functional.pad(x, (8, 0))
        )
        self.line(x)
        return torch.nn.functional.conv1d(past, self.taps)


def test_response_window_bounds_a_declared_alignment_delay() -> None:
    result = probe.measure_latency(_loader(Symmetric()), "forward", AUDIO)
    assert (result.first, result.samples, result.last) == (0, 4, 8)
    assert result.contradicts(4) is None and result.contradicts(0) is None
    assert "ends 8 samples" in (result.contradicts(9) or "")
    delayed = probe.measure_latency(_loader(Delay(5)), "forward", AUDIO)
    assert delayed.too_small(2) and "first reacts 5" in (delayed.contradicts(2) or "")
    assert not delayed.too_small(5)


class BlockMean(nn.Module):
    """An audio-rate method computed on whole 2048-sample blocks (like an autoencoder's forward
    with latent ratio 2048): each block's output is its input's mean, so an event anywhere in
    a block is answered from the block's first sample on."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.reshape(x.shape[0], x.shape[1], -1, 2048).mean(-1, keepdim=True)
        return b.expand(-1, -1, -1, 2048).reshape(x.shape)


def test_event_sits_where_a_host_buffer_starts() -> None:
    """The impulse goes at a multiple of the largest ratio of all methods (`block`), where a host
    buffer starts; in mid-block the method would seem to answer before the event."""
    result = probe.measure_latency(_loader(BlockMean()), "forward", AUDIO, block=2048)
    assert (result.first, result.last) == (0, 2047)
    assert result.contradicts(0) is None


class TaperedDelay(nn.Module):
    """A 5-sample delay, then a causal 7-tap filter whose first tap is 1e-9: the response starts
    at 5 (far below any sensible threshold), peaks at 8 and ends at 11."""

    def __init__(self) -> None:
        super().__init__()
        self.line = km.StreamingDelay(1, 5)
        self.register_buffer("taps", torch.tensor([[[1e-9, 1e-3, 0.2, 1.0, 0.2, 1e-3, 1e-9]]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.line(x)
        return torch.nn.functional.conv1d(torch.nn.functional.pad(y, (6, 0)), self.taps)


def test_first_reaction_counts_any_change() -> None:
    """The first reaction is the first output that changes at all, not the first above 1e-6."""
    result = probe.measure_latency(_loader(TaperedDelay()), "forward", AUDIO)
    assert (result.first, result.samples, result.last) == (5, 8, 11)
    assert not result.too_small(5)

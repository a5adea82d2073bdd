"""Export API: registration rules, extensions written to the file, validation failures."""

from pathlib import Path

import pytest
import torch

import nn_tilde
from nn_tilde import ExportError, contract
from support import kit_models as km

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


@pytest.fixture(scope="module")
def good_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return km.export_good(tmp_path_factory.mktemp("export") / "good.ts", ratio=1024)


def _load(path: Path) -> torch.jit.ScriptModule:
    return torch.jit.load(str(path))


def test_contract_is_written(good_file: Path) -> None:
    m = _load(good_file)
    assert m.get_methods() == ["forward", "encode", "decode"]
    assert m.forward_params.tolist() == [2, 1, 2, 1]
    assert m.encode_params.tolist() == [1, 1, 4, 1024]
    assert m.decode_params.tolist() == [4, 1024, 1, 1]
    assert m.forward_input_labels == ["(signal) L", "(signal) R"]
    assert len(m.encode_output_labels) == 4
    assert m.get_attributes() == ["gain", "everything"]
    assert m.gain_params.tolist() == [2]
    assert m.everything_params.tolist() == [0, 1, 2, 3, 4, 5]


def test_latency_declared_and_measured(good_file: Path) -> None:
    m = _load(good_file)
    assert m.forward_latency.tolist() == [3]
    assert m.encode_latency.tolist() == [0]
    # decode holds each latent frame for 1024 samples after a one-frame delay line.
    assert m.decode_latency.tolist() == [1024]


def test_model_rate_is_kept_apart_from_host_rate(good_file: Path) -> None:
    m = _load(good_file)
    assert m.get_sample_rate() == 44100
    assert m.set_sample_rate(48000) == 0
    assert m.get_sample_rate() == 48000
    assert m.get_model_sample_rate() == 44100


def test_metadata_records_torch_and_author(good_file: Path) -> None:
    meta = _load(good_file).get_metadata()
    assert meta["torch_version"] == torch.__version__
    assert meta["author"] == "tests"
    assert meta["licence"] == "CC0"


def test_embedded_test_vector_is_what_the_model_computes(good_file: Path) -> None:
    m = _load(good_file)
    x = m.forward_test_input
    assert x.shape[0] == 1 and x.shape[1] == 2 and x.abs().max() > 0.1
    # forward is a 3-sample delay times the gain 0.5, computed here independently.
    expected = torch.nn.functional.pad(x, (3, 0))[..., : x.shape[-1]] * 0.5
    assert torch.allclose(m.forward_test_output, expected, atol=1e-6)
    assert torch.allclose(_load(good_file).forward(x), expected, atol=1e-6)


def test_saved_file_starts_clean_after_warm_up(tmp_path: Path) -> None:
    model = km.GoodModel(ratio=256)
    with torch.no_grad():
        model(torch.ones(1, 2, 512))  # leaves the delay line full of ones
    path = tmp_path / "warm.ts"
    model.export_to_ts(path, fresh_process=False)
    y = _load(path).forward(torch.zeros(1, 2, 8))
    assert y.abs().max().item() == 0.0


@pytest.mark.parametrize("user_warm_up", [True, False])
def test_cached_conv_state_reset(tmp_path: Path, user_warm_up: bool) -> None:
    cc = pytest.importorskip("cached_conv")
    cc.use_cached_conv(True)
    try:
        conv = cc.CachedConv1d(1, 1, 5, padding=(4, 0), bias=False)
    finally:
        cc.use_cached_conv(False)
    torch.nn.init.constant_(conv.weight, 0.2)

    class Conv(nn_tilde.Module):
        def __init__(self) -> None:
            super().__init__(sr=16000)
            self.conv = conv
            self.register_method("forward", 1, 1, 1, 1, latency="auto")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x)

    model = Conv()
    if user_warm_up:  # creates and fills the cache; without it, export's own warm-up creates it
        with torch.no_grad():
            model(torch.ones(1, 1, 64))
    path = tmp_path / "conv.ts"
    model.export_to_ts(path, fresh_process=False)
    m = _load(path)
    assert m(torch.zeros(1, 1, 16)).abs().max().item() == 0.0
    # Causal 5-tap kernel with left padding 4: the first tap answers immediately.
    assert m.forward_latency.tolist() == [0]


def test_no_files_written_into_the_package(tmp_path: Path) -> None:
    package = Path(nn_tilde.__file__).parent
    before = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    km.export_good(tmp_path / "x.ts", ratio=256)
    after = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ts"]


class _Wrong(nn_tilde.Module):
    def __init__(self, out_len_offset: int = 0, latency: int | None = None) -> None:
        super().__init__()
        self.offset = out_len_offset
        self.delay = km.StreamingDelay(1, 3)
        self.register_method("forward", 1, 1, 1, 1, test_method=False, latency=latency)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.delay(x)
        if self.offset > 0:
            y = torch.nn.functional.pad(y, (0, self.offset))
        return y


def test_export_refuses_wrong_output_length(tmp_path: Path) -> None:
    """In the words of the rule nn~ refuses the file by (call.shape)."""
    with pytest.raises(ExportError) as info:
        _Wrong(out_len_offset=1).export_to_ts(tmp_path / "bad.ts", buffer_sizes=[256])
    fields = {"method": "forward", "got": [1, 1, 257], "input": [1, 1, 256], "want": [1, 1, 256]}
    assert str(info.value).startswith(contract.message("call.shape", **fields))
    assert "(buffer 256, batch 1)" in str(info.value)
    assert list(tmp_path.iterdir()) == []


class _NaNOnSilence(nn_tilde.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_method("forward", 1, 1, 1, 1, test_method=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / x


class _SetterRefuses(nn_tilde.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_method("forward", 1, 1, 1, 1, test_method=False)
        self.register_attribute("gain", 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def set_gain(self, gain: float) -> int:
        return 1


def test_export_refuses_what_nn_tilde_would_change_in_the_rules_words(tmp_path: Path) -> None:
    """NaN on silence (nn~ plays it, zeroed) and a setter that refuses its getter's value (the
    checker's hint): the kit writes neither, and says why in the rule's words."""
    with pytest.raises(ExportError) as info:
        _NaNOnSilence().export_to_ts(tmp_path / "nan.ts", fresh_process=False)
    assert str(info.value).startswith(contract.message("call.nonfinite", method="forward"))
    with pytest.raises(ExportError) as info:
        _SetterRefuses().export_to_ts(tmp_path / "setter.ts", fresh_process=False)
    problem = "set_gain(*get_gain()) returned 1; a setter must accept the value its getter reports"
    words = contract.message("attribute.behaviour", attribute="gain", problem=problem)
    assert str(info.value).startswith(words)
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_wrong_declared_latency(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="declared latency 1 samples but measured 3"):
        _Wrong(latency=1).export_to_ts(tmp_path / "bad.ts")
    assert list(tmp_path.iterdir()) == []


def test_register_method_rules() -> None:
    model = _Wrong()
    with pytest.raises(ValueError, match="not a power of two"):
        model.register_method("forward", 1, 3, 1, 1, test_method=False)
    with pytest.raises(ValueError) as info:
        model.register_method("forward", 1, 3, 1, 1, test_method=False)
    assert contract.message("ratio.pow2", method="forward", ratio=3) in str(info.value)
    with pytest.raises(ValueError, match="got 2, give one label") as info:
        model.register_method("forward", 1, 1, 1, 1, input_labels=["a", "b"], test_method=False)
    key = "forward_input_labels"
    assert contract.message("labels.invalid", key=key, count=1) in str(info.value)
    with pytest.raises(ValueError, match="got 0, give one label") as info:
        model.register_method("forward", 1, 1, 1, 1, output_labels=[], test_method=False)
    key = "forward_output_labels"
    assert contract.message("labels.invalid", key=key, count=1) in str(info.value)
    with pytest.raises(ValueError, match="not defined"):
        model.register_method("missing", 1, 1, 1, 1)
    with pytest.raises(ValueError, match="returned"):
        _Wrong(out_len_offset=2).register_method("forward", 1, 1, 1, 1)


def test_register_attribute_rules() -> None:
    model = _Wrong()
    with pytest.raises(TypeError, match="got list"):
        model.register_attribute("bad", [[1, 2]])
    with pytest.raises(ValueError, match="reserved"):
        model.register_attribute("sr", 3)
    with pytest.raises(ValueError, match="not a Python identifier"):
        model.register_attribute("my attr", 3)


def test_export_without_methods_fails(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no method registered"):
        nn_tilde.Module().export_to_ts(tmp_path / "empty.ts")


def test_attributes_roundtrip_in_file(good_file: Path) -> None:
    m = _load(good_file)
    got = m.get_everything()
    assert got[:4] == (True, 3, 0.25, "hello")
    assert torch.equal(got[4], torch.ones(2)) and got[5] == "Buffer(empty)"
    assert m.set_everything(False, 7, 0.5, "bye", torch.zeros(3), "") == 0
    got = m.get_everything()
    assert got[:4] == (False, 7, 0.5, "bye") and torch.equal(got[4], torch.zeros(3))
    assert m.get_buffer_attributes() == ["everything#5"]
    assert m.is_buffer_empty("everything#5")
    assert m.set_buffer_attribute("everything#5", torch.ones(1, 100), 48000) == 0
    assert not m.is_buffer_empty("everything#5")
    assert m.get_everything()[5] == "Buffer(samples=100, sr=48000)"
    assert m.set_buffer_attribute("nope#0", torch.ones(1, 10), 48000) == -1
    m.clear_buffer_attribute("everything#5")
    assert m.is_buffer_empty("everything#5")
    assert m.set_gain(0.25) == 0
    x = torch.zeros(1, 2, 8)
    x[..., 0] = 1.0
    assert m.forward(x)[0, 0, 3].item() == pytest.approx(0.25)


class _Noisy(nn_tilde.Module):
    """RAVE-style decode: latents plus fresh noise from torch's RNG, held for 64 samples."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        self.register_method("decode", 2, 64, 1, 1, latency="auto")

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        z = z + 0.1 * torch.randn_like(z)
        return torch.tanh(z.sum(1, keepdim=True)).repeat_interleave(64, -1)


def test_rng_method_exports_with_a_seeded_test_vector(tmp_path: Path) -> None:
    from nn_tilde.check.runner import CheckOptions, check_file

    path = tmp_path / "noisy.ts"
    _Noisy().export_to_ts(path, fresh_process=False)
    m = _load(path)
    assert m.decode_latency.tolist() == [0]
    torch.manual_seed(0)
    again = m.decode(m.decode_test_input)
    torch.testing.assert_close(again, m.decode_test_output)
    torch.manual_seed(1)
    assert not torch.allclose(_load(path).decode(m.decode_test_input), m.decode_test_output)
    report = check_file(path, CheckOptions.quick(speed=False))
    assert [(f.status, f.check) for f in report.findings if f.status in ("warn", "fail")] == []
    assert [f.status for f in report.find("random", "decode")] == ["pass"]
    assert [f.status for f in report.find("test_vector")] == ["pass"]


class _Convolver(nn_tilde.Module):
    """forward scales x by the mean of a host-sent buffer (1 when no buffer is set)."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        self.register_attribute("impulse", nn_tilde.Buffer(max_samples=1000))
        self.register_method("forward", 1, 1, 1, 1, latency=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        buffer = self.impulse[0]
        if buffer.has_value:
            return x * buffer.get_value().mean()
        return x


def test_buffer_attribute_reaches_the_model(tmp_path: Path) -> None:
    from nn_tilde.check.runner import CheckOptions, check_file

    path = tmp_path / "conv.ts"
    _Convolver().export_to_ts(path, fresh_process=False)
    m = _load(path)
    x = torch.ones(1, 1, 4)
    assert torch.equal(m(x), x)
    assert m.set_buffer_attribute("impulse#0", torch.full((1, 10), 0.25), 22050) == 0
    assert torch.equal(m(x), x * 0.25)
    assert m.get_impulse() == ("Buffer(samples=10, sr=22050)",)
    assert m.set_buffer_attribute("impulse#0", torch.ones(1, 2000), 22050) == -1  # max_samples
    m.clear_buffer_attribute("impulse#0")
    assert torch.equal(m(x), x)
    report = check_file(path, CheckOptions.quick(speed=False))
    assert report.status_of() == "pass"
    assert [f.status for f in report.find("attribute.buffer")] == ["pass"]


class _OwnState(nn_tilde.Module):
    """Keeps a running sum in a buffer of the root module, cleared by its own reset()."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        self.register_buffer("total", torch.zeros(1))
        self.register_method("forward", 1, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cumsum(x, -1) + self.total
        self.total = y[..., -1].reshape(-1)[:1].clone()
        return y * 0.0 + self.total

    @torch.jit.export
    def reset(self) -> None:
        self.total = torch.zeros(1)


def test_root_reset_is_called_before_saving(tmp_path: Path) -> None:
    model = _OwnState()
    with torch.no_grad():
        model(torch.ones(1, 1, 100))
    assert model.total.item() > 0
    path = tmp_path / "own.ts"
    model.export_to_ts(path, validate=False, test_vectors=False, fresh_process=False)
    assert _load(path).total.item() == 0.0


class _ZeroPadded(nn_tilde.Module):
    """Offline-only: a 2-sample delay by zero padding inside each call (clicks when streamed)."""

    def __init__(self) -> None:
        super().__init__(sr=44100)
        self.register_method("forward", 1, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(x, (2, 0))[..., : x.shape[-1]]


def test_export_warns_about_non_streaming_models(tmp_path: Path) -> None:
    report = _ZeroPadded().export_to_ts(tmp_path / "pad.ts", fresh_process=False)
    assert any("not streaming-safe" in n for n in report.notes)
    assert (tmp_path / "pad.ts").exists()  # warned, not refused (reference scripts keep working)
    clean = km.GoodModel(ratio=256).export_to_ts(tmp_path / "good.ts", fresh_process=False)
    assert not any("streaming" in n for n in clean.notes)
    noisy = _Noisy().export_to_ts(tmp_path / "noisy.ts", fresh_process=False)
    assert noisy.notes == []

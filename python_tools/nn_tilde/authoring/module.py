"""`nn_tilde.Module`: wrap a PyTorch model with the methods and attributes nn~ calls.

Source-compatible with the reference nn_tilde package (`register_method`, `register_attribute`,
`export_to_ts`, `Buffer`), plus optional extensions described in docs/MODEL_FORMAT.md: declared
latency, the model's own sample rate, metadata and embedded test vectors.
"""

import keyword
import logging
from collections.abc import Sequence
from pathlib import Path
from types import MethodType
from typing import Any, Dict, List, Optional, Tuple, Union

import torch

from nn_tilde import contract
from nn_tilde.authoring import codegen as _codegen
from nn_tilde.authoring.base import ExportReport
from nn_tilde.authoring.buffer import Buffer
from nn_tilde.contract import is_power_of_two
from nn_tilde.host import read

log = logging.getLogger(__name__)

LATENCY_AUTO = "auto"


def _check_name(kind: str, name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"{kind} name {name!r} is not a Python identifier; nn~ calls it as a TorchScript "
            f"method, so use letters, digits and underscores only"
        )


class Module(torch.nn.Module):
    """Base class for models played by nn~.

    Subclass it, build the network in `__init__`, write each audio method as a
    `@torch.jit.export` function taking and returning one float tensor x: [B, C, T],
    then call `register_method` for each, `register_attribute` for settable state, and
    `export_to_ts(path)`.

    Args:
        sr: operative sample rate (what the host sets with `set_sample_rate`); -1 when unknown.
        model_sample_rate: the rate the model was trained at (extension; defaults to `sr`).
        metadata: free-form strings stored in the file (name, author, licence, ...).
    """

    __reserved_attribute_names__ = ["sr"]

    # Class-level annotations give TorchScript the types of (possibly empty) containers.
    _methods: List[str]
    _attributes: List[str]
    _buffer_attributes: List[str]
    _nn_metadata: Dict[str, str]
    _model_sample_rate: int
    sr: int

    def __init__(
        self,
        sr: Optional[int] = None,
        *,
        model_sample_rate: Optional[int] = None,
        metadata: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__()
        self._methods = []
        self._attributes = []
        self._buffer_attributes = []
        self._nn_metadata = dict(metadata or {})
        self._model_sample_rate = -1 if model_sample_rate is None else int(model_sample_rate)
        self.sr = -1 if sr is None else int(sr)
        self._auto_latency: List[str] = []
        self._ready = False

    # ----------------------------------------------------------------- registration
    def register_method(
        self,
        method_name: str,
        in_channels: int,
        in_ratio: int,
        out_channels: int,
        out_ratio: int,
        input_labels: Optional[Sequence[str]] = None,
        output_labels: Optional[Sequence[str]] = None,
        test_method: bool = True,
        test_buffer_size: int = 8192,
        latency: Union[int, str, None] = None,
    ) -> None:
        """Declare `method_name` as an nn~ method.

        The method maps x: [B, in_channels, N // in_ratio] to [B, out_channels, N // out_ratio]
        for a host buffer of N samples. Ratios must be powers of two.

        Args:
            input_labels / output_labels: one label per channel (default "(signal) ...").
            test_method: call the method once now with a buffer of `test_buffer_size` samples.
            latency: extension; delay in host samples between input and output, or "auto" to
                have `export_to_ts` measure it. None leaves it undeclared.
        """
        _check_name("method", method_name)
        if not callable(getattr(self, method_name, None)):
            raise ValueError(
                f'method "{method_name}" is not defined on {type(self).__name__}; '
                f"define it (decorated with @torch.jit.export) before registering it"
            )
        values = [in_channels, in_ratio, out_channels, out_ratio]
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
            raise ValueError(
                f'method "{method_name}": channels and ratios must be positive ints, got {values}'
            )
        _, problems = contract.read_params(method_name, values)
        for problem in problems:  # nn~'s rules (docs/MODEL_FORMAT.md), in nn~'s words
            if problem.verdict == contract.REFUSE:
                raise ValueError(f"{problem.message} (nn~ would refuse the file)")
        for what, ratio in (("in_ratio", in_ratio), ("out_ratio", out_ratio)):
            # nn~ plays other ratios (a warning), the reference nn~ does not: the kit writes files
            # both play
            if not is_power_of_two(ratio):
                words = contract.message("ratio.pow2", method=method_name, ratio=ratio)
                raise ValueError(
                    f"{words}; the kit writes files both play, so pick a power of two for "
                    f"{what}, e.g. {1 << (ratio.bit_length() - 1)}"
                )
        if input_labels is None:
            input_labels = [f"(signal) model input {i}" for i in range(in_channels)]
        if output_labels is None:
            output_labels = [f"(signal) model output {i}" for i in range(out_channels)]
        input_labels, output_labels = list(input_labels), list(output_labels)
        for side, labels, count in (
            ("input", input_labels, in_channels),
            ("output", output_labels, out_channels),
        ):
            key = f"{method_name}_{side}_labels"
            problem = contract.labels_problem(key, labels, count)
            if problem is not None:  # nn~ would ignore them; the kit writes none it ignores
                raise ValueError(
                    f"{problem.message} by nn~: got {len(labels)}, give one label (a str) per "
                    f"{side} channel"
                )
        self.register_buffer(f"{method_name}_params", torch.tensor(values))
        setattr(self, f"{method_name}_input_labels", input_labels)
        setattr(self, f"{method_name}_output_labels", output_labels)
        if latency == LATENCY_AUTO:
            self._auto_latency.append(method_name)
        elif latency is not None:
            if not isinstance(latency, int) or latency < 0:
                raise ValueError(
                    f'method "{method_name}": latency must be a non-negative int of host '
                    f'samples or "auto", got {latency!r}'
                )
            self.register_buffer(f"{method_name}_latency", torch.tensor([latency]))
        if test_method:
            self._test_call(method_name, values, test_buffer_size)
        if method_name not in self._methods:
            self._methods.append(method_name)

    def _test_call(self, name: str, values: List[int], buffer_size: int) -> None:
        """nn~'s load-time call on the live module (nn_tilde.host.read.read_call): an exception
        propagates as it is; a wrong type, shape or dtype is refused in the rule's words."""
        params = contract.MethodParams(*values)
        size = max(buffer_size, params.in_ratio, params.out_ratio)
        result = read.read_call(self, name, params, size)
        if result.error is not None:
            raise result.error
        for problem in result.problems:
            if problem.rule in ("call.type", "call.shape"):
                raise ValueError(
                    f"{problem.message} (a {size}-sample buffer); fix the method or the "
                    f"channels/ratios given to register_method"
                )
            if problem.rule == "call.dtype":
                raise ValueError(f"{problem.message}; return float32 (call .float())")

    def register_attribute(self, attribute_name: str, values: Union[Any, Tuple[Any, ...]]) -> None:
        """Declare a settable attribute; stored as a tuple in `self.<attribute_name>`.

        values: one default (bool, int, float, str, torch.Tensor or Buffer) or a tuple of them.
        A getter `get_<name>()` and a setter `set_<name>(v0, ...) -> int` are generated unless
        the subclass defines its own.
        """
        _check_name("attribute", attribute_name)
        if attribute_name in self.__reserved_attribute_names__:
            raise ValueError(f"attribute name {attribute_name!r} is reserved; choose another")
        items = list(values) if isinstance(values, (list, tuple)) else [values]
        if not items:
            raise ValueError(f"attribute {attribute_name!r} needs at least one default value")
        codes = [_codegen.type_code(v) for v in items]
        setattr(self, attribute_name, tuple(items))
        if attribute_name not in self._attributes:
            self._attributes.append(attribute_name)
        for i, code in enumerate(codes):
            if code == _codegen.TYPE_HASH[Buffer]:
                self._buffer_attributes.append(f"{attribute_name}#{i}")
        self.register_buffer(f"{attribute_name}_params", torch.tensor(codes, dtype=torch.long))

    def set_metadata(self, **fields: str) -> None:
        """Store free-form metadata (name, author, description, licence, training_data, ...)."""
        for key, value in fields.items():
            self._nn_metadata[key] = str(value)

    # ----------------------------------------------------------------- exported API
    @torch.jit.export
    def get_methods(self) -> List[str]:
        return self._methods

    @torch.jit.export
    def get_attributes(self) -> List[str]:
        return self._attributes

    @torch.jit.export
    def get_buffer_attributes(self) -> List[str]:
        return self._buffer_attributes

    @torch.jit.export
    def get_sample_rate(self) -> int:
        return self.sr

    @torch.jit.export
    def set_sample_rate(self, sample_rate: int) -> int:
        """Operative rate chosen by the host; never changes `get_model_sample_rate()`."""
        self.sr = sample_rate
        return 0

    @torch.jit.export
    def get_model_sample_rate(self) -> int:
        """Extension: the rate the model was trained at (-1 when unknown)."""
        return self._model_sample_rate

    @torch.jit.export
    def get_metadata(self) -> Dict[str, str]:
        """Extension: free-form strings, always including `torch_version`."""
        return self._nn_metadata

    # ----------------------------------------------------------------- finishing
    def __prepare_scriptable__(self) -> "Module":
        if not self._ready:
            self.finish()
        return self

    def finish(self) -> None:
        """Build generated getters, setters and buffer-attribute methods (idempotent)."""
        if self._ready:
            return
        if self.sr is None:  # RAVE-style scripts may assign self.sr directly
            self.sr = -1
        self.sr = int(self.sr)
        if self._model_sample_rate == -1 and self.sr > 0:
            self._model_sample_rate = self.sr
        self._nn_metadata.setdefault("torch_version", torch.__version__)
        self._nn_metadata.setdefault("writer", "nn_tilde kit")
        self._nn_metadata["format_extensions"] = "1"
        for name in self._attributes:
            codes = [int(c) for c in getattr(self, f"{name}_params").tolist()]
            if not hasattr(self, f"get_{name}"):
                self._bind(f"get_{name}", _codegen.getter_source(name, codes))
            if not hasattr(self, f"set_{name}"):
                self._bind(f"set_{name}", _codegen.setter_source(name, codes))
        names = list(self._buffer_attributes)
        for fname, source in (
            ("set_buffer_attribute", _codegen.set_buffer_attribute_source(names)),
            ("clear_buffer_attribute", _codegen.clear_buffer_attribute_source(names)),
            ("is_buffer_empty", _codegen.is_buffer_empty_source(names)),
        ):
            if fname not in type(self).__dict__:
                self._bind(fname, source)
        self._ready = True

    def _bind(self, name: str, source: str) -> None:
        setattr(self, name, MethodType(_codegen.compile_function(source, name), self))

    def export_to_ts(
        self,
        path: Union[str, Path],
        *,
        validate: bool = True,
        test_vectors: bool = True,
        fresh_process: bool = True,
        buffer_sizes: Optional[Sequence[int]] = None,
    ) -> ExportReport:
        """Script, validate, save to `path`, reload from disk and compare.

        Raises `ExportError` (naming the rule and the fix) when a check fails; the file is only
        left at `path` when every check passed. See `nn_tilde.authoring.export.export_module`.
        """
        from nn_tilde.authoring.export import export_module

        return export_module(
            self,
            Path(path),
            validate=validate,
            test_vectors=test_vectors,
            fresh_process=fresh_process,
            buffer_sizes=buffer_sizes,
        )

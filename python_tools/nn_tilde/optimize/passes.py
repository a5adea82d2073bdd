"""The optimisation passes of `nn-tilde optimize`: each turns a loaded nn~ model file into a
variant that nn~'s libtorch runs (TorchScript in, TorchScript out), or says why it cannot.

All passes keep the nn~ contract: every method of the file (nn~'s, the accessors, `reset`) and
every top-level attribute nn~ or the checker reads (`<m>_params`, labels, latencies, test
vectors, attribute values, metadata) are preserved, so the variant loads in nn~ like the original.

- `freeze`: `torch.jit.freeze` (weights and constant attributes folded into the graphs; state
  that a method changes stays an attribute, so streaming still works).
- `freeze+ofi`: then `torch.jit.optimize_for_inference` (operator fusion, MKLDNN conversions of
  convolutions where it pays on this CPU).
- `int8-dynamic`: TorchScript graph-mode dynamic quantization of linear layers (int8 weights,
  activations quantized per call from their range). The only dynamic path left for a file
  without its Python code; `torch.ao.quantization.quantize_dynamic` needs the eager module.
- `int8-static`: graph-mode static quantization (convolutions and linear layers, int8 weights
  and activations with scales calibrated once on audio) through observers, calibration calls,
  then conversion.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from nn_tilde.host import probe, read

log = logging.getLogger(__name__)

# Top-level attributes nn~ and the kit read besides the per-method and per-attribute ones.
_KNOWN_ATTRIBUTES = (
    "_nn_metadata",
    "sr",
    "_model_sample_rate",
    "_methods",
    "_attributes",
    "_buffer_attributes",
)
_PER_METHOD = ("params", "latency", "input_labels", "output_labels", "test_input", "test_output")


class PassError(Exception):
    """A pass does not apply to this model; the message says why (shown in the report)."""


@dataclass
class Variant:
    """One candidate file: the passes that made it and its TorchScript bytes (None if a pass
    failed, with the reason in `error`)."""

    name: str
    passes: list[str]
    data: bytes | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def load(self) -> torch.jit.ScriptModule:
        if self.data is None:
            raise PassError(self.error or "no file")
        return probe.loader_from_bytes(self.data)()


def _to_bytes(model: torch.jit.ScriptModule) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(model, buf)
    return buf.getvalue()


def top_level_attributes(model: torch.jit.ScriptModule) -> list[str]:
    """Names of the attributes and buffers nn~ or the checker may read on the top module."""
    names: list[str] = []
    methods = read.read_methods(model).names
    attributes: list[str] = []
    if probe.has_method(model, "get_attributes"):
        listed = model.get_attributes()
        if isinstance(listed, (list, tuple)):
            attributes = [a for a in listed if isinstance(a, str) and a != "none"]
    candidates = [f"{m}_{suffix}" for m in methods for suffix in _PER_METHOD]
    candidates += [a for a in attributes] + [f"{a}_params" for a in attributes]
    candidates += list(_KNOWN_ATTRIBUTES)
    # plus whatever else the module object exposes (buffers, plain attributes; not submodules)
    candidates += [n for n in dir(model) if not n.startswith("__")]
    for name in candidates:
        if name in names or not model._c.hasattr(name):
            continue
        if isinstance(getattr(model, name), torch.jit.ScriptModule):
            continue
        names.append(name)
    return names


def preserved(model: torch.jit.ScriptModule) -> list[str]:
    """What freezing must keep: every method and every top-level attribute."""
    return list(model._c._method_names()) + top_level_attributes(model)


def _reset(model: torch.jit.ScriptModule) -> None:
    if probe.has_method(model, "reset"):
        model.reset()


def freeze(model: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
    model.eval()
    return torch.jit.freeze(model, preserved_attrs=preserved(model))


def freeze_optimize(model: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
    frozen = freeze(model)
    others = [m for m in frozen._c._method_names() if m != "forward"]
    if not probe.has_method(frozen, "forward"):
        raise PassError("optimize_for_inference needs a forward method")
    return torch.jit.optimize_for_inference(frozen, other_methods=others)


def _audio_methods(model: torch.jit.ScriptModule) -> list[str]:
    return [m for m in read.read_methods(model).names if probe.has_method(model, m)]


def _quantized_ops(model: torch.jit.ScriptModule, methods: Sequence[str]) -> int:
    """Quantized operators in the methods' graphs (0: the pass found nothing to quantize)."""
    count = 0
    for m in methods:
        graph = str(model._c._get_method(m).graph)
        count += graph.count("quantized::") + graph.count("aten::quantize_per_tensor")
    return count


def quantize(
    model: torch.jit.ScriptModule,
    dynamic: bool,
    calibration: Callable[[torch.jit.ScriptModule, str], None] | None = None,
) -> torch.jit.ScriptModule:
    """Graph-mode int8 quantization of every nn~ method of `model`.

    Observers are inserted method by method; for static quantization `calibration(model, m)`
    then makes calls of method m (on a fresh stream) so the observers see its activations.
    Raises PassError when TorchScript's passes refuse the model or quantize nothing."""
    from torch.ao.quantization import default_dynamic_qconfig, get_default_qconfig
    from torch.ao.quantization.quant_type import QuantType
    from torch.ao.quantization.quantize_jit import fuse_conv_bn_jit, script_qconfig_dict
    from torch.jit._recursive import wrap_cpp_module

    model.eval()
    keep = preserved(model)
    methods = _audio_methods(model)
    kind = QuantType.DYNAMIC if dynamic else QuantType.STATIC
    qconfig = default_dynamic_qconfig if dynamic else get_default_qconfig("x86")
    qconfig_dict = script_qconfig_dict({"": qconfig})
    try:
        model = fuse_conv_bn_jit(model)
        c = model._c
        for m in methods:
            c = torch._C._jit_pass_insert_observers(c, m, qconfig_dict, False, kind)
        model = wrap_cpp_module(c)
        if not dynamic:
            if calibration is None:
                raise PassError("static quantization needs calibration audio")
            with torch.no_grad():
                for m in methods:
                    _reset(model)
                    calibration(model, m)
            _reset(model)
        c = model._c
        for m in methods:
            c = torch._C._jit_pass_insert_quant_dequant(c, m, False, False, kind)
        c = torch._C._jit_pass_quant_finalize(c, kind, keep)
        model = wrap_cpp_module(c)
    except PassError:
        raise
    except Exception as exc:  # TorchScript's passes: long messages, the first line says it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PassError(f"TorchScript quantization refused the model: {first}") from exc
    if _quantized_ops(model, methods) == 0:
        what = "linear layers" if dynamic else "convolutions or linear layers"
        raise PassError(f"nothing quantized: TorchScript found no {what} it can quantize")
    return model


@dataclass
class PassSpec:
    name: str
    passes: list[str]
    run: Callable[[torch.jit.ScriptModule], torch.jit.ScriptModule]


def pass_specs(
    calibration: Callable[[torch.jit.ScriptModule, str], None] | None,
) -> list[PassSpec]:
    """The variants tried, in order (the original first)."""
    return [
        PassSpec("original", [], lambda m: m),
        PassSpec("frozen", ["freeze"], freeze),
        PassSpec("frozen+ofi", ["freeze", "optimize_for_inference"], freeze_optimize),
        PassSpec("int8-dynamic", ["int8_dynamic(linear)", "freeze"], lambda m: quantize(m, True)),
        PassSpec(
            "int8-static",
            ["int8_static(conv,linear; calibrated)", "freeze"],
            lambda m: quantize(m, False, calibration),
        ),
    ]


def make_variants(
    data: bytes,
    calibration: Callable[[torch.jit.ScriptModule, str], None] | None = None,
    only: Sequence[str] | None = None,
) -> list[Variant]:
    """Every pass applied to a fresh load of `data` (a file's bytes); failures are kept as
    variants with an error, so the report says what did not apply and why."""
    variants = []
    for spec in pass_specs(calibration):
        if only is not None and spec.name not in only and spec.name != "original":
            continue
        variant = Variant(spec.name, spec.passes)
        try:
            model = probe.loader_from_bytes(data)()
            out = spec.run(model)
            _reset(out)
            variant.data = data if spec.name == "original" else _to_bytes(out)
        except PassError as exc:
            variant.error = str(exc)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            variant.error = f"{type(exc).__name__}: {first}"
        if variant.error:
            log.info("variant %s: %s", spec.name, variant.error)
        variants.append(variant)
    return variants


PASS_NAMES = [s.name for s in pass_specs(None)]

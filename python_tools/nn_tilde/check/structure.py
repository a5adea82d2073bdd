"""Contract checks: does the file expose what an nn~ host calls, with the right types?

Each function adds findings to a `Report`; check ids are stable (tests and CI rely on them).
"""

import re
import zipfile
from pathlib import Path

import torch

from nn_tilde.check.report import FAIL, MODEL, PASS, SKIP, WARN, Report
from nn_tilde.host import probe

TYPE_NAMES = {0: "bool", 1: "int", 2: "float", 3: "str", 4: "tensor", 5: "buffer"}
_PY_TYPES = {0: (bool,), 1: (int,), 2: (float, int), 3: (str,), 4: (torch.Tensor,), 5: (str,)}


def archive_info(path: Path) -> dict[str, str]:
    """Archive-level facts: the serialization format version torch wrote."""
    info: dict[str, str] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.count("/") == 1 and name.endswith("/version"):
                    info["archive_format_version"] = z.read(name).decode().strip()
    except (zipfile.BadZipFile, OSError):
        pass
    return info


def _version_tuple(version: str) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_torch_version(report: Report, model: torch.jit.ScriptModule, host: str) -> None:
    """Compare the torch version that wrote the file (extension metadata) with the host's."""
    report.info["torch_host"] = host
    written = None
    if probe.has_method(model, "get_metadata"):
        try:
            written = dict(model.get_metadata()).get("torch_version")
        except Exception as exc:
            report.add(
                FAIL, "metadata", f"get_metadata() raised {exc}; it must return Dict[str, str]"
            )
    report.info["torch_file"] = written or "unknown"
    if not written:
        report.add(
            WARN,
            "torch_version",
            f"the file does not record which torch wrote it; if it was newer than the host's "
            f"libtorch {host} it may load and output silence. Re-export with nn_tilde.Module "
            f"(records it) to be sure",
        )
        return
    w, h = _version_tuple(written), _version_tuple(host)
    if w is None or h is None:
        report.add(WARN, "torch_version", f"cannot compare torch versions {written!r} and {host!r}")
    elif w > h:
        report.add(
            FAIL,
            "torch_version",
            f"written by torch {written}, newer than the host's libtorch {host}: newer operators "
            f"can load and then output silence. Re-export with torch {h[0]}.{h[1]}",
        )
    elif w[0] != h[0]:
        report.add(WARN, "torch_version", f"written by torch {written}, host runs {host}")
    else:
        report.add(PASS, "torch_version", f"written by torch {written}, host libtorch {host}")


# Streaming caches of cached_conv (the library RAVE uses), by TorchScript class name.
_CACHE_BUFFERS = {"CachedPadding1d": "pad", "CachedConvTranspose1d": "cache"}


def check_clean_state(report: Report, model: torch.jit.ScriptModule) -> None:
    """Warn when the file was saved with non-zero streaming caches (a warm-up left them)."""
    dirty = []
    for name, sub in model.named_modules():
        buffer = _CACHE_BUFFERS.get(getattr(sub, "original_name", ""))
        if buffer is None or not sub._c.hasattr(buffer):
            continue
        value = getattr(sub, buffer)
        if isinstance(value, torch.Tensor) and value.numel() and bool(value.abs().max() > 0):
            dirty.append(f"{name}.{buffer}" if name else buffer)
    if dirty:
        report.add(
            WARN,
            "clean_state",
            f"saved with non-zero streaming caches ({', '.join(dirty[:3])}"
            f"{', ...' if len(dirty) > 3 else ''}): the first buffer after loading carries "
            f"the exporter's warm-up. Zero them before saving (nn_tilde.Module.export_to_ts "
            f"does)",
        )


def check_methods(report: Report, model: torch.jit.ScriptModule) -> dict[str, probe.MethodParams]:
    """Methods list, `<m>_params` with four positive values, power-of-two ratios, labels."""
    if probe.has_method(model, "get_methods"):
        names = probe.method_names(model)
        report.add(PASS, "contract.methods", f"get_methods() lists {names}")
    else:
        names = probe.method_names(model)
        report.add(
            WARN,
            "contract.methods",
            f"no get_methods(); discovered {names} from <method>_params buffers. Export "
            f"get_methods() -> List[str] so every host finds the same methods",
        )
    if not names:
        report.add(FAIL, "contract.methods", "no nn~ method found; register at least one method")
    good: dict[str, probe.MethodParams] = {}
    for name in names:
        if not probe.has_method(model, name):
            report.add(
                FAIL,
                "contract.method",
                f'"{name}" is listed but the file has no such method; '
                f"decorate it with @torch.jit.export",
                method=name,
            )
            continue
        raw = probe.buffer_value(model, f"{name}_params")
        if raw is None:
            report.add(
                FAIL,
                "contract.params",
                f"missing buffer {name}_params; register "
                f"[in_channels, in_ratio, out_channels, out_ratio]",
                method=name,
            )
            continue
        if raw.is_floating_point() or raw.is_complex():
            report.add(
                WARN,
                "contract.params",
                f"{name}_params is {raw.dtype}; store integers",
                method=name,
            )
        values = [int(v) for v in raw.flatten().tolist()]
        if len(values) != 4:
            report.add(
                FAIL,
                "contract.params",
                f"{name}_params holds {len(values)} values {values}, "
                f"expected 4: [in_channels, in_ratio, out_channels, out_ratio]",
                method=name,
            )
            continue
        if any(v < 1 for v in values):
            report.add(
                FAIL, "contract.params", f"{name}_params {values} has values below 1", method=name
            )
            continue
        params = probe.MethodParams(*values)
        bad = [r for r in (params.in_ratio, params.out_ratio) if not probe.is_power_of_two(r)]
        if bad:
            report.add(
                FAIL,
                "contract.ratio",
                f"ratio {bad[0]} is not a power of two: nn~ buffers are "
                f"powers of two, so some buffer sizes would need fractional frames",
                method=name,
            )
            continue
        report.add(PASS, "contract.params", f"params {values}", method=name)
        _check_labels(report, model, name, params)
        good[name] = params
    return good


def _check_labels(
    report: Report, model: torch.jit.ScriptModule, name: str, params: probe.MethodParams
) -> None:
    for side, count in (("input", params.in_channels), ("output", params.out_channels)):
        labels = probe.optional_attr(model, f"{name}_{side}_labels")
        if labels is None:
            report.add(
                SKIP, "contract.labels", f"no {side} labels (hosts show defaults)", method=name
            )
        elif not isinstance(labels, (list, tuple)) or len(labels) != count:
            n = len(labels) if isinstance(labels, (list, tuple)) else type(labels).__name__
            report.add(
                FAIL,
                "contract.labels",
                f"{name}_{side}_labels has {n} entries for {count} "
                f"{side} channels; give one label per channel",
                method=name,
            )
        else:
            report.add(PASS, "contract.labels", f"{count} {side} labels", method=name)


def _setter_arity(model: torch.jit.ScriptModule, setter: str) -> int | None:
    try:
        schema = model._c._get_method(setter).schema
    except Exception:
        return None
    return len(schema.arguments) - 1  # minus self


def check_attributes(report: Report, model: torch.jit.ScriptModule) -> None:
    """Attribute codes, getters, setters that accept their own value, buffer attributes."""
    if not probe.has_method(model, "get_attributes"):
        report.add(SKIP, "contract.attributes", "no get_attributes(): no attributes")
        return
    names = [str(a) for a in model.get_attributes() if str(a) != "none"]
    buffers = []
    if probe.has_method(model, "get_buffer_attributes"):
        buffers = [str(b) for b in model.get_buffer_attributes()]
    for name in names:
        where = f"attribute {name}"
        raw = probe.buffer_value(model, f"{name}_params")
        if raw is None:
            report.add(FAIL, "attribute.params", f"{where}: missing {name}_params type codes")
            continue
        codes = [int(c) for c in raw.flatten().tolist()]
        unknown = [c for c in codes if c not in TYPE_NAMES]
        if unknown:
            report.add(
                FAIL,
                "attribute.params",
                f"{where}: unknown type code {unknown[0]}; "
                f"use 0 bool, 1 int, 2 float, 3 str, 4 tensor, 5 buffer",
            )
            continue
        getter, setter = f"get_{name}", f"set_{name}"
        missing = [m for m in (getter, setter) if not probe.has_method(model, m)]
        if missing:
            report.add(
                FAIL,
                "attribute.accessor",
                f"{where}: missing {' and '.join(missing)}(); export them with @torch.jit.export",
            )
            continue
        arity = _setter_arity(model, setter)
        if arity is not None and arity != len(codes):
            report.add(
                FAIL,
                "attribute.setter",
                f"{where}: {setter} takes {arity} arguments but "
                f"{name}_params declares {len(codes)} elements",
            )
            continue
        try:
            current = getattr(model, getter)()
        except Exception as exc:
            report.add(FAIL, "attribute.getter", f"{where}: {getter}() raised {exc}")
            continue
        values = list(current) if isinstance(current, (list, tuple)) else [current]
        if len(values) != len(codes):
            report.add(
                FAIL,
                "attribute.getter",
                f"{where}: {getter}() returned {len(values)} "
                f"values, {name}_params declares {len(codes)}",
            )
            continue
        wrong = [
            f"element {i} is {type(v).__name__}, declared {TYPE_NAMES[c]}"
            for i, (v, c) in enumerate(zip(values, codes, strict=True))
            if not isinstance(v, _PY_TYPES[c]) or (c in (1, 2) and isinstance(v, bool))
        ]
        if wrong:
            report.add(
                FAIL,
                "attribute.type",
                f"{where}: {wrong[0]}; make the getter return the declared types",
            )
            continue
        try:
            status = getattr(model, setter)(*values)
        except Exception as exc:
            report.add(
                FAIL,
                "attribute.setter",
                f"{where}: {setter} rejected its own current "
                f"value with an error: {str(exc).splitlines()[0] if str(exc) else exc}",
            )
            continue
        if status != 0:
            report.add(
                FAIL,
                "attribute.setter",
                f"{where}: {setter}(*{getter}()) returned "
                f"{status}; a setter must accept the value its getter reports",
            )
            continue
        report.add(PASS, "attribute", f"{where}: {[TYPE_NAMES[c] for c in codes]}")
        for i, code in enumerate(codes):
            if code == 5:
                _check_buffer_attribute(report, model, f"{name}#{i}", buffers)


def _check_buffer_attribute(
    report: Report, model: torch.jit.ScriptModule, bname: str, listed: list[str]
) -> None:
    if bname not in listed:
        report.add(
            FAIL,
            "attribute.buffer",
            f"buffer element {bname} is not listed by "
            f"get_buffer_attributes(); hosts cannot send audio to it",
        )
        return
    needed = ("set_buffer_attribute", "clear_buffer_attribute")
    missing = [m for m in needed if not probe.has_method(model, m)]
    if missing:
        report.add(FAIL, "attribute.buffer", f"{bname}: missing {missing[0]}()")
        return
    try:
        # Sizes a user might plausibly load; the model may bound them with min/max_samples.
        sizes = (1024, 256, 4096, 44100, 64)
        accepted = None
        for size in sizes:
            if model.set_buffer_attribute(bname, torch.zeros(1, size), 44100) == 0:
                accepted = size
                break
        model.clear_buffer_attribute(bname)
    except Exception as exc:
        report.add(FAIL, "attribute.buffer", f"{bname}: set/clear_buffer_attribute raised {exc}")
        return
    if accepted is None:
        report.add(
            WARN,
            "attribute.buffer",
            f"{bname}: refused buffers of {', '.join(map(str, sizes))} samples; check its "
            f"min/max sample bounds",
        )
    else:
        report.add(
            PASS, "attribute.buffer", f"{bname}: accepts ({accepted} samples) and clears audio"
        )


def check_sample_rate(report: Report, model: torch.jit.ScriptModule, host_rate: int) -> int:
    """set_sample_rate/get_sample_rate and the model-rate extension; returns the rate to use."""
    own = -1
    if probe.has_method(model, "get_model_sample_rate"):
        own = int(model.get_model_sample_rate())
        report.info["model_sample_rate"] = own
    before = int(model.get_sample_rate()) if probe.has_method(model, "get_sample_rate") else -1
    report.info["sample_rate"] = before
    if probe.has_method(model, "set_sample_rate"):
        # Probe with a rate different from both, then set the host's (as the host does).
        other = next(r for r in (48000, 44100, 96000) if r not in (own, before, host_rate))
        try:
            model.set_sample_rate(other)
            changed = own != -1 and int(model.get_model_sample_rate()) != own
            model.set_sample_rate(host_rate)
        except Exception as exc:
            report.add(FAIL, "sample_rate", f"set_sample_rate({host_rate}) raised {exc}")
            return host_rate
        if changed:
            report.add(
                FAIL,
                "sample_rate",
                "set_sample_rate changed get_model_sample_rate(); "
                "keep the model's own rate apart from the host's",
            )
            return host_rate
        report.add(PASS, "sample_rate", f"set_sample_rate({host_rate}) accepted")
    else:
        report.add(SKIP, "sample_rate", "no set_sample_rate(): the host rate is not passed on")
    rate = own if own > 0 else before
    if rate > 0 and rate != host_rate:
        report.add(
            WARN,
            "sample_rate",
            f"model runs at {rate} Hz; a host at {host_rate} Hz plays "
            f"it at the wrong speed/pitch. Run Pd at {rate} Hz or resample",
        )
    return rate if rate > 0 else host_rate


__all__ = [
    "MODEL",
    "archive_info",
    "check_attributes",
    "check_clean_state",
    "check_methods",
    "check_sample_rate",
    "check_torch_version",
]

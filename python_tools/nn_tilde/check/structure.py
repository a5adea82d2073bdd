"""Contract checks: does the file expose what an nn~ host calls, with the right types?

Each function adds findings to a `Report`; check ids are stable (tests and CI rely on them).
"""

import re
import zipfile
from pathlib import Path

import torch

from nn_tilde import contract
from nn_tilde.check.report import MODEL, PASS, SKIP, WARN, Report
from nn_tilde.host import probe, read

TYPE_NAMES = contract.TYPE_NAMES


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


def _version_tuple(version: str) -> tuple[int, int, int] | None:
    """ "2.13.0+cpu" -> (2, 13, 0), as nn~ compares versions (missing parts are 0)."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    return tuple(int(g or 0) for g in match.groups()) if match else None


def check_torch_version(report: Report, model: torch.jit.ScriptModule, host: str) -> None:
    """The torch version that wrote the file (extension metadata) against the host's."""
    report.info["torch_host"] = host
    written = None
    if probe.has_method(model, "get_metadata"):
        try:
            meta = model.get_metadata()
            written = meta.get("torch_version") if isinstance(meta, dict) else None
        except Exception as exc:
            report.add(
                WARN,
                "metadata",
                f"get_metadata() raised {read.error_line(exc)}; it must return Dict[str, str]",
            )
    report.info["torch_file"] = written or "unknown"
    if not isinstance(written, str) or not written:
        report.add(
            WARN,
            "torch_version",
            f"the file does not record which torch wrote it; if it was newer than the host's "
            f"libtorch {host} it may compute wrong results. Export with nn_tilde.Module "
            f"(records it) to be sure",
        )
        return
    w, h = _version_tuple(written), _version_tuple(host)
    if w is not None and h is not None and w > h:
        fields = {"file_torch": written, "host_torch": host}
        report.add_problem(contract.Problem("torch.newer", fields))
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
    """The methods nn~ finds and their `<m>_params`, by the rules of docs/MODEL_FORMAT.md (read as
    nn~ reads them, `nn_tilde.host.read`). Returns the methods nn~ accepts; refusals and warnings
    go into the report."""
    methods = read.read_methods(model)
    if methods.listed:
        report.add(PASS, "methods", f"get_methods() lists {methods.names}")
    for problem in methods.listing:
        report.add_problem(problem)
    for method in methods.methods:
        for problem in method.problems:
            report.add_problem(problem)
        if method.params is not None:
            report.add(PASS, "params", f"params {method.params.as_list()}", method=method.name)
            _check_labels(report, model, method.name, method.params)
    if methods.ratios is not None:
        report.add_problem(methods.ratios)
    return methods.accepted


def _check_labels(
    report: Report, model: torch.jit.ScriptModule, name: str, params: probe.MethodParams
) -> None:
    for side, count in (("input", params.in_channels), ("output", params.out_channels)):
        key = f"{name}_{side}_labels"
        labels = probe.optional_attr(model, key)
        problem = contract.labels_problem(key, labels, count)
        if problem is not None:
            report.add_problem(problem, name)
        elif labels is None:
            report.add(SKIP, "labels", f"no {side} labels (hosts show defaults)", method=name)
        else:
            report.add(PASS, "labels", f"{count} {side} labels", method=name)


def check_attributes(report: Report, model: torch.jit.ScriptModule) -> None:
    """Attributes as nn~ reads them (type codes and accessors: ignored with a warning when
    broken), then what only the checker tries: getters and setters that work on their own
    values, and buffer attributes that take audio."""
    if not probe.has_method(model, "get_attributes"):
        report.add(SKIP, "attributes", "no get_attributes(): no attributes")
        return
    listed = model.get_attributes()
    names = contract.names_list(listed)
    if names is None:
        report.add_problem(contract.Problem("attributes.list", {"got": contract.describe(listed)}))
        return
    names = [a for a in names if a not in ("none", "")]
    buffers: list[str] = []
    if probe.has_method(model, "get_buffer_attributes"):
        buffers = contract.names_list(model.get_buffer_attributes()) or []
    for name in names:
        raw = probe.buffer_value(model, f"{name}_params")
        values = raw.flatten().tolist() if raw is not None and not raw.is_complex() else None
        if not values or any(not float(v).is_integer() for v in values):
            report.add_problem(contract.Problem("attribute.params", {"attribute": name}))
            continue
        codes = [int(c) for c in values]
        getter, setter = f"get_{name}", f"set_{name}"
        if not (probe.has_method(model, getter) and probe.has_method(model, setter)):
            report.add_problem(contract.Problem("attribute.accessor", {"attribute": name}))
            continue
        unknown = [c for c in codes if c not in TYPE_NAMES]
        if unknown:
            fields = {"attribute": name, "code": unknown[0]}
            report.add_problem(contract.Problem("attribute.code", fields))
            continue
        problem = read.attribute_behaviour(model, name, codes)
        if problem:
            fields = {"attribute": name, "problem": problem}
            report.add_problem(contract.Problem("attribute.behaviour", fields))
            continue
        report.add(PASS, "attribute", f"attribute {name}: {[TYPE_NAMES[c] for c in codes]}")
        for i, code in enumerate(codes):
            if code == contract.BUFFER_CODE:
                _check_buffer_attribute(report, model, f"{name}#{i}", buffers)


def _check_buffer_attribute(
    report: Report, model: torch.jit.ScriptModule, bname: str, listed: list[str]
) -> None:
    attribute = bname.split("#", 1)[0]

    def hint(problem: str) -> None:
        fields = {"attribute": attribute, "problem": problem}
        report.add_problem(contract.Problem("attribute.behaviour", fields))

    if bname not in listed:
        hint(
            f"buffer element {bname} is not listed by get_buffer_attributes(); hosts cannot "
            f"send audio to it"
        )
        return
    needed = ("set_buffer_attribute", "clear_buffer_attribute")
    missing = [m for m in needed if not probe.has_method(model, m)]
    if missing:
        hint(f"{bname}: missing {missing[0]}()")
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
        hint(f"{bname}: set/clear_buffer_attribute raised {read.error_line(exc)}")
        return
    if accepted is None:
        hint(
            f"{bname}: refused buffers of {', '.join(map(str, sizes))} samples; check its "
            f"min/max sample bounds"
        )
    else:
        report.add(
            PASS, "attribute.buffer", f"{bname}: accepts ({accepted} samples) and clears audio"
        )


def own_sample_rate(model: torch.jit.ScriptModule) -> int:
    """The model's rate as nn~ reads it before the host sets its own: get_model_sample_rate(),
    else get_sample_rate(); the first one that gives a positive int (-1: unknown)."""
    for getter in ("get_model_sample_rate", "get_sample_rate"):
        if probe.has_method(model, getter):
            value = getattr(model, getter)()
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return -1


def check_sample_rate(report: Report, model: torch.jit.ScriptModule, host_rate: int) -> int:
    """What nn~ does with the rates: call set_sample_rate(host rate) (refused: a warning) and
    compare the model's own rate with the host's. Returns the rate the model plays at."""
    own = own_sample_rate(model)
    report.info["model_sample_rate"] = own
    if probe.has_method(model, "get_sample_rate"):
        report.info["sample_rate"] = model.get_sample_rate()
    if probe.has_method(model, "set_sample_rate"):
        try:
            if own > 0 and probe.has_method(model, "get_model_sample_rate"):
                # a rate far from the model's own: does the model's rate follow the host's?
                model.set_sample_rate(96000 if own != 96000 else 48000)
                if model.get_model_sample_rate() != own:
                    fields = {
                        "attribute": "sample rate",
                        "problem": "set_sample_rate changed get_model_sample_rate(); keep the "
                        "model's own rate apart from the host's",
                    }
                    report.add_problem(contract.Problem("attribute.behaviour", fields))
            status = model.set_sample_rate(host_rate)
        except Exception as exc:
            fields = {"rate": host_rate, "error": read.error_line(exc)}
            report.add_problem(contract.Problem("rate.error", fields))
            return own if own > 0 else host_rate
        if isinstance(status, int) and not isinstance(status, bool) and status != 0:
            report.add_problem(
                contract.Problem("rate.refused", {"rate": host_rate, "value": status})
            )
        else:
            report.add(PASS, "sample_rate", f"set_sample_rate({host_rate}) accepted")
    else:
        report.add(SKIP, "sample_rate", "no set_sample_rate(): the host rate is not passed on")
    if own > 0 and own != host_rate:
        report.add_problem(
            contract.Problem("rate.mismatch", {"model_rate": own, "rate": host_rate})
        )
    return own if own > 0 else host_rate


__all__ = [
    "MODEL",
    "archive_info",
    "check_attributes",
    "check_clean_state",
    "check_methods",
    "check_sample_rate",
    "check_torch_version",
]

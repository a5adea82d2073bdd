"""What `Module` and the export pipeline share, kept apart so that neither imports the other:
the export error, the export report and the streaming-state reset (public as
`nn_tilde.ExportError`, `nn_tilde.ExportReport`, `nn_tilde.reset_streaming_state`)."""

import inspect
from pathlib import Path
from typing import Dict, List, Optional

import torch


def reset_streaming_state(module: torch.nn.Module) -> int:
    """Zero streaming caches and call `reset()` on every (sub)module defining one; returns count.

    Handles cached_conv's lazily created `pad` / `cache` buffers and any layer with a
    no-argument `reset()` method (the convention of nn_tilde.streaming).
    """
    count = 0
    for sub in module.modules():
        if type(sub).__module__.startswith("cached_conv"):
            for name in ("pad", "cache"):
                buf = sub._buffers.get(name)
                if isinstance(buf, torch.Tensor):
                    with torch.no_grad():
                        buf.zero_()
                    count += 1
        reset = getattr(sub, "reset", None)  # the model's own reset() included
        if callable(reset):
            try:
                sig = inspect.signature(reset)
            except (TypeError, ValueError):
                continue
            required = [
                p
                for p in sig.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            if not required:
                with torch.no_grad():
                    reset()
                count += 1
    return count


class ExportError(RuntimeError):
    """A model broke an nn~ rule during `export_to_ts`; the message names the rule and the fix."""


class ExportReport:
    """What `export_to_ts` verified: per method, the latency the file declares (``declared``,
    ``None`` when it declares none), the probe's estimate (``latency``: where the impulse response
    peaks, an estimate unless the method is a pure delay) and notes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.latency: Dict[str, Optional[int]] = {}
        self.declared: Dict[str, Optional[int]] = {}
        self.notes: List[str] = []

    def __repr__(self) -> str:
        return (
            f"ExportReport(path={str(self.path)!r}, declared={self.declared}, "
            f"latency={self.latency}, notes={self.notes})"
        )

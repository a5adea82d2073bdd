"""nn_tilde: export, check and benchmark neural audio models for the nn~ external.

`Module`, `Buffer` and `TYPE_HASH` are source-compatible with the reference nn_tilde package.
They are imported lazily (PEP 562) so that `nn-tilde --help` and usage errors answer without
loading torch.
"""

from pathlib import Path
from typing import Any

# The one version number of nn~ (the repository's VERSION file; nn_tilde/VERSION links to it and the
# wheel carries a copy): the externals' `info`, `nn-tilde --version` and the package names share it.
__version__ = (Path(__file__).parent / "VERSION").read_text(encoding="utf-8").strip()

_LAZY = {
    "TYPE_HASH": "nn_tilde.authoring.codegen",
    "Buffer": "nn_tilde.authoring.buffer",
    "ExportError": "nn_tilde.authoring.base",
    "ExportReport": "nn_tilde.authoring.base",
    "Module": "nn_tilde.authoring.module",
    "reset_streaming_state": "nn_tilde.authoring.base",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nn_tilde' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

"""nn_tilde: export, check and benchmark neural audio models for the nn~ external.

`Module`, `Buffer` and `TYPE_HASH` are source-compatible with the reference nn_tilde package.
"""

from ._codegen import TYPE_HASH
from .buffer import Buffer
from .module import ExportError, ExportReport, Module, reset_streaming_state

__version__ = "0.1.0"

__all__ = [
    "TYPE_HASH",
    "Buffer",
    "ExportError",
    "ExportReport",
    "Module",
    "__version__",
    "reset_streaming_state",
]

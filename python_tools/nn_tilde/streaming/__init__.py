"""Streaming conversion for nn~ models (after Caillon & Esling 2022, "Streamable Neural Audio
Synthesis With Non-Causal Convolutions").

Train a model with ordinary non-causal layers, then::

    stream = to_streaming(model.eval())  # same weights, cached convolutions
    stream.delay            # offline[t] == streamed[t + stream.delay], in output frames
    stream.chunk_multiple   # chunk lengths must be multiples of this, in input frames
    stream.reset()          # forget the past
    torch.jit.script(stream)  # scriptable; caches live in non-persistent buffers

``PQMFAnalysis`` / ``PQMFSynthesis`` (``pqmf.py``) split audio into bands and back; they
stream like any conv. This subpackage depends only on torch and numpy (cached-conv is
optional: its offline layers are accepted).
"""

from nn_tilde.streaming.base import (
    Delay,
    Pointwise,
    StreamingBranches,
    StreamingModule,
    StreamingSequential,
)
from nn_tilde.streaming.check import (
    aligned_outputs,
    random_chunk_sizes,
    run_chunked,
    scripted_roundtrip,
)
from nn_tilde.streaming.conv import StreamingConv1d, StreamingConvTranspose1d
from nn_tilde.streaming.convert import (
    convert_branches,
    convert_sequence,
    input_frames_delay,
    register_converter,
    register_pointwise,
    to_streaming,
)
from nn_tilde.streaming.layers import Branches, Conv1d, ConvTranspose1d, Residual, same_padding
from nn_tilde.streaming.pqmf import PQMFAnalysis, PQMFSynthesis

__all__ = [
    "Branches",
    "Conv1d",
    "ConvTranspose1d",
    "Delay",
    "PQMFAnalysis",
    "PQMFSynthesis",
    "Pointwise",
    "Residual",
    "StreamingBranches",
    "StreamingConv1d",
    "StreamingConvTranspose1d",
    "StreamingModule",
    "StreamingSequential",
    "aligned_outputs",
    "convert_branches",
    "convert_sequence",
    "input_frames_delay",
    "random_chunk_sizes",
    "register_converter",
    "register_pointwise",
    "run_chunked",
    "same_padding",
    "scripted_roundtrip",
    "to_streaming",
]

"""Compare a streaming module with the offline model it came from (used by tests and checkers).

The comparison needs no margin at the end: the streaming output only depends on input already
seen, so it is compared with the offline model run on the same input followed by ``tail`` zeros
(enough to cover the model's receptive field), and every streamed frame past ``delay`` must match.
"""

import random
from typing import Callable, List, Tuple

import torch
from torch import Tensor


def random_chunk_sizes(
    total: int, multiple: int, rng: random.Random, max_chunk: int = 8
) -> List[int]:
    """Random chunk lengths, each a multiple of ``multiple`` between 1x and ``max_chunk``x, summing
    to ``total`` (itself a multiple of ``multiple``)."""
    if total % multiple:
        raise ValueError(f"total {total} is not a multiple of {multiple}")
    sizes: List[int] = []
    left = total // multiple
    while left:
        k = rng.randint(1, min(max_chunk, left))
        sizes.append(k * multiple)
        left -= k
    return sizes


def run_chunked(stream: Callable[[Tensor], Tensor], x: Tensor, sizes: List[int]) -> Tensor:
    """Feed ``x: [B, C, T]`` to ``stream`` in chunks of ``sizes`` and concatenate the outputs."""
    outs = [stream(chunk) for chunk in torch.split(x, sizes, -1)]
    return torch.cat(outs, -1)


@torch.no_grad()
def aligned_outputs(
    offline: Callable[[Tensor], Tensor],
    stream: Callable[[Tensor], Tensor],
    delay: int,
    x: Tensor,
    sizes: List[int],
    tail: int,
) -> Tuple[Tensor, Tensor]:
    """(offline, streamed) outputs over the frames where ``offline[t] == streamed[t + delay]``.

    x: [B, C, T]; ``tail`` zero frames (a multiple of the model's chunk multiple, larger than its
    receptive field) are appended for the offline run only. Returns two tensors [B, C', N].
    """
    z = run_chunked(stream, x, sizes)
    y = offline(torch.nn.functional.pad(x, [0, tail]))
    n = z.size(-1) - delay
    if n <= 0 or y.size(-1) < n:
        raise ValueError(
            f"cannot align: streamed {z.size(-1)} frames, delay {delay}, "
            f"offline {y.size(-1)} frames (increase the input or the tail)"
        )
    return y[..., :n], z[..., delay:]


def scripted_roundtrip(module: torch.nn.Module, path: str) -> torch.jit.ScriptModule:
    """``torch.jit.script`` the module, save it to ``path``, and load it back from disk."""
    torch.jit.save(torch.jit.script(module), path)
    return torch.jit.load(path)

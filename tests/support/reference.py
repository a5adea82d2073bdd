"""The host convention of docs/MODEL_FORMAT.md, in numpy/torch, to compute what nn~ must output:
whole buffers of B samples, input decimated by keeping the last sample of each in_ratio group,
each output frame held for out_ratio samples. Written from the format description, not from the
C++."""

from __future__ import annotations

import numpy as np
import torch


def host_reference(path: str, method: str, x: np.ndarray, buffer_size: int) -> np.ndarray:
    """x: [in_channels, T] -> [out_channels, T'] where T' = (T // B) * B (complete buffers only)."""
    m = torch.jit.load(path)
    params = getattr(m, f"{method}_params").tolist()
    in_ch, in_ratio, out_ch, out_ratio = (int(v) for v in params)
    fn = getattr(m, method)
    n_buf = x.shape[1] // buffer_size
    out = np.zeros((out_ch, n_buf * buffer_size), dtype=np.float32)
    with torch.no_grad():
        for k in range(n_buf):
            seg = x[:, k * buffer_size : (k + 1) * buffer_size]
            dec = seg[:, in_ratio - 1 :: in_ratio]
            assert dec.shape == (in_ch, buffer_size // in_ratio)
            y = fn(torch.from_numpy(np.ascontiguousarray(dec))[None].float())[0].numpy()
            out[:, k * buffer_size : (k + 1) * buffer_size] = np.repeat(y, out_ratio, axis=-1)
    return out

"""`Buffer`: an attribute element that holds audio sent by the host (a Pd array, a Max buffer~).

Source-compatible with the reference package's `Buffer`: a TorchScript class (it is compiled
into the model file, so a host or the checker needs no Python code from this kit to load it).
"""

from typing import List, Optional

import torch


class Buffer:
    """Audio handed over by the host through `set_buffer_attribute(name, tensor, sr)`.

    value: [channels, samples] as sent by the host (empty [0, 0, 0] when unset).
    min_samples / max_samples: bounds checked by `set_value` (-1 means no bound).
    sr: sample rate of the audio, -1 when unknown.
    """

    value: torch.Tensor
    min_samples: int
    max_samples: int
    sr: int

    def __init__(
        self,
        tensor: Optional[torch.Tensor] = None,
        min_samples: int = -1,
        max_samples: int = -1,
        sr: Optional[int] = -1,
    ) -> None:
        self.value = torch.zeros(0, 0, 0)
        if tensor is not None:
            self.value = tensor
        self.min_samples = min_samples
        self.max_samples = max_samples
        self.sr = -1 if sr is None else int(sr)

    def check_bounds(self, x: torch.Tensor) -> bool:
        """True when x: [..., samples] respects min_samples and max_samples."""
        n = x.shape[-1]
        if self.min_samples != -1 and n < self.min_samples:
            return False
        return not (self.max_samples != -1 and n > self.max_samples)

    def set_value(self, x: torch.Tensor, sr: Optional[int] = None) -> int:
        """Store a copy of x; returns 0, or -1 (refused) when x is out of bounds."""
        if not self.check_bounds(x):
            return -1
        self.sr = -1 if sr is None else int(sr)
        self.value = x.clone()
        return 0

    def from_buffer(self, other: "Buffer") -> int:
        return self.set_value(other.value, other.sr)

    @staticmethod
    def copy(other: "Buffer") -> "Buffer":
        out = Buffer()
        out.from_buffer(other)
        out.min_samples = other.min_samples
        out.max_samples = other.max_samples
        return out

    @property
    def has_value(self) -> bool:
        return self.value.numel() != 0

    @property
    def shape(self) -> List[int]:
        """Shape of the stored audio, [] when empty."""
        if not self.has_value:
            return []
        return list(self.value.shape)

    def get_value(self) -> torch.Tensor:
        return self.value

    def init_value(self) -> None:
        """Forget the audio (the host's `clear_buffer_attribute`)."""
        self.value = torch.zeros(0, 0, 0)

    def to_str(self) -> str:
        if not self.has_value:
            return "Buffer(empty)"
        return "Buffer(samples=" + str(self.value.shape[-1]) + ", sr=" + str(self.sr) + ")"

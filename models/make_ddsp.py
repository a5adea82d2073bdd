"""Rebuild a shipped DDSP model (models/ddsp_*.ts) from its training checkpoint (models/ddsp_*.pt).

The checkpoints are the last ones written by `nn-tilde train` (see models/README.md for the data and
the training command), with the optimizer state stripped to keep them small. This does exactly
what `nn-tilde export models/ddsp_violin.pt models/ddsp_violin.ts` does, plus the shipped metadata.

Reproduce:  python models/make_ddsp.py models/ddsp_violin.pt models/ddsp_violin.ts
Strip:      python models/make_ddsp.py --strip RUN/last.pt models/ddsp_violin.pt
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

DESCRIPTIONS = {
    "violin": "GM violin (FluidR3_GM, program 41) rendered by `nn-tilde data`",
    "flute": "GM flute (FluidR3_GM, program 74) rendered by `nn-tilde data`",
}


def strip(src: Path, dst: Path) -> None:
    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    ckpt.pop("optimizer", None)
    torch.save(ckpt, dst)


def make(ckpt: Path, out: Path) -> None:
    from nn_tilde.train.checkpoint import model_from_checkpoint

    instrument = ckpt.stem.removeprefix("ddsp_")
    model = model_from_checkpoint(
        ckpt,
        {
            "author": "nn~ project",
            "licence": "CC0-1.0",
            "description": f"DDSP-CNN-Tiny timbre transfer to {instrument}: forward (audio -> "
            f"{instrument}), decode (f0 Hz, loudness dB at ratio 512 -> audio), features",
            "training_data": DESCRIPTIONS.get(instrument, instrument),
        },
    )
    model.export_to_ts(out)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--strip"] and len(args) == 3:
        strip(Path(args[1]), Path(args[2]))
    elif len(args) == 2:
        make(Path(args[0]), Path(args[1]))
    else:
        sys.exit(__doc__)

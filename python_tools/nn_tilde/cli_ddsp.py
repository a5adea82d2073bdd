"""`nn-tilde ddsp`: the research tools of the DDSP-CNN-Tiny models (speed per component, quality on
held-out phrases, the f0 tracker's accuracy), apart from the user commands of `nn_tilde.cli`. This
module only turns arguments into calls of typed library functions (nn_tilde.bench.ddsp,
nn_tilde.evaluate) and prints what they return."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nn_tilde.cli_base import MODEL_FAILED, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    ddsp = sub.add_parser(
        "ddsp",
        help="DDSP timbre-transfer tools: speed, quality, pitch tracker accuracy",
        description="Tools for the DDSP-CNN-Tiny models (nn_tilde.models.ddsp).",
    )
    dsub = ddsp.add_subparsers(dest="ddsp_command", metavar="TOOL")
    dbench = dsub.add_parser(
        "bench",
        help="real-time factor per component against this machine's floors (prints figures)",
        description="Time a DDSP model file's parts and whole on one thread, with the floors "
        "(empty call, one op, one FFT, a bare decoder) measured in the same run.",
    )
    dbench.add_argument("model", type=Path, metavar="MODEL.ts")
    dbench.add_argument("--buffer", type=int, default=2048, help="samples per call (2048)")
    dbench.add_argument("--seconds", type=float, default=2.0, help="per figure (2)")
    dbench.add_argument("--json", action="store_true", help='print {"rows", "verdict"}')
    dbench.add_argument("--pd", action="store_true", help="also nn~ in pd -batch (CPU/buffer)")
    deval = dsub.add_parser(
        "evaluate",
        help="spectral distance and pitch following on held-out phrases",
        description="Run MODEL's forward on every phrase of PHRASES_DIR as nn~ would and report "
        "spectral distance (with a sine baseline) and pitch error in cents.",
    )
    deval.add_argument("model", type=Path, metavar="MODEL.ts")
    deval.add_argument("folder", type=Path, metavar="PHRASES_DIR", help="held-out phrases")
    deval.add_argument("--limit", type=int, default=0, help="only the first N files")
    deval.add_argument("--json", action="store_true")
    dpitch = dsub.add_parser(
        "pitch-eval",
        help="accuracy of the f0 tracker on rendered notes of known pitch",
        description="Render every note of each instrument's range with fluidsynth and report "
        "the f0 tracker's voiced share and error in cents.",
    )
    dpitch.add_argument("--sample-rate", type=int, default=44100)
    dpitch.add_argument("--hop", type=int, default=512)
    dpitch.add_argument("--step", type=int, default=1, help="semitones between notes")
    dpitch.add_argument("--only", nargs="*", help="instrument names (or 'sine') to evaluate")


def run(args: argparse.Namespace) -> int:
    """`nn-tilde ddsp TOOL ...`: 0, MODEL_FAILED, or UsageError for bad arguments."""
    if args.ddsp_command is None:
        raise UsageError("choose a tool: nn-tilde ddsp bench|evaluate|pitch-eval (see --help)")
    for name in ("model", "folder"):
        path = getattr(args, name, None)
        if path is not None and not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    if args.ddsp_command == "bench":
        return _bench(args.model, args.buffer, args.seconds, args.pd, args.json)
    if args.ddsp_command == "evaluate":
        return _evaluate(args.model, args.folder, args.limit, args.json)
    return _pitch_eval(args.sample_rate, args.hop, args.step, args.only)


def _bench(model: Path, buffer: int, seconds: float, pd: bool, as_json: bool) -> int:
    from nn_tilde.bench import ddsp

    rows = ddsp.bench_with_pd(model, buffer, seconds, pd)
    if as_json:
        print(json.dumps({"rows": rows, "verdict": ddsp.verdict(rows)}, indent=2))
    else:
        print(ddsp.format_table(rows, buffer))
    return 0


def _evaluate(model: Path, folder: Path, limit: int, as_json: bool) -> int:
    import torch

    from nn_tilde.evaluate import ddsp_quality

    torch.set_num_threads(1)  # as nn~ runs a model: one thread per object
    result = ddsp_quality.evaluate(model, folder, limit)
    print(json.dumps(result, indent=2) if as_json else ddsp_quality.format_report(result))
    return 0


def _pitch_eval(sample_rate: int, hop: int, step: int, only: list[str] | None) -> int:
    from nn_tilde.evaluate import pitch
    from nn_tilde.train.render import DataError

    try:
        rows = pitch.evaluate(
            sample_rate, hop, step, only, progress=lambda s: None if s.startswith("|") else print(s)
        )
    except DataError as exc:
        print(f"pitch-eval: {exc}", file=sys.stderr)
        return MODEL_FAILED
    print(pitch.format_table(rows))
    return 0

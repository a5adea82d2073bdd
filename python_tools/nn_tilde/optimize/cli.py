"""`nn-tilde optimize`: the parser and the command (the library is in run.py, passes.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from nn_tilde.optimize import VARIANT_NAMES

MODEL_FAILED = 1


def add_optimize_parser(subparsers, positive_float: Callable[[str], float]) -> None:
    opt = subparsers.add_parser(
        "optimize",
        help="make faster variants of a model file that nn~ plays, measure and write the best",
        description="Make the variants of MODEL that nn~'s libtorch runs (frozen; frozen + "
        "optimize_for_inference; int8 dynamic quantization of linear layers; int8 static "
        "quantization of convolutions and linear layers calibrated on --calibration audio or "
        "the kit's test signals), print each one's speed as `nn-tilde bench` times it, its "
        "error against MODEL on test signals (SNR, peak), whether chunks still equal one call, "
        "and the checker's verdict; write the fastest within --min-snr and --max-peak to "
        "OUTPUT, recorded in its metadata (docs/MODEL_FORMAT.md), with a table (.txt, .json) "
        "and a plot (.png) beside it. Exit 1 when no variant is within the bounds.",
    )
    opt.add_argument("model", type=Path, metavar="MODEL.ts")
    opt.add_argument("-o", "--output", type=Path, required=True, metavar="FAST.ts")
    opt.add_argument("--buffer", type=int, default=2048, help="samples per call (default 2048)")
    opt.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as nn~)")
    opt.add_argument("--sample-rate", type=int, default=None, help="default: the model's rate")
    opt.add_argument(
        "--seconds", type=positive_float, default=0.5, help="timing per variant and method (0.5)"
    )
    opt.add_argument(
        "--min-snr",
        type=float,
        default=40.0,
        metavar="DB",
        help="lowest SNR against MODEL on the test signals, every method (default 40 dB)",
    )
    opt.add_argument(
        "--max-peak",
        type=float,
        default=0.01,
        help="largest absolute sample error against MODEL (default 0.01)",
    )
    opt.add_argument("--method", default=None, help="the method whose speed decides (forward)")
    opt.add_argument(
        "--calibration",
        type=Path,
        action="append",
        default=[],
        metavar="AUDIO",
        help="audio file(s) for static int8 calibration (repeatable; default: test signals)",
    )
    opt.add_argument(
        "--passes",
        default=None,
        metavar="NAMES",
        help=f"comma-separated variants to try besides the original: {', '.join(VARIANT_NAMES)}",
    )
    opt.add_argument(
        "--variant",
        default=None,
        choices=("original", *VARIANT_NAMES),
        help="write this variant (if within the bounds) instead of the fastest",
    )
    opt.add_argument("--no-check", action="store_true", help="skip the checker on each variant")
    opt.add_argument("--no-plot", action="store_true", help="write no .png")
    opt.add_argument("--json", action="store_true", help="print the result as JSON")
    opt.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


class OptimizeUsageError(Exception):
    """Bad arguments; the CLI prints it and exits 2."""


def run_optimize(
    model: Path,
    output: Path,
    *,
    buffer: int = 2048,
    threads: int = 1,
    sample_rate: int | None = None,
    seconds: float = 0.5,
    min_snr: float = 40.0,
    max_peak: float = 0.01,
    method: str | None = None,
    calibration: list[Path] | None = None,
    passes: str | None = None,
    variant: str | None = None,
    check: bool = True,
    plot: bool = True,
    as_json: bool = False,
    progress: Callable[[str], None] = lambda _m: None,
) -> int:
    """The command: 0 when a variant was written, 1 when none is within the bounds; raises
    OptimizeUsageError for bad arguments."""
    from nn_tilde import contract
    from nn_tilde.optimize import report
    from nn_tilde.optimize.run import OptimizeOptions, optimize_file, record, write_variant

    if buffer < 1 or buffer > contract.MAX_BUFFER:
        raise OptimizeUsageError(f"--buffer must be 1..{contract.MAX_BUFFER}, e.g. 2048")
    if threads < 1:
        raise OptimizeUsageError("--threads must be at least 1")
    if sample_rate is not None and sample_rate < 1:
        raise OptimizeUsageError("--sample-rate must be a positive number of Hz, e.g. 44100")
    only = None
    if passes is not None:
        only = [p.strip() for p in passes.split(",") if p.strip()]
        unknown = [p for p in only if p not in VARIANT_NAMES]
        if unknown:
            raise OptimizeUsageError(
                f"--passes: unknown {unknown[0]!r}; choose from {', '.join(VARIANT_NAMES)}"
            )
    if variant and variant != "original" and only is not None and variant not in only:
        only.append(variant)
    for path in calibration or []:
        if not path.is_file():
            raise OptimizeUsageError(f"--calibration: {path}: no such audio file")
    if output.resolve() == model.resolve():
        raise OptimizeUsageError("-o names MODEL itself; write the optimized file elsewhere")
    options = OptimizeOptions(
        buffer=buffer,
        threads=threads,
        sample_rate=sample_rate,
        seconds=seconds,
        min_snr_db=min_snr,
        max_peak=max_peak,
        method=method,
        calibration=list(calibration or []),
        only=only,
        variant=variant,
        check=check,
    )
    try:
        result, variants = optimize_file(model, options, progress)
    except ValueError as exc:
        raise OptimizeUsageError(str(exc))
    stem = output.with_suffix("")
    table = report.format_table(result)
    Path(f"{stem}_optimize.txt").parent.mkdir(parents=True, exist_ok=True)
    Path(f"{stem}_optimize.txt").write_text(table + "\n")
    Path(f"{stem}_optimize.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if plot:
        report.plot(result, Path(f"{stem}_optimize.png"))
    if result.chosen is not None:
        info = record(result, result.chosen, model.read_bytes())
        write_variant(variants[result.chosen], info, output)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(table)
        if result.chosen is not None:
            print(
                f"wrote {output} ({result.chosen}: {result.speedup(result.chosen):.2f}x the "
                f"original's speed on '{result.method}'); table and plot: {stem}_optimize.*"
            )
    if result.chosen is None:
        which = f"--variant {variant} is not" if variant else "no variant is"
        print(
            f"error: {which} within --min-snr/--max-peak, streaming as the original and "
            "passing the checker; loosen the bounds or see the table (nothing written)",
            file=sys.stderr,
        )
        return MODEL_FAILED
    return 0


def command(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    """Turns parsed arguments into the run_optimize call (the only place that sees args)."""
    return run_optimize(
        args.model,
        args.output,
        buffer=args.buffer,
        threads=args.threads,
        sample_rate=args.sample_rate,
        seconds=args.seconds,
        min_snr=args.min_snr,
        max_peak=args.max_peak,
        method=args.method,
        calibration=args.calibration,
        passes=args.passes,
        variant=args.variant,
        check=not args.no_check,
        plot=not args.no_plot,
        as_json=args.json,
        progress=progress,
    )

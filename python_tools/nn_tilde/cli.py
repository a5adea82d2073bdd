"""The `nn-tilde` command: export, check and bench nn~ models.

Exit codes: 0 success, 1 the model fails (check/bench/export), 2 usage error (bad arguments,
missing or unreadable files). Diagnostics go to stderr and name the fix.
"""

import argparse
import importlib.util
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

USAGE_ERROR = 2
MODEL_FAILED = 1


class UsageError(Exception):
    """Bad command-line input; the message says what to do instead."""


def _positive_int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nn-tilde", description="Export, check and benchmark models for the nn~ external."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    exp = sub.add_parser(
        "export",
        help="export a model built by a Python factory function",
        description="Import SCRIPT, call FACTORY() (an nn_tilde.Module), "
        "validate and save it to OUTPUT.",
    )
    exp.add_argument(
        "source",
        metavar="SCRIPT.py:FACTORY",
        help="Python file and the name of a no-argument function returning the model",
    )
    exp.add_argument("output", type=Path, metavar="OUTPUT.ts")
    exp.add_argument(
        "--no-test-vectors",
        action="store_true",
        help="do not embed input/expected output per method",
    )
    exp.add_argument(
        "--no-fresh-process",
        action="store_true",
        help="skip the reload-and-compare in a separate Python process",
    )
    exp.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata stored in the file (repeatable), e.g. author=Ada",
    )

    chk = sub.add_parser(
        "check",
        help="check that a model file plays correctly in nn~",
        description="Run every nn~ check on MODEL (any nn~ .ts file).",
    )
    chk.add_argument("model", type=Path, metavar="MODEL.ts")
    chk.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    chk.add_argument("--strict", action="store_true", help="treat warnings as failures")
    chk.add_argument(
        "--quick",
        action="store_true",
        help="smaller buffers, fewer chunk trials, short timings (same checks)",
    )
    chk.add_argument("--no-speed", action="store_true", help="skip the timing section")
    chk.add_argument(
        "--seconds",
        type=_positive_float,
        default=None,
        help="timing budget per method × buffer × threads cell (default 0.3, quick 0.05)",
    )
    chk.add_argument(
        "--host-torch",
        default=None,
        metavar="VERSION",
        help="libtorch version of the nn~ host (default: this Python's torch)",
    )
    chk.add_argument(
        "--sample-rate",
        type=int,
        default=None,
        help="host sample rate (default: the model's own rate, else 44100)",
    )
    chk.add_argument(
        "--method", action="append", default=None, help="check only this method (repeatable)"
    )
    chk.add_argument(
        "--threads",
        type=_positive_int_list,
        default=None,
        help="thread counts to time, e.g. 1,4 (default: 1 and all cores)",
    )
    chk.add_argument("--seed", type=int, default=0, help="seed of the random chunk sequences")
    chk.add_argument(
        "--verbose-report", action="store_true", help="list passed checks too in the human report"
    )
    chk.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    bch = sub.add_parser(
        "bench",
        help="real-time factor and latency table",
        description="Time MODEL across sample rates × buffers × threads and "
        "recommend the lowest-latency safe setting.",
    )
    bch.add_argument("model", type=Path, metavar="MODEL.ts")
    bch.add_argument(
        "--sample-rates",
        type=_positive_int_list,
        default=[44100, 48000],
        help="host sample rates, e.g. 44100,48000 (default)",
    )
    bch.add_argument(
        "--buffers",
        type=_positive_int_list,
        default=None,
        help="buffer sizes (powers of two; default 64..8192 from the largest ratio)",
    )
    bch.add_argument(
        "--threads", type=_positive_int_list, default=None, help="default: 1 and all cores"
    )
    bch.add_argument(
        "--seconds", type=_positive_float, default=0.5, help="timing budget per cell (default 0.5)"
    )
    bch.add_argument(
        "--quick",
        action="store_true",
        help="0.05 s per cell, two buffer sizes (256 and 2048, or the largest ratio)",
    )
    bch.add_argument(
        "--headroom",
        type=_positive_float,
        default=0.7,
        help="p99 must stay below this share of the buffer period (default 0.7)",
    )
    bch.add_argument("--method", action="append", default=None, help="only this method")
    bch.add_argument("--json", action="store_true", help="print rows and recommendations as JSON")
    bch.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser


def _progress(quiet: bool):
    from .checker import stderr_progress

    return (lambda _m: None) if quiet else stderr_progress


def _require_file(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file; give the path of an nn~ model (.ts) file")
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give the path of an nn~ model (.ts) file")


def _cmd_check(args: argparse.Namespace) -> int:
    _require_file(args.model)
    if args.sample_rate is not None and args.sample_rate < 1:
        raise UsageError("--sample-rate must be a positive number of Hz, e.g. 48000")
    import torch

    from .checker import CheckOptions, check_file

    fields = {
        "host_torch": args.host_torch or torch.__version__,
        "sample_rate": args.sample_rate,
        "seed": args.seed,
        "speed": not args.no_speed,
        "threads": args.threads,
        "methods": args.method,
    }
    if args.seconds is not None:
        fields["speed_seconds"] = args.seconds
    options = CheckOptions.quick(**fields) if args.quick else CheckOptions(**fields)
    try:
        report = check_file(args.model, options, _progress(args.quiet))
    except ValueError as exc:
        raise UsageError(f"--method: {exc}")
    if args.json:
        print(report.to_json(strict=args.strict))
    else:
        print(report.to_text(strict=args.strict, verbose=args.verbose_report))
    return MODEL_FAILED if report.exit_code(args.strict) else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    _require_file(args.model)
    buffers = args.buffers
    for b in buffers or []:
        if b & (b - 1):
            raise UsageError(f"--buffers: {b} is not a power of two; nn~ uses 64, 128, ... 8192")
    import torch

    from .bench import BenchOptions, format_table, run_bench

    try:
        torch.jit.load(str(args.model))
    except Exception as exc:
        print(
            f"error: {args.model}: torch.jit.load failed ({str(exc).splitlines()[0]}); run "
            f"`nn-tilde check {args.model}` for details",
            file=sys.stderr,
        )
        return MODEL_FAILED
    options = BenchOptions(
        sample_rates=args.sample_rates,
        buffers=buffers,
        threads=args.threads,
        seconds=0.05 if args.quick else args.seconds,
        headroom=args.headroom,
        methods=args.method,
        quick=args.quick,
    )
    try:
        result = run_bench(args.model, options, _progress(args.quiet))
    except ValueError as exc:
        raise UsageError(str(exc))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(format_table(result, args.headroom))
    return 0 if all(v is not None for v in result.recommendation.values()) else MODEL_FAILED


def _parse_source(source: str) -> tuple[Path, str]:
    script, sep, name = source.rpartition(":")
    if not sep or not script or not name:
        raise UsageError(f"{source!r}: expected SCRIPT.py:FACTORY, e.g. my_model.py:build")
    path = Path(script)
    if not path.is_file():
        raise UsageError(f"{script}: no such file; give the Python file defining {name}()")
    return path, name


class _UserCodeError(Exception):
    """The user's script or factory raised; reported with exit code 1."""


def _load_factory(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"nn_tilde_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path}: cannot import it as a Python module; use a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise _UserCodeError(f"importing {path} raised {type(exc).__name__}: {exc}") from exc
    factory = getattr(module, name, None)
    if not callable(factory):
        raise UsageError(
            f"{path} defines no function {name}(); name the function that "
            f"returns your nn_tilde.Module"
        )
    return factory


def _cmd_export(args: argparse.Namespace) -> int:
    path, name = _parse_source(args.source)
    metadata = {}
    for item in args.metadata:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata {item!r}: expected KEY=VALUE, e.g. author=Ada")
        metadata[key] = value
    from .module import ExportError, Module

    try:
        factory = _load_factory(path, name)
        try:
            model = factory()
        except Exception as exc:
            raise _UserCodeError(f"{name}() raised {type(exc).__name__}: {exc}") from exc
    except _UserCodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return MODEL_FAILED
    if not isinstance(model, Module):
        raise UsageError(
            f"{args.source} returned {type(model).__name__}, not an "
            f"nn_tilde.Module; subclass nn_tilde.Module and register its methods"
        )
    model.set_metadata(**metadata)
    try:
        report = model.export_to_ts(
            args.output,
            test_vectors=not args.no_test_vectors,
            fresh_process=not args.no_fresh_process,
        )
    except ExportError as exc:
        print(f"error: export failed: {exc}", file=sys.stderr)
        return MODEL_FAILED
    print(f"exported {args.output} (latency {report.latency})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else USAGE_ERROR
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(
            "error: choose a command: export, check or bench (see nn-tilde --help)", file=sys.stderr
        )
        return USAGE_ERROR
    commands = {"check": _cmd_check, "bench": _cmd_bench, "export": _cmd_export}
    try:
        return commands[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())

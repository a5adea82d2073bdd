"""The `nn-tilde` command: export, check and bench nn~ models; render data and train.

Exit codes: 0 success, 1 the model fails (check/bench/export), 2 usage error (bad arguments,
missing or unreadable files). Diagnostics go to stderr and name the fix.
"""

import argparse
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nn_tilde import __version__, cli_ddsp
from nn_tilde.cli_base import (
    MODEL_FAILED,
    USAGE_ERROR,
    UsageError,
    positive_float,
    positive_int_list,
)

if TYPE_CHECKING:  # torch is imported lazily at run time, to keep --help fast
    from nn_tilde.authoring.module import Module


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nn-tilde", description="Export, check and benchmark models for the nn~ external."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    exp = sub.add_parser(
        "export",
        help="export a model built by a Python factory function, or a training checkpoint",
        description="Import SCRIPT, call FACTORY() (an nn_tilde.Module), "
        "validate and save it to OUTPUT. Given a checkpoint of `nn-tilde train` (.pt), export "
        "its streaming encode/decode/forward, declaring the exact streaming delays as "
        "latencies, and run the checker on the file.",
    )
    exp.add_argument(
        "source",
        metavar="SCRIPT.py:FACTORY|CHECKPOINT.pt",
        help="Python file and the name of a no-argument function returning the model, "
        "or a .pt checkpoint written by `nn-tilde train`",
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
    exp.add_argument(
        "--no-check",
        action="store_true",
        help="checkpoints only: skip `nn-tilde check --quick --no-speed` on the exported file",
    )

    chk = sub.add_parser(
        "check",
        help="check that a model file plays correctly in nn~",
        description="Check MODEL (any nn~ .ts file) as nn~ loads and plays it: it fails exactly "
        "what nn~ refuses and warns about the rest (the rules: docs/MODEL_FORMAT.md). Exit "
        "codes: 0 pass or warnings, 1 a failure (with --strict: any warning), 2 usage error.",
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
        type=positive_float,
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
        type=positive_int_list,
        default=None,
        help="thread counts to time, e.g. 1,4 (default: 1 and all cores)",
    )
    chk.add_argument("--seed", type=int, default=0, help="seed of the random chunk sequences")
    chk.add_argument(
        "--budget",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="estimated seconds of model calls per method (default 60); a slow model's "
        "remaining checks are skipped and say so",
    )
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
    bch.add_argument(
        "model",
        type=Path,
        metavar="MODEL.ts",
        help="with --runtimes: CHECKPOINT.pt or SCRIPT.py:FACTORY",
    )
    bch.add_argument(
        "--sample-rates",
        type=positive_int_list,
        default=[44100, 48000],
        help="host sample rates, e.g. 44100,48000 (default)",
    )
    bch.add_argument(
        "--buffers",
        type=positive_int_list,
        default=None,
        help="buffer sizes in samples (default 64, 128, ... 8192); each is rounded up to a "
        "multiple of the model's ratios, as nn~ does (e.g. 1001 stays 1001 for ratio 1)",
    )
    bch.add_argument(
        "--threads", type=positive_int_list, default=None, help="default: 1 and all cores"
    )
    bch.add_argument(
        "--seconds", type=positive_float, default=0.5, help="timing budget per cell (default 0.5)"
    )
    bch.add_argument(
        "--quick",
        action="store_true",
        help="0.05 s per cell, two buffer sizes (256 and 2048, or the largest ratio)",
    )
    bch.add_argument(
        "--headroom",
        type=positive_float,
        default=0.7,
        help="p99 must stay below this share of the buffer period (default 0.7)",
    )
    bch.add_argument("--method", action="append", default=None, help="only this method")
    bch.add_argument("--json", action="store_true", help="print rows and recommendations as JSON")
    bch.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    bch.add_argument(
        "--runtimes",
        action="store_true",
        help="instead: time MODEL in TorchScript, ONNX Runtime and AOTInductor (one thread) "
        "and check each against TorchScript over successive calls (nn_tilde.optimize.runtimes)",
    )
    from nn_tilde.optimize.cli import add_optimize_parser

    add_optimize_parser(sub, positive_float)

    dat = sub.add_parser(
        "data",
        help="render a training set of one instrument with fluidsynth",
        description="Render generated phrases of a General MIDI instrument with fluidsynth and "
        "the fluid-soundfont-gm soundfont into OUT/train, OUT/valid and OUT/manifest.json.",
    )
    dat.add_argument("output", type=Path, metavar="OUT_DIR")
    dat.add_argument("--instrument", default="violin", help="e.g. violin, flute, trumpet")
    dat.add_argument("--train", type=int, default=32, help="training phrases (default 32)")
    dat.add_argument("--valid", type=int, default=4, help="held-out phrases (default 4)")
    dat.add_argument("--seconds", type=positive_float, default=8.0, help="phrase length")
    dat.add_argument("--sample-rate", type=int, default=44100)
    dat.add_argument("--seed", type=int, default=0)
    dat.add_argument("--soundfont", default=None, metavar="FILE.sf2")
    dat.add_argument("--list", action="store_true", help="list the instruments and exit")
    dat.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    trn = sub.add_parser(
        "train",
        help="train the streaming autoencoder on a folder of audio",
        description="Train a model on DATA_DIR (wav/flac/ogg, or the train/ and valid/ "
        "folders of `nn-tilde data`): by default the streaming autoencoder "
        "nn_tilde.models.autoencoder.AutoEncoder (causal, 16 PQMF bands, latent ratio 2048), "
        'or DDSP-CNN-Tiny with model_type = "ddsp" in the config (see --print-config); '
        "checkpoints and plots go to OUT_DIR. "
        "Run under `torchrun --nproc_per_node N` for data-parallel training.",
    )
    trn.add_argument("data", type=Path, metavar="DATA_DIR")
    trn.add_argument("output", type=Path, metavar="OUT_DIR")
    trn.add_argument("--config", type=Path, default=None, metavar="FILE.toml|FILE.json")
    trn.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (repeatable), e.g. --set steps=200 --set model.latent=4",
    )
    trn.add_argument(
        "--resume",
        nargs="?",
        const="last",
        default=None,
        metavar="CHECKPOINT.pt",
        help="continue from a checkpoint (default OUT_DIR/last.pt) trained with the same model "
        "type and model section; steps, lr and the other generic keys may change",
    )
    trn.add_argument("--print-config", action="store_true", help="print the config and exit")
    trn.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    cli_ddsp.add_parser(sub)
    return parser


def _progress(quiet: bool):
    from nn_tilde.check.runner import stderr_progress

    return (lambda _m: None) if quiet else stderr_progress


def _require_file(path: Path) -> None:
    """A model path that nn~ could not open either (missing, a folder): a usage error, in the words
    of the checker's own file test. An empty file is the model's failure, reported by the
    checker."""
    from nn_tilde.check.runner import file_report

    report = file_report(path)
    for finding in report.refusals() if report else []:
        if finding.check in ("file.missing", "file.folder"):
            raise UsageError(finding.message)


def _cmd_check(args: argparse.Namespace) -> int:
    if args.sample_rate is not None and args.sample_rate < 1:
        raise UsageError("--sample-rate must be a positive number of Hz, e.g. 48000")
    try:
        _require_file(args.model)
    except UsageError:
        if args.json:  # a JSON consumer always gets a report
            from nn_tilde.check.report import Report
            from nn_tilde.check.runner import file_report

            report = file_report(args.model) or Report(str(args.model))
            print(report.to_json(strict=args.strict))
        raise
    import torch

    from nn_tilde.check.runner import CheckOptions, check_file_safely

    fields = {
        "host_torch": args.host_torch or torch.__version__.split("+")[0],  # as libtorch has it
        "sample_rate": args.sample_rate,
        "seed": args.seed,
        "speed": not args.no_speed,
        "threads": args.threads,
        "methods": args.method,
        "budget": args.budget,
    }
    if args.seconds is not None:
        fields["speed_seconds"] = args.seconds
    options = CheckOptions.quick(**fields) if args.quick else CheckOptions(**fields)
    try:
        report = check_file_safely(args.model, options, _progress(args.quiet))
    except ValueError as exc:
        raise UsageError(f"--method: {exc}")
    if args.json:
        print(report.to_json(strict=args.strict))
    else:
        print(report.to_text(strict=args.strict, verbose=args.verbose_report))
    return MODEL_FAILED if report.exit_code(args.strict) else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.runtimes:
        from nn_tilde.optimize.runtimes import RuntimeError_, run_runtimes

        buffer = (args.buffers or [2048])[0]
        method = (args.method or ["forward"])[0]
        try:
            return run_runtimes(
                args.model, buffer, args.seconds, args.json, _progress(args.quiet), method
            )
        except RuntimeError_ as exc:
            raise UsageError(str(exc))
    _require_file(args.model)
    buffers = args.buffers
    from nn_tilde import contract

    for b in buffers or []:
        if b > contract.MAX_BUFFER:
            raise UsageError(f"--buffers: {b} is more than nn~ allows ({contract.MAX_BUFFER})")
    import torch

    from nn_tilde.bench.model import BenchOptions, format_table, run_bench

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
    # no __pycache__ left in the user's folder for a script they only meant to run
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise _UserCodeError(f"importing {path} raised {type(exc).__name__}: {exc}") from exc
    finally:
        sys.dont_write_bytecode = writes_bytecode
    factory = getattr(module, name, None)
    if not callable(factory):
        raise UsageError(
            f"{path} defines no function {name}(); name the function that "
            f"returns your nn_tilde.Module"
        )
    return factory


CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


def _cmd_export(args: argparse.Namespace) -> int:
    metadata = {}
    for item in args.metadata:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata {item!r}: expected KEY=VALUE, e.g. author=Ada")
        metadata[key] = value
    if Path(args.source).suffix in CHECKPOINT_SUFFIXES:
        return _export_checkpoint(args, metadata)
    path, name = _parse_source(args.source)
    from nn_tilde.authoring.module import Module

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
    return _save(model, args)


def _save(model: "Module", args: argparse.Namespace) -> int:
    """Exports `model` to args.output through the export API; 0 or MODEL_FAILED."""
    from nn_tilde.authoring.base import ExportError

    try:
        report = model.export_to_ts(
            args.output,
            test_vectors=not args.no_test_vectors,
            fresh_process=not args.no_fresh_process,
        )
    except ExportError as exc:
        print(f"error: export failed: {exc}", file=sys.stderr)
        return MODEL_FAILED
    print(
        f"exported {args.output} (latency in samples: declared {report.declared}; "
        f"impulse-response peak {report.latency})"
    )
    return 0


def _export_checkpoint(args: argparse.Namespace, metadata: dict[str, str]) -> int:
    ckpt = Path(args.source)
    if not ckpt.is_file():
        raise UsageError(f"{ckpt}: no such checkpoint; give a .pt file written by nn-tilde train")
    from nn_tilde.train.checkpoint import CheckpointError, model_from_checkpoint

    try:
        model = model_from_checkpoint(ckpt, metadata)
    except CheckpointError as exc:
        raise UsageError(str(exc))
    status = _save(model, args)
    if status != 0 or args.no_check:
        return status
    from nn_tilde.check.runner import CheckOptions, check_file

    result = check_file(args.output, CheckOptions.quick(speed=False))
    print(result.to_text(strict=False, verbose=False))
    if result.exit_code(False):
        print(f"error: {args.output} fails `nn-tilde check`; see the report above", file=sys.stderr)
        return MODEL_FAILED
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from nn_tilde.train.render import INSTRUMENTS, DataError, render_dataset

    if args.list:
        for name, (program, low, high) in sorted(INSTRUMENTS.items()):
            print(f"{name:12s} GM program {program + 1:3d}, MIDI pitches {low}-{high}")
        return 0
    if args.train < 1 or args.valid < 0 or args.sample_rate < 1:
        raise UsageError("--train must be >= 1, --valid >= 0 and --sample-rate positive")
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    try:
        manifest = render_dataset(
            args.output,
            args.instrument,
            n_train=args.train,
            n_valid=args.valid,
            seconds=args.seconds,
            sample_rate=args.sample_rate,
            seed=args.seed,
            soundfont=args.soundfont,
            progress=say,
        )
    except DataError as exc:
        raise UsageError(str(exc))
    total = sum(f["seconds"] for f in manifest["files"])
    print(f"rendered {len(manifest['files'])} files ({total:.1f} s) into {args.output}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from nn_tilde.train.config import ConfigError, load_config

    try:
        config = load_config(args.config, args.set)
    except ConfigError as exc:
        raise UsageError(str(exc))
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    if not args.data.is_dir():
        raise UsageError(f"{args.data}: no such folder; give a folder of .wav/.flac/.ogg files")
    resume = None
    if args.resume is not None:
        resume = args.output / "last.pt" if args.resume == "last" else Path(args.resume)
        if not resume.is_file():
            raise UsageError(f"--resume: {resume} does not exist; train without --resume first")
        _check_resume(resume, config)
    from nn_tilde.train.data import DataError
    from nn_tilde.train.registry import train

    try:
        ckpt = train(config, args.data, args.output, resume=resume, progress=not args.quiet)
    except DataError as exc:
        raise UsageError(str(exc))
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"trained {ckpt['step']} steps; checkpoint {args.output / 'last.pt'}")
    return 0


def _check_resume(resume: Path, config) -> None:
    """The checkpoint fits the config (train/registry.py's resume_problem), before any training."""
    from nn_tilde.train.checkpoint import CheckpointError, config_from_checkpoint, load_checkpoint
    from nn_tilde.train.registry import resume_problem

    try:
        ckpt = load_checkpoint(resume)
    except CheckpointError as exc:
        raise UsageError(f"--resume: {exc}")
    problem = resume_problem(config_from_checkpoint(ckpt), config)
    if problem:
        raise UsageError(
            f"--resume: {resume}: {problem}; give the config of that run (--config), or train "
            "into a new output folder without --resume"
        )


def _cmd_optimize(args: argparse.Namespace) -> int:
    _require_file(args.model)
    from nn_tilde.optimize.cli import OptimizeUsageError, command

    try:
        return command(args, _progress(args.quiet))
    except OptimizeUsageError as exc:
        raise UsageError(str(exc))


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
            "error: choose a command: export, check, bench, optimize, data, train or ddsp "
            "(see nn-tilde --help)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    commands = {
        "check": _cmd_check,
        "bench": _cmd_bench,
        "export": _cmd_export,
        "data": _cmd_data,
        "train": _cmd_train,
        "ddsp": cli_ddsp.run,
        "optimize": _cmd_optimize,
    }
    try:
        return commands[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())

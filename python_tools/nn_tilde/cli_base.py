"""What the `nn-tilde` command modules share: exit codes, the usage error and argument types.

Exit codes: 0 success, 1 the model fails (check/bench/export), 2 usage error (bad arguments,
missing or unreadable files).
"""

import argparse

USAGE_ERROR = 2
MODEL_FAILED = 1


class UsageError(Exception):
    """Bad command-line input; the message says what to do instead."""


def positive_int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value

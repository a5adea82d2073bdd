"""Commands the tests run, found next to the interpreter that runs pytest, never on PATH: the test
command runs in a clean environment where nothing activates the virtual environment."""

import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def console_script(name: str) -> list[str]:
    """The installed entry point `name` of this environment (e.g. nn-tilde), as a command list."""
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: install the kit into this environment (bash scripts/setup.sh)"
        )
    return [str(path)]


NN_TILDE = console_script("nn-tilde")
# torchrun is torch.distributed.run's console script; the module form needs no PATH either.
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]

"""python_tools/README.md stays true: its export example runs and the file passes check."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nn_tilde.check.runner import CheckOptions, check_file

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

README = Path(__file__).resolve().parents[2] / "python_tools" / "README.md"


def test_readme_export_example(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README.md lost its Python example"
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = check_file(tmp_path / "gain.ts", CheckOptions.quick(speed=False))
    assert report.status_of(strict=True) == "pass", report.to_text()
    assert report.info["latency"]["forward"]["declared"] == 0

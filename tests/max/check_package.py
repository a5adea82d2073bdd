"""The Max package that `cmake --install` lays out (NN_BUILD_MAX=ON): installs the build into a
temporary prefix, checks the package layout (externals/, help/, patchers/, models/,
package-info.json with the VERSION file's number, README.md, LICENSE) and runs the installed
externals in the mock of the Max API (test_max_mock) with an empty search path: they must find
models/demo.ts in their own package.

Run (ctest: max_package):
  python3 tests/max/check_package.py <build dir> <test_max_mock> <module suffix>
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List


def main(argv: List[str]) -> int:
    build, mock, suffix = Path(argv[1]), argv[2], argv[3]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["cmake", "--install", str(build), "--prefix", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        pkg = Path(tmp) / "nn_tilde"
        expected = [f"externals/{n}{suffix}" for n in ("nn~", "mc.nn~", "nn.info")]
        expected += [
            "help/nn~.maxhelp",
            "help/mc.nn~.maxhelp",
            "help/nn.info.maxhelp",
            "patchers/nn~ overview.maxpat",
            "models/demo.ts",
            "package-info.json",
            "README.md",
            "LICENSE",
        ]
        missing = [e for e in expected if not (pkg / e).exists()]
        for m in missing:
            print(f"package lacks {m}")
        info = json.loads((pkg / "package-info.json").read_text())
        version = (Path(__file__).resolve().parents[2] / "VERSION").read_text().strip()
        if info.get("name") != "nn_tilde" or info.get("homepatcher") != "nn~ overview.maxpat":
            print("package-info.json: unexpected name or homepatcher")
            missing.append("package-info.json")
        if info.get("version") != version:
            print(f"package-info.json: version {info.get('version')}, VERSION says {version}")
            missing.append("package-info.json")
        if not missing:
            # An empty search path: the externals must find demo.ts in their own package's models/.
            empty = Path(tmp) / "empty-search-path"
            empty.mkdir()
            run = subprocess.run(
                [mock, *(str(pkg / e) for e in expected[:3]), str(empty)],
                capture_output=True,
                text=True,
            )
            print(run.stdout + run.stderr, end="")
            if run.returncode != 0:
                missing.append("installed externals in the mock")
    print("1 passed, 0 failed" if not missing else "0 passed, 1 failed")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

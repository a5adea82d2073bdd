"""Checks the Linux builds of the Max externals against the Max SDK without Max: each module exports
only ext_main, and every Max symbol it leaves undefined is one the SDK declares as exported by Max
(script/max-linker-flags.txt, the macOS list) or by MSP (the import libraries MaxAPI.lib and
MaxAudio.lib name it). Symbols with a version (glibc, libstdc++) and C++ ones (libtorch, resolved
through the module's own DT_NEEDED libraries) are not Max's and are skipped.

Run:  python3 tests/max/check_symbols.py <max-sdk-base> <module>...   (ctest: max_symbols)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List


def dynamic_symbols(module: str, flag: str) -> List[str]:
    out = subprocess.run(
        ["nm", "-D", flag, module], check=True, capture_output=True, text=True
    ).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def main(argv: List[str]) -> int:
    sdk = Path(argv[1])
    listed = set(re.findall(r"-U,_(\w+)'", (sdk / "script" / "max-linker-flags.txt").read_text()))
    libs = [
        (sdk / "c74support" / "max-includes" / "x64" / "MaxAPI.lib").read_bytes(),
        (sdk / "c74support" / "msp-includes" / "x64" / "MaxAudio.lib").read_bytes(),
    ]
    problems: List[str] = []
    for module in argv[2:]:
        name = Path(module).name
        exported = [
            s
            for s in dynamic_symbols(module, "--defined-only")
            if s not in ("_edata", "_end", "__bss_start")
        ]
        if exported != ["ext_main"]:
            problems.append(f"{name}: exports {exported}, expected only ext_main")
        max_syms = [
            s
            for s in dynamic_symbols(module, "--undefined-only")
            if "@" not in s and not s.startswith(("_Z", "_ITM", "__gmon"))
        ]
        for s in max_syms:
            if s not in listed and not any(b"\0" + s.encode() + b"\0" in lib for lib in libs):
                problems.append(
                    f"{name}: undefined symbol {s} is not in the Max SDK's export lists"
                )
        print(
            f"{name}: {len(max_syms)} Max API symbols, all declared by the SDK"
            if not problems
            else "",
            end="\n",
        )
    for p in problems:
        print(p)
    print(
        f"{len(argv) - 2 - len({p.split(':')[0] for p in problems})} passed, "
        f"{len({p.split(':')[0] for p in problems})} failed"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Renders docs/MODEL_FORMAT.md's tables of limits and rules from python_tools/nn_tilde/rules.json,
the one file that defines them (tests/kit/test_contract_spec.py fails until this has been run
after an edit of rules.json).

    .venv/bin/python scripts/render_rules.py          # rewrite the tables
    .venv/bin/python scripts/render_rules.py --check  # exit 1 when they differ, change nothing
"""

import sys
from pathlib import Path

from nn_tilde import contract

SPEC = Path(__file__).resolve().parents[1] / "docs" / "MODEL_FORMAT.md"


def main(argv: list[str]) -> int:
    text = SPEC.read_text(encoding="utf-8")
    rendered = contract.render_spec(text)
    if rendered == text:
        print(f"{SPEC}: its tables are rules.json's")
        return 0
    if "--check" in argv:
        print(
            f"{SPEC}: its tables differ from rules.json; run scripts/render_rules.py",
            file=sys.stderr,
        )
        return 1
    SPEC.write_text(rendered, encoding="utf-8")
    print(f"{SPEC}: tables rendered from rules.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

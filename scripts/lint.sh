#!/usr/bin/env bash
# The one lint and format check of the repository (run by scripts/test.sh, hence by CI):
#   Python: ruff check + ruff format --check with ruff.toml, on every Python file;
#   C++:    clang-format-22 --dry-run -Werror with .clang-format, on every tracked .cpp/.h.
# To fix what it reports: .venv/bin/ruff check --fix . && .venv/bin/ruff format . &&
#   git ls-files '*.cpp' '*.h' | xargs clang-format-22 -i
set -euo pipefail
cd "$(dirname "$0")/.."
RUFF=${RUFF:-.venv/bin/ruff}
echo "== lint: ruff ($("$RUFF" --version))"
"$RUFF" check --no-cache .
"$RUFF" format --no-cache --check .
echo "== lint: clang-format ($(clang-format-22 --version | head -1))"
git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format-22 --dry-run -Werror
echo "lint: clean"

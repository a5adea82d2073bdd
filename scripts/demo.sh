#!/usr/bin/env bash
# The README's main job: set up, build nn~, render a sound through a shipped model in a real
# PureData patch (pd -batch), and print where the result is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python scripts/demo.py "$@"

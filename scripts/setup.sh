#!/usr/bin/env bash
# Installs what nn~ needs on a Debian 12 machine (run as root, or with sudo available) and builds it:
#   apt: PureData 0.53 (puredata-core, puredata-dev), cmake, g++, clang-22 + its sanitizer runtimes,
#        clang-format-22, fluidsynth + the General MIDI soundfont (fluid-soundfont-gm) for
#        `nn-tilde data`, python3 + python3-venv, git
#   Python: a virtual environment in .venv with torch==2.13.0 (CPU), the nn_tilde kit with its `train`
#        extra (matplotlib, scipy) and the test and lint tools (pytest, ruff)
#   build: build/nn~/nn~.pd_linux (+ help patch and models), usable as `pd -path build/nn~`
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
APT_PACKAGES="puredata-core puredata-dev cmake g++ clang-22 libclang-rt-22-dev clang-format-22 fluidsynth
  fluid-soundfont-gm python3 python3-venv git"
if ! dpkg -s $APT_PACKAGES >/dev/null 2>&1; then
  echo "== installing Debian packages: $APT_PACKAGES"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $APT_PACKAGES >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
# torch is pinned: an unpinned torch would pull several GB of CUDA packages.
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  echo "== installing torch==2.13.0 (CPU)"
  .venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
fi
echo "== installing the nn_tilde kit and test tools"
.venv/bin/pip install -q --disable-pip-version-check -e "python_tools[train]" pytest numpy soundfile \
  ruff==0.17.6

echo "== building nn~"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
cmake --build build -j"$(nproc)"
echo "nn~ is built: build/nn~/nn~.pd_linux (use it with: pd -path $PWD/build/nn~)"

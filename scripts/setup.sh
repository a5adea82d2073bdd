#!/usr/bin/env bash
# Installs what nn~ needs on a Debian 12 machine (run as root, or with sudo available) and builds it:
#   apt: PureData 0.53 (puredata-core, puredata-dev), cmake, g++, clang-22 + its sanitizer runtimes,
#        clang-format-22, fluidsynth + the General MIDI soundfont (fluid-soundfont-gm) for
#        `nn-tilde data`, python3 + python3-venv, git, patchelf (scripts/package.sh sets $ORIGIN rpaths);
#        for the patch layout test (tests/gui): Pd's Tk GUI (puredata-gui), Xvfb, ImageMagick (`import`,
#        screenshots) and the DejaVu fonts Pd draws with; for the DAW plugin (nn_tilde/plugin, docs/PLUGIN.md):
#        JUCE 7 (juce-modules-source, juce-tools), LV2 (lv2-dev), lilv (liblilv-dev for the LV2 test host,
#        lilv-utils for lv2info); juce-modules-source brings the X11, freetype, ALSA, Ogg Vorbis and FLAC
#        headers JUCE compiles and links against
#   Python: a virtual environment in .venv with torch==2.13.0 (CPU), the nn_tilde kit with its `train`
#        extra (matplotlib, scipy) and `accel` extra (onnx, onnxruntime, onnxscript: nn-tilde bench
#        --runtimes), the test and lint tools (pytest, ruff) and `build` (the kit's wheel and sdist in
#        scripts/package.sh)
#   Pd 0.55.2 (multichannel signals, pd64) and its GUI from Debian bookworm-backports, unpacked beside
#        the system's 0.53 into build/pd-0.55.2 (nothing installed): scripts/test.sh runs the Pd tests in
#        both
#   build: build/nn~/nn~.pd_linux and nn~.linux-amd64-64.so (pd64) (+ help patch and models), usable
#        as `pd -path build/nn~`
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
APT_PACKAGES="puredata-core puredata-dev cmake g++ clang-22 libclang-rt-22-dev clang-format-22 fluidsynth
  fluid-soundfont-gm python3 python3-venv git patchelf puredata-gui xvfb imagemagick fonts-dejavu-core
  juce-modules-source juce-tools lv2-dev liblilv-dev lilv-utils"
if ! dpkg -s $APT_PACKAGES >/dev/null 2>&1; then
  echo "== installing Debian packages: $APT_PACKAGES"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $APT_PACKAGES >/dev/null
fi

# Pd 0.55.2 beside 0.53: a private sources list and lists folder, so the system's apt setup is untouched;
# `apt-get download` + `dpkg -x` unpack the packages without installing them. Its binaries run from
# build/pd-0.55.2/usr/bin (puredata, puredata64). Its GUI (Tcl files, run by the system's Tk) lands in
# build/pd-0.55.2/usr/lib/puredata/tcl, which that puredata finds from its own location
# (usr/bin/../lib/puredata/tcl), so it never runs the system's 0.53 GUI (tests/gui checks this).
PD55=build/pd-0.55.2
PD55_VERSION=0.55.2+ds-1~bpo12+1
if [ ! -x "$PD55/usr/bin/puredata" ] || [ ! -x "$PD55/usr/bin/puredata64" ] ||
   [ ! -f "$PD55/usr/lib/puredata/tcl/pd-gui.tcl" ]; then
  echo "== unpacking Pd $PD55_VERSION (bookworm-backports) into $PD55"
  apt_dir="$PWD/build/apt-backports"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/debs" "$PD55"
  echo "deb http://deb.debian.org/debian bookworm-backports main" >"$apt_dir/sources.list"
  APT_OPTS=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$apt_dir/lists")
  $SUDO apt-get "${APT_OPTS[@]}" update -qq
  (cd "$apt_dir/debs" && $SUDO apt-get "${APT_OPTS[@]}" download -qq \
      "puredata-core=$PD55_VERSION" "puredata64-core=$PD55_VERSION" "puredata-extra=$PD55_VERSION" \
      "puredata-gui=$PD55_VERSION" 2>/dev/null)
  for deb in "$apt_dir"/debs/*.deb; do dpkg -x "$deb" "$PD55"; done
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
.venv/bin/pip install -q --disable-pip-version-check -e "python_tools[train,accel]" pytest numpy soundfile \
  ruff==0.17.6 build

echo "== building nn~"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
cmake --build build -j"$(nproc)"
echo "nn~ is built: build/nn~/nn~.pd_linux (use it with: pd -path $PWD/build/nn~)"
echo "Pd 0.55.2: $PWD/$PD55/usr/bin/puredata (and puredata64), e.g. NN_PD_BIN=$PWD/$PD55/usr/bin/puredata"

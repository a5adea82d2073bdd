#!/usr/bin/env bash
# The README's test command (and what CI runs): set up, lint (scripts/lint.sh), then every test.
#   1. C++ tests with ctest in the plain build (torch engine + stream hand-off)
#   2. the torch-free hand-off under ThreadSanitizer, AddressSanitizer and RealtimeSanitizer (clang-22)
#   3. pytest: Pd patch tests (renders compared with Python, bad input, help patch) and the kit's tests,
#      the layout of the shipped patches in the Pd 0.53 and 0.55.2 GUIs under Xvfb (tests/gui),
#      with Debian's Pd 0.53
#      and, on the release that scripts/package.sh makes in dist/ (built before pytest), the package
#      tests (tests/package): the .dek on a clean machine with Pd 0.53, 0.55.2 and pd64, the kit's
#      wheel in a fresh virtual environment, one version everywhere; the DAW plugin (tests/plugin):
#      the built VST3 and LV2 in a JUCE test host and the LV2 in a lilv host, renders compared with
#      Python, state, bad files, and its editor under Xvfb
#   4. the Pd patch tests (tests/pd) again with Pd 0.55.2 (multichannel signals), then the multichannel
#      and help tests with its pd64 (nn~.linux-amd64-64.so)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/lint.sh

echo "== ctest: plain build"
ctest --test-dir build --output-on-failure

for san in thread address realtime; do
  echo "== ctest: $san sanitizer (torch-free core)"
  cmake -S . -B "build-$san" -DNN_WITH_TORCH=OFF -DNN_SANITIZER="$san" -DCMAKE_CXX_COMPILER=clang++-22 \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "build-$san" -j"$(nproc)"
  ctest --test-dir "build-$san" --output-on-failure
done

echo "== package (scripts/package.sh): the release in dist/, for tests/package"
NN_PACKAGE_SKIP_SETUP=1 bash scripts/package.sh

echo "== pytest"
# The reference nn_tilde Python package (1.6.0) goes to its own folder: it has the same import name
# as our kit. Only the compatibility test uses it, in a subprocess.
REF_WHEEL=build/wheels/nn_tilde-1.6.0-py3-none-any.whl
if [ ! -f "$REF_WHEEL" ]; then
  .venv/bin/pip download -q --disable-pip-version-check --no-deps -d build/wheels nn-tilde==1.6.0
fi
if [ ! -d build/ref-nn-tilde/nn_tilde ]; then
  .venv/bin/pip install -q --disable-pip-version-check --no-deps --target build/ref-nn-tilde "$REF_WHEEL"
fi
export NN_REF_PACKAGE_DIR="$PWD/build/ref-nn-tilde"
export NN_TILDE_REFERENCE_WHEEL="$PWD/$REF_WHEEL"
export NN_PD_DIR="$PWD/build/nn~"
export NN_STRICT_SKIPS=1  # a skipped test fails the run: everything must run here
.venv/bin/python -m pytest tests "$@"

PD55="$PWD/build/pd-0.55.2/usr/bin"
echo "== pytest: Pd patch tests with Pd 0.55.2"
NN_PD_BIN="$PD55/puredata" .venv/bin/python -m pytest tests/pd "$@"
echo "== pytest: multichannel and help tests with Pd 0.55.2 pd64 (double precision)"
NN_PD_BIN="$PD55/puredata64" .venv/bin/python -m pytest tests/pd/test_multichannel.py tests/pd/test_help.py "$@"

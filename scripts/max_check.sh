#!/usr/bin/env bash
# Everything about the Max externals that can be checked on Linux, where Max does not run:
#   1. build nn~, mc.nn~ and nn.info for Linux against the SDK's headers (NN_BUILD_MAX=ON) and run
#      ctest: host helpers, the help patchers, the SDK symbol check and the mock-Max run (tests/max/);
#   2. when a MinGW-w64 cross compiler is installed (apt-get install g++-mingw-w64-x86-64-posix),
#      compile the three externals for Windows (WIN_VERSION, the real windows.h) and link them into
#      .mxe64 DLLs against the SDK's MaxAPI.lib and MaxAudio.lib, with the torch side of the core
#      replaced by tests/max/model_stub.cpp (no libtorch for Windows here): a compile-and-link check.
# The SDK is not downloaded: pass a checkout of Cycling74/max-sdk-base (MIT).
#   bash scripts/max_check.sh <max-sdk-base>
set -euo pipefail
cd "$(dirname "$0")/.."
SDK_ROOT="${1:-${MAX_SDK_PATH:-}}"
if [ -z "$SDK_ROOT" ] || [ ! -f "$SDK_ROOT/c74support/max-includes/ext.h" ]; then
  echo "usage: bash scripts/max_check.sh <checkout of Cycling74/max-sdk-base> (git clone https://github.com/Cycling74/max-sdk-base)" >&2
  exit 2
fi
SDK_ROOT="$(cd "$SDK_ROOT" && pwd)"
echo "== max-sdk-base: $(git -C "$SDK_ROOT" log -1 --format='%H %ci' 2>/dev/null || echo 'not a git checkout')"

echo "== Linux build of the Max externals + ctest"
# libtorch comes from the torch wheel in the venv that scripts/setup.sh makes (no venv needs activating).
PY_ARGS=()
if [ -x .venv/bin/python ]; then PY_ARGS=(-DPython3_EXECUTABLE="$PWD/.venv/bin/python"); fi
cmake -S . -B build-max -DNN_BUILD_MAX=ON -DMAX_SDK_PATH="$SDK_ROOT" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${PY_ARGS[@]}" >/dev/null
cmake --build build-max -j"$(nproc)"
ctest --test-dir build-max -R "host|max_" --output-on-failure

CROSS=x86_64-w64-mingw32-g++-posix
if ! command -v "$CROSS" >/dev/null; then
  echo "== $CROSS not installed: Windows compile-and-link check skipped"
  exit 0
fi
echo "== Windows (MinGW-w64) compile of the externals and link against MaxAPI.lib / MaxAudio.lib"
OUT=build-max/windows-check
mkdir -p "$OUT"
S="$SDK_ROOT/c74support"
CXX=("$CROSS" -std=c++20 -O2 -Wall -Wextra -Werror -Wno-cast-function-type -DWIN_VERSION -DMAXAPI_USE_MSCRT -D_USE_MATH_DEFINES
     "-DNN_VERSION=\"$(cat VERSION)\"" -Inn_tilde/core -Ibuild-max/generated -isystem "$S" -isystem "$S/max-includes" -isystem "$S/msp-includes")
CORE_UNITS=(engine instance exit_guard contract model_info host stream stream_audio stream_worker frames)
for f in "${CORE_UNITS[@]}"; do "${CXX[@]}" -c "nn_tilde/core/$f.cpp" -o "$OUT/$f.o"; done
"${CXX[@]}" -c tests/max/model_stub.cpp -o "$OUT/model_stub.o"
"${CXX[@]}" -c nn_tilde/max/nn_tilde_max.cpp -o "$OUT/nn_tilde_max.o"
"${CXX[@]}" -DNN_MAX_MC=1 -c nn_tilde/max/nn_tilde_max.cpp -o "$OUT/mc_nn_tilde_max.o"
"${CXX[@]}" -c nn_tilde/max/nn_info_max.cpp -o "$OUT/nn_info_max.o"
CORE=()
for f in "${CORE_UNITS[@]}"; do CORE+=("$OUT/$f.o"); done
CORE+=("$OUT/model_stub.o" "$S/max-includes/x64/MaxAPI.lib" "$S/msp-includes/x64/MaxAudio.lib")
"$CROSS" -shared -static -o "$OUT/nn~.mxe64" "$OUT/nn_tilde_max.o" "${CORE[@]}"
"$CROSS" -shared -static -o "$OUT/mc.nn~.mxe64" "$OUT/mc_nn_tilde_max.o" "${CORE[@]}"
"$CROSS" -shared -static -o "$OUT/nn.info.mxe64" "$OUT/nn_info_max.o" "${CORE[@]}"
for f in "$OUT"/*.mxe64; do
  exports=$(x86_64-w64-mingw32-objdump -p "$f" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | grep -c ext_main || true)
  echo "$(basename "$f"): links against $(x86_64-w64-mingw32-objdump -p "$f" | grep 'DLL Name' | awk '{print $3}' | tr '\n' ' '); exports ext_main: $exports"
done
echo "== Windows compile-and-link check: ok"

#!/usr/bin/env bash
# Makes the release in dist/, on a fresh clone as on a working one (it sets up what it needs first, as
# scripts/demo.sh does; NN_PACKAGE_SKIP_SETUP=1 skips that when scripts/test.sh has just run it):
#   nn~[v<VERSION>](Linux-amd64-32)(Linux-amd64-64).dek   the Pd package as deken expects it: a zip of
#       nn~/ holding the external for Pd and pd64, the help patches, the spec, the demo model, README,
#       LICENSE, CHANGELOG and the libtorch libraries the externals load, found through $ORIGIN only
#   <that>.dek.sha256, <that>.dek.txt (the objects file deken shows: one "object<TAB>description" line)
#   nn_tilde_kit-<VERSION>-py3-none-any.whl and nn_tilde_kit-<VERSION>.tar.gz   the kit (python -m build)
# and prints the sizes. <VERSION> is the VERSION file, the one version of nn~ (docs/INSTALL.md).
# tests/package/test_clean_install.py proves the result on a clean machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${NN_PACKAGE_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi

VERSION="$(tr -d '[:space:]' <VERSION)"
DIST="$PWD/dist"
STAGE="$PWD/build/package"
PY="$PWD/.venv/bin/python"
TORCH_LIB="$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
# Libraries every Linux that runs Pd has (glibc, the GCC runtime): never shipped. Anything else an
# external needs must come from torch/lib, or packaging stops (a package that works only here is
# worse than none).
SYSTEM_LIBS=" libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 \
libstdc++.so.6 libgcc_s.so.1 "

# The names in an ELF file's DT_NEEDED entries.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }

# bundle_libtorch <dir> <elf>...: copies into <dir> the libraries the ELF files load, read from their
# DT_NEEDED entries recursively and resolved in torch/lib only (not a copy of torch/lib: no Python
# bindings, no test libraries), strips them and every given file of what the loader does not use,
# and sets every RUNPATH to $ORIGIN, so the folder works wherever it is unpacked and never reaches
# into the build's .venv. The plugin bundles use it too (their binary folder is <dir>).
bundle_libtorch() {
  local dir="$1" elf lib
  shift
  local -a todo=("$@") files=("$@")
  local -A seen=()
  while [ "${#todo[@]}" -gt 0 ]; do
    elf="${todo[0]}"
    todo=("${todo[@]:1}")
    for lib in $(needed "$elf"); do
      [ -n "${seen[$lib]:-}" ] && continue
      seen[$lib]=1
      if [ -f "$TORCH_LIB/$lib" ]; then
        cp "$TORCH_LIB/$lib" "$dir/$lib"
        todo+=("$dir/$lib")
        files+=("$dir/$lib")
      elif [[ "$SYSTEM_LIBS" != *" $lib "* ]]; then
        echo "package.sh: $(basename "$elf") needs $lib, which is neither in torch/lib ($TORCH_LIB) nor a" \
             "system library every Linux has; add it to the package or to SYSTEM_LIBS with a reason" >&2
        exit 1
      fi
    done
  done
  # strip first: patchelf's rewrite of the dynamic section must be the last change to a file.
  strip --strip-unneeded "${files[@]}"
  for elf in "${files[@]}"; do patchelf --set-rpath '$ORIGIN' "$elf"; done
  # ldd resolves as the loader does (no LD_LIBRARY_PATH, env -i): every torch library inside <dir>.
  for elf in "${files[@]}"; do
    local out
    out="$(env -i /usr/bin/ldd "$elf")"
    # Match the library's name, not the whole line: ldd prints load addresses, and a random one such
    # as 0x7f33be4c1000 holds "c10".
    if grep -q "not found" <<<"$out" || grep -E "^\s*lib(torch|c10|gomp)[^ ]* =>" <<<"$out" | grep -vqF "$dir/"; then
      echo "package.sh: $(basename "$elf") does not load its libraries from $dir:" >&2
      echo "$out" >&2
      exit 1
    fi
  done
}

echo "== nn~ $VERSION: building the Pd externals"
cmake --build build -j"$(nproc)" --target nn_pd nn_pd64 nn_pd_files
rm -rf "$STAGE" && mkdir -p "$STAGE/nn~/models" "$DIST"

# ---- the Pd package (deken) ----------------------------------------------------------------------
PD_DIR="$STAGE/nn~"
PD_EXTERNALS=("$PD_DIR/nn~.pd_linux" "$PD_DIR/nn~.linux-amd64-64.so")
cp build/nn~/nn~.pd_linux build/nn~/nn~.linux-amd64-64.so "$PD_DIR/"
cp patches/nn~-help.pd patches/nn~-multichannel.pd docs/MODEL_FORMAT.md README.md LICENSE CHANGELOG.md "$PD_DIR/"
# The demo model only: the help patch plays it, and `[nn~ demo]` finds it in models/ from any patch.
cp models/demo.ts "$PD_DIR/models/"
echo "== bundling libtorch into nn~/"
bundle_libtorch "$PD_DIR" "${PD_EXTERNALS[@]}"

DEK="nn~[v$VERSION](Linux-amd64-32)(Linux-amd64-64).dek"
rm -f "$DIST"/nn~*.dek "$DIST"/nn~*.dek.*
# A deflated zip with Unix modes kept (the externals and libraries stay executable when unpacked).
(cd "$STAGE" && "$PY" - "$DIST/$DEK" nn~ <<'EOF'
import os, sys, zipfile
out, top = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for root, dirs, files in os.walk(top):
        dirs.sort()
        z.write(root)
        for f in sorted(files):
            z.write(os.path.join(root, f))
EOF
)
(cd "$DIST" && sha256sum "$DEK" >"$DEK.sha256")
printf 'nn~\tneural audio models (TorchScript, nn~ convention) as a signal object, on libtorch %s\n' \
  "$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')" >"$DIST/$DEK.txt"

# ---- the plugin bundles (nn~.vst3, nn~.lv2) ------------------------------------------------------
# Hook: the DAW plugin does not exist yet. When its targets do, build them here, copy each bundle to
# $STAGE, call `bundle_libtorch <bundle>/Contents/x86_64-linux <binary>` (VST3; the .lv2 folder holds
# its binary at the top) so libtorch sits inside the bundle, and zip each bundle into dist/ as
# nn~-<VERSION>-linux-x86_64.vst3.zip / .lv2.zip. The clean-machine test then runs them in the
# plugin's test hosts (tests/package/test_clean_install.py).
if [ -n "${NN_PLUGIN_TARGETS:-}" ]; then
  echo "package.sh: NN_PLUGIN_TARGETS is set, but packaging the plugin bundles is not written yet" >&2
  exit 1
fi

# ---- the kit (wheel + sdist) ---------------------------------------------------------------------
echo "== building the kit (python -m build)"
rm -f "$DIST"/nn_tilde_kit-*
"$PY" -m build --outdir "$DIST" python_tools >"$STAGE/build-kit.log" 2>&1 || {
  cat "$STAGE/build-kit.log" >&2
  exit 1
}
rm -rf python_tools/build  # setuptools' own staging folder

echo "== dist/ (nn~ $VERSION)"
echo "libraries in nn~/ (unpacked):"
(cd "$PD_DIR" && du -h -- *.pd_linux *.so* | sort -h)
echo "nn~/ unpacked: $(du -sh "$PD_DIR" | cut -f1)"
(cd "$DIST" && du -h -- "$DEK" nn_tilde_kit-*)

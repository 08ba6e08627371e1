#!/usr/bin/env bash
# Builds the patch loader's fuzzer as a hot-patchable program, and its seed:
#   build.sh <clang++> <plugin> <thinlink> <include dir> <sources> <out dir> <out binary> <objects...>
# The hot code (v1.cpp, plugin, -O2, no sanitizers) and the objects (the
# harness and the runtime, instrumented) are linked by thinlink with
# libFuzzer; <out dir>/seed/good.hpp is the patch of v2.cpp against it, and
# seed-cache/, seed-chain/ hold its module cache and chain state.
set -euo pipefail
CXX=$1 PLUGIN=$2 THINLINK=$3 INCLUDE=$4 SRC=$5 OUT=$6 BIN=$7
shift 7
rm -rf "$OUT" && mkdir -p "$OUT/seed" && cd "$OUT"
FLAGS=(-I"$INCLUDE" -fplugin="$PLUGIN" -fplugin-arg-hotpatch-all -O2)
cp "$SRC/v1.cpp" target.cpp
"$CXX" "${FLAGS[@]}" -c target.cpp -o target.o
"$CXX" -fuse-ld=lld --ld-path="$THINLINK" -fsanitize=fuzzer,address,undefined target.o "$@" \
  -pthread -ldl -o "$BIN"
cp "$SRC/v2.cpp" target.cpp
"$CXX" "${FLAGS[@]}" -c target.cpp -o target.o
"$THINLINK" --patch --base "$BIN" -o seed/good.hpp target.o > /dev/null
# Real files for the other fuzzers' seeds; then the chain is forgotten, so
# that the fuzzer starts unpatched (no journal to catch up with).
mkdir -p seed-cache seed-chain
cp "$BIN.hpcache" seed-cache/
mv "$BIN.hpchain" seed-chain/
rm -f "$BIN.hpjournal"

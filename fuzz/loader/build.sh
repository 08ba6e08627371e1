#!/usr/bin/env bash
# Builds the patch loader's fuzzer as a hot-patchable program, and its seed:
#   build.sh <clang++> <plugin> <thinlink> <include dir> <sources> <out dir> <out binary> <objects...>
# <sources> is test/patch_target: the hot code is the patch-check program's
# functions (v1.cpp, without its main: HOTPATCH_TARGET_NO_MAIN; plugin, -O2,
# no sanitizers) and the objects (the
# harness and the runtime, instrumented) are linked by thinlink with
# libFuzzer; <out dir>/seed/good.hpp is the patch of v2.cpp against it,
# seed-chain/ holds its chain state and seed-cache/ the module cache of a
# small program of the same hot code.
set -euo pipefail
CXX=$1 PLUGIN=$2 THINLINK=$3 INCLUDE=$4 SRC=$5 OUT=$6 BIN=$7
shift 7
rm -rf "$OUT" && mkdir -p "$OUT/seed" && cd "$OUT"
FLAGS=(-I"$INCLUDE" -I"$SRC" -DHOTPATCH_TARGET_NO_MAIN -fplugin="$PLUGIN" -fplugin-arg-hotpatch-all -O2)
cp "$SRC/v1.cpp" target.cpp
"$CXX" "${FLAGS[@]}" -c target.cpp -o target.o
"$CXX" -fuse-ld=lld --ld-path="$THINLINK" -fsanitize=fuzzer,address,undefined target.o "$@" \
  -pthread -ldl -o "$BIN"
# A small program of the same hot code: its module cache is the cache
# fuzzer's seed (the fuzzer's own cache describes the sanitizers' runtimes
# too, and is 70 times larger).
echo 'int fuzz_target_anchor(); int main() { return fuzz_target_anchor(); }' > small-main.cpp
"$CXX" -O2 -c small-main.cpp -o small-main.o
"$CXX" -fuse-ld=lld --ld-path="$THINLINK" target.o small-main.o -o small
cp "$SRC/v2.cpp" target.cpp
"$CXX" "${FLAGS[@]}" -c target.cpp -o target.o
"$THINLINK" --patch --base "$BIN" -o seed/good.hpp target.o > /dev/null
# Real files for the other fuzzers' seeds; then the chain is forgotten, so
# that the fuzzer starts unpatched (no journal to catch up with).
mkdir -p seed-cache seed-chain
cp small.hpcache seed-cache/
mv "$BIN.hpchain" seed-chain/
rm -f "$BIN.hpjournal"

#!/usr/bin/env bash
# Builds the program the patch-check tests patch, and one good patch for it:
#   build.sh <clang++> <plugin> <thinlink> <include dir> <runtime dir> <sources> <out dir> [link flags...]
# <out dir>/app is linked from v1.cpp, <out dir>/good.hpp made from v2.cpp.
set -euo pipefail
CXX=$1 PLUGIN=$2 THINLINK=$3 INCLUDE=$4 LIBDIR=$5 SRC=$6 OUT=$7
LINK_FLAGS=("${@:8}") # the sanitizers' runtime, when the runtime was built with them
rm -rf "$OUT" && mkdir -p "$OUT" && cd "$OUT"
FLAGS=(-I"$INCLUDE" -I"$SRC" -fplugin="$PLUGIN" -fplugin-arg-hotpatch-all -O2)
cp "$SRC/v1.cpp" app.cpp
"$CXX" "${FLAGS[@]}" -c app.cpp -o app.o
"$CXX" -fuse-ld=lld --ld-path="$THINLINK" app.o -L"$LIBDIR" -lhotpatch -Wl,-rpath,"$LIBDIR" \
  -pthread "${LINK_FLAGS[@]}" -o app
cp "$SRC/v2.cpp" app.cpp
"$CXX" "${FLAGS[@]}" -c app.cpp -o app.o
"$THINLINK" --patch --base ./app -o good.hpp app.o > /dev/null

# The same with debug info, in g/: a patch that carries DWARF and a line
# table (hotpatch/patch_format.h, HOTPATCH_LINES_SECTION).
mkdir g && cd g
cp "$SRC/v1.cpp" app.cpp
"$CXX" "${FLAGS[@]}" -g -c app.cpp -o app.o
"$CXX" -fuse-ld=lld --ld-path="$THINLINK" app.o -L"$LIBDIR" -lhotpatch -Wl,-rpath,"$LIBDIR" \
  -pthread "${LINK_FLAGS[@]}" -o app
cp "$SRC/v2.cpp" app.cpp
"$CXX" "${FLAGS[@]}" -g -c app.cpp -o app.o
"$THINLINK" --patch --base ./app -o good.hpp app.o > /dev/null

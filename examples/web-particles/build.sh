#!/usr/bin/env bash
# Builds the example into <out dir> with the Hotpatch build at <hotpatch
# build dir>: particles.o, particles.wasm and the compile_commands.json that
# web/dev-server.mjs recompiles from.
#
#   bash examples/web-particles/build.sh <hotpatch build dir> <out dir>
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HP="$(cd "$1" && pwd)"
mkdir -p "$2"
OUT="$(cd "$2" && pwd)"
CXX=/usr/lib/llvm-19/bin/clang++
FLAGS="--target=wasm32-wasi --sysroot=/usr -fPIC -fvisibility=default -fno-exceptions -matomics -mbulk-memory -O2 -fplugin=$HP/lib/hotpatch.so -fplugin-arg-hotpatch-all"
COMPILE="$CXX $FLAGS -c $HERE/particles.cpp -o $OUT/particles.o"
$COMPILE
"$CXX" --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -fuse-ld="$HP/bin/thinlink" \
  -Wl,--no-check-features,--import-memory,--shared-memory,--max-memory=67108864 \
  "$OUT/particles.o" -o "$OUT/particles.wasm"
cat > "$OUT/compile_commands.json" <<JSON
[{"directory": "$OUT", "file": "$HERE/particles.cpp", "command": "$COMPILE", "output": "$OUT/particles.o"}]
JSON

#!/usr/bin/env bash
# The main job: builds Hotpatch, starts examples/counter, edits its source
# while it runs, and patches the running process: its output changes within a
# second and its state (the count and the running total) carries on.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOTPATCH_BUILD_DIR:-$ROOT/build}"

bash "$ROOT/scripts/build.sh"

WORK="$BUILD/demo"
rm -rf "$WORK" && mkdir -p "$WORK"
cp "$ROOT/examples/counter/counter.cpp" "$WORK/counter.cpp"
cd "$WORK"

CXX=/usr/lib/llvm-19/bin/clang++
COMPILE=("$CXX" -fplugin="$BUILD/lib/hotpatch.so" -fplugin-arg-hotpatch-all
         -I"$ROOT/runtime/include" -O2 -g -c counter.cpp -o counter.o)
"${COMPILE[@]}"
"$CXX" -fuse-ld=lld --ld-path="$BUILD/bin/thinlink" counter.o -o counter \
  -L"$BUILD/lib" -lhotpatch -Wl,-rpath,"$BUILD/lib"

echo "== examples/counter is running (every function it defines is hot) =="
./counter > counter.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
sleep 1.3
cat counter.log

echo
echo "== editing counter.cpp: render() shouts, step() counts by ten =="
sed -i 's/"count " + std::to_string(count) + ", total "/"COUNT " + std::to_string(count) + " (patched!), TOTAL "/; s/return count + 1;/return count + 10;/' counter.cpp
T0=$(date +%s%N)
"${COMPILE[@]}"
T1=$(date +%s%N)
"$BUILD/bin/thinlink" --patch --base ./counter -o edit.hpp counter.o
T2=$(date +%s%N)
"$BUILD/bin/hotpatch" apply --pid "$PID" edit.hpp
T3=$(date +%s%N)
LINES=$(wc -l < counter.log)
sleep 1.2
echo
echo "== the same process, after the patch =="
tail -n +"$((LINES + 1))" counter.log
kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
trap - EXIT
printf '\nedit to new code running: %d ms (compile %d ms, thin link %d ms, apply %d ms)\n' \
  $(( (T3 - T0) / 1000000 )) $(( (T1 - T0) / 1000000 )) $(( (T2 - T1) / 1000000 )) $(( (T3 - T2) / 1000000 ))

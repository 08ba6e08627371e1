#!/usr/bin/env bash
# The main job: builds Hotpatch, builds examples/counter (an ordinary CMake
# project using the Hotpatch package), runs it under `hotpatch dev`, edits its
# source while it runs, shows its output change and the measured latency,
# then restores the file (which patches it back). The program's state (the
# count and the running total) carries on across both patches.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOTPATCH_BUILD_DIR:-$ROOT/build}"

bash "$ROOT/scripts/build.sh"

WORK="$BUILD/demo"
rm -rf "$WORK" && mkdir -p "$WORK"
cp -r "$ROOT/examples/counter" "$WORK/src"
SRC="$WORK/src/counter.cpp"
cp "$SRC" "$WORK/counter.cpp.orig"
cmake -S "$WORK/src" -B "$WORK/build" -G Ninja \
  -DCMAKE_CXX_COMPILER=/usr/lib/llvm-19/bin/clang++ -DHotpatch_DIR="$BUILD" >/dev/null
cmake --build "$WORK/build" >/dev/null

LOG="$WORK/dev.log"
"$BUILD/bin/hotpatch" dev -p "$WORK/build" -- "$WORK/build/counter" > "$LOG" 2>&1 &
DEV=$!
trap 'kill -INT $DEV 2>/dev/null || true; cp "$WORK/counter.cpp.orig" "$SRC"' EXIT

wait_for() { # wait_for <count of matching lines> <pattern>
  for _ in $(seq 1 300); do
    [ "$(grep -c -- "$2" "$LOG" || true)" -ge "$1" ] && return 0
    sleep 0.02
  done
  echo "demo: timed out waiting for '$2'" >&2; cat "$LOG" >&2; return 1
}

echo "== hotpatch dev -- counter (every function is hot) =="
wait_for 4 "^count "
cat "$LOG"

echo
echo "== editing counter.cpp while it runs: render() shouts, step() counts by ten =="
sed -i 's/"count " + std::to_string(count) + ", total "/"COUNT " + std::to_string(count) + " (patched!), TOTAL "/; s/return count + 1;/return count + 10;/' "$SRC"
LINES=$(wc -l < "$LOG")
wait_for 1 "^\[hotpatch\] patched"
wait_for 3 "(patched!)"
tail -n +"$((LINES + 1))" "$LOG"

echo
echo "== restoring counter.cpp: patched back, the count carries on =="
cp "$WORK/counter.cpp.orig" "$SRC"
LINES=$(wc -l < "$LOG")
wait_for 2 "^\[hotpatch\] patched"
sleep 0.9
tail -n +"$((LINES + 1))" "$LOG"

kill -INT "$DEV"; wait "$DEV" 2>/dev/null || true
trap - EXIT
echo
echo "save to new code running, as hotpatch dev measured it:"
grep "^\[hotpatch\] patched" "$LOG" | sed 's/^/  /'

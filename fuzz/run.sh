#!/usr/bin/env bash
# Runs one fuzzer briefly from its seeds, as a test:
#   run.sh <fuzzer> <seed dir or -> [libFuzzer options...]
# The corpus is a scratch copy of the seeds (libFuzzer adds to it); the
# fuzzer's exit status is the test's (nonzero on a crash or a sanitizer
# report, whose input libFuzzer saves under the scratch directory's name
# printed below).
set -euo pipefail
FUZZER=$(realpath "$1") SEEDS=$2
shift 2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hotpatch-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/corpus"
[[ $SEEDS != - ]] && cp "$SEEDS"/* "$WORK/corpus/"
cd "$WORK"
export HOTPATCH_DISABLE=1 HOTPATCH_NO_CATCH_UP=1
if ! "$FUZZER" -artifact_prefix="$WORK/" "$@" corpus; then
  keep=$(mktemp -d "${TMPDIR:-/tmp}/hotpatch-fuzz-crash.XXXXXX")
  cp "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* "$keep"/ 2>/dev/null || true
  echo "run.sh: the failing input is kept in $keep" >&2
  exit 1
fi

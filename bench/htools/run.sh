#!/bin/bash
# htools benchmark: Ganeti's hbal/hail/hspace and ours on the same inputs,
# through the shared harness (/work/shared/bench/htools/bench.py).
#   bench/htools/run.sh [--only REGEX] [--skip-slow] [--tier normal]
# The synthetic corpus is generated into bench/htools/corpus (not committed).
# Results: bench/htools/results-{ganeti,ours}.json and compare-ours.txt.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${HTOOLS_BENCH:-/work/shared/bench/htools}"
export CORPUS="$HERE/corpus"
export GANETI_TESTDATA="$("$REPO/scripts/ensure-ganeti-testsuite.sh")"
cd "$HERE"
python3 "$SHARED/bench.py" gen
python3 "$SHARED/bench.py" run --label ganeti --out "$HERE/results-ganeti.json" "$@"
HBAL_CMD="node $REPO/server/bin/hbal.js" HAIL_CMD="node $REPO/server/bin/hail.js" \
HSPACE_CMD="node $REPO/server/bin/hspace.js" \
  python3 "$SHARED/bench.py" run --label ours --out "$HERE/results-ours.json" "$@"
python3 "$SHARED/bench.py" compare "$HERE/results-ganeti.json" "$HERE/results-ours.json" | tee "$HERE/compare-ours.txt"

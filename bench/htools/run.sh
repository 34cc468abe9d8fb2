#!/bin/bash
# htools benchmark: Ganeti's hbal/hail/hspace and ours on the same inputs,
# through the benchmark harness in $HTOOLS_BENCH (bench.py, gen.py; kept outside
# the repository, see docs/benchmarks.md).
#   bench/htools/run.sh [--only REGEX] [--skip-slow] [--tier normal]
# The synthetic corpus is generated into bench/htools/corpus (not committed).
# Results: bench/htools/results-{ganeti,ours}.json and compare-ours.txt.
# Our tools run as plain-JS bundles (server/dist/htools, built here with
# esbuild): through tsx each start costs ~0.3 s of CPU, which would dominate
# the small cases.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${HTOOLS_BENCH:-/work/shared/bench/htools}"
export CORPUS="$HERE/corpus"
export GANETI_TESTDATA="$("$REPO/scripts/ensure-ganeti-testsuite.sh")"
(cd "$REPO" && npm run --silent build:htools -w server)
DIST="$REPO/server/dist/htools"
# The bundles run as shipped: as executables, through their shebang (Node
# with one GC thread, and for hspace main-thread compiles; without
# NODE_EXTRA_CA_CERTS, which the tools never use and which costs every Node
# start ~50 ms here to load a CA bundle).
cd "$HERE"
python3 "$SHARED/bench.py" gen
python3 "$SHARED/bench.py" run --label ganeti --out "$HERE/results-ganeti.json" "$@"
# hail's and hspace's shebangs also compile optimised code on the main thread
# (docs/htools.md, "hspace's compile time").
HBAL_CMD="$DIST/hbal.cjs" HAIL_CMD="$DIST/hail.cjs" HSPACE_CMD="$DIST/hspace.cjs" \
  python3 "$SHARED/bench.py" run --label ours --out "$HERE/results-ours.json" "$@"
python3 "$SHARED/bench.py" compare "$HERE/results-ganeti.json" "$HERE/results-ours.json" | tee "$HERE/compare-ours.txt"

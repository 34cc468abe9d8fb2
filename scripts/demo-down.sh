#!/usr/bin/env bash
# make demo-down: stop the demo cluster in DIR (default ./.demo), remove its
# state and the network namespace its node kept its bridges in.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-$PWD/.demo}"
NETNS=""
if [ -f "$DIR/noded.json" ]; then
  NETNS="$(node -e "console.log(require('$DIR/noded.json').netns ?? '')")"
fi
if [ -d "$DIR" ]; then node cli/bin/gnt.js cluster destroy --yes-do-it --data-dir "$DIR"; fi
if [ -n "$NETNS" ]; then ip netns del "$NETNS" 2>/dev/null || true; fi

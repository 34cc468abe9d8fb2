#!/usr/bin/env bash
# The demo cluster of `make demo` (scripts/demo.sh) on its own: a one-node
# cluster in DIR (default ./.demo) on 127.0.0.1, random ports, its node's
# bridges in a network namespace of its own, credentials in DIR/demo.env.
# Reused if it is already running. test/docs/docs-run.int.test.ts starts the
# same cluster in a temp dir to run the docs' commands.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-$PWD/.demo}"
GNT="node cli/bin/gnt.js"
alive() { [ -f "$DIR/$1.runtime.json" ] && kill -0 "$(node -e "console.log(require('$DIR/$1.runtime.json').pid)")" 2>/dev/null; }

if alive master && alive node; then
  echo "Reusing the running demo cluster in $DIR"
else
  [ -d "$DIR" ] && bash scripts/demo-down.sh "$DIR" >/dev/null
  # The node keeps its bridges (xen-br0, the default NIC link, and br0, the
  # examples' link) and taps in a
  # network namespace of its own, so the demo never touches the host's network.
  NETNS="gts-demo-$(node -e 'console.log(require("crypto").randomBytes(4).toString("hex"))')"
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  for br in xen-br0 br0; do
    ip -n "$NETNS" link add "$br" type bridge
    ip -n "$NETNS" link set "$br" up
  done
  # A fresh password for the demo's RAPI user, kept in DIR/demo.env (mode 0600), never printed.
  PASS="$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')"
  $GNT cluster init demo.ganeti-ts.local --data-dir "$DIR" \
    --rapi-port 0 --node-port 0 --node-name node1.demo.local \
    --rapi-user admin --rapi-password "$PASS" \
    --enabled-hypervisors fake,kvm \
    --enabled-disk-templates diskless,file,sharedfile \
    --default-iallocator-params no-capacity-checks \
    --node-netns "$NETNS"
  URL="$(node -e "console.log(require('$DIR/master.runtime.json').rapiUrl)")"
  umask 077
  cat > "$DIR/demo.env" <<ENV
export GANETI_RAPI_URL=$URL
export GANETI_RAPI_USER=admin
export GANETI_RAPI_PASSWORD=$PASS
export GANETI_RAPI_CA=$DIR/rapi.pem
ENV
fi

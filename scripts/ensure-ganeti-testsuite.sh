#!/bin/sh
# Make Ganeti's htools test corpus available and print its data directory.
#
#   scripts/ensure-ganeti-testsuite.sh            # -> .../test/data/htools
#
# The Debian package ganeti-testsuite depends on the full ganeti daemon
# package, so it is not installed: it is downloaded and unpacked into
# $GANETI_TESTSUITE_ROOT (default /opt/ganeti-testsuite) if missing.
# The shelltests live in <root>/usr/share/ganeti/testsuite/test/hs/shelltests.
set -eu
ROOT="${GANETI_TESTSUITE_ROOT:-/opt/ganeti-testsuite}"
DATA="$ROOT/usr/share/ganeti/testsuite/test/data/htools"
if [ ! -f "$DATA/hbal-evac.data" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cd "$tmp"
  if ! apt-get download ganeti-testsuite >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get download ganeti-testsuite >/dev/null
  fi
  mkdir -p "$ROOT"
  dpkg -x ganeti-testsuite_*.deb "$ROOT"
fi
[ -f "$DATA/hbal-evac.data" ] || { echo "ganeti-testsuite data not found in $DATA" >&2; exit 1; }
echo "$DATA"

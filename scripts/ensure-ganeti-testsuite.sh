#!/usr/bin/env bash
# Ganeti's test corpus (Debian package ganeti-testsuite) for the htools
# compatibility tests. The package depends on the full daemon package, so it
# is downloaded and unpacked into /opt/ganeti-testsuite instead of installed.
# Prints the htools data directory.
set -euo pipefail
DEST="${GANETI_TESTSUITE_DIR:-/opt/ganeti-testsuite}"
DATA="$DEST/usr/share/ganeti/testsuite/test/data/htools"
if [ -d /usr/share/ganeti/testsuite/test/data/htools ]; then
  echo /usr/share/ganeti/testsuite/test/data/htools; exit 0
fi
if [ ! -d "$DATA" ]; then
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  ( cd "$tmp" && { apt-get download ganeti-testsuite >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download ganeti-testsuite >/dev/null; }; } )
  $SUDO mkdir -p "$DEST"
  $SUDO dpkg -x "$tmp"/ganeti-testsuite_*.deb "$DEST"
fi
echo "$DATA"

#!/usr/bin/env bash
# A minimal Debian 13 ("trixie") root, debootstrapped from Debian's mirror
# once and cached: the Debian-package test installs ganeti-ts into an
# overlay of it (the cached root itself never changes). It holds Debian's
# nodejs (20.19, what the package depends on), systemd (systemd-analyze
# verify of the units), bash-completion and man-db (man pages, and the
# units' Documentation=man:... that systemd-analyze verify checks). Prints the root's path.
# Building it takes a few minutes and ~370 MB; later runs only check it.
#   scripts/ensure-debian-root.sh        (root; debootstrap is installed when missing)
set -euo pipefail
SUITE=trixie
INCLUDE=nodejs,systemd,bash-completion,man-db
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ganeti-ts"
root="$cache/debian-$SUITE-root"
stamp="$root/.ganeti-ts-root"
want="$SUITE $INCLUDE"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$root"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/root-tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "Debootstrapping a Debian $SUITE root into $root (once; a few minutes)" >&2
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp/root" "$MIRROR" >&2
# No apt lists or downloaded packages in the cache.
rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages
echo "$want" >"$tmp/root/.ganeti-ts-root"
rm -rf "$root"
mv "$tmp/root" "$root"
echo "$root"

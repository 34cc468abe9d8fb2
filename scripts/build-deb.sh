#!/usr/bin/env bash
# Build the Debian package of ganeti-ts from the repository:
#   scripts/build-deb.sh [OUTDIR] [--tarballs DIR]
# OUTDIR (default ./dist) receives ganeti-ts_<version>-1_all.deb. Without
# --tarballs it runs `npm run build` and packs the workspaces
# (scripts/pack.sh); with it, it uses the npm tarballs found there.
#
# The package holds the built @ganeti-ts/schema, sdk, server and cli with
# their npm dependencies in /usr/lib/ganeti-ts/node_modules (no Pulumi
# provider: Pulumi programs take it from npm), and:
#   /usr/bin/gnt, hbal, hail, hspace, hinfo, hcheck, harep; /usr/sbin/ganeti-ts-masterd, -noded;
#   /usr/sbin/gnt-instance, gnt-node, ... (links to gnt, Ganeti's names)
#   systemd units: ganeti-ts-noded.service, ganeti-ts-masterd.service,
#     ganeti-ts-watcher.service and .timer (packaging/systemd)
#   bash completion for gnt, man pages gnt(8) and gnt-<command>(8), both
#     generated from gnt's command tree (cli/scripts/gen-docs.ts)
# It runs on Debian's nodejs (>= 20.19: Debian 13 "trixie" has 20.19.2) and
# conflicts with Debian's ganeti packages (both ship hbal and friends).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/dist"
tarballs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tarballs) tarballs="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) out="$1"; shift ;;
  esac
done
out="$(realpath -m "$out")"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/ganeti-ts-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ -z "$tarballs" ]; then
  (cd "$repo" && npm run --silent build)
  tarballs="$work/tarballs"
  bash "$repo/scripts/pack.sh" "$tarballs" >/dev/null
fi
version="$(node -p 'require(process.argv[1]).version' "$repo/cli/package.json")"
tgz() { ls "$tarballs"/ganeti-ts-"$1"-"$version".tgz; }

root="$work/root"
lib="$root/usr/lib/ganeti-ts"
mkdir -p "$lib"
# The npm dependencies, resolved as `npm install` of the tarballs would
# (from npm's cache when it has them).
(cd "$lib" && npm install --no-save --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error \
  "$(tgz schema)" "$(tgz sdk)" "$(tgz server)" "$(tgz cli)" >/dev/null)
rm -rf "$lib/node_modules/.bin" "$lib/package.json" "$lib/package-lock.json"
if [ -n "$(find "$lib" -name '*.node' -print -quit)" ]; then
  echo "build-deb.sh: native modules in the dependencies; the package cannot be Architecture: all" >&2
  exit 1
fi

mods=../lib/ganeti-ts/node_modules/@ganeti-ts
mkdir -p "$root/usr/bin" "$root/usr/sbin"
ln -s "$mods/cli/dist/gnt.cjs" "$root/usr/bin/gnt"
for t in hbal hail hspace hinfo hcheck harep; do ln -s "$mods/server/dist/htools/$t.cjs" "$root/usr/bin/$t"; done
for d in masterd noded; do ln -s "$mods/server/dist/bin/ganeti-ts-$d.js" "$root/usr/sbin/ganeti-ts-$d"; done
# Ganeti's tool names, where Ganeti puts them: gnt run as gnt-instance is `gnt instance`.
for n in instance node group network job cluster os filter; do ln -s ../bin/gnt "$root/usr/sbin/gnt-$n"; done
for f in "$root"/usr/bin/* "$root"/usr/sbin/ganeti-ts-*; do chmod 0755 "$(readlink -f "$f")"; done

install -d "$root/usr/lib/systemd/system"
install -m 0644 "$repo"/packaging/systemd/* "$root/usr/lib/systemd/system/"

# Man pages and completion from the command tree.
(cd "$repo" && node --import tsx cli/scripts/gen-docs.ts "$work/docs" >/dev/null)
install -d "$root/usr/share/man/man8" "$root/usr/share/bash-completion/completions"
for m in "$work"/docs/man8/*.8; do gzip -9n <"$m" >"$root/usr/share/man/man8/$(basename "$m").gz"; done
install -m 0644 "$work/docs/bash-completion/gnt" "$root/usr/share/bash-completion/completions/gnt"

install -d "$root/usr/share/doc/ganeti-ts"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: ganeti-ts"
  echo
  echo "Files: *"
  echo "License: BSD-2-Clause"
  echo
  echo "Files: usr/lib/ganeti-ts/node_modules/*"
  echo "Comment: npm dependencies; each package's own LICENSE file holds its terms."
  echo
  echo "License: BSD-2-Clause"
  sed 's/^$/./; s/^/ /' "$repo/LICENSE"
} >"$root/usr/share/doc/ganeti-ts/copyright"

install -d "$root/DEBIAN"
install -m 0755 "$repo"/packaging/debian/postinst "$repo"/packaging/debian/prerm "$repo"/packaging/debian/postrm "$root/DEBIAN/"
size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: ganeti-ts
Version: $version-1
Architecture: all
Maintainer: ganeti-ts maintainers <maintainers@ganeti-ts.invalid>
Installed-Size: $size
Depends: nodejs (>= 20.19)
Recommends: bash-completion, python3
Conflicts: ganeti, ganeti-htools
Section: admin
Priority: optional
Description: Ganeti 3.0-compatible cluster virtualization manager in TypeScript
 ganeti-ts speaks Ganeti 3.0's Remote API v2: a master daemon (configuration,
 job queue, RAPI), a node daemon on every machine (hypervisor, storage, OS
 scripts), the gnt command line, and Ganeti-compatible hbal, hail, hspace, hinfo, hcheck and harep.
 .
 systemd units: ganeti-ts-noded, ganeti-ts-masterd (each starts once its
 node is configured) and the ganeti-ts-watcher timer.
EOF
deb="$out/ganeti-ts_${version}-1_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"

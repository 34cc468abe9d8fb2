#!/usr/bin/env bash
# Pack the built workspaces (`npm run build` first) into OUTDIR as npm
# tarballs: `npm pack --workspaces`, run on a copy of the packages' published
# files so that the repository's package.json files (rewritten for the
# duration of a pack by scripts/pack-manifest.mjs) never change under tests
# or daemons running from the sources meanwhile.
#   scripts/pack.sh OUTDIR
set -euo pipefail
out="$(realpath -m "${1:?usage: pack.sh OUTDIR}")"
repo="$(cd "$(dirname "$0")/.." && pwd)"
stage="$(mktemp -d "${TMPDIR:-/tmp}/ganeti-ts-pack.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/scripts"
cp "$repo/scripts/pack-manifest.mjs" "$stage/scripts/"
cp "$repo/LICENSE" "$stage/"
workspaces=(schema sdk server cli provider)
for ws in "${workspaces[@]}"; do
  [ -d "$repo/$ws/dist" ] || { echo "pack.sh: $ws/dist is missing: run \`npm run build\` first" >&2; exit 1; }
  mkdir -p "$stage/$ws"
  cp "$repo/$ws/package.json" "$stage/$ws/"
  # The package's "files" (dist, os, generated): npm applies the exclusions.
  for f in $(node -e 'for (const f of require(process.argv[1]).files ?? []) if (!f.startsWith("!")) console.log(f)' "$repo/$ws/package.json"); do
    cp -a "$repo/$ws/$f" "$stage/$ws/"
  done
done
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({ name: "ganeti-ts", private: true, workspaces: process.argv.slice(2) }))' \
  "$stage/package.json" "${workspaces[@]}"
(cd "$stage" && npm pack --workspaces --pack-destination "$out" --silent >/dev/null)
ls "$out"/ganeti-ts-*.tgz

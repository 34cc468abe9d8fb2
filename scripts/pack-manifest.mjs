#!/usr/bin/env node
// The workspaces' package.json files describe the repository: their
// "exports" and "bin" point at the TypeScript sources (run through tsx by the
// tests, the demo and the dev launchers in */bin). A packed package holds the
// built JavaScript instead (`npm run build` first). npm applies only a few
// "publishConfig" keys itself, so each workspace's prepack/postpack scripts
// run this file:
//   prepack:  keep the repository's package.json aside and write the
//             published one: publishConfig's exports, bin, main and types
//             replace the repository's; "private", the scripts and the
//             devDependencies go;
//             (and the repository's LICENSE is copied in);
//   postpack: put the repository's package.json back.
// `node scripts/pack-manifest.mjs restore` (in a workspace) undoes an
// interrupted pack.
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

const MANIFEST = "package.json";
const KEPT = ".package.json.repo";
// The repository's LICENSE, copied in for the pack (npm takes a package's own).
const LICENSE_COPIED = ".license.copied";
const OVERRIDES = ["exports", "bin", "main", "types"];

/** The published manifest of a workspace's package.json (pure; tested). */
export function publishedManifest(pkg) {
  const out = { ...pkg };
  const pc = { ...(pkg.publishConfig ?? {}) };
  for (const k of OVERRIDES) {
    if (k in pc) {
      out[k] = pc[k];
      delete pc[k];
    }
  }
  delete out.private;
  if (Object.keys(pc).length > 0) out.publishConfig = pc;
  else delete out.publishConfig;
  // The scripts are the repository's (build, pack); the package has no
  // install scripts.
  delete out.scripts;
  delete out.devDependencies;
  return out;
}

const mode = process.argv[2];
if (mode === "prepack") {
  if (existsSync(KEPT)) throw new Error(`${KEPT} exists: an earlier pack was interrupted (run this script with "restore")`);
  const text = readFileSync(MANIFEST, "utf8");
  const pkg = JSON.parse(text);
  if (!pkg.publishConfig) throw new Error(`${pkg.name}: no publishConfig, not a published package`);
  for (const f of pkg.files ?? []) {
    if (f.startsWith("dist") && !existsSync("dist")) throw new Error(`${pkg.name}: no dist/ (run \`npm run build\` at the root first)`);
  }
  writeFileSync(KEPT, text);
  if (!existsSync("LICENSE") && existsSync("../LICENSE")) {
    copyFileSync("../LICENSE", "LICENSE");
    writeFileSync(LICENSE_COPIED, "");
  }
  writeFileSync(MANIFEST, JSON.stringify(publishedManifest(pkg), null, 2) + "\n");
} else if (mode === "postpack" || mode === "restore") {
  if (existsSync(KEPT)) renameSync(KEPT, MANIFEST);
  if (existsSync(LICENSE_COPIED)) {
    rmSync("LICENSE", { force: true });
    rmSync(LICENSE_COPIED);
  }
} else if (mode !== undefined) {
  process.stderr.write("usage: pack-manifest.mjs prepack|postpack|restore\n");
  process.exit(2);
}

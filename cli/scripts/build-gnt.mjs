#!/usr/bin/env node
// Builds the shipped gnt (run by `npm run build` after tsc):
//  * dist/gnt.bundle.cjs: src/gnt.ts with the SDK, the schemas and the
//    CLI's libraries bundled into one CommonJS file (esbuild). Loading one
//    file instead of a few hundred ES modules is most of gnt's start-up
//    time. @ganeti-ts/server stays outside: the verbs that act on this
//    machine (cluster init, daemon, node add, ...) import it when they run;
//  * dist/gnt.cjs: the executable, a small launcher that compiles the bundle
//    with V8's code cache (dist/gnt.bundle.cjs.cache), written here by training
//    runs (--version, --help, a list against a closed port).
// The cache is valid only for the V8 version that wrote it; with another
// Node, V8 rejects it and compiles the bundle from source (the same run,
// slower). GNT_CODE_CACHE=write rewrites it (the Debian package's postinst,
// for Debian's node), GNT_CODE_CACHE=report says on stderr whether it was
// accepted.
//   node scripts/build-gnt.mjs [OUTDIR]     (default dist)
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = resolve(process.argv[2] ?? join(CLI, "dist"));

const launcher = `#!/usr/bin/env node
"use strict";
// gnt: runs dist/gnt.bundle.cjs with V8's code cache (built by
// cli/scripts/build-gnt.mjs; a cache V8 rejects means compiling from source).
const fs = require("node:fs");
const vm = require("node:vm");
const path = require("node:path");
const file = path.join(fs.realpathSync(__dirname), "gnt.bundle.cjs");
const mode = process.env.GNT_CODE_CACHE;
let cachedData;
try {
  cachedData = fs.readFileSync(file + ".cache");
} catch {
  cachedData = undefined;
}
const script = new vm.Script("(function (exports, require, module, __filename, __dirname) {" + fs.readFileSync(file, "utf8") + "\\n})", {
  filename: file,
  cachedData,
});
if (mode === "report") process.stderr.write("code cache " + (cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "accepted") + "\\n");
if (mode === "write") process.on("exit", () => fs.writeFileSync(file + ".cache", script.createCachedData()));
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, path.dirname(file));
`;

// @ganeti-ts/server is imported where a local verb runs; only its data
// directory layout (master/paths, plain path arithmetic) is needed up front.
const serverOutside = {
  name: "server-outside",
  setup(b) {
    b.onResolve({ filter: /^@ganeti-ts\/server(\/|$)/ }, (a) =>
      a.path === "@ganeti-ts/server/master/paths" ? undefined : { path: a.path, external: true },
    );
  },
};

await build({
  entryPoints: [join(CLI, "src/gnt.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  plugins: [serverOutside],
  // import() of the server's modules becomes require() (of an ES module:
  // Node >= 20.19): V8 drops a script's dynamic-import callback when its
  // code comes from the code cache.
  supported: { "dynamic-import": false },
  outfile: join(OUT, "gnt.bundle.cjs"),
  logLevel: "warning",
});
// The source's #! line would be a syntax error inside the launcher's wrapper.
const bundle = join(OUT, "gnt.bundle.cjs");
writeFileSync(bundle, readFileSync(bundle, "utf8").replace(/^#!.*\n/, ""));
writeFileSync(join(OUT, "gnt.cjs"), launcher);
chmodSync(join(OUT, "gnt.cjs"), 0o755);
rmSync(join(OUT, "gnt.bundle.cjs.cache"), { force: true });

// Training: each run starts from the cache so far and writes it back with
// the functions it compiled.
// tsx only resolves @ganeti-ts/server to the repository's TypeScript, should
// a run load it (none of these should: test/install checks the installed
// gnt); it sets no V8 flag, so the cache stays valid for plain node.
const env = { ...process.env, GNT_CODE_CACHE: "write", GANETI_DATA_DIR: "", GANETI_RAPI_URL: "https://127.0.0.1:1" };
for (const args of [["--version"], ["--help"], ["instance", "list"]]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(OUT, "gnt.cjs"), ...args], { env, encoding: "utf8", cwd: CLI });
  if (r.error) throw r.error;
  if (args[0] === "--version" && r.status !== 0) throw new Error(`build-gnt: gnt --version failed (${r.status}): ${r.stderr}`);
}

// Install route 1: `npm run build`, `npm pack --workspaces`, and
// `npm install -g` of the tarballs (into a temp prefix) put gnt, the htools
// and the daemons on PATH, with nothing of tsx; the packages are ready to
// publish; the SDK and the provider load from plain Node (ESM and CommonJS,
// with their type declarations); a one-node cluster runs from the install.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAndPack, oneNodeCluster, PUBLISHED, REPO, run, tarFiles, tarRead } from "./helpers.js";

interface Manifest {
  name: string;
  version: string;
  license?: string;
  private?: boolean;
  type?: string;
  engines?: { node?: string };
  main?: string;
  types?: string;
  exports?: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * Dependencies whose declared engines exclude our minimum, each checked by
 * hand: what loads it, and why it runs on our Node anyway.
 */
const ENGINE_EXCEPTIONS: Record<string, string> = {
  // cookie 2 declares node >= 22 (its supported range, not an API it needs:
  // plain JavaScript without imports). Only light-my-request requires it,
  // which fastify loads inside inject() (testing fastify apps), never when
  // serving.
  cookie: "light-my-request, fastify.inject() only",
};

let packDir = "";
let tarballs: string[] = [];
let prefix = "";
let work = "";
const manifests = new Map<string, { tgz: string; pkg: Manifest; files: string[] }>();

const env = () => ({ ...process.env, PATH: `${path.join(prefix, "bin")}:${process.env["PATH"] ?? ""}` });
const sh = (cmd: string, args: string[], extra: Record<string, string> = {}, cwd = work) =>
  run(cmd, args, { cwd, env: { ...env(), ...extra }, maxBuffer: 16 << 20 });

beforeAll(async () => {
  ({ dir: packDir, tarballs } = await buildAndPack());
  for (const tgz of tarballs) {
    const pkg = JSON.parse(await tarRead(tgz, "package.json")) as Manifest;
    manifests.set(pkg.name, { tgz, pkg, files: await tarFiles(tgz) });
  }
  work = await mkdtemp(path.join(tmpdir(), "gts-npm-"));
  prefix = path.join(work, "prefix");
  // External dependencies come from npm's cache when it has them.
  await run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], {
    cwd: work,
    maxBuffer: 64 << 20,
  });
}, 900_000);

afterAll(async () => {
  if (packDir) await rm(packDir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed packages", () => {
  it("are one package per published workspace, at one version, publishable", async () => {
    const names = await Promise.all(
      PUBLISHED.map(async (ws) => (JSON.parse(await readFile(path.join(REPO, ws, "package.json"), "utf8")) as Manifest).name),
    );
    expect([...manifests.keys()].sort()).toEqual([...names].sort());
    const root = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as Manifest;
    for (const { pkg, files } of manifests.values()) {
      expect(pkg.name).toMatch(/^@ganeti-ts\/[a-z]+$/);
      expect(pkg.version).toBe("0.1.0");
      expect(pkg.private).toBeUndefined();
      expect(pkg.license).toBe("BSD-2-Clause");
      expect(files).toContain("LICENSE");
      expect(pkg.type).toBe("module");
      expect(pkg.engines?.node).toBe(root.engines?.node);
      // Nothing of the repository's: no pack or build scripts, no dev dependencies, no sources.
      expect(pkg.scripts).toBeUndefined();
      expect(pkg.devDependencies).toBeUndefined();
      expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
      expect(files.filter((f) => /tsbuildinfo|\.test\.|^src\//.test(f))).toEqual([]);
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
        if (dep.startsWith("@ganeti-ts/")) expect(range, `${pkg.name} -> ${dep}`).toBe(manifests.get(dep)?.pkg.version);
      }
    }
  });

  it("point every export, main, types and bin at a file they hold", () => {
    for (const { pkg, files } of manifests.values()) {
      const targets: string[] = [];
      for (const v of Object.values(pkg.exports ?? {})) targets.push(...(typeof v === "string" ? [v] : Object.values(v)));
      targets.push(...Object.values(pkg.bin ?? {}));
      if (pkg.main) targets.push(pkg.main);
      if (pkg.types) targets.push(pkg.types);
      expect(targets.length, pkg.name).toBeGreaterThan(0);
      for (const t of targets) {
        const rel = t.replace(/^\.\//, "");
        if (rel.includes("*")) {
          // A pattern export: its index module must match.
          const re = new RegExp(`^${rel.replace(/[.]/g, "\\.").replace("*", ".+")}$`);
          expect(
            files.some((f) => re.test(f)),
            `${pkg.name}: ${t}`,
          ).toBe(true);
        } else expect(files, `${pkg.name}: ${t}`).toContain(rel);
      }
      for (const t of Object.values(pkg.exports ?? {})) if (typeof t !== "string") expect(Object.keys(t)[0], pkg.name).toBe("types");
    }
  });

  it("need a Node that every installed dependency supports", async () => {
    const ours = semver.minVersion(manifests.get("@ganeti-ts/schema")!.pkg.engines!.node!)!;
    const checked: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === ".bin") continue;
        const d = path.join(dir, e.name);
        if (e.name.startsWith("@")) {
          await walk(d);
          continue;
        }
        const mf = path.join(d, "package.json");
        if (existsSync(mf)) {
          const pkg = JSON.parse(await readFile(mf, "utf8")) as Manifest;
          const range = pkg.engines?.node;
          if (range && !(pkg.name in ENGINE_EXCEPTIONS)) {
            checked.push(pkg.name);
            expect(semver.satisfies(ours, range), `${pkg.name}@${pkg.version} wants node ${range}`).toBe(true);
          }
        }
        if (existsSync(path.join(d, "node_modules"))) await walk(path.join(d, "node_modules"));
      }
    };
    await walk(path.join(prefix, "lib", "node_modules"));
    expect(checked).toEqual(expect.arrayContaining(["undici", "commander", "@grpc/grpc-js"]));
    // fastify requires light-my-request (hence cookie) lazily, in inject().
    const fastify = await readFile(path.join(prefix, "lib/node_modules/@ganeti-ts/server/node_modules/fastify/fastify.js"), "utf8");
    expect(fastify).toMatch(/^\s+lightMyRequest = require\('light-my-request'\)/m);
  });
});

describe("npm install -g of the tarballs", () => {
  it("puts gnt, the htools and the daemons on PATH, without tsx", async () => {
    const bins = (await readdir(path.join(prefix, "bin"))).sort();
    expect(bins).toEqual(["ganeti-ts-masterd", "ganeti-ts-noded", "gnt", "hail", "harep", "hbal", "hcheck", "hinfo", "hspace"]);
    const all = await run("find", [path.join(prefix, "lib", "node_modules"), "-type", "d", "-name", "tsx"]);
    expect(all.stdout.trim()).toBe("");
    expect((await sh("gnt", ["--version"])).stdout.trim()).toBe("0.1.0");
    for (const tool of ["hbal", "hail", "hspace", "hinfo", "hcheck", "harep"])
      expect((await sh(tool, ["--help"])).stdout).toContain(`Usage: ${tool}`);
    expect((await sh("ganeti-ts-masterd", ["--help"])).stdout).toContain("Usage: ganeti-ts-masterd [--data-dir DIR]");
    expect((await sh("ganeti-ts-noded", ["--help"])).stdout).toContain("Usage: ganeti-ts-noded [--data-dir DIR]");
    // gnt's code cache was written by the Node that runs this test.
    const { stderr } = await sh("gnt", ["--version"], { GNT_CODE_CACHE: "report" });
    expect(stderr).toContain("code cache accepted");
    // The remote verbs start without the server's modules (its configuration, daemons and etcd code
    // would cost every start most of its time): only the local verbs load them.
    const preload = path.join(work, "record-loads.cjs");
    await writeFile(
      preload,
      `const M = require("node:module"); const load = M._load; const seen = [];
       M._load = function (id, ...rest) { if (String(id).startsWith("@ganeti-ts/server")) seen.push(id); return load.call(this, id, ...rest); };
       process.on("exit", () => process.stderr.write("server modules: " + JSON.stringify(seen) + "\\n"));`,
    );
    const loads = async (args: string[]) => {
      const r = await sh("gnt", args, { NODE_OPTIONS: `--require ${preload}`, GANETI_RAPI_URL: "https://127.0.0.1:1" }).catch(
        (e: { stderr: string }) => e,
      );
      return /server modules: (.*)/.exec(r.stderr)?.[1];
    };
    expect(await loads(["--version"])).toBe("[]");
    expect(await loads(["instance", "list"])).toBe("[]");
  }, 300_000);

  it("runs a one-node cluster: init, node and instance list, destroy", async () => {
    const dataDir = path.join(work, "cluster");
    const cluster = oneNodeCluster(dataDir);
    await sh("gnt", cluster.initArgs);
    try {
      const rt = await cluster.runtime();
      // The daemons are the built JavaScript, run by plain node.
      const cmdline = (await readFile(`/proc/${rt.pid}/cmdline`, "utf8")).split("\0");
      expect(cmdline).toContain(path.join(prefix, "lib/node_modules/@ganeti-ts/server/dist/daemon-main.js"));
      expect(cmdline.join(" ")).not.toContain("tsx");
      const connection = cluster.connection(rt.rapiUrl);
      expect((await sh("gnt", ["node", "list"], connection)).stdout).toContain("node1.example.com");
      expect((await sh("gnt", ["instance", "list"], connection)).stdout).toMatch(/^Instance\s/);
      expect((await sh("gnt", ["cluster", "info"], connection)).stdout).toContain("cluster.example.com");
    } finally {
      await sh("gnt", cluster.destroyArgs);
    }
    expect(existsSync(dataDir)).toBe(false);
  }, 300_000);

  it("serves the SDK and the provider to plain Node programs, ESM and CommonJS, with types", async () => {
    // A program's own node_modules, linked to the global install.
    const app = path.join(work, "app");
    await mkdir(path.join(app, "node_modules"), { recursive: true });
    await symlink(path.join(prefix, "lib", "node_modules", "@ganeti-ts"), path.join(app, "node_modules", "@ganeti-ts"));
    const esm = await sh(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { GanetiClient } from "@ganeti-ts/sdk";
         import { Instance } from "@ganeti-ts/pulumi";
         import { InstanceInfoSchema } from "@ganeti-ts/schema";
         console.log(typeof GanetiClient, typeof Instance, typeof InstanceInfoSchema.parse);`,
      ],
      {},
      app,
    );
    expect(esm.stdout.trim()).toBe("function function function");
    // Pulumi runs a CommonJS program (ts-node's default) with require().
    const cjs = await sh(
      process.execPath,
      [
        "-e",
        `const { Instance } = require("@ganeti-ts/pulumi"); const { GanetiClient } = require("@ganeti-ts/sdk"); console.log(typeof Instance, typeof GanetiClient);`,
      ],
      {},
      app,
    );
    expect(cjs.stdout.trim()).toBe("function function");
    expect(cjs.stderr).toBe("");
    // The dynamic provider process loads the provider's runtime from the program's directory, without tsx.
    const stub = await sh(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { providerStub } = await import(${JSON.stringify(path.join(prefix, "lib/node_modules/@ganeti-ts/pulumi/dist/core/define-resource.js"))});
         await providerStub("instance").configure({ config: {} });
         console.log("configured");`,
      ],
      {},
      app,
    );
    expect(stub.stdout.trim()).toBe("configured");
    // The declarations type-check a consumer, with Node's resolution and with the older one.
    await writeFile(
      path.join(app, "main.ts"),
      `import { GanetiClient } from "@ganeti-ts/sdk";
       import type { InstanceArgs } from "@ganeti-ts/pulumi";
       const c: GanetiClient = new GanetiClient({ baseUrl: "https://127.0.0.1:5080" });
       const a: InstanceArgs | undefined = undefined;
       export { c, a };\n`,
    );
    const tsc = path.join(REPO, "node_modules", ".bin", "tsc");
    const base = [
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--types",
      "node",
      "--typeRoots",
      path.join(REPO, "node_modules/@types"),
      "main.ts",
    ];
    await sh(tsc, [...base, "--module", "nodenext", "--moduleResolution", "nodenext"], {}, app);
    await sh(tsc, [...base, "--module", "commonjs", "--moduleResolution", "node10", "--esModuleInterop"], {}, app);
  }, 300_000);
});

// The shipped htools bundles (`npm run build:htools -w server`): executables
// that run through their own shebang, give what the TypeScript sources give,
// and start without NODE_EXTRA_CA_CERTS (which the tools never use and which
// makes every Node start load a CA bundle), from V8's code cache when it
// matches the running Node and its flags, and from source when it does not.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");
const DATA = execFileSync(join(REPO, "scripts/ensure-ganeti-testsuite.sh"), { encoding: "utf8" }).trim();
const OUT = mkdtempSync(join(tmpdir(), "htools-bundles-"));
const TOOLS = ["hbal", "hail", "hspace", "hinfo", "hcheck"] as const;

beforeAll(() => {
  // The package script's own command, with the output in a temp dir (the
  // script builds into server/dist/htools; other tests may run meanwhile).
  const pkg = JSON.parse(readFileSync(join(REPO, "server/package.json"), "utf8")) as { scripts: Record<string, string> };
  expect(pkg.scripts["build:htools"]).toBe("node scripts/build-htools.mjs");
  execFileSync(process.execPath, ["scripts/build-htools.mjs", OUT], { cwd: join(REPO, "server"), stdio: "inherit" });
}, 300_000);
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** A CA file that does not exist: Node warns about it on every start that reads the variable. */
const BAD_CA = { ...process.env, NODE_EXTRA_CA_CERTS: join(OUT, "no-such-ca.pem") };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("htools bundles", () => {
  it("start through their shebang without NODE_EXTRA_CA_CERTS", () => {
    for (const t of TOOLS) {
      const first = readFileSync(join(OUT, `${t}.cjs`), "utf8").split("\n", 1)[0]!;
      expect(first).toMatch(/^#!\/usr\/bin\/env -S -u NODE_EXTRA_CA_CERTS node --single-threaded-gc\b/);
      const r = run(join(OUT, `${t}.cjs`), ["--version"], BAD_CA);
      expect(r.code, `${t} --version: ${r.stderr}`).toBe(0);
      // node itself, given the variable, says so on stderr
      expect(r.stderr).not.toMatch(/extra certs/i);
    }
    expect(run(process.execPath, ["-e", "0"], BAD_CA).stderr).toMatch(/extra certs/i);
  });

  it("start from the code cache, and without it from source (the same output)", () => {
    const data = join(DATA, "common-suffix.data");
    const hail = join(DATA, "hail-alloc-drbd.json");
    const cases: Array<[(typeof TOOLS)[number], string[]]> = [
      ["hbal", ["-t", data, "-C"]],
      ["hspace", ["-t", data, "--machine-readable"]],
      ["hail", [hail]],
      ["hinfo", ["-t", data]],
      ["hcheck", ["-t", data]],
    ];
    const report = { ...process.env, HTOOLS_CODE_CACHE: "report" };
    /** The launcher's first stderr line (the cache's fate), and the run. */
    const runR = (cmd: string, a: string[]) => {
      const r = run(cmd, a, report);
      const nl = r.stderr.indexOf("\n");
      return { cache: r.stderr.slice(0, nl), run: { ...r, stderr: r.stderr.slice(nl + 1) } };
    };
    for (const [t, args] of cases) {
      const exe = join(OUT, `${t}.cjs`);
      const cache = join(OUT, `${t}.bundle.cjs.cache`);
      const good = runR(exe, args);
      expect(good.cache, t).toBe("code cache accepted");
      expect(good.run.code).toBe(0);
      expect(good.run).toEqual(run(exe, args));
      // another Node or other V8 flags (here: plain node, without the
      // shebang's flags): V8 rejects the cache and compiles from source
      expect(runR(process.execPath, [exe, ...args])).toEqual({ cache: "code cache rejected", run: good.run });
      // a damaged cache, and none at all
      copyFileSync(cache, cache + ".keep");
      try {
        writeFileSync(cache, readFileSync(cache).subarray(0, 200));
        expect(runR(exe, args)).toEqual({ cache: "code cache rejected", run: good.run });
        rmSync(cache);
        expect(runR(exe, args)).toEqual({ cache: "code cache absent", run: good.run });
      } finally {
        copyFileSync(cache + ".keep", cache);
        rmSync(cache + ".keep");
      }
      expect(runR(exe, args)).toEqual(good);
    }
  });

  it("load neither zod nor Node's network modules nor node:v8 at start (each would cost every run milliseconds)", () => {
    const preload = join(OUT, "loaded.cjs");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeSync(2, "loaded: " + process.moduleLoadList.filter((m) => /^NativeModule (net|http|https|tls|stream|v8)$/.test(m)).join(",") + "\\n"));\n`,
    );
    const data = join(DATA, "common-suffix.data");
    for (const t of TOOLS) {
      expect(readFileSync(join(OUT, `${t}.bundle.cjs`), "utf8"), t).not.toMatch(/node_modules\/zod\//);
      // (through the shebang, whose V8 flags spare the tools loading node:v8)
      const args = t === "hail" ? [join(DATA, "hail-alloc-drbd.json")] : ["-t", data];
      const r = run(join(OUT, `${t}.cjs`), args, { ...process.env, NODE_OPTIONS: `--require ${preload}` });
      expect(r.code, `${t}: ${r.stderr}`).toBe(0);
      expect(r.stderr, t).toMatch(/^loaded: $/m);
    }
  });

  it("print what the TypeScript sources print", () => {
    const data = join(DATA, "common-suffix.data");
    const hail = join(DATA, "hail-alloc-drbd.json");
    const cases: Array<[(typeof TOOLS)[number], string[]]> = [
      ["hbal", ["-t", data, "-C", "-p"]],
      ["hspace", ["-t", data, "--machine-readable"]],
      ["hail", [hail]],
    ];
    for (const [t, args] of cases) {
      const bundle = run(join(OUT, `${t}.cjs`), args);
      const source = run(process.execPath, [join(REPO, "server/bin", `${t}.js`), ...args]);
      expect(bundle, `${t} ${args.join(" ")}`).toEqual(source);
      expect(bundle.code).toBe(0);
    }
  });
});

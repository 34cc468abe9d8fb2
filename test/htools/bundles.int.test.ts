// The shipped htools bundles (`npm run build:htools -w server`): executables
// that run through their own shebang, give what the TypeScript sources give,
// and start without NODE_EXTRA_CA_CERTS (which the tools never use and which
// makes every Node start load a CA bundle).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");
const DATA = execFileSync(join(REPO, "scripts/ensure-ganeti-testsuite.sh"), { encoding: "utf8" }).trim();
const OUT = mkdtempSync(join(tmpdir(), "htools-bundles-"));
const TOOLS = ["hbal", "hail", "hspace"] as const;

beforeAll(() => {
  // The package script's own command, with the output in a temp dir (the
  // script builds into server/dist/htools; other tests may run meanwhile).
  const pkg = JSON.parse(readFileSync(join(REPO, "server/package.json"), "utf8")) as { scripts: Record<string, string> };
  const cmd = pkg.scripts["build:htools"]!.replaceAll("--outdir=dist/htools", `--outdir=${OUT}`).replaceAll("dist/htools/*.cjs", `${OUT}/*.cjs`);
  execFileSync("bash", ["-c", `PATH="${join(REPO, "node_modules/.bin")}:$PATH" ${cmd}`], { cwd: join(REPO, "server"), stdio: "inherit" });
}, 120_000);
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

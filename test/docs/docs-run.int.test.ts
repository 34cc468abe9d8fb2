// Docs that run: every fenced block of README.md and docs/**/*.md, in order,
// one doc per test, against one demo cluster started like `make demo` does
// (scripts/demo-cluster.sh, in a temp dir, random ports).
//
// Fence info strings say what a block is:
//   sh       commands, run with bash -euo pipefail (one shell per block)
//   console  a transcript: the `$ ` lines are run, each must exit 0, or the
//            status a following `$ echo $?` shows; the other lines are output
//   ts       a TypeScript module, run with tsx
//   text, json, ini, yaml: output, file contents or diagrams, never run
//   sh norun: REASON / ts norun: REASON: not runnable on the demo cluster,
//            with the reason (few, e.g. set-up of real machines)
// A fence without an info string fails the test.
//
// The blocks run in a workspace that looks like a checkout after `make
// demo`: symlinks to the repository's top-level entries, a copy of
// examples/ (Pulumi writes its stack files there), `.demo` = the test's
// cluster; HOME is a temp dir, PULUMI_HOME is $HOME/.pulumi (the Pulumi CLI
// otherwise takes the passwd entry's home, not HOME); PATH has `gnt`, `hbal`,
// `hail`, `hspace`, `hinfo`, `hcheck`, `harep` (what an installed package
// provides) and the Pulumi CLI; the environment
// is that of `source .demo/demo.env`. `pulumi up` runs non-interactively
// (PULUMI_SKIP_CONFIRMATIONS), as it would after answering "yes".
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/cluster.js";

const run = promisify(execFile);

export interface Block {
  line: number;
  lang: string;
  attrs: string;
  code: string;
}

/** Fenced blocks of a markdown text, with the line of their opening fence. */
export function fencedBlocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    out.push({ line: start + 1, lang: open[1]!, attrs: open[2]!.trim(), code: body.join("\n") + "\n" });
  }
  return out;
}

const NEVER_RUN = new Set(["text", "json", "ini", "yaml"]);

/** How a block is treated, or why it is not acceptable. */
export function classify(b: Block): "sh" | "console" | "ts" | "skip" | { error: string } {
  if (b.lang === "") return { error: "fence without an info string (sh, console, ts, text, ...)" };
  if (NEVER_RUN.has(b.lang)) return "skip";
  if (b.lang !== "sh" && b.lang !== "console" && b.lang !== "ts") return { error: `unknown fence info string "${b.lang}"` };
  if (b.attrs.startsWith("norun")) return /^norun: \S.{10,}/.test(b.attrs) ? "skip" : { error: "norun needs a reason: `norun: why`" };
  if (b.attrs) return { error: `unknown fence attributes "${b.attrs}"` };
  return b.lang;
}

/** A transcript as a bash script: each `$ ` command must end with the status the transcript shows (0 unless an `echo $?` says). */
export function consoleScript(code: string): string {
  const lines = code.split("\n");
  const cmds: { cmd: string; want: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\$ (.*)$/.exec(lines[i]!);
    if (!m) continue;
    const cmd = m[1]!;
    if (cmd.trim() === "echo $?") {
      const shown = Number(lines[i + 1]);
      if (cmds.length && Number.isInteger(shown)) cmds[cmds.length - 1]!.want = shown;
      continue;
    }
    cmds.push({ cmd, want: 0 });
  }
  return cmds
    .map(
      ({ cmd, want }) =>
        `${cmd}\n__rc=$?; if [ "$__rc" -ne ${want} ]; then echo ${JSON.stringify(`docs-run: \`${cmd}\``)}" exited $__rc, expected ${want}" >&2; exit 1; fi`,
    )
    .join("\n");
}

const DOCS = [
  "README.md",
  ...readdirSync(path.join(REPO, "docs"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => path.join("docs", f)),
];

describe("docs blocks are marked", () => {
  it("every fence has a known info string; norun blocks give a reason and are few", () => {
    const bad: string[] = [];
    let norun = 0;
    let runnable = 0;
    for (const doc of DOCS) {
      for (const b of fencedBlocks(readFileSync(path.join(REPO, doc), "utf8"))) {
        const c = classify(b);
        if (typeof c === "object") bad.push(`${doc}:${b.line}: ${c.error}`);
        else if (c !== "skip") runnable++;
        if (b.attrs.startsWith("norun")) norun++;
      }
    }
    expect(bad).toEqual([]);
    expect(runnable).toBeGreaterThan(15);
    // Few, each with its reason (mostly docs/operations.md: set-up of real machines, epo, harep;
    // docs/replication.md: a drbd instance and a node's recovery need two or three nodes).
    expect(norun).toBeLessThanOrEqual(19);
  });

  it("transcripts keep their exit statuses", () => {
    expect(consoleScript("$ gnt cluster verify\nSubmitted jobs 1\n$ echo $?\n1\n")).toContain("-ne 1 ]");
    expect(consoleScript("$ gnt instance list\nInstance ...\n")).toContain("-ne 0 ]");
  });
});

function pulumiBin(): string {
  const fromEnv = process.env["PULUMI_BIN_DIR"];
  if (fromEnv && existsSync(path.join(fromEnv, "pulumi"))) return fromEnv;
  const cached = path.join(process.env["HOME"] ?? "/root", ".cache/ganeti-ts/pulumi/v3.248.0/bin");
  if (existsSync(path.join(cached, "pulumi"))) return cached;
  throw new Error("no Pulumi CLI: run `bash scripts/ensure-pulumi.sh` (or make test, which sets PULUMI_BIN_DIR)");
}

/** Run a command with the docs' environment; reject with its output on failure. */
function sh(cmd: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n[docs-run: timed out after ${timeoutMs} ms]`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`exit ${code}\n${out.slice(-6000)}`));
    });
  });
}

// The demo's RAPI password is random base64url: one in 64 begins with "-",
// and `pulumi config set KEY VALUE` reads such a value as flags ("-sXYZ" is
// `--stack XYZ`: "no stack named 'XYZ' found", exit 6) unless `--` ends them.
// The demo cluster gives such a value only by chance, so this runs the docs'
// Pulumi set-up (every runnable sh block with `pulumi stack init`, without the
// commands that deploy) against a demo.env whose password begins with "-s".
describe("the docs' Pulumi set-up takes any password", () => {
  const DEPLOY = /^\s*pulumi (up|preview|refresh|destroy)\b/;
  const setups = DOCS.flatMap((doc) =>
    fencedBlocks(readFileSync(path.join(REPO, doc), "utf8"))
      .filter((b) => classify(b) === "sh" && /^\s*pulumi stack init\b/m.test(b.code))
      .map((b) => ({
        where: `${doc}:${b.line}`,
        code: b.code
          .split("\n")
          .filter((l) => !DEPLOY.test(l))
          .join("\n"),
      })),
  );

  it("the README's set-up is among them", () => {
    expect(setups.map((s) => s.where)).toContain("README.md:118");
  });

  for (const { where, code } of setups) {
    it(`${where}: a password that begins with "-" lands in the stack config as it is`, { timeout: 120_000 }, async () => {
      const W = mkdtempSync(path.join(tmpdir(), "gts-docs-cfg-"));
      try {
        cpSync(path.join(REPO, "examples"), path.join(W, "examples"), { recursive: true, filter: (s) => !s.includes("node_modules") });
        const home = path.join(W, "home");
        mkdirSync(home);
        mkdirSync(path.join(W, ".demo"));
        const demoEnv = {
          GANETI_RAPI_URL: "https://127.0.0.1:5080",
          GANETI_RAPI_USER: "admin",
          // The shape of the password that failed a run: "-s" and 22 characters.
          GANETI_RAPI_PASSWORD: "-semwPiIfqVOoZfY6_0L7pey",
          GANETI_RAPI_CA: path.join(W, ".demo/rapi.pem"),
        };
        writeFileSync(
          path.join(W, ".demo/demo.env"),
          Object.entries(demoEnv)
            .map(([k, v]) => `export ${k}=${v}\n`)
            .join(""),
        );
        const script = path.join(W, "setup.sh");
        writeFileSync(script, `set -euo pipefail\n${code}\npulumi config --show-secrets --json\n`);
        const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GANETI_") && !k.startsWith("PULUMI_")));
        const env = {
          ...base,
          HOME: home,
          PULUMI_HOME: path.join(home, ".pulumi"),
          PATH: [pulumiBin(), process.env["PATH"] ?? ""].join(":"),
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
        };
        let stdout: string;
        try {
          ({ stdout } = await run("bash", [script], { cwd: W, env, maxBuffer: 16 << 20 }));
        } catch (err) {
          const e = err as { code?: number; stdout?: string; stderr?: string };
          throw new Error(`${where}'s set-up failed (exit ${e.code}):\n${e.stdout ?? ""}${e.stderr ?? ""}`);
        }
        const config = JSON.parse(stdout) as Record<string, { value: string }>;
        expect(Object.values(config).map((c) => c.value)).toEqual(expect.arrayContaining(Object.values(demoEnv)));
      } finally {
        rmSync(W, { recursive: true, force: true });
      }
    });
  }
});

describe("docs run on the demo cluster", () => {
  let W = "";
  let demo = "";
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    W = mkdtempSync(path.join(tmpdir(), "gts-docs-"));
    for (const e of readdirSync(REPO)) {
      if ([".git", ".demo", "examples"].includes(e)) continue;
      symlinkSync(path.join(REPO, e), path.join(W, e));
    }
    cpSync(path.join(REPO, "examples"), path.join(W, "examples"), { recursive: true, filter: (s) => !s.includes("node_modules") });
    const bin = path.join(W, "bin");
    mkdirSync(bin);
    symlinkSync(path.join(REPO, "cli/bin/gnt.js"), path.join(bin, "gnt"));
    for (const t of ["hbal", "hail", "hspace", "hinfo", "hcheck", "harep"])
      symlinkSync(path.join(REPO, `server/bin/${t}.js`), path.join(bin, t));
    const home = path.join(W, "home");
    mkdirSync(home);
    demo = path.join(W, ".demo");
    await run("bash", [path.join(REPO, "scripts/demo-cluster.sh"), demo], { cwd: REPO, maxBuffer: 16 << 20 });
    const demoEnv: Record<string, string> = {};
    for (const m of readFileSync(path.join(demo, "demo.env"), "utf8").matchAll(/^export (\w+)=(.*)$/gm)) demoEnv[m[1]!] = m[2]!;
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GANETI_") && !k.startsWith("PULUMI_")));
    env = {
      ...base,
      ...demoEnv,
      HOME: home,
      // Else every run leaves its workspace settings (the selected stack) in the real user's ~/.pulumi.
      PULUMI_HOME: path.join(home, ".pulumi"),
      PATH: [bin, path.join(home, "bin"), pulumiBin(), process.env["PATH"] ?? ""].join(":"),
      PULUMI_SKIP_CONFIRMATIONS: "true",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    };
  }, 300_000);

  afterAll(async () => {
    if (demo) await run("bash", [path.join(REPO, "scripts/demo-down.sh"), demo], { cwd: REPO }).catch(() => undefined);
    if (W) rmSync(W, { recursive: true, force: true });
  }, 120_000);

  for (const doc of DOCS) {
    const blocks = fencedBlocks(readFileSync(path.join(REPO, doc), "utf8")).filter((b) => {
      const c = classify(b);
      return c === "sh" || c === "console" || c === "ts";
    });
    if (blocks.length === 0) continue;
    it(`${doc} (${blocks.length} blocks)`, { timeout: 600_000 }, async () => {
      const dir = path.join(W, ".docs-run");
      mkdirSync(dir, { recursive: true });
      for (const b of blocks) {
        const where = `${doc}:${b.line}`;
        const file = path.join(dir, `${doc.replace(/\W/g, "_")}-${b.line}.${b.lang === "ts" ? "ts" : "sh"}`);
        if (b.lang === "ts") writeFileSync(file, `${b.code}\nexport {};\n`);
        else writeFileSync(file, b.lang === "sh" ? `set -euo pipefail\n${b.code}` : `set -uo pipefail\n${consoleScript(b.code)}\n`);
        const cmd = b.lang === "ts" ? [process.execPath, "--import", "tsx", file] : ["bash", file];
        try {
          await sh(cmd, W, env, 400_000);
        } catch (err) {
          throw new Error(`${where} (${b.lang}) failed: ${(err as Error).message}`);
        }
      }
    });
  }
});

// Runs OS scripts the way Ganeti's backend does: clean environment (only what
// os-env builds, plus LC_ALL=C), cwd = the OS directory, stdout and stderr
// into a per-run log file; a failure carries the last 20 log lines.
import { spawn as nodeSpawn, type SpawnOptions, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { OsError } from "./os-error.js";
import type { Env } from "./os-env.js";

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Ganeti's fail_reason wording. */
export function failReason(r: ScriptResult): string {
  return r.signal ? `terminated by signal ${r.signal}` : `exited with exit code ${r.code}`;
}

/** Ganeti's TimestampForFilename, plus milliseconds so two runs in a second do not collide. */
export function timestampForFilename(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_` +
    `${p(d.getHours())}_${p(d.getMinutes())}_${p(d.getSeconds())}_${p(d.getMilliseconds(), 3)}`
  );
}

/** Run `script` with `args`, appending its output to `logFile` (created). */
export async function runScriptToLog(opts: {
  script: string;
  args?: string[];
  cwd: string;
  env: Env;
  logFile: string;
  spawn?: SpawnFn;
}): Promise<ScriptResult> {
  await fs.mkdir(path.dirname(opts.logFile), { recursive: true });
  const fh = await fs.open(opts.logFile, "a", 0o640);
  try {
    return await new Promise<ScriptResult>((resolve, reject) => {
      const child = (opts.spawn ?? nodeSpawn)(opts.script, opts.args ?? [], {
        cwd: opts.cwd,
        env: { ...opts.env, LC_ALL: "C" },
        stdio: ["ignore", fh.fd, fh.fd],
      });
      child.once("error", (err) => reject(new OsError(`Cannot run ${opts.script}: ${err.message}`, { cause: err })));
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  } finally {
    await fh.close();
  }
}

/** Run and capture output in memory (verify script: short output expected). */
export async function runScriptCapture(opts: {
  script: string;
  args?: string[];
  cwd: string;
  env: Env;
  spawn?: SpawnFn;
}): Promise<ScriptResult & { output: string }> {
  return new Promise((resolve, reject) => {
    const child = (opts.spawn ?? nodeSpawn)(opts.script, opts.args ?? [], {
      cwd: opts.cwd,
      env: { ...opts.env, LC_ALL: "C" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => chunks.push(c));
    child.stderr?.on("data", (c: Buffer) => chunks.push(c));
    child.once("error", (err) => reject(new OsError(`Cannot run ${opts.script}: ${err.message}`, { cause: err })));
    child.once("close", (code, signal) => resolve({ code, signal, output: Buffer.concat(chunks).toString("utf8") }));
  });
}

export async function tailFile(file: string, lines = 20): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    return [`(cannot read log file ${file}: ${(err as Error).message})`];
  }
  const all = text.split("\n");
  if (all[all.length - 1] === "") all.pop();
  return all.slice(-lines);
}

// Starting and stopping daemons as detached background processes, for the
// CLI's cluster init / node add / cluster destroy.
import { spawn } from "node:child_process";
import { openSync, closeSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dataPaths } from "./paths.js";

// Run from the TypeScript sources (through tsx) or from the built package
// (plain node): the daemon entry is this module's sibling either way.
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const DAEMON_MAIN = fileURLToPath(new URL(FROM_SOURCE ? "../daemon-main.ts" : "../daemon-main.js", import.meta.url));

function runtimePath(dataDir: string, kind: "master" | "node"): string {
  return path.join(dataPaths(dataDir).root, `${kind}.runtime.json`);
}

export async function readRuntime(dataDir: string, kind: "master" | "node"): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(runtimePath(dataDir, kind), "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start `daemon-main.ts <kind>` detached; resolve with its runtime info once it listens. */
export async function launchDaemon(kind: "master" | "node", dataDir: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const p = dataPaths(dataDir);
  mkdirSync(p.logDir, { recursive: true });
  const out = openSync(path.join(p.logDir, `${kind}.stdout.log`), "a");
  const loader = FROM_SOURCE ? ["--import", import.meta.resolve("tsx")] : [];
  const child = spawn(process.execPath, [...loader, DAEMON_MAIN, kind, "--data-dir", p.root], {
    detached: true,
    stdio: ["ignore", out, out],
    // A detached daemon's stdout is not the journal even when gnt runs under systemd: log to the file.
    env: { ...process.env, GANETI_LOG_TARGET: process.env["GANETI_LOG_TARGET"] ?? "file" },
  });
  closeSync(out);
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? -1));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rt = await readRuntime(dataDir, kind);
    if (rt && rt["pid"] === child.pid) return rt;
    if (exited !== null) {
      const log = await readFile(path.join(p.logDir, `${kind}.stdout.log`), "utf8").catch(() => "");
      throw new Error(`${kind} daemon exited with code ${exited}:\n${log.split("\n").slice(-15).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${kind} daemon did not start within ${timeoutMs} ms (see ${p.logDir})`);
}

/** SIGTERM, then SIGKILL after a grace period. */
export async function stopDaemon(dataDir: string, kind: "master" | "node", graceMs = 10_000): Promise<boolean> {
  const rt = await readRuntime(dataDir, kind);
  const pid = typeof rt?.["pid"] === "number" ? rt["pid"] : null;
  if (!pid || !isAlive(pid)) return false;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  return true;
}

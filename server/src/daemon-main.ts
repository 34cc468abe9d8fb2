// Foreground daemon runner shared by `gnt daemon master|node` and the
// detached processes that `gnt cluster init` / `gnt node add` start:
//   node --import tsx server/src/daemon-main.ts master|node --data-dir DIR
// Writes a runtime file (pid, bound port) once listening, logs through
// lib/log.ts (stdout under systemd, else DIR/log/master.log or noded.log,
// reopened on SIGHUP), stops cleanly on SIGTERM/SIGINT.
import { writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { writeFileAtomic } from "./lib/atomic-file.js";
import { createDaemonLog } from "./lib/log.js";
import { startMaster } from "./master/app.js";
import { dataPaths } from "./master/paths.js";
import { startNodeDaemon } from "./noded/main.js";

export const NodeSettingsSchema = z.object({
  name: z.string().optional(),
  address: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(1811),
});

export function runtimeFile(dataDir: string, kind: "master" | "node"): string {
  return path.join(dataPaths(dataDir).root, `${kind}.runtime.json`);
}

export async function runDaemon(
  kind: "master" | "node",
  dataDir: string,
  overrides: { address?: string; port?: number } = {},
): Promise<{ close(): Promise<void> }> {
  const p = dataPaths(dataDir);
  let close: () => Promise<void>;
  let runtime: Record<string, unknown>;
  if (kind === "master") {
    const daemonLog = createDaemonLog({ daemon: "master", file: path.join(p.logDir, "master.log") });
    const log = daemonLog.log;
    let m;
    try {
      m = await startMaster({ dataDir, log });
    } catch (err) {
      log(`master daemon failed to start: ${err instanceof Error ? err.message : String(err)}`, { level: "error" });
      await daemonLog.close();
      throw err;
    }
    close = async () => {
      await m.close();
      log("master daemon stopped");
      await daemonLog.close();
    };
    runtime = { pid: process.pid, rapiUrl: m.rapiUrl };
  } else {
    const settings = NodeSettingsSchema.parse(JSON.parse(await readFile(p.nodeSettings, "utf8")) as unknown);
    const n = await startNodeDaemon({
      dataDir,
      address: overrides.address ?? settings.address,
      port: overrides.port ?? settings.port,
      nodeName: settings.name,
    });
    close = () => n.close();
    runtime = { pid: process.pid, port: n.port, address: overrides.address ?? settings.address };
    if (overrides.port === undefined && settings.port === 0) {
      // The cluster's config records this port: a restarted daemon must bind it again.
      await writeFileAtomic(p.nodeSettings, JSON.stringify({ ...settings, port: n.port }, null, 2));
      n.log(`node daemon port ${n.port} chosen and saved in ${p.nodeSettings}`);
    }
  }
  writeFileSync(runtimeFile(dataDir, kind), JSON.stringify(runtime));
  return {
    async close() {
      await close();
      await rm(runtimeFile(dataDir, kind), { force: true });
    },
  };
}

/** Stop on the usual signals; exit non-zero if closing fails. */
export function closeOnSignals(d: { close(): Promise<void> }): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    d.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const kind = process.argv[2];
  const i = process.argv.indexOf("--data-dir");
  const dir = i > 0 ? process.argv[i + 1] : undefined;
  if ((kind !== "master" && kind !== "node") || !dir) {
    process.stderr.write("usage: daemon-main.ts master|node --data-dir DIR\n");
    process.exit(2);
  }
  runDaemon(kind, dir).then(closeOnSignals, (err: unknown) => {
    process.stderr.write(`${kind} daemon failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

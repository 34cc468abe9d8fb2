// Foreground daemon runner shared by `gnt daemon master|node` and the
// detached processes that `gnt cluster init` / `gnt node add` start:
//   node --import tsx server/src/daemon-main.ts master|node --data-dir DIR
// (built: node server/dist/daemon-main.js, or the ganeti-ts-masterd and
// ganeti-ts-noded executables).
// Writes a runtime file (pid, bound port) once listening, logs through
// lib/log.ts (stdout under systemd, else DIR/log/master.log or noded.log,
// reopened on SIGHUP), stops cleanly on SIGTERM/SIGINT.
import { writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { writeFileAtomic } from "./lib/atomic-file.js";
import { createDaemonLog } from "./lib/log.js";
import { startMaster } from "./master/app.js";
import { candidateRoleOf, restartManagedEtcd } from "./master/candidate-host.js";
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
      // A node of a cluster on etcd may be asked to run a standby master and an etcd member.
      backend: { candidateRole: candidateRoleOf(dataDir, settings.name ?? os.hostname()) },
    });
    close = () => n.close();
    // A master candidate's etcd member (clusters that run their own) starts with its node daemon.
    restartManagedEtcd(dataDir).then(
      (started) => started && n.log(`etcd member of ${dataDir} started again`),
      (err: unknown) => n.log(`etcd member of ${dataDir} not started: ${err instanceof Error ? err.message : String(err)}`),
    );
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

const DEFAULT_DATA_DIR = "/var/lib/ganeti-ts";

/**
 * The daemons' own executables (ganeti-ts-masterd, ganeti-ts-noded, run by
 * the systemd units): `[--data-dir DIR]`, default $GANETI_DATA_DIR, else
 * /var/lib/ganeti-ts.
 */
export function daemonCli(kind: "master" | "node", args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const name = kind === "master" ? "ganeti-ts-masterd" : "ganeti-ts-noded";
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(
      `Usage: ${name} [--data-dir DIR]\n\nRun the ganeti-ts ${kind} daemon in the foreground; SIGTERM stops it.\n` +
        `DIR defaults to $GANETI_DATA_DIR, else ${DEFAULT_DATA_DIR}.\n`,
    );
    return;
  }
  const i = args.indexOf("--data-dir");
  const unknown = args.filter((a, k) => a !== "--data-dir" && k !== i + 1);
  const dir = i >= 0 ? args[i + 1] : (env["GANETI_DATA_DIR"] ?? DEFAULT_DATA_DIR);
  if (!dir || unknown.length > 0) {
    process.stderr.write(`Usage: ${name} [--data-dir DIR]\n`);
    process.exitCode = 2;
    return;
  }
  runDaemon(kind, dir).then(closeOnSignals, (err: unknown) => {
    process.stderr.write(`${kind} daemon failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const kind = process.argv[2];
  if (kind !== "master" && kind !== "node") {
    process.stderr.write("usage: daemon-main master|node --data-dir DIR\n");
    process.exit(2);
  }
  daemonCli(kind, process.argv.slice(3));
}

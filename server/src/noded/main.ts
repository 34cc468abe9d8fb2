// The node daemon: HTTPS on address:port with the cluster certificate
// (<dataDir>/server.pem). Mutual TLS: only peers presenting that very
// certificate get an answer. Runtime state lives on disk (the fake
// hypervisor's files), so a restarted daemon simply finds its instances.
import { promises as fs } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { removeStaleTempFiles } from "../lib/atomic-file.js";
import { GanetiError } from "../lib/errors.js";
import { loadCert } from "../lib/certs.js";
import { createDaemonLog, type LogFn } from "../lib/log.js";
import { SUPPORTED_HYPERVISORS } from "../hypervisors/registry.js";
import { createNodeRequestHandler } from "./app.js";
import { NodeBackend, type NodeBackendOptions } from "./backend/node-backend.js";

class NodeDaemonError extends GanetiError {
  override readonly errorClass = "GenericError";
  readonly code = "environment_error" as const;
}

interface NodeDaemonOptions {
  dataDir: string;
  address: string;
  port: number;
  nodeName?: string;
  /** SIGTERM/SIGINT close the daemon gracefully (the CLI entry sets this). */
  handleSignals?: boolean;
  /** How long close() waits for in-flight calls before cutting connections. */
  shutdownGraceMs?: number;
  /** Passed to the backend (tests: overrides, clock, sleep). */
  backend?: Omit<NodeBackendOptions, "dataDir" | "nodeName" | "onLeaveCluster">;
}

export interface NodeDaemon {
  port: number;
  backend: NodeBackend;
  close(): Promise<void>;
  /** This daemon's log (lib/log.ts). */
  log: LogFn;
}

const nodeDaemonPaths = (dataDir: string) => ({
  cert: path.join(dataDir, "server.pem"),
  pid: path.join(dataDir, "noded.pid"),
  log: path.join(dataDir, "log", "noded.log"),
});

/** Data dirs served by daemons of this process (the pid file cannot tell those apart). */
const activeDataDirs = new Set<string>();

async function claimPidFile(file: string): Promise<void> {
  let existing: string | null = null;
  try {
    existing = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const pid = existing ? Number.parseInt(existing.trim(), 10) : NaN;
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
    throw new NodeDaemonError(`A node daemon already runs for this data directory (pid ${pid}, ${file})`);
  }
  await fs.writeFile(file, `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function startNodeDaemon(opts: NodeDaemonOptions): Promise<NodeDaemon> {
  const dataDir = path.resolve(opts.dataDir);
  const paths = nodeDaemonPaths(dataDir);
  const { cert, key } = await loadCert(paths.cert);
  await fs.mkdir(path.dirname(paths.log), { recursive: true });
  if (activeDataDirs.has(dataDir)) {
    throw new NodeDaemonError(`A node daemon already runs for this data directory (pid ${process.pid}, ${paths.pid})`);
  }
  await claimPidFile(paths.pid);
  activeDataDirs.add(dataDir);
  const daemonLog = createDaemonLog({ daemon: "noded", file: paths.log });
  const log = { write: daemonLog.log, close: () => daemonLog.close() };
  const nodeName = opts.nodeName ?? os.hostname();
  // Runtime state files are written atomically; a kill can leave their temp files.
  // (Only this daemon's own state: the master may share the data directory.)
  for (const tmp of await removeStaleTempFiles(path.join(dataDir, "hypervisors")))
    log.write(`removed ${tmp}, left by an interrupted write`);

  let closing: Promise<void> | null = null;
  const backend = new NodeBackend({
    ...opts.backend,
    dataDir,
    nodeName,
    // The node left the cluster: stop serving once the answer is out.
    onLeaveCluster: () => setImmediate(() => void close()),
  });

  const server = https.createServer(
    {
      cert,
      key,
      ca: [cert],
      requestCert: true,
      rejectUnauthorized: true,
      // Calls such as test_delay or OS installs run for up to an hour.
      requestTimeout: 0,
      keepAliveTimeout: 60_000,
    },
    createNodeRequestHandler(backend, log.write),
  );
  server.on("tlsClientError", (err) => log.write(`TLS client rejected: ${err.message}`, { level: "warn" }));

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port, opts.address, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    activeDataDirs.delete(dataDir);
    await fs.rm(paths.pid, { force: true });
    await log.close();
    throw new NodeDaemonError(`Cannot listen on ${opts.address}:${opts.port}: ${(err as Error).message}`, { cause: err });
  }
  const port = (server.address() as AddressInfo).port;

  const running: string[] = [];
  for (const hv of SUPPORTED_HYPERVISORS) running.push(...(await backend.hypervisors.get(hv).listInstances()));
  log.write(
    `node daemon ${nodeName} (pid ${process.pid}) listening on ${opts.address}:${port}; ` +
      `reattached to ${running.length} running instance(s)${running.length ? ": " + running.join(", ") : ""}`,
  );

  const onSignal = (sig: NodeJS.Signals) => {
    log.write(`received ${sig}, shutting down`);
    void close().then(() => process.exit(0));
  };

  function close(): Promise<void> {
    if (closing) return closing;
    closing = (async () => {
      if (opts.handleSignals) {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // In-flight calls get a grace period; their effects are on disk anyway.
      const grace = setTimeout(() => server.closeAllConnections(), opts.shutdownGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
      await fs.rm(paths.pid, { force: true });
      activeDataDirs.delete(dataDir);
      log.write("node daemon stopped");
      await log.close();
    })();
    return closing;
  }

  if (opts.handleSignals) {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
  return { port, backend, close, log: log.write };
}

// Wiring of the master daemon: store → config → RPC → job queue → RAPI and
// the control socket. `startMaster` is what `gnt daemon master` runs. With
// the etcd store, the daemon is one of the master candidates and serves
// only while it holds the cluster's leadership (ha.ts).
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { LU_REGISTRY } from "../cmdlib/registry.js";
import { CONFIG_PREFIX, ClusterConfig } from "../config/cluster-config.js";
import { JobQueue } from "../jobs/queue.js";
import { loadCert } from "../lib/certs.js";
import { ConfigurationError } from "../lib/errors.js";
import type { LogFn } from "../lib/log.js";
import { buildRapiServer } from "../rapi/app.js";
import { HttpsRpcRunner } from "../rpc/https-runner.js";
import type { RpcRunner } from "../rpc/runner.js";
import { FileStore } from "../store/file-store.js";
import type { Store } from "../store/store.js";
import { makeAllocator } from "./allocator.js";
import { OPCODE_CATALOG } from "./opcode-catalog.js";
import { startControlSocket, type WatcherControl } from "./control-socket.js";
import { startHaMaster } from "./ha.js";
import { dataPaths, type DataPaths } from "./paths.js";
import { loadMasterSettings, saveMasterRapiPort, type MasterSettings } from "./settings.js";
import { Watcher, readWatcherPause, setWatcherPause } from "./watcher.js";

export interface RunningMaster {
  /** The active master's; null while a standby master candidate. */
  config: ClusterConfig | null;
  queue: JobQueue | null;
  /** e.g. https://127.0.0.1:5080 */
  rapiUrl: string;
  close(): Promise<void>;
}

/** Written once listening, so that `gnt cluster init` learns the bound port. */
interface MasterRuntime {
  pid: number;
  rapiUrl: string;
  rapiPort: number;
}

/** RAPI + queue + archiver of the active master, on a loaded config. */
export interface Serving {
  config: ClusterConfig;
  queue: JobQueue;
  rpc: RpcRunner;
  rapi: FastifyInstance;
  rapiUrl: string;
  port: number;
  watcher: WatcherControl;
  /** Stop taking requests; `drain`: let running jobs finish first. */
  close(opts?: { drain?: boolean }): Promise<void>;
}

export function rapiUrlOf(settings: MasterSettings, port: number): string {
  const host = settings.rapi.address.includes(":") ? `[${settings.rapi.address}]` : settings.rapi.address;
  return `${settings.rapi.noSsl ? "http" : "https"}://${host}:${port}`;
}

export async function serve(o: {
  p: DataPaths;
  settings: MasterSettings;
  store: Store;
  config: ClusterConfig;
  log: LogFn;
}): Promise<Serving> {
  const { p, settings, store, config, log } = o;
  const rpc = new HttpsRpcRunner({ certPem: await readFile(p.clusterCert, "utf8") });
  const queue = await JobQueue.open({
    store,
    config,
    rpc,
    allocator: makeAllocator(config),
    registry: LU_REGISTRY,
    catalog: OPCODE_CATALOG,
    log,
  });
  const tls = settings.rapi.noSsl ? null : await loadCert(p.rapiCert);
  const rapi = await buildRapiServer({
    config,
    queue,
    rpc,
    usersFile: p.rapiUsers,
    requireAuthentication: settings.rapi.requireAuthentication,
    maxBodyBytes: settings.rapi.maxBodyBytes,
    headersTimeoutMs: settings.rapi.headersTimeoutMs,
    requestTimeoutMs: settings.rapi.requestTimeoutMs,
    anonymousJobLimit: settings.rapi.anonymousJobLimit,
    tls,
    logger: {
      info: (msg, fields) => log(msg, fields),
      error: (msg, fields) => log(msg, { ...fields, level: "error" }),
    },
  });
  await rapi.listen({ host: settings.rapi.address, port: settings.rapi.port });
  const admin = await startAdminSocket(p.adminSocket, {
    config,
    queue,
    rpc,
    usersFile: p.rapiUsers,
    logger: {
      info: (msg, fields) => log(msg, { ...fields, socket: "admin" }),
      error: (msg, fields) => log(msg, { ...fields, socket: "admin", level: "error" }),
    },
  });
  const addr = rapi.server.address();
  const port = typeof addr === "object" && addr ? addr.port : settings.rapi.port;
  if (settings.rapi.port === 0) {
    // Port 0 means "any free port" once: clients and the runtime file know this one now.
    await saveMasterRapiPort(p.masterSettings, settings, port);
    log(`RAPI port ${port} chosen and saved in ${p.masterSettings}`);
  }
  const watcher = new Watcher({ config, queue, rpc, dataDir: p.root, jobAge: settings.archiveAfterSeconds });
  const watcherControl: WatcherControl = {
    run: () => watcher.runOnce(),
    setPause: (until) => setWatcherPause(p.root, until),
    pausedUntil: () => readWatcherPause(p.root, Date.now() / 1000),
  };
  const watcherLoop =
    settings.watcherIntervalSeconds > 0
      ? setInterval(() => {
          watcher
            .runOnce()
            .then((lines) => lines.forEach((l) => log(`watcher: ${l}`, { component: "watcher" })))
            .catch((err) =>
              log(`watcher failed: ${err instanceof Error ? err.stack : String(err)}`, { level: "error", component: "watcher" }),
            );
        }, settings.watcherIntervalSeconds * 1000)
      : null;
  watcherLoop?.unref();
  const archiver = setInterval(() => {
    queue.archiveOld(settings.archiveAfterSeconds).catch((err) => log(`archival failed: ${String(err)}`, { level: "error" }));
  }, 60_000);
  archiver.unref();
  return {
    config,
    queue,
    rpc,
    rapi,
    port,
    rapiUrl: rapiUrlOf(settings, port),
    watcher: watcherControl,
    async close(c = {}) {
      clearInterval(archiver);
      if (watcherLoop) clearInterval(watcherLoop);
      await rapi.close();
      await admin.close();
      await rm(p.adminSocket, { force: true });
      if (c.drain !== false) await queue.whenIdle();
      await queue.close();
    },
  };
}

/**
 * The RAPI for root on the master (Ganeti's CLI talks to its master daemon
 * over a local socket, LUXI, with no credentials): plain HTTP on a unix
 * socket that only its owner may connect to. The socket is made with a
 * umask that already excludes everyone else, then set to 0600.
 */
async function startAdminSocket(
  socketPath: string,
  deps: Pick<Parameters<typeof buildRapiServer>[0], "config" | "queue" | "rpc" | "usersFile" | "logger">,
): Promise<FastifyInstance> {
  const admin = await buildRapiServer({ ...deps, tls: null, localAdmin: true, watchUsers: false });
  await rm(socketPath, { force: true });
  const old = process.umask(0o077);
  try {
    await admin.listen({ path: socketPath });
  } finally {
    process.umask(old);
  }
  await chmod(socketPath, 0o600);
  return admin;
}

export async function startMaster(opts: { dataDir: string; log?: LogFn }): Promise<RunningMaster> {
  const p = dataPaths(opts.dataDir);
  const log = opts.log ?? (() => undefined);
  const settings = await loadMasterSettings(p.masterSettings);
  if (settings.store.kind === "etcd") return startHaMaster({ p, settings, log });
  const store = new FileStore(p.masterState);
  for (const tmp of await store.removeInterruptedWrites()) log(`removed ${tmp}, left by an interrupted write`);
  const configFile = path.join(p.masterState, CONFIG_PREFIX);
  let config: ClusterConfig | null;
  try {
    config = await ClusterConfig.load(store);
  } catch (err) {
    // The data directory holds a cluster: say which file is damaged, never suggest a new cluster.
    throw new ConfigurationError(`Cannot load the cluster configuration ${configFile}: ${(err as Error).message}`, { cause: err });
  }
  if (!config) {
    throw new ConfigurationError(
      `The cluster configuration ${configFile} is missing although ${p.masterSettings} exists: ` +
        `restore ${CONFIG_PREFIX} into ${p.masterState} from a backup or another master candidate`,
    );
  }
  const s = await serve({ p, settings, store, config, log });
  const control = await startControlSocket(p.controlSocket, s.queue, { watcher: () => s.watcher });
  await mkdir(p.root, { recursive: true });
  const runtime: MasterRuntime = { pid: process.pid, rapiUrl: s.rapiUrl, rapiPort: s.port };
  await writeFile(p.masterPid, JSON.stringify(runtime));
  log(`master daemon listening on ${s.rapiUrl}`);
  return {
    config,
    queue: s.queue,
    rapiUrl: s.rapiUrl,
    async close() {
      await control.close();
      await s.close();
      await store.close();
      await rm(p.masterPid, { force: true });
    },
  };
}

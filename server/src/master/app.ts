// Wiring of the master daemon: store → config → RPC → job queue → RAPI and
// the control socket. `startMaster` is what `gnt daemon master` runs.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { LU_REGISTRY } from "../cmdlib/registry.js";
import { ClusterConfig } from "../config/cluster-config.js";
import { JobQueue } from "../jobs/queue.js";
import { loadCert } from "../lib/certs.js";
import { buildRapiServer } from "../rapi/app.js";
import { HttpsRpcRunner } from "../rpc/https-runner.js";
import type { RpcRunner } from "../rpc/runner.js";
import { FileStore } from "../store/file-store.js";
import { makeAllocator } from "./allocator.js";
import { OPCODE_CATALOG } from "./opcode-catalog.js";
import { startControlSocket } from "./control-socket.js";
import { dataPaths } from "./paths.js";
import { loadMasterSettings } from "./settings.js";
import { Watcher, readWatcherPause, setWatcherPause } from "./watcher.js";

export interface RunningMaster {
  config: ClusterConfig;
  queue: JobQueue;
  rpc: RpcRunner;
  rapi: FastifyInstance;
  /** e.g. https://127.0.0.1:5080 */
  rapiUrl: string;
  close(): Promise<void>;
}

/** Written once listening, so that `gnt cluster init` learns the bound port. */
export interface MasterRuntime {
  pid: number;
  rapiUrl: string;
  rapiPort: number;
}

export async function startMaster(opts: { dataDir: string; log?: (line: string) => void }): Promise<RunningMaster> {
  const p = dataPaths(opts.dataDir);
  const log = opts.log ?? (() => undefined);
  const settings = await loadMasterSettings(p.masterSettings);
  const store = new FileStore(p.masterState);
  const config = await ClusterConfig.load(store);
  if (!config) throw new Error(`no cluster configuration in ${p.masterState}: run 'gnt cluster init' first`);
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
    tls,
  });
  await rapi.listen({ host: settings.rapi.address, port: settings.rapi.port });
  const addr = rapi.server.address();
  const port = typeof addr === "object" && addr ? addr.port : settings.rapi.port;
  const host = settings.rapi.address.includes(":") ? `[${settings.rapi.address}]` : settings.rapi.address;
  const rapiUrl = `${settings.rapi.noSsl ? "http" : "https"}://${host}:${port}`;
  const watcher = new Watcher({ config, queue, rpc, dataDir: p.root, jobAge: settings.archiveAfterSeconds });
  const control = await startControlSocket(p.controlSocket, queue, {
    run: () => watcher.runOnce(),
    setPause: (until) => setWatcherPause(p.root, until),
    pausedUntil: () => readWatcherPause(p.root, Date.now() / 1000),
  });
  const watcherLoop =
    settings.watcherIntervalSeconds > 0
      ? setInterval(() => {
          watcher
            .runOnce()
            .then((lines) => lines.forEach((l) => log(`watcher: ${l}`)))
            .catch((err) => log(`watcher failed: ${err instanceof Error ? err.stack : String(err)}`));
        }, settings.watcherIntervalSeconds * 1000)
      : null;
  watcherLoop?.unref();
  const archiver = setInterval(() => {
    queue.archiveOld(settings.archiveAfterSeconds).catch((err) => log(`archival failed: ${String(err)}`));
  }, 60_000);
  archiver.unref();
  await mkdir(p.root, { recursive: true });
  const runtime: MasterRuntime = { pid: process.pid, rapiUrl, rapiPort: port };
  await writeFile(p.masterPid, JSON.stringify(runtime));
  log(`master daemon listening on ${rapiUrl}`);
  return {
    config,
    queue,
    rpc,
    rapi,
    rapiUrl,
    async close() {
      clearInterval(archiver);
      if (watcherLoop) clearInterval(watcherLoop);
      await control.close();
      await rapi.close();
      await queue.whenIdle();
      await queue.close();
      await rm(p.masterPid, { force: true });
    },
  };
}

// Wiring of the master daemon: store → config → RPC → job queue → RAPI and
// the control socket. `startMaster` is what `gnt daemon master` runs.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { LU_REGISTRY } from "../cmdlib/registry.js";
import { CONFIG_PREFIX, ClusterConfig } from "../config/cluster-config.js";
import { JobQueue } from "../jobs/queue.js";
import { loadCert } from "../lib/certs.js";
import { ConfigurationError } from "../lib/errors.js";
import { buildRapiServer } from "../rapi/app.js";
import { HttpsRpcRunner } from "../rpc/https-runner.js";
import type { RpcRunner } from "../rpc/runner.js";
import { FileStore } from "../store/file-store.js";
import { makeAllocator } from "./allocator.js";
import { OPCODE_CATALOG } from "./opcode-catalog.js";
import { startControlSocket } from "./control-socket.js";
import { dataPaths } from "./paths.js";
import { loadMasterSettings, saveMasterRapiPort } from "./settings.js";

interface RunningMaster {
  config: ClusterConfig;
  queue: JobQueue;
  rpc: RpcRunner;
  rapi: FastifyInstance;
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

export async function startMaster(opts: { dataDir: string; log?: (line: string) => void }): Promise<RunningMaster> {
  const p = dataPaths(opts.dataDir);
  const log = opts.log ?? (() => undefined);
  const settings = await loadMasterSettings(p.masterSettings);
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
  if (settings.rapi.port === 0) {
    // Port 0 means "any free port" once: clients and the runtime file know this one now.
    await saveMasterRapiPort(p.masterSettings, settings, port);
    log(`RAPI port ${port} chosen and saved in ${p.masterSettings}`);
  }
  const host = settings.rapi.address.includes(":") ? `[${settings.rapi.address}]` : settings.rapi.address;
  const rapiUrl = `${settings.rapi.noSsl ? "http" : "https"}://${host}:${port}`;
  const control = await startControlSocket(p.controlSocket, queue);
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
      await control.close();
      await rapi.close();
      await queue.whenIdle();
      await queue.close();
      await rm(p.masterPid, { force: true });
    },
  };
}

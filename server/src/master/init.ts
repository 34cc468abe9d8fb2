// `gnt cluster init`: create the data directory of a new cluster whose master
// is this machine — certificates, RAPI users, settings, the initial config.
// Starting the daemons is the CLI's job (they run as separate processes).
import { createHash } from "node:crypto";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ClusterConfig } from "../config/cluster-config.js";
import { buildInitialConfig } from "../config/initial-config.js";
import { generateClusterCert } from "../lib/certs.js";
import { FILE_STORAGE_PATHS_FILE } from "../noded/backend/storage-paths.js";
import { dataPaths } from "./paths.js";
import { loadMasterSettings, type MasterSettings } from "./settings.js";
import { openStore } from "./store-open.js";
import { NodeSettingsSchema, SETTINGS_FILE } from "../noded/backend/settings.js";

/** The OS definitions shipped with ganeti-ts (noop). */
export const BUNDLED_OS_DIR = fileURLToPath(new URL("../../os", import.meta.url));
const DEFAULT_OS_SEARCH_PATH = ["/srv/ganeti/os", "/usr/local/lib/ganeti/os", "/usr/lib/ganeti/os", "/usr/share/ganeti/os"];

export interface InitOptions {
  dataDir: string;
  clusterName: string;
  nodeName: string;
  nodeAddress: string;
  nodePort: number;
  rapiAddress: string;
  rapiPort: number;
  rapiUser?: string;
  rapiPassword?: string;
  enabledHypervisors?: string[];
  enabledDiskTemplates?: string[];
  fileStorageDir?: string;
  sharedFileStorageDir?: string;
  osSearchPath?: string[];
  defaultIallocator?: string;
  /** e.g. {"no-capacity-checks": null}, as `hail --no-capacity-checks`. */
  defaultIallocatorParams?: Record<string, unknown>;
  vcpuRatio?: number;
  noSsl?: boolean;
  /**
   * Let clients without credentials use the read-only resources (Ganeti's
   * RAPI default). Off for new clusters: every request needs a user, so an
   * anonymous client can neither read the cluster nor submit jobs (GET
   * /2/instances/X/info submits one).
   */
  allowAnonymousReads?: boolean;
  /** Default: the file store in the data dir. */
  store?: MasterSettings["store"];
  /** The node setting "netns": the network namespace of this node's bridges and taps. */
  nodeNetns?: string;
  /** Run the watcher inside the master every this many seconds (0: never). */
  watcherIntervalSeconds?: number;
}

async function isInitialised(dataDir: string): Promise<boolean> {
  try {
    await access(dataPaths(dataDir).masterSettings);
    return true;
  } catch {
    return false;
  }
}

/** `{HA1}` form: md5("user:Ganeti Remote API:password"), so no cleartext password is stored. */
export function ha1(user: string, password: string): string {
  return createHash("md5").update(`${user}:Ganeti Remote API:${password}`).digest("hex");
}

export async function writeClusterFiles(o: InitOptions): Promise<void> {
  const p = dataPaths(o.dataDir);
  if (await isInitialised(o.dataDir)) throw new Error(`${p.root} already holds a cluster (remove it with 'gnt cluster destroy')`);
  await mkdir(p.root, { recursive: true, mode: 0o700 });
  await mkdir(p.logDir, { recursive: true });
  await mkdir(path.dirname(p.rapiUsers), { recursive: true, mode: 0o700 });
  await writeFile(p.clusterCert, (await generateClusterCert(o.clusterName)).pem, { mode: 0o600 });
  // The RAPI certificate names the addresses clients use, so that a client
  // given this file as its CA can verify the host too (Ganeti's does not).
  const rapiNames = ["localhost", "127.0.0.1", "::1", os.hostname(), o.nodeName, o.rapiAddress].filter(
    (a) => a && a !== "0.0.0.0" && a !== "::",
  );
  await writeFile(p.rapiCert, (await generateClusterCert(o.clusterName, undefined, rapiNames)).pem, { mode: 0o600 });
  const users = o.rapiUser && o.rapiPassword ? `${o.rapiUser} {HA1}${ha1(o.rapiUser, o.rapiPassword)} write\n` : "";
  await writeFile(p.rapiUsers, `# user password options (see docs/operations.md)\n${users}`, { mode: 0o600 });
  const settings: MasterSettings = {
    rapi: {
      address: o.rapiAddress,
      port: o.rapiPort,
      requireAuthentication: o.allowAnonymousReads !== true,
      noSsl: o.noSsl ?? false,
      maxBodyBytes: 1024 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      anonymousJobLimit: 10,
    },
    store: o.store ?? { kind: "file", endpoints: [], prefix: "ganeti/", managed: false, leaseTtl: 10 },
    masterIpSetupScript: "/etc/ganeti/scripts/master-ip-setup",
    archiveAfterSeconds: 6 * 3600,
    watcherIntervalSeconds: o.watcherIntervalSeconds ?? 0,
  };
  await writeFile(p.masterSettings, JSON.stringify(settings, null, 2));
  // This node's allow-list for file storage (Ganeti's file-storage-paths); `gnt node add` copies it to new nodes.
  const storageDirs = [
    o.fileStorageDir ?? path.join(p.root, "file-storage"),
    o.sharedFileStorageDir ?? path.join(p.root, "shared-file-storage"),
  ];
  await writeFile(
    path.join(p.root, FILE_STORAGE_PATHS_FILE),
    `# Directories file storage may use on this node, one per line (see docs/operations.md)\n${storageDirs.map((d) => path.resolve(d)).join("\n")}\n`,
  );
  await writeFile(p.nodeSettings, JSON.stringify({ name: o.nodeName, address: o.nodeAddress, port: o.nodePort }, null, 2));
  if (o.nodeNetns) await writeNodeNetns(o.dataDir, o.nodeNetns);
}

/** Write the node setting "netns" into a node data directory (before its daemon starts). */
export async function writeNodeNetns(dataDir: string, netns: string): Promise<void> {
  await writeNodeSettings(dataDir, { netns });
}

/**
 * A new node's own settings (noded.json): its network namespace, its
 * node-local file storage. Settings the file already holds (resources an
 * operator or a test prepared before the node joined) are kept.
 */
export async function writeNodeSettings(
  dataDir: string,
  settings: { netns?: string; file_storage_map?: Record<string, string> },
): Promise<void> {
  const file = path.join(dataDir, SETTINGS_FILE);
  const before: unknown = await readFile(file, "utf8").then(
    (t) => JSON.parse(t) as unknown,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return {};
      throw err;
    },
  );
  const parsed = NodeSettingsSchema.parse({ ...NodeSettingsSchema.parse(before), ...settings });
  await writeFile(path.join(dataDir, SETTINGS_FILE), JSON.stringify(parsed, null, 2));
}

/** Write the initial config once the master's node daemon port is known. */
export async function writeInitialConfig(o: InitOptions & { nodePort: number }): Promise<void> {
  const p = dataPaths(o.dataDir);
  const data = buildInitialConfig({
    clusterName: o.clusterName,
    master: { name: o.nodeName, ip: o.nodeAddress, rpcPort: o.nodePort, rpcAddress: o.nodeAddress },
    enabledHypervisors: o.enabledHypervisors,
    enabledDiskTemplates: o.enabledDiskTemplates,
    fileStorageDir: o.fileStorageDir ?? path.join(p.root, "file-storage"),
    sharedFileStorageDir: o.sharedFileStorageDir ?? path.join(p.root, "shared-file-storage"),
    osSearchPath: o.osSearchPath ?? [...DEFAULT_OS_SEARCH_PATH, BUNDLED_OS_DIR],
    defaultIallocator: o.defaultIallocator ?? "hail",
    defaultIallocatorParams: o.defaultIallocatorParams,
    vcpuRatio: o.vcpuRatio,
  });
  const settings = await loadMasterSettings(p.masterSettings);
  const store = openStore(settings, p);
  try {
    if (settings.store.kind === "etcd" && (await store.list("config/")).length > 0) {
      throw new Error(`etcd (${settings.store.endpoints.join(",")}) already holds a cluster under the prefix '${settings.store.prefix}'`);
    }
    await ClusterConfig.create(store, data);
  } finally {
    await store.close();
  }
}

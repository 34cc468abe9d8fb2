// A real local cluster for cross-package tests: `gnt cluster init` in a temp
// dir (master + node daemon as separate processes on 127.0.0.1, random
// ports), optionally more nodes with `gnt node add` on 127.0.0.12, .13, ...
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createScratchNetns, type ScratchNetns } from "@ganeti-ts/server/lib/scratch-netns";

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const GNT = path.join(REPO, "cli", "bin", "gnt.js");

export interface LocalCluster {
  dataDir: string;
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The RAPI certificate (PEM path), to verify TLS. */
  caFile: string;
  nodes: string[];
  /** A node's data directory, by name (node1's is the master's, `dataDir`). */
  nodeDir(node: string): string;
  /** The network namespace of the nodes' bridges and taps. */
  netns: ScratchNetns;
  /** Run the gnt CLI with this cluster's connection settings in the environment. */
  gnt(args: string[], opts?: { env?: Record<string, string> }): Promise<{ stdout: string; stderr: string }>;
  env(): Record<string, string>;
  /** Stop every daemon and remove the data dirs. */
  destroy(): Promise<void>;
}

export interface LocalClusterOptions {
  nodes?: number;
  diskTemplates?: string[];
  /** e.g. ["no-capacity-checks"] */
  iallocatorParams?: string;
  /** Extra `gnt cluster init` flags. */
  initArgs?: string[];
  /** Bridges made in the cluster's network namespace (shared by its nodes); default xen-br0 (the default NIC link) and br0. */
  bridges?: string[];
  /**
   * Give every node a secondary (replication) IP of its own, random in
   * 127.16-215.x.y: drbd disks listen there on ports from the cluster's
   * pool (11000 up), which would collide between clusters running at once
   * on the shared 127.0.0.1x node addresses.
   */
  secondaryIps?: boolean;
  /**
   * Run the node daemons' hypervisors in the cluster's network namespace
   * (default; kvm guests on drbd disks too: they reach their storage daemon
   * through a unix socket). false: on the host (instances then have no NICs:
   * no bridge exists outside the namespace).
   */
  nodeNetns?: boolean;
  /** Every node's noded.json (memory, disk sizes it reports instead of the machine's), written before its daemon starts. */
  nodeSettings?: Record<string, unknown>;
}

/** `gnt cluster init` of a test cluster: the RAPI and the node daemon on random ports (0), the first node's address and name, a RAPI user. */
export function clusterInitArgs(o: {
  dataDir: string;
  nodeAddress: string;
  nodeName: string;
  user: string;
  password: string;
  diskTemplates: string[];
}): string[] {
  return [
    "cluster",
    "init",
    "cluster.example.com",
    "--data-dir",
    o.dataDir,
    "--rapi-port",
    "0",
    "--node-port",
    "0",
    "--node-address",
    o.nodeAddress,
    "--node-name",
    o.nodeName,
    "--rapi-user",
    o.user,
    "--rapi-password",
    o.password,
    "--enabled-disk-templates",
    o.diskTemplates.join(","),
  ];
}

/** Random loopback addresses, one per node, outside 127.0.0.x (which every local cluster uses). */
function randomSecondaryIps(count: number): string[] {
  const a = 16 + Math.floor(Math.random() * 200);
  const b = Math.floor(Math.random() * 250);
  const c = 2 + Math.floor(Math.random() * 200);
  return Array.from({ length: count }, (_, i) => `127.${a}.${b}.${c + i}`);
}

export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const root = await mkdtemp(path.join(tmpdir(), "gts-cluster-"));
  const netns = await createScratchNetns({ prefix: "c", bridges: opts.bridges ?? ["xen-br0", "br0"] });
  const dataDir = path.join(root, "master");
  const user = "admin";
  const password = randomBytes(12).toString("hex");
  const count = opts.nodes ?? 1;
  const nodes = Array.from({ length: count }, (_, i) => `node${i + 1}.example.com`);
  const secondaryIps = opts.secondaryIps ? randomSecondaryIps(count) : null;
  const baseEnv = { ...process.env, GANETI_DATA_DIR: dataDir } as Record<string, string>;
  const gntRaw = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [GNT, ...args], { cwd: REPO, env: { ...baseEnv, ...env }, maxBuffer: 16 << 20 });
  const nodeDirs = [dataDir, ...Array.from({ length: count - 1 }, (_, i) => path.join(root, `node${i + 2}`))];
  if (opts.nodeSettings)
    for (const d of nodeDirs) {
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, "noded.json"), JSON.stringify(opts.nodeSettings));
    }
  try {
    await gntRaw([
      ...clusterInitArgs({
        dataDir,
        nodeAddress: "127.0.0.11",
        nodeName: nodes[0]!,
        user,
        password,
        diskTemplates: opts.diskTemplates ?? ["diskless", "file", "sharedfile"],
      }),
      "--default-iallocator-params",
      opts.iallocatorParams ?? "no-capacity-checks",
      ...(opts.nodeNetns === false ? [] : ["--node-netns", netns.name]),
      ...(opts.initArgs ?? []),
    ]);
    // The master first (Ganeti: only the master may make a cluster multi-homed).
    if (secondaryIps) await gntRaw(["node", "modify", "--secondary-ip", secondaryIps[0]!, "--force", nodes[0]!]);
    for (let i = 1; i < count; i++) {
      await gntRaw([
        "node",
        "add",
        nodes[i]!,
        "--address",
        `127.0.0.${11 + i}`,
        "--port",
        "0",
        "--data-dir",
        nodeDirs[i]!,
        "--master-data-dir",
        dataDir,
        ...(opts.nodeNetns === false ? [] : ["--netns", netns.name]),
        ...(secondaryIps ? ["--secondary-ip", secondaryIps[i]!] : []),
      ]);
    }
  } catch (err) {
    await gntRaw(["cluster", "destroy", "--yes-do-it", "--data-dir", dataDir]).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await netns.dispose();
    throw err;
  }
  const runtime = JSON.parse(await readFile(path.join(dataDir, "master.runtime.json"), "utf8")) as { rapiUrl: string };
  const u = new URL(runtime.rapiUrl);
  const caFile = path.join(dataDir, "rapi.pem");
  const env = () => ({
    GANETI_DATA_DIR: dataDir,
    GANETI_RAPI_URL: runtime.rapiUrl,
    GANETI_RAPI_USER: user,
    GANETI_RAPI_PASSWORD: password,
    GANETI_RAPI_CA: caFile,
  });
  return {
    dataDir,
    url: runtime.rapiUrl,
    host: u.hostname,
    port: Number(u.port),
    user,
    password,
    caFile,
    nodes,
    nodeDir(node) {
      const d = nodeDirs[nodes.indexOf(node)];
      if (!d) throw new Error(`no node ${node} in this cluster`);
      return d;
    },
    netns,
    env,
    gnt: (args, o = {}) => gntRaw(args, { ...env(), ...o.env }),
    async destroy() {
      try {
        await gntRaw(["cluster", "destroy", "--yes-do-it", "--data-dir", dataDir]);
      } finally {
        await rm(root, { recursive: true, force: true });
        await netns.dispose();
      }
    },
  };
}

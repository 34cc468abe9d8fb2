// LU test harness: a cluster whose nodes are real in-process node backends
// (fake hypervisor, real files in a temp dir) behind the in-memory RPC
// runner, and the real job queue running the real LUs. No sockets.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JobRecord, NodeObject } from "@ganeti-ts/schema";
import type { Allocator, OpcodeInput } from "../../src/cmdlib/base.js";
import { LU_REGISTRY, type LuTable } from "../../src/cmdlib/registry.js";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig, newNodeObject } from "../../src/config/initial-config.js";
import { DEFAULT_NICPARAMS } from "../../src/config/defaults.js";
import { calcJobStatus } from "../../src/jobs/job.js";
import { JobQueue } from "../../src/jobs/queue.js";
import { GanetiError, OpExecError, OpPrereqError } from "../../src/lib/errors.js";
import { makeAllocator } from "../../src/master/allocator.js";
import { BUNDLED_OS_DIR } from "../../src/master/init.js";
import { OPCODE_CATALOG } from "../../src/master/opcode-catalog.js";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { InMemoryRpcRunner } from "../../src/rpc/in-memory-runner.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { createScratchNetns, type ScratchNetns } from "../../src/lib/scratch-netns.js";
import { killGuestsUnder } from "./kvm-guest.js";
import type { Store } from "../../src/store/store.js";
import { removeExportDir } from "../../src/storage/replication/engine.js";

export interface TestClusterOptions {
  /** Number of nodes (node1..nodeN.example.com), default 1. */
  nodes?: number;
  /** Memory each node reports (MiB), default 8192. */
  nodeMemory?: number;
  /** CPUs each node reports, default 4. */
  nodeCpus?: number;
  diskTemplates?: string[];
  /** Replace the hail allocator (e.g. with a stub). */
  allocator?: Allocator;
  /** Extra or replacement LUs. */
  registry?: LuTable;
  /** Ganeti's default iallocator params; default {"no-capacity-checks": null} so small clusters allocate. */
  iallocatorParams?: Record<string, unknown>;
  /** Bridges made in the cluster's network namespace; default the cluster's default NIC link, xen-br0. */
  bridges?: string[];
  /** Enabled hypervisors, default ["fake"]. */
  hypervisors?: string[];
  /** One network namespace per node (each with `bridges`) instead of one shared by all. */
  netnsPerNode?: boolean;
  /**
   * Each node keeps the cluster's file_storage_dir in a directory of its own
   * (node setting file_storage_map: <root>/nodes/<node>/file-storage), as
   * separate machines would; shared-file storage stays shared.
   */
  nodeLocalFileStorage?: boolean;
  /** Where config and jobs are kept (default: a fresh MemoryStore). */
  store?: Store;
  /** Check every config write against a full comparison (default true; benchmarks turn it off). */
  verifyChanges?: boolean;
  /** The LUs' waits between polls (drbd sync); default real timers. */
  sleep?: (ms: number) => Promise<void>;
}

export interface TestCluster {
  config: ClusterConfig;
  /** What the master persisted (config and jobs): a restarted master opens this. */
  store: Store;
  queue: JobQueue;
  rpc: InMemoryRpcRunner;
  /** node uuid → backend */
  backends: Map<string, NodeBackend>;
  nodes: NodeObject[];
  root: string;
  /** The network namespace the nodes keep their bridges in (the master's, with netnsPerNode). */
  netns: ScratchNetns;
  /** A node's network namespace. */
  netnsOf(nodeName: string): ScratchNetns;
  /** Run one opcode as a job; resolves with its result or rejects with the GanetiError (decoded). */
  runOp(op: OpcodeInput): Promise<unknown>;
  /** Run a job to its end and return the record. */
  runJob(ops: OpcodeInput[]): Promise<JobRecord>;
  /** Every log message of a job. */
  jobLog(job: JobRecord): string[];
  /** Add a node (its backend too) straight into the config. */
  addNode(name: string): Promise<NodeObject>;
  backendOf(nodeName: string): NodeBackend;
  cleanup(): Promise<void>;
}

/** Rebuild the thrown error from an encoded job error, keeping class and ecode. */
export function decodeJobError(encoded: unknown): GanetiError {
  if (!Array.isArray(encoded) || typeof encoded[0] !== "string" || !Array.isArray(encoded[1])) {
    return new OpExecError(String(encoded));
  }
  const [cls, args] = encoded as [string, unknown[]];
  const message = String(args[0] ?? "");
  const ecode = (args[1] ?? null) as never;
  const err = cls === "OpPrereqError" ? new OpPrereqError(message, ecode) : new OpExecError(message);
  Object.defineProperty(err, "errorClass", { value: cls });
  return err;
}

export async function testCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  // Namespaces made before a failure are removed here (a worker thread's end fires no exit hook).
  const owned: ScratchNetns[] = [];
  try {
    return await buildTestCluster(opts, owned);
  } catch (err) {
    for (const ns of owned) await ns.dispose();
    throw err;
  }
}

async function buildTestCluster(opts: TestClusterOptions, owned: ScratchNetns[]): Promise<TestCluster> {
  const root = await mkdtemp(path.join(tmpdir(), "gts-harness-"));
  const bridges = opts.bridges ?? [DEFAULT_NICPARAMS.link];
  const netns = await createScratchNetns({ prefix: "h", bridges });
  owned.push(netns);
  const namespaces = new Map<string, ScratchNetns>();
  const netnsFor = async (name: string): Promise<ScratchNetns> => {
    let ns = namespaces.get(name);
    if (!ns) {
      if (opts.netnsPerNode && namespaces.size) {
        ns = await createScratchNetns({ prefix: "h", bridges });
        owned.push(ns);
      } else ns = netns;
      namespaces.set(name, ns);
    }
    return ns;
  };
  const count = opts.nodes ?? 1;
  const backends = new Map<string, NodeBackend>();
  const rpc = new InMemoryRpcRunner(backends);
  const newBackend = async (name: string) =>
    new NodeBackend({
      dataDir: path.join(root, "nodes", name),
      nodeName: name,
      overrides: {
        memoryTotal: opts.nodeMemory ?? 8192,
        memoryDom0: 0,
        cpuTotal: opts.nodeCpus ?? 4,
        netns: (await netnsFor(name)).name,
        ...(opts.nodeLocalFileStorage
          ? { fileStorageMap: { [path.join(root, "file-storage")]: path.join(root, "nodes", name, "file-storage") } }
          : {}),
      },
      fileStoragePaths: [path.join(root, "file-storage"), path.join(root, "shared-file-storage")],
    });
  const data = buildInitialConfig({
    clusterName: "cluster.example.com",
    master: { name: "node1.example.com", ip: "127.0.0.11", rpcPort: 1811 },
    enabledDiskTemplates: opts.diskTemplates ?? ["file", "sharedfile", "diskless"],
    fileStorageDir: path.join(root, "file-storage"),
    sharedFileStorageDir: path.join(root, "shared-file-storage"),
    osSearchPath: [BUNDLED_OS_DIR],
    defaultIallocatorParams: opts.iallocatorParams ?? { "no-capacity-checks": null },
    enabledHypervisors: opts.hypervisors,
  });
  // Every LU run by the tests must declare what it changes (touch/markChanged): fail writes that miss one.
  ClusterConfig.verifyChanges = opts.verifyChanges ?? true;
  const store = opts.store ?? new MemoryStore();
  const config = await ClusterConfig.create(store, data);
  backends.set(config.masterNode.uuid, await newBackend(config.masterNode.name));

  const addNode = async (name: string): Promise<NodeObject> => {
    const ip = `127.0.0.${10 + config.nodes().length + 1}`;
    const node = newNodeObject({
      name,
      ip,
      group: config.masterNode.group,
      rpcAddress: ip,
      rpcPort: 1811,
      masterCandidate: true,
      now: config.now(),
    });
    backends.set(node.uuid, await newBackend(name));
    await config.mutate((d) => {
      d.nodes[node.uuid] = node;
    });
    return node;
  };
  for (let i = 2; i <= count; i++) await addNode(`node${i}.example.com`);

  const queue = await JobQueue.open({
    store,
    config,
    rpc,
    allocator: opts.allocator ?? makeAllocator(config),
    registry: { ...LU_REGISTRY, ...opts.registry },
    catalog: OPCODE_CATALOG,
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });

  const waitJob = async (id: number): Promise<JobRecord> => {
    let info: unknown[] | null = null;
    let serial = 0;
    for (;;) {
      const res = await queue.waitForChange(id, ["status"], info, serial, 60_000);
      if (!res) throw new Error(`job ${id} vanished`);
      info = res.job_info;
      for (const l of res.log_entries) serial = Math.max(serial, l[0]);
      const job = (await queue.getJob(id))!;
      if (["success", "error", "canceled"].includes(calcJobStatus(job.ops))) return job;
    }
  };

  const runJob = async (ops: OpcodeInput[]) => waitJob(await queue.submit(ops));

  return {
    config,
    store,
    queue,
    rpc,
    backends,
    get nodes() {
      return config.nodes();
    },
    root,
    netns,
    netnsOf(nodeName) {
      const ns = namespaces.get(nodeName);
      if (!ns) throw new Error(`no network namespace for ${nodeName}`);
      return ns;
    },
    runJob,
    async runOp(op) {
      const job = await runJob([op]);
      const o = job.ops[0]!;
      if (o.status === "success") return o.result;
      throw decodeJobError(o.result);
    },
    jobLog: (job) => job.ops.flatMap((o) => o.log.map((l) => String(l[3]))),
    addNode,
    backendOf(nodeName) {
      const n = config.findNode(nodeName);
      const b = n ? backends.get(n.uuid) : undefined;
      if (!b) throw new Error(`no backend for ${nodeName}`);
      return b;
    },
    async cleanup() {
      await queue.whenIdle().catch(() => undefined);
      await killGuestsUnder(root); // qemu of kvm instances (daemonised, outside this process)
      await queue.close();
      // kvm keeps its sockets outside a deep data dir (/tmp/gts-kvm-<digest>): remove those too.
      for (const b of backends.values()) {
        const ctrl = (b.hypervisors.get("kvm") as { dirs?: { ctrlDir?: string } }).dirs?.ctrlDir;
        if (ctrl && !ctrl.startsWith(root)) await rm(ctrl, { recursive: true, force: true });
        // drbd disks' sockets live under /run (replicationExportDir), and /run/ganeti-ts goes once empty.
        await removeExportDir(b.dataDir);
      }
      await rm(root, { recursive: true, force: true });
      for (const ns of new Set([netns, ...namespaces.values()])) await ns.dispose();
    },
  };
}

// Verbs that act on this machine rather than through the RAPI: create and
// destroy a cluster, join a node daemon, run a daemon in the foreground.
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import type * as ControlSocket from "@ganeti-ts/server/master/control-socket";
import type * as Init from "@ganeti-ts/server/master/init";
import type { InitOptions } from "@ganeti-ts/server/master/init";
import type * as Launcher from "@ganeti-ts/server/master/launcher";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import type * as DaemonMain from "@ganeti-ts/server/daemon-main";
import type { JobOutcome, JobRunner } from "../job-runner.js";
import { confirm } from "../confirm.js";
import { CliError } from "../errors.js";
import { requireLocalMaster } from "../local-master.js";
import type { Io } from "../output.js";
import type * as Settings from "@ganeti-ts/server/master/settings";
import type * as EtcdMember from "@ganeti-ts/server/store/etcd-member";
import type * as HaLocal from "./ha-local.js";

// The server's modules (configuration, daemons, etcd) load only when a verb
// here uses them: loaded up front they would cost every gnt command most of
// its start-up time (and the shipped gnt bundle leaves them out).
const controlCall = async (...a: Parameters<typeof ControlSocket.controlCall>) =>
  (await import("@ganeti-ts/server/master/control-socket")).controlCall(...a);
const launcher = () => import("@ganeti-ts/server/master/launcher");
const launchDaemon = async (...a: Parameters<typeof Launcher.launchDaemon>) => (await launcher()).launchDaemon(...a);
const readRuntime = async (...a: Parameters<typeof Launcher.readRuntime>) => (await launcher()).readRuntime(...a);
const stopDaemon = async (...a: Parameters<typeof Launcher.stopDaemon>) => (await launcher()).stopDaemon(...a);
const freePort = async (...a: Parameters<typeof EtcdMember.freePort>) =>
  (await import("@ganeti-ts/server/store/etcd-member")).freePort(...a);
const init = () => import("@ganeti-ts/server/master/init");
const daemonMain = () => import("@ganeti-ts/server/daemon-main");
const haLocal = () => import("./ha-local.js");
const kvmSocketDirOutside = async (dataDir: string) =>
  (await import("@ganeti-ts/server/hypervisors/kvm/runtime")).kvmSocketDirOutside(dataDir);
const removeExportDir = async (dataDir: string) => (await import("@ganeti-ts/server/storage/replication/engine")).removeExportDir(dataDir);
/**
 * A node's data directory and what lives outside it (its kvm sockets under
 * /tmp when the directory is deep, its drbd disks' sockets under /run, and
 * /run/ganeti-ts itself once nothing is left there).
 */
const removeNodeData = async (dataDir: string) => {
  const outside = await kvmSocketDirOutside(dataDir);
  if (outside) await rm(outside, { recursive: true, force: true });
  await removeExportDir(dataDir);
  await rm(dataDir, { recursive: true, force: true });
};
const writeClusterFiles = async (...a: Parameters<typeof Init.writeClusterFiles>) => (await init()).writeClusterFiles(...a);
const writeInitialConfig = async (...a: Parameters<typeof Init.writeInitialConfig>) => (await init()).writeInitialConfig(...a);
const writeNodeSettings = async (...a: Parameters<typeof Init.writeNodeSettings>) => (await init()).writeNodeSettings(...a);
const runDaemon = async (...a: Parameters<typeof DaemonMain.runDaemon>) => (await daemonMain()).runDaemon(...a);
const closeOnSignals = async (...a: Parameters<typeof DaemonMain.closeOnSignals>) => (await daemonMain()).closeOnSignals(...a);
const loadMasterSettings = async (...a: Parameters<typeof Settings.loadMasterSettings>) =>
  (await import("@ganeti-ts/server/master/settings")).loadMasterSettings(...a);
const activeControlCall = async (...a: Parameters<typeof HaLocal.activeControlCall>) => (await haLocal()).activeControlCall(...a);
const joinAsCandidate = async (...a: Parameters<typeof HaLocal.joinAsCandidate>) => (await haLocal()).joinAsCandidate(...a);
const leaveEtcd = async (...a: Parameters<typeof HaLocal.leaveEtcd>) => (await haLocal()).leaveEtcd(...a);
const startManagedEtcd = async (...a: Parameters<typeof HaLocal.startManagedEtcd>) => (await haLocal()).startManagedEtcd(...a);
const stopManagedEtcd = async (...a: Parameters<typeof HaLocal.stopManagedEtcd>) => (await haLocal()).stopManagedEtcd(...a);
const syncEtcdCandidates = async (...a: Parameters<typeof HaLocal.syncEtcdCandidates>) => (await haLocal()).syncEtcdCandidates(...a);

interface LocalCommandHooks {
  program: Command;
  cluster: Command;
  node: Command;
  /** For confirmation questions (the rest prints straight to stdout). */
  io?: Io;
}

const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a valid number: ${v}`);
  return n;
};

/** Master data dir for node add/remove and the HA verbs: the option, else the local master (or a message naming the option). */
function masterDir(opt: string | undefined, flag = "--master-data-dir"): string {
  return requireLocalMaster(opt, process.env, flag);
}

/** This build's hypervisors and disk templates (what its node daemon can run). */
async function buildCapabilities(): Promise<{ hypervisors: readonly string[]; diskTemplates: readonly string[] }> {
  const [{ SUPPORTED_HYPERVISORS }, { SUPPORTED_DISK_TEMPLATES }] = await Promise.all([
    import("@ganeti-ts/server/hypervisors/registry"),
    import("@ganeti-ts/server/storage/registry"),
  ]);
  return { hypervisors: SUPPORTED_HYPERVISORS, diskTemplates: SUPPORTED_DISK_TEMPLATES };
}

/** Refuse names this build cannot run, naming those it can. */
function checkSupported(what: string, flag: string, given: string[], supported: readonly string[]): void {
  const bad = given.filter((g) => !supported.includes(g));
  if (bad.length === 0) return;
  throw new CliError(
    `This build of ganeti-ts cannot run the ${what} ${bad.map((b) => `'${b}'`).join(", ")}; ` +
      `it can run: ${supported.join(", ")} (${flag})`,
  );
}

const LOCAL_NODES = "local-nodes.json";
async function localNodes(master: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(path.join(master, LOCAL_NODES), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** GET /version until the RAPI answers (its certificate is the one in the data dir). */
async function waitForRapi(url: string, caPem: string | null, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const req = https.get(
          `${url}/version`,
          { ca: caPem ?? undefined, rejectUnauthorized: caPem !== null, checkServerIdentity: () => undefined },
          (res) => {
            res.resume();
            // 401: the RAPI is up and (as on new clusters) wants credentials even for /version.
            res.on("end", () =>
              res.statusCode === 200 || res.statusCode === 401 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
            );
          },
        );
        req.on("error", reject);
      });
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the RAPI at ${url} did not answer within ${timeoutMs} ms (${last})`);
}

type ControlLogEntry = [number, [number, number], string, unknown];

/** Jobs through the master's control socket in a data directory. */
export function controlSocketJobRunner(master: string): JobRunner {
  const sock = dataPaths(master).controlSocket;
  return {
    submit: async (op) => (await controlCall(sock, "SubmitJob", [[op]])) as number,
    async wait(id, onLog): Promise<JobOutcome> {
      let info: unknown[] | null = null;
      let serial = 0;
      for (;;) {
        const res = (await controlCall(sock, "WaitForJobChange", [id, ["status", "opresult"], info, serial, 10])) as {
          job_info: unknown[];
          log_entries: ControlLogEntry[];
        } | null;
        if (!res) throw new Error(`job ${id} disappeared`);
        for (const [s, [sec, usec], , msg] of res.log_entries) {
          serial = Math.max(serial, s);
          onLog(sec + usec / 1e6, String(msg));
        }
        info = res.job_info;
        const [status, opresult] = res.job_info as [string, unknown[]];
        if (status === "success") return { status, opresult };
        if (status === "error" || status === "canceled") {
          const err = opresult.find((r) => Array.isArray(r)) as [string, unknown[]] | undefined;
          return { status, opresult, error: err ? `${err[0]}: ${String(err[1][0])}` : status };
        }
      }
    },
  };
}

/**
 * The control-socket runner when this machine is the master: the master's
 * data directory ($GANETI_DATA_DIR) holds a live control socket.
 */
export function localJobRunner(env: NodeJS.ProcessEnv): JobRunner | null {
  const dir = env["GANETI_DATA_DIR"];
  if (!dir || !existsSync(dataPaths(dir).controlSocket)) return null;
  return controlSocketJobRunner(dir);
}

/** The etcd member sync of commands/ha-local.ts when $GANETI_DATA_DIR is a master data dir with local nodes, else null. */
export function localCandidateSync(env: NodeJS.ProcessEnv): ((print: (line: string) => void) => Promise<void>) | null {
  const dir = env["GANETI_DATA_DIR"];
  if (!dir || !existsSync(path.join(dir, LOCAL_NODES))) return null;
  return async (print) => syncEtcdCandidates(path.resolve(dir), print);
}

/** A call on the master's control socket when this machine is the master, else null. */
export function localControl(env: NodeJS.ProcessEnv): ((method: string, args: unknown[]) => Promise<unknown>) | null {
  const dir = env["GANETI_DATA_DIR"];
  if (!dir || !existsSync(dataPaths(dir).controlSocket)) return null;
  const sock = dataPaths(dir).controlSocket;
  return (method, args) => controlCall(sock, method, args, 3_600_000);
}

/** Submit a job on the master's control socket and follow it, printing its log. */
async function runJobLocally(master: string, ops: Record<string, unknown>[], out: (line: string) => void): Promise<unknown> {
  let sock = dataPaths(master).controlSocket;
  // A standby master candidate's socket names the active master's.
  const state = (await controlCall(sock, "MasterState", []).catch(() => null)) as { active?: boolean } | null;
  if (state && state.active === false) {
    const leader = (await controlCall(sock, "GetMaster", [])) as { controlSocket?: string } | null;
    if (leader?.controlSocket) sock = leader.controlSocket;
  }
  const id = (await activeControlCall(sock, "SubmitJob", [ops])) as number;
  out(`Submitted job ${id}`);
  let info: unknown[] | null = null;
  let serial = 0;
  for (;;) {
    const res = (await controlCall(sock, "WaitForJobChange", [id, ["status", "opresult"], info, serial, 10])) as {
      job_info: unknown[];
      log_entries: Array<[number, [number, number], string, unknown]>;
    } | null;
    if (!res) throw new Error(`job ${id} disappeared`);
    for (const [s, , , msg] of res.log_entries) {
      serial = Math.max(serial, s);
      out(` - ${String(msg)}`);
    }
    info = res.job_info;
    const [status, opresult] = res.job_info as [string, unknown[]];
    if (status === "success") return opresult[0];
    if (status === "error" || status === "canceled") {
      const err = opresult.find((r) => Array.isArray(r)) as [string, unknown[]] | undefined;
      throw new Error(`Job ${id} failed: ${err ? `${err[0]}: ${String(err[1][0])}` : status}`);
    }
  }
}

export function registerLocalCommands({ program, cluster, node, io }: LocalCommandHooks): void {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const ask: Io = io ?? { out: print, err: (l) => process.stderr.write(`${l}\n`), isTTY: false };

  cluster
    .command("init")
    .description("create a new cluster with this machine as master and start its daemons")
    .argument("<name>", "cluster name")
    .requiredOption("--data-dir <dir>", "directory for the cluster's state")
    .option("--rapi-address <addr>", "RAPI listen address", "127.0.0.1")
    .option("--rapi-port <port>", "RAPI port (0 = any free port)", int, 5080)
    .option("--node-address <addr>", "this node's daemon address", "127.0.0.1")
    .option("--node-port <port>", "this node's daemon port (0 = any free port)", int, 1811)
    .option("--node-name <name>", "this node's name", os.hostname())
    .option("--rapi-user <user>", "RAPI user with write access")
    .option("--rapi-password <password>", "its password (stored as an {HA1} hash)")
    .option("--enabled-hypervisors <list>", "comma-separated hypervisors", list, ["fake"])
    .option("--enabled-disk-templates <list>", "comma-separated disk templates", list, ["file", "sharedfile", "diskless"])
    .option("--file-storage-dir <dir>", "directory for file disks (default DATA_DIR/file-storage)")
    .option("--shared-file-storage-dir <dir>", "directory for sharedfile disks (default DATA_DIR/shared-file-storage)")
    .option("--os-search-path <list>", "comma-separated OS definition directories", list)
    .option("--default-iallocator <name>", "default instance allocator", "hail")
    .option("--default-iallocator-params <params>", "allocator parameters, e.g. no-capacity-checks or key=value,...", (v: string) =>
      Object.fromEntries(
        list(v).map((kv) => {
          const [k, ...rest] = kv.split("=");
          return [k, rest.length ? rest.join("=") : null];
        }),
      ),
    )
    .option("--ipolicy-vcpu-ratio <ratio>", "instance policy vCPU ratio", Number)
    .option("--no-ssl", "serve the RAPI over plain HTTP")
    .option(
      "--allow-anonymous-reads",
      "let clients without credentials use read-only resources (Ganeti's default; off: every request needs a RAPI user)",
    )
    .option("--require-authentication", "require credentials for every request, GETs included (the default; kept for scripts)")
    .option("--store <kind>", "where config and jobs live: file (this data dir) or etcd (master candidates can fail over)", "file")
    .option(
      "--etcd-endpoints <urls>",
      "with --store etcd: an existing etcd cluster's client URLs (default: run etcd members on the master candidates)",
      list,
    )
    .option("--master-lease-ttl <seconds>", "with --store etcd: seconds until a dead master's leadership expires", int, 10)
    .option("--node-netns <name>", "network namespace (under /run/netns) of this node's bridges and taps")
    .option("--watcher-interval <seconds>", "run the watcher inside the master every this many seconds (default 0: never)", int)
    .action(async (name: string, o: Record<string, unknown>) => {
      if (Boolean(o["rapiUser"]) !== Boolean(o["rapiPassword"])) throw new Error("--rapi-user and --rapi-password go together");
      if (o["allowAnonymousReads"] === true && o["requireAuthentication"] === true) {
        throw new Error("--allow-anonymous-reads and --require-authentication exclude each other");
      }
      const caps = await buildCapabilities();
      checkSupported("hypervisor(s)", "--enabled-hypervisors", o["enabledHypervisors"] as string[], caps.hypervisors);
      checkSupported("disk template(s)", "--enabled-disk-templates", o["enabledDiskTemplates"] as string[], caps.diskTemplates);
      const storeKind = String(o["store"]);
      if (storeKind !== "file" && storeKind !== "etcd") throw new Error(`--store must be file or etcd, not ${storeKind}`);
      if (o["etcdEndpoints"] && storeKind !== "etcd") throw new Error("--etcd-endpoints needs --store etcd");
      const init: InitOptions = {
        dataDir: String(o["dataDir"]),
        clusterName: name,
        nodeName: String(o["nodeName"]),
        nodeAddress: String(o["nodeAddress"]),
        nodePort: o["nodePort"] as number,
        rapiAddress: String(o["rapiAddress"]),
        rapiPort: o["rapiPort"] as number,
        rapiUser: o["rapiUser"] as string | undefined,
        rapiPassword: o["rapiPassword"] as string | undefined,
        enabledHypervisors: o["enabledHypervisors"] as string[],
        enabledDiskTemplates: o["enabledDiskTemplates"] as string[],
        fileStorageDir: o["fileStorageDir"] as string | undefined,
        sharedFileStorageDir: o["sharedFileStorageDir"] as string | undefined,
        osSearchPath: o["osSearchPath"] as string[] | undefined,
        defaultIallocator: String(o["defaultIallocator"]),
        defaultIallocatorParams: o["defaultIallocatorParams"] as Record<string, unknown> | undefined,
        vcpuRatio: o["ipolicyVcpuRatio"] as number | undefined,
        noSsl: o["ssl"] === false,
        allowAnonymousReads: o["allowAnonymousReads"] === true,
        nodeNetns: o["nodeNetns"] as string | undefined,
        watcherIntervalSeconds: (o["watcherInterval"] as number | undefined) ?? 0,
      };
      if (storeKind === "etcd") {
        const dir = path.resolve(init.dataDir);
        const given = o["etcdEndpoints"] as string[] | undefined;
        let endpoints = given ?? [];
        if (!given) {
          await mkdir(dataPaths(dir).logDir, { recursive: true });
          print(`Starting the etcd member of ${init.nodeName}...`);
          endpoints = [await startManagedEtcd(dir, init.nodeName, init.nodeAddress)];
        }
        init.store = { kind: "etcd", endpoints, prefix: "ganeti/", managed: !given, leaseTtl: o["masterLeaseTtl"] as number };
        // Every candidate binds the same RAPI address when it becomes master: fix the port now.
        if (init.rapiPort === 0) init.rapiPort = await freePort(init.rapiAddress);
      }
      await writeClusterFiles(init);
      print(`Starting the node daemon of ${init.nodeName}...`);
      const nodeRt = await launchDaemon("node", init.dataDir);
      await writeInitialConfig({ ...init, nodePort: Number(nodeRt["port"]) });
      print("Starting the master daemon...");
      const masterRt = await launchDaemon("master", init.dataDir);
      const url = String(masterRt["rapiUrl"]);
      const ca = init.noSsl ? null : await readFile(dataPaths(init.dataDir).rapiCert, "utf8");
      if (!init.noSsl) await waitForRapi(url, ca);
      print(`Cluster ${name} is up. RAPI: ${url}`);
      print(`  export GANETI_RAPI_URL=${url}`);
      if (!init.noSsl) print(`  export GANETI_RAPI_CA=${dataPaths(init.dataDir).rapiCert}`);
    });

  cluster
    .command("destroy")
    .description("stop every daemon of a local cluster and remove its state")
    .requiredOption("--data-dir <dir>", "the cluster's data directory")
    .option("--keep-state", "stop the daemons but keep the data directory")
    .option("--yes-do-it", "do not ask for confirmation (Ganeti's flag)")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (o: { dataDir: string; keepState?: boolean; yesDoIt?: boolean; force?: boolean }) => {
      const dir = path.resolve(o.dataDir);
      if (!o.yesDoIt && !o.force) {
        await confirm(
          ask,
          `Destroying a cluster is irreversible: this stops every daemon of the cluster in ${dir}` +
            `${o.keepState ? "" : " and removes its state"}. Continue?`,
          { flag: "--yes-do-it (or -f)" },
        );
      }
      const nodes = Object.entries(await localNodes(dir));
      // Standby master candidates first, so that none takes over from the stopped master.
      for (const [name, nodeDir] of nodes) if (await stopDaemon(nodeDir, "master")) print(`Stopped master daemon (candidate) of ${name}`);
      if (await stopDaemon(dir, "master")) print("Stopped the master daemon");
      for (const [name, nodeDir] of nodes) {
        if (await stopDaemon(nodeDir, "node")) print(`Stopped node daemon of ${name}`);
        if (await stopManagedEtcd(nodeDir)) print(`Stopped etcd member of ${name}`);
        if (!o.keepState) await removeNodeData(nodeDir);
      }
      if (await stopDaemon(dir, "node")) print("Stopped the master's node daemon");
      if (await stopManagedEtcd(dir)) print("Stopped the master's etcd member");
      if (!o.keepState) {
        await removeNodeData(dir);
        print(`Removed ${dir}`);
      }
    });

  node
    .command("add")
    .description("join a node daemon to the cluster (starting it first with --data-dir)")
    .argument("<name>", "node name")
    .requiredOption("--address <addr>", "the node daemon's address (e.g. 127.0.0.12)")
    .option("--port <port>", "its port (with --data-dir: 0 = any free port)", int, 1811)
    .option("--data-dir <dir>", "start a node daemon on this machine with this data directory")
    .option("--master-data-dir <dir>", "the master's data directory (default: the local master, from $GANETI_DATA_DIR)")
    .option("--group <group>", "node group")
    .option("--secondary-ip <ip>", "secondary (replication) IP")
    .option("--no-vm-capable", "the node may not host instances")
    .option("--no-master-capable", "the node may not become master candidate")
    .option("--netns <name>", "with --data-dir: network namespace (under /run/netns) of the node's bridges and taps")
    .option(
      "--file-storage-map <cluster=local>",
      "with --data-dir: keep the cluster's file storage directory CLUSTER in LOCAL on this node (node setting file_storage_map), e.g. a second node daemon on the same machine",
    )
    .action(async (name: string, o: Record<string, unknown>) => {
      const master = masterDir(o["masterDataDir"] as string | undefined);
      let port = o["port"] as number;
      if (o["dataDir"]) {
        const nodeDir = path.resolve(String(o["dataDir"]));
        const np = dataPaths(nodeDir);
        await mkdir(np.root, { recursive: true, mode: 0o700 });
        await copyFile(dataPaths(master).clusterCert, np.clusterCert);
        // The file storage allow-list travels with the cluster certificate (Ganeti distributes it to every node).
        await copyFile(path.join(master, "file-storage-paths"), path.join(nodeDir, "file-storage-paths")).catch(
          (err: NodeJS.ErrnoException) => {
            if (err.code !== "ENOENT") throw err;
          },
        );
        await writeFile(np.nodeSettings, JSON.stringify({ name, address: o["address"], port }, null, 2));
        const settings: { netns?: string; file_storage_map?: Record<string, string> } = {};
        if (o["netns"]) settings.netns = String(o["netns"]);
        if (o["fileStorageMap"]) {
          const spec = String(o["fileStorageMap"]);
          const eq = spec.indexOf("=");
          if (eq <= 0) throw new Error(`--file-storage-map wants CLUSTER_DIR=LOCAL_DIR, not ${spec}`);
          settings.file_storage_map = { [path.resolve(spec.slice(0, eq))]: path.resolve(spec.slice(eq + 1)) };
        }
        if (settings.netns || settings.file_storage_map) await writeNodeSettings(np.root, settings);
        const rt = await launchDaemon("node", nodeDir);
        port = Number(rt["port"]);
        const nodes = await localNodes(master);
        nodes[name] = nodeDir;
        await writeFile(path.join(master, LOCAL_NODES), JSON.stringify(nodes, null, 2));
        print(`Started node daemon for ${name} on ${String(o["address"])}:${port}`);
      }
      const op: Record<string, unknown> = {
        OP_ID: "OP_NODE_ADD",
        node_name: name,
        primary_ip: o["address"],
        rpc_address: o["address"],
        rpc_port: port,
        vm_capable: o["vmCapable"] !== false,
        master_capable: o["masterCapable"] !== false,
      };
      if (o["group"]) op["group"] = o["group"];
      if (o["secondaryIp"]) op["secondary_ip"] = o["secondaryIp"];
      await runJobLocally(master, [op], print);
      print(`Node ${name} added`);
      const settings = await loadMasterSettings(dataPaths(master).masterSettings);
      if (settings.store.kind === "etcd" && o["dataDir"]) {
        const nodeDir = path.resolve(String(o["dataDir"]));
        if (settings.store.managed) {
          // A node that became a master candidate (not one past the candidate pool size) runs an etcd member and a standby master.
          await syncEtcdCandidates(master, print);
        } else if (o["masterCapable"] !== false) {
          await joinAsCandidate(master, nodeDir, name, String(o["address"]));
          print(`Started the master daemon of ${name} (standby master candidate)`);
        }
      }
    });

  node
    .command("remove")
    .description("remove a node from the cluster (and stop its daemon if it was started here)")
    .argument("<name>", "node name")
    .option("--master-data-dir <dir>", "the master's data directory (default: the local master, from $GANETI_DATA_DIR)")
    .option("-f, --force", "do not ask for confirmation")
    .action(async (name: string, o: Record<string, unknown>) => {
      const master = masterDir(o["masterDataDir"] as string | undefined);
      if (!o["force"]) await confirm(ask, `This will remove node ${name} from the cluster and stop its daemons. Continue?`);
      await runJobLocally(master, [{ OP_ID: "OP_NODE_REMOVE", node_name: name }], print);
      const nodes = await localNodes(master);
      const nodeDir = nodes[name];
      if (nodeDir) {
        await stopDaemon(nodeDir, "master");
        await stopDaemon(nodeDir, "node");
        if (await leaveEtcd(master, nodeDir)) print(`Removed the etcd member of ${name}`);
        await stopManagedEtcd(nodeDir);
        await rm(nodeDir, { recursive: true, force: true });
        delete nodes[name];
        await writeFile(path.join(master, LOCAL_NODES), JSON.stringify(nodes, null, 2));
      }
      print(`Node ${name} removed`);
    });

  cluster
    .command("master-failover")
    .description("make this node's master daemon the active master (etcd store); the old master lets its running jobs finish first")
    .option("--data-dir <dir>", "this node's data directory (default: the local master, from $GANETI_DATA_DIR)")
    .option("--timeout <seconds>", "give up after this long", int, 300)
    .action(async (o: { dataDir?: string; timeout: number }) => {
      const dir = masterDir(o.dataDir, "--data-dir");
      const leader = (await controlCall(dataPaths(dir).controlSocket, "MasterFailover", [o.timeout], (o.timeout + 10) * 1000)) as {
        node: string;
      };
      print(`Master failover done: ${leader.node} is the master`);
    });

  cluster
    .command("master-ping")
    .description("exit 0 if the active master daemon answers (from this node's data directory)")
    .option("--data-dir <dir>", "this node's data directory (default: the local master, from $GANETI_DATA_DIR)")
    .action(async (o: { dataDir?: string }) => {
      const dir = masterDir(o.dataDir, "--data-dir");
      const sock = dataPaths(dir).controlSocket;
      const settings = await loadMasterSettings(dataPaths(dir).masterSettings);
      if (settings.store.kind === "etcd") {
        const leader = (await controlCall(sock, "GetMaster", [], 10_000)) as { controlSocket: string; node: string } | null;
        if (!leader) throw new Error("no active master");
        await controlCall(leader.controlSocket, "MasterState", [], 10_000);
      } else {
        await controlCall(sock, "QueryJob", [0, ["id"]], 10_000);
      }
    });

  const daemon = program.command("daemon").description("run a daemon in the foreground (for systemd units)");
  for (const kind of ["master", "node"] as const) {
    daemon
      .command(kind)
      .description(kind === "master" ? "the master daemon: RAPI, job queue, config" : "the node daemon: hypervisor, storage, OS scripts")
      .requiredOption("--data-dir <dir>", "data directory")
      .action(async (o: { dataDir: string }) => {
        const d = await runDaemon(kind, o.dataDir);
        const rt = await readRuntime(o.dataDir, kind);
        process.stderr.write(`${kind} daemon running (${JSON.stringify(rt)})\n`);
        await closeOnSignals(d);
      });
  }
}

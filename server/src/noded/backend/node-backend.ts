// The node daemon's backend: one entry point, handle(name, args), that parses
// the arguments with the call table, runs the area module's handler and
// checks the result against the call's result schema. Transport-free: the
// HTTPS daemon and the in-memory RPC runner both sit on top of it.
import path from "node:path";
import { setTimeout as sleepMs } from "node:timers/promises";
import { RPC_CALLS, type RpcCallName } from "@ganeti-ts/schema";
import { HostNetwork } from "../../hypervisors/host-net.js";
import { HypervisorRegistry } from "../../hypervisors/registry.js";
import { checkResult } from "../../rpc/result-checks.js";
import type { HvNodeInfo } from "../../hypervisors/hypervisor.js";
import type { SpawnFn } from "../../os/os-runner.js";
import type { BackendContext, CandidateRole } from "./context.js";
import { candidateHandlers } from "./candidate.js";
import { mirrorHandlers } from "./mirror.js";
import { convertHandlers } from "./convert.js";
import { diskHandlers } from "./disks.js";
import { NodeBackendError, RpcArgsError, UnknownRpcCallError } from "./errors.js";
import type { Handlers } from "./handlers.js";
import { instanceHandlers } from "./instance.js";
import { networkHandlers } from "./network.js";
import { hostInfo, nodeInfoHandlers } from "./node-info.js";
import { osHandlers } from "./os.js";
import { loadNodeSettings, type NodeOverrides, type NodeSettings } from "./settings.js";
import { storageHandlers } from "./storage.js";
import { StoragePaths } from "./storage-paths.js";
import { VolumeDirs } from "../../storage/volume-dir.js";
import { PlainBlockDevice } from "../../storage/plain.js";
import type { NodeStorage } from "../../storage/registry.js";
import { ReplicationEngine } from "../../storage/replication/engine.js";
import { verifyHandlers } from "./verify.js";
import { oobHandlers } from "./oob.js";

export interface NodeBackendOptions {
  dataDir: string;
  nodeName: string;
  /** Win over <dataDir>/noded.json. */
  overrides?: NodeOverrides;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  spawn?: SpawnFn;
  onLeaveCluster?: () => void;
  /** Taking and giving up the master candidate role (the daemon's; tests leave it out). */
  candidateRole?: CandidateRole;
  /** Allowed file storage directories, instead of <dataDir>/file-storage-paths (tests). */
  fileStoragePaths?: readonly string[];
  /** The run-time directory outside the data directory, instead of /run/ganeti-ts (tests). */
  runDir?: string;
}

export function isRpcCallName(name: string): name is RpcCallName {
  return Object.prototype.hasOwnProperty.call(RPC_CALLS, name);
}

export class NodeBackend {
  readonly dataDir: string;
  readonly nodeName: string;
  readonly hypervisors: HypervisorRegistry;
  /** Volumes and the replication engine (its storage daemons outlive this backend). */
  readonly storage: NodeStorage;
  private readonly handlers: Handlers;
  private settingsP: Promise<NodeSettings> | null = null;
  private readonly overrides: NodeOverrides;

  constructor(opts: NodeBackendOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.nodeName = opts.nodeName;
    this.overrides = opts.overrides ?? {};
    const clock = opts.clock ?? Date.now;
    const host = async (): Promise<HvNodeInfo> => hostInfo(await this.settings());
    const network = async (): Promise<HostNetwork> => new HostNetwork((await this.settings()).netns ?? null);
    this.hypervisors = new HypervisorRegistry({ dataDir: this.dataDir, host, clock, network });
    const volumes = new VolumeDirs(this.dataDir, async () => (await this.settings()).volume_group_map);
    const plain = new PlainBlockDevice(volumes);
    this.storage = { volumes, plain, replication: new ReplicationEngine({ dataDir: this.dataDir, plain, clock, runDir: opts.runDir }) };
    const ctx: BackendContext = {
      dataDir: this.dataDir,
      nodeName: this.nodeName,
      settings: () => this.settings(),
      storagePaths: new StoragePaths(this.dataDir, opts.fileStoragePaths, async () => (await this.settings()).file_storage_map),
      storage: this.storage,
      hypervisors: this.hypervisors,
      hostInfo: host,
      clock,
      network,
      sleep: opts.sleep ?? ((ms) => sleepMs(ms)),
      spawn: opts.spawn,
      onLeaveCluster: opts.onLeaveCluster,
      candidateRole: opts.candidateRole,
    };
    this.handlers = {
      ...nodeInfoHandlers(ctx),
      ...instanceHandlers(ctx),
      ...diskHandlers(ctx),
      ...mirrorHandlers(ctx),
      ...convertHandlers(ctx),
      ...storageHandlers(ctx),
      ...osHandlers(ctx),
      ...verifyHandlers(ctx),
      ...networkHandlers(ctx),
      ...oobHandlers(),
      ...candidateHandlers(ctx),
    };
  }

  /** Node settings, read once from <dataDir>/noded.json and merged with the overrides. */
  settings(): Promise<NodeSettings> {
    if (!this.settingsP) {
      this.settingsP = loadNodeSettings(this.dataDir, this.overrides);
      // A failed read is retried on the next call rather than cached.
      this.settingsP.catch(() => (this.settingsP = null));
    }
    return this.settingsP;
  }

  /** Run one call. Throws UnknownRpcCallError, RpcArgsError, or the operation's error. */
  async handle(name: string, args: unknown): Promise<unknown> {
    if (!isRpcCallName(name)) throw new UnknownRpcCallError(`Unknown RPC call '${name}'`);
    const def = RPC_CALLS[name];
    const parsed = def.args.safeParse(args ?? {});
    if (!parsed.success) {
      throw new RpcArgsError(`Invalid arguments for ${name}: ${parsed.error.message}`, { cause: parsed.error });
    }
    const handler = this.handlers[name] as (a: unknown) => Promise<unknown>;
    const result = await handler(parsed.data);
    const checked = checkResult(name, result);
    if (!checked.success) {
      throw new NodeBackendError(`Node produced an invalid result for ${name}: ${checked.error.message}`, {
        cause: checked.error,
      });
    }
    return checked.data;
  }
}

// What every backend area module gets: the node's identity, its settings, the
// hypervisors, and the injected world (clock, sleep, process spawning).
import type { HostNetwork } from "../../hypervisors/host-net.js";
import type { HypervisorRegistry } from "../../hypervisors/registry.js";
import type { HvNodeInfo } from "../../hypervisors/hypervisor.js";
import type { SpawnFn } from "../../os/os-runner.js";
import type { NodeStorage } from "../../storage/registry.js";
import type { NodeSettings } from "./settings.js";
import type { StoragePaths } from "./storage-paths.js";

/**
 * Taking and giving up the master candidate role on this machine (the
 * standby master daemon, the etcd member): given by the daemon that runs the
 * backend, which may start master-side processes; absent in tests.
 */
export interface CandidateRole {
  take(args: { address: string; masterSettings: string; rapiCert: string; rapiUsers: string }): Promise<boolean>;
  giveUp(): Promise<boolean>;
}

export interface BackendContext {
  dataDir: string;
  nodeName: string;
  settings: () => Promise<NodeSettings>;
  /** The directories this node allows for file storage; every file path a call touches is checked here. */
  storagePaths: StoragePaths;
  /** The node's own storage (volume groups; the replication engine): what node-bound drivers need. */
  storage: NodeStorage;
  hypervisors: HypervisorRegistry;
  /** The machine's memory/CPUs (real or overridden), before any hypervisor accounting. */
  hostInfo: () => Promise<HvNodeInfo>;
  clock: () => number;
  /** Bridges, taps and routes of this node's instances (in the node's network namespace). */
  network: () => Promise<HostNetwork>;
  sleep: (ms: number) => Promise<void>;
  spawn?: SpawnFn;
  candidateRole?: CandidateRole;
  /** Called after node_leave_cluster has forgotten the cluster (the daemon then stops). */
  onLeaveCluster?: () => void;
}

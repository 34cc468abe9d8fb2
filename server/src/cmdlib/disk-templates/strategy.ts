// A disk template's steps on the master: which disk objects it makes and
// which node calls create, remove, assemble, shut down, grow and rename them.
// The facts about a template (mirror kind, growable, ...) are its row in
// schema's DISK_TEMPLATE_INFO; the steps are here, one strategy per template
// (registry.ts). The generic loops over an instance's disks (common/disks.ts)
// call these per disk.
import type { DiskObject, DiskTemplate, InstanceObject, NodeObject, RpcDisk } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import type { LuContext } from "../base.js";
import type { DiskSpec } from "../common/disk-specs.js";

/** What a template needs to build new disk objects (Ganeti's GenerateDiskTemplate arguments). */
export interface DiskGenerateRequest {
  instanceName: string;
  instanceUuid: string;
  primary: string; // node uuid
  /** Secondary node uuids: one for drbd, none otherwise. */
  secondaries: string[];
  specs: DiskSpec[];
  /** Index of the first new disk (disk/N). */
  baseIndex: number;
  fileDriver?: string | null;
  /** file/sharedfile: a subdirectory of the cluster's storage directory. */
  storageSubdir?: string | null;
  /** The instance's current disks (adding disks: file images go beside them). */
  existing?: DiskObject[];
}

export interface AssembleOptions {
  /** A failure on a secondary node does not fail the assembly (failover onto the secondary). */
  ignoreSecondaries?: boolean;
}

/** One row of assemble output: [node name, iv_name, device path or null]. */
export type AssembleRow = [string, string, string | null];

/** A renamed instance's disks: the storage directory that moves on the primary, if any. */
export interface DirMove {
  from: string;
  to: string;
}

export interface DiskStrategy {
  readonly template: DiskTemplate;
  /** New disk objects, not yet in the config. Allocates what the template needs (drbd: port, minors, secret). */
  generate(cfg: ClusterConfig, req: DiskGenerateRequest): DiskObject[];
  /** The directory holding an instance's disks on its nodes (file based), created before and removed after them. */
  storageDir(disk: DiskObject | undefined): string | null;
  /** Create one disk on every node holding it; throws OpExecError after undoing its own partial work. */
  create(ctx: LuContext, inst: InstanceObject, disk: DiskObject, primary: NodeObject): Promise<void>;
  /** Undo a create that succeeded, for a later failure of the same operation (warnings only). */
  undoCreate(ctx: LuContext, inst: InstanceObject, disk: DiskObject, primary: NodeObject): Promise<void>;
  /** Remove one disk from every node holding it; false when anything failed (warnings logged). */
  remove(ctx: LuContext, inst: InstanceObject, disk: DiskObject): Promise<boolean>;
  /** Make a disk usable on the instance's primary (and ready on its other nodes). */
  assemble(ctx: LuContext, inst: InstanceObject, disk: DiskObject, opts?: AssembleOptions): Promise<{ ok: boolean; rows: AssembleRow[] }>;
  /** Release a disk on its nodes; false on a failure that counts (warnings logged). */
  shutdown(ctx: LuContext, inst: InstanceObject, disk: DiskObject, opts: { ignorePrimary?: boolean }): Promise<boolean>;
  /** Grow a disk by `amount` MiB on every node holding it (the dry run first on all, as Ganeti). */
  grow(ctx: LuContext, inst: InstanceObject, disk: DiskObject, amount: number): Promise<void>;
  /** Inside a config mutation: the logical ids that follow an instance's new name. */
  renameInConfig(cfg: ClusterConfig, disks: DiskObject[], newName: string): DirMove | null;
  /** The node's directory (or volumes) after renameInConfig. */
  renameOnNodes(ctx: LuContext, inst: InstanceObject, move: DirMove): Promise<void>;
  /** The disk as `node` sees it (what blockdev_* and the hypervisor get). */
  rpcDisk(cfg: ClusterConfig, disk: DiskObject, node: NodeObject): RpcDisk;
  /**
   * Ganeti's WaitForSync: wait until the template's copies agree (drbd's
   * initial sync), with progress in the job log; false when a disk stays
   * degraded. oneshot: look once, without waiting.
   */
  waitForSync(ctx: LuContext, inst: InstanceObject, disks: DiskObject[], opts?: { oneshot?: boolean }): Promise<boolean>;
}

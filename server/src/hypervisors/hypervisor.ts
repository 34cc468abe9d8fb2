// What the node backend needs from a hypervisor, after Ganeti's
// hv_base.BaseHypervisor. Instances arrive as RpcInstance (filled params, no
// config lookups). Every method throws HypervisorError on failure; the
// backend decides which failures are no-ops (start of a running instance,
// stop of a stopped one), as Ganeti's backend.py does.
import type { DiskMirrorStatus, RpcDisk, RpcInstance, RpcNic, HvInstanceInfo, MigrationStatus } from "@ganeti-ts/schema";
import type { z } from "zod";
import type { ConsoleInfoSchema } from "@ganeti-ts/schema";

export type ConsoleInfo = z.infer<typeof ConsoleInfoSchema>;

/** Memory of the machine as seen by the node OS, MiB. */
interface HostMemory {
  memory_total: number;
  memory_dom0: number;
  /** Memory available for instances before the hypervisor's own accounting. */
  memory_free: number;
}

export interface HvNodeInfo extends HostMemory {
  cpu_total: number;
  cpu_nodes: number;
  cpu_sockets: number;
  cpu_dom0: number;
  /** The accelerator guests get on this node (kvm: "kvm" or "tcg"). */
  hv_accel?: string;
}

/** A block device handed to the hypervisor at start: its path on the node. */
export interface HvBlockDevice {
  uuid: string;
  path: string;
  mode: "rw" | "ro";
}

export interface Hypervisor {
  readonly name: string;
  /** Names of the instances running (or paused) under this hypervisor. */
  listInstances(): Promise<string[]>;
  instanceInfo(name: string): Promise<HvInstanceInfo | null>;
  allInstancesInfo(): Promise<HvInstanceInfo[]>;
  /** The host's resources as this hypervisor sees them (free memory net of its instances). */
  nodeInfo(host: HvNodeInfo): Promise<HvNodeInfo>;
  /** Throws if the instance is already running. */
  start(instance: RpcInstance, disks: HvBlockDevice[], paused: boolean): Promise<void>;
  /** Throws if the instance is not running. */
  stop(instance: RpcInstance, opts: { force: boolean; timeout: number }): Promise<void>;
  /** Soft reboot (guest-level). */
  reboot(instance: RpcInstance): Promise<void>;
  balloon(instance: RpcInstance, memory: number): Promise<void>;
  /** Source side: what acceptInstance on the target needs to start the same machine (opaque; "" when nothing). */
  migrationInfo?(instance: RpcInstance): Promise<string>;
  /**
   * Target side of a migration: `disks` are the instance's block devices on
   * this node; `info` is the source's migrationInfo.
   */
  acceptInstance(
    instance: RpcInstance,
    target: string,
    disks: HvBlockDevice[],
    opts?: { exportDisks?: boolean; info?: string },
  ): Promise<void>;
  /**
   * Beyond Ganeti, for instances whose disks are local to their node (kvm,
   * `file`): the source copies its disks into the target's, which
   * acceptInstance exported with `exportDisks`, before the RAM moves.
   * Absent: the hypervisor cannot move local disks.
   */
  mirrorDisks?(instance: RpcInstance, targetAddress: string): Promise<void>;
  mirrorStatus?(instance: RpcInstance): Promise<DiskMirrorStatus>;
  /**
   * Source side: start moving the running instance to the target node's
   * address. Hypervisors with migrationStatus may return before the move is
   * over (the master polls); the others return when it is done.
   */
  migrate(instance: RpcInstance, target: string, targetAddress: string, live: boolean): Promise<void>;
  /** Source side: progress of the migration migrate() started (Ganeti's GetMigrationStatus). */
  migrationStatus?(instance: RpcInstance): Promise<MigrationStatus>;
  finalizeMigrationDst(instance: RpcInstance, success: boolean): Promise<void>;
  finalizeMigrationSrc(instance: RpcInstance, success: boolean, live: boolean): Promise<void>;
  console(instance: RpcInstance): ConsoleInfo;
  /** The cluster stopped an instance whose guest had shut itself down (kvm user_shutdown): forget that. */
  clearUserShutdown?(name: string): Promise<void>;
  /** null when healthy, else a problem description. */
  verify(): Promise<string | null>;
  /** Power-cycle the node; returns a message for the caller. */
  powercycle(): Promise<string>;
  /** Forget every instance's runtime state (node leaving the cluster). */
  forgetAll(): Promise<void>;
  /** Ganeti's ValidateParameters on filled hvparams: null when valid, else why not. Absent: nothing to check. */
  validateParameters?(hvparams: Record<string, unknown>): Promise<string | null>;
  /** Hotplug (Ganeti's HotplugSupported/HotplugDevice/ResizeDisk); absent: not supported. */
  hotplugSupported?(instance: RpcInstance): Promise<void>;
  hotplugDevice?(instance: RpcInstance, action: HotplugAction, target: HotplugTarget, device: HotplugDevice): Promise<string>;
  resizeDisk?(instance: RpcInstance, disk: RpcDisk, newSizeBytes: number): Promise<void>;
  /**
   * The user the instance's processes run as once started, when not the
   * node daemon's (kvm security_model=user): its replicated disks' exports
   * must admit that user, whom it reconnects as. Absent or null: the node daemon's.
   */
  processUser?(instance: RpcInstance): string | null;
}

export type HotplugAction = "hotadd" | "hotdel" | "hotmod";
export type HotplugTarget = "disk" | "nic";
export interface HotplugDevice {
  disk?: RpcDisk;
  /** Where a hot-added disk is assembled on the node. */
  diskPath?: string;
  nic?: RpcNic;
}

/** Supplies the host memory the hypervisor subtracts its instances from. */
export type HostInfoSource = () => Promise<HvNodeInfo>;

// Replicated disks (template "drbd", Ganeti's DRBD8Dev) on the user-space
// replication engine (replication/engine.ts): logical_id [pnode, snode,
// port, pminor, sminor, secret], children [data, meta] (plain volumes),
// dynamic_params this node's view (addresses, minors, role).
import type { RpcDisk } from "@ganeti-ts/schema";
import type { BlockDeviceDriver } from "./block-device.js";
import type { PlainBlockDevice } from "./plain.js";
import { drbdDiskOf, type ReplicationEngine } from "./replication/engine.js";

export class DrbdBlockDevice implements BlockDeviceDriver {
  constructor(
    private readonly plain: PlainBlockDevice,
    private readonly engine: ReplicationEngine,
  ) {}

  /** Create both children, then assemble (Ganeti assembles drbd on both nodes at creation). */
  async create(disk: RpcDisk): Promise<string> {
    // Ganeti's replace-disks -n first creates the new secondary "alone"
    // (no port): only its volumes; drbd_attach_net with the real
    // logical_id starts replicating.
    if (disk.logical_id.length === 6 && disk.logical_id[2] === null) {
      const d = drbdDiskOf({ ...disk, logical_id: [...disk.logical_id.slice(0, 2), 1, ...disk.logical_id.slice(3)] });
      await this.plain.create(d.data);
      try {
        await this.plain.create(d.meta);
      } catch (err) {
        await this.plain.remove(d.data);
        throw err;
      }
      return this.plain.pathOf(d.data);
    }
    const d = drbdDiskOf(disk);
    await this.plain.create(d.data);
    try {
      await this.plain.create(d.meta);
    } catch (err) {
      await this.plain.remove(d.data);
      throw err;
    }
    return this.engine.assemble(d);
  }

  async remove(disk: RpcDisk): Promise<void> {
    const d = drbdDiskOf(disk);
    await this.engine.remove(d);
    await this.plain.remove(d.data);
    await this.plain.remove(d.meta);
  }

  async grow(disk: RpcDisk, amount: number, dryrun: boolean): Promise<void> {
    await this.engine.grow(drbdDiskOf(disk), amount, dryrun);
  }

  /** The replica is found by the disk's uuid, so a new logical_id (minors, nodes) needs no change here. */
  async rename(disk: RpcDisk, newLogicalId: unknown[]): Promise<void> {
    drbdDiskOf(disk);
    drbdDiskOf({ ...disk, logical_id: newLogicalId });
  }

  async getSize(disk: RpcDisk): Promise<number | null> {
    return this.engine.getSize(drbdDiskOf(disk));
  }

  async assemble(disk: RpcDisk): Promise<string> {
    return this.engine.assemble(drbdDiskOf(disk));
  }

  async shutdown(disk: RpcDisk): Promise<void> {
    await this.engine.shutdown(drbdDiskOf(disk));
  }
}

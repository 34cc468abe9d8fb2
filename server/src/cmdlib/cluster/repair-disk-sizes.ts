// OP_CLUSTER_REPAIR_DISK_SIZES (Ganeti's LUClusterRepairDiskSizes): ask each
// primary node for the real size of the instances' disks and correct the
// configuration where it differs. Result: [[instance, disk index, "size",
// new size], ...] for every correction.
import type { InstanceObject, OpClusterRepairDiskSizes, RepairDiskSizesResult } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";
import { logInfo, logWarning } from "../common/node.js";

export class LUClusterRepairDiskSizes extends LogicalUnit<OpClusterRepairDiskSizes> {
  private wanted: InstanceObject[] = [];

  expandNames(): LockDecl {
    if (this.op.instances.length) {
      const uuids = this.op.instances.map((n) => this.cfg.expandInstance(n).uuid);
      return { instance: { names: uuids, shared: false }, node: { names: [], shared: true } };
    }
    return { instance: { names: "all", shared: false }, node: { names: "all", shared: true } };
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level !== "node" || !this.op.instances.length) return undefined;
    const nodes = new Set(
      this.ctx
        .held("instance")
        .map((u) => this.data.instances[u]?.primary_node)
        .filter((n): n is string => !!n),
    );
    return { names: [...nodes], shared: true };
  }

  checkPrereq(): void {
    // Under the "all" lock every instance of the config is covered.
    const uuids = this.op.instances.length ? this.ctx.held("instance") : Object.keys(this.data.instances);
    this.wanted = uuids
      .map((u) => this.data.instances[u])
      .filter((i): i is InstanceObject => i !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async exec(): Promise<RepairDiskSizesResult> {
    const perNode = new Map<string, [InstanceObject, number, string][]>();
    for (const inst of this.wanted) {
      inst.disks.forEach((d, idx) => {
        if (this.data.disks[d]) perNode.set(inst.primary_node, [...(perNode.get(inst.primary_node) ?? []), [inst, idx, d]]);
      });
    }
    const changed: RepairDiskSizesResult = [];
    for (const [nodeUuid, entries] of perNode) {
      const node = this.cfg.node(nodeUuid);
      let sizes: (number | null)[];
      try {
        // Each disk as this node sees it (a drbd disk: the primary's side, with its dynamic params).
        sizes = await this.ctx.rpc.call(node, "blockdev_getsizes", {
          disks: entries.map(([, , d]) => this.cfg.rpcDisk(this.cfg.disk(d), nodeUuid)),
        });
      } catch {
        logWarning(this.ctx, `Failure in blockdev_getdimensions call to node ${node.name}, ignoring`);
        continue;
      }
      for (const [i, [inst, idx, d]] of entries.entries()) {
        const size = sizes[i];
        if (size === null || size === undefined) {
          logWarning(this.ctx, `Disk ${idx} of instance ${inst.name} did not return size information, ignoring`);
          continue;
        }
        const disk = this.cfg.disk(d);
        if (size !== disk.size) {
          logInfo(this.ctx, `Disk ${idx} of instance ${inst.name} has mismatched size, correcting: recorded ${disk.size}, actual ${size}`);
          await this.cfg.mutate(() => {
            disk.size = size;
            this.cfg.touch(disk);
          });
          changed.push([inst.name, idx, "size", size]);
        }
      }
    }
    return changed;
  }
}

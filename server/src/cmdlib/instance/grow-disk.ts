// OP_INSTANCE_GROW_DISK (Ganeti's LUInstanceGrowDisk): dry-run grow on every
// node, then the real grow, then the recorded size.
import { diskTemplateInfo, type DiskObject, type OpInstanceGrowDisk } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { errText, formatUnit, logWarning } from "../common/messages.js";
import { instanceRunningOn } from "../common/instance-state.js";
import { rpcInstance } from "../common/instance-params.js";
import { assembleInstanceDisks, growDisk, nodeRpcDisk, shutdownInstanceDisks, waitForDiskSync } from "../common/disks.js";
import { computeIpolicySpecViolation } from "../group/ipolicy.js";
import { InstanceLU } from "./instance-lu.js";

/** Ganeti's Instance.FindDisk. */
function findDisk(disks: string[], idx: number): string {
  const d = disks[idx];
  if (d === undefined || idx < 0)
    throw new OpPrereqError(`Invalid disk index: ${idx} (instace has disks 0..${disks.length - 1})`, "wrong_input");
  return d;
}

export class LUInstanceGrowDisk extends InstanceLU<OpInstanceGrowDisk> {
  private diskUuid = "";
  private delta = 0;
  private target = 0;

  checkPrereq(): void {
    const inst = this.instance;
    for (const n of this.cfg.instanceNodes(inst)) checkNodeOnline(this.cfg.node(n));
    if (!diskTemplateInfo(inst.disk_template)?.growable)
      throw new OpPrereqError("Instance's disk layout does not support growing", "wrong_input");
    this.diskUuid = findDisk(inst.disks, this.op.disk);
    const disk = this.cfg.disk(this.diskUuid);
    if (this.op.absolute) {
      this.target = this.op.amount;
      this.delta = this.target - disk.size;
      if (this.delta < 0)
        throw new OpPrereqError(
          `Requested size (${formatUnit(this.target)}) is smaller than current disk size (${formatUnit(disk.size)})`,
          "wrong_state",
        );
    } else {
      this.delta = this.op.amount;
      this.target = disk.size + this.delta;
      if (this.delta < 0) throw new OpPrereqError(`Requested increment (${formatUnit(this.delta)}) is negative`, "wrong_input");
    }
    this.checkPolicy(disk.uuid);
  }

  /** Ganeti's _CheckIPolicy: only the disk sizes, count and templates are checked. */
  private checkPolicy(diskUuid: string): void {
    const cfg = this.cfg;
    const inst = this.instance;
    const group = cfg.group(this.pnode.group);
    const disks = cfg.instanceDisks(inst);
    const res = computeIpolicySpecViolation(cfg.filledIpolicy(group), {
      diskSizes: disks.map((d) => (d.uuid === diskUuid ? this.target : d.size)),
      diskTypes: disks.map((d) => d.dev_type),
    });
    if (!res.length) return;
    const msg = `Growing disk ${this.op.disk} violates policy: ${res.join(", ")}`;
    if (this.op.ignore_ipolicy) logWarning(this.ctx, msg);
    else throw new OpPrereqError(msg, "wrong_input");
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    const disk: DiskObject = cfg.disk(this.diskUuid);
    const pnode = this.pnode;
    if (!(await assembleInstanceDisks(this.ctx, inst, [disk])).ok) throw new OpExecError("Cannot activate block device to grow");
    this.ctx.log(`Growing disk ${this.op.disk} of instance '${inst.name}' by ${formatUnit(this.delta)} to ${formatUnit(this.target)}`);
    await growDisk(this.ctx, inst, disk, this.delta);
    await cfg.mutate(() => {
      disk.size += this.delta;
      cfg.touch(disk);
      cfg.touch(inst);
    });
    if (this.op.wait_for_sync) await waitForDiskSync(this.ctx, inst, [disk]);
    // Ganeti: a running instance's hypervisor is told the new size (kvm:
    // block_resize, so the guest sees it at once); a failure only warns.
    if (await instanceRunningOn(this.ctx, inst, pnode).catch(() => false)) {
      this.ctx.log("Try to notify the Hypervisor about the disk change");
      try {
        await this.ctx.rpc.call(pnode, "resize_disk", {
          instance: rpcInstance(cfg, inst),
          disk: nodeRpcDisk(cfg, inst, disk, pnode),
          new_size: this.target * 1024 * 1024,
        });
      } catch (err) {
        logWarning(this.ctx, `Disk resize in hypervisor failed: ${errText(err)}`);
      }
    }
    // Disks that were not active before are closed again.
    if (!inst.disks_active) await shutdownInstanceDisks(this.ctx, inst);
    return null;
  }
}

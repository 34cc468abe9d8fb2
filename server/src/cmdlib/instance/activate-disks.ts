// OP_INSTANCE_ACTIVATE_DISKS (Ganeti's LUInstanceActivateDisks).
import type { OpInstanceActivateDisks } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import { assembleInstanceDisks, markDisksActive, waitForDiskSync } from "../common/disks.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceActivateDisks extends InstanceLU<OpInstanceActivateDisks> {
  checkPrereq(): void {
    checkNodeOnline(this.pnode);
  }

  async exec(): Promise<unknown> {
    const inst = this.instance;
    await markDisksActive(this.cfg, inst, true);
    const { ok, info } = await assembleInstanceDisks(this.ctx, inst);
    if (!ok) throw new OpExecError("Cannot activate block devices");
    if (this.op.wait_for_sync && inst.disks.length) await waitForDiskSync(this.ctx, inst);
    return info;
  }
}

// OP_INSTANCE_DEACTIVATE_DISKS (Ganeti's LUInstanceDeactivateDisks).
import type { OpInstanceDeactivateDisks } from "@ganeti-ts/schema";
import { safeShutdownInstanceDisks, shutdownInstanceDisks } from "../common/disks.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceDeactivateDisks extends InstanceLU<OpInstanceDeactivateDisks> {
  checkPrereq(): void {}

  async exec(): Promise<unknown> {
    if (this.op.force) await shutdownInstanceDisks(this.ctx, this.instance);
    else await safeShutdownInstanceDisks(this.ctx, this.instance);
    return null;
  }
}

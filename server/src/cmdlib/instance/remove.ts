// OP_INSTANCE_REMOVE (Ganeti's LUInstanceRemove).
import type { OpInstanceRemove } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import { errText, logWarning } from "../common/messages.js";
import { removeInstance } from "../common/instance-removal.js";
import { rpcInstance } from "../common/instance-params.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceRemove extends InstanceLU<OpInstanceRemove> {
  checkPrereq(): void {
    // Only the instance's existence (checked by the locks) is required.
  }

  async exec(): Promise<unknown> {
    const inst = this.instance;
    const pnode = this.pnode;
    try {
      await this.ctx.rpc.call(pnode, "instance_shutdown", { instance: rpcInstance(this.cfg, inst), timeout: this.op.shutdown_timeout });
    } catch (err) {
      if (this.op.ignore_failures) logWarning(this.ctx, `Warning: can't shutdown instance: ${errText(err)}`);
      else throw new OpExecError(`Could not shutdown instance ${inst.name} on node ${pnode.name}: ${errText(err)}`, { cause: err });
    }
    await removeInstance(this.ctx, inst, this.op.ignore_failures);
    return null;
  }
}

// OP_INSTANCE_SHUTDOWN (Ganeti's LUInstanceShutdown). no_remember keeps the
// admin state, so a stopped "up" instance shows as ERROR_down.
import type { OpInstanceShutdown } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { checkInstanceState, INSTANCE_ONLINE, instanceRunningOn } from "../common/instance-state.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { errText, logInfo, logWarning } from "../common/messages.js";
import { rpcInstance } from "../common/instance-params.js";
import { shutdownInstanceDisks } from "../common/disks.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceShutdown extends InstanceLU<OpInstanceShutdown> {
  private primaryOffline = false;
  // Stopping only frees the node's resources and touches nothing but this
  // (exclusively locked) instance: shutdowns on one node may run together.
  protected override nodeLocksShared = true;

  async checkPrereq(): Promise<void> {
    const inst = this.instance;
    if (!this.op.force) await checkInstanceState(this.ctx, inst, INSTANCE_ONLINE);
    else logWarning(this.ctx, "Ignoring offline instance check");
    const pnode = this.pnode;
    this.primaryOffline = pnode.offline;
    if (this.primaryOffline && this.op.ignore_offline_nodes) logWarning(this.ctx, "Ignoring offline primary node");
    else checkNodeOnline(pnode);
    if (this.op.admin_state_source === "user") {
      let running: boolean;
      try {
        running = await instanceRunningOn(this.ctx, inst, pnode);
      } catch (err) {
        throw new OpPrereqError(`Error checking instance '${inst.name}': ${errText(err)}`, null, { cause: err });
      }
      if (running) throw new OpPrereqError(`Instance '${inst.name}' was not shutdown by the user`);
    }
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    // An offline instance stays offline (marking it down would clear the flag).
    if (!this.op.no_remember && (inst.admin_state === "up" || inst.admin_state === "down")) {
      const source = this.op.admin_state_source ?? "admin";
      if (inst.admin_state !== "down" || inst.admin_state_source !== source)
        await cfg.mutate(
          () => {
            inst.admin_state = "down";
            inst.admin_state_source = source;
            cfg.touch(inst);
          },
          { declared: true },
        );
    }
    if (this.primaryOffline) {
      logInfo(this.ctx, "Primary node offline, marked instance as stopped");
      return null;
    }
    try {
      await this.ctx.rpc.call(this.pnode, "instance_shutdown", { instance: rpcInstance(cfg, inst), timeout: this.op.timeout });
    } catch (err) {
      logWarning(this.ctx, `Could not shutdown instance: ${errText(err)}`);
    }
    await shutdownInstanceDisks(this.ctx, inst);
    return null;
  }
}

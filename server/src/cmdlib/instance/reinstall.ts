// OP_INSTANCE_REINSTALL (Ganeti's LUInstanceReinstall): the instance must be
// stopped and have disks; the OS create script runs again on the primary.
import type { OpInstanceReinstall } from "@ganeti-ts/schema";
import { fillDict } from "../../config/cluster-config.js";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { checkInstanceState, INSTANCE_DOWN } from "../common/instance-state.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { checkOsParams, osSearchPath, rpcInstance } from "../common/instance-params.js";
import { errText } from "../common/messages.js";
import { shutdownInstanceDisks, startInstanceDisks } from "../common/disks.js";
import { InstanceLU } from "./instance-lu.js";
import { checkOsName } from "@ganeti-ts/schema";
import { ganetiCheck } from "../common/params.js";

export class LUInstanceReinstall extends InstanceLU<OpInstanceReinstall> {
  protected override primaryOnly = true;

  async checkPrereq(): Promise<void> {
    if (this.op.os_type) ganetiCheck(() => checkOsName(this.op.os_type!));
    const inst = this.instance;
    checkNodeOnline(this.pnode, "Instance primary node offline, cannot reinstall");
    if (inst.disks.length === 0) throw new OpPrereqError(`Instance '${this.op.instance_name}' has no disks`, "wrong_input");
    await checkInstanceState(this.ctx, inst, INSTANCE_DOWN, "cannot reinstall");
    const osName = this.op.os_type ?? inst.os;
    const osparams = fillDict(this.cfg.filledOsparams({ os: osName, osparams: inst.osparams }), this.op.osparams ?? {});
    await checkOsParams(this.ctx, [this.pnode], osName, osparams);
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    if (this.op.os_type) {
      this.ctx.log(`Changing OS scripts to '${this.op.os_type}'...`);
      const os = this.op.os_type;
      const osparams = this.op.osparams;
      await cfg.mutate(() => {
        inst.os = os;
        if (osparams) inst.osparams = { ...inst.osparams, ...osparams };
        cfg.touch(inst);
      });
    } else if (this.op.osparams) {
      const osparams = this.op.osparams;
      await cfg.mutate(() => {
        inst.osparams = { ...inst.osparams, ...osparams };
        cfg.touch(inst);
      });
    }
    await startInstanceDisks(this.ctx, inst, null);
    try {
      this.ctx.log("Running the instance OS create scripts...");
      try {
        await this.ctx.rpc.call(this.pnode, "instance_os_add", {
          instance: rpcInstance(cfg, inst),
          reinstall: true,
          debug: this.op.debug_level ?? 0,
          search_path: osSearchPath(cfg),
          ...(this.op.osparams_secret ? { osparams_secret: this.op.osparams_secret } : {}),
        });
      } catch (err) {
        throw new OpExecError(`Could not install OS for instance '${inst.name}' on node '${this.pnode.name}': ${errText(err)}`, {
          cause: err,
        });
      }
    } finally {
      await shutdownInstanceDisks(this.ctx, inst);
    }
    return null;
  }
}

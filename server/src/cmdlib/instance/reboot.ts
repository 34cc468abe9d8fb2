// OP_INSTANCE_REBOOT (Ganeti's LUInstanceReboot): soft/hard through the
// hypervisor when running, full = shutdown + disks + start.
import type { OpInstanceReboot } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import { checkInstanceBridgesExist } from "../common/nics.js";
import { checkInstanceState, INSTANCE_ONLINE, instanceRunningOn } from "../common/instance-state.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { errText, logInfo } from "../common/messages.js";
import { rpcInstance } from "../common/instance-params.js";
import { shutdownInstanceDisks, startInstanceDisks } from "../common/disks.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceReboot extends InstanceLU<OpInstanceReboot> {
  async checkPrereq(): Promise<void> {
    await checkInstanceState(this.ctx, this.instance, INSTANCE_ONLINE);
    checkNodeOnline(this.pnode);
    await checkInstanceBridgesExist(this.ctx, this.instance);
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    const pnode = this.pnode;
    let running: boolean;
    try {
      running = await instanceRunningOn(this.ctx, inst, pnode);
    } catch (err) {
      throw new OpExecError(`Error checking node ${pnode.name}: ${errText(err)}`, { cause: err });
    }
    if (running && (this.op.reboot_type === "soft" || this.op.reboot_type === "hard")) {
      try {
        await this.ctx.rpc.call(pnode, "instance_reboot", {
          instance: rpcInstance(cfg, inst),
          reboot_type: this.op.reboot_type,
          shutdown_timeout: this.op.shutdown_timeout,
        });
      } catch (err) {
        throw new OpExecError(`Could not reboot instance: ${errText(err)}`, { cause: err });
      }
    } else {
      if (running) {
        try {
          await this.ctx.rpc.call(pnode, "instance_shutdown", { instance: rpcInstance(cfg, inst), timeout: this.op.shutdown_timeout });
        } catch (err) {
          throw new OpExecError(`Could not shutdown instance for full reboot: ${errText(err)}`, { cause: err });
        }
        await shutdownInstanceDisks(this.ctx, inst);
      } else {
        logInfo(this.ctx, `Instance ${inst.name} was already stopped, starting now`);
      }
      await startInstanceDisks(this.ctx, inst, this.op.ignore_secondaries);
      try {
        await this.ctx.rpc.call(pnode, "instance_start", { instance: rpcInstance(cfg, inst), startup_paused: false });
      } catch (err) {
        await shutdownInstanceDisks(this.ctx, inst);
        throw new OpExecError(`Could not start instance for full reboot: ${errText(err)}`, { cause: err });
      }
    }
    if (inst.admin_state !== "up")
      await cfg.mutate(
        () => {
          inst.admin_state = "up";
          inst.admin_state_source = "admin";
          cfg.touch(inst);
        },
        { declared: true },
      );
    return null;
  }
}

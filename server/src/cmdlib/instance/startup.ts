// OP_INSTANCE_STARTUP (Ganeti's LUInstanceStartup).
import { forceParamTypes, HVS_PARAMETER_TYPES, type OpInstanceStartup } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import { checkHvParamsOnNodes, checkNodeFreeMemory, checkNodeOnline } from "../common/node-checks.js";
import { checkHvparamsNotGlobal, filledBeparams, forceBeparams, rpcInstance, upgradeBeparams } from "../common/instance-params.js";
import { checkInstanceBridgesExist } from "../common/nics.js";
import { checkInstanceState, INSTANCE_ONLINE, instanceRunningOn } from "../common/instance-state.js";
import { logInfo, logWarning } from "../common/messages.js";
import { shutdownInstanceDisks, startInstanceDisks } from "../common/disks.js";
import { OpPrereqError } from "../../lib/errors.js";
import { checkHvParams, ganetiCheck } from "../common/params.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceStartup extends InstanceLU<OpInstanceStartup> {
  private primaryOffline = false;
  private alreadyRunning = false;
  private beOverride: Record<string, unknown> = {};
  private hvOverride: Record<string, unknown> = {};

  override checkArguments(): void {
    this.beOverride = forceBeparams(upgradeBeparams(this.op.beparams ?? {}));
  }

  async checkPrereq(): Promise<void> {
    const inst = this.instance;
    if (Object.keys(this.op.hvparams ?? {}).length) {
      checkHvparamsNotGlobal(this.op.hvparams, inst.hypervisor);
      // Ganeti: ForceDictType, then the syntax of the instance's filled
      // parameters with the one-off values on top.
      this.hvOverride = ganetiCheck(() => forceParamTypes(this.op.hvparams ?? {}, HVS_PARAMETER_TYPES));
      checkHvParams(inst.hypervisor, { ...this.cfg.filledHvparams(inst), ...this.hvOverride }, { partial: false });
    }
    await checkInstanceState(this.ctx, inst, INSTANCE_ONLINE);
    const pnode = this.pnode;
    this.primaryOffline = pnode.offline;
    if (this.primaryOffline && this.op.ignore_offline_nodes) {
      logWarning(this.ctx, "Ignoring offline primary node");
      if (Object.keys(this.op.hvparams ?? {}).length || Object.keys(this.op.beparams ?? {}).length)
        logWarning(this.ctx, "Overridden parameters are ignored");
      return;
    }
    checkNodeOnline(pnode);
    // Ganeti: overridden hvparams are validated on the instance's nodes.
    if (Object.keys(this.op.hvparams ?? {}).length) {
      const filled = { ...this.cfg.filledHvparams(inst), ...this.op.hvparams };
      await checkHvParamsOnNodes(
        this.ctx,
        this.cfg.instanceNodes(inst).map((u) => this.cfg.node(u)),
        inst.hypervisor,
        filled,
      );
    }
    await checkInstanceBridgesExist(this.ctx, inst);
    const be = { ...filledBeparams(inst.beparams, this.cfg), ...this.beOverride };
    try {
      this.alreadyRunning = await instanceRunningOn(this.ctx, inst, pnode);
    } catch (err) {
      throw new OpPrereqError(`Error checking node ${pnode.name}: ${(err as Error).message}`, "environment_error", { cause: err });
    }
    if (!this.alreadyRunning)
      await checkNodeFreeMemory(this.ctx, pnode, `starting instance ${inst.name}`, Number(be["minmem"]), inst.hypervisor);
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    if (!this.op.no_remember && inst.admin_state !== "up")
      await cfg.mutate(
        () => {
          inst.admin_state = "up";
          inst.admin_state_source = "admin";
          cfg.touch(inst);
        },
        { declared: true },
      );
    if (this.primaryOffline) {
      logInfo(this.ctx, "Primary node offline, marked instance as started");
      return null;
    }
    await startInstanceDisks(this.ctx, inst, this.op.force);
    if (this.alreadyRunning) return null; // Ganeti's backend: "already running, not starting"
    try {
      await this.ctx.rpc.call(this.pnode, "instance_start", {
        instance: rpcInstance(cfg, inst, { hvparams: this.hvOverride, beparams: this.beOverride }),
        startup_paused: this.op.startup_paused,
      });
    } catch (err) {
      await shutdownInstanceDisks(this.ctx, inst);
      throw new OpExecError(`Could not start instance: ${(err as Error).message}`, { cause: err });
    }
    return null;
  }
}

// OP_INSTANCE_RENAME (Ganeti's LUInstanceRename): stopped instances only; the
// file storage directory follows the name, then the OS rename script runs.
import type { OpInstanceRename } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { checkInstanceState, INSTANCE_NOT_RUNNING } from "../common/instance-state.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { diskSteps } from "../disk-templates/registry.js";
import { errText, logWarning } from "../common/messages.js";
import { osSearchPath, resolveHostname, rpcInstance } from "../common/instance-params.js";
import { shutdownInstanceDisks, startInstanceDisks } from "../common/disks.js";
import type { DirMove } from "../disk-templates/strategy.js";
import { InstanceLU } from "./instance-lu.js";
import { normalizeHostname } from "@ganeti-ts/schema";
import { ganetiCheck } from "../common/params.js";

export class LUInstanceRename extends InstanceLU<OpInstanceRename> {
  private newName = "";

  override checkArguments(): void {
    if (this.op.ip_check && !this.op.name_check) throw new OpPrereqError("IP address check requires a name check", "wrong_input");
  }

  async checkPrereq(): Promise<void> {
    const inst = this.instance;
    checkNodeOnline(this.pnode);
    await checkInstanceState(this.ctx, inst, INSTANCE_NOT_RUNNING, "cannot rename");
    // Stored names follow Ganeti's Hostname.GetNormalizedName (Ganeti applies it
    // through the name check only; here always, so every stored name is valid).
    let newName = ganetiCheck(() => normalizeHostname(this.op.new_name));
    if (this.op.name_check) newName = (await resolveHostname(newName)).name;
    // ip_check would ping the new address; this implementation never probes non-loopback hosts.
    if (newName !== inst.name && this.cfg.instances().some((i) => i.name === newName))
      throw new OpPrereqError(`Instance '${newName}' is already in the cluster`, "already_exists");
    this.newName = newName;
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    const oldName = inst.name;
    const disks = cfg.instanceDisks(inst);
    // The template decides what follows the name (file: the images' directory).
    const steps = diskSteps(inst.disk_template);
    let move: DirMove | null = null;
    await cfg.mutate(() => {
      inst.name = this.newName;
      move = steps.renameInConfig(cfg, disks, this.newName);
      cfg.touch(inst);
    });
    if (move) await steps.renameOnNodes(this.ctx, inst, move);
    await startInstanceDisks(this.ctx, inst, null);
    try {
      try {
        await this.ctx.rpc.call(this.pnode, "instance_run_rename", {
          instance: rpcInstance(cfg, inst),
          old_name: oldName,
          debug: this.op.debug_level ?? 0,
          search_path: osSearchPath(cfg),
        });
      } catch (err) {
        logWarning(
          this.ctx,
          `Could not run OS rename script for instance ${inst.name} on node ${this.pnode.name} (but the instance has been renamed in Ganeti): ${errText(err)}`,
        );
      }
    } finally {
      await shutdownInstanceDisks(this.ctx, inst);
    }
    return inst.name;
  }
}

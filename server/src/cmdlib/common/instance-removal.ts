// Ganeti's RemoveInstance: the disks on the nodes, then the config entries.
import type { InstanceObject } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { removeDisks } from "./disks.js";
import { releaseNicIps } from "./nics.js";

/** Ganeti's RemoveInstance: disks, then the config entries (instance, disks, addresses). */
export async function removeInstance(ctx: LuContext, inst: InstanceObject, ignoreFailures: boolean): Promise<void> {
  const cfg = ctx.config;
  const disks = cfg.instanceDisks(inst);
  if (!(await removeDisks(ctx, inst, disks))) {
    if (!ignoreFailures) throw new OpExecError("Can't remove instance's disks");
    ctx.log("Warning: can't remove instance's disks");
  }
  await cfg.mutate((data) => {
    releaseNicIps(cfg, inst.nics);
    for (const d of inst.disks) delete data.disks[d];
    delete data.instances[inst.uuid];
  });
}

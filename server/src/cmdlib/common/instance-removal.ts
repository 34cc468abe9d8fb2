// Ganeti's RemoveInstance: the disks on the nodes, then the config entries.
import type { InstanceObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { releaseDrbdDisk, releasePort } from "../../config/drbd.js";
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
    releaseInstancePorts(cfg, inst);
    for (const d of inst.disks) delete data.disks[d];
    delete data.instances[inst.uuid];
  });
}

/** Ganeti's RemoveInstance and RemoveDisks: the network port and drbd disks' ports go back to the cluster's pool (inside the mutation). */
export function releaseInstancePorts(cfg: ClusterConfig, inst: InstanceObject): void {
  if (inst.network_port !== null) releasePort(cfg.data.cluster, inst.network_port);
  for (const u of inst.disks) {
    const d = cfg.data.disks[u];
    if (d) releaseDrbdDisk(cfg, d);
  }
}

// Instance lookup, locks and admin-state checks shared by the instance LUs
// (and node/group LUs that look at instances). Messages and ECODEs are
// Ganeti's (lib/cmdlib/common.py, instance_utils.py).
import type { InstanceObject, NodeObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpPrereqError } from "../../lib/errors.js";
import type { LockSet, LuContext } from "../base.js";

export const INSTANCE_ONLINE = ["up", "down"] as const;
export const INSTANCE_DOWN = ["down"] as const;
export const INSTANCE_NOT_RUNNING = ["down", "offline"] as const;
type AdminState = InstanceObject["admin_state"];

// ---- expansion and locks -------------------------------------------------------------

/** Ganeti's ExpandInstanceUuidAndName: by name (or unique short name), checked against the uuid if given. */
export function expandInstance(cfg: ClusterConfig, name: string, uuid?: string | null): InstanceObject {
  const inst = cfg.findInstance(name);
  if (!inst || (uuid && inst.uuid !== uuid)) throw new OpPrereqError(`Instance '${name}' not known`, "unknown_entity");
  return inst;
}

/** Ganeti's _LockInstancesNodes: the primary (and secondaries unless primaryOnly) of the instances. */
export function instanceNodeLocks(
  cfg: ClusterConfig,
  instanceUuids: string[],
  opts: { primaryOnly?: boolean; shared?: boolean; extra?: string[] } = {},
): LockSet {
  const names = new Set<string>(opts.extra ?? []);
  for (const u of instanceUuids) {
    const inst = cfg.data.instances[u];
    if (!inst) continue;
    names.add(inst.primary_node);
    if (!opts.primaryOnly) for (const s of inst.secondary_nodes) names.add(s);
    for (const d of inst.disks) for (const n of cfg.data.disks[d]?.nodes ?? []) if (!opts.primaryOnly) names.add(n);
  }
  return { names: [...names], shared: opts.shared ?? false };
}

// ---- state checks ----------------------------------------------------------------

/** Is the instance running on its primary node (hypervisor view)? Offline node → false. */
export async function instanceRunningOn(ctx: LuContext, inst: InstanceObject, node?: NodeObject): Promise<boolean> {
  const n = node ?? ctx.config.node(inst.primary_node);
  if (n.offline) return false;
  const info = await ctx.rpc.call(n, "instance_info", { instance: inst.name, hypervisor: inst.hypervisor });
  return info !== null;
}

/**
 * Ganeti's CheckInstanceState: the admin state must be one of `req`; when "up"
 * is not allowed the instance must also not be running on its primary.
 */
export async function checkInstanceState(ctx: LuContext, inst: InstanceObject, req: readonly AdminState[], msg?: string): Promise<void> {
  const why = msg ?? `can't use instance from outside ${req.join(", ")} states`;
  if (!req.includes(inst.admin_state))
    throw new OpPrereqError(`Instance '${inst.name}' is marked to be ${inst.admin_state}, ${why}`, "wrong_state");
  if (!req.includes("up")) {
    const pnode = ctx.config.node(inst.primary_node);
    if (pnode.offline) return;
    let running: boolean;
    try {
      running = await instanceRunningOn(ctx, inst, pnode);
    } catch (err) {
      throw new OpPrereqError(`Can't contact node ${pnode.name} for instance information`, "environment_error", {
        cause: err,
      });
    }
    if (running) throw new OpPrereqError(`Instance '${inst.name}' is running, ${why}`, "wrong_state");
  }
}

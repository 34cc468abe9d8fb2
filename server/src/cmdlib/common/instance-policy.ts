// An instance's specs against its (or a target) group's instance policy.
import type { InstanceObject, NodeObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpPrereqError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { computeIpolicySpecViolation, type InstanceSpec } from "../group/ipolicy.js";
import { logWarning } from "./node.js";

/** An instance's specs as its group's policy sees them (Ganeti's ComputeIPolicyInstanceViolation). */
export function instanceSpec(cfg: ClusterConfig, inst: InstanceObject): InstanceSpec {
  const be = cfg.filledBeparams(inst);
  const disks = cfg.instanceDisks(inst);
  return {
    memory: Number(be["maxmem"]),
    cpus: Number(be["vcpus"]),
    spindles: Number(be["spindle_use"]),
    nics: inst.nics.length,
    diskSizes: disks.map((d) => d.size),
    diskTypes: disks.map((d) => d.dev_type),
  };
}

/**
 * Ganeti's CheckTargetNodeIPolicy: moving to a node of another group, the
 * instance must meet that group's policy (a warning when ignored).
 */
export function checkTargetNodeIpolicy(ctx: LuContext, inst: InstanceObject, target: NodeObject, ignore: boolean): void {
  const cfg = ctx.config;
  const current = cfg.node(inst.primary_node).group;
  if (current === target.group) return;
  const group = cfg.group(target.group);
  const res = computeIpolicySpecViolation(cfg.filledIpolicy(group), instanceSpec(cfg, inst));
  if (!res.length) return;
  const msg = `Instance does not meet target node group's (${target.group}) instance policy: ${res.join(", ")}`;
  if (ignore) logWarning(ctx, msg);
  else throw new OpPrereqError(msg, "wrong_input");
}

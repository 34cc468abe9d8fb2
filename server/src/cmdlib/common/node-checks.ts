// Checks on the nodes an instance is placed on: online, not drained,
// vm-capable, hypervisor parameters valid there, enough free memory.
import type { NodeObject } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";

type Params = Record<string, unknown>;

export function checkNodeOnline(node: NodeObject, msg?: string): void {
  if (node.offline) throw new OpPrereqError(`${msg ?? "Can't use offline node"} ${node.name}`, "wrong_state");
}
export function checkNodeNotDrained(node: NodeObject): void {
  if (node.drained) throw new OpPrereqError(`Can't use drained node ${node.name}`, "wrong_state");
}
export function checkNodeVmCapable(node: NodeObject): void {
  if (!node.vm_capable) throw new OpPrereqError(`Can't use non-vm_capable node ${node.name}`, "wrong_state");
}

/**
 * Ganeti's CheckHVParams: the vm-capable nodes validate the filled hvparams
 * (kvm: the kernel, initrd, qemu binary exist there). Offline nodes are
 * skipped; a refusal is Ganeti's OpExecError.
 */
export async function checkHvParamsOnNodes(ctx: LuContext, nodes: NodeObject[], hypervisor: string, filled: Params): Promise<void> {
  const targets = nodes.filter((n) => n.vm_capable && !n.offline);
  if (!targets.length) return;
  const res = await ctx.rpc.callMany(targets, "hypervisor_validate_params", { hypervisor, hvparams: filled });
  for (const n of targets) {
    const r = res.get(n.uuid);
    if (r && !r.ok && !r.offline) throw new OpExecError(`Hypervisor parameter validation failed on node ${n.name}: ${r.error}`);
  }
}

/** Free memory for instances on a node as its hypervisor reports it (node_info). */
export async function nodeFreeMemory(ctx: LuContext, node: NodeObject, hypervisor: string): Promise<number> {
  const cfg = ctx.config;
  const info = await ctx.rpc.call(node, "node_info", {
    storage_units: [],
    hypervisor,
    hvparams: cfg.cluster.hvparams[hypervisor] ?? {},
  });
  return info.memory_free;
}

/** Ganeti's CheckNodeFreeMemory. */
export async function checkNodeFreeMemory(
  ctx: LuContext,
  node: NodeObject,
  reason: string,
  requested: number,
  hypervisor: string,
): Promise<number> {
  let free: number;
  try {
    free = await nodeFreeMemory(ctx, node, hypervisor);
  } catch (err) {
    throw new OpPrereqError(`Can't get data from node ${node.name}`, "environment_error", { cause: err });
  }
  if (requested > free)
    throw new OpPrereqError(
      `Not enough memory on node ${node.name} for ${reason}: needed ${requested} MiB, available ${free} MiB`,
      "insufficient_resources",
    );
  return free;
}

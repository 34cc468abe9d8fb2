// Instance parameters: beparams upgrade/types/ranges, hvparams globals, OS
// parameter validation on nodes, name resolution, and the instance as the
// node daemon sees it.
import { promises as dns } from "node:dns";
import type { InstanceObject, NodeObject, RpcInstance } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { fillDict } from "../../config/cluster-config.js";
import { DEFAULT_BEPARAMS, HV_GLOBALS } from "../../config/defaults.js";
import { OpExecError, OpPrereqError, RpcError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { checkParamsNotGlobal } from "./node.js";
import { checkBeParamTypes } from "./params.js";

type Params = Record<string, unknown>;

/** Ganeti's BES_PARAMETER_TYPES (plus the legacy "memory"), from the schema's parameter tables. */
export { BE_PARAMETER_TYPES as BE_PARAM_TYPES } from "@ganeti-ts/schema";

/** Ganeti's UpgradeBeParams: "memory" → maxmem and minmem (in place on a copy). */
export function upgradeBeparams(be: Params): Params {
  const out: Params = { ...be };
  if (Object.hasOwn(out, "memory")) {
    const mem = out["memory"];
    delete out["memory"];
    out["maxmem"] = mem;
    out["minmem"] = mem;
  }
  return out;
}

/**
 * Ganeti's ForceDictType over beparams: TypeEnforcementError with Ganeti's
 * texts. Sizes go through ParseUnit as in Ganeti (so -1 is not a valid size,
 * and 130 becomes 132).
 */
export function forceBeparams(be: Params, opts: { allowDefault?: boolean } = {}): Params {
  return checkBeParamTypes(be, opts);
}

/** Ganeti's check that minmem ≤ maxmem on filled beparams. */
export function checkMemoryRange(be: Params): void {
  const min = Number(be["minmem"]);
  const max = Number(be["maxmem"]);
  if (min > max)
    throw new OpPrereqError(`Minimum memory size (${min}) must be less than or equal to maximum memory size (${max})`, "wrong_input");
}

export function filledBeparams(be: Params, cfg: ClusterConfig): Params {
  return fillDict(DEFAULT_BEPARAMS, cfg.cluster.beparams["default"], be);
}

/** Instance-level hvparams may not contain the hypervisor's global ones. */
export function checkHvparamsNotGlobal(hvparams: Params, hypervisor?: string): void {
  // Without a hypervisor: Ganeti's HVC_GLOBALS, the union over all hypervisors.
  const globals = hypervisor ? [...(HV_GLOBALS[hypervisor] ?? [])] : [...new Set(Object.values(HV_GLOBALS).flat())];
  checkParamsNotGlobal(hvparams, globals, "hypervisor", "instance", "cluster");
}

/** An instance as the node sees it, with optional one-off hv/be overrides (startup). */
export function rpcInstance(
  cfg: ClusterConfig,
  inst: InstanceObject,
  over: { hvparams?: Params; beparams?: Params } = {},
  /** The node the call goes to, when not the primary (its view of the disks). */
  nodeUuid?: string,
): RpcInstance {
  const r = cfg.rpcInstance(inst, nodeUuid);
  if (over.hvparams && Object.keys(over.hvparams).length) r.hvparams = { ...r.hvparams, ...over.hvparams };
  if (over.beparams && Object.keys(over.beparams).length) r.beparams = { ...r.beparams, ...upgradeBeparams(over.beparams) };
  return r;
}

/** The search path and debug level the OS RPCs need. */
export function osSearchPath(cfg: ClusterConfig): string[] {
  return cfg.cluster.os_search_path;
}

/** Validate an OS (and parameters) on nodes; Ganeti raises OpExecError here. */
export async function checkOsParams(
  ctx: LuContext,
  nodes: NodeObject[],
  osName: string,
  osparams: Params,
  opts: { required?: boolean } = {},
): Promise<void> {
  for (const node of nodes) {
    if (node.offline) continue;
    try {
      await ctx.rpc.call(node, "os_validate", {
        required: opts.required ?? true,
        name: osName,
        checks: ["parameters"],
        osparams,
        search_path: osSearchPath(ctx.config),
      });
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      throw new OpExecError(`OS Parameters validation failed on node ${node.name}: ${err.message}`, { cause: err });
    }
  }
}

/** Ganeti's name check: resolve with the system resolver. */
export async function resolveHostname(name: string): Promise<{ name: string; ip: string }> {
  let res: { address: string };
  try {
    res = await dns.lookup(name, { family: 4 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const text =
      code === "ENOTFOUND"
        ? "Name or service not known"
        : code === "EAI_AGAIN"
          ? "Temporary failure in name resolution"
          : String(code ?? err);
    throw new OpPrereqError(`The given name (${name}) does not resolve: ${text}`, "resolver_error", { cause: err });
  }
  return { name, ip: res.address };
}

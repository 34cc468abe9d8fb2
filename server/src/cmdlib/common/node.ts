// Helpers shared by the node, group, network, cluster and misc logical units:
// master-candidate pool maths, node name expansion, storage-type checks,
// parameter-dict updates and the " - INFO: "/" - WARNING: " job-log prefixes.
import {
  DISK_PARAMETER_TYPES,
  diskTemplatesOfStorageType,
  diskTemplatesWhere,
  forceParamTypes,
  ND_PARAMETER_TYPES,
  type ClusterObject,
  type ConfigData,
  type GroupObject,
  type InstanceObject,
  type NodeObject,
  type ParamType,
} from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpExecError, OpPrereqError, TypeEnforcementError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { ganetiCheck } from "./params.js";

// ---- job log -----------------------------------------------------------------

/** Ganeti's LogInfo: " - INFO: msg". */
export function logInfo(ctx: LuContext, msg: string): void {
  ctx.log(` - INFO: ${msg}`);
}
/** Ganeti's LogWarning: " - WARNING: msg". */
export function logWarning(ctx: LuContext, msg: string): void {
  ctx.log(` - WARNING: ${msg}`);
}

/** Ganeti's utils.CommaJoin. */
export function commaJoin(items: Iterable<unknown>): string {
  return [...items].map(String).join(", ");
}

/** Ganeti's NiceSort: natural order ("node2" < "node10"). */
export function niceSort(items: string[]): string[] {
  const coll = new Intl.Collator("en", { numeric: true });
  return [...items].sort((a, b) => coll.compare(a, b));
}

/** Python's str() of a bool/None, as Ganeti stringifies values in change lists. */
export function pyStr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  return String(v);
}

// ---- master candidates -----------------------------------------------------------

interface McStats {
  /** Current candidates. */
  now: number;
  /** min(capable nodes, candidate_pool_size). */
  should: number;
  /** Nodes that could be candidates (master_capable, online, not drained). */
  max: number;
}

/** Ganeti's GetMasterCandidateStats. */
export function masterCandidateStats(data: ConfigData, exceptions: string[] = []): McStats {
  let now = 0;
  let max = 0;
  for (const node of Object.values(data.nodes)) {
    if (exceptions.includes(node.uuid)) continue;
    if (!(node.offline || node.drained) && node.master_capable) max++;
    if (node.master_candidate) now++;
  }
  return { now, should: Math.min(max, data.cluster.candidate_pool_size), max };
}

/** Ganeti's _DecideSelfPromotion: should a node joining the pool become a candidate? */
export function decideSelfPromotion(data: ConfigData, exceptions: string[] = []): boolean {
  const st = masterCandidateStats(data, exceptions);
  return st.now < Math.min(st.should + 1, data.cluster.candidate_pool_size);
}

/**
 * Ganeti's MaintainCandidatePool: promote eligible nodes until the pool is
 * full. Call inside config.mutate(). Nodes are taken in name order (Ganeti
 * shuffles; a fixed order keeps results reproducible).
 */
function maintainCandidatePool(cfg: ClusterConfig, data: ConfigData, exceptions: string[] = []): NodeObject[] {
  const st = masterCandidateStats(data, exceptions);
  let now = st.now;
  const promoted: NodeObject[] = [];
  const nodes = Object.values(data.nodes).sort((a, b) => a.name.localeCompare(b.name));
  for (const node of nodes) {
    if (now >= st.should) break;
    if (node.master_candidate || node.offline || node.drained || exceptions.includes(node.uuid) || !node.master_capable) continue;
    node.master_candidate = true;
    cfg.touch(node);
    promoted.push(node);
    now++;
  }
  return promoted;
}

/** Ganeti's AdjustCandidatePool (log part); call inside mutate(). */
export function adjustCandidatePool(ctx: LuContext, data: ConfigData, exceptions: string[]): void {
  const promoted = maintainCandidatePool(ctx.config, data, exceptions);
  if (promoted.length > 0) logInfo(ctx, `Promoted nodes to master candidate role: ${commaJoin(promoted.map((n) => n.name))}`);
  const st = masterCandidateStats(data, exceptions);
  if (st.now > st.max) logInfo(ctx, `Note: more nodes are candidates (${st.now}) than desired (${st.max})`);
}

// ---- nodes and instances -------------------------------------------------------------

/** Ganeti's GetWantedNodes: expand names (unknown → unknown_entity), keep order, no duplicates. */
export function getWantedNodes(cfg: ClusterConfig, names: string[]): NodeObject[] {
  const out: NodeObject[] = [];
  for (const name of names) {
    const node = cfg.expandNode(name);
    if (!out.includes(node)) out.push(node);
  }
  return out;
}

export function nodePrimaryInstances(cfg: ClusterConfig, nodeUuid: string): InstanceObject[] {
  return cfg.instances().filter((i) => i.primary_node === nodeUuid);
}
export function nodeSecondaryInstances(cfg: ClusterConfig, nodeUuid: string): InstanceObject[] {
  return cfg.instances().filter((i) => i.secondary_nodes.includes(nodeUuid));
}

/** Ganeti's DTS_INT_MIRROR: templates mirrored between a primary and a secondary node. */
export const INT_MIRROR_TEMPLATES: readonly string[] = diskTemplatesWhere((t) => t.mirror === "internal");

/** Instances whose uuids are given, in a group (by the nodes they use). */
export function groupInstances(cfg: ClusterConfig, groupUuid: string): InstanceObject[] {
  return cfg.instances().filter((i) => cfg.instanceNodes(i).some((n) => cfg.data.nodes[n]?.group === groupUuid));
}

// ---- storage -------------------------------------------------------------------------

/** Storage types whose free/total space is reported (Ganeti's STS_REPORT). */
export const STS_REPORT = ["file", "lvm-pv", "lvm-vg", "sharedfile"];
/** Fields that can be modified per storage type (Ganeti's MODIFIABLE_STORAGE_FIELDS). */
export const MODIFIABLE_STORAGE_FIELDS: Record<string, string[]> = { "lvm-pv": ["allocatable"] };
/** Ganeti's VALID_STORAGE_OPERATIONS. */
export const VALID_STORAGE_OPERATIONS: Record<string, string[]> = { "lvm-vg": ["fix-consistency"] };
/** Ganeti's VALID_STORAGE_FIELDS. */
export const VALID_STORAGE_FIELDS = ["node", "name", "type", "size", "used", "free", "allocatable"];

/** Ganeti's CheckStorageTypeEnabled. */
export function checkStorageTypeEnabled(cluster: ClusterObject, storageType: string): void {
  if (storageType === "lvm-pv") return checkStorageTypeEnabled(cluster, "lvm-vg");
  const templates = diskTemplatesOfStorageType(storageType);
  if (templates.some((t) => cluster.enabled_disk_templates.includes(t))) return;
  throw new OpPrereqError(
    `No disk template of storage type '${storageType}' is enabled in this cluster.` +
      ` Enabled disk templates are: ${cluster.enabled_disk_templates.join(",")}`,
  );
}

/** Ganeti's _GetStorageTypeArgs: the directory for file-based storage types. */
export function storageTypeArgs(cluster: ClusterObject, storageType: string): unknown[] {
  if (storageType === "file") return [[cluster.file_storage_dir]];
  if (storageType === "sharedfile") return [[cluster.shared_file_storage_dir]];
  if (storageType === "gluster") return [[cluster.gluster_storage_dir]];
  // Beyond Ganeti (which passes nothing): the cluster's volume group, listed even on a node that holds no volume yet.
  if ((storageType === "lvm-vg" || storageType === "lvm-pv") && cluster.volume_group_name) return [[cluster.volume_group_name]];
  return [];
}

// ---- parameter dicts -----------------------------------------------------------------

/** Ganeti's GetUpdatedParams: "default" (and null when useNone) deletes a key. */
export function getUpdatedParams(
  old: Record<string, unknown>,
  update: Record<string, unknown>,
  opts: { useDefault?: boolean; useNone?: boolean } = {},
): Record<string, unknown> {
  const useDefault = opts.useDefault ?? true;
  const out = structuredClone(old);
  for (const [k, v] of Object.entries(update)) {
    if ((useDefault && v === "default") || (opts.useNone && v === null)) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Ganeti's NDS_PARAMETER_TYPES (the schema's parameter tables). */
export const ND_PARAM_TYPES = ND_PARAMETER_TYPES;
/** Ganeti's NDC_GLOBALS: node parameters that can only be set at cluster or group level. */
export const ND_GLOBALS = ["exclusive_storage"];

/**
 * Ganeti's utils.ForceDictType: unknown keys and values of the wrong type
 * fail with TypeEnforcementError; numbers given as strings are converted.
 * "default" is left alone when allowDefault (parameter resets).
 */
export function forceDictType(
  params: Record<string, unknown>,
  types: ReadonlyMap<string, ParamType>,
  opts: { allowDefault?: boolean } = {},
): Record<string, unknown> {
  return ganetiCheck(() => forceParamTypes(params, types, opts));
}

/** Ganeti's CheckParamsNotGlobal. */
export function checkParamsNotGlobal(
  params: Record<string, unknown>,
  globals: string[],
  kind: string,
  badLevels: string,
  goodLevels: string,
): void {
  const used = Object.keys(params).filter((k) => globals.includes(k));
  if (used.length > 0)
    throw new OpPrereqError(
      `The following ${kind} parameters are global and cannot be customized at ${badLevels} level, please modify them at ${goodLevels} level: ${used.join(", ")}`,
      "wrong_input",
    );
}

// ---- IPv4 ----------------------------------------------------------------------------

/** Dotted quad → number, or null if invalid. */
export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
export function isValidIPv4(s: string): boolean {
  return parseIPv4(s) !== null;
}

/** Python's repr-ish str() of a JSON value, as Ganeti puts dicts into change lists ("{'a': 1}"). */
export function pyFormat(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyFormat).join(", ")}]`;
  if (typeof v === "object")
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyFormat(k)}: ${pyFormat(x)}`)
      .join(", ")}}`;
  return String(v);
}

/**
 * Ganeti's VerifyDictOptions over disk parameters: every template and key
 * must exist in the defaults. Throws "While verify diskparams options: ...".
 */
export function verifyDiskparams(diskparams: Record<string, unknown>, defaults: Record<string, Record<string, unknown>>): void {
  const invalid: string[] = [];
  for (const [tmpl, params] of Object.entries(diskparams)) {
    const d = Object.hasOwn(defaults, tmpl) ? defaults[tmpl] : undefined;
    if (!d) {
      invalid.push(tmpl);
      continue;
    }
    for (const k of Object.keys((params ?? {}) as Record<string, unknown>)) if (!Object.hasOwn(d, k)) invalid.push(`${tmpl}/${k}`);
  }
  if (invalid.length)
    throw new OpPrereqError(`While verify diskparams options: Provided option keys not supported: ${commaJoin(invalid)}`, "wrong_input");
  // Ganeti's ForceDictType over DISK_DT_TYPES.
  for (const params of Object.values(diskparams)) forceDictType((params ?? {}) as Record<string, unknown>, DISK_PARAMETER_TYPES);
}

/** Ganeti's RpcResult.Raise(msg): a failed call becomes OpExecError("msg: error"). */
export async function rpcRaise<T>(msg: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TypeEnforcementError || err instanceof OpPrereqError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new OpExecError(`${msg}: ${detail}`, { cause: err });
  }
}

/** Ganeti's LookupNodeGroup(None): the only group, else the target must be named. */
export function defaultGroup(cfg: ClusterConfig): GroupObject {
  const groups = cfg.groups();
  if (groups.length !== 1 || !groups[0])
    throw new OpPrereqError("More than one node group exists. Target group must be specified explicitly.", "wrong_input");
  return groups[0];
}

/** Ganeti's SupportsOob: the node has an out-of-band program configured. */
export function supportsOob(cfg: ClusterConfig, node: NodeObject): boolean {
  return Boolean(cfg.filledNdparams(node)["oob_program"]);
}

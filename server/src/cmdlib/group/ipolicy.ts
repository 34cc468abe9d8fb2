// Instance-policy edits and validation shared by group and cluster modify
// (Ganeti's GetUpdatedIPolicy, FillIPolicy, InstancePolicy.CheckParameterSyntax).
import { DISK_TEMPLATES, type ParamType } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { commaJoin, forceDictType } from "../common/node.js";

type Dict = Record<string, unknown>;

export const ISPEC_PARAMS = ["memory-size", "cpu-count", "disk-count", "disk-size", "nic-count", "spindle-use"];
const ISPEC_TYPES: ReadonlyMap<string, ParamType> = new Map(ISPEC_PARAMS.map((p) => [p, "int" as const]));
export const IPOLICY_PARAMETERS = ["vcpu-ratio", "spindle-ratio"];
export const IPOLICY_ALL_KEYS = ["minmax", "std", "disk-templates", ...IPOLICY_PARAMETERS];

class PolicyError extends Error {}

/** Ganeti's FillIPolicy: the group/op policy over the cluster's (std merged key-wise). */
export function fillIpolicy(base: Dict, custom: Dict): Dict {
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(custom)) {
    out[k] = k === "std" ? { ...(base["std"] as Dict), ...(v as Dict) } : structuredClone(v);
  }
  return out;
}

/** Ganeti's GetUpdatedIPolicy (group policies may drop keys; the cluster's may not). */
export function getUpdatedIpolicy(old: Dict, update: Dict, groupPolicy: boolean): Dict {
  const ipolicy = structuredClone(old);
  for (const [key, value] of Object.entries(update)) {
    if (!IPOLICY_ALL_KEYS.includes(key)) throw new OpPrereqError(`Invalid key in new ipolicy: ${key}`, "wrong_input");
    const isEmpty =
      value === null ||
      value === "" ||
      value === 0 ||
      value === false ||
      value === "default" ||
      (Array.isArray(value) && (value.length === 0 || (value.length === 1 && value[0] === "default"))) ||
      (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
    if (isEmpty) {
      if (groupPolicy) delete ipolicy[key];
      else throw new OpPrereqError(`Can't unset ipolicy attribute '${key}' on the cluster'`, "wrong_input");
    } else if (IPOLICY_PARAMETERS.includes(key)) {
      const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
      if (!Number.isFinite(n))
        throw new OpPrereqError(
          `Invalid value for attribute '${key}': '${String(value)}', error: could not convert to float`,
          "wrong_input",
        );
      ipolicy[key] = n;
    } else if (key === "minmax") {
      if (!Array.isArray(value)) throw new OpPrereqError(`Invalid instance policy: minmax must be a list`, "wrong_input");
      ipolicy[key] = value.map((mm: unknown) => {
        const o: Dict = {};
        for (const [k, spec] of Object.entries((mm ?? {}) as Dict)) o[k] = forceDictType((spec ?? {}) as Dict, ISPEC_TYPES);
        return o;
      });
    } else if (key === "std") {
      if (groupPolicy) throw new OpPrereqError(`${key} cannot appear in group instance specs`, "wrong_input");
      ipolicy[key] = forceDictType({ ...((old[key] as Dict) ?? {}), ...(value as Dict) }, ISPEC_TYPES);
    } else {
      ipolicy[key] = Array.isArray(value) ? [...value] : [value];
    }
  }
  checkIpolicySyntaxOrPrereq(ipolicy, !groupPolicy);
  return ipolicy;
}

/** CheckParameterSyntax wrapped as Ganeti's LUs do: OpPrereqError "Invalid instance policy: ...". */
export function checkIpolicySyntaxOrPrereq(ipolicy: Dict, checkStd: boolean): void {
  try {
    checkIpolicySyntax(ipolicy, checkStd);
  } catch (err) {
    if (err instanceof PolicyError) throw new OpPrereqError(`Invalid instance policy: ${err.message}`, "wrong_input");
    throw err;
  }
}

function checkIpolicySyntax(ipolicy: Dict, checkStd: boolean): void {
  if ("minmax" in ipolicy) {
    if (checkStd && !("std" in ipolicy)) throw new PolicyError("Missing key in ipolicy: std");
    const std = (ipolicy["std"] ?? {}) as Dict;
    if (checkStd) incomplete(std, "std");
    const minmax = ipolicy["minmax"] as Dict[];
    if (!Array.isArray(minmax) || minmax.length === 0) throw new PolicyError("Empty minmax specifications");
    let stdGood = false;
    for (const mm of minmax) {
      const missing = ["min", "max"].filter((k) => !(k in mm));
      if (missing.length) throw new PolicyError(`Missing instance specification: ${commaJoin(missing)}`);
      for (const [k, spec] of Object.entries(mm)) incomplete(spec as Dict, k);
      let ok = true;
      for (const p of ISPEC_PARAMS) {
        const lo = (mm["min"] as Dict)[p] as number;
        const hi = (mm["max"] as Dict)[p] as number;
        if (lo > hi) throw new PolicyError(`Invalid specification of min/max values for ${p}: ${lo}/${hi}`);
        if (checkStd) {
          const s = (std[p] ?? lo) as number;
          ok = ok && s >= lo && s <= hi;
        }
      }
      stdGood = stdGood || ok;
    }
    if (!stdGood) throw new PolicyError("Invalid std specifications");
  }
  if ("disk-templates" in ipolicy) {
    const dts = ipolicy["disk-templates"] as string[];
    if (!dts || dts.length === 0) throw new PolicyError("Instance policy must contain at least one disk template");
    const wrong = dts.filter((t) => !(DISK_TEMPLATES as readonly string[]).includes(t));
    if (wrong.length) throw new PolicyError(`Invalid disk template(s) ${commaJoin(wrong)}`);
  }
  for (const k of IPOLICY_PARAMETERS)
    if (k in ipolicy && !Number.isFinite(Number(ipolicy[k])))
      throw new PolicyError(`Invalid value for key '${k}': '${String(ipolicy[k])}'`);
  const wrongKeys = Object.keys(ipolicy).filter((k) => !IPOLICY_ALL_KEYS.includes(k));
  if (wrongKeys.length) throw new PolicyError(`Invalid keys in ipolicy: ${commaJoin(wrongKeys)}`);
}

function incomplete(spec: Dict, name: string): void {
  const missing = ISPEC_PARAMS.filter((p) => !(p in (spec ?? {})));
  if (missing.length) throw new PolicyError(`Missing instance specs parameters for ${name}: ${commaJoin(missing)}`);
}

/** Ganeti's CheckIpolicyVsDiskTemplates. */
function checkIpolicyVsDiskTemplates(ipolicy: Dict, enabled: string[]): void {
  const allowed = (ipolicy["disk-templates"] ?? []) as string[];
  const notEnabled = allowed.filter((t) => !enabled.includes(t));
  if (notEnabled.length)
    throw new OpPrereqError(
      `The following disk templates are allowed by the ipolicy, but not enabled on the cluster: ${commaJoin(notEnabled)}`,
      "wrong_input",
    );
}

/**
 * CheckIpolicyVsDiskTemplates limited to the templates a change names.
 * Ganeti checks the filled policy, which on its clusters lists only enabled
 * templates (init intersects them); ours may still list every template, so
 * only what the user sets is held against the enabled list.
 */
export function checkChangedDiskTemplates(change: Dict, enabled: string[]): void {
  if ("disk-templates" in change && Array.isArray(change["disk-templates"])) checkIpolicyVsDiskTemplates(change, enabled);
}

// ---- instance specs against a policy (Ganeti's ComputeIPolicySpecViolation) ----
// The one check every LU uses (create with a node, modify, grow-disk, moves
// to another group). htools' allocator keeps its own fail-mode checks, which
// rank candidate nodes rather than explain a refusal.

/** An instance's specs; null/undefined values are not checked (as Ganeti's None). */
export interface InstanceSpec {
  memory?: number | null;
  cpus?: number | null;
  nics?: number | null;
  spindles?: number | null;
  diskSizes: number[];
  /** Each disk's template (Ganeti's disk_types). */
  diskTypes: string[];
}

function minMaxViolation(name: string, qualifier: string, minmax: Dict, value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const hiSpec = (minmax["max"] ?? {}) as Dict;
  const loSpec = (minmax["min"] ?? {}) as Dict;
  const hi = Object.hasOwn(hiSpec, name) ? Number(hiSpec[name]) : value;
  const lo = Object.hasOwn(loSpec, name) ? Number(loSpec[name]) : value;
  if (value > hi || lo > value) return `${qualifier ? `${name}/${qualifier}` : name} value ${value} is not in range [${lo}, ${hi}]`;
  return null;
}

/** Ganeti's ComputeIPolicySpecViolation: the list of violations (empty: none). */
export function computeIpolicySpecViolation(ipolicy: Dict, spec: InstanceSpec): string[] {
  const settings: Array<[string, string, number | null | undefined]> = [
    ["memory-size", "", spec.memory],
    ["cpu-count", "", spec.cpus],
    ["nic-count", "", spec.nics],
    ["spindle-use", "", spec.spindles],
    ...spec.diskSizes.map((d, i): [string, string, number] => ["disk-size", String(i), d]),
  ];
  const allowed = ((ipolicy["disk-templates"] ?? []) as string[]).map(String);
  const ret: string[] = [];
  if (spec.diskSizes.length !== 0) settings.push(["disk-count", "", spec.diskSizes.length]);
  else if (!allowed.includes("diskless")) ret.push(`Disk template diskless is not allowed (allowed templates ${commaJoin(allowed)})`);
  const forbidden = [...new Set(spec.diskTypes)].filter((t) => !allowed.includes(t));
  if (forbidden.length) ret.push(`Disk template ${commaJoin(forbidden)} is not allowed (allowed templates: ${commaJoin(allowed)})`);
  let minErrs: string[] | null = null;
  for (const mm of (ipolicy["minmax"] ?? []) as Dict[]) {
    const errs = settings.map(([n, q, v]) => minMaxViolation(n, q, mm, v)).filter((e): e is string => e !== null);
    if (minErrs === null || errs.length < minErrs.length) minErrs = errs;
  }
  return [...ret, ...(minErrs ?? [])];
}

/**
 * Refuse (OpPrereqError wrong_input) an instance spec that violates its
 * group's policy, as Ganeti's create and modify do; `ignore` turns the
 * refusal off (ignore_ipolicy).
 */
export function checkInstanceSpecPolicy(
  ipolicy: Dict,
  group: { uuid: string; name: string },
  specs: InstanceSpec[],
  ignore: boolean,
): void {
  if (ignore) return;
  const res = [...new Set(specs.flatMap((s) => computeIpolicySpecViolation(ipolicy, s)))];
  if (res.length)
    throw new OpPrereqError(`Instance allocation to group ${group.uuid} (${group.name}) violates policy: ${commaJoin(res)}`, "wrong_input");
}

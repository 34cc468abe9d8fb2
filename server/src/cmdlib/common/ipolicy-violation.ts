// Does an instance meet its group's instance policy? (Ganeti's
// ComputeIPolicyInstanceViolation): a list of violation texts, empty when it
// does. Used by cluster verify (EINSTANCEPOLICY warnings).
import type { DiskObject, InstanceObject } from "@ganeti-ts/schema";

type Spec = Record<string, unknown>;

function minMaxViolation(name: string, qualifier: string, minmax: { min: Spec; max: Spec }, value: number | null): string | null {
  if (value === null) return null;
  const maxV = typeof minmax.max[name] === "number" ? (minmax.max[name] as number) : value;
  const minV = typeof minmax.min[name] === "number" ? (minmax.min[name] as number) : value;
  if (value > maxV || minV > value) {
    const fqn = qualifier ? `${name}/${qualifier}` : name;
    return `${fqn} value ${value} is not in range [${minV}, ${maxV}]`;
  }
  return null;
}

export function ipolicyInstanceViolations(
  ipolicy: Record<string, unknown>,
  inst: InstanceObject,
  disks: DiskObject[],
  be: Record<string, unknown>,
): string[] {
  const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
  const tests: [string, string, number | null][] = [
    ["memory-size", "", num(be["maxmem"])],
    ["cpu-count", "", num(be["vcpus"])],
    ["nic-count", "", inst.nics.length],
    ["spindle-use", "", num(be["spindle_use"])],
    ...disks.map((d, idx): [string, string, number | null] => ["disk-size", String(idx), d.size]),
  ];
  const allowed = new Set(Array.isArray(ipolicy["disk-templates"]) ? (ipolicy["disk-templates"] as string[]) : []);
  const ret: string[] = [];
  if (disks.length !== 0) tests.push(["disk-count", "", disks.length]);
  else if (!allowed.has("diskless")) ret.push(`Disk template diskless is not allowed (allowed templates ${[...allowed].join(", ")})`);
  const forbidden = [...new Set(disks.map((d) => d.dev_type))].filter((t) => !allowed.has(t));
  if (forbidden.length) ret.push(`Disk template ${forbidden.join(", ")} is not allowed (allowed templates: ${[...allowed].join(", ")})`);
  let minErrs: string[] | null = null;
  const minmaxes = Array.isArray(ipolicy["minmax"]) ? (ipolicy["minmax"] as { min: Spec; max: Spec }[]) : [];
  for (const mm of minmaxes) {
    const errs = tests.map(([n, q, v]) => minMaxViolation(n, q, mm, v)).filter((e): e is string => e !== null);
    if (minErrs === null || errs.length < minErrs.length) minErrs = errs;
  }
  return [...ret, ...(minErrs ?? [])];
}

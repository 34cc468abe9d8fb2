// Instance predicates and constructors (semantics: docs/htools-internals.md, Instance model).
import type { DiskTemplate, DynUtil, Instance, MirrorType, RunState, Disk, Nic, FailMode, IPolicy, ISpec, OpResult } from "./types.js";
import { baseUtil } from "./types.js";
import { diskTemplateInfo, diskTemplatesWhere } from "@ganeti-ts/schema/disk-templates";

// Sets built once from the disk template table (hot paths test membership).
const LOCAL_STORAGE = new Set<DiskTemplate>(diskTemplatesWhere((t) => t.localStorage));
const MOVABLE = new Set<DiskTemplate>(diskTemplatesWhere((t) => t.balancerMovable));
const WITH_SECONDARY = new Set<DiskTemplate>(diskTemplatesWhere((t) => t.nodes === 2));

// Shared empty values for an instance's tag and NIC fields (typed read-only
// in Instance): a 10,000-instance cluster then holds one of each instead of
// 10,000, which cuts hail's allocations and the scavenger's copying.
export const NO_TAGS: readonly string[] = Object.freeze([]);
export const NO_TAG_SET: ReadonlySet<string> = new Set<string>();
export const NO_NICS: readonly Nic[] = Object.freeze([]);
// An instance's utilisation is replaced (mergeData), never edited in place;
// frozen, so that an edit would fail loudly instead of changing every instance.
const BASE_UTIL = Object.freeze(baseUtil()) as DynUtil;

export function createInstance(p: {
  name: string;
  mem: number;
  dsk: number;
  disks: Disk[];
  vcpus: number;
  runSt: RunState;
  tags: readonly string[];
  autoBalance: boolean;
  pNode: number;
  sNode: number;
  diskTemplate: DiskTemplate;
  spindleUse: number;
  nics?: readonly Nic[];
  forthcoming?: boolean;
}): Instance {
  return newInstance(
    p.name,
    p.mem,
    p.dsk,
    p.disks,
    p.vcpus,
    p.runSt,
    p.tags,
    p.autoBalance,
    p.pNode,
    p.sNode,
    p.diskTemplate,
    p.spindleUse,
    p.nics ?? NO_NICS,
    p.forthcoming ?? false,
  );
}

/** createInstance with positional arguments (no parameter object per instance: hail builds 10,000 while loading). */
export function newInstance(
  name: string,
  mem: number,
  dsk: number,
  disks: Disk[],
  vcpus: number,
  runSt: RunState,
  tags: readonly string[],
  autoBalance: boolean,
  pNode: number,
  sNode: number,
  diskTemplate: DiskTemplate,
  spindleUse: number,
  nics: readonly Nic[],
  forthcoming: boolean,
): Instance {
  return {
    name,
    alias: name,
    mem,
    dsk,
    disks,
    vcpus,
    runSt,
    pNode,
    sNode,
    idx: -1,
    util: BASE_UTIL,
    movable: MOVABLE.has(diskTemplate),
    autoBalance,
    diskTemplate,
    spindleUse,
    allTags: tags,
    exclTags: NO_TAGS,
    dsrdLocTags: NO_TAG_SET,
    locationScore: 0,
    nics,
    forthcoming,
  };
}

export const isRunning = (i: Instance): boolean => i.runSt === "running" || i.runSt === "ERROR_up";
export const notOffline = (i: Instance): boolean => i.runSt !== "ADMIN_offline";
export const usesSecMem = (i: Instance): boolean => notOffline(i) && i.autoBalance;
export const usesLocalStorage = (i: Instance): boolean => LOCAL_STORAGE.has(i.diskTemplate);
export const hasSecondary = (i: Instance): boolean => WITH_SECONDARY.has(i.diskTemplate);
export const requiredNodes = (dt: DiskTemplate): number => diskTemplateInfo(dt)?.nodes ?? 1;
export const allNodes = (i: Instance): number[] => (WITH_SECONDARY.has(i.diskTemplate) ? [i.pNode, i.sNode] : [i.pNode]);

export function mirrorType(dt: DiskTemplate): MirrorType {
  return diskTemplateInfo(dt)?.mirror ?? "external";
}

export function usesMemory(i: Instance): boolean {
  if (i.forthcoming) return false;
  switch (i.runSt) {
    case "ADMIN_down":
    case "ADMIN_offline":
    case "ERROR_down":
    case "USER_down":
      return false;
    default:
      return true;
  }
}

export function getTotalSpindles(i: Instance): number | null {
  let s = 0;
  for (const d of i.disks) {
    if (d.spindles === null) return null;
    s += d.spindles;
  }
  return s;
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// which = 1 checks "above max" (instBelowISpec), -1 checks "below min".
function instCompareISpec(which: number, inst: Instance, spec: ISpec, exclStor: boolean): OpResult<true> {
  if (which === cmp(inst.mem, spec.memorySize)) return "FailMem";
  if (inst.disks.some((d) => cmp(d.size, spec.diskSize) === which)) return "FailDisk";
  if (which === cmp(inst.vcpus, spec.cpuCount)) return "FailCPU";
  if (exclStor) {
    const sp = getTotalSpindles(inst);
    if (sp === null || which === cmp(sp, spec.spindleUse)) return "FailSpindles";
  } else if (which === cmp(inst.spindleUse, spec.spindleUse)) return "FailSpindles";
  if (inst.diskTemplate !== "diskless" && which === cmp(inst.disks.length, spec.diskCount)) return "FailDiskCount";
  return true;
}

export function instMatchesPolicy(inst: Instance, pol: IPolicy, exclStor: boolean): OpResult<true> {
  if (pol.minmax.length > 0) {
    // Result of the first pair if none matches (foldr semantics in Ganeti).
    let first: OpResult<true> | null = null;
    let ok = false;
    for (const mm of pol.minmax) {
      let r = instCompareISpec(-1, inst, mm.min, exclStor);
      if (r === true) r = instCompareISpec(1, inst, mm.max, exclStor);
      if (r === true) {
        ok = true;
        break;
      }
      if (first === null) first = r;
    }
    if (!ok) return first as FailMode;
  }
  return pol.diskTemplates.includes(inst.diskTemplate) ? true : "FailDisk";
}

const UNIT_MEM = 64;
const UNIT_DSK = 256;
const UNIT_CPU = 1;
const UNIT_SPINDLE = 1;

/** Shrink an instance spec along a failure mode (hspace tiered allocation). */
export function shrinkByType(inst: Instance, fm: FailMode): Instance | null {
  switch (fm) {
    case "FailMem": {
      const v = inst.mem - UNIT_MEM;
      return v < UNIT_MEM ? null : { ...inst, mem: v };
    }
    case "FailDisk": {
      const nd = inst.disks.map((d) => ({ ...d, size: d.size - UNIT_DSK }));
      if (nd.some((d) => d.size < UNIT_DSK)) return null;
      return { ...inst, dsk: inst.dsk - inst.disks.length * UNIT_DSK, disks: nd };
    }
    case "FailCPU": {
      const v = inst.vcpus - UNIT_CPU;
      return v < UNIT_CPU ? null : { ...inst, vcpus: v };
    }
    case "FailSpindles": {
      if (inst.disks.length !== 1) return null;
      const d = inst.disks[0]!;
      if (d.spindles === null) return null;
      const v = d.spindles - UNIT_SPINDLE;
      return v < UNIT_SPINDLE ? null : { ...inst, disks: [{ size: d.size, spindles: v }] };
    }
    default:
      return null;
  }
}

/**
 * How many times shrinkByType(., fm) succeeds in a row from inst (Infinity
 * for a disk shrink of an instance without disks, which never fails).
 * Only for the sizes that shrink by a fixed unit: memory, disk, CPUs.
 */
export function shrinkSteps(inst: Instance, fm: "FailMem" | "FailDisk" | "FailCPU"): number {
  switch (fm) {
    case "FailMem":
      return Math.max(0, Math.floor((inst.mem - UNIT_MEM) / UNIT_MEM));
    case "FailDisk": {
      let k = Infinity;
      for (const d of inst.disks) k = Math.min(k, Math.max(0, Math.floor((d.size - UNIT_DSK) / UNIT_DSK)));
      return k;
    }
    case "FailCPU":
      return Math.max(0, Math.floor((inst.vcpus - UNIT_CPU) / UNIT_CPU));
  }
}

/** The sizes that shrinkByType(., fm) shrinks, and by how much each step. */
export function shrinkingSizes(inst: Instance, fm: "FailMem" | "FailDisk" | "FailCPU"): { sizes: number[]; unit: number } {
  switch (fm) {
    case "FailMem":
      return { sizes: [inst.mem], unit: UNIT_MEM };
    case "FailDisk":
      return { sizes: inst.disks.map((d) => d.size), unit: UNIT_DSK };
    case "FailCPU":
      return { sizes: [inst.vcpus], unit: UNIT_CPU };
  }
}

/**
 * inst shrunk k times along fm (shrinkByType applied k times), or null when
 * one of those steps fails; memory, disk and CPUs only.  `into`, when given,
 * is overwritten with the result's sizes instead of building a new object
 * (it must be a copy of inst with its own disk objects).
 */
export function shrinkByTypeN(inst: Instance, fm: "FailMem" | "FailDisk" | "FailCPU", k: number, into?: Instance): Instance | null {
  if (k > shrinkSteps(inst, fm)) return null;
  switch (fm) {
    case "FailMem":
      if (into === undefined) return { ...inst, mem: inst.mem - k * UNIT_MEM };
      into.mem = inst.mem - k * UNIT_MEM;
      return into;
    case "FailDisk": {
      const dsk = inst.dsk - inst.disks.length * k * UNIT_DSK;
      if (into === undefined) return { ...inst, dsk, disks: inst.disks.map((d) => ({ ...d, size: d.size - k * UNIT_DSK })) };
      into.dsk = dsk;
      for (let j = 0; j < inst.disks.length; j++) into.disks[j]!.size = inst.disks[j]!.size - k * UNIT_DSK;
      return into;
    }
    case "FailCPU":
      if (into === undefined) return { ...inst, vcpus: inst.vcpus - k * UNIT_CPU };
      into.vcpus = inst.vcpus - k * UNIT_CPU;
      return into;
  }
}

export function specOf(i: Instance): { mem: number; dsk: number; cpu: number; spn: number } {
  const d0 = i.disks.length === 1 ? i.disks[0]!.spindles : null;
  return { mem: i.mem, dsk: i.dsk, cpu: i.vcpus, spn: d0 ?? 0 };
}

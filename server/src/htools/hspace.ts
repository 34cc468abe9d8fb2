// hspace: capacity planning by simulated allocation (docs/htools-internals.md, hspace).
import type { DiskTemplate, FailMode, Group, Instance, RSpec } from "./types.js";
import { HtoolsError } from "./types.js";
import { Node, availMem, availDisk, availCpu, unallocatedMem } from "./node.js";
import { createInstance, requiredNodes, shrinkByType, shrinkByTypeN, specOf } from "./instance.js";
import { compCV } from "./metrics.js";
import type { ClusterData } from "./loader.js";
import { sameFailureRunLength } from "./shrink-run.js";
import { CapacityRun } from "./capacity.js";
import {
  collapseFailures,
  fullNL,
  genAllocNodes,
  redundant,
  tryAlloc,
  applyAllocNodes,
  type AlgOptions,
  type AllocNodes,
  type AllocSolution,
} from "./alloc.js";

export interface CStats {
  fmem: number;
  fdsk: number;
  fspn: number;
  amem: number;
  adsk: number;
  acpu: number;
  mmem: number;
  mdsk: number;
  mcpu: number;
  imem: number;
  idsk: number;
  ispn: number;
  icpu: number;
  tmem: number;
  tdsk: number;
  tspn: number;
  tcpu: number;
  vcpu: number;
  ncpu: number;
  xmem: number;
  nmem: number;
  score: number;
  ninst: number;
}

export function totalResources(nodes: readonly Node[]): CStats {
  const cs: CStats = {
    fmem: 0,
    fdsk: 0,
    fspn: 0,
    amem: 0,
    adsk: 0,
    acpu: 0,
    mmem: 0,
    mdsk: 0,
    mcpu: 0,
    imem: 0,
    idsk: 0,
    ispn: 0,
    icpu: 0,
    tmem: 0,
    tdsk: 0,
    tspn: 0,
    tcpu: 0,
    vcpu: 0,
    ncpu: 0,
    xmem: 0,
    nmem: 0,
    score: 0,
    ninst: 0,
  };
  for (const n of nodes) {
    const am = availMem(n);
    const ad = availDisk(n);
    const ac = availCpu(n);
    cs.fmem += unallocatedMem(n);
    cs.fdsk += n.fDsk;
    cs.fspn += n.fSpindles;
    cs.amem += am;
    cs.adsk += ad;
    cs.acpu += ac;
    cs.mmem = Math.max(cs.mmem, am);
    cs.mdsk = Math.max(cs.mdsk, ad);
    cs.mcpu = Math.max(cs.mcpu, ac);
    cs.imem += n.iMem;
    cs.idsk += Math.trunc(n.tDsk) - n.fDsk;
    cs.ispn += n.tSpindles - n.fSpindles;
    cs.icpu += n.uCpu;
    cs.tmem += n.tMem;
    cs.tdsk += n.tDsk;
    cs.tspn += n.tSpindles;
    cs.tcpu += n.tCpu;
    cs.vcpu += n.hiCpu;
    cs.ncpu += n.uCpu / n.iPolicy.vcpuRatio;
    cs.xmem += n.xMem;
    cs.nmem += n.nMem;
    cs.ninst += n.pList.length;
  }
  cs.score = compCV(nodes);
  return cs;
}

export type FailStats = Array<[FailMode, number]>;

export interface AllocResult {
  fails: FailStats;
  nodes: Node[];
  il: Instance[];
  /** allocated instances, most recent first (Ganeti's ixes) */
  ixes: Instance[];
}

function allNodesNL(nodes: Node[]) {
  return fullNL(nodes);
}

function iterateAllocSmallStep(opts: AlgOptions, r: AllocResult, limit: number | null, newinst: Instance, an: AllocNodes): AllocResult {
  let { nodes, il } = r;
  // Allocations replace node objects at the same indices: one member list serves every state.
  const members = allNodesNL(nodes).members;
  const o2 = requiredNodes(newinst.diskTemplate) === 2 ? { ...opts, capacity: false } : opts;
  // the new instances, oldest first (ixes is most recent first)
  const added: Instance[] = [];
  // The instance list is copied once and then extended in place: a trial
  // allocation reads it only while it runs, and the run's states before the
  // last are never returned.
  let ownIl = false;
  for (;;) {
    const depth = r.ixes.length + added.length;
    const newidx = il.length;
    const ni: Instance = { ...newinst, name: `new-${depth}`, alias: `new-${depth}`, idx: newidx };
    const sol = tryAlloc(o2, { nodes, members }, il, ni, an);
    const fails = collapseFailures(sol.failures);
    if (!sol.solution || limit === 0) return { fails, nodes, il, ixes: added.length === 0 ? r.ixes : [...added.reverse(), ...r.ixes] };
    const applied = applyAllocNodes(nodes, newidx, sol.solution);
    if (!ownIl) {
      il = il.slice();
      ownIl = true;
    }
    il.push(applied.inst);
    added.push(applied.inst);
    nodes = applied.nodes;
    if (limit !== null) limit -= 1;
  }
}

function guessBigstepSize(nodes: Node[], inst: Instance): number {
  let total = 0;
  let cnt = 0;
  for (const n of nodes)
    if (n) {
      total += availMem(n);
      cnt++;
    }
  const guess = Math.floor(total / inst.mem) - cnt;
  return guess < 20 ? 20 : guess;
}

/** Ganeti's iterateAlloc: allocate newinst until it fails (exported for tests). */
export function iterateAlloc(
  opts: AlgOptions,
  r: AllocResult,
  limit: number | null,
  newinst: Instance,
  an: AllocNodes,
  tryHuge = true,
): AllocResult {
  if (opts.capacity === false) return iterateAllocSmallStep(opts, r, limit, newinst, an);
  for (;;) {
    const big = tryHuge ? guessBigstepSize(r.nodes, newinst) : 10;
    const lim1 = limit === null ? big : Math.min(big, limit);
    const newlimit = limit === null ? null : Math.max(0, limit - big);
    const o2 = { ...opts, capacity: false };
    const res = iterateAllocSmallStep(o2, r, lim1, newinst, an);
    if (redundant(opts, fullNL(res.nodes), res.il)) {
      if (newlimit === 0 || res.ixes.length === r.ixes.length) return res;
      r = res;
      limit = newlimit;
      continue;
    }
    if (tryHuge) return iterateAlloc(opts, r, limit, newinst, an, false);
    return iterateAllocSmallStep(opts, r, limit, newinst, an);
  }
}

function sameFails(a: FailStats, b: FailStats): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

function sortedErrs(fails: FailStats): FailMode[] {
  // sortBy (comparing snd): ascending count, stable
  return fails
    .map((f, k) => ({ f, k }))
    .sort((a, b) => a.f[1] - b.f[1] || a.k - b.k)
    .map((x) => x.f[0]);
}

const specKey = (i: Instance): string => `${i.mem}|${i.dsk}|${i.vcpus}|${i.disks.map((d) => `${d.size}:${d.spindles}`).join(",")}`;

/** What the shrinking scans read of a trial allocation: a solution or not, and the modes that failed. */
interface Trial {
  solved: boolean;
  /** the modes that failed (a trial's own list: a pair search's has thousands of entries, read a few times) */
  modes: { has(fm: FailMode): boolean };
}

const trialOf = (sol: AllocSolution): Trial => ({ solved: sol.solution !== null, modes: { has: (fm) => sol.failures.includes(fm) } });

type ShrinkMode = "FailMem" | "FailDisk" | "FailCPU";

/**
 * The answers of the shrinking scans along one mode on one state: per spec,
 * and per run of specs (the `len` specs below `from`, which share an
 * answer), so that a run of thousands of specs is one entry.
 */
class ShrinkMemo {
  readonly keys = new Map<string, Instance | null>();
  readonly runs: Array<{ from: Instance; len: number; answer: Instance | null }> = [];
  constructor(readonly fm: FailMode) {}

  /** The answer recorded for spec i (key: specKey(i)), or undefined. */
  lookup(i: Instance, key: string): Instance | null | undefined {
    const a = this.keys.get(key);
    if (a !== undefined || this.keys.has(key)) return a;
    for (const r of this.runs) {
      const d = stepsBelow(r.from, i, this.fm);
      if (d >= 1 && d <= r.len && specKey(shrinkByTypeN(r.from, this.fm as ShrinkMode, d)!) === key) return r.answer;
    }
    return undefined;
  }
}

/** How many shrink steps along fm lead from a to b if any do (b's size in fm's unit below a's), else 0. */
function stepsBelow(a: Instance, b: Instance, fm: FailMode): number {
  let d = 0;
  if (fm === "FailMem") d = (a.mem - b.mem) / 64;
  else if (fm === "FailCPU") d = a.vcpus - b.vcpus;
  else if (fm === "FailDisk" && a.disks.length > 0 && b.disks.length === a.disks.length) d = (a.disks[0]!.size - b.disks[0]!.size) / 256;
  return Number.isInteger(d) ? d : 0;
}

function sufficesShrinking(
  allocFn: (i: Instance) => Trial,
  keyOf: (i: Instance) => string,
  inst: Instance,
  fm: FailMode,
  memo: ShrinkMemo,
  sameRun: (i: Instance, fm: FailMode, t: Trial) => number,
): Instance | null {
  // Ganeti's iterateOk: an element is produced only if its own shrink
  // succeeds (so a spec that cannot shrink along fm answers null at once).
  // `memo` caches the answer per (state, mode, start spec); the answer for
  // a spec is the answer for its shrunk spec once it fails with fm.
  // `sameRun` counts the specs after a failing one that fail the same way
  // (shrink-run.ts): the scan steps over them without trial allocations
  // (its answer is that of the spec below them).
  if (shrinkByType(inst, fm) === null) return null;
  const visited: string[] = [];
  const visitedRuns: Array<{ from: Instance; len: number }> = [];
  let cur = inst;
  let result: Instance | null | undefined;
  const known = (i: Instance): boolean => {
    const a = memo.lookup(i, keyOf(i));
    if (a === undefined) return false;
    result = a;
    return true;
  };
  for (;;) {
    if (known(cur)) break;
    visited.push(keyOf(cur));
    let next = shrinkByType(cur, fm);
    if (!next) {
      result = null;
      break;
    }
    const t = allocFn(cur);
    if (t.solved) {
      result = cur;
      break;
    }
    if (!t.modes.has(fm)) {
      result = null;
      break;
    }
    // (the run below starts with next: an answer known for it ends the scan)
    if (memo.lookup(next, keyOf(next)) === undefined) {
      const len = sameRun(cur, fm, t);
      if (len > 0) {
        visitedRuns.push({ from: cur, len });
        next = shrinkByTypeN(cur, fm as ShrinkMode, len + 1);
        if (!next) {
          result = null;
          break;
        }
      }
    }
    cur = next;
  }
  for (const k of visited) memo.keys.set(k, result!);
  for (const r of visitedRuns) memo.runs.push({ ...r, answer: result! });
  return result!;
}

/**
 * Ganeti's tieredAlloc, with its (deep, non-tail) recursion turned into an
 * explicit stack: shrinking a 1 TiB disk by 256 MiB steps nests thousands of
 * levels.
 */
function tieredAlloc(opts: AlgOptions, r0: AllocResult, limit0: number | null, inst0: Instance, an: AllocNodes): AllocResult {
  interface Frame {
    res: AllocResult;
    newlimit: number | null;
    newinst: Instance;
    errs: FailMode[];
    /** the trial allocation of newinst on res's state, when known without a search */
    known: Trial | null;
  }
  const stack: Frame[] = [];
  const TRIAL: AlgOptions = { ...opts, capacity: false };
  // The memos of the last few states, most recent first.  (Not a WeakMap on
  // the states: a scavenge keeps every entry whose key has reached the old
  // generation, and with it the trial solutions, until a full collection.)
  // Frames of one state are popped one after the other, so a few suffice.
  type Memo = { nodes: Node[]; il: Instance[]; m: Map<string, Trial>; shrink: Map<FailMode, ShrinkMemo> };
  const memos: Memo[] = [];
  const MEMO_KEEP = 8;
  let call: { r: AllocResult; limit: number | null; inst: Instance } | null = { r: r0, limit: limit0, inst: inst0 };
  let ret: AllocResult | null = null;
  for (;;) {
    if (call) {
      const { r, limit, inst }: { r: AllocResult; limit: number | null; inst: Instance } = call;
      call = null;
      const res = iterateAlloc(opts, r, limit, inst, an);
      const cnt = res.ixes.length;
      if (limit !== null && limit <= cnt) {
        ret = res;
        continue;
      }
      const newlimit: number | null = limit === null ? null : limit - cnt;
      // A shrinking run's failure counts are often those of the frame below:
      // the frame keeps that frame's arrays then (never written), so the
      // thousands of frames of a long run hold less.
      const below = stack.length > 0 ? stack[stack.length - 1]! : null;
      let errs: FailMode[];
      if (below !== null && sameFails(below.res.fails, res.fails)) {
        res.fails = below.res.fails;
        errs = below.errs;
      } else errs = sortedErrs(res.fails);
      const mode = errs[errs.length - 1]!;
      const frame: Frame = { res, newlimit, newinst: inst, errs, known: null };
      stack.push(frame);
      // Without a limit, iterateAlloc returns after a trial allocation that
      // failed on res's state, with its failure counts.  Without FailN1
      // among them no candidate passed its node checks (FailN1 counts those
      // the capacity check dropped), so the counts are those of a trial
      // with capacity checks as well as without, and a spec that fails such
      // a trial the same way makes iterateAlloc return the same result.
      // The next shrink steps that are certain to (shrink-run.ts) are
      // recorded as if searched: a frame each, with this one's counts, and
      // that trial, which the shrinking scans below then need not repeat.
      let last = inst;
      // (The reference engine takes every step, the tests' oracle.)
      if (limit === null && opts.engine !== "reference" && !res.fails.some(([m, c]) => m === "FailN1" && c > 0)) {
        const failed = res.fails.filter(([, c]) => c > 0).map(([m]) => m);
        const known: Trial = { solved: false, modes: new Set(failed) };
        frame.known = known;
        const len = sameFailureRunLength(TRIAL, fullNL(res.nodes), an, inst, mode);
        if (len > 0 && failed.every((m) => m === mode)) {
          // When mode is the only failure, the run's frames answer alike
          // when popped: a scan along another mode ends at its first spec
          // (no solution, the mode absent), and the scan along mode steps
          // through the rest of the run (each spec failing with mode) to
          // the same spec below it.  So one frame, the run's last, stands
          // for them all: it is popped first, and the frames above it, with
          // the same state, would return what it returns.
          last = frame.newinst = shrinkByTypeN(inst, mode as ShrinkMode, len)!;
        } else
          for (let k = 1; k <= len; k++) {
            last = shrinkByType(last, mode)!;
            stack.push({ res, newlimit, newinst: last, errs, known });
          }
      }
      const shrunk = shrinkByType(last, mode);
      if (shrunk) call = { r: res, limit: newlimit, inst: shrunk };
      else ret = res;
      continue;
    }
    const f = stack.pop();
    if (!f) return ret!;
    const v = ret!;
    if (v.il.length > f.res.il.length) continue; // progress: propagate v
    // Frames that allocated nothing share the same state object, so a
    // cache per state turns the repeated shrinking scans (quadratic in the
    // number of shrink steps) into lookups; results are identical.
    let memo = memos.find((x) => x.nodes === f.res.nodes && x.il === f.res.il);
    if (memo === undefined) {
      memo = { nodes: f.res.nodes, il: f.res.il, m: new Map(), shrink: new Map() };
      memos.unshift(memo);
      if (memos.length > MEMO_KEEP) memos.pop();
    }
    const cache = memo.m;
    // (the scans read a spec's key several times: computed once per spec)
    let keyed: Instance | null = null;
    let keyedAs = "";
    const keyOf = (i: Instance): string => {
      if (i !== keyed) {
        keyed = i;
        keyedAs = specKey(i);
      }
      return keyedAs;
    };
    const allocFn = (i: Instance): Trial => {
      if (i === f.newinst && f.known !== null) return f.known;
      const key = keyOf(i);
      const hit = cache.get(key);
      if (hit) return hit;
      let r: Trial;
      try {
        r = trialOf(tryAlloc(opts, fullNL(f.res.nodes), f.res.il, i, an));
      } catch (e) {
        if (!(e instanceof HtoolsError)) throw e;
        r = { solved: false, modes: new Set() };
      }
      cache.set(key, r);
      return r;
    };
    // (a failure without FailN1: as above, that of a trial without capacity checks)
    const sameRun = (i: Instance, fm: FailMode, t: Trial): number =>
      t.modes.has("FailN1") ? 0 : sameFailureRunLength(TRIAL, fullNL(f.res.nodes), an, i, fm);
    let ni: Instance | null = null;
    for (let k = f.errs.length - 1; k >= 0 && ni === null; k--) {
      const fm = f.errs[k]!;
      let m = memo.shrink.get(fm);
      if (m === undefined) memo.shrink.set(fm, (m = new ShrinkMemo(fm)));
      ni = sufficesShrinking(allocFn, keyOf, f.newinst, fm, m, sameRun);
    }
    if (ni) call = { r: f.res, limit: f.newlimit, inst: ni };
    else ret = f.res;
  }
}

/** The instance hspace places for a spec. */
export function instFromSpec(spec: RSpec, dt: DiskTemplate, su: number): Instance {
  return createInstance({
    name: "new",
    mem: spec.mem,
    dsk: spec.dsk,
    disks: [{ size: spec.dsk, spindles: spec.spn }],
    vcpus: spec.cpu,
    runSt: "running",
    tags: [],
    autoBalance: true,
    pNode: -1,
    sNode: -1,
    diskTemplate: dt,
    spindleUse: su,
  });
}

export interface HspaceOptions extends AlgOptions {
  diskTemplate?: DiskTemplate;
  spindleUse?: number;
  independentGroups?: boolean;
  /** compute the bad groups even without --independent-groups (verbose output) */
  computeBadGroups?: boolean;
  maxLength?: number;
  tieredSpec?: RSpec | null;
  stdSpec?: RSpec | null;
}

export interface HspacePhase {
  spec: RSpec;
  fails: FailStats; // sorted by count, descending
  nodes: Node[];
  il: Instance[];
  allocated: number;
  /** runs of equal spec in allocation order */
  specMap: Array<[RSpec, number]>;
}

export interface HspaceResult {
  diskTemplate: DiskTemplate;
  initial: CStats;
  badNodes: string[];
  badGroups: string[];
  tiered: HspacePhase;
  standard: HspacePhase;
  numInstances: number;
}

function rspecFromISpec(s: { memorySize: number; diskSize: number; cpuCount: number; spindleUse: number }): RSpec {
  return { mem: s.memorySize, dsk: s.diskSize, cpu: s.cpuCount, spn: s.spindleUse };
}

function sortReasons(f: FailStats): FailStats {
  return f
    .map((x, k) => ({ x, k }))
    .sort((a, b) => b.x[1] - a.x[1] || a.k - b.k)
    .map((y) => y.x);
}

function tieredSpecMap(ixes: Instance[]): Array<[RSpec, number]> {
  const out: Array<[RSpec, number]> = [];
  for (const i of [...ixes].reverse()) {
    const s = specOf(i);
    const last = out[out.length - 1];
    if (last && last[0].mem === s.mem && last[0].dsk === s.dsk && last[0].cpu === s.cpu && last[0].spn === s.spn) last[1]++;
    else out.push([s, 1]);
  }
  return out;
}

/** Run hspace's tiered and standard allocation on a loaded cluster. */
export function hspace(cd: ClusterData, o: HspaceOptions = {}): HspaceResult {
  const ipol = cd.ipolicy;
  const dtDefault = ipol.diskTemplates[0];
  if (!dtDefault) throw new HtoolsError("null list of disk templates received from cluster", "EHSPACE");
  const dt = o.diskTemplate ?? dtDefault;
  const reqNodes = requiredNodes(dt);
  const su = o.spindleUse ?? ipol.std.spindleUse;
  const nodes = cd.nodes;
  const il = cd.instances;
  const algOpts: AlgOptions = { ...o, capacityRun: new CapacityRun() };
  const badNodes = nodes.filter((n) => !n.offline && n.failN1);
  // Like Ganeti, the per-group redundancy is only evaluated when needed.
  const badGrps =
    o.independentGroups || o.computeBadGroups
      ? cd.groups
          .map((g) => g.idx)
          .filter((g) => !redundant(algOpts, { nodes, members: nodes.filter((n) => n.group === g).map((n) => n.idx) }, il))
      : [];
  let groups: Group[] = cd.groups.map((g) => ({ ...g }));
  if (!o.acceptExisting) for (const n of badNodes) groups[n.group]!.allocPolicy = "unallocable";
  let opts2 = algOpts;
  if (o.independentGroups) {
    for (const g of badGrps) groups[g]!.allocPolicy = "unallocable";
    opts2 = { ...algOpts, capacityIgnoreGroups: badGrps };
  }
  groups = groups.slice();
  const remaining = groups.some((g) => g.allocPolicy !== "unallocable");
  const stop = !o.acceptExisting && !(o.independentGroups && remaining) && badNodes.length > 0;
  const limit = o.maxLength === undefined || o.maxLength === -1 ? null : o.maxLength;
  const an = genAllocNodes(opts2, groups, fullNL(nodes), reqNodes, true);
  const tspecs = o.tieredSpec ? [o.tieredSpec] : ipol.minmax.map((m) => rspecFromISpec(m.max));
  if (tspecs.length === 0) throw new HtoolsError("Empty list of specs received from the cluster", "EHSPACE");
  const ini: AllocResult = { fails: [], nodes, il, ixes: [] };
  const stopRes: AllocResult = { fails: [["FailN1", 1]], nodes, il, ixes: [] };
  let tr: AllocResult;
  if (stop) tr = stopRes;
  else {
    tr = ini;
    for (const ts of tspecs) {
      const inst = instFromSpec(ts, dt, su);
      const cnt = tr.ixes.length;
      if (limit !== null && limit <= cnt) continue;
      tr = tieredAlloc(opts2, tr, limit === null ? null : limit - cnt, inst, an);
    }
  }
  const stdSpec = o.stdSpec ?? rspecFromISpec(ipol.std);
  const sr = stop ? stopRes : iterateAlloc(opts2, ini, limit, instFromSpec(stdSpec, dt, su), an);
  const phase = (spec: RSpec, r: AllocResult): HspacePhase => ({
    spec,
    fails: sortReasons(r.fails),
    nodes: r.nodes,
    il: r.il,
    allocated: r.ixes.length,
    specMap: tieredSpecMap(r.ixes),
  });
  return {
    diskTemplate: dt,
    initial: totalResources(nodes),
    badNodes: badNodes.map((n) => n.name),
    badGroups: badGrps.map((g) => cd.groups[g]!.name),
    tiered: phase(tspecs[0]!, tr),
    standard: phase(stdSpec, sr),
    numInstances: il.length,
  };
}

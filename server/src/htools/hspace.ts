// hspace: capacity planning by simulated allocation (docs/htools-internals.md, hspace).
import type { DiskTemplate, FailMode, Group, Instance, RSpec } from "./types.js";
import { HtoolsError } from "./types.js";
import { Node, availMem, availDisk, availCpu, unallocatedMem } from "./node.js";
import { createInstance, requiredNodes, shrinkByType, specOf } from "./instance.js";
import { compCV } from "./metrics.js";
import type { ClusterData } from "./loader.js";
import { sameFailureRun } from "./shrink-run.js";
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

interface AllocResult {
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

function iterateAlloc(
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

function sufficesShrinking(
  allocFn: (i: Instance) => AllocSolution,
  inst: Instance,
  fm: FailMode,
  memo: Map<string, Instance | null>,
  sameRun: (i: Instance, fm: FailMode, sol: AllocSolution) => Instance[],
): Instance | null {
  // Ganeti's iterateOk: an element is produced only if its own shrink
  // succeeds.  `memo` caches the answer per (state, mode, start spec); the
  // answer for a spec is the answer for its shrunk spec once it fails with fm.
  // `sameRun` lists the specs after a failing one that fail the same way
  // (shrink-run.ts): they are stepped through without trial allocations.
  const visited: string[] = [];
  let cur = inst;
  let result: Instance | null | undefined;
  const seen = (i: Instance): boolean => {
    const key = fm + "/" + specKey(i);
    if (memo.has(key)) {
      result = memo.get(key)!;
      return true;
    }
    visited.push(key);
    return false;
  };
  for (;;) {
    if (seen(cur)) break;
    let next = shrinkByType(cur, fm);
    if (!next) {
      result = null;
      break;
    }
    const sol = allocFn(cur);
    if (sol.solution) {
      result = cur;
      break;
    }
    if (!sol.failures.includes(fm)) {
      result = null;
      break;
    }
    for (const s of sameRun(cur, fm, sol)) {
      // s is next: it fails as cur did, so the loop would go on from it
      if (seen(s)) break;
      next = shrinkByType(s, fm);
      if (!next) {
        result = null;
        break;
      }
    }
    if (result !== undefined) break;
    cur = next!; // (set by the last shrink, which was not null)
  }
  for (const k of visited) memo.set(k, result!);
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
  }
  const stack: Frame[] = [];
  const TRIAL: AlgOptions = { ...opts, capacity: false };
  // The memos of the last few states, most recent first.  (Not a WeakMap on
  // the states: a scavenge keeps every entry whose key has reached the old
  // generation, and with it the trial solutions, until a full collection.)
  // Frames of one state are popped one after the other, so a few suffice.
  type Memo = { nodes: Node[]; il: Instance[]; m: Map<string, AllocSolution>; shrink: Map<string, Instance | null> };
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
      stack.push({ res, newlimit, newinst: inst, errs });
      // Without a limit, iterateAlloc returns after a trial allocation that
      // failed on res's state, with its failure counts.  Without FailN1
      // among them no candidate passed its node checks (FailN1 counts those
      // the capacity check dropped), so the counts are those of a trial
      // without capacity checks, and a spec that fails such a trial the
      // same way makes iterateAlloc return the same result.  The next
      // shrink steps that are certain to (shrink-run.ts) are recorded as
      // if searched: a frame each, with this one's counts.
      let last = inst;
      if (limit === null && !res.fails.some(([m, c]) => m === "FailN1" && c > 0))
        for (const s of sameFailureRun(TRIAL, fullNL(res.nodes), an, inst, mode)) {
          stack.push({ res, newlimit, newinst: s, errs });
          last = s;
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
    const allocFn = (i: Instance): AllocSolution => {
      const key = specKey(i);
      const hit = cache.get(key);
      if (hit) return hit;
      let r: AllocSolution;
      try {
        r = tryAlloc(opts, fullNL(f.res.nodes), f.res.il, i, an);
      } catch (e) {
        if (!(e instanceof HtoolsError)) throw e;
        r = { failures: [], allocs: 0, solution: null, log: [] };
      }
      cache.set(key, r);
      return r;
    };
    // (a failure without FailN1: as above, that of a trial without capacity checks)
    const sameRun = (i: Instance, fm: FailMode, sol: AllocSolution): Instance[] =>
      sol.failures.includes("FailN1") ? [] : sameFailureRun(TRIAL, fullNL(f.res.nodes), an, i, fm);
    let ni: Instance | null = null;
    for (const fm of [...f.errs].reverse()) {
      ni = sufficesShrinking(allocFn, f.newinst, fm, memo.shrink, sameRun);
      if (ni) break;
    }
    if (ni) call = { r: f.res, limit: f.newlimit, inst: ni };
    else ret = f.res;
  }
}

function instFromSpec(spec: RSpec, dt: DiskTemplate, su: number): Instance {
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

// tryAlloc with the global N+1 capacity predicate (alloc.ts) without building
// every candidate.  Ganeti's semantics are kept: the candidates of a
// collection (all single nodes; the secondaries of one primary) are taken in
// order of their metric, ties to the later one in enumeration order, and the
// first one the predicate accepts is the collection's solution; each one it
// rejects counts as FailN1.  Only the candidates handed to the predicate, and
// the chosen ones, are built as nodes.
//
// Pairs: a pair's metric is the reference's incremental arithmetic (Ganeti's
// updateStatistics over the primary's change, then the secondary's, then the
// weighted sum: metrics.ts updateStatsInto and cvFromStats) on probe values,
// which are bit-identical to the built nodes' values (probe.ts); the
// exclusion map statistic, an integer, is the state's plus the primary's new
// (location, exclusion tag) keys that already exist.  So every metric is the
// reference's bit for bit, and each primary's candidates are sorted exactly.
//
// Single nodes: the reference metric is compCV of the whole node list, which
// is not incremental, so candidates are ranked with the shifted-sum evaluator
// (as tryAllocSingleProbe) and scored exactly only as the predicate walks
// down the ranking: the next exactly scored candidate is handed to the
// predicate only when every unscored one ranks more than the ranking's
// tolerance above it (so its exact metric is larger).
import type { FailMode, Instance } from "./types.js";
import { FAIL_MODES, isFail } from "./types.js";
import { Node, addPriEx, addSec, locExclPairs } from "./node.js";
import { instMatchesPolicy } from "./instance.js";
import {
  KIND,
  MAP_COMPONENT,
  NCOMP,
  ONLINE,
  ScoreState,
  WEIGHTS,
  clusterStats,
  compCVWith,
  exclMapDelta,
  nodeValues,
  statValue,
  updateStatsInto,
} from "./metrics.js";
import type { Stats } from "./metrics.js";
import { probeAddPri, probeAddSec } from "./probe.js";
import { singleScoreState, tryAllocPairsProbe } from "./alloc-probe.js";
import { failureCounts, type AllocElement, type AllocSolution } from "./alloc.js";

const W = Float64Array.from(WEIGHTS);
const XP = new Float64Array(NCOMP);
const YP = new Float64Array(NCOMP);
const YS = new Float64Array(NCOMP);
const S2 = new Float64Array(NCOMP);
const V2 = new Float64Array(NCOMP);
const TERMS = new Float64Array(NCOMP);
const TOL_ABS = 1e-9;
const TOL_REL = 1e-11;
/** Pair candidates the walk selects one at a time before it sorts the rest. */
const SELECTED = 4;

type Pred = (e: AllocElement) => boolean;

/** Whether the checked fast paths apply: no forthcoming instance, no exclusive storage, every candidate online. */
export function checkedSearchApplies(
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  cands: readonly number[],
): boolean {
  if (inst.forthcoming) return false;
  for (let j = 0; j < members.length; j++) if (nodes[members[j]!]!.exclStorage) return false;
  for (let j = 0; j < cands.length; j++) if (nodes[cands[j]!]!.offline) return false;
  return true;
}

function compact(counts: Map<FailMode, number>): FailMode[] {
  const failures: FailMode[] = [];
  for (const m of FAIL_MODES) if ((counts.get(m) ?? 0) > 0) failures.push(m);
  failureCounts.set(failures, counts);
  return failures;
}

const bump = (counts: Map<FailMode, number>, m: FailMode, c: number): void => {
  if (c > 0) counts.set(m, (counts.get(m) ?? 0) + c);
};

/** The exclusion map statistic's growth when `keys` are added one by one to the map m (an exact integer). */
function mapGrowth(m: Map<string, number>, keys: readonly string[]): number {
  let d = 0;
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j]!;
    let present = m.has(key);
    for (let q = 0; q < j && !present; q++) if (keys[q] === key) present = true;
    if (present) d++;
  }
  return d;
}

function locScoreOf(p: Node, s: Node): number {
  let c = 0;
  for (const t of p.locationTags) if (s.locationTags.has(t)) c++;
  return c;
}

/** One primary's change, for one location score of the instance: its stats row or failure. */
interface PriRow {
  fail: FailMode | null;
  inst: Instance;
  s: Float64Array;
  v: Float64Array;
  mapVal: number;
  /** each component's weighted term of the metric with s and v as they are */
  terms: Float64Array;
  /**
   * Whether a component the secondary leaves as it is keeps its term: every
   * std-dev component has a finite sum over a positive count (then
   * updateStatsInto's arithmetic for a change x -> x, x finite, returns the
   * sum and the variance unchanged; a sum component gains +0, which changes
   * no term's value in the metric's sum).
   */
  keeps: boolean;
}

/**
 * A secondary's probe (probeAddSec) for the instance, whose result depends
 * on the primary only through the peer memory the secondary already holds
 * for it (planAddSec reads the primary's index only there, and neither the
 * instance's primary nor its location score): memoised per (secondary,
 * that amount).  `diff`: the components updateStatsInto changes (those of
 * the secondary's kind, online or offline, whose value is not the same
 * finite number before and after).
 */
interface SecProbe {
  peem: number;
  fail: FailMode | null;
  y: Float64Array;
  diff: number[];
}

/** A pair candidate: secondary s (k-th of primary number pi, node p), its metric and instance. */
interface PairCand {
  pi: number;
  p: number;
  s: number;
  k: number;
  metric: number;
  inst: Instance;
}

/**
 * tryAlloc over `pairs` (primary, its secondaries) with the predicate:
 * Ganeti's sum over primaries of each primary's collectionToSolution.
 * `members`: the nodes the metric is computed over (alloc.ts's NL).
 *
 * The predicate is a pure function of the candidate (the N+1 check of the
 * state it makes), so the order it is asked in changes nothing but the time.
 * Each primary's solution is its first accepted candidate in its own order
 * (metric, ties to the later one), and the sum keeps the least metric, ties
 * to the later primary.  All candidates are walked in one order that
 * extends every primary's (metric, then the later primary, then the later
 * candidate): the first accepted candidate is then the sum's solution (every
 * candidate before it was rejected, so every other primary's solution comes
 * after it in that order: a larger metric, or an equal one of an earlier
 * primary).  The walk stops there; the success and FailN1 counts, which
 * need every primary's first accepted candidate, are completed only when
 * read (the solution's `failures` and `allocs`: a multi-allocation that
 * succeeds reads neither), by the same predicate on the same candidates.
 */
export function tryAllocPairsChecked(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  pairs: ReadonlyArray<readonly [number, readonly number[]]>,
  pred: Pred,
): AllocSolution {
  const stats: Stats = clusterStats(members.map((i) => nodes[i]!));
  const baseMap = statValue(stats, MAP_COMPONENT);
  const counts = new Map<FailMode, number>();
  const xs: Array<Float64Array | undefined> = [];
  const valsOf = (i: number): Float64Array => {
    let a = xs[i];
    if (a === undefined) {
      a = new Float64Array(NCOMP);
      nodeValues(nodes[i]!, a);
      xs[i] = a;
    }
    return a;
  };
  const probes: Array<SecProbe[] | undefined> = [];
  const secProbe = (sn: Node, ninst: Instance, p: number): SecProbe => {
    const peem = sn.peers.get(p) ?? 0;
    let list = probes[sn.idx];
    if (list === undefined) probes[sn.idx] = list = [];
    for (let j = 0; j < list.length; j++) if (list[j]!.peem === peem) return list[j]!;
    const fail = probeAddSec(false, false, sn, ninst, p, YS);
    const e: SecProbe = { peem, fail, y: YS, diff: [] };
    if (fail === null) {
      e.y = Float64Array.from(YS);
      const x = valsOf(sn.idx);
      const online = !sn.offline;
      for (let q = 0; q < NCOMP; q++)
        if (KIND[q] !== 2 && ONLINE[q] === online && !(x[q] === e.y[q] && Number.isFinite(x[q]!))) e.diff.push(q);
    }
    list.push(e);
    return e;
  };
  const cands: PairCand[] = [];
  let nan = false;
  for (let pi = 0; pi < pairs.length; pi++) {
    const [p, ss] = pairs[pi]!;
    const pn = nodes[p]!;
    const pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
    if (isFail(pol)) {
      bump(counts, pol, ss.length);
      continue;
    }
    const hasLoc = pn.locationTags.size > 0;
    nodeValues(pn, XP);
    const rows: Array<PriRow | undefined> = [];
    const rowFor = (ls: number): PriRow => {
      let r = rows[ls];
      if (r !== undefined) return r;
      const ninst: Instance = { ...inst, locationScore: ls, pNode: p, sNode: -1 };
      const fail = probeAddPri(force, pn, ninst, YP);
      r = {
        fail,
        inst: ninst,
        s: new Float64Array(NCOMP),
        v: new Float64Array(NCOMP),
        mapVal: baseMap,
        terms: new Float64Array(NCOMP),
        keeps: true,
      };
      if (fail === null) {
        updateStatsInto(stats, XP, YP, 0, !pn.offline, r.s, r.v, 0);
        if (!pn.offline) r.mapVal = baseMap + mapGrowth(stats.map, locExclPairs(pn, ninst));
        for (let q = 0; q < NCOMP; q++) {
          r.terms[q] = W[q]! * (KIND[q] === 1 ? r.s[q]! : KIND[q] === 0 ? Math.sqrt(r.v[q]!) : r.mapVal);
          if (KIND[q] === 0 && !(Number.isFinite(r.s[q]!) && stats.n[q]! > 0)) r.keeps = false;
        }
      }
      rows[ls] = r;
      return r;
    };
    for (let k = 0; k < ss.length; k++) {
      const s = ss[k]!;
      const sn = nodes[s]!;
      const row = rowFor(hasLoc ? locScoreOf(pn, sn) : 0);
      if (row.fail !== null) {
        bump(counts, row.fail, 1);
        continue;
      }
      const sp = secProbe(sn, row.inst, p);
      if (sp.fail !== null) {
        bump(counts, sp.fail, 1);
        continue;
      }
      // updateStats(st1, s, ns) then cvFromStats, as alloc.ts's allocateOnPrimary
      const x = valsOf(s);
      let m = 0;
      if (row.keeps) {
        // only the components the secondary changes: updateStatsInto's arithmetic for each
        TERMS.set(row.terms);
        const { diff, y } = sp;
        for (let j = 0; j < diff.length; j++) {
          const q = diff[j]!;
          const a = x[q]!;
          const b = y[q]!;
          const sk = row.s[q]!;
          if (KIND[q] === 1) TERMS[q] = W[q]! * (sk + (b - a));
          else {
            const n = stats.n[q]!;
            const ds = b - a;
            const dss = b * b - a * a;
            const dnnvar = n * dss - 2 * sk * ds - ds * ds;
            TERMS[q] = W[q]! * Math.sqrt(Math.max(0, row.v[q]! + dnnvar / (n * n)));
          }
        }
        for (let q = 0; q < NCOMP; q++) m = m + TERMS[q]!;
      } else {
        const st1: Stats = { n: stats.n, s: row.s, v: row.v, map: stats.map };
        updateStatsInto(st1, x, sp.y, 0, !sn.offline, S2, V2, 0);
        for (let q = 0; q < NCOMP; q++) m = m + W[q]! * (KIND[q] === 1 ? S2[q]! : KIND[q] === 0 ? Math.sqrt(V2[q]!) : row.mapVal);
      }
      if (m !== m) nan = true;
      cands.push({ pi, p, s, k, metric: m, inst: row.inst });
    }
  }
  const element = (c: PairCand): AllocElement => {
    const ninst: Instance = { ...c.inst, sNode: c.s };
    const np = addPriEx(force, nodes[c.p]!, ninst);
    const ns = isFail(np) ? np : addSec(nodes[c.s]!, ninst, c.p);
    if (isFail(np) || isFail(ns)) throw new Error("hail: probe accepted a pair the reference rejects");
    return { changed: [np, ns], inst: ninst, nodes: [np, ns], metric: c.metric };
  };
  // (a NaN metric has no place in an order: each primary's walk and the sum as Ganeti does them)
  if (nan) return eagerPairs(cands, pairs.length, counts, element, pred);
  const done = new Uint8Array(pairs.length);
  let dropped = 0;
  // cands[0, pos) is walked, in order; the first few are selected one at a
  // time (the predicate usually accepts one of them), the rest sorted once.
  let pos = 0;
  let sorted = false;
  const next = (): PairCand | null => {
    if (pos >= cands.length) return null;
    if (!sorted && pos >= SELECTED) {
      const rest = cands.slice(pos).sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : b.pi - a.pi || b.k - a.k));
      for (let j = 0; j < rest.length; j++) cands[pos + j] = rest[j]!;
      sorted = true;
    }
    if (!sorted) {
      let b = pos;
      let bc = cands[b]!;
      for (let j = pos + 1; j < cands.length; j++) {
        const c = cands[j]!;
        if (c.metric < bc.metric || (c.metric === bc.metric && (c.pi > bc.pi || (c.pi === bc.pi && c.k > bc.k)))) {
          b = j;
          bc = c;
        }
      }
      cands[b] = cands[pos]!;
      cands[pos] = bc;
    }
    return cands[pos++]!;
  };
  /** Walk on until the next accepted candidate (null: none left). */
  const walk = (): AllocElement | null => {
    for (let c = next(); c !== null; c = next()) {
      if (done[c.pi] === 1) continue;
      const el = element(c);
      if (pred(el)) {
        done[c.pi] = 1;
        return el;
      }
      dropped++;
    }
    return null;
  };
  const solution = walk();
  let failures: FailMode[] | null = null;
  const complete = (): FailMode[] => {
    if (failures === null) {
      while (walk() !== null);
      bump(counts, "FailN1", dropped);
      failures = compact(counts);
    }
    return failures;
  };
  return {
    solution,
    get failures() {
      return complete();
    },
    get allocs() {
      complete();
      return cands.length - dropped;
    },
    log: [],
  };
}

/** Bound on the magnitude of the numbers a bounded node or instance holds (bounded). */
const BIG = 1e20;
const small = (x: number): boolean => x >= -BIG && x <= BIG;
/** A denominator of a node value: bounded away from zero (the zero a value special-cases is allowed by the caller). */
const divisor = (x: number): boolean => small(x) && (x >= 1 / BIG || x <= -1 / BIG);
const boundedNodes = new WeakMap<Node, boolean>();

/**
 * Whether every number of node n that its values and its placement probes
 * read is finite and at most BIG in magnitude, and every divisor of a value
 * at least 1/BIG in magnitude (memoised per node object: nodes are never
 * changed in place).
 */
function boundedNode(n: Node): boolean {
  let r = boundedNodes.get(n);
  if (r !== undefined) return r;
  r =
    small(n.nMem) &&
    small(n.iMem) &&
    small(n.fMem) &&
    small(n.fMemForth) &&
    small(n.xMem) &&
    small(n.rMem) &&
    small(n.fDsk) &&
    small(n.fDskForth) &&
    small(n.loDsk) &&
    small(n.nCpu) &&
    small(n.uCpu) &&
    small(n.uCpuForth) &&
    small(n.fSpindles) &&
    small(n.fSpindlesForth) &&
    small(n.instSpindles) &&
    small(n.instSpindlesForth) &&
    small(n.hiCpu) &&
    small(n.pMem) &&
    small(n.pMemForth) &&
    small(n.pDsk) &&
    small(n.pDskForth) &&
    small(n.pRem) &&
    small(n.pCpu) &&
    small(n.pCpuForth) &&
    small(n.mDsk) &&
    small(n.locationScore) &&
    small(n.iPolicy.vcpuRatio) &&
    divisor(n.tMem) &&
    divisor(n.tCpu) &&
    divisor(n.tCpuSpeed) &&
    divisor(n.hiSpindles) &&
    // (a zero total disk or spindle count gives the value 1: computeNewPDsk)
    (n.tDsk === 0 || divisor(n.tDsk)) &&
    (n.tSpindles === 0 || divisor(n.tSpindles));
  for (let k = 0; k < 4 && r; k++) r = divisor(n.utilPool[k]!) && small(n.utilLoad[k]!) && small(n.utilLoadForth[k]!);
  if (r) for (const m of n.peers.values()) if (!small(m)) r = false;
  boundedNodes.set(n, r);
  return r;
}

function boundedInstance(inst: Instance): boolean {
  if (!(small(inst.mem) && small(inst.dsk) && small(inst.vcpus) && small(inst.spindleUse) && small(inst.locationScore))) return false;
  for (let k = 0; k < 4; k++) if (!small(inst.util[k]!)) return false;
  for (const d of inst.disks) if (!small(d.size) || (d.spindles !== null && !small(d.spindles))) return false;
  return true;
}

/**
 * tryAllocPairsChecked's solution from the unchecked pair search, when the
 * predicate accepts that search's choice, for callers that read only the
 * solution; null otherwise (then tryAllocPairsChecked decides).
 *
 * Exact when no candidate's metric is NaN: the unchecked search's choice
 * (Ganeti's tryAlloc without the predicate: least metric, ties to the
 * later primary, then the later secondary) is then the first candidate of
 * tryAllocPairsChecked's walk, and if the predicate accepts it, it is that
 * walk's solution.  No metric is NaN when every online member node and
 * the instance are bounded (boundedNode, boundedInstance; offline nodes
 * count only in the offline components, sums of their instance counts, and
 * every candidate is online): every value a probe
 * or a node gives is then a sum of a few numbers of at most BIG divided by
 * at most two divisors of at least 1/BIG, or a count, so at most ~1e62;
 * their squares and sums over any node count stay finite, the only other
 * divisors are node counts (at least one online node: the primary), and
 * sqrt takes max(0, ...) of a finite number.
 *
 * The success and failure counts are tryAllocPairsChecked's, computed when
 * first read (`pairs`: its candidate lists).
 */
export function tryAllocPairsSolution(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  listed: readonly number[],
  pairs: () => ReadonlyArray<readonly [number, readonly number[]]>,
  pred: Pred,
): AllocSolution | null {
  const w = uncheckedPairChoice(force, nodes, members, inst, listed);
  return w === null ? null : pairsFrom(force, nodes, members, inst, pairs, pred, w);
}

/** The unchecked pair search's choice, when the inputs are bounded and its metric finite (the case tryAllocPairsSolution's argument covers); else null. */
function uncheckedPairChoice(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  listed: readonly number[],
): AllocElement | null {
  if (!boundedSearch(nodes, members, inst)) return null;
  const q = tryAllocPairsProbe(force, nodes, members, inst, listed);
  if (q === null || q.solution === null || !Number.isFinite(q.solution.metric)) return null;
  return q.solution;
}

/** The solution `w` (the unchecked search's choice) if the predicate accepts it, with the checked search's counts when read; else null. */
function pairsFrom(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  pairs: () => ReadonlyArray<readonly [number, readonly number[]]>,
  pred: Pred,
  w: AllocElement,
): AllocSolution | null {
  if (!pred(w)) return null;
  let full: AllocSolution | null = null;
  const counts = (): AllocSolution => (full ??= tryAllocPairsChecked(force, nodes, members, inst, pairs(), pred));
  return {
    solution: w,
    get failures() {
      return counts().failures;
    },
    get allocs() {
      return counts().allocs;
    },
    log: [],
  };
}

/** tryAllocPairsChecked's walk as Ganeti's: each primary's candidates in its order, then the sum. */
function eagerPairs(
  cands: PairCand[],
  primaries: number,
  counts: Map<FailMode, number>,
  element: (c: PairCand) => AllocElement,
  pred: Pred,
): AllocSolution {
  const per: PairCand[][] = Array.from({ length: primaries }, () => []);
  for (const c of cands) per[c.pi]!.push(c);
  let best: AllocElement | null = null;
  let allocs = 0;
  for (const cs of per) {
    // collectionToSolution: by metric, ties to the later candidate
    cs.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : b.k - a.k));
    let chosen: AllocElement | null = null;
    let dropped = 0;
    for (const c of cs) {
      const el = element(c);
      if (pred(el)) {
        chosen = el;
        break;
      }
      dropped++;
    }
    bump(counts, "FailN1", dropped);
    allocs += cs.length - dropped;
    // sumAllocs: a later primary's solution wins ties
    if (chosen !== null && (best === null || !(best.metric < chosen.metric))) best = chosen;
  }
  return { failures: compact(counts), allocs, solution: best, log: [] };
}

/**
 * tryAlloc over single nodes with the predicate: Ganeti's
 * collectionToSolution over allocateOnSingle's candidates, whose metric is
 * compCV of `members` with the candidate in place.
 */
export function tryAllocSingleChecked(
  force: boolean,
  nodes: Node[],
  members: readonly number[],
  inst: Instance,
  single: readonly number[],
  pred: Pred,
): AllocSolution {
  const w = singleWalk(force, nodes, members, inst, single);
  return walkSingle(w, w.next(), pred);
}

/**
 * tryAllocSingleChecked's candidates in the reference's order: `next` gives
 * the next one (built), null when none is left.  It reads the score state
 * of `members` (singleScoreState), which the next search of another node
 * list may change in place: a walk is finished before that.
 */
interface SingleWalk {
  counts: Map<FailMode, number>;
  ranked: number;
  next: () => AllocElement | null;
}

function singleWalk(force: boolean, nodes: Node[], members: readonly number[], inst: Instance, single: readonly number[]): SingleWalk {
  const st = singleScoreState(nodes, members);
  const counts = new Map<FailMode, number>();
  const zero = ScoreState.newDelta();
  const v = new Float64Array(NCOMP);
  const exclTags = inst.exclTags.length > 0;
  const mapCount = (key: string): number => st.mapKeys.get(key) ?? 0;
  const ranked: Array<{ p: number; k: number; approx: number }> = [];
  for (let k = 0; k < single.length; k++) {
    const p = single[k]!;
    const pn = nodes[p]!;
    const pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
    const r = isFail(pol) ? pol : probeAddPri(force, pn, inst, v);
    if (r !== null) {
      bump(counts, r, 1);
      continue;
    }
    // (the exclusion map's growth, an exact integer, on top of scoreWith's unchanged map)
    const dm = exclTags && pn.locationTags.size > 0 ? exclMapDelta(pn, inst, mapCount) : 0;
    const approx = st.scoreWith(zero, p, v, -1, null) + (dm === 0 ? 0 : W[MAP_COMPONENT]! * dm);
    ranked.push({ p, k, approx });
  }
  ranked.sort((a, b) => a.approx - b.approx || a.k - b.k);
  const pool: Array<{ k: number; approx: number; metric: number; np: Node; p: number }> = [];
  let next = 0;
  return {
    counts,
    ranked: ranked.length,
    next: () => {
      // score every candidate that may rank at or below the pool's best
      for (;;) {
        if (next >= ranked.length) break;
        if (pool.length > 0) {
          const a = pool[0]!.approx;
          if (ranked[next]!.approx > a + TOL_ABS + TOL_REL * Math.abs(a)) break;
        }
        const c = ranked[next++]!;
        const np = addPriEx(force, nodes[c.p]!, inst);
        if (isFail(np)) throw new Error("hail: probe accepted a node the reference rejects");
        const metric = compCVWith(nodes, members, [np], (i) => st.vals[i]!);
        pool.push({ k: c.k, approx: c.approx, metric, np, p: c.p });
        // the pool's best first: by metric, ties to the later candidate
        pool.sort((x, y) => (x.metric < y.metric ? -1 : x.metric > y.metric ? 1 : y.k - x.k));
      }
      if (pool.length === 0) return null;
      const c = pool.shift()!;
      return { changed: [c.np], inst: { ...inst, pNode: c.p, sNode: -1 }, nodes: [c.np], metric: c.metric };
    },
  };
}

/** The walk's solution from its candidate `first` on: the first one the predicate accepts. */
function walkSingle(w: SingleWalk, first: AllocElement | null, pred: Pred): AllocSolution {
  let dropped = 0;
  let chosen: AllocElement | null = null;
  for (let el = first; el !== null; el = w.next()) {
    if (pred(el)) {
      chosen = el;
      break;
    }
    dropped++;
  }
  bump(w.counts, "FailN1", dropped);
  return { failures: compact(w.counts), allocs: w.ranked - dropped, solution: chosen, log: [] };
}

/**
 * A checked search whose predicate is asked only when its solution is
 * needed (alloc.ts findBestAllocGroup for solutions only): `bound` is the
 * least metric of any candidate, finite (so no less than the solution's,
 * whichever candidate the predicate accepts); `finish` gives the checked
 * search's solution (and its counts), at once, before any other search.
 */
export interface DeferredSearch {
  bound: number;
  finish: () => AllocSolution;
}

/** Whether every online member node and the instance are bounded (tryAllocPairsSolution: then no metric is NaN). */
function boundedSearch(nodes: readonly Node[], members: readonly number[], inst: Instance): boolean {
  if (!boundedInstance(inst)) return false;
  for (let j = 0; j < members.length; j++) {
    const n = nodes[members[j]!]!;
    // (an offline node counts only in the offline components: its instance counts)
    if (!n.offline && !boundedNode(n)) return false;
  }
  return true;
}

/** tryAllocSingleChecked, deferred; null when a metric could be NaN or there is no candidate (then run it as it is). */
export function tryAllocSingleDeferred(
  force: boolean,
  nodes: Node[],
  members: readonly number[],
  inst: Instance,
  single: readonly number[],
  pred: Pred,
): DeferredSearch | null {
  if (!boundedSearch(nodes, members, inst)) return null;
  const w = singleWalk(force, nodes, members, inst, single);
  const first = w.next();
  if (first === null || !Number.isFinite(first.metric)) return null;
  return { bound: first.metric, finish: () => walkSingle(w, first, pred) };
}

/** tryAllocPairsSolution, deferred; null as tryAllocSingleDeferred. */
export function tryAllocPairsDeferred(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  listed: readonly number[],
  pairs: () => ReadonlyArray<readonly [number, readonly number[]]>,
  pred: Pred,
): DeferredSearch | null {
  const w = uncheckedPairChoice(force, nodes, members, inst, listed);
  if (w === null) return null;
  return {
    bound: w.metric,
    finish: () =>
      pairsFrom(force, nodes, members, inst, pairs, pred, w) ?? tryAllocPairsChecked(force, nodes, members, inst, pairs(), pred),
  };
}

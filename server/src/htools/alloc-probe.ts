// hail/hspace two-node allocation (tryAlloc over primary/secondary pairs)
// without building every candidate.  Used when no node has location tags and
// no global capacity predicate applies; alloc.ts keeps the reference path.
//
// Exactness:
//  * the metric of a pair is computed with the reference arithmetic (Ganeti's
//    incremental updateStats over the primary's and then the secondary's
//    change, metrics.ts), from probe values (probe.ts) that are bit-identical
//    to the built nodes' values, so scores and ties are unchanged;
//  * the success/failure counts are exact: a pair's outcome depends on the
//    primary only through the secondary's peer entry for it, so each
//    secondary is probed once for "no shared instance" and once per actual
//    peer;
//  * primaries are visited in increasing order of a lower bound of their best
//    pair's metric (the same bound as hbal's, balance-probe.ts) and the search
//    stops when the bound exceeds the best metric found; the winner is, as in
//    Ganeti, the last pair in enumeration order among those with the lowest
//    metric.
import type { FailMode, Instance } from "./types.js";
import { FAIL_MODES, isFail } from "./types.js";
import { Node, addPriEx, addSec } from "./node.js";
import { instMatchesPolicy } from "./instance.js";
import { KIND, MAP_COMPONENT, NCOMP, ONLINE, ScoreState, WEIGHTS, clusterStats, nodeValues, statValue, updateStatsValues, type Stats } from "./metrics.js";
import { RoleAgg, STD, TERMS, boundMargin, nodeTerms, resources } from "./bounds.js";
import { probeAddPri, probeAddSec } from "./probe.js";
import { failureCounts, type AllocElement, type AllocSolution } from "./alloc.js";

const W = Float64Array.from(WEIGHTS);
const V = new Float64Array(NCOMP);

/** Whether the fast path applies: no location tags (map statistic, location scores), no forthcoming instance. */
export function pairSearchApplies(nodes: readonly Node[], members: readonly number[], inst: Instance): boolean {
  if (inst.forthcoming || inst.dsrdLocTags.size > 0) return false;
  for (const i of members) {
    const n = nodes[i]!;
    if (n.locationTags.size > 0 || n.exclStorage) return false;
  }
  return true;
}

/** Secondary-role bound aggregates over the candidate secondaries (bounds.ts), with their shift. */
interface SecAgg {
  agg: RoleAgg;
  shift: Float64Array;
}

function secAgg(nodes: readonly Node[], secs: readonly number[], stats: Stats): SecAgg {
  const agg = new RoleAgg();
  const shift = new Float64Array(NCOMP);
  const vals = new Float64Array(NCOMP);
  const cu = new Float64Array(2);
  const terms = new Float64Array(TERMS);
  for (const k of STD) {
    shift[k] = stats.s[k]! / stats.n[k]!;
    agg.reset(k);
  }
  for (const i of secs) {
    const t = nodes[i]!;
    nodeValues(t, vals);
    for (const k of STD) agg.add(k, nodeTerms(t, k, false, stats.n[k]!, shift[k]!, vals[k]! - shift[k]!, cu, terms, 0), terms, 0);
  }
  for (const k of STD) agg.close(k, stats.n[k]!);
  return { agg, shift };
}

/** Lower bound of the metric of every pair with this primary change (st1), whatever the secondary. */
function pairBound(st1: Stats, a: SecAgg, res: Float64Array, mapVal: number): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) {
    if (KIND[k] === 1) r += W[k]! * st1.s[k]!;
    else if (KIND[k] === 2) r += W[k]! * mapVal;
    else {
      const n = st1.n[k]!;
      const v = a.agg.variance(k, n, st1.s[k]! / n - a.shift[k]!, st1.v[k]!, res[k]!);
      r += W[k]! * Math.sqrt(v > 0 ? v : 0);
    }
  }
  return boundMargin(r);
}

/**
 * The reference metric of st1 updated with node values x -> y: the same
 * operations as cvFromStats(updateStatsValues(...)), fused so that the ~10⁶
 * pairs of a large hail request allocate nothing.
 */
function pairMetric(st1: Stats, x: Float64Array, y: Float64Array, yo: number, mapVal: number): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) {
    let val: number;
    const kind = KIND[k];
    if (kind === 1) val = ONLINE[k] ? st1.s[k]! + (y[yo + k]! - x[k]!) : st1.s[k]!;
    else if (kind === 0) {
      const n = st1.n[k]!;
      const s = st1.s[k]!;
      const ds = y[yo + k]! - x[k]!;
      const dss = y[yo + k]! * y[yo + k]! - x[k]! * x[k]!;
      const dnnvar = n * dss - 2 * s * ds - ds * ds;
      val = Math.sqrt(Math.max(0, st1.v[k]! + dnnvar / (n * n)));
    } else val = mapVal;
    r = r + W[k]! * val;
  }
  return r;
}

/** What a pair search needs of a node state, whatever the instance (hspace asks many times per state). */
interface Context {
  members: readonly number[];
  listed: readonly number[];
  stats: Stats;
  /** group -> listed nodes in enumeration order (groups of one node left out: they have no pairs) */
  secsOf: Map<number, number[]>;
  aggs: Map<number, SecAgg>;
  /** node values by node index (listed nodes) */
  vals: Array<Float64Array | null>;
  /** the member node objects it was built from (the array may be reused with new nodes) */
  objs: Node[];
}
const contexts = new WeakMap<readonly Node[], Context>();

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function context(nodes: readonly Node[], members: readonly number[], listed: readonly number[]): Context {
  const c = contexts.get(nodes);
  if (c && sameList(c.members, members) && sameList(c.listed, listed) && c.objs.every((n, k) => nodes[members[k]!] === n)) return c;
  const stats = clusterStats(members.map((i) => nodes[i]!));
  const secsOf = new Map<number, number[]>();
  for (const i of listed) {
    const g = nodes[i]!.group;
    if (!secsOf.has(g)) secsOf.set(g, []);
    secsOf.get(g)!.push(i);
  }
  for (const [g, l] of secsOf) if (l.length < 2) secsOf.delete(g);
  const aggs = new Map<number, SecAgg>();
  for (const [g, secs] of secsOf) aggs.set(g, secAgg(nodes, secs, stats));
  const vals = new Array<Float64Array | null>(nodes.length).fill(null);
  for (const i of listed) {
    const a = new Float64Array(NCOMP);
    nodeValues(nodes[i]!, a);
    vals[i] = a;
  }
  const r = { members, listed, stats, secsOf, aggs, vals, objs: members.map((i) => nodes[i]!) };
  contexts.set(nodes, r);
  return r;
}

// Per-call scratch: each secondary's probe values for a primary it shares no instance with.
let baseBuf = new Float64Array(0);
let baseOk = new Uint8Array(0);


/**
 * tryAlloc over pairs where each primary's secondaries are all other listed
 * nodes of its group (genAllocNodes' shape), without a capacity predicate.
 * `listed` is genAllocNodes' candidate list.  Null when there is no pair.
 */
export function tryAllocPairsProbe(force: boolean, nodes: readonly Node[], members: readonly number[], inst0: Instance, listed: readonly number[]): AllocSolution | null {
  // Without location tags every candidate's location score is 0 (alloc.ts allocateOnPrimary).
  const inst: Instance = inst0.locationScore === 0 ? inst0 : { ...inst0, locationScore: 0 };
  const ctx = context(nodes, members, listed);
  const stats = ctx.stats;
  const counts = new Map<FailMode, number>();
  const fail = (m: FailMode, c: number): void => {
    if (c > 0) counts.set(m, (counts.get(m) ?? 0) + c);
  };
  let allocs = 0;
  // group -> candidate secondaries (in enumeration order), and the OK primaries
  const secsOf = ctx.secsOf;
  // the primaries, in enumeration order, with their number of secondaries
  const pairs: Array<[number, number]> = [];
  for (const i of listed) {
    const l = secsOf.get(nodes[i]!.group);
    if (l) pairs.push([i, l.length - 1]);
  }
  if (pairs.length === 0) return null;
  const okPrim: Array<{ p: number; pos: number; st1: Stats }> = [];
  const okSet = new Set<number>();
  const polMemo = new Map<unknown, ReturnType<typeof instMatchesPolicy>>();
  const yp = new Float64Array(NCOMP);
  for (let pos = 0; pos < pairs.length; pos++) {
    const [p, nss] = pairs[pos]!;
    const pn = nodes[p]!;
    const polKey = pn.exclStorage ? `x${pn.group}` : pn.iPolicy;
    let pol = polMemo.get(polKey);
    if (pol === undefined || pn.exclStorage) {
      pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
      polMemo.set(polKey, pol);
    }
    if (isFail(pol)) {
      fail(pol, nss);
      continue;
    }
    const r = probeAddPri(force, pn, inst, yp);
    if (r !== null) {
      fail(r, nss);
      continue;
    }
    okPrim.push({ p, pos, st1: updateStatsValues(stats, ctx.vals[p]!, yp, true) });
    okSet.add(p);
  }
  // Outcome counts: per secondary, the outcome for primaries it shares no
  // instance with, corrected for each peer.
  const okInGroup = new Map<number, number>();
  for (const o of okPrim) okInGroup.set(nodes[o.p]!.group, (okInGroup.get(nodes[o.p]!.group) ?? 0) + 1);
  const outcome = (r: FailMode | null): void => {
    if (r === null) allocs++;
    else fail(r, 1);
  };
  // A secondary's probe depends on the primary only through its peer entry
  // for it: keep the result for "no shared instance" per secondary.
  if (baseBuf.length < nodes.length * NCOMP) {
    baseBuf = new Float64Array(nodes.length * NCOMP);
    baseOk = new Uint8Array(nodes.length);
  }
  baseOk.fill(0, 0, nodes.length);
  for (const [g, secs] of secsOf) {
    const nOk = okInGroup.get(g) ?? 0;
    for (const s of secs) {
      const sn = nodes[s]!;
      const bv = baseBuf.subarray(s * NCOMP, (s + 1) * NCOMP);
      const base = probeAddSec(false, false, sn, inst, -1, bv);
      if (base === null) baseOk[s] = 1;
      let nBase = nOk - (okSet.has(s) ? 1 : 0);
      for (const p of sn.peers.keys()) {
        if (p === s || !okSet.has(p) || nodes[p]!.group !== g) continue;
        nBase--;
        outcome(probeAddSec(false, false, sn, inst, p, V));
      }
      if (base === null) allocs += nBase;
      else fail(base, nBase);
    }
  }
  // Best pair: primaries in increasing bound order.
  let best: { metric: number; pos: number; spos: number; p: number; s: number } | null = null;
  const mapVal = statValue(stats, MAP_COMPONENT);
  const aggs = ctx.aggs;
  const secRes = resources(inst, false, new Float64Array(NCOMP));
  const order = okPrim.map((o) => ({ o, lb: pairBound(o.st1, aggs.get(nodes[o.p]!.group)!, secRes, mapVal) })).sort((a, b) => a.lb - b.lb);
  for (const { o, lb } of order) {
    if (best !== null && lb > best.metric) break;
    const secs = secsOf.get(nodes[o.p]!.group)!;
    for (let spos = 0; spos < secs.length; spos++) {
      const s = secs[spos]!;
      if (s === o.p) continue;
      const sn = nodes[s]!;
      let m: number;
      if (sn.peers.has(o.p)) {
        if (probeAddSec(false, false, sn, inst, o.p, V) !== null) continue;
        m = pairMetric(o.st1, ctx.vals[s]!, V, 0, mapVal);
      } else {
        if (baseOk[s] === 0) continue;
        m = pairMetric(o.st1, ctx.vals[s]!, baseBuf, s * NCOMP, mapVal);
      }
      if (best === null || m < best.metric || (m === best.metric && (o.pos > best.pos || (o.pos === best.pos && spos > best.spos)))) best = { metric: m, pos: o.pos, spos, p: o.p, s };
    }
  }
  const failures: FailMode[] = [];
  for (const m of FAIL_MODES) if ((counts.get(m) ?? 0) > 0) failures.push(m);
  failureCounts.set(failures, counts);
  if (best === null) return { failures, allocs, solution: null, log: [] };
  // The winner, built with the reference primitives.
  const ninst: Instance = { ...inst, locationScore: 0, pNode: best.p, sNode: best.s };
  const np = addPriEx(force, nodes[best.p]!, ninst);
  const ns = isFail(np) ? np : addSec(nodes[best.s]!, ninst, best.p);
  if (isFail(np) || isFail(ns)) throw new Error("hail: probe search chose a pair the reference rejects");
  const el: AllocElement = { changed: [np, ns], inst: ninst, nodes: [np, ns], metric: best.metric };
  return { failures, allocs, solution: el, log: [] };
}

/**
 * tryAlloc over single nodes without a capacity predicate: every candidate is
 * probed and ranked with the shifted-sum evaluator; those within a tolerance
 * far above its rounding error of the best are re-scored with the reference
 * arithmetic (compCV of the whole node list, as alloc.ts does), so the choice
 * and the printed metric are the reference ones.  Ties: the last candidate in
 * enumeration order, as Ganeti's collectionToSolution.
 */
export function tryAllocSingleProbe(force: boolean, nodes: Node[], members: readonly number[], inst: Instance, single: readonly number[], exactMetric: (np: Node) => number): AllocSolution {
  const st = new ScoreState(nodes, [...members]);
  const counts = new Map<FailMode, number>();
  let allocs = 0;
  let best = Infinity;
  let near: Array<{ p: number; approx: number }> = [];
  const zero = ScoreState.newDelta();
  const polMemo = new Map<unknown, ReturnType<typeof instMatchesPolicy>>();
  for (const p of single) {
    const pn = nodes[p]!;
    let pol = polMemo.get(pn.iPolicy);
    if (pol === undefined || pn.exclStorage) {
      pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
      if (!pn.exclStorage) polMemo.set(pn.iPolicy, pol);
    }
    const r = isFail(pol) ? pol : probeAddPri(force, pn, inst, V);
    if (r !== null) {
      counts.set(r, (counts.get(r) ?? 0) + 1);
      continue;
    }
    allocs++;
    const approx = st.scoreWith(zero, p, V, -1, null);
    const lim = best + 1e-9 + 1e-11 * Math.abs(best);
    if (approx > lim) continue;
    if (approx < best) {
      best = approx;
      const l2 = best + 1e-9 + 1e-11 * Math.abs(best);
      if (near.length > 64) near = near.filter((c) => c.approx <= l2);
    }
    near.push({ p, approx });
  }
  const failures: FailMode[] = [];
  for (const m of FAIL_MODES) if ((counts.get(m) ?? 0) > 0) failures.push(m);
  failureCounts.set(failures, counts);
  const lim = best + 1e-9 + 1e-11 * Math.abs(best);
  let chosen: AllocElement | null = null;
  for (const c of near) {
    if (c.approx > lim) continue;
    const np = addPriEx(force, nodes[c.p]!, inst);
    if (isFail(np)) throw new Error("hail: probe accepted a node the reference rejects");
    const metric = exactMetric(np);
    // enumeration order: a later candidate wins ties
    if (chosen === null || !(chosen.metric < metric)) chosen = { changed: [np], inst: { ...inst, pNode: c.p, sNode: -1 }, nodes: [np], metric };
  }
  return { failures, allocs, solution: chosen, log: [] };
}

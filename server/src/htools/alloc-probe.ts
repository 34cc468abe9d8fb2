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
import { instMatchesPolicy, usesSecMem } from "./instance.js";
import { KIND, MAP_COMPONENT, NCOMP, ONLINE, ScoreState, WEIGHTS, clusterStats, nodeValues, statValue, statsOfValues, updateStatsInto, type Stats } from "./metrics.js";
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

const CU = new Float64Array(2);
const TERMBUF = new Float64Array(TERMS);

function secAgg(nodes: readonly Node[], secs: readonly number[], stats: Stats, values: ReadonlyArray<Float64Array | null>): SecAgg {
  const agg = new RoleAgg();
  const shift = new Float64Array(NCOMP);
  const cu = CU;
  const terms = TERMBUF;
  for (const k of STD) {
    shift[k] = stats.s[k]! / stats.n[k]!;
    agg.reset(k);
  }
  for (const i of secs) {
    const t = nodes[i]!;
    const vals = values[i]!;
    for (const k of STD) agg.add(k, nodeTerms(t, k, false, stats.n[k]!, shift[k]!, vals[k]! - shift[k]!, cu, terms, 0), terms, 0);
  }
  for (const k of STD) agg.close(k, stats.n[k]!);
  return { agg, shift };
}

/**
 * Statistics after a primary's change are kept flat: counts in sn (the
 * cluster's), sums and variances in ss/sv at offset o (the primary's node
 * index times NCOMP).
 */
/** Lower bound of the metric of every pair with this primary change, whatever the secondary. */
function pairBound(sn: Float64Array, ss: Float64Array, sv: Float64Array, o: number, a: SecAgg, res: Float64Array, mapVal: number): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) {
    if (KIND[k] === 1) r += W[k]! * ss[o + k]!;
    else if (KIND[k] === 2) r += W[k]! * mapVal;
    else {
      const n = sn[k]!;
      const v = a.agg.variance(k, n, ss[o + k]! / n - a.shift[k]!, sv[o + k]!, res[k]!);
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
function pairMetric(sn: Float64Array, ss: Float64Array, sv: Float64Array, o: number, x: Float64Array, y: Float64Array, yo: number, mapVal: number): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) r = r + W[k]! * pairComponent(k, sn, ss, sv, o, x, y, yo, mapVal);
  return r;
}

/** One component of pairMetric: the secondary going from x to y[yo..] on the primary's statistics row o. */
function pairComponent(k: number, sn: Float64Array, ss: Float64Array, sv: Float64Array, o: number, x: Float64Array, y: Float64Array, yo: number, mapVal: number): number {
  const kind = KIND[k];
  if (kind === 1) return ONLINE[k] ? ss[o + k]! + (y[yo + k]! - x[k]!) : ss[o + k]!;
  if (kind !== 0) return mapVal;
  const n = sn[k]!;
  const s = ss[o + k]!;
  const ds = y[yo + k]! - x[k]!;
  const dss = y[yo + k]! * y[yo + k]! - x[k]! * x[k]!;
  const dnnvar = n * dss - 2 * s * ds - ds * ds;
  return Math.sqrt(Math.max(0, sv[o + k]! + dnnvar / (n * n)));
}

/** What a pair search needs of a node state, whatever the instance (hspace asks many times per state). */
interface Context {
  members: readonly number[];
  listed: readonly number[];
  stats: Stats;
  /** group -> listed nodes in enumeration order (groups of one node left out: they have no pairs) */
  secsOf: Map<number, number[]>;
  aggs: Map<number, SecAgg>;
  /** node values by node index (members), never written once built: shared with later contexts */
  vals: Array<Float64Array | null>;
  /** the node object each entry of vals was computed from, by node index */
  objAt: Array<Node | null>;
  /** by node index: its peer entries [p, mem, ...] for peers p of its own group (other than itself) */
  peerList: Array<number[] | null>;
  /** the member node objects it was built from (the array may be reused with new nodes) */
  objs: Node[];
}
const contexts = new WeakMap<readonly Node[], Context>();
// The last context built: hspace's next state differs from it in two nodes,
// whose values are the only ones computed again.
let lastCtx: Context | null = null;

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * clusterStats (metrics.ts) from already computed node values: the same
 * online/offline split in member order and the same arithmetic
 * (metrics.statsOfValues), so the result is bit-identical;
 * alloc-probe.test.ts checks it against clusterStats.
 */
export function statsFromValues(nodes: readonly Node[], members: readonly number[], vals: ReadonlyArray<Float64Array | null>): Stats {
  const on: Float64Array[] = [];
  const off: Float64Array[] = [];
  const onNodes: Node[] = [];
  for (const i of members) {
    const n = nodes[i]!;
    if (n.offline) off.push(vals[i]!);
    else {
      on.push(vals[i]!);
      onNodes.push(n);
    }
  }
  return statsOfValues(on, off, onNodes);
}

function context(nodes: readonly Node[], members: readonly number[], listed: readonly number[]): Context {
  const c = contexts.get(nodes);
  if (c && sameList(c.members, members) && sameList(c.listed, listed) && c.objs.every((n, k) => nodes[members[k]!] === n)) return c;
  const prev = lastCtx;
  const N = nodes.length;
  const vals = new Array<Float64Array | null>(N).fill(null);
  const objAt = new Array<Node | null>(N).fill(null);
  const peerList = new Array<number[] | null>(N).fill(null);
  for (const i of members) {
    const n = nodes[i]!;
    const same = prev !== null && i < prev.objAt.length && prev.objAt[i] === n;
    let a = same ? prev.vals[i]! : null;
    if (a === null) {
      a = new Float64Array(NCOMP);
      nodeValues(n, a);
    }
    vals[i] = a;
    objAt[i] = n;
    // (a peer's group is fixed: nodes never change group)
    let pl = same ? prev.peerList[i]! : null;
    if (pl === null) {
      // (a plain array: small typed arrays are allocated outside the heap, at a price)
      pl = [];
      for (const [p, m] of n.peers) if (p !== i && p >= 0 && p < N && nodes[p] !== undefined && nodes[p]!.group === n.group) pl.push(p, m);
    }
    peerList[i] = pl;
  }
  const stats = statsFromValues(nodes, members, vals);
  // the previous grouping when the list and every listed node's group are the same
  const secsOf = prev !== null && prev.objAt.length === N && sameList(prev.listed, listed) && listed.every((i) => prev.objAt[i]?.group === nodes[i]!.group) ? prev.secsOf : new Map<number, number[]>();
  if (secsOf !== prev?.secsOf) {
    for (const i of listed) {
      const g = nodes[i]!.group;
      if (!secsOf.has(g)) secsOf.set(g, []);
      secsOf.get(g)!.push(i);
    }
    for (const [g, l] of secsOf) if (l.length < 2) secsOf.delete(g);
  }
  const aggs = new Map<number, SecAgg>();
  for (const [g, secs] of secsOf) aggs.set(g, secAgg(nodes, secs, stats, vals));
  const r = { members, listed, stats, secsOf, aggs, vals, objAt, peerList, objs: members.map((i) => nodes[i]!) };
  contexts.set(nodes, r);
  lastCtx = r;
  return r;
}

// Per-call scratch, by node index: each secondary's probe values for a
// primary it shares no instance with (baseBuf), whether that probe succeeded
// (baseOk), which of those values differ from the node's own (changed), the
// succeeding primaries (okArr) and the secondaries marked for one primary (mark).
let baseBuf = new Float64Array(0);
let changed = new Uint8Array(0);
let baseOk = new Uint8Array(0);
let okArr = new Uint8Array(0);
let mark = new Uint8Array(0);
let secLB = new Float64Array(0);
const FIXED = new Float64Array(NCOMP);

// Probe outcomes carried across calls (hspace allocates one instance after
// another with the same spec): by node index, valid while the node object
// and the instance spec (cacheGen) are the same.  A probe depends on the
// instance's resources and flags, never on its name, index or nodes.
let cacheGen = 0;
let cacheInst: Instance | null = null;
let cacheForce = false;
let priGen = new Int32Array(0);
let priNode: Array<Node | null> = [];
let priFail: Array<FailMode | null> = [];
let priVals = new Float64Array(0);
let secGen = new Int32Array(0);
let secNode: Array<Node | null> = [];
let secFail: Array<FailMode | null> = [];
let secPeer: Array<Map<number, FailMode | null> | null> = [];
const IDENTITY_KEYS = new Set(["name", "alias", "idx", "pNode", "sNode"]);

/** Whether two instances differ at most in identity fields (same objects elsewhere). */
function sameSpec(a: Instance, b: Instance): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  for (const k of ka) if (!IDENTITY_KEYS.has(k) && (!(k in rb) || !Object.is(ra[k], rb[k]))) return false;
  return true;
}

function useCache(N: number, inst: Instance, force: boolean): void {
  if (priGen.length < N) {
    priGen = new Int32Array(N);
    priNode = new Array<Node | null>(N).fill(null);
    priFail = new Array<FailMode | null>(N).fill(null);
    priVals = new Float64Array(N * NCOMP);
    secGen = new Int32Array(N);
    secNode = new Array<Node | null>(N).fill(null);
    secFail = new Array<FailMode | null>(N).fill(null);
    secPeer = new Array<Map<number, FailMode | null> | null>(N).fill(null);
    cacheInst = null;
  }
  if (cacheInst === null || force !== cacheForce || !sameSpec(cacheInst, inst)) {
    cacheGen++;
    // a copy: the spec is compared field by field, even if the object is reused
    cacheInst = { ...inst };
    cacheForce = force;
  }
}
const RES = new Float64Array(NCOMP);
const PRI_AGG = new RoleAgg();
const PRI_SHIFT = new Float64Array(NCOMP);
// statistics after each OK primary's change (sums, variances), by node index
let PS = new Float64Array(0);
let PV = new Float64Array(0);

const V2 = new Float64Array(NCOMP);

/**
 * pairMetric's value of each component when the secondary leaves it as it
 * is (node value = probe value, finite square): the same formula with zero
 * differences, so substituting it is exact.
 */
function fixedValues(sn: Float64Array, ss: Float64Array, sv: Float64Array, o: number, mapVal: number, out: Float64Array): void {
  const ds = 0;
  const dss = 0;
  for (let k = 0; k < NCOMP; k++) {
    const kind = KIND[k];
    if (kind === 1) out[k] = ONLINE[k] ? ss[o + k]! + ds : ss[o + k]!;
    else if (kind === 0) {
      const n = sn[k]!;
      const s = ss[o + k]!;
      const dnnvar = n * dss - 2 * s * ds - ds * ds;
      out[k] = Math.sqrt(Math.max(0, sv[o + k]! + dnnvar / (n * n)));
    } else out[k] = mapVal;
  }
}

/** pairMetric where the components not flagged in ch (at co) take their fixedValues. */
function pairMetricFixed(sn: Float64Array, ss: Float64Array, sv: Float64Array, o: number, fixed: Float64Array, x: Float64Array, y: Float64Array, yo: number, ch: Uint8Array, mapVal: number): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) r = r + W[k]! * (ch[yo + k] === 0 ? fixed[k]! : pairComponent(k, sn, ss, sv, o, x, y, yo, mapVal));
  return r;
}

const SUMS = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 1 && ONLINE[k]);
/**
 * Secondaries' bounds cost about as much as scanning a few primaries: they
 * are computed for a group once SECLB_AFTER of its primaries have been
 * visited and at least SECLB_PENDING more are certain to be.
 */
const SECLB_AFTER = 3;
const SECLB_PENDING = 4;

/** How many primaries from j on have a bound not above the best metric (up to cap). */
function pendingVisits(order: readonly Prim[], j: number, best: number, cap: number): number {
  let c = 0;
  for (; j < order.length && c < cap; j++) {
    if (order[j]!.lb > best) break;
    c++;
  }
  return c;
}
const ST2: Stats = { n: new Float64Array(NCOMP), s: new Float64Array(NCOMP), v: new Float64Array(NCOMP), map: new Map() };

/**
 * For each secondary s of secs whose "no shared instance" probe succeeded
 * (baseOk, values in baseBuf): a lower bound of the metric of (p, s) over
 * the primaries prims, into out[s].  The secondary's change is applied
 * exactly (updateStatsValues' arithmetic); the primary's is bounded with the
 * primary-role aggregates (bounds.ts RoleAgg) for std-dev components and by
 * the smallest change any of these primaries makes for sum components.
 */
function secondaryBounds(nodes: readonly Node[], stats: Stats, vals: ReadonlyArray<Float64Array | null>, secs: readonly number[], prims: readonly number[], inst: Instance, minDelta: Float64Array, mapVal: number, out: Float64Array): void {
  // (reused: only the STD entries are ever written)
  const agg = PRI_AGG;
  const shift = PRI_SHIFT;
  for (const k of STD) {
    shift[k] = stats.s[k]! / stats.n[k]!;
    agg.reset(k);
  }
  for (const p of prims) {
    const t = nodes[p]!;
    const x = vals[p]!;
    for (const k of STD) agg.add(k, nodeTerms(t, k, true, stats.n[k]!, shift[k]!, x[k]! - shift[k]!, CU, TERMBUF, 0), TERMBUF, 0);
  }
  for (const k of STD) agg.close(k, stats.n[k]!);
  const res = resources(inst, true, RES);
  const st2 = ST2;
  st2.n.set(stats.n);
  for (const s of secs) {
    if (baseOk[s] === 0) continue;
    const x = vals[s]!;
    const o = s * NCOMP;
    st2.s.set(stats.s);
    st2.v.set(stats.v);
    for (let k = 0; k < NCOMP; k++) {
      if (!ONLINE[k]) continue;
      const a = x[k]!;
      const b = baseBuf[o + k]!;
      if (KIND[k] === 1) st2.s[k] = st2.s[k]! + (b - a);
      else if (KIND[k] === 0) {
        const n = st2.n[k]!;
        const sm = st2.s[k]!;
        const ds = b - a;
        const dss = b * b - a * a;
        const dnnvar = n * dss - 2 * sm * ds - ds * ds;
        st2.s[k] = sm + ds;
        st2.v[k] = Math.max(0, st2.v[k]! + dnnvar / (n * n));
      }
    }
    let r = 0;
    for (let k = 0; k < NCOMP; k++) {
      if (KIND[k] === 1) r += W[k]! * (ONLINE[k] ? st2.s[k]! + Math.min(0, minDelta[k]!) : st2.s[k]!);
      else if (KIND[k] === 2) r += W[k]! * mapVal;
      else {
        const n = st2.n[k]!;
        const v = agg.variance(k, n, st2.s[k]! / n - shift[k]!, st2.v[k]!, res[k]!);
        r += W[k]! * Math.sqrt(v > 0 ? v : 0);
      }
    }
    // NaN (no information) never prunes
    out[s] = r === r ? boundMargin(r) : -Infinity;
  }
}

const FM_INDEX = new Map<FailMode, number>(FAIL_MODES.map((m, k) => [m, k]));
const COUNTS = new Float64Array(FAIL_MODES.length);
const MIN_DELTA = new Float64Array(NCOMP);

/** An OK primary: node, enumeration position, bound (statistics after its change: PS/PV at p·NCOMP). */
interface Prim {
  p: number;
  pos: number;
  lb: number;
}

/** One pair search's state (a class: one object shape for the small functions below). */
class PairSearch {
  readonly counts = COUNTS.fill(0);
  allocs = 0;
  readonly prims: Prim[] = [];
  /** the smallest change of each online sum component a primary makes (for secondaries' bounds) */
  readonly priMinDelta = MIN_DELTA.fill(Infinity);
  /** primary -> the secondaries whose probe it changes (by its peer entry) */
  readonly special = new Map<number, number[]>();
  anyPair = false;
  bestMetric = NaN;
  bestPos = -1;
  bestSpos = -1;
  bestP = -1;
  bestS = -1;
  constructor(
    readonly force: boolean,
    readonly nodes: readonly Node[],
    readonly inst: Instance,
    readonly ctx: Context,
  ) {}
  fail(m: FailMode, c: number): void {
    if (c > 0) {
      const k = FM_INDEX.get(m)!;
      this.counts[k] = this.counts[k]! + c;
    }
  }
}

/** Probe every listed node as the primary; fills S.prims and okArr. */
function primariesPass(S: PairSearch, listed: readonly number[]): void {
  const { nodes, inst, ctx } = S;
  const secsOf = ctx.secsOf;
  const stats = ctx.stats;
  const polMemo = new Map<unknown, ReturnType<typeof instMatchesPolicy>>();
  const yp = V2;
  const md = S.priMinDelta;
  let pos = -1;
  for (const p of listed) {
    const pn = nodes[p]!;
    const l = secsOf.get(pn.group);
    if (!l) continue;
    S.anyPair = true;
    pos++;
    const nss = l.length - 1;
    const yo = p * NCOMP;
    let r: FailMode | null;
    if (priGen[p] === cacheGen && priNode[p] === pn) r = priFail[p]!;
    else {
      const polKey = pn.exclStorage ? `x${pn.group}` : pn.iPolicy;
      let pol = polMemo.get(polKey);
      if (pol === undefined || pn.exclStorage) {
        pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
        polMemo.set(polKey, pol);
      }
      r = isFail(pol) ? pol : probeAddPri(S.force, pn, inst, yp);
      if (r === null) for (let k = 0; k < NCOMP; k++) priVals[yo + k] = yp[k]!;
      priGen[p] = cacheGen;
      priNode[p] = pn;
      priFail[p] = r;
    }
    if (r !== null) {
      S.fail(r, nss);
      continue;
    }
    const xp = ctx.vals[p]!;
    S.prims.push({ p, pos, lb: 0 });
    updateStatsInto(stats, xp, priVals, yo, true, PS, PV, yo);
    for (const k of SUMS) {
      const d = priVals[yo + k]! - xp[k]!;
      if (!(d >= md[k]!)) md[k] = d;
    }
    okArr[p] = 1;
  }
}

/**
 * Outcome counts: per secondary, the outcome for primaries it shares no
 * instance with (kept in baseOk/baseBuf/changed), corrected for the peers
 * that change the plan (probed, and noted in S.special).
 */
function countsPass(S: PairSearch): void {
  const { nodes, inst, ctx } = S;
  const okInGroup = new Map<number, number>();
  for (const o of S.prims) {
    const g = nodes[o.p]!.group;
    okInGroup.set(g, (okInGroup.get(g) ?? 0) + 1);
  }
  const secNeeded = usesSecMem(inst) ? inst.mem : 0;
  const V0 = V;
  for (const [g, secs] of ctx.secsOf) {
    const nOk = okInGroup.get(g) ?? 0;
    if (nOk === 0) continue;
    for (const s of secs) {
      const sn = nodes[s]!;
      // (a cached base outcome keeps its values in baseBuf/changed)
      const cached = secGen[s] === cacheGen && secNode[s] === sn;
      let base: FailMode | null;
      if (cached) base = secFail[s]!;
      else {
        base = probeAddSec(false, false, sn, inst, -1, V0);
        if (base === null) keepBase(ctx.vals[s]!, V0, s * NCOMP);
        secGen[s] = cacheGen;
        secNode[s] = sn;
        secFail[s] = base;
        secPeer[s] = null;
      }
      if (base === null) baseOk[s] = 1;
      const bRm = Math.max(sn.rMem, 0 + secNeeded);
      let nBase = nOk - okArr[s]!;
      const pl = ctx.peerList[s]!;
      for (let j = 0; j < pl.length; j += 2) {
        const p = pl[j]!;
        if (okArr[p] === 0 || Object.is(Math.max(sn.rMem, pl[j + 1]! + secNeeded), bRm)) continue;
        nBase--;
        let l = S.special.get(p);
        if (l === undefined) S.special.set(p, (l = []));
        l.push(s);
        let pc = secPeer[s];
        if (pc === null || pc === undefined) secPeer[s] = pc = new Map();
        let r = pc.get(p);
        if (r === undefined) {
          r = probeAddSec(false, false, sn, inst, p, V0);
          pc.set(p, r);
        }
        if (r === null) S.allocs++;
        else S.fail(r, 1);
      }
      if (base === null) S.allocs += nBase;
      else S.fail(base, nBase);
    }
  }
}

/** Keep a secondary's base probe values at o, and which of them differ from its own. */
function keepBase(x: Float64Array, y: Float64Array, o: number): void {
  for (let k = 0; k < NCOMP; k++) {
    const v = y[k]!;
    baseBuf[o + k] = v;
    changed[o + k] = Object.is(v, x[k]!) && Number.isFinite(v * v) ? 0 : 1;
  }
}

/** The pairs of one primary: updates S's best pair. */
function scanPrimary(S: PairSearch, o: Prim, secs: readonly number[], useLB: boolean, mapVal: number): void {
  const { nodes, inst, ctx } = S;
  const sn = ctx.stats.n;
  const so = o.p * NCOMP;
  fixedValues(sn, PS, PV, so, mapVal, FIXED);
  const sp = S.special.get(o.p);
  if (sp !== undefined) for (const s of sp) mark[s] = 1;
  for (let spos = 0; spos < secs.length; spos++) {
    const s = secs[spos]!;
    if (s === o.p) continue;
    let m: number;
    if (mark[s] === 1) {
      if (probeAddSec(false, false, nodes[s]!, inst, o.p, V) !== null) continue;
      m = pairMetric(sn, PS, PV, so, ctx.vals[s]!, V, 0, mapVal);
    } else {
      if (baseOk[s] === 0) continue;
      if (useLB && S.bestPos >= 0 && secLB[s]! > S.bestMetric) continue;
      m = pairMetricFixed(sn, PS, PV, so, FIXED, ctx.vals[s]!, baseBuf, s * NCOMP, changed, mapVal);
    }
    if (S.bestPos < 0 || m < S.bestMetric || (m === S.bestMetric && (o.pos > S.bestPos || (o.pos === S.bestPos && spos > S.bestSpos)))) {
      S.bestMetric = m;
      S.bestPos = o.pos;
      S.bestSpos = spos;
      S.bestP = o.p;
      S.bestS = s;
    }
  }
  if (sp !== undefined) for (const s of sp) mark[s] = 0;
}

/**
 * Best pair: primaries in increasing bound order.  Bounds per secondary
 * over all primaries (its own change exact, the primary's bounded as in
 * pairBound with the roles swapped) are computed for a group once its
 * primaries have been visited a few times: a secondary whose bound is above
 * the best metric cannot win or tie with any primary.
 */
function searchPass(S: PairSearch): void {
  const { nodes, inst, ctx } = S;
  const stats = ctx.stats;
  const mapVal = statValue(stats, MAP_COMPONENT);
  const secRes = resources(inst, false, RES);
  for (const o of S.prims) o.lb = pairBound(stats.n, PS, PV, o.p * NCOMP, ctx.aggs.get(nodes[o.p]!.group)!, secRes, mapVal);
  const order = S.prims.slice().sort((a, b) => a.lb - b.lb);
  const visitsOf = new Map<number, number>();
  const lbDone = new Set<number>();
  for (let j = 0; j < order.length; j++) {
    const o = order[j]!;
    if (S.bestPos >= 0 && o.lb > S.bestMetric) break;
    const g = nodes[o.p]!.group;
    const nv = (visitsOf.get(g) ?? 0) + 1;
    visitsOf.set(g, nv);
    if (nv >= SECLB_AFTER && !lbDone.has(g) && pendingVisits(order, j + 1, S.bestMetric, SECLB_PENDING) >= SECLB_PENDING) {
      lbDone.add(g);
      const prims = S.prims.filter((q) => nodes[q.p]!.group === g).map((q) => q.p);
      secondaryBounds(nodes, stats, ctx.vals, ctx.secsOf.get(g)!, prims, inst, S.priMinDelta, mapVal, secLB);
    }
    scanPrimary(S, o, ctx.secsOf.get(g)!, lbDone.has(g), mapVal);
  }
}

/** Size the module's scratch buffers for N nodes and reset them for one search. */
function prepareScratch(N: number, inst: Instance, force: boolean): void {
  if (okArr.length < N) {
    baseBuf = new Float64Array(N * NCOMP);
    changed = new Uint8Array(N * NCOMP);
    baseOk = new Uint8Array(N);
    okArr = new Uint8Array(N);
    mark = new Uint8Array(N);
    secLB = new Float64Array(N);
    PS = new Float64Array(N * NCOMP);
    PV = new Float64Array(N * NCOMP);
  }
  okArr.fill(0, 0, N);
  baseOk.fill(0, 0, N);
  useCache(N, inst, force);
}

/**
 * For tests: the smallest (metric - secondary bound) over every pair the
 * bound applies to (successful, no special peer entry), and how many pairs
 * that was; the bound is valid when the slack is never negative.
 */
export function secondaryBoundSlack(force: boolean, nodes: readonly Node[], members: readonly number[], inst: Instance, listed: readonly number[]): { slack: number; pairs: number } {
  const ctx = context(nodes, members, listed);
  prepareScratch(nodes.length, inst, force);
  const S = new PairSearch(force, nodes, inst, ctx);
  primariesPass(S, listed);
  let slack = Infinity;
  let pairs = 0;
  if (!S.anyPair) return { slack, pairs };
  countsPass(S);
  const mapVal = statValue(ctx.stats, MAP_COMPONENT);
  for (const [g, secs] of ctx.secsOf) {
    const prims = S.prims.filter((q) => nodes[q.p]!.group === g);
    if (prims.length === 0) continue;
    secondaryBounds(nodes, ctx.stats, ctx.vals, secs, prims.map((q) => q.p), inst, S.priMinDelta, mapVal, secLB);
    for (const o of prims) {
      const sp = S.special.get(o.p) ?? [];
      for (const s of secs) {
        if (s === o.p || baseOk[s] === 0 || sp.includes(s)) continue;
        const m = pairMetric(ctx.stats.n, PS, PV, o.p * NCOMP, ctx.vals[s]!, baseBuf, s * NCOMP, mapVal);
        slack = Math.min(slack, m - secLB[s]!);
        pairs++;
      }
    }
  }
  return { slack, pairs };
}

/**
 * tryAlloc over pairs where each primary's secondaries are all other listed
 * nodes of its group (genAllocNodes' shape), without a capacity predicate.
 * `listed` is genAllocNodes' candidate list.  Null when there is no pair.
 *
 * addSecExEx depends on the primary only through the secondary's peer entry
 * for it (newPeem), and through that only via the planned reserved memory
 * max(rMem, newPeem): a primary whose entry gives the same reserved memory
 * as no entry at all gets exactly the "no shared instance" outcome and
 * values, so only the peers that would raise the reserved memory are probed.
 */
export function tryAllocPairsProbe(force: boolean, nodes: readonly Node[], members: readonly number[], inst0: Instance, listed: readonly number[]): AllocSolution | null {
  // Without location tags every candidate's location score is 0 (alloc.ts allocateOnPrimary).
  const inst: Instance = inst0.locationScore === 0 ? inst0 : { ...inst0, locationScore: 0 };
  const ctx = context(nodes, members, listed);
  prepareScratch(nodes.length, inst, force);
  const S = new PairSearch(force, nodes, inst, ctx);
  primariesPass(S, listed);
  if (!S.anyPair) return null;
  countsPass(S);
  searchPass(S);
  const failures: FailMode[] = [];
  const counts = new Map<FailMode, number>();
  FAIL_MODES.forEach((m, k) => {
    if (S.counts[k]! > 0) {
      failures.push(m);
      counts.set(m, S.counts[k]!);
    }
  });
  failureCounts.set(failures, counts);
  if (S.bestPos < 0) return { failures, allocs: S.allocs, solution: null, log: [] };
  // The winner, built with the reference primitives.
  const ninst: Instance = { ...inst, locationScore: 0, pNode: S.bestP, sNode: S.bestS };
  const np = addPriEx(force, nodes[S.bestP]!, ninst);
  const ns = isFail(np) ? np : addSec(nodes[S.bestS]!, ninst, S.bestP);
  if (isFail(np) || isFail(ns)) throw new Error("hail: probe search chose a pair the reference rejects");
  const el: AllocElement = { changed: [np, ns], inst: ninst, nodes: [np, ns], metric: S.bestMetric };
  return { failures, allocs: S.allocs, solution: el, log: [] };
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

// hail/hspace two-node allocation (tryAlloc over primary/secondary pairs)
// without building every candidate.  Used when no global capacity predicate
// applies; alloc.ts keeps the reference path.
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
//  * location tags: a pair's location score (the primary's component 17)
//    is the probe's (taken with no common tag) plus the number of location
//    tags the two nodes share, and the exclusion-map statistic (component
//    18) after the primary's change is the state's plus the number of the
//    instance's (location, exclusion tag) keys on the primary that already
//    exist (metrics.ts exclMapDelta): both exact integers, so the pair's
//    metric is still the reference's bit for bit; the bounds take the
//    smallest (no shared tag, the smallest map value of the primaries).
//
// hspace calls this thousands of times on states that differ in two nodes,
// often with the same instance spec: node values, peer lists, bound terms and
// probe outcomes of unchanged nodes are carried from call to call, and the
// per-call work is kept in flat, reused buffers (no per-pair allocation).
import type { FailMode, Instance } from "./types.js";
import { FAIL_MODES, isFail } from "./types.js";
import { Node, addPriEx, addSec } from "./node.js";
import { instMatchesPolicy, usesSecMem } from "./instance.js";
import {
  KIND,
  MAP_COMPONENT,
  NCOMP,
  ONLINE,
  ScoreState,
  WEIGHTS,
  compCVWith,
  exclMapDelta,
  nodeValues,
  statValue,
  statsOfMembers,
  updateStatsInto,
  type Stats,
} from "./metrics.js";
import { RoleAgg, STD, TERMS, boundMargin, nodeTerms, resources, roleComponents } from "./bounds.js";
import { probeAddPri, probeAddSec, probeAddSecFits } from "./probe.js";
import { LOC, commonTags, locClass } from "./location.js";
import { failureCounts, type AllocElement, type AllocSolution } from "./alloc.js";

const W = Float64Array.from(WEIGHTS);
const V = new Float64Array(NCOMP);
const NSTD = STD.length;

/** Whether the pair search applies: no forthcoming instance, no exclusive storage. */
export function pairSearchApplies(nodes: readonly Node[], members: readonly number[], inst: Instance): boolean {
  if (inst.forthcoming) return false;
  for (let j = 0; j < members.length; j++) if (nodes[members[j]!]!.exclStorage) return false;
  return true;
}

/**
 * Whether tryAllocSingleProbe applies: no forthcoming instance, no
 * exclusive storage.  (A single node's location score is the probe's own,
 * probeAddPri's component 17, and the exclusion map's change an exact
 * integer, exclMapDelta.)
 */
export function singleSearchApplies(nodes: readonly Node[], members: readonly number[], inst: Instance): boolean {
  if (inst.forthcoming) return false;
  for (let j = 0; j < members.length; j++) if (nodes[members[j]!]!.exclStorage) return false;
  return true;
}

/**
 * The reference point of the bounds' arithmetic (bounds.ts: any shift gives
 * a valid bound; a shift near the values keeps the rounding small).  One
 * shift serves every state with the same component counts, so a node's
 * bound terms, which depend only on the node, the counts and the shift (not
 * on the instance), are computed once per node object.
 */
interface Shift {
  n: Float64Array;
  c: Float64Array;
  gen: number;
}
let curShift: Shift | null = null;
let shiftGen = 0;

// (Indexed loops in this file's hot paths: for-of and array callbacks
// allocate until their function is optimised, and cost more to compile.)
function sameCounts(cur: Shift, stats: Stats): boolean {
  for (let q = 0; q < NSTD; q++) {
    const k = STD[q]!;
    if (!Object.is(cur.n[k], stats.n[k])) return false;
  }
  return true;
}

function shiftFor(stats: Stats): Shift {
  const cur = curShift;
  if (cur !== null && sameCounts(cur, stats)) return cur;
  const c = new Float64Array(NCOMP);
  for (let q = 0; q < NSTD; q++) {
    const k = STD[q]!;
    c[k] = stats.s[k]! / stats.n[k]!;
  }
  return (curShift = { n: Float64Array.from(stats.n), c, gen: ++shiftGen });
}

const CU = new Float64Array(2);

/**
 * Bound terms (bounds.ts nodeTerms) of nodes in one role, by node index, kept while the node object and the shift are the same.
 * Only the components that can change in the role (bounds.ts roleComponents)
 * are computed and folded: the others' terms have mode 0 (unchanged), which
 * RoleAgg.add ignores, so the aggregates are the same.
 */
class TermCache {
  terms = new Float64Array(0);
  mode = new Int8Array(0);
  gen = new Int32Array(0);
  node: Array<Node | null> = [];
  /** positions in STD of the components that change in this role */
  readonly qs: number[];
  constructor(readonly pri: boolean) {
    this.qs = roleComponents(pri);
  }

  /** Fold node i's terms into agg. */
  add(agg: RoleAgg, t: Node, i: number, x: Float64Array, sh: Shift): void {
    if (this.gen.length <= i) this.grow(Math.max(i + 1, 2 * this.gen.length, 64));
    const o = i * NSTD;
    const qs = this.qs;
    if (this.gen[i] !== sh.gen || this.node[i] !== t) {
      for (let j = 0; j < qs.length; j++) {
        const q = qs[j]!;
        const k = STD[q]!;
        this.mode[o + q] = nodeTerms(t, k, this.pri, sh.n[k]!, sh.c[k]!, x[k]! - sh.c[k]!, CU, this.terms, (o + q) * TERMS);
      }
      this.gen[i] = sh.gen;
      this.node[i] = t;
    }
    for (let j = 0; j < qs.length; j++) {
      const q = qs[j]!;
      agg.add(STD[q]!, this.mode[o + q]!, this.terms, (o + q) * TERMS);
    }
  }

  private grow(N: number): void {
    const terms = new Float64Array(N * NSTD * TERMS);
    terms.set(this.terms);
    const mode = new Int8Array(N * NSTD);
    mode.set(this.mode);
    const gen = new Int32Array(N);
    gen.set(this.gen);
    this.terms = terms;
    this.mode = mode;
    this.gen = gen;
    while (this.node.length < N) this.node.push(null);
  }
}
const SEC_TERMS = new TermCache(false);
const PRI_TERMS = new TermCache(true);

/** Role aggregates (bounds.ts) of the nodes `list` in one role. */
function roleAgg(
  agg: RoleAgg,
  cache: TermCache,
  nodes: readonly Node[],
  list: ArrayLike<number>,
  len: number,
  vals: ReadonlyArray<Float64Array | null>,
  sh: Shift,
): RoleAgg {
  for (let q = 0; q < NSTD; q++) agg.reset(STD[q]!);
  for (let j = 0; j < len; j++) {
    const i = list[j]!;
    cache.add(agg, nodes[i]!, i, vals[i]!, sh);
  }
  for (let q = 0; q < NSTD; q++) agg.close(STD[q]!, sh.n[STD[q]!]!);
  return agg;
}

/**
 * Lower bound of the metric of every pair with each OK primary's change,
 * whatever the secondary, into primLb.  The statistics after a primary's
 * change are kept flat: counts in sn (the cluster's), sums and variances in
 * ss/sv at the primary's node index times NCOMP.
 */
function primaryBounds(ctx: Context, sn: Float64Array, ss: Float64Array, sv: Float64Array, res: Float64Array, nPrim: number): void {
  const c = ctx.shift.c;
  for (let j = 0; j < nPrim; j++) {
    const o = primP[j]! * NCOMP;
    const mapVal = mapAt[primP[j]!]!;
    const agg = ctx.aggs[ctx.slot[primP[j]!]!]!;
    let r = 0;
    for (let k = 0; k < NCOMP; k++) {
      if (KIND[k] === 1) r += W[k]! * ss[o + k]!;
      else if (KIND[k] === 2) r += W[k]! * mapVal;
      else {
        const n = sn[k]!;
        const v = agg.variance(k, n, ss[o + k]! / n - c[k]!, sv[o + k]!, res[k]!);
        r += W[k]! * Math.sqrt(v > 0 ? v : 0);
      }
    }
    primLb[j] = boundMargin(r);
  }
}

/**
 * The reference metric of st1 updated with node values x -> y: the same
 * operations as cvFromStats(updateStatsValues(...)), fused so that the ~10⁶
 * pairs of a large hail request allocate nothing.
 */
function pairMetric(
  sn: Float64Array,
  ss: Float64Array,
  sv: Float64Array,
  o: number,
  x: Float64Array,
  y: Float64Array,
  yo: number,
  mapVal: number,
  cl: number,
): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++)
    r =
      r +
      W[k]! *
        (KIND[k] === 2 ? mapVal : k === LOC ? pairComponent(k, sn, ss, sv, o, x, y, yo) + cl : pairComponent(k, sn, ss, sv, o, x, y, yo));
  return r;
}

/**
 * One sum or std-dev component of pairMetric: the secondary going from x to
 * y[yo..] on the primary's statistics row o.  (The map statistic is the
 * caller's constant: returning a parameter here would make the optimiser box
 * every result.)
 */
function pairComponent(
  k: number,
  sn: Float64Array,
  ss: Float64Array,
  sv: Float64Array,
  o: number,
  x: Float64Array,
  y: Float64Array,
  yo: number,
): number {
  if (KIND[k] === 1) return ONLINE[k] ? ss[o + k]! + (y[yo + k]! - x[k]!) : ss[o + k]!;
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
  shift: Shift;
  /** the groups with at least two listed nodes (they have pairs), and their listed nodes in enumeration order */
  gids: number[];
  gsecs: number[][];
  /** by node index: the slot in gids of its group when listed, else -1 */
  slot: Int32Array;
  /** by slot: secondary-role bound aggregates */
  aggs: RoleAgg[];
  /** node values by node index (members), never written once built: shared with later contexts */
  vals: Array<Float64Array | null>;
  /** the node object each entry of vals was computed from, by node index */
  objAt: Array<Node | null>;
  /** by node index: its peer entries [p, mem, ...] for peers p of its own group (other than itself) */
  peerList: Array<number[] | null>;
  /** the member node objects it was built from (the array may be reused with new nodes) */
  objs: Node[];
  /** by node index: its location class (-1: no location tags) */
  loc: Int32Array;
}
/**
 * The last few contexts, most recent first, with the node list each was
 * built for.  (Not a WeakMap on the node lists: a scavenge keeps every entry
 * whose key has reached the old generation, so each past state of a long
 * hspace run stayed alive, and was copied, until a full collection.)
 * hspace's next state differs from the most recent one in two nodes, whose
 * values are the only ones computed again; its tiered shrinking returns to
 * the states just before.
 */
const CTX_KEEP = 4;
const recent: Array<{ nodes: readonly Node[]; ctx: Context }> = [];

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameObjs(c: Context, nodes: readonly Node[]): boolean {
  const m = c.members;
  for (let k = 0; k < m.length; k++) if (nodes[m[k]!] !== c.objs[k]) return false;
  return true;
}

/**
 * clusterStats (metrics.ts) from already computed node values: the same
 * online/offline split in member order and the same arithmetic
 * (metrics.ts statsOfMembers), so the result is bit-identical;
 * alloc-probe.test.ts checks it against clusterStats.
 */
export function statsFromValues(nodes: readonly Node[], members: readonly number[], vals: ReadonlyArray<Float64Array | null>): Stats {
  return statsOfMembers(nodes, members, (i) => vals[i]!);
}

function context(nodes: readonly Node[], members: readonly number[], listed: readonly number[]): Context {
  for (let j = 0; j < recent.length; j++) {
    const e = recent[j]!;
    if (e.nodes === nodes && sameList(e.ctx.members, members) && sameList(e.ctx.listed, listed) && sameObjs(e.ctx, nodes)) {
      if (j > 0) recent.unshift(recent.splice(j, 1)[0]!);
      return e.ctx;
    }
  }
  const r = buildContext(nodes, members, listed, recent.length > 0 ? recent[0]!.ctx : null);
  recent.unshift({ nodes, ctx: r });
  if (recent.length > CTX_KEEP) recent.pop();
  return r;
}

// (Plain loops rather than map/every/fill/for-of below: TurboFan inlines
// those builtins, and this function's compile was the largest of a run.)
function buildContext(nodes: readonly Node[], members: readonly number[], listed: readonly number[], prev: Context | null): Context {
  const N = nodes.length;
  const vals: Array<Float64Array | null> = [];
  const objAt: Array<Node | null> = [];
  const peerList: Array<number[] | null> = [];
  for (let i = 0; i < N; i++) {
    vals.push(null);
    objAt.push(null);
    peerList.push(null);
  }
  const objs: Node[] = [];
  const loc = new Int32Array(N).fill(-1);
  for (let k = 0; k < members.length; k++) {
    const i = members[k]!;
    const n = nodes[i]!;
    objs.push(n);
    if (n.locationTags.size > 0) loc[i] = locClass(n.locationTags);
    const same = prev !== null && i < prev.objAt.length && prev.objAt[i] === n;
    let a = same ? prev.vals[i]! : null;
    if (a === null) {
      a = new Float64Array(NCOMP);
      nodeValues(n, a);
    }
    vals[i] = a;
    objAt[i] = n;
    // (a peer's group is fixed: nodes never change group)
    peerList[i] = same ? prev.peerList[i]! : peersOf(nodes, n, i);
  }
  // (the same member objects as the previous context, e.g. the other group
  // of one allocation: the same statistics, which depend on nothing else)
  const sameState = prev !== null && sameList(prev.members, members) && sameObjs(prev, nodes);
  const stats = sameState ? prev.stats : statsFromValues(nodes, members, vals);
  const shift = sameState ? prev.shift : shiftFor(stats);
  // the previous grouping when the list and every listed node's group are the same
  let gids: number[];
  let gsecs: number[][];
  let slot: Int32Array;
  if (prev !== null && prev.objAt.length === N && sameList(prev.listed, listed) && sameGroups(prev, nodes, listed)) {
    gids = prev.gids;
    gsecs = prev.gsecs;
    slot = prev.slot;
  } else ({ gids, gsecs, slot } = grouping(nodes, listed));
  const aggs: RoleAgg[] = [];
  for (let g = 0; g < gsecs.length; g++) {
    const secs = gsecs[g]!;
    aggs.push(roleAgg(new RoleAgg(), SEC_TERMS, nodes, secs, secs.length, vals, shift));
  }
  return { members, listed, stats, shift, gids, gsecs, slot, aggs, vals, objAt, peerList, objs, loc };
}

/** Node i's peer entries [p, mem, ...] for peers p of its own group. */
function peersOf(nodes: readonly Node[], n: Node, i: number): number[] {
  const N = nodes.length;
  // (a plain array: small typed arrays are allocated outside the heap, at a price)
  const pl: number[] = [];
  n.peers.forEach((m, p) => {
    if (p !== i && p >= 0 && p < N && nodes[p] !== undefined && nodes[p]!.group === n.group) pl.push(p, m);
  });
  return pl;
}

function sameGroups(prev: Context, nodes: readonly Node[], listed: readonly number[]): boolean {
  for (let k = 0; k < listed.length; k++) {
    const i = listed[k]!;
    if (prev.objAt[i]?.group !== nodes[i]!.group) return false;
  }
  return true;
}

/** The groups with at least two listed nodes, their listed nodes in order, and each listed node's slot. */
function grouping(nodes: readonly Node[], listed: readonly number[]): { gids: number[]; gsecs: number[][]; slot: Int32Array } {
  const byGroup = new Map<number, number[]>();
  for (const i of listed) {
    const g = nodes[i]!.group;
    let l = byGroup.get(g);
    if (l === undefined) byGroup.set(g, (l = []));
    l.push(i);
  }
  const gids: number[] = [];
  const gsecs: number[][] = [];
  const slot = new Int32Array(nodes.length).fill(-1);
  for (const [g, l] of byGroup) {
    if (l.length < 2) continue;
    for (const i of l) slot[i] = gids.length;
    gids.push(g);
    gsecs.push(l);
  }
  return { gids, gsecs, slot };
}

// Per-call scratch, by node index: each secondary's probe values for a
// primary it shares no instance with (baseBuf, with its changed-component
// list in baseList), whether that probe succeeded (baseOk), the succeeding
// primaries (okArr), the secondaries marked for one primary (mark, with
// their special pool entry in spEntry) and the secondaries' bounds (secLB).
let baseBuf = new Float64Array(0);
let baseList = new Int8Array(0);
let baseOk = new Uint8Array(0);
let okArr = new Uint8Array(0);
let mark = new Uint8Array(0);
let spEntry = new Int32Array(0);
let secLB = new Float64Array(0);
// by node index: the map statistic after the primary's change (OK primaries)
let mapAt = new Float64Array(0);
// The OK primaries of one call: node index, enumeration position, bound;
// the visiting heap over them; per group slot: OK primaries, visits, whether
// the secondaries' bounds are computed.
let primP = new Int32Array(0);
let primPos = new Int32Array(0);
let primLb = new Float64Array(0);
let heap = new Int32Array(0);
let okCnt = new Int32Array(0);
let visits = new Int32Array(0);
let lbDone = new Uint8Array(0);
// The special pairs of one call as [s, p, entry] triples, then grouped by
// primary (spStart: offsets by node index into spS/spE).
let spTrip = new Int32Array(0);
let spStart = new Int32Array(0);
let spS = new Int32Array(0);
let spE = new Int32Array(0);
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
// the spec (mem, dsk, vcpus) and spec family a primary's failure was probed at
let priSpec = new Float64Array(0);
let priFam = new Int32Array(0);
let secGen = new Int32Array(0);
let secNode: Array<Node | null> = [];
let secFail: Array<FailMode | null> = [];
/**
 * By secondary: its peers whose entry raises the reserved memory it would
 * plan (so change its probe), as [p, entry, ...]: the entry of the probe in
 * the special pool (>= 0), ~failure index, FITS (it fits, its values not
 * yet kept: the search visits few primaries, so a pair's values are
 * computed when it is first scanned) or UNPROBED.
 */
let secSpecial: Array<number[] | null> = [];
const UNPROBED = -0x40000000;
const FITS = UNPROBED + 1;
// Probe values of the special (secondary, peer) pairs, NCOMP per entry, with
// each entry's changed-component list (CL entries); emptied with the caches
// when the spec changes or the pool grows too large.
let spVals = new Float64Array(0);
let spList = new Int8Array(0);
let spTop = 0;
const SP_LIMIT = 1 << 16;
const IDENTITY_KEYS = new Set(["name", "alias", "idx", "pNode", "sNode"]);

const SIZE_KEYS = new Set(["mem", "dsk", "vcpus", "disks"]);

/**
 * How two instances differ: 0 at most in identity fields (same objects
 * elsewhere: the same spec), 1 also in sizes (mem, dsk, vcpus, disk sizes:
 * the same family; tiered shrinking moves within one), 2 otherwise.
 */
function specDiff(a: Instance, b: Instance): number {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return 2;
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  let d = 0;
  for (const k of ka) {
    if (IDENTITY_KEYS.has(k) || (k in rb && Object.is(ra[k], rb[k]))) continue;
    if (!SIZE_KEYS.has(k) || !(k in rb)) return 2;
    d = 1;
  }
  if (d === 1) {
    if (a.disks.length !== b.disks.length) return 2;
    for (let i = 0; i < a.disks.length; i++) if (!Object.is(a.disks[i]!.spindles, b.disks[i]!.spindles)) return 2;
  }
  return d;
}

let family = 0;
/** How many primary failures were carried (for tests). */
let carried = 0;

/**
 * Whether a primary's probe failure m at spec (m0, d0, c0) is its failure at
 * the current spec of the same family (cacheInst): planAddPri's checks
 * (node.ts) are each "the node's resource after adding the instance exceeds
 * a limit", so none that passed fails once a size shrinks; the failing check
 * still fails if it does not read a size that changed.  A FailMem check reads
 * only mem, FailDisk only dsk (spindle use and template are the family's),
 * FailCPU only vcpus, FailTags none.  (The policy is checked at every spec.)
 * alloc-carry.test.ts compares carried failures with fresh probes.
 */
function failureCarries(m: FailMode, o: number): boolean {
  const c = cacheInst!;
  const m0 = priSpec[o]!;
  const d0 = priSpec[o + 1]!;
  const c0 = priSpec[o + 2]!;
  if (!(c.mem <= m0 && c.dsk <= d0 && c.vcpus <= c0)) return false;
  switch (m) {
    case "FailMem":
      return c.mem === m0;
    case "FailDisk":
      return c.dsk === d0;
    case "FailCPU":
      return c.vcpus === c0;
    case "FailTags":
      return true;
    default:
      return false;
  }
}

function useCache(N: number, inst: Instance, force: boolean): void {
  if (priGen.length < N) {
    priGen = new Int32Array(N);
    priNode = new Array<Node | null>(N).fill(null);
    priFail = new Array<FailMode | null>(N).fill(null);
    priVals = new Float64Array(N * NCOMP);
    priSpec = new Float64Array(N * 3);
    priFam = new Int32Array(N);
    secGen = new Int32Array(N);
    secNode = new Array<Node | null>(N).fill(null);
    secFail = new Array<FailMode | null>(N).fill(null);
    secSpecial = new Array<number[] | null>(N).fill(null);
    cacheInst = null;
  }
  const d = cacheInst === null || force !== cacheForce ? 2 : specDiff(cacheInst, inst);
  if (d > 0 || spTop > SP_LIMIT) {
    if (d === 2) family++;
    cacheGen++;
    spTop = 0;
    // a copy: the spec is compared field by field, even if the object is reused
    cacheInst = { ...inst };
    cacheForce = force;
  }
}
const RES = new Float64Array(NCOMP);
const PRI_AGG = new RoleAgg();
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

/** Components whose pairComponent depends on the secondary's value. */
const DEPENDS = Uint8Array.from([...Array(NCOMP).keys()].map((k) => (KIND[k] === 0 || (KIND[k] === 1 && ONLINE[k]) ? 1 : 0)));
/** A changed-component list: its length, then the components in increasing order. */
const CL = NCOMP + 1;
// For the primary being scanned: each component's weighted fixed value, and
// the running sums of pairMetric's loop over them (PRE[k]: the first k terms).
const WF = new Float64Array(NCOMP);
const PRE = new Float64Array(NCOMP + 1);

function setFixed(fixed: Float64Array): void {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) {
    WF[k] = W[k]! * fixed[k]!;
    PRE[k] = r;
    r = r + WF[k]!;
  }
  PRE[NCOMP] = r;
}

/**
 * pairMetric where the components not in the list L[lo..] take their
 * fixedValues (setFixed): the same terms added in the same order, the
 * unchanged leading ones read as one running sum.
 */
function pairMetricList(
  sn: Float64Array,
  ss: Float64Array,
  sv: Float64Array,
  o: number,
  x: Float64Array,
  y: Float64Array,
  yo: number,
  L: Int8Array,
  lo: number,
): number {
  const c = L[lo]!;
  if (c === 0) return PRE[NCOMP]!;
  let j = lo + 1;
  const end = j + c;
  let k = L[j]!;
  let r = PRE[k]!;
  for (; k < NCOMP; k++) {
    if (j < end && L[j] === k) {
      // pairComponent, written out (the same operations: the same value):
      // it is too large for the inlining limit hspace sets (hspace-tuning.ts)
      // and runs for every pair
      let v: number;
      if (KIND[k] === 1) v = ONLINE[k] ? ss[o + k]! + (y[yo + k]! - x[k]!) : ss[o + k]!;
      else {
        const n = sn[k]!;
        const s = ss[o + k]!;
        const ds = y[yo + k]! - x[k]!;
        const dss = y[yo + k]! * y[yo + k]! - x[k]! * x[k]!;
        const dnnvar = n * dss - 2 * s * ds - ds * ds;
        v = Math.sqrt(Math.max(0, sv[o + k]! + dnnvar / (n * n)));
      }
      r = r + W[k]! * v;
      j++;
    } else r = r + WF[k]!;
  }
  return r;
}

/**
 * pairMetricList for a pair whose nodes share cl > 0 location tags: the
 * location score component is the fixed one plus cl (exact integers, as
 * the reference's sum of the primary's and the secondary's changes).
 */
function pairMetricListLoc(
  sn: Float64Array,
  ss: Float64Array,
  sv: Float64Array,
  o: number,
  x: Float64Array,
  y: Float64Array,
  yo: number,
  L: Int8Array,
  lo: number,
  cl: number,
  fixLoc: number,
): number {
  const c = L[lo]!;
  let j = lo + 1;
  const end = j + c;
  let k = c === 0 ? LOC : Math.min(L[j]!, LOC);
  let r = PRE[k]!;
  for (; k < NCOMP; k++) {
    if (j < end && L[j] === k) {
      let v: number;
      if (KIND[k] === 1) v = ONLINE[k] ? ss[o + k]! + (y[yo + k]! - x[k]!) : ss[o + k]!;
      else {
        const n = sn[k]!;
        const s = ss[o + k]!;
        const ds = y[yo + k]! - x[k]!;
        const dss = y[yo + k]! * y[yo + k]! - x[k]! * x[k]!;
        const dnnvar = n * dss - 2 * s * ds - ds * ds;
        v = Math.sqrt(Math.max(0, sv[o + k]! + dnnvar / (n * n)));
      }
      if (k === LOC) v = v + cl;
      r = r + W[k]! * v;
      j++;
    } else if (k === LOC) r = r + W[k]! * (fixLoc + cl);
    else r = r + WF[k]!;
  }
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
const PRIMS_OF = { list: new Int32Array(0) };

/**
 * For each secondary s of secs whose "no shared instance" probe succeeded
 * (baseOk, values in baseBuf): a lower bound of the metric of (p, s) over
 * the OK primaries of group slot g, into out[s].  The secondary's change is
 * applied exactly (updateStatsValues' arithmetic); the primary's is bounded
 * with the primary-role aggregates (bounds.ts RoleAgg) for std-dev
 * components and by the smallest change any of these primaries makes for
 * sum components.
 */
function secondaryBounds(
  nodes: readonly Node[],
  ctx: Context,
  g: number,
  nPrim: number,
  inst: Instance,
  minDelta: Float64Array,
  out: Float64Array,
): void {
  const { stats, vals } = ctx;
  const secs = ctx.gsecs[g]!;
  const shift = ctx.shift.c;
  if (PRIMS_OF.list.length < nPrim) PRIMS_OF.list = new Int32Array(primP.length);
  const prims = PRIMS_OF.list;
  let np = 0;
  // the smallest map statistic after any of these primaries' change
  let mapVal = Infinity;
  for (let j = 0; j < nPrim; j++)
    if (ctx.slot[primP[j]!] === g) {
      prims[np++] = primP[j]!;
      if (mapAt[primP[j]!]! < mapVal) mapVal = mapAt[primP[j]!]!;
    }
  const agg = roleAgg(PRI_AGG, PRI_TERMS, nodes, prims, np, vals, ctx.shift);
  const res = resources(inst, true, RES);
  const { n: cn, s: cs, v: cv } = stats;
  for (let q = 0; q < secs.length; q++) {
    const s = secs[q]!;
    if (baseOk[s] === 0) continue;
    const x = vals[s]!;
    const o = s * NCOMP;
    // per component: the statistics after s's change (updateStatsValues'
    // arithmetic), then the bound of the primary's change on top of them
    let r = 0;
    for (let k = 0; k < NCOMP; k++) {
      const kind = KIND[k];
      if (kind === 1) r += W[k]! * (ONLINE[k] ? cs[k]! + (baseBuf[o + k]! - x[k]!) + Math.min(0, minDelta[k]!) : cs[k]!);
      else if (kind === 2) r += W[k]! * mapVal;
      else {
        const n = cn[k]!;
        let s2 = cs[k]!;
        let v2 = cv[k]!;
        if (ONLINE[k]) {
          const a = x[k]!;
          const b = baseBuf[o + k]!;
          const ds = b - a;
          const dss = b * b - a * a;
          const dnnvar = n * dss - 2 * s2 * ds - ds * ds;
          s2 = s2 + ds;
          v2 = Math.max(0, v2 + dnnvar / (n * n));
        }
        const v = agg.variance(k, n, s2 / n - shift[k]!, v2, res[k]!);
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

/** One pair search's state (a class: one object shape for the small functions below). */
class PairSearch {
  readonly counts = COUNTS.fill(0);
  allocs = 0;
  nPrim = 0;
  nTrip = 0;
  /** the smallest change of each online sum component a primary makes (for secondaries' bounds) */
  readonly priMinDelta = MIN_DELTA.fill(Infinity);
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

/** Probe every listed node as the primary; fills the OK primaries (primP, primPos) and okArr. */
function primariesPass(S: PairSearch, listed: readonly number[]): void {
  const { nodes, inst, ctx } = S;
  const slot = ctx.slot;
  const stats = ctx.stats;
  // the policy check of the last policy object seen (nodes usually share one)
  let lastPol: unknown = null;
  let pol: ReturnType<typeof instMatchesPolicy> = true;
  const yp = V2;
  const md = S.priMinDelta;
  let pos = -1;
  let nPrim = 0;
  const mapBase = statValue(stats, MAP_COMPONENT);
  const exclTags = inst.exclTags.length > 0;
  const mapCount = (key: string): number => stats.map.get(key) ?? 0;
  for (let q = 0; q < listed.length; q++) {
    const p = listed[q]!;
    const g = slot[p]!;
    if (g < 0) continue;
    S.anyPair = true;
    pos++;
    const pn = nodes[p]!;
    const nss = ctx.gsecs[g]!.length - 1;
    const yo = p * NCOMP;
    let r: FailMode | null;
    if (priGen[p] === cacheGen && priNode[p] === pn) r = priFail[p]!;
    else {
      // (no exclusive storage on this path: pairSearchApplies)
      if (pn.iPolicy !== lastPol) {
        lastPol = pn.iPolicy;
        pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
      }
      const so = p * 3;
      if (isFail(pol)) {
        r = pol;
        // (a policy failure is no probe failure: never carried)
        priFam[p] = 0;
      } else if (priNode[p] === pn && priFam[p] === family && priFail[p] !== null && failureCarries(priFail[p]!, so)) {
        r = priFail[p]!;
        carried++;
      } else {
        r = probeAddPri(S.force, pn, inst, yp);
        if (r === null) for (let k = 0; k < NCOMP; k++) priVals[yo + k] = yp[k]!;
        priFam[p] = family;
        priSpec[so] = inst.mem;
        priSpec[so + 1] = inst.dsk;
        priSpec[so + 2] = inst.vcpus;
      }
      priGen[p] = cacheGen;
      priNode[p] = pn;
      priFail[p] = r;
    }
    if (r !== null) {
      S.fail(r, nss);
      continue;
    }
    const xp = ctx.vals[p]!;
    mapAt[p] = exclTags && pn.locationTags.size > 0 ? mapBase + exclMapDelta(pn, inst, mapCount) : mapBase;
    primP[nPrim] = p;
    primPos[nPrim] = pos;
    nPrim++;
    okCnt[g] = okCnt[g]! + 1;
    updateStatsInto(stats, xp, priVals, yo, true, PS, PV, yo);
    for (let q2 = 0; q2 < SUMS.length; q2++) {
      const k = SUMS[q2]!;
      const d = priVals[yo + k]! - xp[k]!;
      if (!(d >= md[k]!)) md[k] = d;
    }
    okArr[p] = 1;
  }
  S.nPrim = nPrim;
}

/**
 * Outcome counts: per secondary, the outcome for primaries it shares no
 * instance with (kept in baseOk/baseBuf/baseList), corrected for the peers
 * that change the plan (probed once, and noted as [s, p, entry] in spTrip).
 */
function countsPass(S: PairSearch): void {
  const { nodes, inst, ctx } = S;
  const secNeeded = usesSecMem(inst) ? inst.mem : 0;
  const V0 = V;
  let nTrip = 0;
  for (let g = 0; g < ctx.gids.length; g++) {
    const nOk = okCnt[g]!;
    if (nOk === 0) continue;
    const secs = ctx.gsecs[g]!;
    for (let q = 0; q < secs.length; q++) {
      const s = secs[q]!;
      const sn = nodes[s]!;
      // (a cached base outcome keeps its values in baseBuf/baseList)
      let base: FailMode | null;
      let spc: number[];
      if (secGen[s] === cacheGen && secNode[s] === sn) {
        base = secFail[s]!;
        spc = secSpecial[s]!;
      } else {
        base = probeAddSec(false, false, sn, inst, -1, V0);
        if (base === null) keepValues(ctx.vals[s]!, V0, baseBuf, s * NCOMP, baseList, s * CL);
        secGen[s] = cacheGen;
        secNode[s] = sn;
        secFail[s] = base;
        // the peers whose entry gives a reserved memory other than no entry's
        const bRm = Math.max(sn.rMem, 0 + secNeeded);
        const pl = ctx.peerList[s]!;
        spc = [];
        for (let j = 0; j < pl.length; j += 2) if (!Object.is(Math.max(sn.rMem, pl[j + 1]! + secNeeded), bRm)) spc.push(pl[j]!, UNPROBED);
        secSpecial[s] = spc;
      }
      if (base === null) baseOk[s] = 1;
      let nBase = nOk - okArr[s]!;
      for (let j = 0; j < spc.length; j += 2) {
        const p = spc[j]!;
        if (okArr[p] === 0) continue;
        nBase--;
        let e = spc[j + 1]!;
        if (e === UNPROBED) {
          const r = probeAddSecFits(false, false, sn, inst, p);
          spc[j + 1] = e = r === null ? FITS : ~FM_INDEX.get(r)!;
        }
        if (nTrip * 3 + 3 > spTrip.length) {
          const t = new Int32Array(Math.max(96, spTrip.length * 2));
          t.set(spTrip);
          spTrip = t;
        }
        spTrip[nTrip * 3] = s;
        spTrip[nTrip * 3 + 1] = p;
        spTrip[nTrip * 3 + 2] = e;
        nTrip++;
        if (e >= 0 || e === FITS) S.allocs++;
        else S.fail(FAIL_MODES[~e]!, 1);
      }
      if (base === null) S.allocs += nBase;
      else S.fail(base, nBase);
    }
  }
  S.nTrip = nTrip;
}

/** Group the special pairs by primary: p's are spS/spE[spStart[p + 1] .. spStart[p + 2]). */
function groupSpecials(S: PairSearch, N: number): void {
  const n = S.nTrip;
  spStart.fill(0, 0, N + 2);
  for (let t = 0; t < n; t++) {
    const i = spTrip[t * 3 + 1]! + 1;
    spStart[i] = spStart[i]! + 1;
  }
  // spStart[p + 1]: the end of p's range
  for (let p = 0; p < N; p++) spStart[p + 1] = spStart[p + 1]! + spStart[p]!;
  spStart[N + 1] = n;
  if (spS.length < n) {
    spS = new Int32Array(2 * n);
    spE = new Int32Array(2 * n);
  }
  // counting down from each range's end leaves spStart[p + 1] at its start
  for (let t = 0; t < n; t++) {
    const i = spTrip[t * 3 + 1]! + 1;
    const at = (spStart[i] = spStart[i]! - 1);
    spS[at] = spTrip[t * 3]!;
    spE[at] = spTrip[t * 3 + 2]!;
  }
}

/**
 * Keep a secondary's probe values y in buf at o, and in L at lo the list of
 * the components pairComponent must compute for them: those that depend on
 * the secondary's value (online sums, std devs) and whose value differs from
 * the node's own x (or whose square is not finite).  The others take their
 * fixedValues, which is the same formula with zero differences.
 */
function keepValues(x: Float64Array, y: Float64Array, buf: Float64Array, o: number, L: Int8Array, lo: number): void {
  let c = 0;
  for (let k = 0; k < NCOMP; k++) {
    const v = y[k]!;
    buf[o + k] = v;
    if (DEPENDS[k] && !(Object.is(v, x[k]!) && Number.isFinite(v * v))) L[lo + 1 + c++] = k;
  }
  L[lo] = c;
}

/** A special pair's probe outcome, kept in the pool: its entry (>= 0) or ~failure index. */
function keepSpecial(x: Float64Array, r: FailMode | null, y: Float64Array): number {
  if (r !== null) return ~FM_INDEX.get(r)!;
  const e = spTop++;
  if ((e + 1) * NCOMP > spVals.length) {
    const size = Math.max(64, 2 * (e + 1));
    const nv = new Float64Array(size * NCOMP);
    nv.set(spVals);
    spVals = nv;
    const nl = new Int8Array(size * CL);
    nl.set(spList);
    spList = nl;
  }
  keepValues(x, y, spVals, e * NCOMP, spList, e * CL);
  return e;
}

/** The values of the special pair (s, p) that fits (FITS): probed, kept in the pool, noted in s's list; its entry. */
function specialValues(S: PairSearch, s: number, p: number): number {
  const sn = S.nodes[s]!;
  const e = keepSpecial(S.ctx.vals[s]!, probeAddSec(false, false, sn, S.inst, p, V), V);
  if (e < 0) throw new Error("hail: a special pair's probe changed its outcome");
  const spc = secSpecial[s]!;
  for (let j = 0; j < spc.length; j += 2) if (spc[j] === p) spc[j + 1] = e;
  return e;
}

/** The pairs of the OK primary j: updates S's best pair. */
function scanPrimary(S: PairSearch, j: number, secs: readonly number[], useLB: boolean): void {
  const { ctx } = S;
  const p = primP[j]!;
  const pos = primPos[j]!;
  const sn = ctx.stats.n;
  const so = p * NCOMP;
  fixedValues(sn, PS, PV, so, mapAt[p]!, FIXED);
  setFixed(FIXED);
  const lp = ctx.loc[p]!;
  const locs = ctx.loc;
  const fixLoc = FIXED[LOC]!;
  const a = spStart[p + 1]!;
  const b = spStart[p + 2]!;
  for (let t = a; t < b; t++) {
    mark[spS[t]!] = 1;
    spEntry[spS[t]!] = spE[t]!;
  }
  for (let spos = 0; spos < secs.length; spos++) {
    const s = secs[spos]!;
    if (s === p) continue;
    let y: Float64Array;
    let yo: number;
    let L: Int8Array;
    let lo: number;
    if (mark[s] === 1) {
      let e = spEntry[s]!;
      if (e === FITS) e = specialValues(S, s, p);
      if (e < 0) continue;
      y = spVals;
      yo = e * NCOMP;
      L = spList;
      lo = e * CL;
    } else {
      if (baseOk[s] === 0) continue;
      if (useLB && S.bestPos >= 0 && secLB[s]! > S.bestMetric) continue;
      y = baseBuf;
      yo = s * NCOMP;
      L = baseList;
      lo = s * CL;
    }
    const cl = lp < 0 ? 0 : commonTags(lp, locs[s]!);
    const m =
      cl === 0
        ? pairMetricList(sn, PS, PV, so, ctx.vals[s]!, y, yo, L, lo)
        : pairMetricListLoc(sn, PS, PV, so, ctx.vals[s]!, y, yo, L, lo, cl, fixLoc);
    if (S.bestPos < 0 || m < S.bestMetric || (m === S.bestMetric && (pos > S.bestPos || (pos === S.bestPos && spos > S.bestSpos)))) {
      S.bestMetric = m;
      S.bestPos = pos;
      S.bestSpos = spos;
      S.bestP = p;
      S.bestS = s;
    }
  }
  for (let t = a; t < b; t++) mark[spS[t]!] = 0;
}

// The OK primaries are visited from a binary min-heap on their bounds (only
// the first few are usually visited: no full sort).
function heapDown(n: number, i: number): void {
  const x = heap[i]!;
  const lx = primLb[x]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && primLb[heap[c + 1]!]! < primLb[heap[c]!]!) c++;
    if (!(primLb[heap[c]!]! < lx)) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = x;
}

/** How many heap entries (from position i down) have a bound not above best, up to cap. */
function pendingIn(n: number, i: number, best: number, cap: number): number {
  if (i >= n || cap <= 0 || primLb[heap[i]!]! > best) return 0;
  const l = 1 + pendingIn(n, 2 * i + 1, best, cap - 1);
  return l >= cap ? l : l + pendingIn(n, 2 * i + 2, best, cap - l);
}

/**
 * Best pair: primaries in increasing bound order.  Bounds per secondary
 * over all primaries (its own change exact, the primary's bounded as in
 * primaryBounds with the roles swapped) are computed for a group once its
 * primaries have been visited a few times: a secondary whose bound is above
 * the best metric cannot win or tie with any primary.
 */
function searchPass(S: PairSearch): void {
  const { nodes, inst, ctx } = S;
  const stats = ctx.stats;
  const nPrim = S.nPrim;
  primaryBounds(ctx, stats.n, PS, PV, resources(inst, false, RES), nPrim);
  const G = ctx.gids.length;
  visits.fill(0, 0, G);
  lbDone.fill(0, 0, G);
  for (let j = 0; j < nPrim; j++) heap[j] = j;
  for (let i = (nPrim >> 1) - 1; i >= 0; i--) heapDown(nPrim, i);
  let n = nPrim;
  while (n > 0) {
    const j = heap[0]!;
    if (S.bestPos >= 0 && primLb[j]! > S.bestMetric) break;
    heap[0] = heap[--n]!;
    heapDown(n, 0);
    const g = ctx.slot[primP[j]!]!;
    const nv = (visits[g] = visits[g]! + 1);
    if (nv >= SECLB_AFTER && lbDone[g] === 0 && pendingIn(n, 0, S.bestMetric, SECLB_PENDING) >= SECLB_PENDING) {
      lbDone[g] = 1;
      secondaryBounds(nodes, ctx, g, nPrim, inst, S.priMinDelta, secLB);
    }
    scanPrimary(S, j, ctx.gsecs[g]!, lbDone[g] === 1);
  }
}

/** Size the module's scratch buffers for N nodes and reset them for one search. */
function prepareScratch(N: number, inst: Instance, force: boolean): void {
  if (okArr.length < N) {
    baseBuf = new Float64Array(N * NCOMP);
    baseList = new Int8Array(N * CL);
    baseOk = new Uint8Array(N);
    okArr = new Uint8Array(N);
    mark = new Uint8Array(N);
    spEntry = new Int32Array(N);
    secLB = new Float64Array(N);
    mapAt = new Float64Array(N);
    PS = new Float64Array(N * NCOMP);
    PV = new Float64Array(N * NCOMP);
    primP = new Int32Array(N);
    primPos = new Int32Array(N);
    primLb = new Float64Array(N);
    heap = new Int32Array(N);
    okCnt = new Int32Array(N);
    visits = new Int32Array(N);
    lbDone = new Uint8Array(N);
    spStart = new Int32Array(N + 2);
  }
  okArr.fill(0, 0, N);
  baseOk.fill(0, 0, N);
  okCnt.fill(0, 0, N);
  useCache(N, inst, force);
}

/** One pair search up to the counts (the caller then searches or inspects). */
function startSearch(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  listed: readonly number[],
): PairSearch {
  const ctx = context(nodes, members, listed);
  prepareScratch(nodes.length, inst, force);
  const S = new PairSearch(force, nodes, inst, ctx);
  primariesPass(S, listed);
  if (S.anyPair) {
    countsPass(S);
    groupSpecials(S, nodes.length);
  }
  return S;
}

/**
 * For tests: each listed node's outcome as a primary (by node index; null:
 * it fits) as the pair search sees it, with the outcomes carried from
 * earlier calls.
 */
export function primaryOutcomes(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  listed: readonly number[],
): { outcomes: Map<number, FailMode | null>; carried: number } {
  const c0 = carried;
  const S = startSearch(force, nodes, members, inst, listed);
  const outcomes = new Map<number, FailMode | null>();
  for (const p of listed) if (S.ctx.slot[p]! >= 0) outcomes.set(p, priFail[p]!);
  return { outcomes, carried: carried - c0 };
}

/**
 * For tests: the smallest (metric - secondary bound) over every pair the
 * bound applies to (successful, no special peer entry), and how many pairs
 * that was; the bound is valid when the slack is never negative.
 */
export function secondaryBoundSlack(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst: Instance,
  listed: readonly number[],
): { slack: number; pairs: number } {
  const S = startSearch(force, nodes, members, inst, listed);
  let slack = Infinity;
  let pairs = 0;
  if (!S.anyPair) return { slack, pairs };
  const ctx = S.ctx;
  for (let g = 0; g < ctx.gids.length; g++) {
    const secs = ctx.gsecs[g]!;
    if (okCnt[g] === 0) continue;
    secondaryBounds(nodes, ctx, g, S.nPrim, inst, S.priMinDelta, secLB);
    for (let j = 0; j < S.nPrim; j++) {
      const p = primP[j]!;
      if (ctx.slot[p] !== g) continue;
      const special = new Set<number>();
      for (let t = spStart[p + 1]!; t < spStart[p + 2]!; t++) special.add(spS[t]!);
      for (const s of secs) {
        if (s === p || baseOk[s] === 0 || special.has(s)) continue;
        const m = pairMetric(
          ctx.stats.n,
          PS,
          PV,
          p * NCOMP,
          ctx.vals[s]!,
          baseBuf,
          s * NCOMP,
          mapAt[p]!,
          commonTags(ctx.loc[p]!, ctx.loc[s]!),
        );
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
export function tryAllocPairsProbe(
  force: boolean,
  nodes: readonly Node[],
  members: readonly number[],
  inst0: Instance,
  listed: readonly number[],
): AllocSolution | null {
  // The probes take every candidate's location score as 0; the search adds the pair's own.
  const inst: Instance = inst0.locationScore === 0 ? inst0 : { ...inst0, locationScore: 0 };
  const S = startSearch(force, nodes, members, inst, listed);
  if (!S.anyPair) return null;
  searchPass(S);
  const failures: FailMode[] = [];
  const counts = new Map<FailMode, number>();
  for (let k = 0; k < FAIL_MODES.length; k++) {
    if (S.counts[k]! > 0) {
      failures.push(FAIL_MODES[k]!);
      counts.set(FAIL_MODES[k]!, S.counts[k]!);
    }
  }
  failureCounts.set(failures, counts);
  if (S.bestPos < 0) return { failures, allocs: S.allocs, solution: null, log: [] };
  // The winner, built with the reference primitives.
  const ninst: Instance = { ...inst, locationScore: commonTags(S.ctx.loc[S.bestP]!, S.ctx.loc[S.bestS]!), pNode: S.bestP, sNode: S.bestS };
  const np = addPriEx(force, nodes[S.bestP]!, ninst);
  const ns = isFail(np) ? np : addSec(nodes[S.bestS]!, ninst, S.bestP);
  if (isFail(np) || isFail(ns)) throw new Error("hail: probe search chose a pair the reference rejects");
  const el: AllocElement = { changed: [np, ns], inst: ninst, nodes: [np, ns], metric: S.bestMetric };
  return { failures, allocs: S.allocs, solution: el, log: [] };
}

/**
 * The single-node search's score state of `members` (read only there): the
 * last one is kept while every member is the same node object, so the
 * groups of one allocation, which search the same cluster, share it (hail
 * on 1,000 nodes built it once per group).
 */
let lastSingle: { members: number[]; objs: Node[]; st: ScoreState; updates: number } | null = null;
/**
 * A state that differs from the kept one in at most this many members is
 * derived from it (the changed nodes' values replaced, the sums rebuilt),
 * at most UPDATES_MAX times in a row: the ranking's shift stays the first
 * state's, a centre that the means drift away from as allocations go on.
 */
const UPDATE_NODES = 8;
const UPDATES_MAX = 16;
const CHANGED: number[] = [];
export function singleScoreState(nodes: Node[], members: readonly number[]): ScoreState {
  const c = lastSingle;
  if (c !== null && sameList(c.members, members)) {
    CHANGED.length = 0;
    for (let j = 0; j < members.length && CHANGED.length <= UPDATE_NODES; j++) if (c.objs[j] !== nodes[members[j]!]) CHANGED.push(j);
    if (CHANGED.length === 0) return c.st;
    if (CHANGED.length <= UPDATE_NODES && c.updates < UPDATES_MAX) {
      for (const j of CHANGED) {
        const i = members[j]!;
        c.objs[j] = nodes[i]!;
        c.st.commit(i, nodes[i]!);
      }
      c.st.rebuild();
      c.updates++;
      return c.st;
    }
  }
  const own = [...members];
  const objs: Node[] = [];
  for (let j = 0; j < own.length; j++) objs.push(nodes[own[j]!]!);
  // (its own copy of the node list: the caller's may be written later)
  const st = new ScoreState(nodes.slice(), own);
  lastSingle = { members: own, objs, st, updates: 0 };
  return st;
}

/**
 * tryAlloc over single nodes without a capacity predicate: every candidate is
 * probed and ranked with the shifted-sum evaluator; those within a tolerance
 * far above its rounding error of the best are re-scored with the reference
 * arithmetic (compCV of the whole node list, as alloc.ts does), so the choice
 * and the printed metric are the reference ones.  Ties: the last candidate in
 * enumeration order, as Ganeti's collectionToSolution.  `exactMetric` null:
 * the compCV of `members` with the candidate in place (compCVWith on the
 * score state's node values: the same arithmetic, without recomputing every
 * node's values).
 */
export function tryAllocSingleProbe(
  force: boolean,
  nodes: Node[],
  members: readonly number[],
  inst: Instance,
  single: readonly number[],
  exactMetric: ((np: Node) => number) | null,
): AllocSolution {
  const st = singleScoreState(nodes, members);
  const counts = new Map<FailMode, number>();
  let allocs = 0;
  let best = Infinity;
  let near: Array<{ p: number; approx: number }> = [];
  const zero = ScoreState.newDelta();
  const polMemo = new Map<unknown, ReturnType<typeof instMatchesPolicy>>();
  const exclTags = inst.exclTags.length > 0;
  const mapCount = (key: string): number => st.mapKeys.get(key) ?? 0;
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
    // An offline target changes the offline components, which the ranking
    // (scoreWith: every target online) does not model: it is always scored
    // exactly, and never sets the best ranking value.
    if (pn.offline) {
      near.push({ p, approx: -Infinity });
      continue;
    }
    // (the exclusion map's growth, an exact integer, on top of scoreWith's unchanged map)
    const dm = exclTags && pn.locationTags.size > 0 ? exclMapDelta(pn, inst, mapCount) : 0;
    const approx = dm === 0 ? st.scoreWith(zero, p, V, -1, null) : st.scoreWith(zero, p, V, -1, null) + W[MAP_COMPONENT]! * dm;
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
    // (the map statistic from the state's merged map: exact, without merging every node's map again)
    const metric = exactMetric
      ? exactMetric(np)
      : compCVWith(nodes, members, [np], (i) => st.vals[i]!, st.mapValueWith([nodes[c.p]!], [np]));
    // enumeration order: a later candidate wins ties
    if (chosen === null || !(chosen.metric < metric))
      chosen = { changed: [np], inst: { ...inst, pNode: c.p, sNode: -1 }, nodes: [np], metric };
  }
  return { failures, allocs, solution: chosen, log: [] };
}

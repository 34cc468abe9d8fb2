// Cluster score ("CV"), docs/htools-internals.md, Cluster score.  Two evaluation paths:
//  * compCV / clusterStats: the reference arithmetic (two-pass variance in
//    node order, Ganeti's incremental update formula for hail pairs), so the
//    printed numbers and the tie-breaks match Ganeti bit for bit;
//  * ScoreState: an O(1)-per-node-change evaluator with shifted sums, used to
//    rank hbal candidates quickly; near-ties are re-checked with compCV.
import { hsFixed } from "./format.js";
import { Node, pCpuEff, pCpuEffForth, conflictingPrimaries, peersSum, locExclPairs } from "./node.js";
import type { Instance } from "./types.js";

export const WEIGHTS = [0.5, 0.5, 1, 1, 4, 16, 0.5, 1, 1, 1, 1, 2, 0.5, 0.5, 0.5, 0.5, 0.5, 1, 1, 0.25];
export const NAMES = [
  "free_mem_cv",
  "free_disk_cv",
  "n1_cnt",
  "reserved_mem_cv",
  "offline_all_cnt",
  "offline_pri_cnt",
  "vcpu_ratio_cv",
  "cpu_load_cv",
  "mem_load_cv",
  "disk_load_cv",
  "net_load_cv",
  "pri_tags_score",
  "spindles_cv",
  "free_mem_cv_forth",
  "free_disk_cv_forth",
  "vcpu_ratio_cv_forth",
  "spindles_cv_forth",
  "location_score",
  "location_exclusion_score",
  "reserved_mem_rtotal",
];
// Aggregation kind per component: 0 = std dev, 1 = sum, 2 = map statistic.
export const KIND = [0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 1];
// Whether the component aggregates online (true) or offline (false) nodes.
export const ONLINE = [
  true,
  true,
  true,
  true,
  false,
  false,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
];
export const NCOMP = 20;
const MAPIDX = 18;
/** The location-exclusion map statistic's component index. */
export const MAP_COMPONENT = MAPIDX;
const ONLINE_STD = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 0 && ONLINE[k]);
const SUM_KIND = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 1);
// the components an online (offline) node aggregates into: all, std-dev ones, sums
const ONLINE_K = [...Array(NCOMP).keys()].filter((k) => ONLINE[k]);
const OFFLINE_K = [...Array(NCOMP).keys()].filter((k) => !ONLINE[k]);
const OFFLINE_STD_K = OFFLINE_K.filter((k) => KIND[k] === 0);
const ONLINE_SUM_K = ONLINE_K.filter((k) => KIND[k] === 1);
const OFFLINE_SUM_K = OFFLINE_K.filter((k) => KIND[k] === 1);

/** Per-node component values (index 18, the map statistic, is unused here). */
export function nodeValues(n: Node, out: Float64Array): void {
  const ipri = n.pList.length;
  const isec = n.sList.length;
  out[0] = n.pMem;
  out[1] = n.pDsk;
  out[2] = n.failN1 ? isec + ipri : 0;
  out[3] = n.pRem;
  out[4] = ipri + isec;
  out[5] = ipri;
  out[6] = pCpuEff(n);
  out[7] = n.utilLoad[0] / n.utilPool[0];
  out[8] = n.utilLoad[1] / n.utilPool[1];
  out[9] = n.utilLoad[2] / n.utilPool[2];
  out[10] = n.utilLoad[3] / n.utilPool[3];
  out[11] = conflictingPrimaries(n);
  out[12] = n.instSpindles / n.hiSpindles;
  out[13] = n.pMemForth;
  out[14] = n.pDskForth;
  out[15] = pCpuEffForth(n);
  out[16] = n.instSpindlesForth / n.hiSpindles;
  out[17] = n.locationScore;
  out[18] = 0;
  out[19] = n.pRem;
}

/** Ganeti's Statistics: sum / (n, sum, variance) / merged map. */
export interface Stats {
  n: Float64Array; // count per component (sd only)
  s: Float64Array; // sum
  v: Float64Array; // variance (sd only)
  map: Map<string, number>;
}

function mapValue(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s - m.size;
}

/**
 * How much the location-exclusion map statistic (Σcount − #keys over the
 * online nodes' instance maps) grows when `inst` is added as a primary to
 * the online node n, given each key's count before (`count`): an added
 * (location, exclusion tag) key already present, or added earlier in the
 * same list, adds one; a new key adds nothing.  An exact integer.
 */
export function exclMapDelta(n: Node, inst: Instance, count: (key: string) => number): number {
  if (n.locationTags.size === 0 || inst.exclTags.length === 0) return 0;
  const keys = locExclPairs(n, inst);
  let d = 0;
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j]!;
    let present = count(key) > 0;
    for (let q = 0; q < j && !present; q++) if (keys[q] === key) present = true;
    if (present) d++;
  }
  return d;
}

/** Full statistics with the reference (two-pass) arithmetic. */
export function clusterStats(nodes: readonly Node[]): Stats {
  const on: Node[] = [];
  const off: Node[] = [];
  for (const n of nodes) (n.offline ? off : on).push(n);
  const vals = (ns: Node[]): Float64Array[] =>
    ns.map((n) => {
      const a = new Float64Array(NCOMP);
      nodeValues(n, a);
      return a;
    });
  return statsOfValues(vals(on), vals(off), on);
}

/**
 * clusterStats' arithmetic on node values already computed (online and
 * offline nodes each in node order): sums, then the two-pass variance.
 * `withMap` false: the merged location-exclusion map is left empty (callers
 * that know its statistic).  (Indexed loops: this runs mostly unoptimised,
 * where for-of costs an iterator step per value.)
 */
function statsOfValues(valsOn: readonly Float64Array[], valsOff: readonly Float64Array[], onNodes: readonly Node[], withMap = true): Stats {
  const st: Stats = { n: new Float64Array(NCOMP), s: new Float64Array(NCOMP), v: new Float64Array(NCOMP), map: new Map() };
  for (let k = 0; k < NCOMP; k++) {
    const vals = ONLINE[k] ? valsOn : valsOff;
    const len = vals.length;
    if (KIND[k] === 1) {
      let s = 0;
      for (let j = 0; j < len; j++) s = s + vals[j]![k]!;
      st.s[k] = s;
    } else if (KIND[k] === 0) {
      // (the count is the list's length: counting one by one gives the same double)
      const cnt = len;
      let s = 0;
      for (let j = 0; j < len; j++) s = s + vals[j]![k]!;
      const mean = s / cnt;
      let nv = 0;
      for (let j = 0; j < len; j++) {
        const d = vals[j]![k]! - mean;
        nv = nv + d * d;
      }
      st.n[k] = cnt;
      st.s[k] = s;
      st.v[k] = nv / cnt;
    }
  }
  if (withMap) {
    const m = st.map;
    for (let j = 0; j < onNodes.length; j++) for (const [key, c] of onNodes[j]!.instanceMap) m.set(key, (m.get(key) ?? 0) + c);
  }
  return st;
}

export function statValue(st: Stats, k: number): number {
  switch (KIND[k]) {
    case 1:
      return st.s[k]!;
    case 0:
      return Math.sqrt(st.v[k]!);
    default:
      return mapValue(st.map);
  }
}

export function cvFromStats(st: Stats): number {
  let r = 0;
  for (let k = 0; k < NCOMP; k++) r = r + WEIGHTS[k]! * statValue(st, k);
  return r;
}

export function detailedCV(nodes: readonly Node[]): number[] {
  if (!nodes.some((n) => !n.offline)) return [];
  const st = clusterStats(nodes);
  const r: number[] = [];
  for (let k = 0; k < NCOMP; k++) r.push(statValue(st, k));
  return r;
}

/** The cluster score of a node list (reference arithmetic). */
export function compCV(nodes: readonly Node[]): number {
  // Ganeti zips the component list with the transposed online values: with
  // no online node there are no components at all, so the score is 0.
  if (!nodes.some((n) => !n.offline)) return 0;
  return cvFromStats(clusterStats(nodes));
}

const cvOn: Float64Array[] = [];
const cvOff: Float64Array[] = [];
const cvOnNodes: Node[] = [];
const cvChanged: Float64Array[] = [];
const NO_NODES: readonly Node[] = [];

/**
 * clusterStats' online/offline split of the nodes `members` (node indices,
 * in order) with the `changed` nodes in place of the current ones, into the
 * module's scratch lists (valid until the next call): the values of the
 * others come from `valuesAt` (already computed nodeValues), so the
 * arithmetic, its order and the result are clusterStats', without
 * recomputing every node.
 */
function splitValues(
  nodes: readonly Node[],
  members: readonly number[],
  valuesAt: (i: number) => Float64Array,
  changed: readonly Node[],
): void {
  cvOn.length = cvOff.length = cvOnNodes.length = 0;
  while (cvChanged.length < changed.length) cvChanged.push(new Float64Array(NCOMP));
  for (let j = 0; j < changed.length; j++) nodeValues(changed[j]!, cvChanged[j]!);
  for (let q = 0; q < members.length; q++) {
    const i = members[q]!;
    let n = nodes[i]!;
    let v: Float64Array | null = null;
    for (let j = 0; j < changed.length; j++)
      if (changed[j]!.idx === i) {
        n = changed[j]!;
        v = cvChanged[j]!;
      }
    if (v === null) v = valuesAt(i);
    if (n.offline) cvOff.push(v);
    else {
      cvOn.push(v);
      cvOnNodes.push(n);
    }
  }
}

/** clusterStats of the nodes `members` from their values (splitValues): the same bits. */
export function statsOfMembers(
  nodes: readonly Node[],
  members: readonly number[],
  valuesAt: (i: number) => Float64Array,
  changed: readonly Node[] = NO_NODES,
): Stats {
  splitValues(nodes, members, valuesAt, changed);
  return statsOfValues(cvOn, cvOff, cvOnNodes);
}

/**
 * compCV of the nodes `members` with the `changed` nodes in place of the
 * current ones, from values (splitValues).  `mapVal`: the location-exclusion
 * map statistic of that state when the caller has it (ScoreState
 * mapValueWith: an exact integer, the value the merged map would give), so
 * the merge of every online node's map is skipped.
 */
export function compCVWith(
  nodes: readonly Node[],
  members: readonly number[],
  changed: readonly Node[],
  valuesAt: (i: number) => Float64Array,
  mapVal?: number,
): number {
  splitValues(nodes, members, valuesAt, changed);
  if (cvOnNodes.length === 0) return 0;
  if (mapVal === undefined) return cvFromStats(statsOfValues(cvOn, cvOff, cvOnNodes));
  const st = statsOfValues(cvOn, cvOff, cvOnNodes, false);
  let r = 0;
  for (let k = 0; k < NCOMP; k++) r = r + WEIGHTS[k]! * (KIND[k] === 2 ? mapVal : statValue(st, k));
  return r;
}

const tmpA = new Float64Array(NCOMP);
const tmpB = new Float64Array(NCOMP);

/** Ganeti's updateStatistics for one node change (old -> new), in place on a copy. */
export function updateStats(st: Stats, oldN: Node, newN: Node): Stats {
  nodeValues(oldN, tmpA);
  nodeValues(newN, tmpB);
  const online = !oldN.offline;
  const r = updateStatsValues(st, tmpA, tmpB, online);
  if (online && oldN.instanceMap !== newN.instanceMap) {
    const m = new Map(r.map);
    for (const [key, c] of oldN.instanceMap) m.set(key, (m.get(key) ?? 0) - c);
    for (const [key, c] of newN.instanceMap) m.set(key, (m.get(key) ?? 0) + c);
    r.map = m;
  }
  return r;
}

/** updateStats from the node's component values x -> y (the map statistic unchanged). */
function updateStatsValues(st: Stats, x: Float64Array, y: Float64Array, online: boolean): Stats {
  const r: Stats = { n: st.n, s: new Float64Array(NCOMP), v: new Float64Array(NCOMP), map: st.map };
  updateStatsInto(st, x, y, 0, online, r.s, r.v, 0);
  return r;
}

/**
 * updateStatsValues' arithmetic with the new node values at y[yo..], the
 * new sums and variances written to outS/outV at o (no allocation; hail's
 * pair search keeps one row per primary).
 */
export function updateStatsInto(
  st: Stats,
  x: Float64Array,
  y: Float64Array,
  yo: number,
  online: boolean,
  outS: Float64Array,
  outV: Float64Array,
  o: number,
): void {
  for (let k = 0; k < NCOMP; k++) {
    let sk = st.s[k]!;
    let vk = st.v[k]!;
    if (ONLINE[k] === online) {
      const a = x[k]!;
      const b = y[yo + k]!;
      if (KIND[k] === 1) sk = sk + (b - a);
      else if (KIND[k] === 0) {
        const n = st.n[k]!;
        const ds = b - a;
        const dss = b * b - a * a;
        const dnnvar = n * dss - 2 * sk * ds - ds * ds;
        sk = sk + ds;
        vk = Math.max(0, vk + dnnvar / (n * n));
      }
    }
    outS[o + k] = sk;
    outV[o + k] = vk;
  }
}

/** Lower bound for the score used by hbal's stop condition. */
export function optimalCVScore(nodes: readonly Node[]): number {
  if (nodes.length <= 1) return 0;
  let total = 0;
  let mx = -Infinity;
  let drbd = 0;
  for (const n of nodes) {
    total += n.tMem;
    if (n.tMem > mx) mx = n.tMem;
    drbd += peersSum(n.peers);
  }
  const less = total - mx;
  if (!(less > 0)) return 0;
  return 0.25 * (drbd / less - drbd / total);
}

export function printStatsTable(prefix: string, nodes: readonly Node[]): string {
  const vals = detailedCV(nodes);
  // (no online node: no values, and Ganeti's zip of names and values prints no rows)
  const rows = NAMES.slice(0, vals.length).map((nm, k) => [nm, hsFixed(vals[k]!, 8), "x" + hsFixed(WEIGHTS[k]!, 2)]);
  return formatTable(prefix, ["Field", "Value", "Weight"], rows, [false, true, true]);
}

/** Ganeti's printTable: columns padded to the widest cell, numbers right-aligned. */
export function formatTable(prefix: string, header: string[], rows: string[][], isNum: boolean[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const lines = all.map(
    (r) => prefix + " " + r.map((cell, c) => (isNum[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(" "),
  );
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------
// Fast incremental evaluator (shifted sums) for ranking hbal candidates.

export class ScoreState {
  // per online component: shift c, count, Σ(x−c), Σ(x−c)²; sums for sum-kinds
  readonly shift = new Float64Array(NCOMP);
  readonly cnt = new Float64Array(NCOMP);
  readonly s1 = new Float64Array(NCOMP);
  readonly s2 = new Float64Array(NCOMP);
  readonly sum = new Float64Array(NCOMP);
  mapSum = 0; // Σ counts
  mapKeys = new Map<string, number>();
  readonly vals: Float64Array[]; // current per-node values, by node idx

  constructor(
    readonly nodes: Node[],
    readonly members: number[],
  ) {
    this.vals = [];
    for (let j = 0; j < members.length; j++) {
      const i = members[j]!;
      const a = new Float64Array(NCOMP);
      nodeValues(nodes[i]!, a);
      this.vals[i] = a;
    }
    this.rebuild();
  }

  private shiftSet = false;

  // (Indexed loops over the components each node aggregates into, and the
  // map's forEach: this runs mostly unoptimised, where for-of costs an
  // iterator step, and a map entry an array, per value.  Each sum still
  // adds the nodes in member order: the same values.)
  rebuild(): void {
    this.cnt.fill(0);
    this.s1.fill(0);
    this.s2.fill(0);
    this.sum.fill(0);
    const members = this.members;
    const cnt = this.cnt;
    const mean = new Float64Array(NCOMP);
    for (let j = 0; j < members.length; j++) {
      const i = members[j]!;
      const ks = this.nodes[i]!.offline ? OFFLINE_K : ONLINE_K;
      const a = this.vals[i]!;
      for (let q = 0; q < ks.length; q++) {
        const k = ks[q]!;
        mean[k] = mean[k]! + a[k]!;
        cnt[k] = cnt[k]! + 1;
      }
    }
    // The shift is fixed at the first build: callers cache deltas relative to
    // it (balance-probe.ts); moves barely move the means, so it stays a good
    // centre for the shifted sums.
    if (!this.shiftSet) for (let k = 0; k < NCOMP; k++) this.shift[k] = cnt[k]! > 0 ? mean[k]! / cnt[k]! : 0;
    this.shiftSet = true;
    const shift = this.shift;
    const s1 = this.s1;
    const s2 = this.s2;
    const sum = this.sum;
    for (let j = 0; j < members.length; j++) {
      const i = members[j]!;
      const off = this.nodes[i]!.offline;
      const a = this.vals[i]!;
      const ks = off ? OFFLINE_STD_K : ONLINE_STD;
      for (let q = 0; q < ks.length; q++) {
        const k = ks[q]!;
        const d = a[k]! - shift[k]!;
        s1[k] = s1[k]! + d;
        s2[k] = s2[k]! + d * d;
      }
      const ss = off ? OFFLINE_SUM_K : ONLINE_SUM_K;
      for (let q = 0; q < ss.length; q++) {
        const k = ss[q]!;
        sum[k] = sum[k]! + a[k]!;
      }
    }
    const keys = new Map<string, number>();
    let mapSum = 0;
    const addKey = (c: number, key: string): void => {
      keys.set(key, (keys.get(key) ?? 0) + c);
      mapSum += c;
    };
    for (let j = 0; j < members.length; j++) {
      const n = this.nodes[members[j]!]!;
      if (!n.offline && n.instanceMap.size > 0) n.instanceMap.forEach(addKey);
    }
    this.mapKeys = keys;
    this.mapSum = mapSum;
  }

  /** Replace node i's state (after a move is committed). */
  commit(i: number, n: Node): void {
    this.nodes[i] = n;
    nodeValues(n, this.vals[i]!);
  }

  private d1 = new Float64Array(NCOMP);
  private d2 = new Float64Array(NCOMP);
  private ds = new Float64Array(NCOMP);
  private scratch = new Float64Array(NCOMP);

  /** Approximate score if nodes `olds[j]` are replaced by `news[j]`. */
  evaluate(olds: readonly Node[], news: readonly Node[]): number {
    const d1 = this.d1;
    const d2 = this.d2;
    const ds = this.ds;
    d1.fill(0);
    d2.fill(0);
    ds.fill(0);
    const sc = this.scratch;
    let mapChanged = false;
    for (let j = 0; j < olds.length; j++) {
      const o = olds[j]!;
      const nn = news[j]!;
      const a = this.vals[o.idx]!;
      nodeValues(nn, sc);
      const off = o.offline;
      for (let k = 0; k < NCOMP; k++) {
        if (ONLINE[k] === off) continue;
        if (KIND[k] === 0) {
          const c = this.shift[k]!;
          const x = a[k]! - c;
          const y = sc[k]! - c;
          d1[k] = d1[k]! + (y - x);
          d2[k] = d2[k]! + (y * y - x * x);
        } else ds[k] = ds[k]! + (sc[k]! - a[k]!);
      }
      if (!off && o.instanceMap !== nn.instanceMap) mapChanged = true;
    }
    let r = 0;
    for (let k = 0; k < NCOMP; k++) {
      let v: number;
      if (KIND[k] === 0) {
        const n = this.cnt[k]!;
        const m1 = (this.s1[k]! + d1[k]!) / n;
        const var_ = (this.s2[k]! + d2[k]!) / n - m1 * m1;
        v = Math.sqrt(var_ > 0 ? var_ : 0);
      } else if (KIND[k] === 1) v = this.sum[k]! + ds[k]!;
      else v = mapChanged ? this.mapValueWith(olds, news) : this.mapSum - this.mapKeys.size;
      r += WEIGHTS[k]! * v;
    }
    return r;
  }

  // ---- vector path (probe.ts): callers pass component values, not Nodes ----

  private fixScratch = new Float64Array(3 * NCOMP);

  /** The sum components (and the unchanged map statistic) with the change `fix`. */
  sumTerms(fix: Float64Array): number {
    let r = 0;
    for (let q = 0; q < SUM_KIND.length; q++) {
      const k = SUM_KIND[q]!;
      r += WEIGHTS[k]! * (this.sum[k]! + fix[2 * NCOMP + k]!);
    }
    return r + WEIGHTS[MAPIDX]! * (this.mapSum - this.mapKeys.size);
  }

  /** Zero a delta accumulator (d1 | d2 | ds, NCOMP each). */
  static newDelta(): Float64Array {
    return new Float64Array(3 * NCOMP);
  }

  /** Add to `acc` the change of node i from its committed values to `v`. */
  accumulate(i: number, v: Float64Array, acc: Float64Array): void {
    const a = this.vals[i]!;
    const off = this.nodes[i]!.offline;
    for (let k = 0; k < NCOMP; k++) {
      if (ONLINE[k] === off) continue;
      if (KIND[k] === 0) {
        const c = this.shift[k]!;
        const x = a[k]! - c;
        const y = v[k]! - c;
        acc[k] = acc[k]! + (y - x);
        acc[NCOMP + k] = acc[NCOMP + k]! + (y * y - x * x);
      } else if (KIND[k] === 1) acc[2 * NCOMP + k] = acc[2 * NCOMP + k]! + (v[k]! - a[k]!);
    }
  }

  /**
   * Approximate score with the fixed change `fix` plus online node i going to
   * `v` (and, if j >= 0, online node j going to `w`).  The map statistic is
   * taken as unchanged: callers use this only when no node has location tags.
   */
  scoreWith(fix: Float64Array, i: number, v: Float64Array, j: number, w: Float64Array | null): number {
    if (j >= 0 && this.nodes[j]!.offline) {
      const tmp = this.fixScratch;
      tmp.set(fix);
      this.accumulate(j, w!, tmp);
      return this.scoreWith(tmp, i, v, -1, null);
    }
    const a = this.vals[i]!;
    const b = j >= 0 ? this.vals[j]! : null;
    let r = 0;
    for (let q = 0; q < ONLINE_STD.length; q++) {
      const k = ONLINE_STD[q]!;
      const c = this.shift[k]!;
      const x = a[k]! - c;
      const y = v[k]! - c;
      let d1 = fix[k]! + (y - x);
      let d2 = fix[NCOMP + k]! + (y * y - x * x);
      if (b !== null) {
        const x2 = b[k]! - c;
        const y2 = w![k]! - c;
        d1 += y2 - x2;
        d2 += y2 * y2 - x2 * x2;
      }
      const n = this.cnt[k]!;
      const m1 = (this.s1[k]! + d1) / n;
      const var_ = (this.s2[k]! + d2) / n - m1 * m1;
      r += WEIGHTS[k]! * Math.sqrt(var_ > 0 ? var_ : 0);
    }
    for (let q = 0; q < SUM_KIND.length; q++) {
      const k = SUM_KIND[q]!;
      let s = this.sum[k]! + fix[2 * NCOMP + k]!;
      if (ONLINE[k]) {
        s += v[k]! - a[k]!;
        if (b !== null) s += w![k]! - b[k]!;
      }
      r += WEIGHTS[k]! * s;
    }
    return r + WEIGHTS[MAPIDX]! * (this.mapSum - this.mapKeys.size);
  }

  /**
   * The location-exclusion map statistic with nodes `olds[j]` replaced by
   * `news[j]`: exact (integer counts), the value statsOfValues' merged map
   * gives, since every count in a node's map is positive (a key is in the
   * merged map exactly when its total is not zero).
   */
  mapValueWith(olds: readonly Node[], news: readonly Node[]): number {
    const delta = new Map<string, number>();
    let dsum = 0;
    for (let j = 0; j < olds.length; j++) {
      const o = olds[j]!;
      if (o.offline) continue;
      for (const [k, c] of o.instanceMap) {
        delta.set(k, (delta.get(k) ?? 0) - c);
        dsum -= c;
      }
      for (const [k, c] of news[j]!.instanceMap) {
        delta.set(k, (delta.get(k) ?? 0) + c);
        dsum += c;
      }
    }
    let size = this.mapKeys.size;
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const before = this.mapKeys.get(k) ?? 0;
      const after = before + d;
      if (before === 0 && after !== 0) size++;
      else if (before !== 0 && after === 0) size--;
    }
    return this.mapSum + dsum - size;
  }
}

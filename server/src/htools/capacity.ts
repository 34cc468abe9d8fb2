// The global N+1 check's re-placement search (alloc.ts canEvacuateNode):
// the node tryAllocSingleProbe (alloc-probe.ts) would choose for an
// instance of a failed node, without rebuilding a score state per search.
//
// One CapacityMemo serves all the states a tryAlloc call checks: they differ
// from its node list (`base`) in a few nodes each, so
//  * node values are computed once per base node object (nodes are never
//    changed in place: node.ts primitives return copies);
//  * the shifted sums of a state are the base's sums plus its changed
//    nodes' deltas, with one shift (the base's means) for all states.
// The ranking is approximate (as ScoreState's: rounding, and constant terms
// left out), so as in tryAllocSingleProbe every candidate within a
// tolerance far above that error of the best is kept, and when more than
// one is, they are compared with the reference arithmetic (compCVWith on
// the state's values in member order: compCV's result bit for bit). With
// one candidate left, it is the exact choice and its score is not needed
// (canEvacuateNode only applies it).
import type { Instance, OpResult } from "./types.js";
import { isFail } from "./types.js";
import { Node, addPriEx, checkMigration, failoverFits, fitsAllForced } from "./node.js";
import { instMatchesPolicy } from "./instance.js";
import { KIND, MAP_COMPONENT, NCOMP, ONLINE, WEIGHTS, compCVWith, exclMapDelta, nodeValues } from "./metrics.js";
import { probeAddPri } from "./probe.js";
import { singleSearchApplies } from "./alloc-probe.js";
import type { Track } from "./alloc.js";

/** Online std-dev components (the ranked ones) and online sum components. */
const STD = Int32Array.from([...Array(NCOMP).keys()].filter((k) => KIND[k] === 0 && ONLINE[k]));
const SUM_ON = Int32Array.from([...Array(NCOMP).keys()].filter((k) => KIND[k] === 1 && ONLINE[k]));
const W = Float64Array.from(WEIGHTS);
const Y = new Float64Array(NCOMP);
const NSTD = STD.length;
const WS = Float64Array.from(STD, (k) => WEIGHTS[k]!);
/** A probe row: status, weighted sum change, NSTD d1 terms, NSTD d2 terms. */
const STRIDE = 2 + 2 * NSTD;
const UNKNOWN = 0;
const OK = 1;
const FAILS = 2;
const ONE = new Float64Array(STRIDE);
/** Doubles of memoised probe rows per tryAlloc (32 MB): beyond it, instances are probed afresh. */
const ROW_BUDGET = 1 << 22;
const TOL_ABS = 1e-9;
const TOL_REL = 1e-11;

/**
 * canEvacuateNode's DRBD failovers of one node (alloc.ts): the node objects
 * read (at `reads`, before the chain) and instances failed over, and the
 * outcome: the final objects of the changed nodes.
 */
export interface FailoverChain {
  reads: number[];
  objs: Array<Node | undefined>;
  drbd: Instance[];
  ok: boolean;
  nodes: Node[];
}

interface Near {
  p: number;
  approx: number;
}

/**
 * What the capacity checks of one run (a hail request, an hspace run) carry
 * from one checked state to the next, whatever node list each state derives
 * from.  Nothing here can change an answer: a chain is used only while every
 * node and instance object it read is the same (nodes and instances are
 * never changed in place), and `lastFail` only decides which node a check
 * asks first (the answer is the conjunction over all nodes).
 */
export class CapacityRun {
  /**
   * the last few failover chains per node index, the latest first (alloc.ts
   * checks their inputs): the states of one tryAlloc alternate between a
   * node's base object and the checked candidate's copies
   */
  readonly chains: Array<FailoverChain[] | undefined> = [];
  /** the node that made the last failing check fail, or -1 */
  lastFail = -1;
  /** the failover chains' parts per node index, the latest first (alloc.ts failoverTracks) */
  readonly tracks: Array<Track[] | undefined> = [];
  /** per failed node, the target that last took all its re-placed instances (a hint: tried first) */
  readonly witness: number[] = [];
  /** per node index, the inputs of its last evacuation check that passed without a search (alloc.ts stillPasses) */
  readonly passed: Array<PassedCheck | undefined> = [];
  /** per node object, its parts of forced failovers computed so far (passesWithoutSearch), the latest first */
  readonly fits = new WeakMap<Node, FitPart[]>();
  /**
   * How many times in a row the N+1 check rejected the unchecked pair
   * search's choice (alloc.ts uncheckedFirst): from MISSES_KEPT on, the run's
   * checked pair searches no longer start from it (each rejection cost an
   * unchecked search on top of the checked one).  Only the time depends on it.
   */
  uncheckedMisses = 0;
}

/**
 * One node's part of forced DRBD failovers (node.ts failoverFits): the node
 * object, the instances failed over and the node's role, and the outcome
 * (the three fields after them, or null: a check failed).  A function of
 * these objects alone (nodes and instances are never changed in place), so
 * a check of a later state whose node and instances are the same objects
 * takes it as it is: when a state changes the target that takes a node's
 * re-placed instances, or one of its instances' secondaries, the other
 * parts of the node's check are not redone.
 */
interface FitPart {
  insts: readonly Instance[];
  takesOver: boolean;
  st: readonly number[] | null;
}

/** Parts kept per node object. */
const FITS_KEPT = 8;

/**
 * Everything an evacuation check that passed without the re-placement
 * search read: the node objects at `reads` (the failed node first, its
 * instances' secondaries, the target that takes all re-placed instances)
 * and the failed node's instances.  The same objects give the same answer.
 */
export interface PassedCheck {
  reads: number[];
  objs: Node[];
  insts: Instance[];
}

export class CapacityMemo {
  private readonly baseVals: Array<Float64Array | undefined> = [];
  /** the last other node object whose values were asked for, per index, and its values */
  private readonly slotNode: Array<Node | undefined> = [];
  private readonly slotVals: Float64Array[] = [];
  private readonly shift = new Float64Array(NCOMP);
  private readonly b1 = new Float64Array(NCOMP);
  private readonly b2 = new Float64Array(NCOMP);
  private readonly s1 = new Float64Array(NCOMP);
  private readonly s2 = new Float64Array(NCOMP);
  private readonly q1 = new Float64Array(NSTD);
  private readonly q2 = new Float64Array(NSTD);
  private readonly fixed = new Float64Array(NSTD);
  private readonly applies = new Map<Instance, boolean>();
  private readonly rows = new Map<Instance, Float64Array>();
  private rowDoubles = 0;
  /** the run's failover chains (CapacityRun.chains) */
  readonly chains: Array<FailoverChain[] | undefined>;
  private readonly policy = new Map<Instance, Map<unknown, OpResult<true>>>();

  private onCount = -1;

  /**
   * `base`: the node list the checked states derive from; `members`: the
   * nodes in scope; `run`: what this memo shares with the run's other
   * memos (a new one when not given).
   */
  constructor(
    readonly base: readonly Node[],
    private readonly members: readonly number[],
    readonly run: CapacityRun = new CapacityRun(),
  ) {
    this.chains = run.chains;
  }

  /**
   * The base's shift (the online means) and shifted sums, on the first
   * search (a check whose nodes have no instance to re-place needs none).
   */
  private baseSums(): void {
    if (this.onCount >= 0) return;
    const { base, members } = this;
    let on = 0;
    for (let j = 0; j < members.length; j++) {
      const n = base[members[j]!]!;
      if (n.offline) continue;
      on++;
      const a = this.baseValues(n.idx);
      for (let q = 0; q < STD.length; q++) {
        const k = STD[q]!;
        this.shift[k] = this.shift[k]! + a[k]!;
      }
    }
    this.onCount = on;
    for (let q = 0; q < STD.length; q++) this.shift[STD[q]!] = on > 0 ? this.shift[STD[q]!]! / on : 0;
    for (let j = 0; j < members.length; j++) {
      const n = base[members[j]!]!;
      if (n.offline) continue;
      const a = this.baseValues(n.idx);
      for (let q = 0; q < STD.length; q++) {
        const k = STD[q]!;
        const d = a[k]! - this.shift[k]!;
        this.b1[k] = this.b1[k]! + d;
        this.b2[k] = this.b2[k]! + d * d;
      }
    }
  }

  private baseValues(i: number): Float64Array {
    let a = this.baseVals[i];
    if (a === undefined) {
      a = new Float64Array(NCOMP);
      nodeValues(this.base[i]!, a);
      this.baseVals[i] = a;
    }
    return a;
  }

  /**
   * Node values of a node object: memoised for base objects; for others the
   * last object per index is kept, in one buffer per index (callers use the
   * values at once, and never hold two objects of one index).
   */
  valuesOf(n: Node): Float64Array {
    const i = n.idx;
    if (this.base[i] === n) return this.baseValues(i);
    let a = this.slotVals[i];
    if (a === undefined) {
      a = new Float64Array(NCOMP);
      this.slotVals[i] = a;
    } else if (this.slotNode[i] === n) return a;
    nodeValues(n, a);
    this.slotNode[i] = n;
    return a;
  }

  /** singleSearchApplies for this scope (it reads only the instance and the nodes' storage and location tags, which copies keep). */
  searchApplies(ns: readonly Node[], present: readonly number[], inst: Instance): boolean {
    let r = this.applies.get(inst);
    if (r === undefined) {
      r = singleSearchApplies(ns, present, inst);
      this.applies.set(inst, r);
    }
    return r;
  }

  private policyOf(inst: Instance, n: Node): OpResult<true> {
    let m = this.policy.get(inst);
    if (m === undefined) {
      m = new Map();
      this.policy.set(inst, m);
    }
    let r = m.get(n.iPolicy);
    if (r === undefined) {
      r = instMatchesPolicy(inst, n.iPolicy, n.exclStorage);
      m.set(n.iPolicy, r);
    }
    return r;
  }

  /**
   * Whether canEvacuateNode(n) passes without its re-placement search, and
   * if so what it read (a PassedCheck), else null (which says nothing: the
   * caller runs the failovers and the search).  It passes when
   *  * n's DRBD failovers all succeed, computed one node at a time on the
   *    three fields the forced checks read (node.ts failoverFits: a
   *    failover changes only its primary and secondary, each by its own
   *    primitives, so each node's part depends only on that node and the
   *    instances; the migration check reads tags that copies keep), and
   *  * one target takes all of `rec` (n's instances to re-place, in
   *    canEvacuateNode's order) in turn, on its state after the failovers:
   *    then the search cannot fail, whichever targets it chooses.  At each
   *    step that target has taken a subset of the instances before it
   *    (those the search put there), and the forced checks
   *    (fitsAllForced) only compare free memory and disk against the
   *    instance's size, which taking fewer instances can only leave larger
   *    (rounding is monotone; the sizes are checked to be non-negative).
   *    Exclusive storage targets are not used (their spindle count can
   *    reset to -1).
   */
  passesWithoutSearch(
    ns: readonly Node[],
    present: readonly number[],
    n: Node,
    pl: Instance[],
    drbd: readonly Instance[],
    rec: readonly Instance[],
  ): PassedCheck | null {
    for (let j = 0; j < rec.length; j++) {
      const r = rec[j]!;
      if (!r.forthcoming && !(r.mem >= 0 && r.dsk >= 0)) return null;
    }
    const reads = [n.idx];
    const objs = [n];
    const after: Array<readonly number[]> = [];
    if (drbd.length > 0) {
      if (this.fitsOf(n, drbd, false) === null) return null;
      for (let k = 0; k < drbd.length; k++) {
        const j = drbd[k]!.sNode;
        if (reads.includes(j)) continue;
        const s = ns[j];
        if (s === undefined || isFail(checkMigration(n, s))) return null;
        let mine = drbd;
        for (let q = 0; q < drbd.length; q++)
          if (drbd[q]!.sNode !== j) {
            mine = drbd.filter((i) => i.sNode === j);
            break;
          }
        const ss = this.fitsOf(s, mine, true);
        if (ss === null) return null;
        reads.push(j);
        objs.push(s);
        after.push(ss);
      }
    }
    const p: PassedCheck = { reads, objs, insts: pl };
    if (rec.length === 0) return p;
    const hints = this.run.witness;
    const prev = hints[n.idx] ?? -1;
    let t = -1;
    if (prev >= 0 && this.takesAllOn(ns, n, prev, rec, reads, after)) t = prev;
    for (let j = 0; j < present.length && t < 0; j++) {
      const x = present[j]!;
      if (x !== prev && this.takesAllOn(ns, n, x, rec, reads, after)) t = hints[n.idx] = x;
    }
    if (t < 0) return null;
    reads.push(t);
    objs.push(ns[t]!);
    return p;
  }

  /** failoverFits(t, insts, takesOver) from t's own fields: the fields after, or null (a check failed); kept per node object. */
  private fitsOf(t: Node, insts: readonly Instance[], takesOver: boolean): readonly number[] | null {
    const fits = this.run.fits;
    let kept = fits.get(t);
    if (kept !== undefined)
      for (let k = 0; k < kept.length; k++) {
        const f = kept[k]!;
        if (f.takesOver !== takesOver || f.insts.length !== insts.length) continue;
        let same = true;
        for (let q = 0; q < insts.length && same; q++) same = f.insts[q] === insts[q];
        if (same) return f.st;
      }
    const st = [t.iMem, t.fDsk, t.fSpindles];
    const ok = failoverFits(t, insts, takesOver, st);
    if (kept === undefined) fits.set(t, (kept = []));
    if (kept.length >= FITS_KEPT) kept.pop();
    kept.unshift({ insts, takesOver, st: ok ? st : null });
    return ok ? st : null;
  }

  /** Whether target t takes all of rec in turn (`reads`/`after`: n's secondaries' fields after the failovers). */
  private takesAllOn(
    ns: readonly Node[],
    n: Node,
    t: number,
    rec: readonly Instance[],
    reads: readonly number[],
    after: ReadonlyArray<readonly number[]>,
  ): boolean {
    const x = ns[t];
    // escape targets: the nodes in scope of n's group
    if (t === n.idx || x === undefined || x.group !== n.group || x.exclStorage) return false;
    for (let j = 0; j < rec.length; j++) if (isFail(this.policyOf(rec[j]!, x))) return false;
    const k = reads.indexOf(t);
    return fitsAllForced(x, rec, k > 0 ? after[k - 1] : undefined);
  }

  /**
   * The node tryAllocSingleProbe(true, ns, present, inst, escape, cvWith)
   * would put in its solution (the target after gaining `inst`), or null
   * when no target fits.  `present`: the nodes in scope, in index order;
   * the search applies (searchApplies), so no node has exclusive storage.
   * `trace` (tests) sees each fitting online target's ranking value.
   */
  bestSingle(
    ns: readonly Node[],
    present: readonly number[],
    inst: Instance,
    escape: readonly number[],
    trace?: (p: number, approx: number) => void,
  ): Node | null {
    this.baseSums();
    const { shift, s1, s2, base } = this;
    s1.set(this.b1);
    s2.set(this.b2);
    for (let j = 0; j < present.length; j++) {
      const i = present[j]!;
      const n = ns[i]!;
      if (n === base[i] || n.offline) continue;
      const x = this.baseValues(i);
      const y = this.valuesOf(n);
      for (let q = 0; q < STD.length; q++) {
        const k = STD[q]!;
        const c = shift[k]!;
        const xd = x[k]! - c;
        const yd = y[k]! - c;
        s1[k] = s1[k]! + (yd - xd);
        s2[k] = s2[k]! + (yd * yd - xd * xd);
      }
    }
    // (1/count: the ranking's rounding, not the reference arithmetic)
    const inv = 1 / this.onCount;
    const { q1, q2, fixed } = this;
    for (let q = 0; q < NSTD; q++) {
      const k = STD[q]!;
      q1[q] = s1[k]!;
      q2[q] = s2[k]!;
      // the term of a component the target leaves unchanged (the same value
      // the loop below computes for zero changes)
      const m1 = q1[q]! * inv;
      const v = q2[q]! * inv - m1 * m1;
      fixed[q] = WS[q]! * Math.sqrt(v > 0 ? v : 0);
    }
    let best = Infinity;
    let near: Near[] = [];
    const row = this.rowOf(inst);
    let mapCount: ((key: string) => number) | null = null;
    for (let e = 0; e < escape.length; e++) {
      const p = escape[e]!;
      const pn = ns[p]!;
      let r: Float64Array = ONE;
      let o = 0;
      if (row !== null && pn === base[p]) {
        r = row;
        o = p * STRIDE;
        if (row[o] === UNKNOWN) this.probeInto(pn, inst, this.baseValues(p), row, o);
      } else this.probeInto(pn, inst, this.valuesOf(pn), ONE, 0);
      if (r[o] === FAILS) continue;
      // an offline target changes the offline components, which the ranking
      // (every target online) does not model: always scored exactly
      if (pn.offline) {
        near.push({ p, approx: -Infinity });
        continue;
      }
      let approx = 0;
      for (let q = 0; q < NSTD; q++) {
        const d1 = r[o + 2 + q]!;
        const d2 = r[o + 2 + NSTD + q]!;
        if (d1 === 0 && d2 === 0) {
          approx += fixed[q]!;
          continue;
        }
        const m1 = (q1[q]! + d1) * inv;
        const v = (q2[q]! + d2) * inv - m1 * m1;
        approx += WS[q]! * Math.sqrt(v > 0 ? v : 0);
      }
      approx += r[o + 1]!;
      // the exclusion map's growth (an exact integer; 0 without exclusion tags or location tags)
      if (pn.locationTags.size > 0 && inst.exclTags.length > 0) {
        mapCount ??= this.stateMapCount(ns, present);
        const dm = exclMapDelta(pn, inst, mapCount);
        if (dm !== 0) approx += W[MAP_COMPONENT]! * dm;
      }
      if (trace) trace(p, approx);
      const lim = best + TOL_ABS + TOL_REL * Math.abs(best);
      if (approx > lim) continue;
      if (approx < best) {
        best = approx;
        const l2 = best + TOL_ABS + TOL_REL * Math.abs(best);
        if (near.length > 64) near = near.filter((c) => c.approx <= l2);
      }
      near.push({ p, approx });
    }
    const lim = best + TOL_ABS + TOL_REL * Math.abs(best);
    let kept = 0;
    let last = -1;
    for (let j = 0; j < near.length; j++)
      if (!(near[j]!.approx > lim)) {
        kept++;
        last = j;
      }
    if (kept === 0) return null;
    if (kept === 1) return this.build(ns[near[last]!.p]!, inst);
    let chosen: Node | null = null;
    let chosenMetric = 0;
    for (let j = 0; j < near.length; j++) {
      const c = near[j]!;
      if (c.approx > lim) continue;
      const np = this.build(ns[c.p]!, inst);
      const metric = this.exactWith(ns, present, np);
      // enumeration order: a later candidate wins ties
      if (chosen === null || !(chosenMetric < metric)) {
        chosen = np;
        chosenMetric = metric;
      }
    }
    return chosen;
  }

  private baseMap: Map<string, number> | null = null;

  /**
   * Each exclusion-map key's count in state ns (the online nodes of
   * `present`, which are the memo's members): the base's counts (once per
   * memo) corrected for the nodes the state changed.
   */
  private stateMapCount(ns: readonly Node[], present: readonly number[]): (key: string) => number {
    const { base } = this;
    if (this.baseMap === null) {
      const m = new Map<string, number>();
      for (let j = 0; j < this.members.length; j++) {
        const n = base[this.members[j]!]!;
        if (!n.offline) for (const [key, c] of n.instanceMap) m.set(key, (m.get(key) ?? 0) + c);
      }
      this.baseMap = m;
    }
    const bm = this.baseMap;
    const delta = new Map<string, number>();
    for (let j = 0; j < present.length; j++) {
      const i = present[j]!;
      const n = ns[i]!;
      const b = base[i]!;
      if (n === b) continue;
      if (!b.offline) for (const [key, c] of b.instanceMap) delta.set(key, (delta.get(key) ?? 0) - c);
      if (!n.offline) for (const [key, c] of n.instanceMap) delta.set(key, (delta.get(key) ?? 0) + c);
    }
    return (key) => (bm.get(key) ?? 0) + (delta.get(key) ?? 0);
  }

  /** The target-dependent terms of `inst` on base nodes, when the budget allows (probes of a base node object are the same in every state). */
  private rowOf(inst: Instance): Float64Array | null {
    let row = this.rows.get(inst);
    if (row === undefined) {
      const len = this.base.length * STRIDE;
      if (this.rowDoubles + len > ROW_BUDGET) return null;
      this.rowDoubles += len;
      row = new Float64Array(len); // all UNKNOWN (0)
      this.rows.set(inst, row);
    }
    return row;
  }

  /**
   * Probe target t (values x) for `inst` and write to out[o..]: FAILS, or OK,
   * the weighted sum-component change, then per std component the change of
   * Σ(v−c) and of Σ(v−c)² (ScoreState.scoreWith's d1, d2).
   */
  private probeInto(t: Node, inst: Instance, x: Float64Array, out: Float64Array, o: number): void {
    if (isFail(this.policyOf(inst, t)) || probeAddPri(true, t, inst, Y) !== null) {
      out[o] = FAILS;
      return;
    }
    out[o] = OK;
    let sum = 0;
    for (let q = 0; q < SUM_ON.length; q++) {
      const k = SUM_ON[q]!;
      sum += W[k]! * (Y[k]! - x[k]!);
    }
    out[o + 1] = sum;
    for (let q = 0; q < NSTD; q++) {
      const k = STD[q]!;
      const c = this.shift[k]!;
      const xd = x[k]! - c;
      const yd = Y[k]! - c;
      out[o + 2 + q] = yd - xd;
      out[o + 2 + NSTD + q] = yd * yd - xd * xd;
    }
  }

  private build(t: Node, inst: Instance): Node {
    const np = addPriEx(true, t, inst);
    if (isFail(np)) throw new Error("hail: probe accepted a node the reference rejects");
    return np;
  }

  /** compCV of the state with `np` in place of its node (alloc.ts cvWith), from memoised values. */
  exactWith(ns: readonly Node[], present: readonly number[], np: Node): number {
    return compCVWith(ns, present, [np], (i) => this.valuesOf(ns[i]!));
  }
}

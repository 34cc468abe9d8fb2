// hbal's candidate search on the fast path (used when no node has location
// tags): the same candidates as the reference loop in balance.ts, scored with
// allocation-free probes (probe.ts), with two exact accelerations:
//
//  * caching: the target-independent part of each (instance, move kind) —
//    the new states of the instance's current nodes — is built once with the
//    node.ts primitives and reused until one of those nodes changes;
//  * pruning: for each (instance, move kind) a lower bound of the score over
//    ALL target nodes is computed in O(components) (see lowerBound below);
//    pairs are visited in increasing bound order and the search stops once
//    the bound exceeds the best score found (plus the tie tolerance).  A
//    bound is never above a candidate's score (server/test/htools checks
//    this on every candidate of several clusters), so no candidate that could
//    be chosen is skipped.  Ties are still resolved in Ganeti's enumeration
//    order: every candidate carries its rank in that order.
import type { Instance } from "./types.js";
import { isFail } from "./types.js";
import { Node, addPriEx, addSecExEx, checkMigration, removePri, removeSec } from "./node.js";
import { mirrorType, usesSecMem } from "./instance.js";
import { applyMove, type IMove } from "./moves.js";
import { KIND, NCOMP, ONLINE, ScoreState, WEIGHTS, nodeValues } from "./metrics.js";
import { probeAddPri, probeAddSec } from "./probe.js";
import { RoleAgg, STD, TERMS, boundMargin, nodeTerms, resources } from "./bounds.js";

export type TargetKind = "ReplaceSecondary" | "ReplaceAndFailover" | "ReplacePrimary" | "FailoverAndReplace";
const KINDS_ALL: TargetKind[] = ["ReplaceSecondary", "ReplaceAndFailover", "ReplacePrimary", "FailoverAndReplace"];
const KINDS_RESTRICTED: TargetKind[] = ["ReplaceSecondary", "ReplaceAndFailover", "FailoverAndReplace"];
const KINDS_NOSEC: TargetKind[] = ["ReplaceSecondary", "ReplaceAndFailover"];
const KINDS_SEC_ONLY: TargetKind[] = ["ReplaceSecondary"];

/** The move kinds tried per target node for a DRBD instance (Ganeti's possibleMoves). */
export function targetKinds(instMoves: boolean, restMig: boolean, primDrained: boolean, useSec: boolean): TargetKind[] {
  if (!instMoves) return KINDS_SEC_ONLY;
  if (restMig && !primDrained) return KINDS_SEC_ONLY;
  if (useSec && !restMig) return KINDS_ALL;
  if (useSec && restMig) return KINDS_RESTRICTED;
  return KINDS_NOSEC;
}

export interface RoundFlags {
  force: boolean;
  diskMoves: boolean;
  instMoves: boolean;
  restMig: boolean;
}

/** Receives candidates: approximate score, instance, move, rank in Ganeti's enumeration order. */
export interface CandSink {
  limit(): number;
  offer(approx: number, inst: number, kind: IMove["kind"], node: number, rank: number): void;
}

/** New states of the target-independent nodes of one (instance, move kind). */
interface FixPart {
  idx: number[];
  vals: Float64Array[];
  /** node whose new state depends on the target through its peer map (-1: none) */
  dep: number;
  depBase: Node | null;
  /** dep's values for a target it shares no instance with (the least reserved memory) */
  depLo: Float64Array | null;
  /** role of the target: gains the primary (true) or the secondary (false) */
  tgtPri: boolean;
  /** whether a target-independent step always fails */
  dead: boolean;
}

// Part slots per instance: the four DRBD target kinds, FailoverToAny, Failover.
const SLOT_FTA = 4;
const SLOT_FAILOVER = 5;
const SLOTS = 6;
const KIND_SLOT: Record<TargetKind, number> = { ReplaceSecondary: 0, ReplaceAndFailover: 1, ReplacePrimary: 2, FailoverAndReplace: 3 };
const FTA_SLOTS = [SLOT_FTA];
// the slots of each list targetKinds returns, in its order
const KIND_SLOTS = new Map([KINDS_ALL, KINDS_RESTRICTED, KINDS_NOSEC, KINDS_SEC_ONLY].map((l) => [l, l.map((k) => KIND_SLOT[k])] as const));
const SLOT_KIND: Array<TargetKind | "FailoverToAny"> = ["ReplaceSecondary", "ReplaceAndFailover", "ReplacePrimary", "FailoverAndReplace", "FailoverToAny"];

interface InstCache {
  pNode: number;
  sNode: number;
  pv: number;
  sv: number;
  parts: Array<FixPart | null>;
  /** shared intermediate states (built on first use) */
  inter: Inter | null;
}

/**
 * The node states every move of an instance starts from (moves.ts applyMove):
 * old primary without it, old secondary without it, and that secondary
 * taking over the primary (failover) — built once per instance and state.
 */
interface Inter {
  intP: Node;
  vIntP: Float64Array;
  intS: Node | null;
  vIntS: Float64Array | null;
  /** addPriEx(oldP.offline || force, intS): the failover's new primary */
  newP: Node | null;
  vNewP: Float64Array | null;
  mig: boolean;
}

const V1 = new Float64Array(NCOMP);
const V2 = new Float64Array(NCOMP);
const STD_K = Int32Array.from(STD);
const STD_N = STD.length;
const W = Float64Array.from(WEIGHTS);
const SUM_K = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 1);
const ZERO_DELTA = ScoreState.newDelta();
const DEAD: FixPart = { idx: [], vals: [], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: true };


// Compact per-(instance, slot) record read by every round's bound pass, kept
// in one arena in victim order so the pass streams through memory:
// [0, STD_N) Σδ, [STD_N, 2·STD_N) Σδ² (shifted) of the std components (with
// a dependent node at its low state), [REC_RES, +STD_N) the instance's
// resources for the target's role, REC_SUM the weighted change of the sum
// components, REC_FLAG 0 = bounded (NaN: no bound), REC_SPAN/REC_XD the
// dependent node's reserved-memory range and position, REC_ROLE 1 = the
// target gains the primary.
const REC_RES = 26;
const REC_SUM = 39;
const REC_FLAG = 40;
const REC_SPAN = 41;
const REC_XD = 42;
const REC_ROLE = 43;
const REC = 44;

export class ProbeSearch {
  private readonly ver: Int32Array;
  private readonly cache: Array<InstCache | null>;
  private readonly agg = [new RoleAgg(), new RoleAgg()]; // [secondary role, primary role]
  private boundsOk = false;
  private readonly fixBuf = ScoreState.newDelta();
  private readonly coefOut = new Float64Array(2);
  // per node: version the terms were computed at, and terms[role][k][TERMS]
  private readonly termVer: Int32Array;
  private readonly terms: Float64Array;
  private readonly termMode: Int8Array;
  private readonly arena: Float64Array;
  private sumConst = 0;
  private itemLb = new Float64Array(0);
  private itemV = new Int32Array(0);
  private itemSlot = new Int8Array(0);

  /** verify: visit every pair (no pruning) and count bounds above a candidate's score */
  constructor(nodeCount: number, instCount: number, private readonly verify = false) {
    this.cache = new Array<InstCache | null>(instCount).fill(null);
    this.arena = new Float64Array(instCount * SLOTS * REC);
    this.ver = new Int32Array(nodeCount);
    this.termVer = new Int32Array(nodeCount).fill(-1);
    this.terms = new Float64Array(nodeCount * 2 * NCOMP * TERMS);
    this.termMode = new Int8Array(nodeCount * 2 * NCOMP);
  }

  /** Nodes changed by a committed move: their cached parts are stale. */
  committed(idxs: readonly number[]): void {
    for (const i of idxs) this.ver[i] = this.ver[i]! + 1;
  }

  /** Counters: candidates probed, (instance, kind) pairs, pairs pruned, bound violations (verify). */
  stats = { probed: 0, pairs: 0, pruned: 0, boundViolations: 0 };

  round(f: RoundFlags, nodes: Node[], st: ScoreState, victims: Instance[], online: number[], onlineSet: Set<number>, sink: CandSink): void {
    this.prepareBounds(nodes, st, online);
    this.sumConst = st.sumTerms(ZERO_DELTA);
    const stride = (online.length + 1) * 8;
    if (this.itemLb.length < victims.length * 4) {
      this.itemLb = new Float64Array(victims.length * 4);
      this.itemV = new Int32Array(victims.length * 4);
      this.itemSlot = new Int8Array(victims.length * 4);
    }
    let ni = 0;
    let minLb = Infinity;
    let minAt = -1;
    for (let v = 0; v < victims.length; v++) {
      const inst = victims[v]!;
      const mt = mirrorType(inst.diskTemplate);
      const useSec = onlineSet.has(inst.sNode) && f.instMoves;
      const ic = this.instCache(inst);
      if (mt === "internal" && useSec) {
        let fp = ic.parts[SLOT_FAILOVER];
        if (!fp) fp = ic.parts[SLOT_FAILOVER] = this.buildFailover(ic, f.force, nodes, st, inst);
        if (!fp.dead) sink.offer(this.recScore(st, (inst.idx * SLOTS + SLOT_FAILOVER) * REC), inst.idx, "Failover", -1, v * stride);
      }
      if (mt === "none") continue;
      let slots: readonly number[];
      if (mt === "external") {
        if (!f.instMoves) continue;
        slots = FTA_SLOTS;
      } else {
        if (!f.diskMoves) continue;
        slots = KIND_SLOTS.get(targetKinds(f.instMoves, f.restMig, nodes[inst.pNode]!.offline, useSec))!;
      }
      for (let q = 0; q < slots.length; q++) {
        const slot = slots[q]!;
        let fp = ic.parts[slot];
        if (!fp) fp = ic.parts[slot] = this.buildPart(ic, slot, f.force, nodes, st, inst);
        if (fp.dead) continue;
        const lb = this.lowerBound(st, (inst.idx * SLOTS + slot) * REC);
        this.itemLb[ni] = lb;
        this.itemV[ni] = v;
        this.itemSlot[ni] = (q << 3) | slot;
        if (lb < minLb) {
          minLb = lb;
          minAt = ni;
        }
        ni++;
      }
    }
    this.stats.pairs += ni;
    // Visit the pair with the lowest bound first, then every pair whose bound
    // is below the limit so found, in increasing bound order.
    const visit = (k: number): void => {
      const v = this.itemV[k]!;
      const qs = this.itemSlot[k]!;
      const inst = victims[v]!;
      const fp = this.cache[inst.idx]!.parts[qs & 7]!;
      const min = this.scan(f, nodes, st, online, inst, SLOT_KIND[qs & 7]!, fp, v * stride, qs >> 3, sink);
      if (min < this.itemLb[k]!) this.stats.boundViolations++;
    };
    if (minAt < 0) return;
    visit(minAt);
    const rest: number[] = [];
    for (let k = 0; k < ni; k++) if (k !== minAt && (this.verify || this.itemLb[k]! <= sink.limit())) rest.push(k);
    rest.sort((a, b) => this.itemLb[a]! - this.itemLb[b]!);
    let done = 1;
    for (const k of rest) {
      if (!this.verify && this.itemLb[k]! > sink.limit()) break;
      visit(k);
      done++;
    }
    this.stats.pruned += ni - done;
  }

  /** All targets of one (instance, kind), in Ganeti's target order; returns the lowest score seen. */
  private scan(f: RoundFlags, nodes: Node[], st: ScoreState, online: number[], inst: Instance, kind: TargetKind | "FailoverToAny", fp: FixPart, base: number, q: number, sink: CandSink): number {
    let min = Infinity;
    const fix = this.fixBuf;
    fix.fill(0);
    for (let j = 0; j < fp.idx.length; j++) st.accumulate(fp.idx[j]!, fp.vals[j]!, fix);
    const opdx = inst.pNode;
    const osdx = inst.sNode;
    const oldP = nodes[opdx]!;
    const oldS = osdx >= 0 ? nodes[osdx]! : null;
    for (let tp = 0; tp < online.length; tp++) {
      const t = online[tp]!;
      if (t === opdx || t === osdx) continue;
      const tgt = nodes[t]!;
      let ok: boolean;
      switch (kind) {
        case "FailoverToAny":
          ok = !isFail(checkMigration(oldP, tgt)) && probeAddPri(oldP.offline || f.force, tgt, inst, V1) === null;
          break;
        case "ReplaceSecondary":
          ok = probeAddSec(false, oldS!.offline || f.force, tgt, inst, opdx, V1) === null;
          break;
        case "ReplaceAndFailover":
          ok =
            !isFail(checkMigration(oldP, tgt)) &&
            probeAddPri(f.force, tgt, inst, V1) === null &&
            probeAddSec(false, oldS!.offline || f.force, fp.depBase!, inst, t, V2) === null;
          break;
        case "ReplacePrimary":
          ok =
            !isFail(checkMigration(oldS!, tgt)) &&
            probeAddPri(oldP.offline || f.force, tgt, inst, V1) === null &&
            probeAddSec(false, oldP.offline || f.force, fp.depBase!, inst, t, V2) === null;
          break;
        case "FailoverAndReplace":
          ok = probeAddSec(false, oldP.offline || f.force, tgt, inst, osdx, V1) === null;
          break;
      }
      this.stats.probed++;
      if (!ok) continue;
      const score = st.scoreWith(fix, t, V1, fp.dep, fp.dep >= 0 ? V2 : null);
      if (score < min) min = score;
      if (score > sink.limit()) continue;
      sink.offer(score, inst.idx, kind, t, base + (tp + 1) * 8 + q);
    }
    return min;
  }

  private instCache(inst: Instance): InstCache {
    const pv = this.ver[inst.pNode]!;
    const sv = inst.sNode >= 0 ? this.ver[inst.sNode]! : 0;
    let c = this.cache[inst.idx];
    if (!c || c.pNode !== inst.pNode || c.sNode !== inst.sNode || c.pv !== pv || c.sv !== sv) {
      c = { pNode: inst.pNode, sNode: inst.sNode, pv, sv, parts: new Array<FixPart | null>(SLOTS).fill(null), inter: null };
      this.cache[inst.idx] = c;
    }
    return c;
  }

  private readonly loBuf = ScoreState.newDelta();
  private readonly resBuf = new Float64Array(NCOMP);

  /** Write the part's record into the arena (deltas are recomputed from `vals` when scanning). */
  private withDeltas(st: ScoreState, p: FixPart, inst: Instance, slot: number): FixPart {
    if (p.dead) return p;
    const lo = this.loBuf;
    lo.fill(0);
    for (let j = 0; j < p.idx.length; j++) st.accumulate(p.idx[j]!, p.vals[j]!, lo);
    // no bound with an offline dependent node (its change is not in the online statistics)
    const bounded = !(p.dep >= 0 && st.nodes[p.dep]!.offline) && !inst.forthcoming;
    if (p.dep >= 0 && bounded) st.accumulate(p.dep, p.depLo!, lo);
    const A = this.arena;
    const off = (inst.idx * SLOTS + slot) * REC;
    for (let q = 0; q < STD_N; q++) {
      A[off + q] = lo[STD_K[q]!]!;
      A[off + STD_N + q] = lo[NCOMP + STD_K[q]!]!;
    }
    let sw = 0;
    for (const k of SUM_K) sw += W[k]! * lo[2 * NCOMP + k]!;
    A[off + REC_SUM] = sw;
    A[off + REC_FLAG] = bounded ? 0 : NaN;
    const res = resources(inst, p.tgtPri, this.resBuf);
    for (let q = 0; q < STD_N; q++) A[off + REC_RES + q] = res[STD_K[q]!]!;
    A[off + REC_ROLE] = p.tgtPri ? 1 : 0;
    A[off + REC_SPAN] = p.dep >= 0 ? (usesSecMem(inst) ? inst.mem : 0) / st.nodes[p.dep]!.tMem : 0;
    A[off + REC_XD] = p.dep >= 0 ? p.depLo![3]! - st.shift[3]! : 0;
    return p;
  }

  private inter(ic: InstCache, force: boolean, nodes: Node[], inst: Instance): Inter {
    if (ic.inter) return ic.inter;
    const oldP = nodes[inst.pNode]!;
    const intP = removePri(oldP, inst);
    let intS: Node | null = null;
    let newP: Node | null = null;
    let mig = false;
    if (inst.sNode >= 0) {
      const oldS = nodes[inst.sNode]!;
      intS = removeSec(oldS, inst);
      mig = !isFail(checkMigration(oldP, oldS));
      const np = addPriEx(oldP.offline || force, intS, inst);
      newP = isFail(np) ? null : np;
    }
    ic.inter = { intP, vIntP: vals(intP), intS, vIntS: intS ? vals(intS) : null, newP, vNewP: newP ? vals(newP) : null, mig };
    return ic.inter;
  }

  private buildPart(ic: InstCache, slot: number, force: boolean, nodes: Node[], st: ScoreState, inst0: Instance): FixPart {
    // Without location tags the moved instance's location score is 0 (moves.ts locScore).
    const inst: Instance = inst0.locationScore === 0 ? inst0 : { ...inst0, locationScore: 0 };
    const I = this.inter(ic, force, nodes, inst);
    const opdx = inst.pNode;
    const osdx = inst.sNode;
    const part = (idx: number[], vs: Float64Array[], dep: number, depBase: Node | null, depLo: Float64Array | null, tgtPri: boolean): FixPart =>
      this.withDeltas(st, { idx, vals: vs, dep, depBase, depLo, tgtPri, dead: false}, inst, slot);
    switch (slot) {
      case SLOT_FTA:
        return part([opdx], [I.vIntP], -1, null, null, true);
      case 0: {
        // ReplaceSecondary: the primary gives up and retakes the instance
        const pnode3 = addPriEx(true, I.intP, inst);
        if (isFail(pnode3)) return DEAD;
        return part([osdx, opdx], [I.vIntS!, vals(pnode3)], -1, null, null, false);
      }
      case 1: {
        // ReplaceAndFailover: the old primary becomes the secondary of the target
        const lo = new Float64Array(NCOMP);
        if (probeAddSec(false, nodes[osdx]!.offline || force, I.intP, inst, -1, lo) !== null) return DEAD;
        return part([osdx], [I.vIntS!], opdx, I.intP, lo, true);
      }
      case 2: {
        // ReplacePrimary: failover, replace the (old primary) secondary, failover back
        const forceP = nodes[opdx]!.offline || force;
        if (!I.mig || I.newP === null) return DEAD;
        const tmpS2 = removePri(I.newP, inst);
        const lo = new Float64Array(NCOMP);
        if (probeAddSec(false, forceP, tmpS2, inst, -1, lo) !== null) return DEAD;
        return part([opdx], [I.vIntP], osdx, tmpS2, lo, true);
      }
      case 3:
        // FailoverAndReplace: the old secondary takes over, the target becomes its secondary
        if (!I.mig || I.newP === null) return DEAD;
        return part([osdx, opdx], [I.vNewP!, I.vIntP], -1, null, null, false);
    }
    throw new Error(`hbal: unknown move slot ${slot}`);
  }

  private buildFailover(ic: InstCache, force: boolean, nodes: Node[], st: ScoreState, inst: Instance): FixPart {
    // moves.ts applyMove "Failover", from the shared intermediate states
    const I = this.inter(ic, force, nodes, inst.locationScore === 0 ? inst : { ...inst, locationScore: 0 });
    const oldP = nodes[inst.pNode]!;
    if (!I.mig || I.newP === null) return DEAD;
    const newS = addSecExEx(oldP.offline, oldP.offline || force, I.intP, inst, inst.sNode);
    if (isFail(newS)) return DEAD;
    return this.withDeltas(st, { idx: [inst.pNode, inst.sNode], vals: [vals(newS), I.vNewP!], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: false}, inst, SLOT_FAILOVER);
  }

  // ---- lower bound ----------------------------------------------------------

  /**
   * Per role and std component, the minima over the target nodes of the
   * per-node terms of lowerBound.  Per-node terms depend only on the node's
   * state and the (fixed) shift, so they are recomputed only for changed nodes.
   */
  private prepareBounds(nodes: Node[], st: ScoreState, online: number[]): void {
    this.boundsOk = online.length > 0 && !online.some((i) => nodes[i]!.exclStorage);
    if (!this.boundsOk) return;
    const T = this.terms;
    for (const i of online) {
      if (this.termVer[i] === this.ver[i]) continue;
      this.termVer[i] = this.ver[i]!;
      for (let role = 0; role < 2; role++)
        for (const k of STD) {
          const mi = (i * 2 + role) * NCOMP + k;
          const c = st.shift[k]!;
          this.termMode[mi] = nodeTerms(nodes[i]!, k, role === 1, st.cnt[k]!, c, st.vals[i]![k]! - c, this.coefOut, T, mi * TERMS);
        }
    }
    for (let role = 0; role < 2; role++) {
      const a = this.agg[role]!;
      for (const k of STD) {
        a.reset(k);
        for (const i of online) {
          const mi = (i * 2 + role) * NCOMP + k;
          a.add(k, this.termMode[mi]!, T, mi * TERMS);
        }
        a.close(k, st.cnt[k]!);
      }
    }
  }

  /**
   * A lower bound of the (approximate) score of every candidate of one
   * (instance, move kind), whatever the target.  For a std-dev component,
   * with the fixed part applied (mean shift M, variance V0) and the target's
   * value moving by δ, the variance is V0 + 2δ(x − M)/n + δ²(n − 1)/n²; with
   * δ = e + r·u (coef) each term is bounded below by its minimum over the
   * targets.  Sum components only grow when a node gains an instance.  The
   * dependent node of ReplaceAndFailover/ReplacePrimary is taken at its least
   * reserved memory, with the rest of its range bounded the same way.
   */
  private lowerBound(st: ScoreState, off: number): number {
    const A = this.arena;
    if (!this.boundsOk || A[off + REC_FLAG] !== 0) return -Infinity;
    const a = this.agg[A[off + REC_ROLE]!]!;
    const cnt = st.cnt, s1 = st.s1, s2 = st.s2;
    // the dependent node's reserved memory lies in [depLo, depLo + span], at position xd
    const span = A[off + REC_SPAN]!;
    const xd = A[off + REC_XD]!;
    let r = 0;
    for (let q = 0; q < STD_N; q++) {
      const k = STD_K[q]!;
      const n = cnt[k]!;
      const m = (s1[k]! + A[off + q]!) / n;
      let v = a.variance(k, n, m, (s2[k]! + A[off + STD_N + q]!) / n - m * m, A[off + REC_RES + q]!);
      if (k === 3 && span !== 0) {
        const lin = (2 * span * (xd - m)) / n;
        v += lin < 0 ? lin : 0;
      }
      r += W[k]! * Math.sqrt(v > 0 ? v : 0);
    }
    return boundMargin(r + this.sumConst + A[off + REC_SUM]!);
  }

  /** Approximate score of a target-less part (Failover) from its record. */
  private recScore(st: ScoreState, off: number): number {
    const A = this.arena;
    const cnt = st.cnt, s1 = st.s1, s2 = st.s2;
    let r = 0;
    for (let q = 0; q < STD_N; q++) {
      const k = STD_K[q]!;
      const n = cnt[k]!;
      const m = (s1[k]! + A[off + q]!) / n;
      const v = (s2[k]! + A[off + STD_N + q]!) / n - m * m;
      r += W[k]! * Math.sqrt(v > 0 ? v : 0);
    }
    return r + this.sumConst + A[off + REC_SUM]!;
  }

}

function vals(n: Node): Float64Array {
  const a = new Float64Array(NCOMP);
  nodeValues(n, a);
  return a;
}


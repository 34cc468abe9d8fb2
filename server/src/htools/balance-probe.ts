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
import { Node, addPriEx, checkMigration, removePri, removeSec } from "./node.js";
import { mirrorType, notOffline, usesLocalStorage, usesMemory, usesSecMem } from "./instance.js";
import { applyMove, type IMove } from "./moves.js";
import { KIND, NCOMP, ONLINE, ScoreState, WEIGHTS, nodeValues } from "./metrics.js";
import { probeAddPri, probeAddSec } from "./probe.js";

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
  offer(approx: number, inst: number, move: IMove, rank: number): void;
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

interface InstCache {
  pNode: number;
  sNode: number;
  pv: number;
  sv: number;
  failover: FixPart | null;
  kinds: Map<string, FixPart>;
}

const V1 = new Float64Array(NCOMP);
const V2 = new Float64Array(NCOMP);
const STD = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 0 && ONLINE[k]);
const DEAD: FixPart = { idx: [], vals: [], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: true };

/** Per role and std component: the target-side aggregates of lowerBound. */
interface RoleAgg {
  mode: Int8Array; // 0 unchanged, 1 exact linear, 2 interval [e, e + r·u], 3 unbounded
  p1: Float64Array;
  emin: Float64Array;
  emax: Float64Array;
  b0: Float64Array;
  umin: Float64Array;
  umax: Float64Array;
  g: Float64Array;
}
const newAgg = (): RoleAgg => ({
  mode: new Int8Array(NCOMP),
  p1: new Float64Array(NCOMP),
  emin: new Float64Array(NCOMP),
  emax: new Float64Array(NCOMP),
  b0: new Float64Array(NCOMP),
  umin: new Float64Array(NCOMP),
  umax: new Float64Array(NCOMP),
  g: new Float64Array(NCOMP),
});

/**
 * The value of component k on node t after it gains an instance with resource
 * r in the given role is ybase + r·u (exactly, up to rounding; for reserved
 * memory on a secondary it lies in [ybase, ybase + r·u]).  Returns [ybase, u],
 * or null when the component does not change in that role.
 */
function dskBase(t: Node, free: number): number {
  return t.tDsk === 0 ? 1 : free / t.tDsk;
}
function coef(t: Node, k: number, pri: boolean): [number, number] | null {
  const dskU = t.tDsk === 0 ? 0 : -1 / t.tDsk;
  if (pri)
    switch (k) {
      case 0:
        return [(Math.trunc(t.tMem) - t.nMem - t.iMem - Math.max(0, t.xMem)) / t.tMem, -1 / t.tMem];
      case 1:
        return [dskBase(t, t.fDsk), dskU];
      case 6:
        return [t.uCpu / t.tCpu / t.tCpuSpeed, 1 / (t.tCpu * t.tCpuSpeed)];
      case 7:
      case 8:
      case 9:
      case 10:
        return [t.utilLoad[k - 7]! / t.utilPool[k - 7]!, 1 / t.utilPool[k - 7]!];
      case 12:
        return [t.instSpindles / t.hiSpindles, 1 / t.hiSpindles];
      case 13:
        return [t.fMemForth / t.tMem, -1 / t.tMem];
      case 14:
        return [dskBase(t, t.fDskForth), dskU];
      case 15:
        return [t.uCpuForth / t.tCpu / t.tCpuSpeed, 1 / (t.tCpu * t.tCpuSpeed)];
      case 16:
        return [t.instSpindlesForth / t.hiSpindles, 1 / t.hiSpindles];
      default:
        return null;
    }
  switch (k) {
    case 1:
      return [dskBase(t, t.fDsk), dskU];
    case 3:
      return [t.rMem / t.tMem, 1 / t.tMem];
    case 9:
      return [t.utilLoad[2] / t.utilPool[2], 1 / t.utilPool[2]];
    case 12:
      return [t.instSpindles / t.hiSpindles, 1 / t.hiSpindles];
    case 14:
      return [dskBase(t, t.fDskForth), dskU];
    case 16:
      return [t.instSpindlesForth / t.hiSpindles, 1 / t.hiSpindles];
    default:
      return null;
  }
}

/** The instance's resource behind component k in the given role (see coef). */
function resource(inst: Instance, k: number, pri: boolean): number {
  const disk = usesLocalStorage(inst);
  if (pri)
    switch (k) {
      case 0:
        return usesMemory(inst) ? inst.mem : 0;
      case 1:
      case 14:
        return disk ? inst.dsk : 0;
      case 6:
      case 15:
        return notOffline(inst) ? inst.vcpus : 0;
      case 7:
      case 8:
      case 9:
      case 10:
        return inst.util[k - 7]!;
      case 12:
      case 16:
        return disk ? inst.spindleUse : 0;
      case 13:
        return inst.mem;
      default:
        return 0;
    }
  switch (k) {
    case 1:
    case 14:
      return inst.dsk;
    case 3:
      return usesSecMem(inst) ? inst.mem : 0;
    case 9:
      return inst.util[2]!;
    case 12:
    case 16:
      return disk ? inst.spindleUse : 0;
    default:
      return 0;
  }
}

export class ProbeSearch {
  private readonly ver: Int32Array;
  private readonly cache = new Map<number, InstCache>();
  private readonly agg = [newAgg(), newAgg()]; // [secondary role, primary role]
  private boundsOk = false;
  private readonly fixBuf = ScoreState.newDelta();

  /** verify: visit every pair (no pruning) and count bounds above a candidate's score */
  constructor(nodeCount: number, private readonly verify = false) {
    this.ver = new Int32Array(nodeCount);
  }

  /** Nodes changed by a committed move: their cached parts are stale. */
  committed(idxs: readonly number[]): void {
    for (const i of idxs) this.ver[i] = this.ver[i]! + 1;
  }

  /** Counters for the benchmark notes (candidates probed, pairs pruned). */
  stats = { probed: 0, pairs: 0, pruned: 0, boundViolations: 0 };

  round(f: RoundFlags, nodes: Node[], st: ScoreState, victims: Instance[], online: number[], onlineSet: Set<number>, sink: CandSink, evalFailover: (inst: Instance, rank: number) => void): void {
    this.prepareBounds(nodes, st, online);
    const stride = (online.length + 1) * 8;
    const items: Array<{ lb: number; v: number; q: number; kind: TargetKind | "FailoverToAny"; fp: FixPart; inst: Instance }> = [];
    for (let v = 0; v < victims.length; v++) {
      const inst0 = victims[v]!;
      const inst: Instance = inst0.locationScore === 0 ? inst0 : { ...inst0, locationScore: 0 };
      const mt = mirrorType(inst.diskTemplate);
      const useSec = onlineSet.has(inst.sNode) && f.instMoves;
      if (mt === "internal" && useSec) evalFailover(inst0, v * stride);
      if (mt === "none") continue;
      const ic = this.instCache(nodes, inst);
      if (mt === "external") {
        if (!f.instMoves) continue;
        const fp = this.part(ic, "FailoverToAny", () => this.buildFta(f.force, nodes, inst));
        if (!fp.dead) items.push({ lb: this.lowerBound(st, fp, inst), v, q: 0, kind: "FailoverToAny", fp, inst });
        continue;
      }
      if (!f.diskMoves) continue;
      const oldP = nodes[inst.pNode]!;
      const kinds = targetKinds(f.instMoves, f.restMig, oldP.offline, useSec);
      for (let q = 0; q < kinds.length; q++) {
        const kind = kinds[q]!;
        const fp = this.part(ic, kind, () => buildKind(kind, f.force, nodes, inst));
        if (!fp.dead) items.push({ lb: this.lowerBound(st, fp, inst), v, q, kind, fp, inst });
      }
    }
    items.sort((a, b) => a.lb - b.lb);
    this.stats.pairs += items.length;
    for (let n = 0; n < items.length; n++) {
      const it = items[n]!;
      if (it.lb > sink.limit() && !this.verify) {
        this.stats.pruned += items.length - n;
        break;
      }
      const min = this.scan(f, nodes, st, online, it.inst, victims[it.v]!.idx, it.kind, it.fp, it.v * stride, it.q, sink);
      if (min < it.lb) this.stats.boundViolations++;
    }
  }

  /** All targets of one (instance, kind), in Ganeti's target order; returns the lowest score seen. */
  private scan(f: RoundFlags, nodes: Node[], st: ScoreState, online: number[], inst: Instance, instIdx: number, kind: TargetKind | "FailoverToAny", fp: FixPart, base: number, q: number, sink: CandSink): number {
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
      const mv: IMove = { kind, node: t };
      sink.offer(score, instIdx, mv, base + (tp + 1) * 8 + q);
    }
    return min;
  }

  private instCache(nodes: Node[], inst: Instance): InstCache {
    const pv = this.ver[inst.pNode]!;
    const sv = inst.sNode >= 0 ? this.ver[inst.sNode]! : 0;
    let c = this.cache.get(inst.idx);
    if (!c || c.pNode !== inst.pNode || c.sNode !== inst.sNode || c.pv !== pv || c.sv !== sv) {
      c = { pNode: inst.pNode, sNode: inst.sNode, pv, sv, failover: null, kinds: new Map() };
      this.cache.set(inst.idx, c);
    }
    void nodes;
    return c;
  }

  private part(ic: InstCache, key: string, build: () => FixPart): FixPart {
    let p = ic.kinds.get(key);
    if (!p) {
      p = build();
      ic.kinds.set(key, p);
    }
    return p;
  }

  private buildFta(force: boolean, nodes: Node[], inst: Instance): FixPart {
    void force;
    const oldP = nodes[inst.pNode]!;
    return { idx: [oldP.idx], vals: [vals(removePri(oldP, inst))], dep: -1, depBase: null, depLo: null, tgtPri: true, dead: false };
  }

  /** Cached reference result of the Failover move (changed nodes' values), or null if it fails. */
  failoverPart(nodes: Node[], inst: Instance, force: boolean): FixPart {
    const ic = this.instCache(nodes, inst);
    return this.part(ic, "Failover", () => {
      const r = applyMove(force, nodes, inst, { kind: "Failover" });
      if (isFail(r)) return DEAD;
      return { idx: r.changed.map((n) => n.idx), vals: r.changed.map(vals), dep: -1, depBase: null, depLo: null, tgtPri: false, dead: false };
    });
  }

  /** Score of a target-less part (Failover). */
  scoreFixed(st: ScoreState, fp: FixPart): number {
    const fix = this.fixBuf;
    fix.fill(0);
    for (let j = 0; j < fp.idx.length; j++) st.accumulate(fp.idx[j]!, fp.vals[j]!, fix);
    return st.scoreFix(fix);
  }

  // ---- lower bound ----------------------------------------------------------

  private prepareBounds(nodes: Node[], st: ScoreState, online: number[]): void {
    this.boundsOk = online.length > 0 && !online.some((i) => nodes[i]!.exclStorage);
    if (!this.boundsOk) return;
    for (let role = 0; role < 2; role++) {
      const a = this.agg[role]!;
      const pri = role === 1;
      for (const k of STD) {
        const n = st.cnt[k]!;
        const c = st.shift[k]!;
        let mode = 0;
        let p1 = Infinity, emin = Infinity, emax = -Infinity, b0 = Infinity, umin = Infinity, umax = -Infinity, g = Infinity;
        for (const i of online) {
          const t = nodes[i]!;
          const cu = coef(t, k, pri);
          if (cu === null) continue;
          const x = st.vals[i]![k]! - c;
          const e = cu[0] - c - x;
          const u = cu[1];
          if (mode === 0) mode = !pri && k === 3 ? 2 : 1;
          const pe = mode === 2 ? (2 * e * x) / n : (2 * e * x) / n + (e * e * (n - 1)) / (n * n);
          const pb = mode === 2 ? (2 * u * x) / n : (2 * u * x) / n + (2 * e * u * (n - 1)) / (n * n);
          if (pe < p1) p1 = pe;
          if (e < emin) emin = e;
          if (e > emax) emax = e;
          if (pb < b0) b0 = pb;
          if (u < umin) umin = u;
          if (u > umax) umax = u;
          if (u * u < g) g = u * u;
        }
        if (mode !== 0 && ![p1, emin, emax, b0, umin, umax, g].every(Number.isFinite)) mode = 3;
        a.mode[k] = mode;
        a.p1[k] = p1;
        a.emin[k] = emin;
        a.emax[k] = emax;
        a.b0[k] = b0;
        a.umin[k] = umin;
        a.umax[k] = umax;
        a.g[k] = (g * (n - 1)) / (n * n);
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
  private lowerBound(st: ScoreState, fp: FixPart, inst: Instance): number {
    if (!this.boundsOk || inst.forthcoming) return -Infinity;
    const fix = this.fixBuf;
    fix.fill(0);
    for (let j = 0; j < fp.idx.length; j++) st.accumulate(fp.idx[j]!, fp.vals[j]!, fix);
    if (fp.dep >= 0) {
      if (st.nodes[fp.dep]!.offline) return -Infinity;
      st.accumulate(fp.dep, fp.depLo!, fix);
    }
    const a = this.agg[fp.tgtPri ? 1 : 0]!;
    let r = 0;
    for (const k of STD) {
      const n = st.cnt[k]!;
      const m = (st.s1[k]! + fix[k]!) / n;
      let v = (st.s2[k]! + fix[NCOMP + k]!) / n - m * m;
      const mode = a.mode[k]!;
      if (mode === 3) continue; // bounded by 0
      if (mode !== 0) {
        const res = resource(inst, k, fp.tgtPri);
        if (!(res >= 0)) continue;
        const p2 = m >= 0 ? (-2 * m * a.emax[k]!) / n : (-2 * m * a.emin[k]!) / n;
        const bu = m >= 0 ? (-2 * m * a.umax[k]!) / n : (-2 * m * a.umin[k]!) / n;
        if (mode === 1) v += a.p1[k]! + p2 + res * (a.b0[k]! + bu) + res * res * a.g[k]!;
        else v += a.p1[k]! + p2 + Math.min(0, res * (a.b0[k]! + bu));
      }
      if (k === 3 && fp.dep >= 0) {
        const dn = st.nodes[fp.dep]!;
        const span = (usesSecMem(inst) ? inst.mem : 0) / dn.tMem;
        const x = fp.depLo![3]! - st.shift[3]!;
        v += Math.min(0, (2 * span * (x - m)) / n);
      }
      r += WEIGHTS[k]! * Math.sqrt(v > 0 ? v : 0);
    }
    r += st.sumTerms(fix);
    return r - 1e-6 - 1e-9 * Math.abs(r);
  }
}

function vals(n: Node): Float64Array {
  const a = new Float64Array(NCOMP);
  nodeValues(n, a);
  return a;
}

/** The target-independent part of a DRBD move (mirrors moves.ts applyMove). */
function buildKind(kind: TargetKind, force: boolean, nodes: Node[], inst: Instance): FixPart {
  const oldP = nodes[inst.pNode]!;
  const oldS = nodes[inst.sNode]!;
  const opdx = oldP.idx;
  const osdx = oldS.idx;
  switch (kind) {
    case "ReplaceSecondary": {
      const pnode3 = addPriEx(true, removePri(oldP, inst), inst);
      if (isFail(pnode3)) return DEAD;
      return { idx: [osdx, opdx], vals: [vals(removeSec(oldS, inst)), vals(pnode3)], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: false };
    }
    case "ReplaceAndFailover": {
      const intP = removePri(oldP, inst);
      const lo = new Float64Array(NCOMP);
      if (probeAddSec(false, oldS.offline || force, intP, inst, -1, lo) !== null) return DEAD;
      return { idx: [osdx], vals: [vals(removeSec(oldS, inst))], dep: opdx, depBase: intP, depLo: lo, tgtPri: true, dead: false };
    }
    case "ReplacePrimary": {
      const forceP = oldP.offline || force;
      if (isFail(checkMigration(oldP, oldS))) return DEAD;
      const tmpS = addPriEx(forceP, removeSec(oldS, inst), inst);
      if (isFail(tmpS)) return DEAD;
      const tmpS2 = removePri(tmpS, inst);
      const lo = new Float64Array(NCOMP);
      if (probeAddSec(false, forceP, tmpS2, inst, -1, lo) !== null) return DEAD;
      return { idx: [opdx], vals: [vals(removePri(oldP, inst))], dep: osdx, depBase: tmpS2, depLo: lo, tgtPri: true, dead: false };
    }
    case "FailoverAndReplace": {
      const forceP = oldP.offline || force;
      if (isFail(checkMigration(oldP, oldS))) return DEAD;
      const newP = addPriEx(forceP, removeSec(oldS, inst), inst);
      if (isFail(newP)) return DEAD;
      return { idx: [osdx, opdx], vals: [vals(newP), vals(removePri(oldP, inst))], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: false };
    }
  }
}

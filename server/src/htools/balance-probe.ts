// hbal's candidate search on the fast path: the same candidates as the
// reference loop in balance.ts, scored with
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
//
// Location tags: the parts and probes take the moved instance's location
// score as 0 where they build its new state, and leave out the
// location-exclusion map statistic; both enter as exact integers instead
// (locExtra per candidate; the records' REC_LOC, the least of them over the
// targets, in every bound).
import type { Instance } from "./types.js";
import { isFail } from "./types.js";
import { Node, addPriEx, checkMigration, removePri, removeSec } from "./node.js";
import { mirrorType, usesSecMem } from "./instance.js";
import type { IMove } from "./moves.js";
import { KIND, MAP_COMPONENT, NCOMP, ScoreState, WEIGHTS, nodeValues } from "./metrics.js";
import { LOC, mapMoveDelta, pairLocScore } from "./location.js";
import { probeAddPri, probeAddSec } from "./probe.js";
import { AGG_W, RoleAgg, STD, TERMS, boundMargin, mergePacked, nodeTerms, packAgg, resources } from "./bounds.js";

type TargetKind = "ReplaceSecondary" | "ReplaceAndFailover" | "ReplacePrimary" | "FailoverAndReplace";
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

interface RoundFlags {
  force: boolean;
  diskMoves: boolean;
  instMoves: boolean;
  restMig: boolean;
}

/** Receives candidates: approximate score, instance, move, rank in Ganeti's enumeration order. */
interface CandSink {
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
// the slots of targetKinds(instMoves, restMig, primDrained, useSec), by (instMoves << 3 | restMig << 2 | primDrained << 1 | useSec)
const SLOTS_BY_CODE = [...Array(16).keys()].map((c) => KIND_SLOTS.get(targetKinds(!!(c & 8), !!(c & 4), !!(c & 2), !!(c & 1)))!);
const SLOT_KIND: Array<TargetKind | "FailoverToAny"> = [
  "ReplaceSecondary",
  "ReplaceAndFailover",
  "ReplacePrimary",
  "FailoverAndReplace",
  "FailoverToAny",
];

interface InstCache {
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
  /** values of addPriEx(oldP.offline || force, intS), the failover's new primary (null: it fails); the node itself is built only for ReplacePrimary */
  vNewP: Float64Array | null;
  mig: boolean;
}

// Value vectors per instance (ProbeSearch.vec): its intermediate states and
// the part-specific node values.
const VS_INTP = 0;
const VS_INTS = 1;
const VS_NEWP = 2;
const VS_PN3 = 3;
const VS_LO1 = 4;
const VS_LO2 = 5;
const VS_NEWS = 6;
const VSLOTS = 7;
const V1 = new Float64Array(NCOMP);
const V2 = new Float64Array(NCOMP);
const STD_K = Int32Array.from(STD);
const STD_N = STD.length;
const W = Float64Array.from(WEIGHTS);
const WQ = Float64Array.from(STD, (k) => WEIGHTS[k]!);
/** position of reserved memory (component 3) among the std components */
const Q_RMEM = STD.indexOf(3);
const SUM_K = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 1);
// Std components that often hold the same numbers (as std positions q, q'):
// each "forthcoming" component and its plain one when no instance is
// forthcoming, and the CPU, memory and network loads when instances carry
// the default utilisation (1 of each, no -U file). When their node values,
// records and terms agree, the bound loops evaluate q once with both weights
// (findBoundQ checks the data each round; the sum differs from separate
// terms only by rounding, far inside boundMargin).
const ALIAS_PAIRS = [
  [0, 13],
  [1, 14],
  [6, 15],
  [12, 16],
  [7, 8],
  [7, 10],
] as const;
const ALIAS_N = ALIAS_PAIRS.length;
// alias a's std positions: ALIAS_B[a] folds into ALIAS_A[a] (flat arrays: read per stored pair, often before V8 optimises that code)
const ALIAS_A = Int32Array.from(ALIAS_PAIRS, ([x]) => STD.indexOf(x));
const ALIAS_B = Int32Array.from(ALIAS_PAIRS, ([, y]) => STD.indexOf(y));
const ZERO_DELTA = ScoreState.newDelta();
const DEAD: FixPart = { idx: [], vals: [], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: true };

// Compact per-(instance, slot) record read by every round's bound pass, kept
// in one arena in victim order so the pass streams through memory:
// [0, STD_N) Σδ, [STD_N, 2·STD_N) Σδ² (shifted) of the std components (with
// a dependent node at its low state), [REC_RES, +STD_N) the instance's
// resources for the target's role, REC_SUM the weighted change of the sum
// components, REC_FLAG 0 = bounded (NaN: no bound), REC_SPAN/REC_XD the
// dependent node's reserved-memory range and position, REC_ROLE 1 = the
// target gains the primary, REC_LOC the least location terms over the
// targets (weighted: the location score's and the map statistic's change
// the parts leave out; see locConst).
const REC_RES = 26;
const REC_SUM = 39;
const REC_FLAG = 40;
const REC_SPAN = 41;
const REC_XD = 42;
const REC_ROLE = 43;
const REC_LOC = 44;
const REC = 45;
/** Target nodes per block and blocks per superblock (see ProbeSearch.blockC). */
/** Bounded pairs per victim at most (the four DRBD target kinds). */
const ITEMS_PER = 4;
const DEFAULT_BLOCKS: readonly [number, number] = [16, 8];

export class ProbeSearch {
  private readonly ver: Int32Array;
  private readonly cache: Array<InstCache | null>;
  /** each (instance, slot)'s part, at idx * SLOTS + slot (null: not built since its nodes last changed) */
  private readonly partOf: Array<FixPart | null>;
  /** packed aggregates (bounds.ts packAgg) over all targets per role, and whether each has a bound */
  private readonly aggC = new Float64Array(2 * STD_N * AGG_W);
  private readonly aggOk = new Uint8Array(2);
  // Target blocks: per role, the online nodes in order of a state key
  // (blockNodes), cut into runs of `block` nodes, each with its own packed
  // aggregates (blockC at (b * 2 + role) * STD_N * AGG_W); a visited
  // (instance, kind) probes only the blocks whose bound is below the limit.
  // Similar nodes share a block, so its bound is much tighter than the bound
  // over all targets.
  private blockC = new Float64Array(0);
  private blockOk = new Uint8Array(0);
  /** per std component: Σ/n, Σ²/n, 1/n of the round's statistics */
  private readonly glob = new Float64Array(STD_N * 3);
  // Per instance, the cache key of its parts (primary, secondary and their
  // versions), its mirror type (0 none, 1 internal, 2 external, -1 unknown),
  // and per slot whether the part is 0 unbuilt, 1 live or 2 dead: the round's
  // pass over all victims reads only these arrays and the arena.
  /** std components the bound loops evaluate (findInert), and the others' constant term */
  private readonly activeQ = new Int32Array(STD_N);
  private activeN = 0;
  /** activeQ as a bit set of std positions */
  private activeMask = 0;
  private inertConst = 0;
  /** the std components the bound loops evaluate (activeQ less aliases, findBoundQ) and their weights */
  private readonly boundQ = new Int32Array(STD_N);
  private boundN = 0;
  private readonly boundW = new Float64Array(STD_N);
  // Per alias (ALIAS_PAIRS): how many online nodes' terms and how many stored
  // pairs' records differ between its two components; each node's and
  // position's mask of differing aliases.
  private readonly aliasNodeDiff = new Int32Array(ALIAS_N);
  private readonly aliasPairDiff = new Int32Array(ALIAS_N);
  private nodeAlias = new Uint8Array(0);
  private sAlias = new Uint8Array(0);
  private readonly block: number;
  private readonly superSize: number;
  /** packed aggregates of each node alone, per role (a per-target bound) */
  private readonly nodeC: Float64Array;
  private readonly nodeOk: Uint8Array;
  private readonly cacheKey: Int32Array;
  private readonly valArena: Float64Array;
  private readonly views: Array<Float64Array[] | null>;
  private readonly mirror: Int8Array;
  private readonly slotState: Int8Array;
  private onlineFlag = new Uint8Array(0);
  // superblocks: runs of SUPER consecutive blocks, bounded first
  private superCount = 0;
  private superC = new Float64Array(0);
  private superOk = new Uint8Array(0);
  private superLb = new Float64Array(0);
  private superOrd: number[] = [];
  private blockNodes = new Int32Array(0);
  private blockCount = 0;
  private readonly scratchAgg = new RoleAgg();
  private keyBuf = new Float64Array(0);
  private readonly meanBuf = new Float64Array(NCOMP);
  private readonly sdBuf = new Float64Array(NCOMP);
  private readonly oneNode = new Int32Array(1);
  private blockLb = new Float64Array(0);
  private blockOrd: number[] = [];
  /** position of each node in the round's online list (Ganeti's target order) */
  private onlinePos = new Int32Array(0);
  private boundsOk = false;
  private readonly fixBuf = ScoreState.newDelta();
  /** the part fixBuf holds the delta of (null: none yet this scan) */
  private fixFor: FixPart | null = null;
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
  constructor(
    nodeCount: number,
    instCount: number,
    private readonly verify = false,
    blocks: readonly [number, number] = DEFAULT_BLOCKS,
  ) {
    this.block = Math.max(1, Math.floor(blocks[0]));
    this.superSize = Math.max(1, Math.floor(blocks[1]));
    this.cache = new Array<InstCache | null>(instCount).fill(null);
    this.partOf = new Array<FixPart | null>(instCount * SLOTS).fill(null);
    this.cacheKey = new Int32Array(instCount * 4).fill(-2);
    this.nodeC = new Float64Array(nodeCount * 2 * STD_N * AGG_W);
    this.nodeOk = new Uint8Array(nodeCount * 2);
    this.valArena = new Float64Array(instCount * VSLOTS * NCOMP);
    this.views = new Array<Float64Array[] | null>(instCount).fill(null);
    this.mirror = new Int8Array(instCount).fill(-1);
    this.slotState = new Int8Array(instCount * SLOTS);
    this.arena = new Float64Array(instCount * SLOTS * REC);
    this.ver = new Int32Array(nodeCount);
    this.termVer = new Int32Array(nodeCount).fill(-1);
    this.terms = new Float64Array(nodeCount * 2 * NCOMP * TERMS);
    this.termMode = new Int8Array(nodeCount * 2 * NCOMP);
    this.nodeAlias = new Uint8Array(nodeCount);
  }

  /** Nodes changed by a committed move: their cached parts are stale. */
  committed(idxs: readonly number[]): void {
    for (const i of idxs) {
      this.ver[i] = this.ver[i]! + 1;
      this.changedNodes.push(i);
    }
  }

  /** Counters: candidates probed, (instance, kind) pairs, pairs pruned, target blocks scanned, bound violations (verify), components folded into their alias (findBoundQ, summed over rounds). */
  stats = { probed: 0, pairs: 0, pruned: 0, blocks: 0, boundViolations: 0, folded: 0 };

  // Per-victim state kept from round to round while the caller passes the
  // same victim array (balance.ts replaces only the moved instance's entry):
  // each victim's bounded pairs (arena offset and slot code, at most
  // ITEMS_PER per victim), its live Failover part, and the nodes it was last
  // seen on.  A round re-derives only the victims on nodes changed since the
  // last round (nodeVictims), not all of them.
  private lastVictims: Instance[] | null = null;
  private lastOnline: number[] | null = null;
  private lastFlags = -1;
  private changedNodes: number[] = [];
  private vItemOff = new Int32Array(0);
  private vItemCode = new Int8Array(0);
  private vFailOff = new Int32Array(0);
  private vP = new Int32Array(0);
  private vS = new Int32Array(0);
  private vDirty = new Uint8Array(0);
  private nodeVictims: number[][] = [];
  private utilFree = false;
  /** whether any member node has location tags, and the member nodes by location tag */
  private racked = false;
  private tagNodes = new Map<string, number[]>();

  round(f: RoundFlags, nodes: Node[], st: ScoreState, victims: Instance[], online: number[], onlineSet: Set<number>, sink: CandSink): void {
    this.prepareBounds(nodes, st, online);
    this.sumConst = st.sumTerms(ZERO_DELTA);
    const flags = (f.force ? 1 : 0) | (f.diskMoves ? 2 : 0) | (f.instMoves ? 4 : 0) | (f.restMig ? 8 : 0);
    const V = victims.length;
    const dirty: number[] = [];
    if (victims !== this.lastVictims || online !== this.lastOnline || flags !== this.lastFlags || this.vCount !== V) {
      this.lastVictims = victims;
      this.lastOnline = online;
      this.lastFlags = flags;
      this.restructure(nodes, st, victims, online);
      for (let v = 0; v < V; v++) dirty.push(v);
    } else {
      const dv = this.vDirty;
      for (const c of this.changedNodes)
        for (const v of this.nodeVictims[c] ?? [])
          if (dv[v] === 0) {
            dv[v] = 1;
            dirty.push(v);
          }
      // A move changes the exclusion map's counts at its nodes' locations:
      // the records' map terms (locConst) of victims on nodes there are
      // computed again.
      if (this.racked)
        for (const c of this.changedNodes)
          for (const t of nodes[c]!.locationTags)
            for (const n of this.tagNodes.get(t) ?? [])
              for (const v of this.nodeVictims[n] ?? [])
                if (dv[v] === 0 && victims[v]!.exclTags.length > 0) {
                  dv[v] = 1;
                  dirty.push(v);
                }
      for (const v of dirty) {
        dv[v] = 0;
        const inst = victims[v]!;
        if (inst.pNode !== this.vP[v] || inst.sNode !== this.vS[v]) this.relink(v, inst);
      }
    }
    this.changedNodes.length = 0;
    this.findInert(st);
    for (const v of dirty) this.deriveVictim(f, nodes, st, victims[v]!, v);

    const stride = (online.length + 1) * 8;
    if (this.itemLb.length < V * ITEMS_PER) {
      this.itemLb = new Float64Array(V * ITEMS_PER);
      this.itemV = new Int32Array(V * ITEMS_PER);
      this.itemSlot = new Int8Array(V * ITEMS_PER);
    }
    let ni = 0;
    let minLb = Infinity;
    let minAt = -1;
    const foff = this.vFailOff;
    this.findBoundQ();
    const R = this.rowCount;
    const fs = this.failoverScores(st, R);
    for (let r = 0; r < R; r++) {
      const fo = foff[r]!;
      if (fo < 0) continue;
      // the verify engine checks the pass against the per-record evaluation (summation order and folding aside)
      if (this.verify && !(Math.abs(fs[r]! - this.recScore(st, fo)) <= 1e-9 * Math.max(1, Math.abs(fs[r]!)))) this.stats.boundViolations++;
      const v = this.rowVictim[r]!;
      sink.offer(fs[r]!, victims[v]!.idx, "Failover", -1, v * stride);
    }
    // Only pairs whose bound is within the limit the failovers already set
    // can hold a candidate that is offered (the limit only falls).
    const live = this.pairBounds(this.rowCount, this.verify ? Infinity : sink.limit());
    const acc = this.sAcc;
    const H = this.rowCount * 2;
    const flag = this.sFlag;
    for (let li = 0; li < this.liveN; li++) {
      const pos = live[li]!;
      const lb = acc[pos]!;
      if (this.verify && flag[pos] === 0 && lb !== this.lowerBound(this.vItemOff[pos]!)) this.stats.boundViolations++;
      this.itemLb[ni] = lb;
      this.itemV[ni] = this.rowVictim[(pos % H) >> 1]!;
      this.itemSlot[ni] = this.vItemCode[pos]!;
      if (lb < minLb) {
        minLb = lb;
        minAt = ni;
      }
      ni++;
    }
    this.stats.pairs += this.pairN;
    this.stats.pruned += this.pairN - ni;
    // Visit the pair with the lowest bound first, then every pair whose bound
    // is below the limit so found, in increasing bound order.
    const visit = (k: number): void => {
      const v = this.itemV[k]!;
      const qs = this.itemSlot[k]!;
      const inst = victims[v]!;
      const fp = this.partOf[inst.idx * SLOTS + (qs & 7)]!;
      const min = this.scan(f, nodes, st, online, inst, qs & 7, fp, v * stride, qs >> 3, sink);
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

  /** Size the per-victim arrays for a new victim list and link every victim to its nodes. */
  private restructure(nodes: Node[], st: ScoreState, victims: Instance[], online: number[]): void {
    const V = victims.length;
    this.vCount = V;
    // pair rows only for victims that can have target moves (a mirrored disk template)
    this.pairRow = new Int32Array(V).fill(-1);
    const rows: number[] = [];
    for (let v = 0; v < V; v++) if (this.mirrorOf(victims[v]!) !== 0) this.pairRow[v] = rows.push(v) - 1;
    this.rowVictim = Int32Array.from(rows);
    this.rowCount = rows.length;
    const P = this.rowCount * ITEMS_PER;
    this.vItemOff = new Int32Array(P).fill(-1);
    this.vItemCode = new Int8Array(P);
    this.sA1 = new Float64Array(STD_N * P);
    this.sA2 = new Float64Array(STD_N * P);
    this.sRk = new Float64Array(STD_N * P);
    this.sSum = new Float64Array(P);
    this.sSpan = new Float64Array(P);
    this.sXd = new Float64Array(P);
    this.sFlag = new Uint8Array(P).fill(2);
    this.sAcc = new Float64Array(P);
    this.sAlias = new Uint8Array(P);
    this.aliasPairDiff.fill(0);
    const R = this.rowCount;
    this.vFailOff = new Int32Array(R).fill(-1);
    this.fA1 = new Float64Array(STD_N * R);
    this.fA2 = new Float64Array(STD_N * R);
    this.fSum = new Float64Array(R);
    this.fAcc = new Float64Array(R);
    this.fAlias = new Uint8Array(R);
    this.vP = new Int32Array(V).fill(-1);
    this.vS = new Int32Array(V).fill(-1);
    this.vDirty = new Uint8Array(V);
    this.nodeVictims = Array.from({ length: nodes.length }, () => [] as number[]);
    this.tagNodes = new Map();
    for (const i of st.members)
      for (const t of nodes[i]!.locationTags) {
        let l = this.tagNodes.get(t);
        if (l === undefined) this.tagNodes.set(t, (l = []));
        l.push(i);
      }
    this.racked = this.tagNodes.size > 0;
    if (this.onlineFlag.length < nodes.length) this.onlineFlag = new Uint8Array(nodes.length);
    this.onlineFlag.fill(0);
    for (const i of online) this.onlineFlag[i] = 1;
    this.utilFree = true;
    for (let v = 0; v < V; v++) {
      const inst = victims[v]!;
      const u = inst.util;
      if (u[0] !== 0 || u[1] !== 0 || u[2] !== 0 || u[3] !== 0) this.utilFree = false;
      this.relink(v, inst);
    }
  }

  /** Move victim v's entries in nodeVictims to the nodes the instance is on now. */
  private relink(v: number, inst: Instance): void {
    const drop = (n: number): void => {
      const l = this.nodeVictims[n];
      if (!l) return;
      const at = l.indexOf(v);
      if (at >= 0) l.splice(at, 1);
    };
    if (this.vP[v]! >= 0) drop(this.vP[v]!);
    if (this.vS[v]! >= 0 && this.vS[v] !== this.vP[v]) drop(this.vS[v]!);
    this.vP[v] = inst.pNode;
    this.vS[v] = inst.sNode;
    if (inst.pNode >= 0) this.nodeVictims[inst.pNode]!.push(v);
    if (inst.sNode >= 0 && inst.sNode !== inst.pNode) this.nodeVictims[inst.sNode]!.push(v);
  }

  /** Build victim v's parts as needed and record its Failover part and bounded pairs. */
  private deriveVictim(f: RoundFlags, nodes: Node[], st: ScoreState, inst: Instance, v: number): void {
    const idx = inst.idx;
    this.checkCache(inst);
    const mt = this.mirrorOf(inst);
    const ss = this.slotState;
    const useSec = inst.sNode >= 0 && this.onlineFlag[inst.sNode] === 1 && f.instMoves;
    const sb = idx * SLOTS;
    if (mt === 0) return;
    const row = this.pairRow[v]!;
    this.clearPairs(row);
    this.vFailOff[row] = -1;
    this.setAliasMask(this.fAlias, row, this.aliasPairDiff, 0);
    if (mt === 1 && useSec) {
      if (ss[sb + SLOT_FAILOVER] === 0) this.ensurePart(inst, SLOT_FAILOVER, f.force, nodes, st);
      if (ss[sb + SLOT_FAILOVER] === 1) {
        const off = (this.vFailOff[row] = (sb + SLOT_FAILOVER) * REC);
        const A = this.arena;
        const R = this.rowCount;
        for (let q = 0; q < STD_N; q++) {
          this.fA1[q * R + row] = A[off + q]!;
          this.fA2[q * R + row] = A[off + STD_N + q]!;
        }
        A[off + REC_LOC] = this.racked ? this.locConst(st, nodes, inst, SLOT_FAILOVER) : 0;
        this.fSum[row] = A[off + REC_SUM]! + A[off + REC_LOC]!;
        this.setAliasMask(this.fAlias, row, this.aliasPairDiff, this.recAliasMask(off, false));
      }
    }
    let slots: readonly number[];
    if (mt === 2) {
      if (!f.instMoves) return;
      slots = FTA_SLOTS;
    } else {
      if (!f.diskMoves) return;
      const codeBase = (f.instMoves ? 8 : 0) | (f.restMig ? 4 : 0);
      slots = SLOTS_BY_CODE[codeBase | (nodes[inst.pNode]!.offline ? 2 : 0) | (useSec ? 1 : 0)]!;
    }
    const nr = [0, 0];
    for (let q = 0; q < slots.length; q++) {
      const slot = slots[q]!;
      if (ss[sb + slot] === 0) this.ensurePart(inst, slot, f.force, nodes, st);
      if (ss[sb + slot] !== 1) continue;
      const off = (sb + slot) * REC;
      const role = this.arena[off + REC_ROLE]!;
      this.arena[off + REC_LOC] = this.racked ? this.locConst(st, nodes, inst, slot) : 0;
      if (nr[role]! >= 2) throw new Error(`hbal: more than two pairs of one role for instance ${inst.alias}`);
      const pos = role * 2 * this.rowCount + row * 2 + nr[role]!++;
      this.vItemOff[pos] = off;
      this.vItemCode[pos] = (q << 3) | slot;
      this.storePair(pos, off);
    }
  }

  // The bounded pairs in structure-of-arrays form for the round's bound pass
  // (pairBounds): victims with a mirrored disk template get a row r (pairRow;
  // rowVictim maps back), and position role·2R + 2r + k holds that victim's
  // k-th pair whose target takes that role (at most two per role); per std
  // component q the record's Σδ, Σδ² and resource at q·P + position
  // (R rows, P = 4R).
  private vCount = 0;
  private rowCount = 0;
  private pairRow = new Int32Array(0);
  private rowVictim = new Int32Array(0);
  private sA1 = new Float64Array(0);
  private sA2 = new Float64Array(0);
  private sRk = new Float64Array(0);
  private sSum = new Float64Array(0);
  private sSpan = new Float64Array(0);
  private sXd = new Float64Array(0);
  /** 0 bounded, 1 no bound, 2 no pair at this position */
  private sFlag = new Uint8Array(0);
  private sAcc = new Float64Array(0);

  /** The instance's mirror type: 0 none, 1 internal, 2 external. */
  private mirrorOf(inst: Instance): number {
    let mt = this.mirror[inst.idx]!;
    if (mt < 0) {
      const m = mirrorType(inst.diskTemplate);
      mt = this.mirror[inst.idx] = m === "none" ? 0 : m === "internal" ? 1 : 2;
    }
    return mt;
  }

  // No pair at these positions (flag 2): the pass still computes them with
  // whatever finite values they hold and drops the result.
  private clearPairs(row: number): void {
    for (let role = 0; role < 2; role++)
      for (let k = 0; k < 2; k++) {
        const pos = role * 2 * this.rowCount + row * 2 + k;
        this.sFlag[pos] = 2;
        this.vItemOff[pos] = -1;
        this.setAliasMask(this.sAlias, pos, this.aliasPairDiff, 0);
      }
  }

  private storePair(pos: number, off: number): void {
    const A = this.arena;
    const P = this.rowCount * ITEMS_PER;
    for (let q = 0; q < STD_N; q++) {
      this.sA1[q * P + pos] = A[off + q]!;
      this.sA2[q * P + pos] = A[off + STD_N + q]!;
      this.sRk[q * P + pos] = A[off + REC_RES + q]!;
    }
    this.sSum[pos] = A[off + REC_SUM]! + A[off + REC_LOC]!;
    this.sSpan[pos] = A[off + REC_SPAN]!;
    this.sXd[pos] = A[off + REC_XD]!;
    this.sFlag[pos] = A[off + REC_FLAG] === 0 ? 0 : 1;
    this.setAliasMask(this.sAlias, pos, this.aliasPairDiff, this.recAliasMask(off, true));
  }

  /** Which aliases' two components differ in the arena record at off (Σδ, Σδ², and with res the resources). */
  private recAliasMask(off: number, res: boolean): number {
    const A = this.arena;
    let mask = 0;
    for (let a = 0; a < ALIAS_N; a++) {
      const q = ALIAS_A[a]!;
      const q2 = ALIAS_B[a]!;
      if (
        A[off + q] !== A[off + q2] ||
        A[off + STD_N + q] !== A[off + STD_N + q2] ||
        (res && A[off + REC_RES + q] !== A[off + REC_RES + q2])
      )
        mask |= 1 << a;
    }
    return mask;
  }

  /** Replace masks[i] by mask, keeping counts (per alias, how many masks have its bit) up to date. */
  private setAliasMask(masks: Uint8Array, i: number, counts: Int32Array, mask: number): void {
    const old = masks[i]!;
    for (let a = 0; a < ALIAS_N; a++) counts[a] = counts[a]! + ((mask >> a) & 1) - ((old >> a) & 1);
    masks[i] = mask;
  }

  /** Which aliases' two components differ in node i's terms (either role). */
  private termAliasMask(i: number): number {
    let mask = 0;
    for (let a = 0; a < ALIAS_N; a++) {
      const k = STD_K[ALIAS_A[a]!]!;
      const k2 = STD_K[ALIAS_B[a]!]!;
      for (let role = 0; role < 2; role++) {
        const mi = (i * 2 + role) * NCOMP + k;
        const mi2 = (i * 2 + role) * NCOMP + k2;
        const md = this.termMode[mi]!;
        let same = md === this.termMode[mi2];
        for (let t = 0; same && md !== 0 && t < TERMS; t++) same = this.terms[mi * TERMS + t] === this.terms[mi2 * TERMS + t];
        if (!same) mask |= 1 << a;
      }
    }
    return mask;
  }

  /**
   * The components the bound loops evaluate this round: the active ones,
   * with an alias's second component folded into its first (weights added)
   * when every online node's terms, every stored pair's record and the
   * round's statistics are the same for both.
   */
  private findBoundQ(): void {
    const G = this.glob;
    let skip = 0;
    for (let j = 0; j < this.activeN; j++) this.boundW[this.activeQ[j]!] = WQ[this.activeQ[j]!]!;
    for (let a = 0; a < ALIAS_N; a++) {
      const q = ALIAS_A[a]!;
      const q2 = ALIAS_B[a]!;
      if (this.aliasNodeDiff[a] !== 0 || this.aliasPairDiff[a] !== 0 || !this.boundsOk) continue;
      if (G[q * 3] !== G[q2 * 3] || G[q * 3 + 1] !== G[q2 * 3 + 1] || G[q * 3 + 2] !== G[q2 * 3 + 2]) continue;
      const pair = (1 << q) | (1 << q2);
      if ((this.activeMask & pair) !== pair || skip & (1 << q)) continue;
      this.boundW[q] = this.boundW[q]! + WQ[q2]!;
      skip |= 1 << q2;
      this.stats.folded++;
    }
    this.boundN = 0;
    for (let j = 0; j < this.activeN; j++) if (!(skip & (1 << this.activeQ[j]!))) this.boundQ[this.boundN++] = this.activeQ[j]!;
  }

  /** Positions pairBounds lists (their bound is in sAcc), and how many pairs were stored. */
  private live = new Int32Array(0);
  private liveN = 0;
  private pairN = 0;

  /**
   * lowerBound of every stored pair, component by component over all pairs
   * of a role (the same arithmetic and order as kernel with the round's
   * aggregates over all targets, so the same values, which the verify engine
   * checks): the role's aggregates stay in registers and the pair data
   * streams through. Returns the positions (liveN of them) of the pairs
   * whose bound is at most `cut` or that have no bound (-Infinity): the
   * others cannot hold a candidate within the limit.
   */
  private pairBounds(R: number, cut: number): Int32Array {
    const P = R * ITEMS_PER;
    const H = R * 2;
    const acc = this.sAcc;
    acc.fill(this.inertConst, 0, P);
    for (let role = 0; role < 2; role++) {
      if (!this.boundsOk || this.aggOk[role] !== 1) continue;
      for (let j = 0; j < this.boundN; j++) this.boundComponent(role, this.boundQ[j]!, P, role * H, role * H + H);
    }
    if (this.live.length < P) this.live = new Int32Array(P);
    const live = this.live;
    const flag = this.sFlag;
    let n = 0;
    let pairs = 0;
    for (let pos = 0; pos < P; pos++) {
      const fl = flag[pos]!;
      if (fl === 2) continue;
      pairs++;
      if (fl !== 0 || !this.boundsOk || this.aggOk[pos < H ? 0 : 1] !== 1) {
        acc[pos] = -Infinity;
        live[n++] = pos;
        continue;
      }
      const lb = boundMargin(acc[pos]! + this.sumConst + this.sSum[pos]!);
      acc[pos] = lb;
      if (lb <= cut) live[n++] = pos;
    }
    this.liveN = n;
    this.pairN = pairs;
    return live;
  }

  /** Add component q's term of lowerBound to sAcc at the positions [lo, hi) of a role. */
  private boundComponent(role: number, q: number, P: number, lo: number, hi: number): void {
    const acc = this.sAcc;
    const G = this.glob;
    const C = this.aggC;
    const a1 = this.sA1,
      a2 = this.sA2,
      rkA = this.sRk;
    const c = role * STD_N * AGG_W + q * AGG_W;
    const g0 = G[q * 3]!,
      g1 = G[q * 3 + 1]!,
      inv = G[q * 3 + 2]!;
    const c0 = C[c]!,
      c1 = C[c + 1]!,
      c2 = C[c + 2]!,
      c3 = C[c + 3]!,
      c4 = C[c + 4]!,
      c5 = C[c + 5]!,
      c6 = C[c + 6]!,
      c7 = C[c + 7]!;
    const w = this.boundW[q]!;
    const rmem = q === Q_RMEM;
    const base = q * P;
    const span = this.sSpan,
      xd = this.sXd;
    for (let pos = lo; pos < hi; pos++) {
      const m = g0 + a1[base + pos]! * inv;
      const rk = rkA[base + pos]!;
      let v = g1 + a2[base + pos]! * inv - m * m + c1;
      let lin: number;
      if (m >= 0) {
        v += m * c2;
        lin = rk * (c4 + m * c5);
      } else {
        v += m * c3;
        lin = rk * (c4 + m * c6);
      }
      if (c0 === 0) v += lin + rk * rk * c7;
      else if (lin < 0) v += lin;
      if (rmem) {
        const sp = span[pos]!;
        if (sp !== 0) {
          const l2 = 2 * sp * (xd[pos]! - m) * inv;
          if (l2 < 0) v += l2;
        }
      }
      acc[pos] = acc[pos]! + w * Math.sqrt(v > 0 ? v : 0);
    }
  }

  /**
   * The targets of one (instance, kind): every online node, or, when the
   * part is bounded, the blocks whose bound is below the limit, lowest
   * bound first.  Candidates carry their rank, so the visiting order does not
   * matter.  Returns the lowest score seen.
   */
  private scan(
    f: RoundFlags,
    nodes: Node[],
    st: ScoreState,
    online: number[],
    inst: Instance,
    slot: number,
    fp: FixPart,
    base: number,
    q: number,
    sink: CandSink,
  ): number {
    const kind = SLOT_KIND[slot]!;
    // the fixed part's statistics delta, built on the first probe (most scans probe nothing)
    this.fixFor = null;
    const off = (inst.idx * SLOTS + slot) * REC;
    let min = Infinity;
    if (!this.boundsOk || this.arena[off + REC_FLAG] !== 0) {
      for (let tp = 0; tp < online.length; tp++) {
        const s = this.tryTarget(f, nodes, st, inst, kind, fp, online[tp]!, base + (tp + 1) * 8 + q, sink);
        if (s < min) min = s;
      }
      return min;
    }
    const role = this.arena[off + REC_ROLE]!;
    this.preparePair(off);
    const limitOk = (lb: number): boolean => this.verify || lb <= sink.limit();
    // superblocks first, then the blocks of each superblock below the limit
    const S = this.superCount;
    const sl = this.superLb;
    const sord = this.superOrd;
    const W2 = STD_N * AGG_W;
    const offs = this.kOffs;
    sord.length = 0;
    for (let u = 0; u < S; u++) offs[u] = (u * 2 + role) * W2;
    this.kernelMany(this.superC, offs, S, sl);
    for (let u = 0; u < S; u++) {
      if (this.superOk[u * 2 + role] !== 1) sl[u] = -Infinity;
      if (limitOk(sl[u]!)) sord.push(u);
    }
    sord.sort((x, y) => sl[x]! - sl[y]!);
    const B = this.blockCount;
    const lbs = this.blockLb;
    const ord = this.blockOrd;
    const bn = this.blockNodes;
    const n = online.length;
    for (const u of sord) {
      if (!limitOk(sl[u]!)) break;
      ord.length = 0;
      const b0 = u * this.superSize;
      const bc = Math.min(B, b0 + this.superSize) - b0;
      for (let i = 0; i < bc; i++) offs[i] = ((b0 + i) * 2 + role) * W2;
      this.kernelMany(this.blockC, offs, bc, this.kOut);
      for (let i = 0; i < bc; i++) {
        const b = b0 + i;
        lbs[b] = this.blockOk[b * 2 + role] === 1 ? this.kOut[i]! : -Infinity;
        if (limitOk(lbs[b]!)) ord.push(b);
      }
      ord.sort((x, y) => lbs[x]! - lbs[y]!);
      for (const b of ord) {
        if (!limitOk(lbs[b]!)) break;
        this.stats.blocks++;
        const lo = role * n + b * this.block;
        const hi = role * n + Math.min(n, (b + 1) * this.block);
        // the block's per-node bounds in one batch; each is still checked against the limit of its turn
        for (let p = lo; p < hi; p++) offs[p - lo] = (bn[p]! * 2 + role) * W2;
        const nbs = this.kOut;
        this.kernelMany(this.nodeC, offs, hi - lo, nbs);
        for (let p = lo; p < hi; p++) {
          const t = bn[p]!;
          const nb = this.nodeOk[t * 2 + role] === 1 ? nbs[p - lo]! : -Infinity;
          if (!limitOk(nb)) continue;
          const s = this.tryTarget(f, nodes, st, inst, kind, fp, t, base + (this.onlinePos[t]! + 1) * 8 + q, sink);
          if (s < min) min = s;
          if (s < lbs[b]! || s < sl[u]! || s < nb) this.stats.boundViolations++;
        }
      }
    }
    return min;
  }

  /** Probe one target: its approximate score (offered to the sink when within the limit), or Infinity. */
  private tryTarget(
    f: RoundFlags,
    nodes: Node[],
    st: ScoreState,
    inst: Instance,
    kind: TargetKind | "FailoverToAny",
    fp: FixPart,
    t: number,
    rank: number,
    sink: CandSink,
  ): number {
    const opdx = inst.pNode;
    const osdx = inst.sNode;
    if (t === opdx || t === osdx) return Infinity;
    const oldP = nodes[opdx]!;
    const tgt = nodes[t]!;
    let ok: boolean;
    switch (kind) {
      case "FailoverToAny":
        ok = !isFail(checkMigration(oldP, tgt)) && probeAddPri(oldP.offline || f.force, tgt, inst, V1) === null;
        break;
      case "ReplaceSecondary":
        ok = probeAddSec(false, nodes[osdx]!.offline || f.force, tgt, inst, opdx, V1) === null;
        break;
      case "ReplaceAndFailover":
        ok =
          !isFail(checkMigration(oldP, tgt)) &&
          probeAddPri(f.force, tgt, inst, V1) === null &&
          probeAddSec(false, nodes[osdx]!.offline || f.force, fp.depBase!, inst, t, V2) === null;
        break;
      case "ReplacePrimary":
        ok =
          !isFail(checkMigration(nodes[osdx]!, tgt)) &&
          probeAddPri(oldP.offline || f.force, tgt, inst, V1) === null &&
          probeAddSec(false, oldP.offline || f.force, fp.depBase!, inst, t, V2) === null;
        break;
      case "FailoverAndReplace":
        ok = probeAddSec(false, oldP.offline || f.force, tgt, inst, osdx, V1) === null;
        break;
    }
    this.stats.probed++;
    if (!ok) return Infinity;
    if (this.fixFor !== fp) {
      const fix = this.fixBuf;
      fix.fill(0);
      for (let j = 0; j < fp.idx.length; j++) st.accumulate(fp.idx[j]!, fp.vals[j]!, fix);
      this.fixFor = fp;
    }
    let score = st.scoreWith(this.fixBuf, t, V1, fp.dep, fp.dep >= 0 ? V2 : null);
    if (this.racked) score += this.locExtra(st, nodes, inst, kind, t);
    if (score <= sink.limit()) sink.offer(score, inst.idx, kind, t, rank);
    return score;
  }

  /** Drop the instance's parts when it moved or one of its nodes changed. */
  private checkCache(inst: Instance): void {
    const K = this.cacheKey;
    const o = inst.idx * 4;
    const pv = this.ver[inst.pNode]!;
    const sv = inst.sNode >= 0 ? this.ver[inst.sNode]! : 0;
    if (K[o] === inst.pNode && K[o + 1] === inst.sNode && K[o + 2] === pv && K[o + 3] === sv) return;
    K[o] = inst.pNode;
    K[o + 1] = inst.sNode;
    K[o + 2] = pv;
    K[o + 3] = sv;
    this.cache[inst.idx] = null;
    this.partOf.fill(null, inst.idx * SLOTS, (inst.idx + 1) * SLOTS);
    this.slotState.fill(0, inst.idx * SLOTS, (inst.idx + 1) * SLOTS);
  }

  /**
   * The value vector `slot` of an instance: a fixed view into one arena, so
   * rebuilding an instance's parts allocates no buffers (all its parts are
   * dropped together, so nothing still reads the old values).
   */
  private vec(idx: number, slot: number): Float64Array {
    let vs = this.views[idx];
    if (!vs) {
      vs = this.views[idx] = [];
      for (let j = 0; j < VSLOTS; j++) vs.push(this.valArena.subarray((idx * VSLOTS + j) * NCOMP, (idx * VSLOTS + j + 1) * NCOMP));
    }
    return vs[slot]!;
  }

  /** Build and cache one part, and record whether it is live. */
  private ensurePart(inst: Instance, slot: number, force: boolean, nodes: Node[], st: ScoreState): void {
    const ic = this.instCache(inst);
    const fp = slot === SLOT_FAILOVER ? this.buildFailover(ic, force, nodes, st, inst) : this.buildPart(ic, slot, force, nodes, st, inst);
    this.partOf[inst.idx * SLOTS + slot] = fp;
    this.slotState[inst.idx * SLOTS + slot] = fp.dead ? 2 : 1;
  }

  /** The instance's part cache (checkCache has run this round). */
  private instCache(inst: Instance): InstCache {
    let c = this.cache[inst.idx];
    if (!c) c = this.cache[inst.idx] = { inter: null };
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
    const res = resources(inst, p.tgtPri, this.resBuf);
    let resOk = true;
    for (let q = 0; q < STD_N; q++) {
      const rk = res[STD_K[q]!]!;
      A[off + REC_RES + q] = rk;
      // the bound assumes the target's values move by a finite, non-negative multiple of u
      if (!(rk >= 0 && rk < Infinity)) resOk = false;
    }
    A[off + REC_FLAG] = bounded && resOk ? 0 : NaN;
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
    let vNewP: Float64Array | null = null;
    let mig = false;
    if (inst.sNode >= 0) {
      const oldS = nodes[inst.sNode]!;
      intS = removeSec(oldS, inst);
      mig = !isFail(checkMigration(oldP, oldS));
      vNewP = this.vec(inst.idx, VS_NEWP);
      if (probeAddPri(oldP.offline || force, intS, inst, vNewP) !== null) vNewP = null;
    }
    const vIntP = this.vec(inst.idx, VS_INTP);
    nodeValues(intP, vIntP);
    let vIntS: Float64Array | null = null;
    if (intS) nodeValues(intS, (vIntS = this.vec(inst.idx, VS_INTS)));
    ic.inter = { intP, vIntP, intS, vIntS, vNewP, mig };
    return ic.inter;
  }

  private buildPart(ic: InstCache, slot: number, force: boolean, nodes: Node[], st: ScoreState, inst0: Instance): FixPart {
    // Without location tags the moved instance's location score is 0 (moves.ts locScore).
    const inst: Instance = inst0.locationScore === 0 ? inst0 : { ...inst0, locationScore: 0 };
    const I = this.inter(ic, force, nodes, inst);
    const opdx = inst.pNode;
    const osdx = inst.sNode;
    const part = (
      idx: number[],
      vs: Float64Array[],
      dep: number,
      depBase: Node | null,
      depLo: Float64Array | null,
      tgtPri: boolean,
    ): FixPart => this.withDeltas(st, { idx, vals: vs, dep, depBase, depLo, tgtPri, dead: false }, inst, slot);
    switch (slot) {
      case SLOT_FTA:
        return part([opdx], [I.vIntP], -1, null, null, true);
      case 0: {
        // ReplaceSecondary: the primary gives up and retakes the instance
        const v3 = this.vec(inst.idx, VS_PN3);
        if (probeAddPri(true, I.intP, inst, v3) !== null) return DEAD;
        return part([osdx, opdx], [I.vIntS!, v3], -1, null, null, false);
      }
      case 1: {
        // ReplaceAndFailover: the old primary becomes the secondary of the target
        const lo = this.vec(inst.idx, VS_LO1);
        if (probeAddSec(false, nodes[osdx]!.offline || force, I.intP, inst, -1, lo) !== null) return DEAD;
        return part([osdx], [I.vIntS!], opdx, I.intP, lo, true);
      }
      case 2: {
        // ReplacePrimary: failover, replace the (old primary) secondary, failover back
        const forceP = nodes[opdx]!.offline || force;
        if (!I.mig || I.vNewP === null) return DEAD;
        const newP = addPriEx(forceP, I.intS!, inst);
        if (isFail(newP)) throw new Error(`hbal: addPriEx fails where its probe succeeded (${newP})`);
        const tmpS2 = removePri(newP, inst);
        const lo = this.vec(inst.idx, VS_LO2);
        if (probeAddSec(false, forceP, tmpS2, inst, -1, lo) !== null) return DEAD;
        return part([opdx], [I.vIntP], osdx, tmpS2, lo, true);
      }
      case 3:
        // FailoverAndReplace: the old secondary takes over, the target becomes its secondary
        if (!I.mig || I.vNewP === null) return DEAD;
        return part([osdx, opdx], [I.vNewP, I.vIntP], -1, null, null, false);
    }
    throw new Error(`hbal: unknown move slot ${slot}`);
  }

  private buildFailover(ic: InstCache, force: boolean, nodes: Node[], st: ScoreState, inst: Instance): FixPart {
    // moves.ts applyMove "Failover", from the shared intermediate states
    const I = this.inter(ic, force, nodes, inst.locationScore === 0 ? inst : { ...inst, locationScore: 0 });
    const oldP = nodes[inst.pNode]!;
    if (!I.mig || I.vNewP === null) return DEAD;
    const vNewS = this.vec(inst.idx, VS_NEWS);
    if (probeAddSec(oldP.offline, oldP.offline || force, I.intP, inst, inst.sNode, vNewS) !== null) return DEAD;
    return this.withDeltas(
      st,
      { idx: [inst.pNode, inst.sNode], vals: [vNewS, I.vNewP], dep: -1, depBase: null, depLo: null, tgtPri: false, dead: false },
      inst,
      SLOT_FAILOVER,
    );
  }

  // ---- location tags ----------------------------------------------------------

  /**
   * The location terms the part of `slot` leaves out, at their least over
   * the targets (weighted): the parts take the moved instance's location
   * score as 0 where it leaves its primary (so −L is missing) and where it
   * joins a node (its new score L' ≥ 0 is missing, and a target probe adds
   * the old L ≥ 0, which the bound never counts); the map statistic's change
   * when the primary moves is exact where the new primary is fixed, else
   * that of the removal alone (an addition never lowers it).  Only online
   * nodes count (the location score is an online component): an offline
   * old primary loses nothing.
   */
  private locConst(st: ScoreState, nodes: Node[], inst: Instance, slot: number): number {
    const count = (key: string): number => st.mapKeys.get(key) ?? 0;
    const P = nodes[inst.pNode]!;
    const S = inst.sNode >= 0 ? nodes[inst.sNode]! : null;
    const lp = P.offline ? 0 : inst.locationScore;
    const wl = -W[LOC]! * lp;
    const wm = W[MAP_COMPONENT]!;
    switch (slot) {
      case SLOT_FAILOVER:
        // (the secondary, online for a failover, takes over the score)
        return W[LOC]! * (inst.locationScore - lp) + wm * mapMoveDelta(count, inst, P, S);
      case 0:
        return wl;
      case 3:
        return wl + wm * mapMoveDelta(count, inst, P, S);
      default:
        return wl + wm * mapMoveDelta(count, inst, P, null);
    }
  }

  /**
   * A candidate's location terms that tryTarget's score leaves out
   * (moves.ts applyMove): the new location score L' less what the parts
   * and probes counted (0 for the parts, L for a target gaining the
   * primary), −L for leaving the old primary (when online), and the map
   * statistic's change when the primary moves.
   */
  private locExtra(st: ScoreState, nodes: Node[], inst: Instance, kind: TargetKind | "FailoverToAny", t: number): number {
    const L = inst.locationScore;
    const P = nodes[inst.pNode]!;
    const lp = P.offline ? 0 : L;
    const S = inst.sNode >= 0 ? nodes[inst.sNode]! : null;
    const tgt = nodes[t]!;
    const count = (key: string): number => st.mapKeys.get(key) ?? 0;
    let dl: number;
    let dm = 0;
    switch (kind) {
      case "FailoverToAny":
        dl = -lp;
        dm = mapMoveDelta(count, inst, P, tgt);
        break;
      case "ReplaceSecondary":
        // (the primary gives up and retakes the instance: counted when online)
        dl = P.offline ? 0 : pairLocScore(P, tgt) - L;
        break;
      case "ReplaceAndFailover":
        dl = pairLocScore(tgt, P) - L - lp;
        dm = mapMoveDelta(count, inst, P, tgt);
        break;
      case "ReplacePrimary":
        dl = pairLocScore(tgt, S!) - L - lp;
        dm = mapMoveDelta(count, inst, P, tgt);
        break;
      case "FailoverAndReplace":
        dl = pairLocScore(S!, tgt) - lp;
        dm = mapMoveDelta(count, inst, P, S);
        break;
    }
    return W[LOC]! * dl + W[MAP_COMPONENT]! * dm;
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
    const one = this.oneNode;
    const touched = this.touched;
    touched.length = 0;
    for (const i of online) {
      if (this.termVer[i] === this.ver[i]) continue;
      this.termVer[i] = this.ver[i]!;
      touched.push(i);
      for (let role = 0; role < 2; role++)
        for (const k of STD) {
          const mi = (i * 2 + role) * NCOMP + k;
          const c = st.shift[k]!;
          this.termMode[mi] = nodeTerms(nodes[i]!, k, role === 1, st.cnt[k]!, c, st.vals[i]![k]! - c, this.coefOut, this.terms, mi * TERMS);
        }
      this.setAliasMask(this.nodeAlias, i, this.aliasNodeDiff, this.termAliasMask(i));
      // the bound over this node alone: checked before probing it
      one[0] = i;
      for (let role = 0; role < 2; role++)
        this.nodeOk[i * 2 + role] = this.packRange(st, one, 0, 1, role, this.nodeC, (i * 2 + role) * STD_N * AGG_W);
    }
    for (let q = 0; q < STD_N; q++) {
      const k = STD_K[q]!;
      const n = st.cnt[k]!;
      this.glob[q * 3] = st.s1[k]! / n;
      this.glob[q * 3 + 1] = st.s2[k]! / n;
      this.glob[q * 3 + 2] = 1 / n;
    }
    this.prepareBlocks(nodes, st, online, touched);
    // over all targets: the union of the superblocks
    const W2 = STD_N * AGG_W;
    for (let role = 0; role < 2; role++) {
      let ok = 1;
      for (let u = 0; u < this.superCount; u++) if (this.superOk[u * 2 + role] !== 1) ok = 0;
      this.aggOk[role] = ok;
      if (ok === 1) mergePacked(this.superC, role * W2, this.superCount, 2 * W2, this.aggC, role * W2);
      if (this.verify) {
        // the verify engine checks the merge against aggregating all targets at once
        const direct = new Float64Array(W2);
        const dOk = this.packRange(st, online, 0, online.length, role, direct, 0);
        if (dOk !== ok || (ok === 1 && direct.some((x, j) => x !== this.aggC[role * W2 + j]))) this.stats.boundViolations++;
      }
    }
  }

  /** Aggregate the terms of the nodes ord[lo..hi) for a role and pack them at out[o..]; 1 if bounded. */
  private packRange(st: ScoreState, ord: ArrayLike<number>, lo: number, hi: number, role: number, out: Float64Array, o: number): number {
    const a = this.scratchAgg;
    for (const k of STD) {
      a.reset(k);
      for (let p = lo; p < hi; p++) {
        const mi = (ord[p]! * 2 + role) * NCOMP + k;
        a.add(k, this.termMode[mi]!, this.terms, mi * TERMS);
      }
      a.close(k, st.cnt[k]!);
    }
    return packAgg(a, st.cnt, out, o) ? 1 : 0;
  }

  private readonly touched: number[] = [];
  /** nodes whose terms changed since the blocks were last sorted */
  private sinceSort = 0;
  private sortedFor: number[] | null = null;
  /** position of each node in blockNodes, per role (node * 2 + role) */
  private blockPos = new Int32Array(0);
  private readonly dirtyBlocks: number[] = [];

  /**
   * Cut the online nodes into target blocks.  Which nodes share a block only
   * affects how tight the bounds are, never a decision, so the order is kept
   * across rounds (only the blocks holding changed nodes are re-aggregated)
   * and re-sorted once a sixteenth of the nodes have changed.
   */
  private prepareBlocks(nodes: Node[], st: ScoreState, online: number[], touched: readonly number[]): void {
    const n = online.length;
    const B = Math.ceil(n / this.block);
    const S = Math.ceil(B / this.superSize);
    this.sinceSort += touched.length;
    if (this.sortedFor === online && this.blockCount === B && this.sinceSort <= Math.max(8, n / 16)) {
      this.refreshBlocks(st, n, touched);
      return;
    }
    this.sortedFor = online;
    this.sinceSort = 0;
    if (this.onlinePos.length < nodes.length) this.onlinePos = new Int32Array(nodes.length);
    for (let p = 0; p < n; p++) this.onlinePos[online[p]!] = p;
    if (this.blockPos.length < 2 * nodes.length) this.blockPos = new Int32Array(2 * nodes.length);
    this.blockCount = B;
    this.superCount = S;
    if (this.blockNodes.length !== 2 * n) this.blockNodes = new Int32Array(2 * n);
    if (this.blockOk.length < 2 * B) {
      this.blockOk = new Uint8Array(2 * B);
      this.blockC = new Float64Array(2 * B * STD_N * AGG_W);
      this.blockLb = new Float64Array(B);
    }
    const kn = Math.max(S, this.superSize, this.block);
    if (this.kOffs.length < kn) {
      this.kOffs = new Int32Array(kn);
      this.kOut = new Float64Array(kn);
    }
    if (this.superOk.length < 2 * S) {
      this.superOk = new Uint8Array(2 * S);
      this.superC = new Float64Array(2 * S * STD_N * AGG_W);
      this.superLb = new Float64Array(S);
    }
    const key = this.keyBuf.length >= nodes.length ? this.keyBuf : (this.keyBuf = new Float64Array(nodes.length));
    // per component: shifted mean and standard deviation of the round
    const mean = this.meanBuf;
    const sd = this.sdBuf;
    for (const k of STD) {
      mean[k] = st.s1[k]! / st.cnt[k]!;
      sd[k] = Math.sqrt(Math.max(st.s2[k]! / st.cnt[k]! - mean[k]! * mean[k]!, 0));
    }
    for (let role = 0; role < 2; role++) {
      // Order by how good a target the node is for this role: its standardised
      // distance from the mean, summed over the components that role changes.
      for (const i of online) {
        const v = st.vals[i]!;
        let kk = 0;
        for (const k of STD) {
          const mi = (i * 2 + role) * NCOMP + k;
          if (this.termMode[mi] === 0 || !(sd[k]! > 0)) continue;
          kk += (W[k]! * this.terms[mi * TERMS + 3]! * (v[k]! - st.shift[k]! - mean[k]!)) / sd[k]!;
        }
        key[i] = kk;
      }
      const ord = Int32Array.from(online).sort((a, b) => key[a]! - key[b]! || a - b);
      this.blockNodes.set(ord, role * n);
      for (let p = 0; p < n; p++) this.blockPos[ord[p]! * 2 + role] = p;
      for (let b = 0; b < B; b++) this.packBlock(st, n, role, b);
      for (let u = 0; u < S; u++) this.packSuper(role, u);
    }
  }

  /** Re-aggregate only the blocks and superblocks that hold a changed node. */
  private refreshBlocks(st: ScoreState, n: number, touched: readonly number[]): void {
    const db = this.dirtyBlocks;
    for (let role = 0; role < 2; role++) {
      db.length = 0;
      for (const i of touched) {
        const b = Math.floor(this.blockPos[i * 2 + role]! / this.block);
        if (!db.includes(b)) db.push(b);
      }
      for (const b of db) this.packBlock(st, n, role, b);
      const us: number[] = [];
      for (const b of db) {
        const u = Math.floor(b / this.superSize);
        if (!us.includes(u)) us.push(u);
      }
      for (const u of us) this.packSuper(role, u);
    }
  }

  private packBlock(st: ScoreState, n: number, role: number, b: number): void {
    const bs = this.block;
    this.blockOk[b * 2 + role] = this.packRange(
      st,
      this.blockNodes,
      role * n + b * bs,
      role * n + Math.min(n, (b + 1) * bs),
      role,
      this.blockC,
      (b * 2 + role) * STD_N * AGG_W,
    );
  }

  /** A superblock's aggregates: the union of its blocks' (mergePacked). */
  private packSuper(role: number, u: number): void {
    const W2 = STD_N * AGG_W;
    const b0 = u * this.superSize;
    const count = Math.min(this.blockCount, b0 + this.superSize) - b0;
    let ok = 1;
    for (let b = b0; b < b0 + count; b++) if (this.blockOk[b * 2 + role] !== 1) ok = 0;
    this.superOk[u * 2 + role] = ok;
    if (ok === 1) mergePacked(this.blockC, (b0 * 2 + role) * W2, count, 2 * W2, this.superC, (u * 2 + role) * W2);
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
  private lowerBound(off: number): number {
    if (!this.boundsOk || this.arena[off + REC_FLAG] !== 0) return -Infinity;
    const role = this.arena[off + REC_ROLE]!;
    return this.aggOk[role] === 1 ? this.kernel(off, this.aggC, role * STD_N * AGG_W) : -Infinity;
  }

  // One pair's share of kernel, computed once per scan (the pair is bounded
  // against many target blocks): per active component its shifted mean m,
  // G1 + Σδ²/n − m², resource, and the dependent node's reserved-memory term.
  private readonly preM = new Float64Array(STD_N);
  private readonly preV = new Float64Array(STD_N);
  private readonly preRk = new Float64Array(STD_N);
  private preSpan = 0;
  private preXd = 0;
  private preSum = 0;

  private preparePair(off: number): void {
    const A = this.arena;
    const G = this.glob;
    for (let j = 0; j < this.boundN; j++) {
      const q = this.boundQ[j]!;
      const inv = G[q * 3 + 2]!;
      const m = G[q * 3]! + A[off + q]! * inv;
      this.preM[j] = m;
      this.preV[j] = G[q * 3 + 1]! + A[off + STD_N + q]! * inv - m * m;
      this.preRk[j] = A[off + REC_RES + q]!;
    }
    this.preSpan = A[off + REC_SPAN]!;
    this.preXd = A[off + REC_XD]!;
    this.preSum = A[off + REC_SUM]! + A[off + REC_LOC]!;
  }

  /** Scratch for kernelMany: aggregate offsets and bounds (sized by prepareBlocks). */
  private kOffs = new Int32Array(1);
  private kOut = new Float64Array(1);

  /**
   * lowerBound's bound, for the pair preparePair was given, over each of
   * `count` target sets whose packed aggregates start at C[offs[i]..], into
   * out[0, count): component by component, so the pair's share stays in
   * registers; each set's terms are summed in the same order as
   * boundComponent's (the same values).
   */
  private kernelMany(C: Float64Array, offs: Int32Array, count: number, out: Float64Array): void {
    const G = this.glob;
    const span = this.preSpan;
    const act = this.boundQ;
    const bw = this.boundW;
    for (let i = 0; i < count; i++) out[i] = this.inertConst;
    for (let j = 0; j < this.boundN; j++) {
      const q = act[j]!;
      const qo = q * AGG_W;
      const m = this.preM[j]!;
      const rk = this.preRk[j]!;
      const pv = this.preV[j]!;
      const w = bw[q]!;
      const l2 = q === Q_RMEM && span !== 0 ? 2 * span * (this.preXd - m) * G[q * 3 + 2]! : 0;
      for (let i = 0; i < count; i++) {
        const c = offs[i]! + qo;
        let v = pv + C[c + 1]!;
        let lin: number;
        if (m >= 0) {
          v += m * C[c + 2]!;
          lin = rk * (C[c + 4]! + m * C[c + 5]!);
        } else {
          v += m * C[c + 3]!;
          lin = rk * (C[c + 4]! + m * C[c + 6]!);
        }
        if (C[c] === 0) v += lin + rk * rk * C[c + 7]!;
        else if (lin < 0) v += lin;
        if (l2 < 0) v += l2;
        out[i] = out[i]! + w * Math.sqrt(v > 0 ? v : 0);
      }
    }
    for (let i = 0; i < count; i++) out[i] = boundMargin(out[i]! + this.sumConst + this.preSum);
  }

  /** The bound of lowerBound over the targets whose packed aggregates are C[co..] (the pair's share, then the targets'). */
  private kernel(off: number, C: Float64Array, co: number): number {
    this.preparePair(off);
    this.kOffs[0] = co;
    this.kernelMany(C, this.kOffs, 1, this.kOut);
    return this.kOut[0]!;
  }

  /**
   * The dynamic-utilisation components are inert when no victim carries any
   * utilisation: no move changes them, so their term is the same constant in
   * every candidate's score, and the bound loops skip them.
   */
  private findInert(st: ScoreState): void {
    const utilFree = this.utilFree;
    this.activeN = 0;
    this.activeMask = 0;
    this.inertConst = 0;
    for (let q = 0; q < STD_N; q++) {
      const k = STD_K[q]!;
      if (utilFree && k >= 7 && k <= 10) {
        const n = st.cnt[k]!;
        const m = st.s1[k]! / n;
        const v = st.s2[k]! / n - m * m;
        this.inertConst += WQ[q]! * Math.sqrt(v > 0 ? v : 0);
      } else {
        this.activeQ[this.activeN++] = q;
        this.activeMask |= 1 << q;
      }
    }
  }

  // Failover parts (target-less) in structure-of-arrays form: per std
  // component q the record's Σδ and Σδ² at q·V + v.
  private fA1 = new Float64Array(0);
  private fA2 = new Float64Array(0);
  private fSum = new Float64Array(0);
  private fAcc = new Float64Array(0);
  private fAlias = new Uint8Array(0);

  /**
   * recScore of every row's Failover part (garbage where it has none) in
   * one pass per component; the inert components add their constant term,
   * and folded components (findBoundQ) are evaluated once with both weights
   * (the same value but for rounding, far below the re-check's tolerance).
   */
  private failoverScores(st: ScoreState, V: number): Float64Array {
    const acc = this.fAcc;
    acc.fill(this.inertConst, 0, V);
    const a1 = this.fA1,
      a2 = this.fA2;
    for (let j = 0; j < this.boundN; j++) {
      const q = this.boundQ[j]!;
      const k = STD_K[q]!;
      const n = st.cnt[k]!,
        s1 = st.s1[k]!,
        s2 = st.s2[k]!;
      const w = this.boundW[q]!;
      const base = q * V;
      for (let v = 0; v < V; v++) {
        const m = (s1 + a1[base + v]!) / n;
        const x = (s2 + a2[base + v]!) / n - m * m;
        acc[v] = acc[v]! + w * Math.sqrt(x > 0 ? x : 0);
      }
    }
    for (let v = 0; v < V; v++) acc[v] = acc[v]! + this.sumConst + this.fSum[v]!;
    return acc;
  }

  /** Approximate score of a target-less part (Failover) from its record. */
  private recScore(st: ScoreState, off: number): number {
    const A = this.arena;
    const cnt = st.cnt,
      s1 = st.s1,
      s2 = st.s2;
    let r = 0;
    for (let q = 0; q < STD_N; q++) {
      const k = STD_K[q]!;
      const n = cnt[k]!;
      const m = (s1[k]! + A[off + q]!) / n;
      const v = (s2[k]! + A[off + STD_N + q]!) / n - m * m;
      r += W[k]! * Math.sqrt(v > 0 ? v : 0);
    }
    return r + this.sumConst + A[off + REC_SUM]! + A[off + REC_LOC]!;
  }
}

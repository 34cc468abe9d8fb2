// hbal: greedy cluster balancing (docs/htools-internals.md, hbal).
//
// Each step evaluates every candidate move with ScoreState (O(components) per
// candidate instead of a full O(nodes) recomputation).  Candidates whose fast
// score is within TOL of the best are then re-scored with the reference
// arithmetic (compCV over the group, in node order), and the choice follows
// Ganeti's rule exactly: lowest score wins, the earliest candidate on ties.
// TOL is far above the rounding error of the fast path, so this re-check can
// never miss the move Ganeti would choose.
import type { Instance } from "./types.js";
import { isFail } from "./types.js";
import { Node, removePri } from "./node.js";
import { ProbeSearch, targetKinds } from "./balance-probe.js";
import { mirrorType, allNodes, isRunning } from "./instance.js";
import { applyMove, moveCode, moveCommands, type IMove, type MoveResult } from "./moves.js";
import { ScoreState, compCV, compCVWith, optimalCVScore } from "./metrics.js";

export interface BalanceOptions {
  /** --ignore-soft-errors */
  ignoreSoftErrors?: boolean;
  /** --no-disk-moves */
  noDiskMoves?: boolean;
  /** --no-instance-moves */
  noInstanceMoves?: boolean;
  /** --restricted-migration */
  restrictedMigration?: boolean;
  /** --evac-mode */
  evacMode?: boolean;
  /** -l: maximum number of moves; -1 = unlimited */
  maxLength?: number;
  /** -g/--min-gain (default 0.01) */
  minGain?: number;
  /** --min-gain-limit (default 0.1) */
  minGainLimit?: number;
  /** -e/--min-score (default 1e-9) */
  minScore?: number;
  /**
   * Candidate search: "auto" (the probe search with pruning, or on a tiny
   * group every candidate built: TINY_PAIRS), "probe" (the probe search
   * whatever the group's size), "reference" (build every candidate; slow),
   * or "verify" (probe search without pruning, counting bound violations;
   * for tests).
   */
  engine?: "auto" | "probe" | "reference" | "verify";
  /**
   * Probe search: target nodes per block and blocks per superblock (default
   * [16, 8]).  Only tests change it, to exercise the block bounds on small
   * clusters; the choice of moves does not depend on it.
   */
  probeBlocks?: readonly [number, number];
}

interface Placement {
  /** instance index */
  inst: number;
  /** new primary / secondary (node indices; -1 = none) */
  pdx: number;
  sdx: number;
  move: IMove;
  /** score after the move */
  score: number;
}

/** A balancing step as printed by hbal. */
export interface MoveStep extends Placement {
  step: number;
  instName: string;
  oldPri: string;
  oldSec: string | null;
  newPri: string;
  newSec: string | null;
  code: string;
  /** gnt-instance commands (without the "gnt-instance " prefix) */
  cmds: string[];
  /** nodes involved (for job grouping) */
  involved: number[];
}

export interface BalanceResult {
  initialScore: number;
  optimalScore: number;
  finalScore: number;
  moves: MoveStep[];
  nodes: Node[];
  instances: Instance[];
  /** probe-search counters (null on the reference path) */
  searchStats: { probed: number; pairs: number; pruned: number; blocks: number; boundViolations: number; folded: number } | null;
}

/**
 * "auto" builds every candidate (the reference enumeration) when the group
 * has at most this many (victim, online node) pairs.  A tiny request runs
 * the probe search once, cold: setting up its per-instance caches, bounds
 * and blocks (code executed once, from the interpreter) costs more than
 * building the few candidates of a handful of nodes and instances (hbal on
 * 2 nodes and 5 instances: ~20 M instructions against ~7 M).  Both searches
 * choose the same moves (the probe search is tested against this one), so
 * only the time taken depends on it.
 */
export const TINY_PAIRS = 64;

const TOL_ABS = 1e-9;
const TOL_REL = 1e-11;

interface Cand {
  approx: number;
  /** position in Ganeti's enumeration order (ties go to the earliest) */
  rank: number;
  inst: number;
  move: IMove;
  /** the reference result; computed lazily for fast-path candidates */
  res: MoveResult | null;
}

/** The candidates within TOL of the best approximate score, in enumeration order. */
class CandSet {
  best = Infinity;
  cands: Cand[] = [];
  limit(): number {
    return this.best + TOL_ABS + TOL_REL * Math.abs(this.best);
  }
  offer(approx: number, inst: number, kind: IMove["kind"], node: number, rank: number, res: MoveResult | null = null): void {
    if (approx > this.limit()) return;
    if (approx < this.best) {
      this.best = approx;
      if (this.cands.length > 64) {
        const l2 = this.limit();
        this.cands = this.cands.filter((c) => c.approx <= l2);
      }
    }
    const move = (kind === "Failover" ? { kind } : { kind, node }) as IMove;
    this.cands.push({ approx, rank, inst, move, res });
  }
}

/**
 * Balance one node group.  `nodes`/`instances` are the full cluster lists
 * (indexed by idx); `groupNodes` and `groupInsts` select the group (Ganeti
 * works on the group's sub-lists).  Inputs are not modified.
 */
export function balanceGroup(
  nodesIn: readonly Node[],
  instancesIn: readonly Instance[],
  groupNodes: number[],
  groupInsts: number[],
  opts: BalanceOptions = {},
  onMove?: (m: MoveStep) => void,
): BalanceResult {
  const nodes = nodesIn.slice();
  const insts = instancesIn.slice();
  const members = [...groupNodes].sort((a, b) => a - b);
  const gInsts = [...groupInsts].sort((a, b) => a - b);
  const groupList = (): Node[] => members.map((i) => nodes[i]!);
  const force = !!opts.ignoreSoftErrors;
  const diskMoves = !opts.noDiskMoves;
  const instMoves = !opts.noInstanceMoves;
  const restMig = !!opts.restrictedMigration;
  const maxLen = opts.maxLength ?? -1;
  const minGain = opts.minGain ?? 0.01;
  const mgLimit = opts.minGainLimit ?? 0.1;
  const minScore = opts.minScore ?? 1e-9;

  const iniCv = compCV(groupList());
  const optCv = optimalCVScore(groupList());
  let curCv = iniCv;
  const moves: MoveStep[] = [];
  const st = new ScoreState(nodes, members);

  // A move changes no node's offline flag nor any instance's flags, so these
  // hold for the whole run; the victim list changes only in evacuation mode
  // (an evacuated instance leaves it).  Outside it, the list is kept and only
  // the moved instance's entry is replaced, which lets the probe search keep
  // its per-victim state from round to round.
  const online = members.filter((i) => !nodes[i]!.offline);
  const onlineSet = new Set(online);
  const offlineSet = new Set(members.filter((i) => nodes[i]!.offline));
  const victimsNow = (): Instance[] => {
    let vs = gInsts.map((i) => insts[i]!);
    if (opts.evacMode) vs = vs.filter((i) => allNodes(i).some((n) => offlineSet.has(n)));
    return vs.filter((i) => i.movable && i.autoBalance);
  };
  let victims = victimsNow();
  const victimPos = new Map(victims.map((v, p) => [v.idx, p] as const));
  const engine = opts.engine ?? "auto";
  const reference = engine === "reference" || (engine === "auto" && victims.length * online.length <= TINY_PAIRS);
  const search = reference ? null : new ProbeSearch(nodes.length, insts.length, engine === "verify", opts.probeBlocks);

  while ((maxLen < 0 || moves.length < maxLen) && curCv > optCv + minScore) {
    if (opts.evacMode && moves.length > 0) victims = victimsNow();

    const cs = new CandSet();
    let seq = 0;
    const consider = (inst: Instance, mv: IMove): void => {
      const rank = seq++;
      const r = applyMove(force, nodes, inst, mv);
      if (isFail(r)) return;
      const olds = r.changed.map((n) => nodes[n.idx]!);
      cs.offer(st.evaluate(olds, r.changed), inst.idx, mv.kind, "node" in mv ? mv.node : -1, rank, r);
    };

    if (search) search.round({ force, diskMoves, instMoves, restMig }, nodes, st, victims, online, onlineSet, cs);
    else
      for (const inst of victims) {
        const mt = mirrorType(inst.diskTemplate);
        const useSec = onlineSet.has(inst.sNode) && instMoves;
        if (mt === "internal" && useSec) consider(inst, { kind: "Failover" });
        const primDrained = nodes[inst.pNode]!.offline;
        for (const t of online) {
          if (t === inst.pNode || t === inst.sNode) continue;
          if (mt === "none") break;
          if (mt === "external") {
            if (!instMoves) break;
            consider(inst, { kind: "FailoverToAny", node: t });
            continue;
          }
          if (!diskMoves) break;
          for (const kind of targetKinds(instMoves, restMig, primDrained, useSec)) consider(inst, { kind, node: t });
        }
      }
    const cands = cs.cands.sort((a, b) => a.rank - b.rank);
    if (cands.length === 0) break;
    // Exact re-check of the near-best candidates, in enumeration order.
    const lim = cs.limit();
    let chosen: Cand | null = null;
    let chosenCv = curCv;
    for (const c of cands) {
      if (c.approx > lim) continue;
      if (c.res === null) {
        const r = applyMove(force, nodes, insts[c.inst]!, c.move);
        if (isFail(r)) throw new Error(`hbal: fast path accepted a move the reference rejects (${r})`);
        c.res = r;
      }
      const cv = compCVWith(nodes, members, c.res.changed, (i) => st.vals[i]!);
      if (cv < chosenCv) {
        chosenCv = cv;
        chosen = c;
      }
    }
    if (!chosen) break;
    if (!(chosenCv < curCv && (curCv > mgLimit || curCv - chosenCv >= minGain))) break;
    // Commit.
    const oldInst = insts[chosen.inst]!;
    const oldP = oldInst.pNode;
    const oldS = oldInst.sNode;
    for (const n of chosen.res!.changed) {
      nodes[n.idx] = n;
      st.commit(n.idx, n);
    }
    search?.committed(chosen.res!.changed.map((n) => n.idx));
    st.rebuild();
    insts[chosen.inst] = chosen.res!.inst;
    if (!opts.evacMode) victims[victimPos.get(chosen.inst)!] = chosen.res!.inst;
    curCv = chosenCv;
    const res = chosen.res!;
    const pl: Placement = { inst: chosen.inst, pdx: res.pdx, sdx: res.sdx, move: chosen.move, score: chosenCv };
    const npri = nodes[pl.pdx]!.alias;
    const nsec = pl.sdx >= 0 ? nodes[pl.sdx]!.alias : null;
    const step: MoveStep = {
      ...pl,
      step: moves.length + 1,
      instName: oldInst.alias,
      oldPri: nodes[oldP]!.alias,
      oldSec: oldS >= 0 ? nodes[oldS]!.alias : null,
      newPri: npri,
      newSec: nsec,
      code: moveCode(chosen.move, npri, nsec ?? ""),
      cmds: moveCommands(chosen.move, oldInst.alias, isRunning(oldInst), npri, nsec ?? ""),
      involved: [...new Set([pl.pdx, pl.sdx, ...allNodes(oldInst)].filter((x) => x >= 0))],
    };
    moves.push(step);
    onMove?.(step);
  }
  return {
    initialScore: iniCv,
    optimalScore: optCv,
    finalScore: curCv,
    moves,
    nodes,
    instances: insts,
    searchStats: search?.stats ?? null,
  };
}

/** Group moves into jobsets of node-disjoint jobs (Ganeti's splitJobs). */
export function splitJobs(moves: MoveStep[]): MoveStep[][] {
  // Ganeti folds over the move list in reverse order (latest move first).
  let sets: MoveStep[][] = [];
  let buf: number[] = [];
  for (const m of [...moves].reverse()) {
    if (sets.length === 0) {
      sets = [[m]];
      buf = m.involved.slice();
    } else if (!m.involved.some((x) => buf.includes(x))) {
      sets[0]!.unshift(m);
      buf = [...m.involved, ...buf];
    } else {
      sets.unshift([m]);
      buf = m.involved.slice();
    }
  }
  return sets;
}

export function formatCmds(sets: MoveStep[][]): string {
  const out: string[] = [];
  sets.forEach((js, j) => {
    js.forEach((m, k) => {
      if (k === 0) out.push("", `echo jobset ${j + 1}, ${js.length} jobs`);
      out.push(`  echo job ${j + 1}/${k + 1}`, "  check", ...m.cmds.map((c) => "  gnt-instance " + c));
    });
  });
  return out.map((l) => l + "\n").join("");
}

export { removePri };

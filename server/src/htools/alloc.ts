// Allocation (hail allocate / multi-allocate / allocate-secondary, hspace),
// evacuation (relocate, node-evacuate, change-group) and the global N+1
// capacity predicate.  docs/htools-internals.md, Allocation.
import { diskTemplatesWhere } from "@ganeti-ts/schema/disk-templates";
import { hsFixed } from "./format.js";
import type { FailMode, Group, Instance, OpResult } from "./types.js";
import { FAIL_MODES, HtoolsError, isFail, ALLOC_POLICY_ORDER } from "./types.js";
import { Node, addPriEx, addSec, addSecExEx, checkMigration, removePri, removeSec } from "./node.js";
import { instMatchesPolicy, requiredNodes, mirrorType, allNodes, hasSecondary } from "./instance.js";
import { applyMove, type IMove } from "./moves.js";
import { ScoreState, clusterStats, compCV, cvFromStats, updateStats, type Stats } from "./metrics.js";
import { pairSearchApplies, singleSearchApplies, tryAllocPairsProbe, tryAllocSingleProbe } from "./alloc-probe.js";
import { CapacityMemo, CapacityRun, type FailoverChain, type PassedCheck } from "./capacity.js";
import {
  checkedSearchApplies,
  tryAllocPairsChecked,
  tryAllocPairsDeferred,
  tryAllocPairsSolution,
  tryAllocSingleChecked,
  tryAllocSingleDeferred,
  type DeferredSearch,
} from "./alloc-checked.js";

export interface AlgOptions {
  ignoreSoftErrors?: boolean;
  /** global N+1 capacity checks (default true; --no-capacity-checks) */
  capacity?: boolean;
  restrictToNodes?: string[] | null;
  acceptExisting?: boolean;
  capacityIgnoreGroups?: number[];
  /** "reference" builds every pair candidate (slow; for tests and diagnostics) */
  engine?: "auto" | "reference";
  /**
   * Internal: shared by the capacity checks of one run (allocList, hspace)
   * so that failover chains and the last failing node carry over from one
   * allocation to the next; answers are the same without it.
   */
  capacityRun?: CapacityRun;
  /**
   * Internal: the caller reads only the solutions of successful
   * allocations (allocList), not their success and failure counts: the
   * checked pair search may then start from the unchecked one
   * (alloc-checked.ts tryAllocPairsSolution).
   */
  solutionsOnly?: boolean;
}

/** A candidate placement: the changed nodes, the placed instance, its nodes and its metric. */
export interface AllocElement<M = number> {
  changed: Node[];
  inst: Instance;
  nodes: Node[];
  metric: M;
}

export interface AllocSolution<M = number> {
  failures: FailMode[];
  allocs: number;
  solution: AllocElement<M> | null;
  log: string[];
}

export const emptySolution = <M>(): AllocSolution<M> => ({ failures: [], allocs: 0, solution: null, log: [] });

/** Working view of a cluster: full node/instance arrays plus the node subset in scope. */
export interface NL {
  nodes: Node[];
  members: number[];
}

function withChanges(nodes: Node[], changed: readonly Node[]): Node[] {
  const r = nodes.slice();
  for (const n of changed) r[n.idx] = n;
  return r;
}
const listOf = (nl: NL): Node[] => nl.members.map((i) => nl.nodes[i]!);
function cvWith(nl: NL, changed: readonly Node[]): number {
  const m = new Map(changed.map((n) => [n.idx, n] as const));
  return compCV(nl.members.map((i) => m.get(i) ?? nl.nodes[i]!));
}

/**
 * Failure lists built from counts (alloc-probe.ts) hold each failing mode
 * once and carry their counts here; read them with collapseFailures and
 * failureTotal, not with `length`.
 */
export const failureCounts = new WeakMap<FailMode[], Map<FailMode, number>>();

/** Number of failures of a list (registered counts when the list is compact). */
function failureTotal(fl: FailMode[]): number {
  const c = failureCounts.get(fl);
  if (!c) return fl.length;
  let t = 0;
  for (const v of c.values()) t += v;
  return t;
}

export function collapseFailures(fl: FailMode[]): Array<[FailMode, number]> {
  let c = failureCounts.get(fl);
  if (!c) {
    c = new Map<FailMode, number>();
    for (const f of fl) c.set(f, (c.get(f) ?? 0) + 1);
  }
  const m = c;
  return FAIL_MODES.map((k) => [k, m.get(k) ?? 0] as [FailMode, number]);
}

// ---- allocation primitives -------------------------------------------------

function allocateOnSingle(opts: AlgOptions, nl: NL, inst: Instance, pdx: number): OpResult<AllocElement> {
  const p = nl.nodes[pdx]!;
  const pol = instMatchesPolicy(inst, p.iPolicy, p.exclStorage);
  if (isFail(pol)) return pol;
  const np = addPriEx(!!opts.ignoreSoftErrors, p, inst);
  if (isFail(np)) return np;
  return { changed: [np], inst: { ...inst, pNode: pdx, sNode: -1 }, nodes: [np], metric: cvWith(nl, [np]) };
}

function locScoreOf(p: Node, s: Node): number {
  let c = 0;
  for (const t of p.locationTags) if (s.locationTags.has(t)) c++;
  return c;
}

/** All pair candidates with a common primary, returned in enumeration order. */
function allocateOnPrimary(
  opts: AlgOptions,
  stats: Stats,
  nl: NL,
  inst: Instance,
  pdx: number,
  sdxs: number[],
  out: Array<OpResult<AllocElement>>,
): void {
  const p = nl.nodes[pdx]!;
  const pol = instMatchesPolicy(inst, p.iPolicy, p.exclStorage);
  if (isFail(pol)) {
    for (let k = 0; k < sdxs.length; k++) out.push(pol);
    return;
  }
  const hasLoc = p.locationTags.size > 0;
  let cachedP: OpResult<Node> | null = null;
  let cachedStats: Stats | null = null;
  for (const sdx of sdxs) {
    const s = nl.nodes[sdx]!;
    const ninst: Instance = { ...inst, locationScore: hasLoc ? locScoreOf(p, s) : 0, pNode: pdx, sNode: sdx };
    let np: OpResult<Node>;
    let st1: Stats | null;
    if (!hasLoc && cachedP !== null) {
      np = cachedP;
      st1 = cachedStats;
    } else {
      np = addPriEx(!!opts.ignoreSoftErrors, p, ninst);
      st1 = isFail(np) ? null : updateStats(stats, p, np);
      if (!hasLoc) {
        cachedP = np;
        cachedStats = st1;
      }
    }
    if (isFail(np)) {
      out.push(np);
      continue;
    }
    const ns = addSec(s, ninst, pdx);
    if (isFail(ns)) {
      out.push(ns);
      continue;
    }
    const st2 = updateStats(st1!, s, ns);
    out.push({ changed: [np, ns], inst: ninst, nodes: [np, ns], metric: cvFromStats(st2) });
  }
}

/**
 * Ganeti's collectionToSolution: sort by metric (stable; the collection is in
 * reverse enumeration order, so the last candidate wins ties) and take the
 * first one satisfying the predicate; skipped ones count as FailN1.
 */
function collectionToSolution<M>(
  results: Array<OpResult<AllocElement<M>>>,
  cmp: (a: M, b: M) => number,
  pred: ((e: AllocElement<M>) => boolean) | null,
): AllocSolution<M> {
  const fails: FailMode[] = [];
  const sols: AllocElement<M>[] = [];
  for (let k = results.length - 1; k >= 0; k--) {
    const r = results[k]!;
    if (isFail(r)) fails.push(r);
    else sols.push(r);
  }
  let chosen: AllocElement<M> | null = null;
  let dropped = 0;
  if (pred === null) {
    for (const s of sols) if (chosen === null || cmp(s.metric, chosen.metric) < 0) chosen = s;
  } else {
    const sorted = sols.map((s, k) => ({ s, k })).sort((a, b) => cmp(a.s.metric, b.s.metric) || a.k - b.k);
    for (const { s } of sorted) {
      if (pred(s)) {
        chosen = s;
        break;
      }
      dropped++;
    }
  }
  return { failures: [...Array<FailMode>(dropped).fill("FailN1"), ...fails], allocs: sols.length - dropped, solution: chosen, log: [] };
}

function sumAllocs<M>(a: AllocSolution<M>, b: AllocSolution<M>, cmp: (x: M, y: M) => number): AllocSolution<M> {
  let sol = a.solution;
  if (b.solution && (!sol || !(cmp(sol.metric, b.solution.metric) < 0))) sol = b.solution;
  return { failures: [...b.failures, ...a.failures], allocs: a.allocs + b.allocs, solution: sol, log: [...b.log, ...a.log] };
}

const numCmp = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Candidate nodes.  `listed`, set by genAllocNodes, says the pairs have its
 * shape: each primary's secondaries are all other listed nodes of its group.
 */
export type AllocNodes = { single: number[] } | { pairs: Array<[number, number[]]>; listed?: number[] };

export function genAllocNodes(opts: AlgOptions, groups: Group[], nl: NL, count: number, dropUnalloc: boolean): AllocNodes {
  let all = listOf(nl).filter((n) => !n.offline);
  if (dropUnalloc) all = all.filter((n) => groups[n.group]!.allocPolicy !== "unallocable");
  const rest = opts.restrictToNodes;
  if (rest) all = all.filter((n) => rest.includes(n.name));
  if (count === 1) return { single: all.map((n) => n.idx) };
  if (count === 2) {
    // The pair lists are quadratic: build them only if the reference path asks.
    let memo: Array<[number, number[]]> | null = null;
    return {
      listed: all.map((n) => n.idx),
      get pairs(): Array<[number, number[]]> {
        memo ??= all
          .map((p) => [p.idx, all.filter((s) => s.idx !== p.idx && s.group === p.group).map((s) => s.idx)] as [number, number[]])
          .filter(([, ss]) => ss.length > 0);
        return memo;
      },
    };
  }
  throw new HtoolsError("Unsupported number of nodes, only one or two  supported", "EALLOC");
}

/** Ganeti's tryAlloc: all candidates, best by score, optional N+1 predicate. */
export function tryAlloc(opts: AlgOptions, nl: NL, il: Instance[], inst: Instance, an: AllocNodes): AllocSolution {
  let memo: CapacityMemo | null = null;
  const pred =
    opts.capacity !== false
      ? (e: AllocElement) => allocGlobalN1(opts, nl, il, e, (memo ??= new CapacityMemo(nl.nodes, nl.members, opts.capacityRun)))
      : null;
  return tryAllocWith(opts, nl, inst, an, pred);
}

/** Rejections of the unchecked choice in a row after which a run stops starting from it (CapacityRun.uncheckedMisses). */
const MISSES_KEPT = 2;

/**
 * `pred` counting, on its first question (the unchecked pair search's
 * choice), whether it rejected it (CapacityRun.uncheckedMisses); null when
 * the run no longer starts from that choice.
 */
function uncheckedFirst(opts: AlgOptions, pred: (e: AllocElement) => boolean): ((e: AllocElement) => boolean) | null {
  const run = opts.capacityRun;
  if (run === undefined) return pred;
  if (run.uncheckedMisses >= MISSES_KEPT) return null;
  let asked = false;
  return (e) => {
    const r = pred(e);
    if (!asked) {
      asked = true;
      run.uncheckedMisses = r ? 0 : run.uncheckedMisses + 1;
    }
    return r;
  };
}

function pairsSolution(
  opts: AlgOptions,
  force: boolean,
  nl: NL,
  inst: Instance,
  listed: readonly number[],
  pairs: () => Array<[number, number[]]>,
  pred: (e: AllocElement) => boolean,
): AllocSolution | null {
  const first = uncheckedFirst(opts, pred);
  return first === null ? null : tryAllocPairsSolution(force, nl.nodes, nl.members, inst, listed, pairs, first);
}

/**
 * tryAlloc's checked fast search, deferred (alloc-checked.ts DeferredSearch):
 * null when it does not apply (then tryAlloc decides at once).
 */
function tryAllocDeferred(opts: AlgOptions, nl: NL, il: Instance[], inst: Instance, an: AllocNodes): DeferredSearch | null {
  if (opts.capacity === false || opts.engine === "reference") return null;
  let memo: CapacityMemo | null = null;
  const pred = (e: AllocElement): boolean =>
    allocGlobalN1(opts, nl, il, e, (memo ??= new CapacityMemo(nl.nodes, nl.members, opts.capacityRun)));
  const force = !!opts.ignoreSoftErrors;
  let d: DeferredSearch | null;
  if ("pairs" in an) {
    if (!an.listed || an.pairs.length === 0 || !checkedSearchApplies(nl.nodes, nl.members, inst, an.listed)) return null;
    const first = uncheckedFirst(opts, pred);
    if (first === null) return null;
    d = tryAllocPairsDeferred(force, nl.nodes, nl.members, inst, an.listed, () => an.pairs, first);
  } else {
    if (an.single.length === 0 || !checkedSearchApplies(nl.nodes, nl.members, inst, an.single)) return null;
    d = tryAllocSingleDeferred(force, nl.nodes, nl.members, inst, an.single, pred);
  }
  if (d === null) return null;
  const finish = d.finish;
  return { bound: d.bound, finish: () => annotateSolution(finish(), (x) => hsFixed(x, 8)) };
}

/**
 * tryAlloc with the predicate `pred` (null: none) in place of the N+1 check
 * (exported for tests: any predicate, on the fast and the reference path).
 */
export function tryAllocWith(
  opts: AlgOptions,
  nl: NL,
  inst: Instance,
  an: AllocNodes,
  pred: ((e: AllocElement) => boolean) | null,
): AllocSolution {
  let sol: AllocSolution;
  if ("pairs" in an) {
    if (pred === null && an.listed && opts.engine !== "reference" && pairSearchApplies(nl.nodes, nl.members, inst)) {
      const sol = tryAllocPairsProbe(!!opts.ignoreSoftErrors, nl.nodes, nl.members, inst, an.listed);
      if (sol === null) throw new HtoolsError("Not enough online nodes", "EALLOC");
      return annotateSolution(sol, (x) => hsFixed(x, 8));
    }
    if (an.pairs.length === 0) throw new HtoolsError("Not enough online nodes", "EALLOC");
    if (pred !== null && an.listed && opts.engine !== "reference" && checkedSearchApplies(nl.nodes, nl.members, inst, an.listed)) {
      const force = !!opts.ignoreSoftErrors;
      const sol =
        (opts.solutionsOnly ? pairsSolution(opts, force, nl, inst, an.listed, () => an.pairs, pred) : null) ??
        tryAllocPairsChecked(force, nl.nodes, nl.members, inst, an.pairs, pred);
      return annotateSolution(sol, (x) => hsFixed(x, 8));
    }
    const stats = clusterStats(listOf(nl));
    sol = emptySolution();
    for (const [p, ss] of an.pairs) {
      const out: Array<OpResult<AllocElement>> = [];
      allocateOnPrimary(opts, stats, nl, inst, p, ss, out);
      sol = sumAllocs(sol, collectionToSolution(out, numCmp, pred), numCmp);
    }
  } else {
    if (an.single.length === 0) throw new HtoolsError("No online nodes", "EALLOC");
    if (pred === null && opts.engine !== "reference" && singleSearchApplies(nl.nodes, nl.members, inst))
      return annotateSolution(tryAllocSingleProbe(!!opts.ignoreSoftErrors, nl.nodes, nl.members, inst, an.single, null), (x) =>
        hsFixed(x, 8),
      );
    if (pred !== null && opts.engine !== "reference" && checkedSearchApplies(nl.nodes, nl.members, inst, an.single))
      return annotateSolution(tryAllocSingleChecked(!!opts.ignoreSoftErrors, nl.nodes, nl.members, inst, an.single, pred), (x) =>
        hsFixed(x, 8),
      );
    const out = an.single.map((p) => allocateOnSingle(opts, nl, inst, p));
    sol = collectionToSolution(out, numCmp, pred);
  }
  return annotateSolution(sol, (x) => hsFixed(x, 8));
}

function describeSolution<M>(as: AllocSolution<M>, fmt: (m: M) => string): string {
  const fr = collapseFailures(as.failures)
    .filter(([, c]) => c > 0)
    .map(([f, c]) => `${f}: ${c}`)
    .join(", ");
  if (!as.solution) return "No valid allocation solutions, failure reasons: " + (failureTotal(as.failures) === 0 ? "unknown reasons" : fr);
  return `score: ${fmt(as.solution.metric)}, successes ${as.allocs}, failures ${failureTotal(as.failures)} (${fr}) for node(s) ${as.solution.nodes.map((n) => n.name).join("/")}`;
}
export function annotateSolution<M>(as: AllocSolution<M>, fmt: (m: M) => string): AllocSolution<M> {
  // Built when read: hspace's thousands of trial allocations never read it.
  return withLog(as, () => [describeSolution(as, fmt), ...as.log]);
}

/**
 * `as` with the log `log()`, built when first read; the counts are read
 * from `as` only when read (the checked pair search completes them then:
 * alloc-checked.ts).
 */
function withLog<M>(as: AllocSolution<M>, log: () => string[]): AllocSolution<M> {
  let built: string[] | null = null;
  return {
    solution: as.solution,
    get failures(): FailMode[] {
      return as.failures;
    },
    get allocs(): number {
      return as.allocs;
    },
    get log(): string[] {
      return (built ??= log());
    },
  };
}

export function hasRequiredNetworks(g: Group, inst: Instance): boolean {
  return inst.nics.every((n) => n.network === null || g.networks.includes(n.network));
}

function groupNL(nodes: Node[], gdx: number): NL {
  return { nodes, members: nodes.filter((n) => n && n.group === gdx).map((n) => n.idx) };
}
export function fullNL(nodes: Node[]): NL {
  return { nodes, members: nodes.filter((n) => n).map((n) => n.idx) };
}

type GroupResult<M> = { group: Group; sol: AllocSolution<M> | null; err: string | null };

export function solutionDescription<M>(r: GroupResult<M>): string[] {
  if (r.sol) return r.sol.log.map((l) => `Group ${r.group.name} (${r.group.allocPolicy}): ${l}`);
  return [`Group ${r.group.name}: error ${r.err}`];
}

function tryCatch<T>(f: () => T): { ok: T } | { err: string } {
  try {
    return { ok: f() };
  } catch (e) {
    if (e instanceof HtoolsError) return { err: e.message };
    throw e;
  }
}

export function sortMGResults<M>(
  rs: Array<{ group: Group; sol: AllocSolution<M> }>,
  cmp: (a: M, b: M) => number,
): Array<{ group: Group; sol: AllocSolution<M> }> {
  return rs
    .map((r, k) => ({ r, k }))
    .sort(
      (a, b) =>
        ALLOC_POLICY_ORDER[a.r.group.allocPolicy] - ALLOC_POLICY_ORDER[b.r.group.allocPolicy] ||
        cmp(a.r.sol.solution!.metric, b.r.sol.solution!.metric) ||
        a.k - b.k,
    )
    .map((x) => x.r);
}
/** filterMGResults keeps good solutions of allocable groups, reversing the order. */
export function filterMGResults<M>(rs: GroupResult<M>[]): Array<{ group: Group; sol: AllocSolution<M> }> {
  const out: Array<{ group: Group; sol: AllocSolution<M> }> = [];
  for (const r of rs) {
    if (!r.sol || !r.sol.solution || r.group.allocPolicy === "unallocable") continue;
    out.unshift({ group: r.group, sol: r.sol });
  }
  return out;
}

/**
 * splitCluster's node lists (groups in index order, each group's nodes in
 * node order) without its instance lists, which the group search does not
 * read (hail's request on 1,000 nodes walked its 10,000 instances once per
 * group for them); also the evacuations' group node lists.
 */
export function groupMembers(nodes: readonly (Node | undefined)[]): Array<{ gdx: number; nodes: number[] }> {
  const byGroup = new Map<number, number[]>();
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[k];
    if (!n) continue;
    let l = byGroup.get(n.group);
    if (l === undefined) byGroup.set(n.group, (l = []));
    l.push(n.idx);
  }
  const gids = [...byGroup.keys()].sort((a, b) => a - b);
  return gids.map((g) => ({ gdx: g, nodes: byGroup.get(g)! }));
}

function findBestAllocGroup(
  opts: AlgOptions,
  groups: Group[],
  nodes: Node[],
  il: Instance[],
  allowed: number[] | null,
  inst: Instance,
  cnt: number,
): { group: Group; sol: AllocSolution; msgs: () => string[] } {
  let gs = groupMembers(nodes).map((g) => ({ group: groups[g.gdx]!, members: g.nodes }));
  const all = gs;
  if (allowed) gs = gs.filter((g) => allowed.includes(g.group.idx));
  const filterMsgs: string[] = [];
  const valid = gs.filter((g) => {
    if (hasRequiredNetworks(g.group, inst)) return true;
    filterMsgs.push(`group ${g.group.name} is not connected to a network required by instance ${inst.name}`);
    return false;
  });
  const full = fullNL(nodes);
  // the groups' capacity checks share failover chains (a placement in one group leaves the others' nodes as they were)
  if (opts.capacity !== false && !opts.capacityRun) opts = { ...opts, capacityRun: new CapacityRun() };
  let picked: ReturnType<typeof pickGroup> | null = null;
  if (opts.solutionsOnly) {
    const o = opts;
    picked = pickGroup(
      valid.map((g) => g.group),
      (k) => genAllocNodes(o, groups, { nodes, members: valid[k]!.members }, cnt, false),
      (an) => tryAlloc(o, full, il, inst, an),
      (an) => tryAllocDeferred(o, full, il, inst, an),
    );
    const { group, sol, results } = picked;
    if (group !== null && sol !== null) return { group, sol, msgs: () => [...filterMsgs, ...results().flatMap(solutionDescription)] };
  }
  // (no group chosen there: every group's result, from what it searched)
  const results: GroupResult<number>[] =
    picked?.results() ??
    valid.map((g) => {
      const r = tryCatch(() => tryAlloc(opts, full, il, inst, genAllocNodes(opts, groups, { nodes, members: g.members }, cnt, false)));
      return "ok" in r ? { group: g.group, sol: r.ok, err: null } : { group: g.group, sol: null, err: r.err };
    });
  // (the groups' logs, read only when asked for: they complete the counts of checked pair searches)
  const msgs = (): string[] => [...filterMsgs, ...results.flatMap(solutionDescription)];
  const sorted = sortMGResults(filterMGResults(results), numCmp);
  if (sorted.length === 0) {
    if (gs.length === 0)
      throw new HtoolsError(
        `no groups for evacuation: allowed groups was ${allowed ? "Just " + JSON.stringify(allowed) : "Nothing"}, all groups: ${JSON.stringify(all.map((g) => g.group.idx))}`,
        "EALLOC",
      );
    throw new HtoolsError(msgs().join(", "), "EALLOC");
  }
  return { group: sorted[0]!.group, sol: sorted[0]!.sol, msgs };
}

/**
 * findBestAllocGroup's choice when only the chosen solution is read:
 * each group's checked search is deferred where it can be (its bound, the
 * least metric of its candidates, known; the predicate not yet asked), and
 * the groups are taken in the choice's order (allocation policy, metric,
 * then the later group) on their bounds, each finished only when it comes
 * first: a finished group that comes first is the choice, as every other
 * group's solution has a metric no less than its bound.  No group (null)
 * when a metric is NaN (no order) or no group has a solution:
 * findBestAllocGroup then decides from `results` as before.  `results`:
 * every group's result (a group still deferred is searched afresh then: its
 * search may read a score state later searches changed).
 */
function pickGroup(
  groups: readonly Group[],
  nodesOf: (k: number) => AllocNodes,
  search: (an: AllocNodes) => AllocSolution,
  deferred: (an: AllocNodes) => DeferredSearch | null,
): { group: Group | null; sol: AllocSolution | null; results: () => GroupResult<number>[] } {
  type Entry = { group: Group; def: DeferredSearch | null; res: GroupResult<number> | null };
  const es: Entry[] = groups.map((group, k) => {
    try {
      const an = nodesOf(k);
      const def = deferred(an);
      return { group, def, res: def === null ? { group, sol: search(an), err: null } : null };
    } catch (e) {
      if (e instanceof HtoolsError) return { group, def: null, res: { group, sol: null, err: e.message } };
      throw e;
    }
  });
  for (;;) {
    let best = -1;
    let bv = 0;
    // (from the last group: a later group wins ties, as sortMGResults orders filterMGResults' reversed list)
    for (let j = es.length - 1; j >= 0; j--) {
      const e = es[j]!;
      if (e.group.allocPolicy === "unallocable") continue;
      let v: number;
      if (e.def !== null) v = e.def.bound;
      else if (e.res?.sol?.solution) v = e.res.sol.solution.metric;
      else continue;
      if (v !== v) return { group: null, sol: null, results };
      if (best < 0) {
        best = j;
        bv = v;
        continue;
      }
      const b = es[best]!;
      const po = ALLOC_POLICY_ORDER[e.group.allocPolicy] - ALLOC_POLICY_ORDER[b.group.allocPolicy];
      if (po < 0 || (po === 0 && v < bv)) {
        best = j;
        bv = v;
      }
    }
    if (best < 0) return { group: null, sol: null, results };
    const e = es[best]!;
    if (e.def === null) return { group: e.group, sol: e.res!.sol!, results };
    e.res = { group: e.group, sol: e.def.finish(), err: null };
    e.def = null;
  }
  function results(): GroupResult<number>[] {
    return es.map((x, k) => {
      if (x.res === null) {
        const r = tryCatch(() => search(nodesOf(k)));
        x.res = "ok" in r ? { group: x.group, sol: r.ok, err: null } : { group: x.group, sol: null, err: r.err };
      }
      return x.res;
    });
  }
}

export function tryMGAlloc(opts: AlgOptions, groups: Group[], nodes: Node[], il: Instance[], inst: Instance, cnt: number): AllocSolution {
  const r = findBestAllocGroup(opts, groups, nodes, il, null, inst, cnt);
  return withLog(r.sol, () => [`Selected group: ${r.group.name}`, ...r.msgs()]);
}

export function tryGroupAlloc(
  opts: AlgOptions,
  groups: Group[],
  nodes: Node[],
  il: Instance[],
  gname: string,
  inst: Instance,
  cnt: number,
): AllocSolution {
  const g = groups.find((x) => x.name === gname);
  if (!g) throw new HtoolsError(`Unknown group '${gname}'`, "EALLOC");
  if (!hasRequiredNetworks(g, inst))
    throw new HtoolsError(`The group ${g.name} is not connected to a network required by instance ${inst.name}`, "EALLOC");
  const nl = groupNL(nodes, g.idx);
  const sol = tryAlloc(opts, nl, il, inst, genAllocNodes(opts, groups, nl, cnt, false));
  return withLog(sol, () => solutionDescription({ group: g, sol, err: null }));
}

/** Apply an allocation: the new node array and instance list (instance appended). */
/**
 * applyAlloc's node list and new instance, without copying the instance
 * list (hspace extends its own).  A node of the solution is cloned only when
 * it refers to the new instance by a placeholder index: nodes are never
 * changed in place, so the state may share the solution's objects.
 */
/** applyAlloc's copy of a changed node: placeholder (negative) indices become newIdx. */
function withPlaceholder(n: Node, newIdx: number): Node {
  const c = n.clone();
  c.pList = n.pList.map((x) => (x < 0 ? newIdx : x));
  c.sList = n.sList.map((x) => (x < 0 ? newIdx : x));
  return c;
}

export function applyAllocNodes(nodes: Node[], newIdx: number, e: AllocElement<unknown>): { nodes: Node[]; inst: Instance } {
  const ns = nodes.slice();
  for (const n of e.changed) ns[n.idx] = n.pList.some((x) => x < 0) || n.sList.some((x) => x < 0) ? withPlaceholder(n, newIdx) : n;
  return { nodes: ns, inst: e.inst.idx === newIdx ? e.inst : { ...e.inst, idx: newIdx } };
}

export function applyAlloc(nodes: Node[], il: Instance[], e: AllocElement<unknown>): { nodes: Node[]; il: Instance[] } {
  const newIdx = il.length;
  const inst = { ...e.inst, idx: newIdx };
  const ns = nodes.slice();
  for (const n of e.changed) ns[n.idx] = withPlaceholder(n, newIdx);
  return { nodes: ns, il: [...il, inst] };
}

interface AllocRequest {
  inst: Instance;
  count: number;
  group: string | null;
}

export function allocList(
  opts: AlgOptions,
  groups: Group[],
  nodes: Node[],
  il: Instance[],
  reqs: AllocRequest[],
): { nodes: Node[]; il: Instance[]; results: Array<{ inst: Instance; sol: AllocSolution }> } {
  const results: Array<{ inst: Instance; sol: AllocSolution }> = [];
  if (opts.capacity !== false && !opts.capacityRun) opts = { ...opts, capacityRun: new CapacityRun() };
  // (a multi-allocation reports each instance's nodes, or its failure: the counts of a successful search are not read)
  opts = { ...opts, solutionsOnly: true };
  for (const r of reqs) {
    const sol =
      r.group === null
        ? tryMGAlloc(opts, groups, nodes, il, r.inst, r.count)
        : tryGroupAlloc(opts, groups, nodes, il, r.group, r.inst, r.count);
    if (sol.solution) ({ nodes, il } = applyAlloc(nodes, il, sol.solution));
    results.push({ inst: r.inst, sol });
  }
  return { nodes, il, results };
}

// ---- evacuation -------------------------------------------------------------

export type EvacMode = "primary-only" | "secondary-only" | "all";

export interface Opcode {
  OP_ID: string;
  [k: string]: unknown;
}

export interface EvacSolution {
  moved: Array<[number, number, number[]]>;
  failed: Array<[number, string]>;
  opcodes: Opcode[][];
}

function groupCV(nodes: Node[], gdx: number): number {
  return compCV(nodes.filter((n) => n && n.group === gdx));
}

function applyTo(nodes: Node[], il: Instance[], r: { changed: Node[]; inst: Instance }): { nodes: Node[]; il: Instance[] } {
  const ns = withChanges(nodes, r.changed);
  const is = il.slice();
  is[r.inst.idx] = r.inst;
  return { nodes: ns, il: is };
}

// Field order follows Ganeti's opcode serialisation (target_node after instance_name).
function withTarget(op: Opcode, node: string): Opcode {
  const r: Opcode = { OP_ID: op.OP_ID };
  for (const [k, v] of Object.entries(op)) {
    r[k] = v;
    if (k === "instance_name") r["target_node"] = node;
  }
  return r;
}

export function iMoveToJob(nodes: Node[], inst: Instance, mv: IMove): Opcode[] {
  const migrate: Opcode = inst.forthcoming
    ? {
        OP_ID: "OP_INSTANCE_FAILOVER",
        instance_name: inst.name,
        shutdown_timeout: 120,
        ignore_consistency: false,
        ignore_ipolicy: false,
        cleanup: false,
      }
    : {
        OP_ID: "OP_INSTANCE_MIGRATE",
        instance_name: inst.name,
        allow_runtime_changes: false,
        ignore_ipolicy: false,
        cleanup: false,
        allow_failover: true,
        ignore_hvversions: true,
      };
  const rep = (n: number): Opcode => ({
    OP_ID: "OP_INSTANCE_REPLACE_DISKS",
    instance_name: inst.name,
    early_release: false,
    ignore_ipolicy: false,
    mode: "replace_new_secondary",
    disks: [],
    remote_node: nodes[n]!.name,
  });
  switch (mv.kind) {
    case "Failover":
      return [migrate];
    case "FailoverToAny":
      return [withTarget(migrate, nodes[mv.node]!.name)];
    case "ReplacePrimary":
      return [migrate, rep(mv.node), migrate];
    case "ReplaceSecondary":
      return [rep(mv.node)];
    case "ReplaceAndFailover":
      return [rep(mv.node), migrate];
    case "FailoverAndReplace":
      return [migrate, rep(mv.node)];
  }
}

type EvacRes = { nodes: Node[]; il: Instance[]; ops: Opcode[] };

function evacOneNodeOnly(opts: AlgOptions, nodes: Node[], il: Instance[], inst: Instance, gdx: number, avail: number[]): EvacRes {
  const mt = mirrorType(inst.diskTemplate);
  if (mt === "none") throw new HtoolsError("Can't relocate/evacuate non-mirrored instances", "EEVAC");
  const mk = (n: number): IMove => (mt === "internal" ? { kind: "ReplaceSecondary", node: n } : { kind: "FailoverToAny", node: n });
  let best: { r: { changed: Node[]; inst: Instance }; cv: number; ndx: number } | null = null;
  let failMsg = "";
  // Rank candidates with the shifted-sum evaluator and re-score only the
  // near-best ones with the reference arithmetic (the whole group's compCV);
  // the tolerance is far above the evaluator's rounding error.
  const members = nodes.filter((n) => n && n.group === gdx).map((n) => n.idx);
  const st = new ScoreState(nodes, members); // read-only here: nothing is committed
  const cands: Array<{ r: { changed: Node[]; inst: Instance }; approx: number; ndx: number }> = [];
  let bestApprox = Infinity;
  let ok = false;
  for (const ndx of avail) {
    const r = applyMove(!!opts.ignoreSoftErrors, nodes, inst, mk(ndx));
    if (isFail(r)) {
      if (!ok) failMsg += ` Node ${nodes[ndx]!.name} failed: ${r};`;
      continue;
    }
    ok = true;
    const approx = st.evaluate(
      r.changed.map((n) => nodes[n.idx]!),
      r.changed,
    );
    if (approx > bestApprox + 1e-9 + 1e-11 * Math.abs(bestApprox)) continue;
    if (approx < bestApprox) bestApprox = approx;
    cands.push({ r, approx, ndx });
  }
  for (const c of cands) {
    if (c.approx > bestApprox + 1e-9 + 1e-11 * Math.abs(bestApprox)) continue;
    const cv = groupCV(withChanges(nodes, c.r.changed), gdx);
    if (!best || !(best.cv < cv)) best = { r: c.r, cv, ndx: c.ndx };
  }
  if (!best) throw new HtoolsError("Can't find any good node: " + failMsg, "EEVAC");
  const { nodes: ns, il: is } = applyTo(nodes, il, best.r);
  return { nodes: ns, il: is, ops: iMoveToJob(ns, best.r.inst, mk(best.ndx)) };
}

function evacDrbdAllInner(
  opts: AlgOptions,
  nodes: Node[],
  il: Instance[],
  inst: Instance,
  gdx: number,
  tp: number,
  ts: number,
): EvacRes & { cv: number } {
  const force = !!opts.ignoreSoftErrors;
  let ns = nodes;
  let cur = inst;
  const ops: IMove[] = [];
  const step = (mv: IMove, what: string): void => {
    const r = applyMove(force, ns, cur, mv);
    if (isFail(r)) throw new HtoolsError(`${what}: ${r}`, "EEVAC");
    ns = withChanges(ns, r.changed);
    cur = r.inst;
    ops.push(mv);
  };
  if (nodes[inst.pNode]!.offline) step({ kind: "Failover" }, "Failing over to the secondary");
  step({ kind: "ReplaceSecondary", node: tp }, "Changing secondary to new primary");
  step({ kind: "Failover" }, "Failing over to new primary");
  step({ kind: "ReplaceSecondary", node: ts }, "Changing secondary to final secondary");
  const is = il.slice();
  is[inst.idx] = cur;
  return { nodes: ns, il: is, ops: ops.flatMap((m) => iMoveToJob(ns, cur, m)), cv: groupCV(ns, gdx) };
}

function nodeEvacInstance(
  opts: AlgOptions,
  nodes: Node[],
  il: Instance[],
  mode: EvacMode,
  inst: Instance,
  gdx: number,
  avail: number[],
): EvacRes {
  const dt = inst.diskTemplate;
  const mirror = mirrorType(dt);
  if (mirror === "none") throw new HtoolsError(`Instances of type ${dt} cannot be relocated`, "EEVAC");
  if (mirror !== "internal") {
    if (mode === "secondary-only") throw new HtoolsError(`Instances with disk template '${dt}' can't execute change secondary`, "EEVAC");
    return evacOneNodeOnly(opts, nodes, il, inst, gdx, avail);
  }
  if (mode === "primary-only") {
    const r = applyMove(!!opts.ignoreSoftErrors, nodes, inst, { kind: "Failover" });
    if (isFail(r)) throw new HtoolsError(r, "EEVAC");
    const { nodes: ns, il: is } = applyTo(nodes, il, r);
    return { nodes: ns, il: is, ops: iMoveToJob(ns, r.inst, { kind: "Failover" }) };
  }
  if (mode === "secondary-only") return evacOneNodeOnly(opts, nodes, il, inst, gdx, avail);
  let best: (EvacRes & { cv: number }) | null = null;
  let err: string | null = null;
  for (const p of avail)
    for (const s of avail) {
      if (p === s) continue;
      try {
        const r = evacDrbdAllInner(opts, nodes, il, inst, gdx, p, s);
        if (!best || !(best.cv < r.cv)) best = r;
      } catch (e) {
        if (!(e instanceof HtoolsError)) throw e;
        if (!best) err = "Allocation failed: " + e.message;
      }
    }
  if (!best) throw new HtoolsError("Can't find any good nodes for relocation: " + (err ?? "no nodes available"), "EEVAC");
  return best;
}

function nodesToEvacuate(il: Instance[], mode: EvacMode, idxs: number[]): Set<number> {
  const s = new Set<number>();
  for (const x of idxs) {
    const i = il[x]!;
    if (mode !== "primary-only" && hasSecondary(i)) s.add(i.sNode);
    if (mode !== "secondary-only") s.add(i.pNode);
  }
  s.delete(-1);
  return s;
}

function updateEvac(state: { nodes: Node[]; il: Instance[]; es: EvacSolution }, idx: number, f: () => EvacRes): void {
  try {
    const r = f();
    state.nodes = r.nodes;
    state.il = r.il;
    const inst = r.il[idx]!;
    state.es.moved.push([idx, r.nodes[inst.pNode]!.group, allNodes(inst)]);
    state.es.opcodes.push(r.ops);
  } catch (e) {
    if (!(e instanceof HtoolsError)) throw e;
    state.es.failed.push([idx, e.message]);
  }
}

export function tryNodeEvac(
  opts: AlgOptions,
  nodes: Node[],
  il: Instance[],
  mode: EvacMode,
  idxs: number[],
): { nodes: Node[]; il: Instance[]; es: EvacSolution } {
  const excl = nodesToEvacuate(il, mode, idxs);
  for (const n of nodes) if (n && n.offline) excl.add(n.idx);
  const groupNodes = new Map(groupMembers(nodes).map((g) => [g.gdx, g.nodes] as const));
  const state = { nodes, il, es: { moved: [], failed: [], opcodes: [] } as EvacSolution };
  for (const idx of idxs) {
    updateEvac(state, idx, () => {
      const inst = state.il[idx]!;
      const gdx = state.nodes[inst.pNode]!.group;
      const local = groupNodes.get(gdx);
      if (!local) throw new HtoolsError(`Can't find group with index ${gdx}`, "EEVAC");
      const avail = local.filter((n) => !excl.has(n) && n !== inst.pNode);
      return nodeEvacInstance(opts, state.nodes, state.il, mode, inst, gdx, avail);
    });
  }
  return state;
}

export function tryChangeGroup(
  opts: AlgOptions,
  groups: Group[],
  nodes: Node[],
  il: Instance[],
  gdxs: number[],
  idxs: number[],
): { nodes: Node[]; il: Instance[]; es: EvacSolution } {
  const evacG = [...new Set(idxs.map((i) => nodes[il[i]!.pNode]!.group))];
  const targets = (gdxs.length === 0 ? groups.map((g) => g.idx) : gdxs).filter((g) => !evacG.includes(g));
  const excl = new Set(nodes.filter((n) => n.offline).map((n) => n.idx));
  const groupNodes = new Map(groupMembers(nodes).map((g) => [g.gdx, g.nodes] as const));
  const state = { nodes, il, es: { moved: [], failed: [], opcodes: [] } as EvacSolution };
  for (const idx of idxs) {
    updateEvac(state, idx, () => {
      const inst = state.il[idx]!;
      const r = findBestAllocGroup(opts, groups, state.nodes, state.il, targets, inst, requiredNodes(inst.diskTemplate));
      const gdx = r.group.idx;
      const local = groupNodes.get(gdx);
      if (!local) throw new HtoolsError(`Can't find group with index ${gdx}`, "EEVAC");
      return nodeEvacInstance(
        {},
        state.nodes,
        state.il,
        "all",
        inst,
        gdx,
        local.filter((n) => !excl.has(n)),
      );
    });
  }
  return state;
}

// ---- global N+1 redundancy ------------------------------------------------------

// Ganeti's diskTemplateMovable: moved without copying their data.
const EVAC_MOVABLE = new Set<string>(diskTemplatesWhere((t) => t.movable));
/** Failover chains kept per node (capacity.ts CapacityRun.chains). */
const CHAINS_KEPT = 4;

/**
 * Whether node n's instances can all be moved off it (Ganeti's
 * canEvacuateNode).  The working arrays are private copies written in place
 * (the same states as copying them at every step); `present` lists the
 * nodes in scope in index order.
 */
function canEvacuateNode(
  engine: AlgOptions["engine"],
  nodes: Node[],
  il: Instance[],
  n: Node,
  present: readonly number[],
  memo: CapacityMemo,
): boolean {
  const evOpts: AlgOptions = { ignoreSoftErrors: true };
  let ns = nodes;
  let is = il;
  let own = false;
  const pl: Instance[] = [];
  const drbd: Instance[] = [];
  const shared: Instance[] = [];
  const nonMove: Instance[] = [];
  for (let k = 0; k < n.pList.length; k++) {
    const i = il[n.pList[k]!]!;
    pl.push(i);
    if (hasSecondary(i)) drbd.push(i);
    else if (EVAC_MOVABLE.has(i.diskTemplate)) shared.push(i);
    else nonMove.push(i);
  }
  // (the failovers change no instance re-placed below)
  const rec = nonMove.sort((a, b) => b.mem - a.mem);
  // Failovers that succeed and one target that then takes every instance
  // to re-place in turn make the answer true whichever targets the search
  // picks (capacity.ts passesWithoutSearch); else the failovers and the
  // search are run.
  if (engine !== "reference" && shared.length === 0) {
    const p = memo.passesWithoutSearch(nodes, present, n, pl, drbd, rec);
    if (p !== null) {
      // what the answer read, for the next states (redundant's stillPasses)
      memo.run.passed[n.idx] = p;
      return true;
    }
  }
  let c: FailoverChain | undefined;
  if (drbd.length > 0) {
    // The failovers read only n and its instances' secondaries: a chain
    // computed on the same node and instance objects is reused.
    let kept = memo.chains[n.idx];
    if (kept !== undefined)
      for (let k = 0; k < kept.length; k++)
        if (chainApplies(kept[k]!, nodes, drbd)) {
          c = kept[k]!;
          break;
        }
    if (c === undefined) {
      c = engine === "reference" ? failoverChain(nodes, il, n, drbd) : failoverTracks(nodes, n, drbd, memo.run.tracks);
      kept ??= memo.chains[n.idx] = [];
      kept.unshift(c);
      if (kept.length > CHAINS_KEPT) kept.pop();
    }
    if (!c.ok) return false;
  }
  if (c !== undefined) {
    ns = ns.slice();
    is = is.slice();
    own = true;
    for (const x of c.nodes) ns[x.idx] = x;
    // (the instances as the failovers leave them)
    for (const i of c.drbd) is[i.idx] = { ...i, pNode: i.sNode, sNode: i.pNode };
  }
  const grp = n.group;
  const escape = ns.filter((x) => x && x.group === grp && x.idx !== n.idx).map((x) => x.idx);
  for (const i0 of shared) {
    try {
      const r = nodeEvacInstance(evOpts, ns, is, "primary-only", is[i0.idx]!, grp, escape);
      ns = r.nodes;
      is = r.il;
      own = false;
    } catch (e) {
      if (e instanceof HtoolsError) return false;
      throw e;
    }
  }
  if (shared.length > 0) for (let j = 0; j < rec.length; j++) rec[j] = is[rec[j]!.idx]!;
  if (rec.length > 0 && !own) {
    ns = ns.slice();
    is = is.slice();
  }
  for (const inst of rec) {
    let best: Node | null = null;
    // The best target as tryAlloc's single-node search finds it: candidates
    // ranked incrementally, near-ties scored exactly (capacity.ts), which
    // is allocateOnSingle's choice without a whole-cluster score per target.
    if (engine !== "reference" && memo.searchApplies(ns, present, inst)) best = memo.bestSingle(ns, present, inst, escape);
    else {
      const nl: NL = { nodes: ns, members: present as number[] };
      let el: AllocElement | null = null;
      for (const t of escape) {
        const r = allocateOnSingle(evOpts, nl, inst, t);
        if (isFail(r)) continue;
        if (!el || !(el.metric < r.metric)) el = r;
      }
      best = el === null ? null : el.changed[0]!;
    }
    if (best === null) return false;
    // applyAlloc in place: the instance is appended, the target replaced
    const newIdx = is.length;
    is.push({ ...inst, pNode: best.idx, sNode: -1, idx: newIdx });
    ns[best.idx] = withPlaceholder(best, newIdx);
  }
  return true;
}

/**
 * The DRBD failovers of canEvacuateNode: each instance of n in turn fails
 * over to its secondary.  Records the node objects read (the instances'
 * primary, n, and secondaries, as they were before the chain) and, if all succeed, the
 * final objects of the changed nodes and instances.
 */
function failoverChain(nodes: Node[], il: Instance[], n: Node, drbd: Instance[]): FailoverChain {
  const reads = [n.idx];
  const objs: Array<Node | undefined> = [nodes[n.idx]];
  const rec: FailoverChain = { reads, objs, drbd, ok: false, nodes: [] };
  const ns = nodes.slice();
  const is = il.slice();
  const touched = new Set<number>();
  for (const i0 of drbd) {
    const i = is[i0.idx]!;
    for (const j of [i.pNode, i.sNode])
      if (!reads.includes(j)) {
        reads.push(j);
        objs.push(nodes[j]);
      }
    // A secondary outside the node list (split instance, group-restricted
    // check) cannot take over; Ganeti would abort on the missing key.
    if (!ns[i.sNode]) return rec;
    const r = applyMove(true, ns, i, { kind: "Failover" });
    if (isFail(r)) return rec;
    for (const c of r.changed) {
      ns[c.idx] = c;
      touched.add(c.idx);
    }
    is[i.idx] = r.inst;
  }
  rec.ok = true;
  for (const k of touched) rec.nodes.push(ns[k]!);
  return rec;
}

/**
 * failoverChain, one node at a time.  A failover of instance i (primary n,
 * secondary s) changes n by removePri then addSecExEx, and s by removeSec
 * then addPriEx, each reading only that node's current object and i; its
 * migration check reads tags that copies keep.  So n's objects along the
 * chain depend only on n and the instances, and each secondary's only on
 * its object and the instances failed over to it, and the chain succeeds
 * if and only if every step of every node does.  Each node's part (a
 * Track) is kept per start object: a checked state that changes one node
 * recomputes only that node's parts.
 */
function failoverTracks(nodes: Node[], n: Node, drbd: Instance[], tracks: Array<Track[] | undefined>): FailoverChain {
  const reads = [n.idx];
  const objs: Array<Node | undefined> = [nodes[n.idx]];
  const rec: FailoverChain = { reads, objs, drbd, ok: false, nodes: [] };
  for (let k = 0; k < drbd.length; k++) {
    const j = drbd[k]!.sNode;
    if (!reads.includes(j)) {
      const s = nodes[j];
      // (a secondary outside the node list cannot take over, as in failoverChain)
      if (s === undefined || isFail(checkMigration(n, s))) return rec;
      reads.push(j);
      objs.push(s);
    }
  }
  const own = trackOf(tracks, n, drbd, false);
  if (own === null) return rec;
  const ends = [own];
  for (let k = 1; k < objs.length; k++) {
    const s = objs[k]!;
    let mine = drbd;
    if (objs.length > 2) {
      mine = [];
      for (let q = 0; q < drbd.length; q++) if (drbd[q]!.sNode === s.idx) mine.push(drbd[q]!);
    }
    const end = trackOf(tracks, s, mine, true);
    if (end === null) return rec;
    ends.push(end);
  }
  rec.ok = true;
  rec.nodes = ends;
  return rec;
}

/**
 * One node's part of failover chains: its start object, the instances
 * failed over, in order, and its last object (null: a step failed).
 */
export interface Track {
  start: Node;
  insts: readonly Instance[];
  end: Node | null;
}

/** Tracks kept per node index (the states of a run: a node's base object, and copies in the states that changed it). */
const TRACKS_KEPT = 16;

function trackOf(tracks: Array<Track[] | undefined>, start: Node, insts: readonly Instance[], asSecondary: boolean): Node | null {
  let kept = tracks[start.idx];
  if (kept !== undefined)
    for (let k = 0; k < kept.length; k++) {
      const t = kept[k]!;
      if (t.start !== start || t.insts.length !== insts.length) continue;
      let same = true;
      for (let q = 0; q < insts.length && same; q++) same = t.insts[q] === insts[q];
      if (same) return t.end;
    }
  let cur: Node | null = start;
  for (let q = 0; q < insts.length && cur !== null; q++) {
    const i = insts[q]!;
    // applyMove's Failover (force), this node's half: n as primary, becoming secondary; s as secondary, becoming primary
    const r: OpResult<Node> = asSecondary
      ? addPriEx(true, removeSec(cur, i), i)
      : addSecExEx(cur.offline, true, removePri(cur, i), i, i.sNode);
    cur = isFail(r) ? null : r;
  }
  if (kept === undefined) tracks[start.idx] = kept = [];
  if (kept.length >= TRACKS_KEPT) kept.pop();
  kept.unshift({ start, insts, end: cur });
  return cur;
}

function chainApplies(c: FailoverChain, nodes: Node[], drbd: Instance[]): boolean {
  if (c.drbd.length !== drbd.length) return false;
  for (let k = 0; k < drbd.length; k++) if (c.drbd[k] !== drbd[k]) return false;
  for (let k = 0; k < c.reads.length; k++) if (nodes[c.reads[k]!] !== c.objs[k]) return false;
  return true;
}

/**
 * Whether every node in scope can be evacuated.  `memo` (capacity.ts) is
 * shared by the states of one tryAlloc, which derive from its `base`.
 */
export function redundant(opts: AlgOptions, nl: NL, il: Instance[], memo?: CapacityMemo): boolean {
  const ignore = opts.capacityIgnoreGroups ?? [];
  // nodes outside nl are not part of the node list Ganeti works on
  // (a set of members, not members.includes per node: O(N²) on large clusters)
  const scoped = new Array<Node | undefined>(nl.nodes.length).fill(undefined) as Node[];
  for (const k of nl.members) scoped[k] = nl.nodes[k]!;
  const present: number[] = [];
  for (let k = 0; k < scoped.length; k++) if (scoped[k]) present.push(k);
  const m = memo ?? new CapacityMemo(nl.nodes, nl.members, opts.capacityRun);
  // The answer is the conjunction over the nodes, so the order they are
  // asked in changes only the time: the node that failed the last check
  // first (the states a run checks differ in a few nodes, and usually fail
  // on the same one). The reference engine keeps Ganeti's order (the
  // tests' oracle).
  const run = m.run;
  const reorder = opts.engine !== "reference";
  const first = reorder ? run.lastFail : -1;
  const asked = (k: number): boolean => {
    const n = scoped[k];
    return n !== undefined && !(opts.acceptExisting && n.offline) && !ignore.includes(n.group);
  };
  if (first >= 0 && asked(first) && !canEvacuateNode(opts.engine, scoped, il, nl.nodes[first]!, present, m)) return false;
  for (const k of nl.members) {
    if (k === first || !asked(k)) continue;
    if (reorder && stillPasses(run.passed[k], scoped, il)) continue;
    if (!canEvacuateNode(opts.engine, scoped, il, nl.nodes[k]!, present, m)) {
      if (reorder) run.lastFail = k;
      return false;
    }
  }
  return true;
}

/**
 * Whether an evacuation check that passed without the search read the same
 * objects as it would in this state (then it passes again: canEvacuateNode).
 * The failed node's object is the same, so are its instance indices.
 */
function stillPasses(p: PassedCheck | undefined, scoped: Node[], il: Instance[]): boolean {
  if (p === undefined) return false;
  for (let k = 0; k < p.reads.length; k++) if (scoped[p.reads[k]!] !== p.objs[k]) return false;
  const pl = p.objs[0]!.pList;
  for (let k = 0; k < pl.length; k++) if (il[pl[k]!] !== p.insts[k]) return false;
  return true;
}

function allocGlobalN1(opts: AlgOptions, nl: NL, il: Instance[], e: AllocElement, memo: CapacityMemo): boolean {
  const r = applyAlloc(nl.nodes, il, e);
  return redundant(opts, { nodes: r.nodes, members: nl.members }, r.il, memo);
}

/**
 * For each node of `members` (one node group), whether all its instances
 * could be moved off it (Ganeti's canEvacuateNode on the group's node and
 * instance lists, as hcheck counts it).
 */
export function evacuableNodes(
  nodes: readonly Node[],
  il: Instance[],
  members: readonly number[],
  opts: { engine?: AlgOptions["engine"]; run?: CapacityRun } = {},
): boolean[] {
  const scoped = new Array<Node | undefined>(nodes.length).fill(undefined) as Node[];
  for (const k of members) scoped[k] = nodes[k]!;
  const present = [...members].sort((a, b) => a - b);
  const memo = new CapacityMemo(nodes, present, opts.run);
  const kept = opts.engine !== "reference";
  return members.map(
    (k) => (kept && stillPasses(memo.run.passed[k], scoped, il)) || canEvacuateNode(opts.engine, scoped, il, nodes[k]!, present, memo),
  );
}

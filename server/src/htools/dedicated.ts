// Allocation on dedicated (exclusive-storage) clusters: the "lost
// allocations" metric (docs/htools-internals.md, Dedicated clusters).
import type { Group, Instance, OpResult } from "./types.js";
import { HtoolsError, isFail } from "./types.js";
import { Node, addPriEx, addPri, addSec } from "./node.js";
import { createInstance, instMatchesPolicy } from "./instance.js";
import type { ClusterData } from "./loader.js";
import { splitCluster } from "./loader.js";
import {
  genAllocNodes,
  hasRequiredNetworks,
  solutionDescription,
  sortMGResults,
  filterMGResults,
  emptySolution,
  collapseFailures,
  type AlgOptions,
  type AllocElement,
  type AllocSolution,
} from "./alloc.js";

export type DMetric = [number[], number];

export function showMetric(m: DMetric): string {
  return `([${m[0].join(",")}],${m[1]})`;
}
function cmpMetric(a: DMetric, b: DMetric): number {
  const n = Math.min(a[0].length, b[0].length);
  for (let k = 0; k < n; k++) if (a[0][k] !== b[0][k]) return a[0][k]! < b[0][k]! ? -1 : 1;
  if (a[0].length !== b[0].length) return a[0].length < b[0].length ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

export function isDedicated(cd: ClusterData, group: string | null): boolean {
  const gs = new Set(cd.groups.filter((g) => (group === null ? g.allocPolicy !== "unallocable" : g.name === group)).map((g) => g.idx));
  return cd.nodes.every((n) => n.exclStorage || !gs.has(n.group));
}

function testInstances(n: Node): Instance[] {
  return n.iPolicy.minmax
    .map((m) => m.min)
    .map((s, k) => ({ s, k }))
    .sort((a, b) => b.s.diskSize - a.s.diskSize || a.k - b.k)
    .map(({ s }) =>
      createInstance({
        name: "minimalspecinstance",
        mem: s.memorySize,
        dsk: s.diskSize,
        disks: [],
        vcpus: s.cpuCount,
        runSt: "running",
        tags: [],
        autoBalance: false,
        pNode: -1,
        sNode: -1,
        diskTemplate: "plain",
        spindleUse: s.spindleUse,
      }),
    );
}

function allocationVector(insts: Instance[], node: Node): number[] {
  return insts.map((inst) => {
    let c = 0;
    let cur = node;
    for (;;) {
      const r = addPri(cur, inst);
      if (isFail(r)) return c;
      c++;
      cur = r;
    }
  });
}

function lostAllocations(opts: AlgOptions, insts: Instance[], inst: Instance, node: Node): OpResult<[DMetric, Node]> {
  const before = allocationVector(insts, node);
  const n2 = addPriEx(!!opts.ignoreSoftErrors, node, inst);
  if (isFail(n2)) return n2;
  const after = allocationVector(insts, n2);
  return [[before.map((b, k) => b - after[k]!), n2.fDsk], n2];
}

function concat(sol: AllocSolution<DMetric>, r: OpResult<AllocElement<DMetric>>): AllocSolution<DMetric> {
  if (isFail(r)) return { ...sol, failures: [r, ...sol.failures] };
  const best = sol.solution && cmpMetric(sol.solution.metric, r.metric) < 0 ? sol.solution : r;
  return { ...sol, allocs: sol.allocs + 1, solution: best };
}
function sum(a: AllocSolution<DMetric>, b: AllocSolution<DMetric>): AllocSolution<DMetric> {
  let s = a.solution;
  if (b.solution && (!s || !(cmpMetric(s.metric, b.solution.metric) < 0))) s = b.solution;
  return { failures: [...b.failures, ...a.failures], allocs: a.allocs + b.allocs, solution: s, log: [...b.log, ...a.log] };
}

function describe(as: AllocSolution<DMetric>): string {
  const fr = collapseFailures(as.failures)
    .filter(([, c]) => c > 0)
    .map(([f, c]) => `${f}: ${c}`)
    .join(", ");
  if (!as.solution) return "No valid allocation solutions, failure reasons: " + (as.failures.length === 0 ? "unknown reasons" : fr);
  return `score: ${showMetric(as.solution.metric)}, successes ${as.allocs}, failures ${as.failures.length} (${fr}) for node(s) ${as.solution.nodes.map((n) => n.name).join("/")}`;
}

export function dedicatedFindAllocation(
  opts: AlgOptions,
  groups: Group[],
  nodes: Node[],
  gdx: number,
  inst: Instance,
  count: number,
): { sol: AllocSolution<DMetric>; msgs: string[] } {
  const members = nodes.filter((n) => n.group === gdx).map((n) => n.idx);
  const g = groups[gdx]!;
  if (!hasRequiredNetworks(g, inst))
    throw new HtoolsError(`The group ${g.name} is not connected to a network required by instance ${inst.name}`, "EALLOC");
  const an = genAllocNodes(opts, groups, { nodes, members }, count, false);
  let sol = emptySolution<DMetric>();
  if ("pairs" in an) {
    if (an.pairs.length === 0) throw new HtoolsError("Not enough online nodes", "EALLOC");
    for (const [p, ss] of an.pairs) {
      let ps = emptySolution<DMetric>();
      for (const s of ss) ps = concat(ps, onPair(opts, nodes, inst, p, s));
      sol = sum(sol, ps);
    }
  } else {
    if (an.single.length === 0) throw new HtoolsError("No online nodes", "EALLOC");
    for (const p of an.single) sol = concat(sol, onSingle(opts, nodes, inst, p));
  }
  sol = { ...sol, log: [describe(sol), ...sol.log] };
  return { sol, msgs: solutionDescription({ group: g, sol, err: null }) };
}

function onSingle(opts: AlgOptions, nodes: Node[], inst: Instance, pdx: number): OpResult<AllocElement<DMetric>> {
  const p = nodes[pdx]!;
  const pol = instMatchesPolicy(inst, p.iPolicy, p.exclStorage);
  if (isFail(pol)) return pol;
  const r = lostAllocations(opts, testInstances(p), inst, p);
  if (isFail(r)) return r;
  return { changed: [r[1]], inst: { ...inst, pNode: pdx, sNode: -1 }, nodes: [r[1]], metric: r[0] };
}

function onPair(opts: AlgOptions, nodes: Node[], inst: Instance, pdx: number, sdx: number): OpResult<AllocElement<DMetric>> {
  const p = nodes[pdx]!;
  const s = nodes[sdx]!;
  const ti = testInstances(p);
  const inst2 = { ...inst, pNode: pdx, sNode: sdx };
  const pol = instMatchesPolicy(inst, p.iPolicy, p.exclStorage);
  if (isFail(pol)) return pol;
  const r = lostAllocations(opts, ti, inst2, p);
  if (isFail(r)) return r;
  const s2 = addSec(s, inst2, pdx);
  if (isFail(s2)) return s2;
  const b = allocationVector(ti, s);
  const a = allocationVector(ti, s2);
  const lS = b.map((x, k) => x - a[k]!);
  const metric: DMetric = [r[0][0].map((x, k) => x + lS[k]!), r[0][1] + s2.fDsk];
  return { changed: [r[1], s2], inst: inst2, nodes: [r[1], s2], metric };
}

export function dedicatedMGAllocation(
  opts: AlgOptions,
  groups: Group[],
  nodes: Node[],
  il: Instance[],
  inst: Instance,
  count: number,
): AllocSolution<DMetric> {
  const res = splitCluster(nodes, il).map((g) => {
    const grp = groups[g.gdx]!;
    try {
      return { group: grp, sol: dedicatedFindAllocation(opts, groups, nodes, g.gdx, inst, count).sol, err: null };
    } catch (e) {
      if (!(e instanceof HtoolsError)) throw e;
      return { group: grp, sol: null, err: e.message };
    }
  });
  const msgs = res.flatMap(solutionDescription);
  const good = sortMGResults(filterMGResults(res), cmpMetric);
  if (good.length === 0) throw new HtoolsError(msgs.join(", "), "EALLOC");
  return { ...good[0]!.sol, log: [`Selected group: ${good[0]!.group.name}`, ...msgs] };
}

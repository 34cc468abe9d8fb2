// Capacity-checked tryAlloc (alloc-checked.ts: candidates ranked from probes,
// built only when handed to the N+1 predicate) against the reference engine
// (every candidate built, Ganeti's collectionToSolution): same solution,
// metric, success count and failure counts, on random racked clusters with
// exclusion tags, groups and offline nodes, allocation after allocation.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import {
  allocList,
  applyAlloc,
  collapseFailures,
  fullNL,
  genAllocNodes,
  tryAlloc,
  tryAllocWith,
  type AllocElement,
} from "../../src/htools/alloc.js";
import { CapacityRun } from "../../src/htools/capacity.js";
import { tryAllocPairsSolution } from "../../src/htools/alloc-checked.js";
import type { AllocPolicy, DiskTemplate, Instance } from "../../src/htools/types.js";
import { randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  return cd;
}

const newInst = (name: string, mem: number, tmpl: DiskTemplate, idx: number, exclTags: string[]): Instance =>
  testInstance(name, mem, 20480, tmpl, idx, { tags: exclTags, exclTags });

const shapes: RandomClusterOptions[] = [
  { nodes: 16, instances: 50, seed: 503, drbd: 0.5, racks: 3, exclusionTags: true, offline: 1 },
  { nodes: 12, instances: 40, seed: 501, drbd: 0.5, racks: 3, exclusionTags: true, multiTags: true },
  { nodes: 16, instances: 40, seed: 502, drbd: 0.6, racks: 4, exclusionTags: true, groups: 2 },
  // N+1 fails in the first state: every candidate is handed to the predicate
  { nodes: 20, instances: 60, seed: 503, drbd: 0.5, racks: 3, exclusionTags: true, offline: 1 },
  { nodes: 14, instances: 45, seed: 511, drbd: 0.4, locationTags: true, exclusionTags: true },
  { nodes: 10, instances: 30, seed: 512, drbd: 0.3 },
  // nearly empty: nodes of the same size are exact ties
  { nodes: 24, instances: 4, seed: 513, drbd: 0.5, racks: 3, exclusionTags: true },
  { nodes: 24, instances: 0, seed: 514, drbd: 0.5 },
];
const TAGS = [[], ["service:svc1"], ["service:svc2", "service:svc9"], ["service:svc1", "service:svc1"]];

describe("capacity-checked tryAlloc: probe-ranked candidates = reference engine", () => {
  let n1 = 0;
  let solved = 0;
  let failedAll = 0;
  for (const shape of shapes)
    for (const tmpl of ["drbd", "plain"] as const)
      for (const ignoreSoftErrors of [false, true])
        it(`seed ${shape.seed}, ${tmpl}${ignoreSoftErrors ? ", ignoring soft errors" : ""}`, () => {
          const cd = cluster(shape);
          let nodes = cd.nodes;
          let il = cd.instances;
          const capacityRun = new CapacityRun();
          for (let step = 0; step < 12; step++) {
            const nl = fullNL(nodes);
            const inst = newInst(`new-${step}`, [4096, 8192, 16384, 32768][step % 4]!, tmpl, il.length, TAGS[step % TAGS.length]!);
            const an = genAllocNodes({}, cd.groups, nl, tmpl === "drbd" ? 2 : 1, false);
            const fast = tryAlloc({ capacityRun, ignoreSoftErrors }, nl, il, inst, an);
            const ref = tryAlloc({ engine: "reference", ignoreSoftErrors }, nl, il, inst, an);
            expect(fast.solution?.metric).toBe(ref.solution?.metric);
            expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
            expect(fast.solution?.inst.locationScore).toBe(ref.solution?.inst.locationScore);
            expect(fast.allocs).toBe(ref.allocs);
            expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
            expect(fast.log[0]).toBe(ref.log[0]);
            n1 += collapseFailures(fast.failures).find(([f]) => f === "FailN1")![1];
            if (!fast.solution) {
              failedAll++;
              break;
            }
            solved++;
            ({ nodes, il } = applyAlloc(nodes, il, fast.solution));
          }
        });
  it("the suite saw candidates rejected by the predicate, solutions and allocations that found none", () => {
    expect(n1).toBeGreaterThan(0);
    expect(solved).toBeGreaterThan(0);
    expect(failedAll).toBeGreaterThan(0);
  });
});

describe("capacity-checked fast paths with a scripted predicate = reference engine", () => {
  // A predicate that rejects a fixed share of candidates (by a hash of the
  // nodes' names) walks far down each ranking, where ties and near-ties of
  // the exact metric decide the order.
  const reject = (salt: number) => (e: AllocElement) => {
    let h = salt;
    for (const n of e.nodes) for (let j = 0; j < n.name.length; j++) h = (h * 31 + n.name.charCodeAt(j)) >>> 0;
    return h % 5 < 2;
  };
  let dropped = 0;
  let lazier = 0;
  for (const shape of shapes)
    for (const salt of [1, 7, 13])
      it(`seed ${shape.seed}, salt ${salt}`, () => {
        const cd = cluster(shape);
        const nl = fullNL(cd.nodes);
        for (const tmpl of ["drbd", "plain"] as const) {
          const inst = newInst("scripted", 2048, tmpl, cd.instances.length, TAGS[salt % TAGS.length]!);
          const an = genAllocNodes({}, cd.groups, nl, tmpl === "drbd" ? 2 : 1, false);
          const seen: string[][] = [];
          const refSeen: string[][] = [];
          const pred = reject(salt);
          const fast = tryAllocWith({}, nl, inst, an, (e) => (seen.push(e.nodes.map((n) => n.name)), pred(e)));
          const ref = tryAllocWith({ engine: "reference" }, nl, inst, an, (e) => (refSeen.push(e.nodes.map((n) => n.name)), pred(e)));
          expect(fast.solution?.metric).toBe(ref.solution?.metric);
          expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
          // the pair search stops at the solution: the counts' candidates are asked only now
          const before = seen.length;
          expect(fast.allocs).toBe(ref.allocs);
          expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
          if (tmpl === "drbd" && ref.solution) lazier += refSeen.length - before;
          // the predicate sees the same candidates, each primary's (single
          // nodes: the one collection's) in the same order
          expect([...seen].sort()).toEqual([...refSeen].sort());
          const byPrimary = (xs: string[][]): Map<string, string[][]> => {
            const m = new Map<string, string[][]>();
            for (const x of xs) {
              const k = tmpl === "drbd" ? x[0]! : "";
              m.set(k, [...(m.get(k) ?? []), x]);
            }
            return m;
          };
          expect(byPrimary(seen)).toEqual(byPrimary(refSeen));
          dropped += collapseFailures(fast.failures).find(([f]) => f === "FailN1")![1];
        }
      });
  it("candidates were rejected", () => expect(dropped).toBeGreaterThan(100));
  it("pair searches found their solution before asking for every candidate", () => expect(lazier).toBeGreaterThan(100));
});

// The single-node search derives each state's score state from the last one
// (alloc-probe.ts singleScoreState: changed nodes replaced, a full rebuild
// every so often): long sequences of allocations, plain and DRBD mixed as in
// a multi-allocation, must still choose as the reference engine does.
describe("allocation sequences without capacity checks (score state carried) = reference engine", () => {
  for (const shape of shapes.slice(0, 5))
    it(`seed ${shape.seed}`, () => {
      const cd = cluster(shape);
      let nodes = cd.nodes;
      let il = cd.instances;
      let placed = 0;
      let single = 0;
      for (let step = 0; step < 40; step++) {
        const tmpl = step % 3 === 2 ? "drbd" : "plain";
        const inst = newInst(`seq-${step}`, [512, 1024, 2048][step % 3]!, tmpl, il.length, TAGS[step % TAGS.length]!);
        const nl = fullNL(nodes);
        const an = genAllocNodes({}, cd.groups, nl, tmpl === "drbd" ? 2 : 1, false);
        const fast = tryAlloc({ capacity: false }, nl, il, inst, an);
        const ref = tryAlloc({ capacity: false, engine: "reference" }, nl, il, inst, an);
        expect(fast.log).toEqual(ref.log);
        expect(fast.solution?.metric).toBe(ref.solution?.metric);
        expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
        if (!fast.solution) break;
        ({ nodes, il } = applyAlloc(nodes, il, fast.solution));
        placed++;
        if (tmpl === "plain") single++;
      }
      expect(placed).toBeGreaterThan(10);
      most = Math.max(most, single);
    });
  let most = 0;
  // (past the number of derived states after which the score state is built afresh)
  it("some sequence placed more than 17 plain instances", () => expect(most).toBeGreaterThan(17));
});

// A multi-allocation reads only the solutions (AlgOptions.solutionsOnly):
// the checked pair search then starts from the unchecked one and keeps its
// choice when the predicate accepts it (alloc-checked.ts
// tryAllocPairsSolution); the counts, when read anyway, are the checked
// search's.
describe("capacity-checked pair search for solutions only = reference engine", () => {
  let shortcut = 0;
  let fellBack = 0;
  for (const shape of shapes)
    for (const salt of [0, 1, 7])
      it(`seed ${shape.seed}, ${salt === 0 ? "N+1 predicate, allocation after allocation" : `scripted predicate, salt ${salt}`}`, () => {
        const cd = cluster(shape);
        let nodes = cd.nodes;
        let il = cd.instances;
        const capacityRun = new CapacityRun();
        const scripted = (e: AllocElement): boolean => {
          let h = salt;
          for (const n of e.nodes) for (let j = 0; j < n.name.length; j++) h = (h * 31 + n.name.charCodeAt(j)) >>> 0;
          return h % 5 < 2;
        };
        for (let step = 0; step < (salt === 0 ? 8 : 1); step++) {
          const nl = fullNL(nodes);
          const inst = newInst(`new-${step}`, [4096, 8192, 16384, 32768][step % 4]!, "drbd", il.length, TAGS[(step + salt) % TAGS.length]!);
          const an = genAllocNodes({}, cd.groups, nl, 2, false);
          let asked = 0;
          const fast =
            salt === 0
              ? tryAlloc({ capacityRun, solutionsOnly: true }, nl, il, inst, an)
              : tryAllocWith({ solutionsOnly: true }, nl, inst, an, (e) => (asked++, scripted(e)));
          const ref =
            salt === 0
              ? tryAlloc({ engine: "reference" }, nl, il, inst, an)
              : tryAllocWith({ engine: "reference" }, nl, inst, an, scripted);
          expect(fast.solution?.metric).toBe(ref.solution?.metric);
          expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
          expect(fast.solution?.inst.locationScore).toBe(ref.solution?.inst.locationScore);
          if (salt !== 0 && fast.solution) {
            // one question: the unchecked search's choice was accepted
            if (asked === 1) shortcut++;
            else fellBack++;
          }
          expect(fast.allocs).toBe(ref.allocs);
          expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
          if (!fast.solution) break;
          ({ nodes, il } = applyAlloc(nodes, il, fast.solution));
        }
      });
  it("the unchecked search's choice was taken, and rejected", () => {
    expect(shortcut).toBeGreaterThan(0);
    expect(fellBack).toBeGreaterThan(0);
  });

  it("a node with unbounded numbers leaves the decision to the checked search", () => {
    const cd = cluster(shapes[2]!);
    const nl = fullNL(cd.nodes);
    const inst = newInst("bounded", 4096, "drbd", cd.instances.length, []);
    const an = genAllocNodes({}, cd.groups, nl, 2, false);
    if (!("listed" in an) || !an.listed) throw new Error("pair candidates expected");
    const listed = an.listed;
    const pairs = (): ReadonlyArray<readonly [number, readonly number[]]> => an.pairs;
    const all = (): boolean => true;
    expect(tryAllocPairsSolution(false, nl.nodes, nl.members, inst, listed, pairs, all)).not.toBeNull();
    // a tiny total memory: a probe's memory value could overflow the metric's squares
    const nodes = nl.nodes.slice();
    const k = listed[0]!;
    const tiny = nodes[k]!.clone();
    tiny.tMem = 1e-30;
    nodes[k] = tiny;
    expect(tryAllocPairsSolution(false, nodes, nl.members, inst, listed, pairs, all)).toBeNull();
    // an unbounded instance
    expect(tryAllocPairsSolution(false, nl.nodes, nl.members, { ...inst, mem: 1e300 }, listed, pairs, all)).toBeNull();
  });
});

// A multi-allocation reads only the chosen group's solution: the groups'
// checked searches are deferred and finished in the choice's order on their
// bounds (alloc.ts pickGroup).  Allocation policies change that order.
describe("multi-allocation over groups, searched as their bounds ask = reference engine", () => {
  const multiShapes: RandomClusterOptions[] = [
    { nodes: 16, instances: 40, seed: 502, drbd: 0.6, racks: 4, exclusionTags: true, groups: 2 },
    { nodes: 18, instances: 50, seed: 521, drbd: 0.5, racks: 3, exclusionTags: true, groups: 3, offline: 1 },
    { nodes: 12, instances: 45, seed: 522, drbd: 0.5, groups: 2 },
  ];
  const policies: AllocPolicy[][] = [
    ["preferred", "preferred", "preferred"],
    ["last_resort", "preferred", "preferred"],
    ["preferred", "unallocable", "last_resort"],
  ];
  let placed = 0;
  let failed = 0;
  for (const shape of multiShapes)
    for (const pol of policies)
      it(`seed ${shape.seed}, ${pol.slice(0, shape.groups).join("/")}`, () => {
        const cd = cluster(shape);
        cd.groups.forEach((g, k) => (g.allocPolicy = pol[k]!));
        const reqs = Array.from({ length: 7 }, (_, j) => ({
          inst: newInst(`multi-${j}`, [2048, 4096, 8192, 16384][j % 4]!, j % 3 === 2 ? "plain" : "drbd", -1, TAGS[j % TAGS.length]!),
          count: j % 3 === 2 ? 1 : 2,
          group: null,
        }));
        const fast = allocList({}, cd.groups, cd.nodes, cd.instances, reqs);
        const ref = allocList({ engine: "reference" }, cd.groups, cd.nodes, cd.instances, reqs);
        for (let j = 0; j < reqs.length; j++) {
          const f = fast.results[j]!.sol;
          const r = ref.results[j]!.sol;
          expect(f.solution?.metric).toBe(r.solution?.metric);
          expect(f.solution?.nodes.map((n) => n.name)).toEqual(r.solution?.nodes.map((n) => n.name));
          if (f.solution) placed++;
        }
        // an instance no group can take: every group's counts in the message
        const huge = [{ inst: newInst("huge", 200000, "drbd", -1, []), count: 2, group: null }];
        const message = (o: { engine?: "reference" }): string => {
          try {
            allocList(o, cd.groups, ref.nodes, ref.il, huge);
            return "allocated";
          } catch (e) {
            return (e as Error).message;
          }
        };
        const m = message({});
        expect(m).toBe(message({ engine: "reference" }));
        if (m !== "allocated") failed++;
      });
  it("the sequences placed instances and failed some", () => {
    expect(placed).toBeGreaterThan(20);
    expect(failed).toBeGreaterThan(0);
  });
});

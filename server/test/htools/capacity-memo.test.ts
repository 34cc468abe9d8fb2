// The capacity predicate's memo (capacity.ts) is shared by all the states a
// tryAlloc checks: node values, probe rows and failover chains of the base
// node objects are reused from state to state.  On every candidate state of
// random clusters, redundant() with one shared memo must answer as the
// reference engine does, and whole capacity-checked allocations must equal
// the reference engine's (same solution, metric, counts).
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { applyAlloc, collapseFailures, fullNL, genAllocNodes, redundant, tryAlloc } from "../../src/htools/alloc.js";
import { CapacityMemo, CapacityRun } from "../../src/htools/capacity.js";
import { instMatchesPolicy } from "../../src/htools/instance.js";
import { isFail, type DiskTemplate, type Instance } from "../../src/htools/types.js";
import { NCOMP, ScoreState } from "../../src/htools/metrics.js";
import { probeAddPri } from "../../src/htools/probe.js";
import { pairCandidates, randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  return cd;
}

/** A running instance with one 20 GiB disk. */
function newInst(name: string, mem: number, tmpl: DiskTemplate, idx: number): Instance {
  return testInstance(name, mem, 20480, tmpl, idx);
}

const shapes: RandomClusterOptions[] = [
  { nodes: 6, instances: 40, seed: 301, drbd: 0.5 },
  { nodes: 7, instances: 45, seed: 302, drbd: 0.4, offline: 1 },
  { nodes: 6, instances: 36, seed: 303, drbd: 0.6, exclusionTags: true },
  { nodes: 5, instances: 30, seed: 216, drbd: 0.3 },
  { nodes: 8, instances: 50, seed: 304, drbd: 0.5, locationTags: true },
  // racked, with exclusion tags: re-placed instances change the exclusion map
  { nodes: 8, instances: 50, seed: 309, drbd: 0.3, racks: 3, exclusionTags: true, multiTags: true },
  { nodes: 10, instances: 60, seed: 310, drbd: 0.4, racks: 4, exclusionTags: true, groups: 2, offline: 1 },
  // offline nodes are re-placement targets too (scored exactly)
  ...[305, 306, 307, 308].map((seed) => ({ nodes: 7, instances: 40, seed, drbd: 0.3, offline: 2 })),
];

describe("redundant with a shared memo = reference engine", () => {
  const outcomes = new Set<boolean>();
  let reordered = 0;
  for (const shape of shapes)
    it(`seed ${shape.seed}`, () => {
      const cd = cluster(shape);
      let nodes = cd.nodes;
      let il = cd.instances;
      // one run for all the states: chains and the last failing node carry over
      const run = new CapacityRun();
      // load with plain instances; at each load, check every pair candidate
      for (let step = 0; step < 6; step++) {
        const nl = fullNL(nodes);
        const memo = new CapacityMemo(nodes, nl.members, run);
        const drbd = newInst(`d-${step}`, [2048, 8192][step % 2]!, "drbd", -1);
        for (const e of pairCandidates(nodes, drbd)) {
          const r = applyAlloc(nodes, il, e);
          const state = { nodes: r.nodes, members: nl.members };
          for (const acceptExisting of [false, true]) {
            if (run.lastFail >= 0) reordered++;
            const fast = redundant({ acceptExisting }, state, r.il, memo);
            const ref = redundant({ acceptExisting, engine: "reference" }, state, r.il);
            expect(fast).toBe(ref);
            outcomes.add(fast);
          }
        }
        const plain = newInst(`p-${step}`, [4096, 8192, 16384][step % 3]!, "plain", il.length);
        const sol = tryAlloc({ capacity: false }, nl, il, plain, genAllocNodes({}, cd.groups, nl, 1, false));
        if (!sol.solution) break;
        ({ nodes, il } = applyAlloc(nodes, il, sol.solution));
      }
    });
  it("both answers occurred", () => expect([...outcomes].sort()).toEqual([false, true]));
  it("checks started from the last failing node", () => expect(reordered).toBeGreaterThan(0));
});

describe("capacity-checked tryAlloc = reference engine", () => {
  for (const shape of shapes)
    for (const tmpl of ["drbd", "plain"] as const)
      it(`seed ${shape.seed}, ${tmpl}`, () => {
        const cd = cluster(shape);
        let nodes = cd.nodes;
        let il = cd.instances;
        let n1 = 0;
        // shared by the steps, as allocList and hspace share one
        const capacityRun = new CapacityRun();
        for (let step = 0; step < 8; step++) {
          const nl = fullNL(nodes);
          const inst = newInst(`new-${step}`, [2048, 4096, 8192][step % 3]!, tmpl, il.length);
          const an = genAllocNodes({}, cd.groups, nl, tmpl === "drbd" ? 2 : 1, false);
          const fast = tryAlloc({ capacityRun }, nl, il, inst, an);
          const ref = tryAlloc({ engine: "reference" }, nl, il, inst, an);
          expect(fast.solution?.metric).toBe(ref.solution?.metric);
          expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
          expect(fast.allocs).toBe(ref.allocs);
          expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
          n1 += collapseFailures(fast.failures).find(([f]) => f === "FailN1")![1];
          if (!fast.solution) break;
          ({ nodes, il } = applyAlloc(nodes, il, fast.solution));
        }
        // (not every shape drops candidates; the suite as a whole must: see below)
        n1Total.push(n1);
      });
  const n1Total: number[] = [];
  it("some candidates failed the predicate", () => expect(n1Total.some((x) => x > 0)).toBe(true));
});

// The ranking leaves out terms common to all targets: its differences
// between targets must be ScoreState's (the evaluator tryAllocSingleProbe
// ranks with), in states that differ from the memo's base in many nodes.
describe("memo ranking = ScoreState ranking", () => {
  for (const shape of shapes)
    it(`seed ${shape.seed}`, () => {
      const cd = cluster(shape);
      const base = cd.nodes;
      const nl = fullNL(base);
      const memo = new CapacityMemo(base, nl.members);
      let nodes = base;
      let il = cd.instances;
      let checked = 0;
      for (let step = 0; step < 8; step++) {
        const inst = newInst(`p-${step}`, [1024, 4096][step % 2]!, "plain", il.length);
        const got = new Map<number, number>();
        const best = memo.bestSingle(nodes, nl.members, inst, nl.members, (p, a) => got.set(p, a));
        const st = new ScoreState(nodes.slice(), [...nl.members]);
        const v = new Float64Array(NCOMP);
        const want = new Map<number, number>();
        // (offline targets are not ranked: they are scored exactly)
        for (const p of nl.members)
          if (
            !nodes[p]!.offline &&
            probeAddPri(true, nodes[p]!, inst, v) === null &&
            !isFail(instMatchesPolicy(inst, nodes[p]!.iPolicy, false))
          )
            want.set(p, st.scoreWith(ScoreState.newDelta(), p, v, -1, null));
        expect([...got.keys()]).toEqual([...want.keys()]);
        const [p0] = [...got.keys()];
        if (p0 === undefined || best === null) break;
        for (const [p, a] of got) {
          expect(Math.abs(a - got.get(p0)! - (want.get(p)! - want.get(p0)!))).toBeLessThan(1e-11);
          checked++;
        }
        // the state drifts from the memo's base
        nodes = nodes.slice();
        nodes[best.idx] = best;
        il = [...il, { ...inst, pNode: best.idx }];
      }
      expect(checked).toBeGreaterThan(10);
    });
});

// The re-placement targets include offline nodes (Ganeti's escape nodes are
// the whole group): an offline target must be scored exactly.  The memo's
// choice must be the reference single-node search's over the same targets.
describe("memo choice with offline targets = reference choice", () => {
  it("100 clusters with 3 offline nodes of 8", () => {
    let compared = 0;
    for (let seed = 300; seed < 400; seed++) {
      const cd = cluster({ nodes: 8, instances: 40, seed, offline: 3, drbd: 0.3 });
      const nl = fullNL(cd.nodes);
      const memo = new CapacityMemo(cd.nodes, nl.members);
      for (const mem of [1024, 8192, 30000]) {
        const inst = newInst("new", mem, "plain", cd.instances.length);
        const ref = tryAlloc({ capacity: false, ignoreSoftErrors: true, engine: "reference" }, nl, cd.instances, inst, {
          single: nl.members,
        });
        const got = memo.bestSingle(cd.nodes, nl.members, inst, nl.members);
        expect(got?.name).toBe(ref.solution?.nodes[0]!.name);
        compared++;
      }
    }
    expect(compared).toBe(300);
  });
});

// On racked nodes an instance with exclusion tags grows the exclusion map by
// a target-dependent integer, counted on the checked state (the memo's base
// corrected for the nodes the state changed): the memo's choice must be the
// reference single-node search's, in states that drift from the base.
describe("memo choice with exclusion tags on racked nodes = reference choice", () => {
  it("60 racked clusters, three drifting states each", () => {
    let compared = 0;
    let differs = 0;
    for (let seed = 500; seed < 560; seed++) {
      const cd = cluster({ nodes: 8, instances: 40, seed, drbd: 0.3, racks: 3, exclusionTags: true, multiTags: seed % 2 === 0 });
      const nl = fullNL(cd.nodes);
      const memo = new CapacityMemo(cd.nodes, nl.members);
      let nodes = cd.nodes;
      let il = cd.instances;
      for (let step = 0; step < 3; step++) {
        const inst: Instance = {
          ...newInst(`new-${step}`, [1024, 4096, 8192][step]!, "plain", il.length),
          exclTags: step === 1 ? ["service:svc2", "service:svc9"] : ["service:svc1"],
        };
        const snl = { nodes, members: nl.members };
        const ref = tryAlloc({ capacity: false, ignoreSoftErrors: true, engine: "reference" }, snl, il, inst, { single: nl.members });
        const got = memo.bestSingle(nodes, nl.members, inst, nl.members);
        expect(got?.name).toBe(ref.solution?.nodes[0]!.name);
        // (whether the map term decided: the choice without exclusion tags)
        const plain = memo.bestSingle(nodes, nl.members, { ...inst, exclTags: [] }, nl.members);
        if (plain?.name !== got?.name) differs++;
        compared++;
        if (!ref.solution) break;
        ({ nodes, il } = applyAlloc(nodes, il, ref.solution));
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(differs).toBeGreaterThan(0);
  });
});

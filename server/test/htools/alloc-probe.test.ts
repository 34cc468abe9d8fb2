// hail's two-node allocation on the probe path (alloc-probe.ts) must give the
// reference path's answer exactly: the same pair, metric, success and
// failure counts, on random clusters and with options that change feasibility.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, splitCluster, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { applyAlloc, fullNL, genAllocNodes, groupMembers, tryAlloc, type AlgOptions } from "../../src/htools/alloc.js";
import { secondaryBoundSlack, singleSearchApplies, statsFromValues } from "../../src/htools/alloc-probe.js";
import { NCOMP, ScoreState, clusterStats, compCVWith, nodeValues } from "../../src/htools/metrics.js";
import { STD, TERMS, nodeTerms, roleComponents } from "../../src/htools/bounds.js";
import { Node, addPriEx } from "../../src/htools/node.js";
import { isFail } from "../../src/htools/types.js";
import type { Instance } from "../../src/htools/types.js";
import { collapseFailures } from "../../src/htools/alloc.js";
import { randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  return cd;
}

const shapes: RandomClusterOptions[] = [
  { nodes: 8, instances: 40, seed: 11 },
  { nodes: 14, instances: 90, seed: 12, offline: 2 },
  { nodes: 20, instances: 160, seed: 13, drbd: 1 },
  { nodes: 6, instances: 50, seed: 14 },
  { nodes: 10, instances: 60, seed: 15, forthcoming: 0.2 },
];
const sizes = [
  { mem: 1024, dsk: 10240, vcpus: 1 },
  { mem: 8192, dsk: 102400, vcpus: 4 },
  { mem: 30000, dsk: 400000, vcpus: 8 },
];

describe("probe pair search = reference pair search", () => {
  for (const shape of shapes)
    for (const [i, sz] of sizes.entries())
      for (const ignoreSoftErrors of [false, true]) {
        it(`seed ${shape.seed}, size ${i}, ignoreSoftErrors=${ignoreSoftErrors}`, () => {
          const cd = cluster(shape);
          const inst = testInstance("new", sz.mem, sz.dsk, "drbd", -1, { vcpus: sz.vcpus });
          const nl = fullNL(cd.nodes);
          const an = genAllocNodes({}, cd.groups, nl, 2, false);
          const opts: AlgOptions = { ignoreSoftErrors, capacity: false };
          const ref = tryAlloc({ ...opts, engine: "reference" }, nl, cd.instances, inst, an);
          const fast = tryAlloc(opts, nl, cd.instances, inst, an);
          expect(fast.log).toEqual(ref.log);
          expect(fast.allocs).toBe(ref.allocs);
          expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
          expect(fast.solution?.metric).toBe(ref.solution?.metric);
          expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
          expect(ref.allocs + ref.failures.length).toBeGreaterThan(0);
        });
      }
});

// (location tags: a single node's location score is the probe's own, and an
// instance without exclusion tags leaves the exclusion map as it is)
const singleShapes: RandomClusterOptions[] = [
  ...shapes,
  { nodes: 9, instances: 60, seed: 16, locationTags: true, exclusionTags: true },
  { nodes: 12, instances: 80, seed: 17, locationTags: true, offline: 1 },
];

describe("probe single-node search = reference single-node search", () => {
  for (const shape of singleShapes)
    for (const [i, sz] of sizes.entries())
      for (const tmpl of ["plain", "sharedfile"] as const)
        for (const ignoreSoftErrors of [false, true]) {
          it(`seed ${shape.seed}, size ${i}, ${tmpl}, ignoreSoftErrors=${ignoreSoftErrors}`, () => {
            const cd = cluster(shape);
            const inst = testInstance("new", sz.mem, sz.dsk, tmpl, -1, { vcpus: sz.vcpus });
            const nl = fullNL(cd.nodes);
            const an = genAllocNodes({}, cd.groups, nl, 1, false);
            const ref = tryAlloc({ capacity: false, ignoreSoftErrors, engine: "reference" }, nl, cd.instances, inst, an);
            const fast = tryAlloc({ capacity: false, ignoreSoftErrors }, nl, cd.instances, inst, an);
            expect(fast.log).toEqual(ref.log);
            expect(fast.allocs).toBe(ref.allocs);
            expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
            expect(fast.solution?.metric).toBe(ref.solution?.metric);
            expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
          });
        }
  // an instance whose exclusion tags change the exclusion map on racked
  // nodes is ranked with the map's growth included (exclMapDelta)
  it("exclusion tags on racked nodes", () => {
    const cd = cluster(singleShapes[singleShapes.length - 2]!);
    const nl = fullNL(cd.nodes);
    const an = genAllocNodes({}, cd.groups, nl, 1, false);
    const base = testInstance("new", 1024, 10240, "plain", -1, { vcpus: 1 });
    expect(singleSearchApplies(cd.nodes, nl.members, base)).toBe(true);
    const inst: Instance = { ...base, exclTags: ["service:svc1"] };
    expect(singleSearchApplies(cd.nodes, nl.members, inst)).toBe(true);
    const ref = tryAlloc({ capacity: false, engine: "reference" }, nl, cd.instances, inst, an);
    const fast = tryAlloc({ capacity: false }, nl, cd.instances, inst, an);
    expect(fast.log).toEqual(ref.log);
    expect(fast.solution?.metric).toBe(ref.solution?.metric);
  });
});

// The N+1 check re-places instances on any node of the group, offline ones
// included (Ganeti's canEvacuateNode): an offline target changes the
// offline components, which the ranking does not model, so it must be
// scored exactly (a wrong ranking value once hid the best online target).
describe("single-node search with offline candidates = reference", () => {
  it("100 clusters with 3 offline nodes of 8", () => {
    let compared = 0;
    for (let seed = 300; seed < 400; seed++) {
      const cd = cluster({ nodes: 8, instances: 40, seed, offline: 3, drbd: 0.3 });
      const nl = fullNL(cd.nodes);
      const an = { single: cd.nodes.map((n) => n.idx) };
      for (const mem of [1024, 8192, 30000]) {
        const inst = testInstance("new", mem, 10240, "plain", -1, { vcpus: 1 });
        const ref = tryAlloc({ capacity: false, ignoreSoftErrors: true, engine: "reference" }, nl, cd.instances, inst, an);
        const fast = tryAlloc({ capacity: false, ignoreSoftErrors: true }, nl, cd.instances, inst, an);
        expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
        expect(fast.solution?.metric).toBe(ref.solution?.metric);
        compared++;
      }
    }
    expect(compared).toBe(300);
  });
});

describe("statsFromValues = clusterStats", () => {
  for (const shape of shapes)
    it(`seed ${shape.seed}`, () => {
      const cd = cluster(shape);
      const members = cd.nodes.map((n) => n.idx);
      const vals = cd.nodes.map((n) => {
        const a = new Float64Array(NCOMP);
        nodeValues(n, a);
        return a;
      });
      const ref = clusterStats(members.map((i) => cd.nodes[i]!));
      const got = statsFromValues(cd.nodes, members, vals);
      for (let k = 0; k < NCOMP; k++) {
        expect(Object.is(got.n[k], ref.n[k])).toBe(true);
        expect(Object.is(got.s[k], ref.s[k])).toBe(true);
        expect(Object.is(got.v[k], ref.v[k])).toBe(true);
      }
      expect([...got.map]).toEqual([...ref.map]);
    });
});

// hspace's pattern: one allocation after another on the evolving state (the
// probe path reuses node values and peer lists of unchanged nodes), with the
// spec shrinking now and then; every step must match the reference.
describe("sequential pair allocations = reference", () => {
  const mk = (mem: number, dsk: number, vcpus: number, k: number): Instance => testInstance(`new-${k}`, mem, dsk, "drbd", -1, { vcpus });
  for (const shape of shapes)
    it(`seed ${shape.seed}`, () => {
      const cd = cluster(shape);
      let nodes = cd.nodes;
      let il = cd.instances;
      let spec = { mem: 16384, dsk: 204800, vcpus: 4 };
      let proto = mk(spec.mem, spec.dsk, spec.vcpus, 0);
      let placed = 0;
      for (let step = 0; step < 40; step++) {
        // as hspace: copies of one prototype (probe outcomes are reused across them)
        const inst: Instance = { ...proto, name: `new-${step}`, alias: `new-${step}`, idx: il.length };
        const nl = fullNL(nodes);
        const an = genAllocNodes({}, cd.groups, nl, 2, false);
        const ref = tryAlloc({ capacity: false, engine: "reference" }, nl, il, inst, an);
        const fast = tryAlloc({ capacity: false }, nl, il, inst, an);
        expect(fast.log).toEqual(ref.log);
        expect(fast.allocs).toBe(ref.allocs);
        expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
        expect(fast.solution?.metric).toBe(ref.solution?.metric);
        expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
        if (fast.solution) {
          ({ nodes, il } = applyAlloc(nodes, il, fast.solution));
          placed++;
        } else if (spec.mem > 1024) {
          spec = { mem: spec.mem / 2, dsk: spec.dsk / 2, vcpus: Math.max(1, spec.vcpus - 1) };
          proto = mk(spec.mem, spec.dsk, spec.vcpus, 0);
        } else break;
      }
      expect(placed).toBeGreaterThan(0);
    });
});

// The secondaries' bounds prune pairs: never above a pair's metric.
describe("secondary bounds are below every pair metric", () => {
  const more: RandomClusterOptions[] = [
    ...shapes,
    { nodes: 40, instances: 300, seed: 16 },
    { nodes: 30, instances: 400, seed: 17, drbd: 1, offline: 3 },
  ];
  for (const shape of more)
    for (const [i, sz] of [...sizes, { mem: 128, dsk: 1024, vcpus: 1 }].entries())
      for (const force of [false, true])
        it(`seed ${shape.seed}, size ${i}, force=${force}`, () => {
          const cd = cluster(shape);
          const inst = testInstance("new", sz.mem, sz.dsk, "drbd", -1, { vcpus: sz.vcpus });
          const nl = fullNL(cd.nodes);
          const an = genAllocNodes({}, cd.groups, nl, 2, false);
          if (!("listed" in an) || !an.listed) throw new Error("no candidate list");
          const r = secondaryBoundSlack(force, cd.nodes, nl.members, inst, an.listed);
          if (r.pairs > 0) expect(r.slack).toBeGreaterThanOrEqual(0);
        });
});

// Racked clusters: a pair's location score and the exclusion map's growth
// are added to the probe ranking as exact integers; every answer must be the
// reference's (pairs and single nodes; groups, offline and heterogeneous
// nodes, nodes in two locations or none, instances with two exclusion tags).
const rackedShapes: RandomClusterOptions[] = [
  { nodes: 12, instances: 80, seed: 41, locationTags: true, exclusionTags: true },
  { nodes: 16, instances: 120, seed: 42, racks: 4, exclusionTags: true, multiTags: true, offline: 2 },
  { nodes: 20, instances: 150, seed: 43, racks: 5, exclusionTags: true, groups: 2, offline: 1, drbd: 1 },
  { nodes: 9, instances: 70, seed: 44, racks: 2, exclusionTags: true, multiTags: true },
];
describe("racked clusters: probe searches = reference", () => {
  const tagSets: string[][] = [[], ["service:svc1"], ["service:svc2", "service:svc9"], ["service:svc3", "service:svc3"]];
  for (const shape of rackedShapes)
    for (const [i, sz] of sizes.entries())
      for (const tags of tagSets)
        it(`seed ${shape.seed}, size ${i}, tags [${tags.join(",")}]`, () => {
          const cd = cluster(shape);
          const nl = fullNL(cd.nodes);
          expect(cd.nodes.some((n) => n.locationTags.size > 0)).toBe(true);
          for (const [tmpl, count] of [
            ["drbd", 2],
            ["plain", 1],
          ] as const) {
            const base = testInstance("new", sz.mem, sz.dsk, tmpl, -1, { vcpus: sz.vcpus, tags });
            const inst: Instance = { ...base, exclTags: tags };
            const an = genAllocNodes({}, cd.groups, nl, count, false);
            const ref = tryAlloc({ capacity: false, engine: "reference" }, nl, cd.instances, inst, an);
            const fast = tryAlloc({ capacity: false }, nl, cd.instances, inst, an);
            expect(fast.log).toEqual(ref.log);
            expect(fast.allocs).toBe(ref.allocs);
            expect(collapseFailures(fast.failures)).toEqual(collapseFailures(ref.failures));
            expect(fast.solution?.metric).toBe(ref.solution?.metric);
            expect(fast.solution?.inst.locationScore).toBe(ref.solution?.inst.locationScore);
            expect(fast.solution?.nodes.map((n) => n.name)).toEqual(ref.solution?.nodes.map((n) => n.name));
          }
        });
  it("the secondary bounds hold on racked clusters", () => {
    let pairs = 0;
    for (const shape of rackedShapes)
      for (const tags of tagSets) {
        const cd = cluster(shape);
        const base = testInstance("new", 1024, 10240, "drbd", -1, { vcpus: 1, tags });
        const nl = fullNL(cd.nodes);
        const an = genAllocNodes({}, cd.groups, nl, 2, false);
        if (!("listed" in an) || !an.listed) throw new Error("no candidate list");
        const r = secondaryBoundSlack(false, cd.nodes, nl.members, { ...base, exclTags: tags }, an.listed);
        if (r.pairs > 0) expect(r.slack).toBeGreaterThanOrEqual(0);
        pairs += r.pairs;
      }
    expect(pairs).toBeGreaterThan(0);
  });
  it("sequential racked allocations (hspace's pattern) = reference", () => {
    for (const shape of rackedShapes) {
      const cd = cluster(shape);
      let nodes = cd.nodes;
      let il = cd.instances;
      const proto = testInstance("new", 4096, 51200, "drbd", -1, { tags: ["service:svc1"] });
      let placed = 0;
      for (let step = 0; step < 25; step++) {
        const inst: Instance = {
          ...proto,
          exclTags: step % 2 === 0 ? ["service:svc1"] : [],
          name: `new-${step}`,
          alias: `new-${step}`,
          idx: il.length,
        };
        const nl = fullNL(nodes);
        const an = genAllocNodes({}, cd.groups, nl, 2, false);
        const ref = tryAlloc({ capacity: false, engine: "reference" }, nl, il, inst, an);
        const fast = tryAlloc({ capacity: false }, nl, il, inst, an);
        expect(fast.log).toEqual(ref.log);
        expect(fast.solution?.metric).toBe(ref.solution?.metric);
        if (!fast.solution) break;
        ({ nodes, il } = applyAlloc(nodes, il, fast.solution));
        placed++;
      }
      expect(placed).toBeGreaterThan(0);
    }
  });
});

// The single-node search's exact re-check takes the exclusion map's
// statistic from its score state (ScoreState.mapValueWith) instead of
// merging every node's map again: the same value, so the same metric.
describe("compCVWith with the score state's map statistic = compCVWith", () => {
  const racked: RandomClusterOptions[] = [
    { nodes: 12, instances: 90, seed: 21, racks: 3, exclusionTags: true, multiTags: true },
    { nodes: 16, instances: 120, seed: 22, racks: 4, exclusionTags: true, offline: 2, drbd: 0.5 },
    { nodes: 10, instances: 60, seed: 23, locationTags: true, exclusionTags: true, groups: 2 },
  ];
  for (const shape of racked)
    it(`seed ${shape.seed}`, () => {
      const cd = cluster(shape);
      const members = cd.nodes.map((n) => n.idx);
      const st = new ScoreState(cd.nodes.slice(), members);
      let compared = 0;
      for (const tags of [[], ["service:svc1"], ["service:svc2", "service:svc2"]]) {
        const inst: Instance = { ...testInstance("new", 1024, 10240, "plain", -1, { vcpus: 1 }), exclTags: tags };
        for (const p of cd.nodes) {
          const np = addPriEx(true, p, inst);
          if (isFail(np)) continue;
          const ref = compCVWith(cd.nodes, members, [np], (i) => st.vals[i]!);
          const got = compCVWith(cd.nodes, members, [np], (i) => st.vals[i]!, st.mapValueWith([p], [np]));
          expect(Object.is(got, ref)).toBe(true);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(cd.nodes.length);
    });
});

// The pair search folds into its bound aggregates only the components a
// role can change: every other one must have mode 0 (unchanged) for any node.
describe("roleComponents covers every component nodeTerms changes", () => {
  it("random racked clusters, both roles", () => {
    const cu = new Float64Array(2);
    const out = new Float64Array(TERMS);
    let checked = 0;
    for (const seed of [31, 32, 33]) {
      const cd = cluster({ nodes: 12, instances: 80, seed, racks: 3, exclusionTags: true, offline: 1, drbd: 0.5 });
      for (const pri of [true, false]) {
        const qs = new Set(roleComponents(pri));
        for (const t of cd.nodes)
          for (let q = 0; q < STD.length; q++) {
            if (qs.has(q)) continue;
            expect(nodeTerms(t, STD[q]!, pri, cd.nodes.length, 0.5, 0.25, cu, out, 0)).toBe(0);
            checked++;
          }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

// The group search takes its groups' node lists from groupMembers, which
// must be splitCluster's (without the instance lists it does not read).
describe("groupMembers = splitCluster's node lists", () => {
  for (const seed of [41, 42, 43])
    it(`seed ${seed}`, () => {
      const cd = cluster({ nodes: 15, instances: 60, seed, groups: 3, offline: 1, drbd: 0.5 });
      // groups out of index order in the node list, and a hole
      const nodes: Array<Node | undefined> = [...cd.nodes].reverse().map((n, i) => Object.assign(n.clone(), { idx: i }));
      delete nodes[4];
      const ref = splitCluster(
        nodes.filter((n): n is Node => n !== undefined),
        cd.instances,
      ).map((g) => ({ gdx: g.gdx, nodes: g.nodes }));
      expect(groupMembers(nodes)).toEqual(ref);
      expect(ref.length).toBe(3);
    });
});

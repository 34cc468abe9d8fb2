// The global N+1 check (alloc.ts redundant) re-places each instance of a
// failed node that can only be re-created elsewhere; it picks the target
// with the single-node probe search (alloc-probe.ts) where that applies.
// On random clusters, with and without added load, its answer must be the
// reference engine's.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { applyAlloc, fullNL, genAllocNodes, redundant, tryAlloc } from "../../src/htools/alloc.js";
import type { Instance } from "../../src/htools/types.js";
import { randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  return cd;
}

const shapes: RandomClusterOptions[] = [
  { nodes: 10, instances: 60, seed: 42, drbd: 0.2, offline: 1 },
  { nodes: 12, instances: 50, seed: 43, drbd: 0.5, exclusionTags: true },
  // small clusters loaded until re-placing fails on CPU or memory
  ...[211, 212, 213, 216, 218].flatMap((seed) => [0, 0.3].map((drbd) => ({ nodes: 5, instances: 30, seed, drbd }))),
];

describe("redundant: probe search = reference engine", () => {
  const outcomes = new Set<boolean>();
  for (const shape of shapes)
    it(`seed ${shape.seed}, ${shape.nodes} nodes, DRBD ${shape.drbd}`, () => {
      const cd = cluster(shape);
      let nodes = cd.nodes;
      let il = cd.instances;
      // load the cluster with plain instances, checking at each step
      for (let step = 0; step < 20; step++) {
        for (const acceptExisting of [false, true]) {
          const fast = redundant({ acceptExisting }, fullNL(nodes), il);
          const ref = redundant({ acceptExisting, engine: "reference" }, fullNL(nodes), il);
          expect(fast).toBe(ref);
          outcomes.add(fast);
        }
        const mem = [1024, 4096, 8192][step % 3]!;
        const inst: Instance = testInstance(`new-${step}`, mem, 20480, "plain", -1, { vcpus: 4 });
        const nl = fullNL(nodes);
        const sol = tryAlloc({ capacity: false }, nl, il, { ...inst, idx: il.length }, genAllocNodes({}, cd.groups, nl, 1, false));
        if (!sol.solution) break;
        ({ nodes, il } = applyAlloc(nodes, il, sol.solution));
      }
    });
  it("both answers occurred", () => expect([...outcomes].sort()).toEqual([false, true]));
});

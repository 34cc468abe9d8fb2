// mergeData's in-place attachment of instances to nodes (loader.ts
// attachPlain) must leave every node exactly as setPri/setSec do.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing } from "../../src/htools/loader.js";
import type { Node } from "../../src/htools/node.js";
import { randomClusterText, type RandomClusterOptions } from "./random-cluster.js";

const shapes: RandomClusterOptions[] = [
  { nodes: 8, instances: 40, seed: 21 },
  { nodes: 14, instances: 90, seed: 22, offline: 2 },
  { nodes: 20, instances: 160, seed: 23, drbd: 1 },
  { nodes: 30, instances: 300, seed: 24, drbd: 0.5 },
  { nodes: 10, instances: 60, seed: 25, forthcoming: 0.2 },
  { nodes: 10, instances: 60, seed: 26, exclusionTags: true },
  // racked: location scores, exclusion maps and primary tag counts built in place
  { nodes: 12, instances: 90, seed: 27, racks: 4, exclusionTags: true, multiTags: true, offline: 1 },
  { nodes: 16, instances: 120, seed: 28, racks: 3, exclusionTags: true, groups: 2 },
];

/** Every field, with numbers compared by Object.is (keeps -0 and NaN apart). */
function snapshot(n: Node): unknown {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n)) {
    if (typeof v === "number") r[k] = Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v;
    else if (v instanceof Map) r[k] = [...v];
    else if (v instanceof Set) r[k] = [...v];
    else r[k] = v;
  }
  return r;
}

describe("attachPlain = setPri/setSec", () => {
  for (const shape of shapes)
    it(`seed ${shape.seed}`, () => {
      const text = randomClusterText(shape);
      const fast = mergeData(parseText(text), {});
      const ref = mergeData(parseText(text), { engine: "reference" });
      updateMissing(fast, 0);
      updateMissing(ref, 0);
      expect(fast.nodes.length).toBe(ref.nodes.length);
      for (let i = 0; i < ref.nodes.length; i++) expect(snapshot(fast.nodes[i]!)).toEqual(snapshot(ref.nodes[i]!));
      expect(fast.instances).toEqual(ref.instances);
    });
});

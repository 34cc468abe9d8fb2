// loader.ts StreamMerge (hail's large requests merge each instance into the
// cluster as it is read) must give exactly what mergeData gives after
// reading them all: every node field and every instance field, numbers
// compared by Object.is.  A field the streaming path forgot to set, or set
// differently, fails here.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { StreamMerge, mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import type { Node } from "../../src/htools/node.js";
import type { Instance } from "../../src/htools/types.js";
import { prng, randomClusterText, type RandomClusterOptions } from "./random-cluster.js";

const shapes: RandomClusterOptions[] = [
  { nodes: 8, instances: 40, seed: 41 },
  { nodes: 14, instances: 90, seed: 42, offline: 2 },
  { nodes: 20, instances: 160, seed: 43, drbd: 1 },
  { nodes: 30, instances: 300, seed: 44, drbd: 0.5 },
  { nodes: 10, instances: 60, seed: 45, exclusionTags: true },
  { nodes: 12, instances: 90, seed: 46, racks: 4, exclusionTags: true, multiTags: true, offline: 1 },
  { nodes: 16, instances: 120, seed: 47, racks: 3, exclusionTags: true, groups: 2 },
  { nodes: 9, instances: 70, seed: 48, locationTags: true, exclusionTags: true, groups: 3, drbd: 0.8 },
  // forthcoming instances: StreamMerge refuses them (add is false)
  { nodes: 10, instances: 60, seed: 49, forthcoming: 0.2 },
];

/** Every field, with numbers compared by Object.is (keeps -0 and NaN apart). */
function snapshot(o: object): unknown {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "number") r[k] = Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v;
    else if (v instanceof Map) r[k] = ["Map", ...v];
    else if (v instanceof Set) r[k] = ["Set", ...v];
    else r[k] = v;
  }
  return r;
}

/**
 * The parsed cluster; with `more`, desired-location tags on some instances
 * and some secondaries in another group than their primary (seeded).
 */
function load(text: string, seed: number, more: boolean): ClusterData {
  const cd = parseText(text);
  if (more) {
    const rnd = prng(seed);
    cd.tags = [...cd.tags, "htools:desiredlocation:rack"];
    for (const i of cd.instances) {
      if (rnd() < 0.3) i.allTags = [...i.allTags, `rack:r${Math.floor(rnd() * 4)}`];
      if (i.sNode >= 0 && rnd() < 0.1) {
        const other = cd.nodes.find((n) => n.group !== cd.nodes[i.pNode]!.group);
        if (other) i.sNode = other.idx;
      }
    }
  }
  return cd;
}

/** StreamMerge over the instances in order; null if it refused one. */
function streamed(cd: ClusterData): ClusterData | null {
  const sm = new StreamMerge(cd.nodes, cd.tags);
  for (const i of cd.instances) if (!sm.add(i)) return null;
  return sm.finish(cd.groups, cd.instances);
}

function same(a: ClusterData, b: ClusterData): void {
  updateMissing(a, 4096);
  updateMissing(b, 4096);
  expect(a.nodes.length).toBe(b.nodes.length);
  for (let k = 0; k < b.nodes.length; k++) expect(snapshot(a.nodes[k] as Node)).toEqual(snapshot(b.nodes[k] as Node));
  expect(a.instances.length).toBe(b.instances.length);
  for (let k = 0; k < b.instances.length; k++) expect(snapshot(a.instances[k] as Instance)).toEqual(snapshot(b.instances[k] as Instance));
  expect(a.tags).toEqual(b.tags);
  expect(a.groups).toEqual(b.groups);
  expect(a.ipolicy).toEqual(b.ipolicy);
}

describe("StreamMerge = mergeData", () => {
  for (const shape of shapes)
    for (const more of [false, true])
      it(`seed ${shape.seed}${more ? " with desired locations and groups apart" : ""}`, () => {
        const text = randomClusterText(shape);
        const ref = mergeData(load(text, shape.seed, more));
        const st = streamed(load(text, shape.seed, more));
        const forthcoming = ref.instances.some((i) => i.forthcoming);
        expect(st === null).toBe(forthcoming);
        if (st !== null) same(st, ref);
      });

  it("a node-only cluster and a cluster with a domain suffix", () => {
    const text = randomClusterText({ nodes: 6, instances: 30, seed: 50, drbd: 0.5 });
    // names without and with a common domain (the aliases drop it)
    const suffixed = text.replace(/\b(node\d{3}|inst\d{4})\b/g, "$1.example.com");
    expect(suffixed).not.toBe(text);
    for (const t of [text, suffixed]) same(streamed(parseText(t))!, mergeData(parseText(t)));
    expect(mergeData(parseText(suffixed)).instances[0]!.alias).not.toBe(mergeData(parseText(suffixed)).instances[0]!.name);
    const empty = parseText(text);
    empty.instances = [];
    const empty2 = parseText(text);
    empty2.instances = [];
    same(streamed(empty)!, mergeData(empty2));
  });
});

// mergeData's exclusion and desired-location tags: the instance's tags that
// start with one of the prefixes (the cluster's, and --exclusion-tags with a
// ':'), in order; none gives the shared empty values.
describe("mergeData's tag selection", () => {
  for (const shape of shapes.slice(4, 8))
    it(`seed ${shape.seed}`, () => {
      const text = randomClusterText(shape);
      const cd = load(text, shape.seed, true);
      cd.tags = [...cd.tags, "htools:iextags:svc"];
      const before = cd.instances.map((i) => [...i.allTags]);
      const ref = mergeData(cd, { exclusionTags: ["rack"] });
      const ex = ["rack:", ...cd.tags.filter((t) => t.startsWith("htools:iextags:")).map((t) => t.slice(15))];
      const dsrd = cd.tags.filter((t) => t.startsWith("htools:desiredlocation:")).map((t) => t.slice(23));
      let tagged = 0;
      ref.instances.forEach((i, k) => {
        const tags = before[k]!;
        expect([...i.exclTags]).toEqual(tags.filter((t) => ex.some((p) => t.startsWith(p))));
        expect([...i.dsrdLocTags]).toEqual(tags.filter((t) => dsrd.some((p) => t.startsWith(p))));
        if (i.exclTags.length === 0) expect(Object.isFrozen(i.exclTags)).toBe(true);
        if (i.exclTags.length > 0) tagged++;
      });
      expect(tagged).toBeGreaterThan(0);
    });
});

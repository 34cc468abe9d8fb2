// The pair search carries a primary's probe failure from one instance spec
// to a smaller one of the same family when the failing check cannot have
// changed (alloc-probe.ts failureCarries).  Along random shrinking (and
// sometimes growing) spec sequences, every carried outcome must equal a
// fresh probe of the node.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { fullNL, genAllocNodes } from "../../src/htools/alloc.js";
import { primaryOutcomes } from "../../src/htools/alloc-probe.js";
import { instMatchesPolicy } from "../../src/htools/instance.js";
import { probeAddPri } from "../../src/htools/probe.js";
import { NCOMP } from "../../src/htools/metrics.js";
import { isFail, type FailMode, type Instance } from "../../src/htools/types.js";
import { prng, randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  return cd;
}

const shapes: RandomClusterOptions[] = [
  { nodes: 8, instances: 60, seed: 21 },
  { nodes: 14, instances: 120, seed: 22, offline: 2 },
  { nodes: 20, instances: 200, seed: 23, drbd: 1, exclusionTags: true },
  { nodes: 30, instances: 400, seed: 24 },
];

describe("carried primary failures = fresh probes", () => {
  for (const shape of shapes)
    for (const force of [false, true])
      it(`seed ${shape.seed}, force=${force}`, () => {
        const cd = cluster(shape);
        const nl = fullNL(cd.nodes);
        const an = genAllocNodes({}, cd.groups, nl, 2, false);
        if (!("listed" in an) || !an.listed) throw new Error("no candidate list");
        const rnd = prng(shape.seed * 7 + (force ? 1 : 0));
        const V = new Float64Array(NCOMP);
        let spec = { mem: 65536, dsk: 2097152, vcpus: 24 };
        // as hspace: each spec a copy of one prototype with other sizes
        const protos = [false, true].map((excl) =>
          testInstance("new", spec.mem, spec.dsk, "drbd", -1, { vcpus: spec.vcpus, tags: excl ? ["excl"] : [] }),
        );
        let proto = protos[0]!;
        const mk = (): Instance => ({ ...proto, ...spec, disks: proto.disks.map((d) => ({ ...d, size: spec.dsk })) });
        const seen = new Map<FailMode | null, number>();
        let carried = 0;
        for (let step = 0; step < 160; step++) {
          // a new sequence every 40 steps, from a random size
          // (within the default policy, so that most failures are the node's own checks)
          if (step % 40 === 0) proto = protos[Math.floor(rnd() * 2)]!;
          if (step % 40 === 0)
            spec = {
              mem: 1024 * (1 + Math.floor(rnd() * 32)),
              dsk: 16384 * (1 + Math.floor(rnd() * 64)),
              vcpus: 1 + Math.floor(rnd() * 8),
            };
          const u = rnd();
          // mostly one size shrinks by a step or a jump, now and then several, or one grows
          const f = (x: number, unit: number): number => Math.max(unit, x - unit * (rnd() < 0.6 ? 1 : 1 + Math.floor(rnd() * 64)));
          if (u < 0.35) spec = { ...spec, dsk: f(spec.dsk, 256 * 16) };
          else if (u < 0.7) spec = { ...spec, mem: f(spec.mem, 64 * 8) };
          else if (u < 0.85) spec = { ...spec, vcpus: f(spec.vcpus, 1) };
          else if (u < 0.95) spec = { mem: f(spec.mem, 64 * 8), dsk: f(spec.dsk, 256 * 16), vcpus: f(spec.vcpus, 1) };
          else spec = { ...spec, mem: Math.min(32768, spec.mem * 2) };
          const inst = mk();
          const got = primaryOutcomes(force, cd.nodes, nl.members, inst, an.listed);
          carried += got.carried;
          for (const [p, r] of got.outcomes) {
            const pn = cd.nodes[p]!;
            const pol = instMatchesPolicy(inst, pn.iPolicy, pn.exclStorage);
            const want = isFail(pol) ? pol : probeAddPri(force, pn, inst, V);
            expect(r, `node ${p}, step ${step}, spec ${JSON.stringify(spec)}`).toBe(want);
            seen.set(r, (seen.get(r) ?? 0) + 1);
          }
        }
        // the sequences exercise failures of several kinds and successes
        expect(seen.get(null) ?? 0).toBeGreaterThan(0);
        expect([...seen.keys()].filter((m) => m !== null).length).toBeGreaterThan(1);
        expect(carried).toBeGreaterThan(0);
      });
});

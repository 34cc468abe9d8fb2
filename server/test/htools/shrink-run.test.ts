// hspace's tiered allocation skips the shrink steps that shrink-run.ts
// proves to fail like the last searched one.  Every skipped spec, searched
// for real, must fail with the same counts; and whole hspace runs must give
// the reference engine's answer (which never skips).
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { collapseFailures, fullNL, genAllocNodes, tryAlloc, type AlgOptions } from "../../src/htools/alloc.js";
import { sameFailureRun, skippedSpecs } from "../../src/htools/shrink-run.js";
import { hspace } from "../../src/htools/hspace.js";
import { shrinkByType } from "../../src/htools/instance.js";
import type { DiskTemplate, FailMode, Instance } from "../../src/htools/types.js";
import { randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

/** A random cluster whose policy admits the large specs below (the default's maxima are 32 GiB, 1 TiB, 8 CPUs). */
function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  const pol = {
    ...cd.ipolicy,
    minmax: cd.ipolicy.minmax.map((m) => ({ min: m.min, max: { ...m.max, memorySize: 1 << 20, diskSize: 1 << 22, cpuCount: 256 } })),
  };
  cd.ipolicy = pol;
  for (const n of cd.nodes) n.iPolicy = pol;
  return cd;
}

const mk = (mem: number, dsk: number, vcpus: number, diskTemplate: DiskTemplate): Instance =>
  testInstance("new", mem, dsk, diskTemplate, -1, { vcpus });

const shapes: RandomClusterOptions[] = [
  { nodes: 8, instances: 60, seed: 31 },
  { nodes: 12, instances: 100, seed: 32, offline: 2, drbd: 1 },
  { nodes: 16, instances: 160, seed: 33, drbd: 0.7 },
  { nodes: 9, instances: 70, seed: 37, drbd: 0.5, locationTags: true, exclusionTags: true },
];
const MODES: FailMode[] = ["FailDisk", "FailMem", "FailCPU"];
// specs from fitting-almost-everywhere to fitting nowhere, in each size
const SPECS = [
  { mem: 4096, dsk: 800000, vcpus: 2 },
  { mem: 4096, dsk: 1600000, vcpus: 2 },
  { mem: 40000, dsk: 20480, vcpus: 2 },
  { mem: 100000, dsk: 20480, vcpus: 2 },
  { mem: 2048, dsk: 10240, vcpus: 60 },
  { mem: 30000, dsk: 500000, vcpus: 24 },
  { mem: 2048, dsk: 3000000, vcpus: 2 },
  { mem: 200000, dsk: 10240, vcpus: 2 },
  { mem: 2048, dsk: 10240, vcpus: 200 },
];

describe("sameFailureRun: every skipped spec fails with the same counts", () => {
  for (const shape of shapes)
    for (const tmpl of ["drbd", "plain"] as const)
      for (const ignoreSoftErrors of [false, true])
        it(`seed ${shape.seed}, ${tmpl}, ignoreSoftErrors=${ignoreSoftErrors}`, () => {
          const cd = cluster(shape);
          const nl = fullNL(cd.nodes);
          const an = genAllocNodes({}, cd.groups, nl, tmpl === "drbd" ? 2 : 1, false);
          const opts: AlgOptions = { capacity: false, ignoreSoftErrors };
          let skipped = 0;
          let checked = 0;
          for (const sp of SPECS) {
            const inst0 = mk(sp.mem, sp.dsk, sp.vcpus, tmpl);
            const sol0 = tryAlloc(opts, nl, cd.instances, inst0, an);
            if (sol0.solution) continue;
            const fails0 = collapseFailures(sol0.failures);
            for (const mode of MODES) {
              const run = sameFailureRun(opts, nl, an, inst0, mode);
              skipped += run.length;
              // all of a short run, else a sample and its last spec
              const probe = run.length <= 40 ? run : [...run.filter((_, k) => k % Math.ceil(run.length / 40) === 0), run[run.length - 1]!];
              for (const s of probe) {
                const sol = tryAlloc(opts, nl, cd.instances, s, an);
                expect(sol.solution).toBeNull();
                expect(sol.allocs).toBe(sol0.allocs);
                expect(collapseFailures(sol.failures)).toEqual(fails0);
                checked++;
              }
              // each returned spec is the previous one shrunk once
              let prev = inst0;
              for (const s of run) {
                expect(s).toEqual(shrinkByType(prev, mode));
                prev = s;
              }
            }
          }
          // the cases above must exercise long runs
          expect(skipped).toBeGreaterThan(50);
          expect(checked).toBeGreaterThan(20);
        });
});

// Where nodes share many DRBD instances, a secondary's probe for a primary
// it already pairs with (a larger reserved memory) can change within a
// memory run while its probe for any other primary does not.
describe("sameFailureRun: memory runs with shared instances", () => {
  for (const seed of [128, 129, 130, 131, 133, 134])
    it(`seed ${seed}`, () => {
      const cd = cluster({ nodes: 6, instances: 48, seed, drbd: 1 });
      const nl = fullNL(cd.nodes);
      const an = genAllocNodes({}, cd.groups, nl, 2, false);
      let skipped = 0;
      for (const mem of [16384, 32768, 49152, 65536]) {
        const inst0 = mk(mem, 10240, 1, "drbd");
        const sol0 = tryAlloc({ capacity: false }, nl, cd.instances, inst0, an);
        if (sol0.solution) continue;
        const run = sameFailureRun({ capacity: false }, nl, an, inst0, "FailMem");
        skipped += run.length;
        for (const s of run) {
          const sol = tryAlloc({ capacity: false }, nl, cd.instances, s, an);
          expect(sol.solution).toBeNull();
          expect(collapseFailures(sol.failures)).toEqual(collapseFailures(sol0.failures));
        }
      }
      expect(skipped).toBeGreaterThan(0);
    });
});

describe("sameFailureRun declines what its argument does not cover", () => {
  const cd = cluster(shapes[0]!);
  const nl = fullNL(cd.nodes);
  const an = genAllocNodes({}, cd.groups, nl, 2, false);
  const inst0 = mk(4096, 1600000, 2, "drbd");
  it("the spec fails to start with", () => {
    expect(tryAlloc({ capacity: false }, nl, cd.instances, inst0, an).solution).toBeNull();
    expect(sameFailureRun({ capacity: false }, nl, an, inst0, "FailDisk").length).toBeGreaterThan(0);
  });
  it("capacity checks, the reference engine, other modes", () => {
    expect(sameFailureRun({}, nl, an, inst0, "FailDisk")).toEqual([]);
    expect(sameFailureRun({ capacity: false, engine: "reference" }, nl, an, inst0, "FailDisk")).toEqual([]);
    expect(sameFailureRun({ capacity: false }, nl, an, inst0, "FailSpindles")).toEqual([]);
    expect(sameFailureRun({ capacity: false }, nl, an, inst0, "FailTags")).toEqual([]);
  });
  it("a policy that rejects a spec ends the run before it", () => {
    const pol = cd.ipolicy;
    const minDisk = 1400000;
    const nodes = cd.nodes.map((n) => {
      const c = n.clone();
      c.iPolicy = {
        ...pol,
        minmax: pol.minmax.map((m) => ({ min: { ...m.min, diskSize: minDisk }, max: { ...m.max, diskSize: 2000000 } })),
      };
      return c;
    });
    const run = sameFailureRun({ capacity: false }, fullNL(nodes), an, inst0, "FailDisk");
    expect(run.length).toBeGreaterThan(0);
    for (const s of run) expect(s.dsk).toBeGreaterThanOrEqual(minDisk);
  });
  it("a policy of two boxes: the run stops at the gap between them", () => {
    const pol = cd.ipolicy;
    const m = pol.minmax[0]!;
    const twoBoxes = {
      ...pol,
      minmax: [
        { min: { ...m.min, diskSize: 1500000 }, max: { ...m.max, diskSize: 2000000 } },
        { min: m.min, max: { ...m.max, diskSize: 1000000 } },
      ],
    };
    const nodes = cd.nodes.map((n) => {
      const c = n.clone();
      c.iPolicy = twoBoxes;
      return c;
    });
    const run = sameFailureRun({ capacity: false }, fullNL(nodes), an, inst0, "FailDisk");
    expect(run.length).toBeGreaterThan(0);
    for (const s of run) expect(s.dsk).toBeGreaterThanOrEqual(1500000);
    // with one box over both ranges the same cluster's run goes further
    const oneBox = { ...pol, minmax: [{ min: m.min, max: { ...m.max, diskSize: 2000000 } }] };
    const nodes1 = cd.nodes.map((n) => {
      const c = n.clone();
      c.iPolicy = oneBox;
      return c;
    });
    const run1 = sameFailureRun({ capacity: false }, fullNL(nodes1), an, inst0, "FailDisk");
    expect(run1[run1.length - 1]!.dsk).toBeLessThan(1500000);
  });
});

describe("hspace with skipped shrink steps = reference engine", () => {
  let skippedTotal = 0;
  const tiered = [
    { mem: 4096, dsk: 1048576, cpu: 2, spn: 1 },
    { mem: 131072, dsk: 20480, cpu: 2, spn: 1 },
    { mem: 2048, dsk: 10240, cpu: 64, spn: 1 },
  ];
  // (with capacity checks the reference engine is slow for plain instances:
  // a smaller cluster for those)
  const cases = [
    ...shapes.slice(0, 2).flatMap((shape) =>
      [
        ["drbd", false],
        ["drbd", true],
        ["plain", false],
      ].map(([dt, capacity]) => ({ shape, dt, capacity })),
    ),
    ...[34, 35].map((seed) => ({ shape: { nodes: 5, instances: 25, seed, drbd: 0.3 }, dt: "plain", capacity: true })),
    ...["drbd", "plain"].map((dt) => ({
      shape: { nodes: 8, instances: 60, seed: 36, drbd: 0.5, locationTags: true, exclusionTags: true },
      dt,
      capacity: false,
    })),
  ] as Array<{ shape: RandomClusterOptions; dt: DiskTemplate; capacity: boolean }>;
  const smallTiered = [
    { mem: 4096, dsk: 204800, cpu: 2, spn: 1 },
    { mem: 16384, dsk: 20480, cpu: 2, spn: 1 },
    { mem: 2048, dsk: 10240, cpu: 16, spn: 1 },
  ];
  for (const { shape, dt, capacity } of cases)
    for (const [k, ts] of (dt === "plain" && capacity ? smallTiered : tiered).entries())
      it(`seed ${shape.seed}, tiered spec ${k}, ${dt}, capacity checks ${capacity}`, () => {
        const run = (engine?: "reference") =>
          hspace(cluster(shape), {
            capacity,
            acceptExisting: true,
            engine,
            diskTemplate: dt,
            tieredSpec: ts,
            stdSpec: { mem: 1024, dsk: 10240, cpu: 1, spn: 1 },
          });
        const s0 = skippedSpecs();
        const fast = run();
        const s1 = skippedSpecs();
        const ref = run("reference");
        expect(skippedSpecs()).toBe(s1);
        skippedTotal += s1 - s0;
        const view = (r: ReturnType<typeof run>) => ({
          tiered: {
            fails: r.tiered.fails,
            allocated: r.tiered.allocated,
            specMap: r.tiered.specMap,
            placed: r.tiered.il.map((i) => [i.name, i.pNode, i.sNode, i.mem, i.dsk, i.vcpus]),
          },
          standard: { fails: r.standard.fails, allocated: r.standard.allocated },
        });
        expect(view(fast)).toEqual(view(ref));
        expect(fast.tiered.allocated).toBeGreaterThan(0);
      });
  it("skipped shrink steps in the runs above", () => expect(skippedTotal).toBeGreaterThan(100));
});

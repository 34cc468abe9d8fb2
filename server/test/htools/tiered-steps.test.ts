// hspace's tiered allocation (hspace.ts tieredAlloc) skips shrink steps,
// stands one frame for a run of them and answers shrinking scans from
// memos.  Here its result is compared with Ganeti's tieredAlloc taken
// literally, one shrink step and one trial allocation at a time (only pure
// functions are cached: trial allocations and scan answers, per state and
// spec), on random clusters whose policies end the runs in every way: a
// minimum the shrinking size falls below (from there on every node fails
// with the policy's mode, down to the smallest spec), two boxes with a gap
// (specs below it fit where those above did not: a run that ignored the
// policy would skip them), and wide policies where the nodes' own checks
// decide.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { fullNL, genAllocNodes, tryAlloc, type AlgOptions, type AllocNodes, type AllocSolution } from "../../src/htools/alloc.js";
import { hspace, instFromSpec, iterateAlloc, type AllocResult } from "../../src/htools/hspace.js";
import { CapacityRun } from "../../src/htools/capacity.js";
import { requiredNodes, shrinkByType } from "../../src/htools/instance.js";
import { skippedSpecs } from "../../src/htools/shrink-run.js";
import { HtoolsError, type FailMode, type Instance, type IPolicy, type RSpec } from "../../src/htools/types.js";
import { randomClusterText, type RandomClusterOptions } from "./random-cluster.js";

const specKey = (i: Instance): string => `${i.mem}|${i.dsk}|${i.vcpus}|${i.disks.map((d) => `${d.size}:${d.spindles}`).join(",")}`;

/** Ganeti's tieredAlloc, step by step (recursive, as written there). */
function stepByStep(
  opts: AlgOptions,
  r: AllocResult,
  limit: number | null,
  inst: Instance,
  an: AllocNodes,
  trials: WeakMap<object, { allocs: Map<string, AllocSolution>; answers: Map<string, Instance | null> }>,
): AllocResult {
  const res = iterateAlloc(opts, r, limit, inst, an);
  const cnt = res.ixes.length;
  if (limit !== null && limit <= cnt) return res;
  const newlimit = limit === null ? null : limit - cnt;
  // failure modes by ascending count (stable)
  const errs = res.fails
    .map((f, k) => ({ f, k }))
    .sort((a, b) => a.f[1] - b.f[1] || a.k - b.k)
    .map((x) => x.f[0]);
  let cache = trials.get(res.nodes);
  if (cache === undefined) trials.set(res.nodes, (cache = { allocs: new Map(), answers: new Map() }));
  const c = cache.allocs;
  const answers = cache.answers;
  const allocFn = (i: Instance): AllocSolution => {
    const key = specKey(i);
    let s = c.get(key);
    if (s === undefined) {
      try {
        s = tryAlloc(opts, fullNL(res.nodes), res.il, i, an);
      } catch (e) {
        if (!(e instanceof HtoolsError)) throw e;
        s = { failures: [], allocs: 0, solution: null, log: [] };
      }
      c.set(key, s);
    }
    return s;
  };
  // sufficesShrinking: the first spec along fm that allocates, while each
  // before it fails with fm (a spec counts only if it can be shrunk).  The
  // answer from a spec that fails with fm is the answer from the next one:
  // answers are remembered per state, mode and spec (a pure function).
  const suffices = (fm: FailMode): Instance | null => {
    const visited: string[] = [];
    let answer: Instance | null | undefined;
    for (let cur = inst; answer === undefined;) {
      const key = fm + "/" + specKey(cur);
      if (answers.has(key)) {
        answer = answers.get(key)!;
        break;
      }
      visited.push(key);
      const next = shrinkByType(cur, fm);
      const s = next === null ? null : allocFn(cur);
      if (next === null || s === null) answer = null;
      else if (s.solution) answer = cur;
      else if (!s.failures.includes(fm)) answer = null;
      else cur = next;
    }
    for (const k of visited) answers.set(k, answer);
    return answer;
  };
  const shrunk = shrinkByType(inst, errs[errs.length - 1]!);
  const deeper = shrunk ? stepByStep(opts, res, newlimit, shrunk, an, trials) : res;
  if (deeper.il.length > res.il.length) return deeper;
  for (const fm of [...errs].reverse()) {
    const ni = suffices(fm);
    if (ni) return stepByStep(opts, res, newlimit, ni, an, trials);
  }
  return res;
}

type PolicyShape = "wide" | "min-near" | "gap-mem" | "gap-disk";

/** A random cluster whose policy, every node's, is shaped around the tiered spec ts. */
function cluster(o: RandomClusterOptions, shape: PolicyShape, ts: RSpec): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  const m = cd.ipolicy.minmax[0]!;
  const max = { ...m.max, memorySize: 1 << 20, diskSize: 1 << 22, cpuCount: 256 };
  let minmax: IPolicy["minmax"];
  if (shape === "wide") minmax = [{ min: m.min, max }];
  else if (shape === "min-near")
    // a few shrink steps below the spec in every size
    minmax = [{ min: { ...m.min, memorySize: ts.mem - 8 * 64, diskSize: ts.dsk - 12 * 256, cpuCount: Math.max(1, ts.cpu - 1) }, max }];
  else if (shape === "gap-mem")
    // two boxes with a gap in memory: specs below it fit where those above did not
    minmax = [
      { min: { ...m.min, memorySize: ts.mem - 10 * 64 }, max },
      { min: m.min, max: { ...max, memorySize: Math.floor(ts.mem / 4) } },
    ];
  else
    minmax = [
      { min: { ...m.min, diskSize: ts.dsk - 20 * 256 }, max },
      { min: m.min, max: { ...max, diskSize: Math.floor(ts.dsk / 4) } },
    ];
  const pol: IPolicy = { ...cd.ipolicy, minmax };
  cd.ipolicy = pol;
  for (const n of cd.nodes) n.iPolicy = pol;
  return cd;
}

const byMode = (f: Array<[FailMode, number]>) => [...f].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const placed = (il: Instance[]) => il.map((i) => [i.name, i.pNode, i.sNode, i.mem, i.dsk, i.vcpus]);

const shapes: RandomClusterOptions[] = [
  { nodes: 6, instances: 30, seed: 41 },
  { nodes: 9, instances: 60, seed: 42, drbd: 0.7, offline: 1 },
  { nodes: 8, instances: 50, seed: 43, drbd: 0.5, locationTags: true, exclusionTags: true },
];
const specs: RSpec[] = [
  { mem: 24576, dsk: 204800, cpu: 4, spn: 1 },
  { mem: 8192, dsk: 409600, cpu: 2, spn: 1 },
  { mem: 4096, dsk: 51200, cpu: 12, spn: 1 },
];

describe("tiered allocation = Ganeti's, step by step", () => {
  let skipped = 0;
  for (const shape of shapes)
    for (const policy of ["wide", "min-near", "gap-mem", "gap-disk"] as const)
      for (const dt of ["plain", "drbd"] as const)
        it(`seed ${shape.seed}, ${policy} policy, ${dt}`, () => {
          for (const [k, ts] of specs.entries()) {
            const ignoreSoftErrors = k === 2;
            const s0 = skippedSpecs();
            const fast = hspace(cluster(shape, policy, ts), {
              capacity: false,
              ignoreSoftErrors,
              acceptExisting: true,
              diskTemplate: dt,
              tieredSpec: ts,
              stdSpec: { mem: 1024, dsk: 10240, cpu: 1, spn: 1 },
            });
            skipped += skippedSpecs() - s0;
            const cd = cluster(shape, policy, ts);
            const opts: AlgOptions = { capacity: false, ignoreSoftErrors, capacityRun: new CapacityRun() };
            const an = genAllocNodes(opts, cd.groups, fullNL(cd.nodes), requiredNodes(dt), true);
            const inst = instFromSpec(ts, dt, cd.ipolicy.std.spindleUse);
            const ref = stepByStep(opts, { fails: [], nodes: cd.nodes, il: cd.instances, ixes: [] }, null, inst, an, new WeakMap());
            expect(byMode(fast.tiered.fails), `spec ${k}`).toEqual(byMode(ref.fails));
            expect(fast.tiered.allocated, `spec ${k}`).toBe(ref.ixes.length);
            expect(placed(fast.tiered.il), `spec ${k}`).toEqual(placed(ref.il));
          }
        });
  it("the runs above skipped shrink steps", () => expect(skipped).toBeGreaterThan(1000));
});

// The testsuite's hspace-tiered case in small: a policy whose minimum lies a
// few steps below the spec, nodes that each take one instance of it, and
// then thousands of memory steps that fail on every node with the policy's
// FailMem, down to 64 MiB.
describe("a run below the policy's minimum", () => {
  const text = [
    "group-01|fake-uuid-01|preferred||",
    "",
    "node-01-001|262144|65536|196608|2097152|2097152|8|N|fake-uuid-01|1",
    "node-01-002|262144|65536|196608|2097152|2097152|8|N|fake-uuid-01|1",
    "node-01-003|262144|1024|261120|2097152|2097152|8|N|fake-uuid-01|1",
    "",
    "",
    "",
    "|129024,4,1047552,1,1,1|129024,4,1047552,1,1,1;131072,4,1048576,16,8,12|plain,drbd|4.0|32.0",
    "group-01|129024,4,1047552,1,1,1|129024,4,1047552,1,1,1;131072,4,1048576,16,8,12|plain,drbd|4.0|32.0",
    "",
  ].join("\n");
  it("gives Ganeti's step-by-step answer, skipping the run", () => {
    const load = (): ClusterData => {
      const cd = mergeData(parseText(text), {});
      updateMissing(cd, 0);
      return cd;
    };
    const s0 = skippedSpecs();
    const fast = hspace(load(), { capacity: false });
    expect(skippedSpecs() - s0).toBeGreaterThan(1500);
    const cd = load();
    const opts: AlgOptions = { capacity: false, capacityRun: new CapacityRun() };
    const an = genAllocNodes(opts, cd.groups, fullNL(cd.nodes), 1, true);
    const ts = cd.ipolicy.minmax[0]!.max;
    const inst = instFromSpec(
      { mem: ts.memorySize, dsk: ts.diskSize, cpu: ts.cpuCount, spn: ts.spindleUse },
      "plain",
      cd.ipolicy.std.spindleUse,
    );
    const ref = stepByStep(opts, { fails: [], nodes: cd.nodes, il: cd.instances, ixes: [] }, null, inst, an, new WeakMap());
    expect(fast.tiered.allocated).toBe(ref.ixes.length);
    expect(fast.tiered.allocated).toBeGreaterThan(3);
    expect(byMode(fast.tiered.fails)).toEqual(byMode(ref.fails));
    expect(placed(fast.tiered.il)).toEqual(placed(ref.il));
  });
});

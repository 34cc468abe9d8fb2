// The probe search of hbal (probe.ts, balance-probe.ts) must make exactly the
// decisions of the reference search (every candidate built with node.ts):
// probes equal the primitives bit for bit, the pruning bound never exceeds a
// candidate's score, and whole balancing runs choose the same moves.
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, splitCluster, type ClusterData } from "../../src/htools/loader.js";
import { addPriEx, addSecExEx, removePri, type Node } from "../../src/htools/node.js";
import { nodeValues, NCOMP, ScoreState, compCV, compCVWith } from "../../src/htools/metrics.js";
import { probeAddPri, probeAddSec } from "../../src/htools/probe.js";
import { isFail } from "../../src/htools/types.js";
import { balanceGroup, TINY_PAIRS, type BalanceOptions } from "../../src/htools/balance.js";
import { randomClusterText, prng, type RandomClusterOptions } from "./random-cluster.js";

type Shape = RandomClusterOptions & { util?: boolean };

function cluster(o: Shape, exclusionTags: string[] = []): ClusterData {
  const parsed = parseText(randomClusterText(o));
  // dynamic utilisation (hbal -U): random loads for most instances
  const rnd = prng(o.seed + 1000);
  const util = o.util
    ? parsed.instances
        .filter(() => rnd() < 0.8)
        .map((i) => [i.name, [rnd() * 2, rnd() * 4, rnd(), rnd() * 0.5]] as [string, [number, number, number, number]])
    : undefined;
  const cd = mergeData(parsed, { exclusionTags, util });
  updateMissing(cd, 0);
  return cd;
}

const shapes: Shape[] = [
  { nodes: 8, instances: 40, seed: 1 },
  { nodes: 14, instances: 80, seed: 7, util: true },
  { nodes: 12, instances: 70, seed: 2, offline: 2 },
  { nodes: 16, instances: 90, seed: 3, exclusionTags: true },
  { nodes: 10, instances: 80, seed: 4, drbd: 0.3 },
  { nodes: 20, instances: 60, seed: 5, drbd: 1 },
  { nodes: 12, instances: 70, seed: 6, forthcoming: 0.2 },
  // racked: location scores and the exclusion map enter as exact integers
  // (nodes in two locations or none, instances with two exclusion tags,
  // offline nodes, a second group, dynamic utilisation)
  { nodes: 12, instances: 80, seed: 8, locationTags: true, exclusionTags: true },
  { nodes: 16, instances: 100, seed: 9, racks: 4, exclusionTags: true, multiTags: true, offline: 2, util: true },
  { nodes: 20, instances: 130, seed: 10, racks: 3, exclusionTags: true, groups: 2, offline: 1, drbd: 0.6 },
  { nodes: 14, instances: 90, seed: 12, racks: 5, exclusionTags: true, multiTags: true, drbd: 0.4 },
];

describe("the exact re-check from cached node values (compCVWith)", () => {
  for (const shape of shapes)
    it(`seed ${shape.seed}: equals compCV of the node list with the changed nodes in place`, () => {
      const cd = cluster(shape);
      const members = cd.nodes.map((n) => n.idx);
      const st = new ScoreState(cd.nodes.slice(), members);
      const rnd = prng(shape.seed * 13);
      let checked = 0;
      for (const inst of cd.instances) {
        const pick = (): Node => cd.nodes[Math.floor(rnd() * cd.nodes.length)]!;
        // one to three changed nodes: the instance's primary without it, plus other nodes gaining it
        const changed: Node[] = [removePri(cd.nodes[inst.pNode]!, inst)];
        for (const t of [pick(), pick()]) {
          if (changed.some((c) => c.idx === t.idx)) continue;
          const r = addPriEx(true, t, inst);
          if (!isFail(r)) changed.push(r);
        }
        const list = cd.nodes.map((n) => changed.find((c) => c.idx === n.idx) ?? n);
        expect(
          Object.is(
            compCVWith(cd.nodes, members, changed, (i) => st.vals[i]!),
            compCV(list),
          ),
        ).toBe(true);
        checked++;
      }
      expect(checked).toBe(cd.instances.length);
    });
});

describe("probes equal the node primitives", () => {
  for (const shape of shapes) {
    it(`seed ${shape.seed}: addPriEx / addSecExEx on every node and instance`, () => {
      const cd = cluster(shape);
      const rnd = prng(shape.seed * 7);
      const got = new Float64Array(NCOMP);
      const want = new Float64Array(NCOMP);
      let compared = 0;
      let failures = 0;
      const same = (label: string): void => {
        for (let k = 0; k < NCOMP; k++) {
          if (k === 18) continue;
          if (!Object.is(got[k], want[k])) throw new Error(`${label}: component ${k}: probe ${got[k]} != reference ${want[k]}`);
        }
      };
      for (const inst of cd.instances) {
        for (const t of cd.nodes) {
          for (const force of [false, true]) {
            const ref = addPriEx(force, t, inst);
            const pr = probeAddPri(force, t, inst, got);
            if (isFail(ref)) {
              expect(pr).toBe(ref);
              failures++;
            } else {
              expect(pr).toBeNull();
              nodeValues(ref, want);
              same(`addPri ${inst.name} -> ${t.name} force=${force}`);
              compared++;
            }
            const pdx = [inst.pNode, Math.floor(rnd() * cd.nodes.length), -1][Math.floor(rnd() * 3)]!;
            const ignoreDisks = rnd() < 0.2;
            const refS = addSecExEx(ignoreDisks, force, t, inst, pdx);
            const prS = probeAddSec(ignoreDisks, force, t, inst, pdx, got);
            if (isFail(refS)) {
              expect(prS).toBe(refS);
              failures++;
            } else {
              expect(prS).toBeNull();
              nodeValues(refS, want);
              same(`addSec ${inst.name} -> ${t.name} pdx=${pdx} force=${force}`);
              compared++;
            }
          }
        }
      }
      // both outcomes are exercised
      expect(compared).toBeGreaterThan(100);
      expect(failures).toBeGreaterThan(10);
    });
  }
});

function run(cd: ClusterData, opts: BalanceOptions) {
  const g = splitCluster(cd.nodes, cd.instances)[0]!;
  return balanceGroup(cd.nodes, cd.instances, g.nodes, g.instances, opts);
}
const summary = (r: ReturnType<typeof run>) =>
  r.moves.map((m) => `${m.instName} ${m.oldPri}/${m.oldSec} => ${m.newPri}/${m.newSec} ${m.code} ${m.score}`);

describe("probe search = reference search", () => {
  const variants: Array<[string, BalanceOptions]> = [
    ["defaults", {}],
    ["--ignore-soft-errors", { ignoreSoftErrors: true }],
    ["--no-disk-moves", { noDiskMoves: true }],
    ["--restricted-migration", { restrictedMigration: true }],
    ["--no-instance-moves", { noInstanceMoves: true }],
    ["--evac-mode", { evacMode: true }],
  ];
  /** The three engines on one cluster: same moves and scores, no bound above a candidate's score. */
  const compare = (shape: Shape, opts: BalanceOptions) => {
    const excl = shape.exclusionTags ? ["service:"] : [];
    const o = { ...opts, maxLength: 30 };
    const ref = run(cluster(shape, excl), { ...o, engine: "reference" });
    const fast = run(cluster(shape, excl), { ...o, engine: "auto" });
    const verify = run(cluster(shape, excl), { ...o, engine: "verify" });
    expect(summary(fast)).toEqual(summary(ref));
    expect(summary(verify)).toEqual(summary(ref));
    expect(fast.finalScore).toBe(ref.finalScore);
    expect(ref.searchStats).toBeNull();
    expect(verify.searchStats!.boundViolations).toBe(0);
    return { ref, fast, verify };
  };
  for (const shape of shapes)
    for (const [name, opts] of variants) {
      it(`seed ${shape.seed}, ${name}: same moves and scores, bound never above a score`, () => {
        const { ref } = compare(shape, opts);
        if (name !== "--evac-mode" || shape.offline) expect(ref.moves.length).toBeGreaterThan(0);
      });
    }
  // Without forthcoming instances the "forth" components repeat their plain
  // ones (free memory differs where an instance is down), and with the
  // default utilisation the CPU, memory and network loads are equal, so the
  // bound loops fold them (3 + 2 per round); with forthcoming instances the
  // "forth" data differ and are not folded. The bound stays below every
  // score either way (verify).
  it("equal components are folded in the bound loops only when their data agree", () => {
    const plain = compare(shapes[0]!, {});
    const rounds = plain.fast.moves.length + 1;
    expect(plain.fast.searchStats!.folded).toBe(5 * rounds);
    expect(plain.verify.searchStats!.folded).toBe(plain.fast.searchStats!.folded);
    const forth = compare(
      shapes.find((s) => (s.forthcoming ?? 0) > 0)!,
      {},
    );
    expect(forth.fast.searchStats!.folded).toBeLessThan(3 * (forth.fast.moves.length + 1));
  });
  // The default blocks (16 nodes, 8 per superblock) cover these small
  // clusters with one block; blocks of 2 nodes and superblocks of 2 blocks
  // exercise the block and superblock bounds and their pruning.
  for (const shape of shapes)
    for (const [name, opts] of variants.slice(0, 4)) {
      it(`seed ${shape.seed}, ${name}, small target blocks: same moves, block bounds never above a score`, () => {
        const { fast, verify } = compare(shape, { ...opts, probeBlocks: [2, 2] });
        // pruning happened below the pair level: fewer blocks than a full scan
        // (all-DRBD clusters without disk moves have no target moves at all)
        if (verify.searchStats!.blocks > 0) expect(fast.searchStats!.blocks).toBeLessThan(verify.searchStats!.blocks);
        else expect(shape.drbd === 1 && name === "--no-disk-moves").toBe(true);
      });
    }
});

// "auto" builds every candidate on a tiny group (TINY_PAIRS), where the
// probe search's set-up costs more than it saves; the probe search forced
// ("probe") and the reference choose the same moves there too.
describe("tiny groups", () => {
  const tiny: Shape[] = [
    { nodes: 2, instances: 5, seed: 21, exclusionTags: true },
    { nodes: 3, instances: 8, seed: 22, drbd: 0.5 },
    { nodes: 4, instances: 12, seed: 23, locationTags: true, exclusionTags: true },
    { nodes: 4, instances: 14, seed: 24, offline: 1, util: true },
  ];
  for (const shape of tiny)
    it(`seed ${shape.seed}: auto takes the reference enumeration; probe and reference choose the same moves`, () => {
      const excl = shape.exclusionTags ? ["service:"] : [];
      const g = splitCluster(cluster(shape, excl).nodes, cluster(shape, excl).instances)[0]!;
      expect(g.instances.length * g.nodes.length).toBeLessThanOrEqual(TINY_PAIRS);
      const ref = run(cluster(shape, excl), { engine: "reference" });
      const auto = run(cluster(shape, excl), {});
      const probe = run(cluster(shape, excl), { engine: "probe" });
      expect(auto.searchStats).toBeNull();
      expect(probe.searchStats).not.toBeNull();
      expect(summary(auto)).toEqual(summary(ref));
      expect(summary(probe)).toEqual(summary(ref));
      expect(probe.finalScore).toBe(ref.finalScore);
      // (each of these clusters is unbalanced enough for a move)
      expect(ref.moves.length).toBeGreaterThan(0);
    });
  it("the random clusters above stay on the probe search under auto", () => {
    for (const shape of shapes) {
      const cd = cluster(shape);
      const g = splitCluster(cd.nodes, cd.instances)[0]!;
      expect(g.instances.length * g.nodes.length).toBeGreaterThan(TINY_PAIRS);
    }
  });
});

// The evacuation check of one failed node (alloc.ts canEvacuateNode) answers
// true without the re-placement search when one target takes all the
// instances to re-place in turn (capacity.ts takesAll), builds the
// failovers one node at a time (alloc.ts failoverTracks), and a check that
// passed so is answered again while the objects it read are the same
// (alloc.ts stillPasses).  Per node and per checked state, on racked
// random clusters loaded until re-placing fails, the answers must be the
// reference engine's (which searches every time, failover by failover).
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData, updateMissing, type ClusterData } from "../../src/htools/loader.js";
import { applyAlloc, evacuableNodes, fullNL, genAllocNodes, redundant, tryAlloc } from "../../src/htools/alloc.js";
import { CapacityMemo, CapacityRun } from "../../src/htools/capacity.js";
import { addPriEx, addSecExEx, failoverFits, fitsAllForced, removePri, removeSec, type Node } from "../../src/htools/node.js";
import { hasSecondary } from "../../src/htools/instance.js";
import { isFail, type Instance, type OpResult } from "../../src/htools/types.js";
import { pairCandidates, prng, randomClusterText, testInstance, type RandomClusterOptions } from "./random-cluster.js";

function cluster(o: RandomClusterOptions): ClusterData {
  const cd = mergeData(parseText(randomClusterText(o)), {});
  updateMissing(cd, 0);
  return cd;
}

const shape = (seed: number): RandomClusterOptions => ({
  nodes: 5 + (seed % 4),
  instances: 30 + (seed % 3) * 5,
  seed,
  drbd: [0.2, 0.4, 0.6][seed % 3],
  racks: 3,
  exclusionTags: true,
  multiTags: seed % 2 === 0,
  groups: seed % 5 === 0 ? 2 : 1,
  offline: seed % 4 === 0 ? 1 : 0,
});

/** The cluster loaded with plain instances step by step (ignoring soft errors, so nodes fill up). */
function* loaded(seed: number): Generator<{ nodes: Node[]; il: Instance[]; cd: ClusterData }> {
  const cd = cluster(shape(seed));
  const rnd = prng(seed * 7 + 1);
  let nodes = cd.nodes;
  let il = cd.instances;
  for (let step = 0; step < 14; step++) {
    yield { nodes, il, cd };
    const mem = [2048, 4096, 8192, 16384][Math.floor(rnd() * 4)]!;
    const inst = testInstance(`p-${step}`, mem, [20480, 102400, 409600][Math.floor(rnd() * 3)]!, "plain", il.length);
    const nl = fullNL(nodes);
    const sol = tryAlloc({ capacity: false, ignoreSoftErrors: true }, nl, il, inst, genAllocNodes({}, cd.groups, nl, 1, false));
    if (!sol.solution) return;
    ({ nodes, il } = applyAlloc(nodes, il, sol.solution));
  }
}

describe("fitsAllForced = addPriEx(true) in turn", () => {
  it("random nodes and instance sequences", () => {
    let fits = 0;
    let fails = 0;
    for (let seed = 600; seed < 640; seed++) {
      const cd = cluster({ nodes: 6, instances: 30, seed, drbd: 0.4, offline: 1 });
      const rnd = prng(seed);
      for (const t of cd.nodes)
        for (let k = 0; k < 6; k++) {
          const seq = Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, j) =>
            testInstance(
              `x${j}`,
              [512, 8192, 16384, 32768][Math.floor(rnd() * 4)]!,
              [0, 51200, 409600][Math.floor(rnd() * 3)]!,
              "plain",
              1000 + j,
            ),
          );
          let cur: Node | null = t;
          for (const i of seq) {
            const r = addPriEx(true, cur, i);
            cur = isFail(r) ? null : r;
            if (cur === null) break;
          }
          expect(fitsAllForced(t, seq)).toBe(cur !== null);
          if (cur !== null) fits++;
          else fails++;
        }
    }
    expect(fits).toBeGreaterThan(50);
    expect(fails).toBeGreaterThan(50);
  });
});

describe("failoverFits = the failover primitives, node by node", () => {
  it("every node's DRBD instances, as the primary stepping down and as the secondaries taking over", () => {
    const seen = { ok: 0, fail: 0 };
    const fields = (x: Node): number[] => [x.iMem, x.fDsk, x.fSpindles];
    for (let seed = 620; seed < 660; seed++) {
      const o = { ...shape(seed), forthcoming: 0.1 };
      // (filled until failovers fail: a bigger copy of every instance)
      const cd = cluster(o);
      for (const { nodes, il } of [{ nodes: cd.nodes, il: cd.instances }, ...[...loaded(seed)].slice(-1)]) {
        for (const n of nodes) {
          const drbd = n.pList.map((i) => il[i]!).filter(hasSecondary);
          const big = drbd.map((i) => ({ ...i, mem: i.mem * 4, dsk: i.dsk * 3 }));
          for (const insts of [drbd, big]) {
            if (insts.length === 0) continue;
            const halves: Array<[Node, Instance[], boolean]> = [[n, insts, false]];
            for (const s of new Set(insts.map((i) => i.sNode))) halves.push([nodes[s]!, insts.filter((i) => i.sNode === s), true]);
            for (const [t, mine, takesOver] of halves) {
              let cur: Node | null = t;
              for (const i of mine) {
                const r: OpResult<Node> = takesOver
                  ? addPriEx(true, removeSec(cur, i), i)
                  : addSecExEx(cur.offline, true, removePri(cur, i), i, i.sNode);
                cur = isFail(r) ? null : r;
                if (cur === null) break;
              }
              const st = fields(t);
              expect(failoverFits(t, mine, takesOver, st)).toBe(cur !== null);
              if (cur !== null) expect(st).toEqual(fields(cur));
              seen[cur !== null ? "ok" : "fail"]++;
            }
          }
        }
      }
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.fail).toBeGreaterThan(20);
  });
});

describe("evacuation checks per node = reference engine", () => {
  it("racked clusters loaded until re-placing fails, and each node of them filled further", () => {
    const seen = { yes: 0, no: 0 };
    for (let seed = 700; seed < 720; seed++) {
      // one run for all the states of a cluster: tracks, target hints and kept answers carry over
      const run = new CapacityRun();
      let step = 0;
      for (const { nodes, il } of loaded(seed)) {
        const members = fullNL(nodes).members;
        const check = (ns: Node[], is: Instance[]): void => {
          const fast = evacuableNodes(ns, is, members, { run });
          const ref = evacuableNodes(ns, is, members, { engine: "reference" });
          expect(fast).toEqual(ref);
          for (const ok of ref) seen[ok ? "yes" : "no"]++;
        };
        check(nodes, il);
        if (step++ % 2 === 1) continue;
        // states that differ in one node (as a checked candidate's): a
        // target that took a failed node's instances may no longer
        for (const t of members) {
          const big = testInstance("big", 16384, 204800, "plain", il.length);
          const np = addPriEx(true, nodes[t]!, big);
          if (isFail(np)) continue;
          const r = applyAlloc(nodes, il, { changed: [np], inst: { ...big, pNode: t }, nodes: [np], metric: 0 });
          check(r.nodes, r.il);
        }
      }
    }
    expect(seen.yes).toBeGreaterThan(50);
    expect(seen.no).toBeGreaterThan(50);
  });
});

describe("whole checks with answers kept across states = reference engine", () => {
  it("every pair candidate of the loaded states", () => {
    const outcomes = { yes: 0, no: 0 };
    for (let seed = 700; seed < 706; seed++) {
      const run = new CapacityRun();
      let step = 0;
      for (const { nodes, il } of loaded(seed)) {
        if (step++ % 3 !== 2) continue;
        const nl = fullNL(nodes);
        const memo = new CapacityMemo(nodes, nl.members, run);
        // (large: a candidate's primary often stops taking a failed node's instances)
        const drbd = testInstance("d", [8192, 16384, 32768][step % 3]!, 409600, "drbd", -1);
        for (const e of pairCandidates(nodes, drbd, { sameGroup: true })) {
          const r = applyAlloc(nodes, il, e);
          const state = { nodes: r.nodes, members: nl.members };
          const fast = redundant({}, state, r.il, memo);
          expect(fast).toBe(redundant({ engine: "reference" }, state, r.il));
          outcomes[fast ? "yes" : "no"]++;
        }
      }
    }
    expect(outcomes.yes).toBeGreaterThan(20);
    expect(outcomes.no).toBeGreaterThan(20);
  });
});

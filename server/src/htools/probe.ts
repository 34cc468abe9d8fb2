// Allocation-free probes: "what would node t look like after addPriEx /
// addSecExEx of this instance?", answered as the node's 20 score-component
// values (metrics.ts nodeValues order) without building the new Node.
//
// The candidate loops of hbal and hail call these millions of times; the
// Node-building primitives in node.ts copy lists and maps and dominate the
// run time.  A probe runs its primitive's own checks and arithmetic
// (node.ts planAddPri / planAddSec), so the same FailMode comes out, and
// writes the values the built node would have, with the same operations (so
// they are bit-identical); server/test/htools/balance-probe.test.ts checks
// both against node.ts on random clusters.
//
// Not covered: the location-exclusion map statistic (component 18), and an
// instance's location score where it depends on its new partner node: the
// callers add both as exact integers (location.ts).
import type { FailMode, Instance } from "./types.js";
import { Node, computeNewPDsk, conflictingPrimaries, dsrdLocScore, newPriPlan, newSecPlan, planAddPri, planAddSec } from "./node.js";
import { nodeValues } from "./metrics.js";

/** conflictingPrimaries after adding `tags` to t.pTags (Σcount − #keys). */
function conflictsAfterAdd(t: Node, tags: readonly string[]): number {
  // each added tag already present (or repeated in the list) adds one conflict
  let c = conflictingPrimaries(t);
  for (let j = 0; j < tags.length; j++) {
    const tg = tags[j]!;
    let present = t.pTags.has(tg);
    for (let q = 0; q < j && !present; q++) if (tags[q] === tg) present = true;
    if (present) c++;
  }
  return c;
}

const PRI = newPriPlan();
const SEC = newSecPlan();

/** addPriEx(force, t, inst) as component values; null on success, else the failure. */
export function probeAddPri(force: boolean, t: Node, inst: Instance, out: Float64Array): FailMode | null {
  const p = PRI;
  const fail = planAddPri(force, t, inst, p);
  if (fail) return fail;
  if (inst.forthcoming) nodeValues(t, out);
  else {
    const ipri = t.pList.length + 1;
    const isec = t.sList.length;
    const u = inst.util;
    out[0] = p.newFreeMem / t.tMem;
    out[1] = computeNewPDsk(t, p.newFreeSp, p.newDsk);
    out[2] = p.newFailN1 ? isec + ipri : 0;
    out[3] = t.pRem;
    out[4] = ipri + isec;
    out[5] = ipri;
    out[6] = p.newPcpu / t.tCpuSpeed;
    out[7] = (t.utilLoad[0] + u[0]) / t.utilPool[0];
    out[8] = (t.utilLoad[1] + u[1]) / t.utilPool[1];
    out[9] = (t.utilLoad[2] + u[2]) / t.utilPool[2];
    out[10] = (t.utilLoad[3] + u[3]) / t.utilPool[3];
    out[12] = p.newInstSp / t.hiSpindles;
    out[17] = t.locationScore + inst.locationScore + dsrdLocScore(t, inst);
    out[18] = 0;
    out[19] = t.pRem;
  }
  // the forthcoming-inclusive components (priUpdateForth)
  out[11] = conflictsAfterAdd(t, inst.exclTags);
  out[13] = p.newMemForth / t.tMem;
  out[14] = computeNewPDsk(t, p.newFreeSpForth, p.newDskForth);
  out[15] = p.newPcpuForth / t.tCpuSpeed;
  out[16] = p.newInstSpForth / t.hiSpindles;
  return null;
}

/** probeAddSec's outcome alone (its checks, without the values). */
export function probeAddSecFits(ignoreDisks: boolean, force: boolean, t: Node, inst: Instance, pdx: number): FailMode | null {
  return planAddSec(ignoreDisks, force, t, inst, pdx, SEC);
}

/** addSecExEx(ignoreDisks, force, t, inst, pdx) as component values. */
export function probeAddSec(
  ignoreDisks: boolean,
  force: boolean,
  t: Node,
  inst: Instance,
  pdx: number,
  out: Float64Array,
): FailMode | null {
  const p = SEC;
  const fail = planAddSec(ignoreDisks, force, t, inst, pdx, p);
  if (fail) return fail;
  nodeValues(t, out);
  if (!inst.forthcoming) {
    const ipri = t.pList.length;
    const isec = t.sList.length + 1;
    const pRem = p.newRmem / t.tMem;
    out[1] = computeNewPDsk(t, p.newFreeSp, p.newDsk);
    out[2] = p.newFailN1 ? isec + ipri : 0;
    out[3] = pRem;
    out[4] = ipri + isec;
    out[9] = (t.utilLoad[2] + inst.util[2]) / t.utilPool[2];
    out[12] = p.newInstSp / t.hiSpindles;
    out[19] = pRem;
  }
  // the forthcoming-inclusive components (secUpdateForth)
  out[14] = computeNewPDsk(t, p.newFreeSpForth, p.newDskForth);
  out[16] = p.newInstSpForth / t.hiSpindles;
  return null;
}

// Allocation-free probes: "what would node t look like after addPriEx /
// addSecExEx of this instance?", answered as the node's 20 score-component
// values (metrics.ts nodeValues order) without building the new Node.
//
// The candidate loops of hbal and hail call these millions of times; the
// Node-building primitives in node.ts copy lists and maps and dominate the
// run time.  Each probe repeats its primitive's checks in the same order (so
// the same FailMode comes out) and its arithmetic operation for operation
// (so the values are bit-identical); server/test/htools/balance-probe.test.ts
// checks both against node.ts on random clusters.
//
// Not covered: the location-exclusion map statistic (component 18), which the
// callers only use the probes for when no node carries location tags.
import type { FailMode, Instance } from "./types.js";
import { Node, computeNewPDsk, conflictingPrimaries, dsrdLocScore, newFreeSpindles, priForthViolation, rejectAddTags, secForthViolation, spindleUse, unallocWithImem, unallocatedMem } from "./node.js";
import { hasSecondary, notOffline, usesLocalStorage, usesMemory, usesSecMem } from "./instance.js";
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

/** addPriEx(force, t, inst) as component values; null on success, else the failure. */
export function probeAddPri(force: boolean, t: Node, inst: Instance, out: Float64Array): FailMode | null {
  const strict = !force;
  const usesDisk = usesLocalStorage(inst);
  const online = notOffline(inst);
  const lCpu = t.iPolicy.vcpuRatio;
  const newMemForth = t.fMemForth - inst.mem;
  const newDskForth = usesDisk ? t.fDskForth - inst.dsk : t.fDskForth;
  const newFreeSpForth = newFreeSpindles(true, t, inst, t.fSpindlesForth);
  const newInstSpForth = spindleUse(true, t, inst, t.instSpindlesForth);
  const newUcpuForth = online ? t.uCpuForth + inst.vcpus : t.uCpuForth;
  const newPcpuForth = newUcpuForth / t.tCpu;
  // (no closures here: tsx/esbuild's keepNames would wrap each one per call)
  if (inst.forthcoming) {
    if (strict) {
      const v = priForthViolation(t, usesDisk, lCpu, newMemForth, newDskForth, newFreeSpForth, newInstSpForth, newPcpuForth);
      if (v) return v;
    }
    nodeValues(t, out);
    priWriteForth(t, inst, out, newMemForth, newDskForth, newFreeSpForth, newInstSpForth, newPcpuForth);
    return null;
  }
  const newIMem = usesMemory(inst) ? t.iMem + inst.mem : t.iMem;
  const newFreeMem = unallocWithImem(t, newIMem);
  const newFailN1 = newFreeMem <= t.rMem;
  const newDsk = usesDisk ? t.fDsk - inst.dsk : t.fDsk;
  const newFreeSp = newFreeSpindles(true, t, inst, t.fSpindles);
  const newInstSp = spindleUse(true, t, inst, t.instSpindles);
  const newUcpu = online ? t.uCpu + inst.vcpus : t.uCpu;
  const newPcpu = newUcpu / t.tCpu;
  if (newFreeMem <= 0) return "FailMem";
  if (usesDisk && newDsk <= 0) return "FailDisk";
  if (strict && usesDisk && newDsk < t.loDsk) return "FailDisk";
  if (usesDisk && t.exclStorage && newFreeSp < 0) return "FailSpindles";
  if (strict && usesDisk && newInstSp > t.hiSpindles) return "FailDisk";
  if (strict && newFailN1 && !t.failN1) return "FailMem";
  if (strict && lCpu >= 0 && lCpu < newPcpu) return "FailCPU";
  if (strict && rejectAddTags(t.pTags, inst.exclTags)) return "FailTags";
  if (strict) {
    const v = priForthViolation(t, usesDisk, lCpu, newMemForth, newDskForth, newFreeSpForth, newInstSpForth, newPcpuForth);
    if (v) return v;
  }
  const ipri = t.pList.length + 1;
  const isec = t.sList.length;
  const u = inst.util;
  out[0] = newFreeMem / t.tMem;
  out[1] = computeNewPDsk(t, newFreeSp, newDsk);
  out[2] = newFailN1 ? isec + ipri : 0;
  out[3] = t.pRem;
  out[4] = ipri + isec;
  out[5] = ipri;
  out[6] = newPcpu / t.tCpuSpeed;
  out[7] = (t.utilLoad[0] + u[0]) / t.utilPool[0];
  out[8] = (t.utilLoad[1] + u[1]) / t.utilPool[1];
  out[9] = (t.utilLoad[2] + u[2]) / t.utilPool[2];
  out[10] = (t.utilLoad[3] + u[3]) / t.utilPool[3];
  out[12] = newInstSp / t.hiSpindles;
  out[17] = t.locationScore + inst.locationScore + dsrdLocScore(t, inst);
  out[18] = 0;
  out[19] = t.pRem;
  priWriteForth(t, inst, out, newMemForth, newDskForth, newFreeSpForth, newInstSpForth, newPcpuForth);
  return null;
}

function priWriteForth(t: Node, inst: Instance, out: Float64Array, newMemForth: number, newDskForth: number, newFreeSpForth: number, newInstSpForth: number, newPcpuForth: number): void {
  out[11] = conflictsAfterAdd(t, inst.exclTags);
  out[13] = newMemForth / t.tMem;
  out[14] = computeNewPDsk(t, newFreeSpForth, newDskForth);
  out[15] = newPcpuForth / t.tCpuSpeed;
  out[16] = newInstSpForth / t.hiSpindles;
}
/** addSecExEx(ignoreDisks, force, t, inst, pdx) as component values. */
export function probeAddSec(ignoreDisks: boolean, force: boolean, t: Node, inst: Instance, pdx: number, out: Float64Array): FailMode | null {
  const strict = !force;
  const secNeeded = usesSecMem(inst) ? inst.mem : 0;
  const newPeem = (t.peers.get(pdx) ?? 0) + secNeeded;
  const oldMemForth = t.fMemForth;
  const newDskForth = t.fDskForth - inst.dsk;
  const newFreeSpForth = newFreeSpindles(true, t, inst, t.fSpindlesForth);
  const newInstSpForth = spindleUse(true, t, inst, t.instSpindlesForth);
  if (inst.forthcoming) {
    if (strict) {
      const v = secForthViolation(t, inst, newDskForth, newFreeSpForth, newInstSpForth, secNeeded, oldMemForth);
      if (v) return v;
    }
    nodeValues(t, out);
    out[14] = computeNewPDsk(t, newFreeSpForth, newDskForth);
    out[16] = newInstSpForth / t.hiSpindles;
    return null;
  }
  const oldMem = unallocatedMem(t);
  const newDsk = t.fDsk - inst.dsk;
  const newFreeSp = newFreeSpindles(true, t, inst, t.fSpindles);
  const newInstSp = spindleUse(true, t, inst, t.instSpindles);
  const newRmem = Math.max(t.rMem, newPeem);
  const newFailN1 = oldMem <= newRmem;
  if (!hasSecondary(inst)) return "FailDisk";
  if (!ignoreDisks && newDsk <= 0) return "FailDisk";
  if (strict && newDsk < t.loDsk) return "FailDisk";
  if (t.exclStorage && newFreeSp < 0) return "FailSpindles";
  if (strict && newInstSp > t.hiSpindles) return "FailDisk";
  if (strict && secNeeded >= oldMem) return "FailMem";
  if (strict && newFailN1 && !t.failN1) return "FailMem";
  if (strict) {
    const v = secForthViolation(t, inst, newDskForth, newFreeSpForth, newInstSpForth, secNeeded, oldMemForth);
    if (v) return v;
  }
  const ipri = t.pList.length;
  const isec = t.sList.length + 1;
  const pRem = newRmem / t.tMem;
  out[0] = t.pMem;
  out[1] = computeNewPDsk(t, newFreeSp, newDsk);
  out[2] = newFailN1 ? isec + ipri : 0;
  out[3] = pRem;
  out[4] = ipri + isec;
  out[5] = ipri;
  out[6] = t.pCpu / t.tCpuSpeed;
  out[7] = t.utilLoad[0] / t.utilPool[0];
  out[8] = t.utilLoad[1] / t.utilPool[1];
  out[9] = (t.utilLoad[2] + inst.util[2]) / t.utilPool[2];
  out[10] = t.utilLoad[3] / t.utilPool[3];
  out[11] = conflictingPrimaries(t);
  out[12] = newInstSp / t.hiSpindles;
  out[13] = t.pMemForth;
  out[15] = t.pCpuForth / t.tCpuSpeed;
  out[17] = t.locationScore;
  out[18] = 0;
  out[19] = pRem;
  out[14] = computeNewPDsk(t, newFreeSpForth, newDskForth);
  out[16] = newInstSpForth / t.hiSpindles;
  return null;
}


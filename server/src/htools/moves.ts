// Instance moves (docs/htools-internals.md, Moves): apply one move to a node list.
import type { Instance, OpResult } from "./types.js";
import { isFail } from "./types.js";
import { Node, addPriEx, addSecEx, addSecExEx, checkMigration, removePri, removeSec } from "./node.js";

export type IMove =
  | { kind: "Failover" }
  | { kind: "FailoverToAny"; node: number }
  | { kind: "ReplacePrimary"; node: number }
  | { kind: "ReplaceSecondary"; node: number }
  | { kind: "ReplaceAndFailover"; node: number }
  | { kind: "FailoverAndReplace"; node: number };

export interface MoveResult {
  /** changed nodes: pairs of (index, new node) */
  changed: Node[];
  inst: Instance;
  pdx: number;
  sdx: number;
}

function locScore(inst: Instance, p: Node, s: Node | null): Instance {
  let c = 0;
  if (s) for (const t of p.locationTags) if (s.locationTags.has(t)) c++;
  return { ...inst, locationScore: c };
}

/** Ganeti's applyMoveEx. `nl` is indexed by node idx. */
export function applyMove(force: boolean, nl: readonly Node[], inst: Instance, mv: IMove): OpResult<MoveResult> {
  const opdx = inst.pNode;
  const osdx = inst.sNode;
  const oldP = nl[opdx]!;
  switch (mv.kind) {
    case "Failover": {
      const oldS = nl[osdx]!;
      const intP = removePri(oldP, inst);
      const intS = removeSec(oldS, inst);
      const m = checkMigration(oldP, oldS);
      if (isFail(m)) return m;
      const newP = addPriEx(oldP.offline || force, intS, inst);
      if (isFail(newP)) return newP;
      const newS = addSecExEx(oldP.offline, oldP.offline || force, intP, inst, osdx);
      if (isFail(newS)) return newS;
      return { changed: [newS, newP], inst: { ...inst, pNode: osdx, sNode: opdx }, pdx: osdx, sdx: opdx };
    }
    case "FailoverToAny": {
      const npdx = mv.node;
      const newPnode = nl[npdx]!;
      const m = checkMigration(oldP, newPnode);
      if (isFail(m)) return m;
      const np = addPriEx(oldP.offline || force, newPnode, inst);
      if (isFail(np)) return np;
      const op = removePri(oldP, inst);
      return { changed: [op, np], inst: { ...inst, pNode: npdx }, pdx: npdx, sdx: osdx };
    }
    case "ReplacePrimary": {
      const npdx = mv.node;
      const oldS = nl[osdx]!;
      const tgt = nl[npdx]!;
      const intP = removePri(oldP, inst);
      const intS = removeSec(oldS, inst);
      const ninst = { ...locScore(inst, tgt, intS), pNode: npdx };
      const forceP = oldP.offline || force;
      let m = checkMigration(oldP, oldS);
      if (isFail(m)) return m;
      m = checkMigration(oldS, tgt);
      if (isFail(m)) return m;
      const tmpS = addPriEx(forceP, intS, ninst);
      if (isFail(tmpS)) return tmpS;
      const tmpS2 = removePri(tmpS, ninst);
      const newP = addPriEx(forceP, tgt, ninst);
      if (isFail(newP)) return newP;
      const newS = addSecEx(forceP, tmpS2, ninst, npdx);
      if (isFail(newS)) return newS;
      return { changed: [intP, newS, newP], inst: ninst, pdx: npdx, sdx: osdx };
    }
    case "ReplaceSecondary": {
      const nsdx = mv.node;
      const oldS = nl[osdx]!;
      const tgt = nl[nsdx]!;
      const pnode2 = removePri(oldP, inst);
      const intS = removeSec(oldS, inst);
      const forceS = oldS.offline || force;
      const ninst = { ...locScore(inst, oldP, tgt), sNode: nsdx };
      const newS = addSecEx(forceS, tgt, ninst, opdx);
      if (isFail(newS)) return newS;
      const pnode3 = addPriEx(true, pnode2, ninst);
      if (isFail(pnode3)) return pnode3;
      return { changed: [newS, intS, pnode3], inst: ninst, pdx: opdx, sdx: nsdx };
    }
    case "ReplaceAndFailover": {
      const npdx = mv.node;
      const oldS = nl[osdx]!;
      const tgt = nl[npdx]!;
      const intP = removePri(oldP, inst);
      const intS = removeSec(oldS, inst);
      const ninst = { ...locScore(inst, tgt, intP), pNode: npdx, sNode: opdx };
      const forceS = oldS.offline || force;
      const m = checkMigration(oldP, tgt);
      if (isFail(m)) return m;
      const newP = addPriEx(force, tgt, ninst);
      if (isFail(newP)) return newP;
      const newS = addSecEx(forceS, intP, ninst, npdx);
      if (isFail(newS)) return newS;
      return { changed: [newS, intS, newP], inst: ninst, pdx: npdx, sdx: opdx };
    }
    case "FailoverAndReplace": {
      const nsdx = mv.node;
      const oldS = nl[osdx]!;
      const tgt = nl[nsdx]!;
      const intP = removePri(oldP, inst);
      const intS = removeSec(oldS, inst);
      const forceP = oldP.offline || force;
      const ninst = { ...locScore(inst, intS, tgt), pNode: osdx, sNode: nsdx };
      const m = checkMigration(oldP, oldS);
      if (isFail(m)) return m;
      const newP = addPriEx(forceP, intS, ninst);
      if (isFail(newP)) return newP;
      const newS = addSecEx(forceP, tgt, ninst, osdx);
      if (isFail(newS)) return newS;
      return { changed: [newP, intP, newS], inst: ninst, pdx: osdx, sdx: nsdx };
    }
  }
}

export function moveCode(mv: IMove, npri: string, nsec: string): string {
  switch (mv.kind) {
    case "Failover":
      return "f";
    case "FailoverToAny":
      return `fa:${npri}`;
    case "FailoverAndReplace":
      return `f r:${nsec}`;
    case "ReplaceSecondary":
      return `r:${nsec}`;
    case "ReplaceAndFailover":
      return `r:${npri} f`;
    case "ReplacePrimary":
      return `f r:${npri} f`;
  }
}

/** gnt-instance commands for a move (without the `gnt-instance ` prefix). */
export function moveCommands(mv: IMove, inam: string, running: boolean, npri: string, nsec: string): string[] {
  const morf = running ? "migrate" : "failover";
  const mig = `${morf} -f ${inam}`;
  const rep = (n: string): string => `replace-disks -n ${n} ${inam}`;
  switch (mv.kind) {
    case "Failover":
      return [mig];
    case "FailoverToAny":
      return [`${morf} -f -n ${npri} ${inam}`];
    case "FailoverAndReplace":
      return [mig, rep(nsec)];
    case "ReplaceSecondary":
      return [rep(nsec)];
    case "ReplaceAndFailover":
      return [rep(npri), mig];
    case "ReplacePrimary":
      return [mig, rep(npri), mig];
  }
}

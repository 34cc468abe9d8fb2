// Node model and the placement primitives (docs/htools-internals.md, Node model and Placement primitives).
// Nodes are treated as immutable values: every primitive returns a copy, so
// a simulated move never disturbs the state it was evaluated against.
import type { DynUtil, FailMode, Instance, IPolicy, OpResult } from "./types.js";
import { defIPolicy, zeroUtil, baseUtil } from "./types.js";
import { getTotalSpindles, notOffline, usesLocalStorage, usesMemory, usesSecMem, hasSecondary } from "./instance.js";

export class Node {
  name: string;
  alias: string;
  tMem: number;
  nMem: number;
  iMem: number;
  fMem: number;
  fMemForth: number;
  xMem: number;
  tDsk: number;
  fDsk: number;
  fDskForth: number;
  tCpu: number;
  tCpuSpeed: number;
  nCpu: number;
  uCpu: number;
  uCpuForth: number;
  tSpindles: number;
  fSpindles: number;
  fSpindlesForth: number;
  pList: number[];
  sList: number[];
  idx: number;
  peers: Map<number, number>;
  failN1: boolean;
  rMem: number;
  pMem: number;
  pMemForth: number;
  pDsk: number;
  pDskForth: number;
  pRem: number;
  pCpu: number;
  pCpuForth: number;
  mDsk: number;
  loDsk: number;
  hiCpu: number;
  hiSpindles: number;
  instSpindles: number;
  instSpindlesForth: number;
  offline: boolean;
  isMaster: boolean;
  nTags: string[];
  utilPool: DynUtil;
  utilLoad: DynUtil;
  utilLoadForth: DynUtil;
  pTags: Map<string, number>;
  group: number;
  iPolicy: IPolicy;
  exclStorage: boolean;
  migTags: Set<string>;
  rmigTags: Set<string>;
  locationTags: Set<string>;
  locationScore: number;
  instanceMap: Map<string, number>;
  hypervisor: string | null;

  /** A fresh node, or a shallow copy of `s` (explicit field copies keep V8's fast object shape). */
  constructor(s?: Node) {
    this.name = s ? s.name : "";
    this.alias = s ? s.alias : "";
    this.tMem = s ? s.tMem : 0;
    this.nMem = s ? s.nMem : 0;
    this.iMem = s ? s.iMem : 0;
    this.fMem = s ? s.fMem : 0;
    this.fMemForth = s ? s.fMemForth : 0;
    this.xMem = s ? s.xMem : 0;
    this.tDsk = s ? s.tDsk : 0;
    this.fDsk = s ? s.fDsk : 0;
    this.fDskForth = s ? s.fDskForth : 0;
    this.tCpu = s ? s.tCpu : 0;
    this.tCpuSpeed = s ? s.tCpuSpeed : 1;
    this.nCpu = s ? s.nCpu : 0;
    this.uCpu = s ? s.uCpu : 0;
    this.uCpuForth = s ? s.uCpuForth : 0;
    this.tSpindles = s ? s.tSpindles : 0;
    this.fSpindles = s ? s.fSpindles : 0;
    this.fSpindlesForth = s ? s.fSpindlesForth : 0;
    this.pList = s ? s.pList : [];
    this.sList = s ? s.sList : [];
    this.idx = s ? s.idx : -1;
    this.peers = s ? s.peers : new Map();
    this.failN1 = s ? s.failN1 : true;
    this.rMem = s ? s.rMem : 0;
    this.pMem = s ? s.pMem : 0;
    this.pMemForth = s ? s.pMemForth : 0;
    this.pDsk = s ? s.pDsk : 0;
    this.pDskForth = s ? s.pDskForth : 0;
    this.pRem = s ? s.pRem : 0;
    this.pCpu = s ? s.pCpu : 0;
    this.pCpuForth = s ? s.pCpuForth : 0;
    this.mDsk = s ? s.mDsk : 0;
    this.loDsk = s ? s.loDsk : 0;
    this.hiCpu = s ? s.hiCpu : 0;
    this.hiSpindles = s ? s.hiSpindles : 0;
    this.instSpindles = s ? s.instSpindles : 0;
    this.instSpindlesForth = s ? s.instSpindlesForth : 0;
    this.offline = s ? s.offline : false;
    this.isMaster = s ? s.isMaster : false;
    this.nTags = s ? s.nTags : [];
    this.utilPool = s ? s.utilPool : baseUtil();
    this.utilLoad = s ? s.utilLoad : zeroUtil();
    this.utilLoadForth = s ? s.utilLoadForth : zeroUtil();
    this.pTags = s ? s.pTags : new Map();
    this.group = s ? s.group : 0;
    this.iPolicy = s ? s.iPolicy : defIPolicy();
    this.exclStorage = s ? s.exclStorage : false;
    this.migTags = s ? s.migTags : new Set();
    this.rmigTags = s ? s.rmigTags : new Set();
    this.locationTags = s ? s.locationTags : new Set();
    this.locationScore = s ? s.locationScore : 0;
    this.instanceMap = s ? s.instanceMap : new Map();
    this.hypervisor = s ? s.hypervisor : null;
  }

  clone(): Node {
    return new Node(this);
  }
}

export const pCpuEff = (n: Node): number => n.pCpu / n.tCpuSpeed;
export const pCpuEffForth = (n: Node): number => n.pCpuForth / n.tCpuSpeed;

function computePDsk(free: number, total: number): number {
  return total === 0 ? 1 : free / total;
}
export function computeNewPDsk(n: Node, newFreeSp: number, newFreeDsk: number): number {
  return n.exclStorage ? computePDsk(newFreeSp, n.tSpindles) : computePDsk(newFreeDsk, n.tDsk);
}

export function createNode(p: {
  name: string;
  tMem: number;
  nMem: number;
  fMem: number;
  tDsk: number;
  fDsk: number;
  tCpu: number;
  nCpu: number;
  offline: boolean;
  tSpindles: number;
  fSpindles: number;
  group: number;
  exclStorage: boolean;
}): Node {
  const n = new Node();
  n.name = n.alias = p.name;
  n.tMem = p.tMem;
  n.nMem = p.nMem;
  n.fMem = n.fMemForth = p.fMem;
  n.tDsk = p.tDsk;
  n.fDsk = n.fDskForth = p.fDsk;
  n.tCpu = p.tCpu;
  n.nCpu = n.uCpu = n.uCpuForth = p.nCpu;
  n.tSpindles = p.tSpindles;
  n.fSpindles = n.fSpindlesForth = p.fSpindles;
  n.pMemForth = p.fMem / p.tMem;
  n.pDsk = n.pDskForth = p.exclStorage ? computePDsk(p.fSpindles, p.tSpindles) : computePDsk(p.fDsk, p.tDsk);
  n.pCpu = n.pCpuForth = p.nCpu / p.tCpu;
  n.offline = p.offline;
  n.mDsk = 0;
  n.loDsk = Math.floor(0 * p.tDsk);
  const pol = defIPolicy();
  n.hiCpu = Math.floor(pol.vcpuRatio * p.tCpu);
  n.hiSpindles = pol.spindleRatio * p.tSpindles;
  n.group = p.group;
  n.exclStorage = p.exclStorage;
  return n;
}

export function setPolicy(n: Node, pol: IPolicy): void {
  n.iPolicy = pol;
  n.hiCpu = Math.floor(pol.vcpuRatio * n.tCpu);
  n.hiSpindles = pol.spindleRatio * n.tSpindles;
}
export function setMdsk(n: Node, v: number): void {
  n.mDsk = v;
  n.loDsk = Math.floor(v * n.tDsk);
}
export function setMcpu(n: Node, v: number): void {
  n.iPolicy = { ...n.iPolicy, vcpuRatio: v };
  n.hiCpu = Math.floor(v * n.tCpu);
}

// ---- memory accounting -------------------------------------------------
const recordedFreeMem = (n: Node): number => Math.trunc(n.tMem) - n.nMem - n.iMem;
export const missingMem = (n: Node): number => recordedFreeMem(n) - n.fMem;
export const unallocatedMem = (n: Node): number => recordedFreeMem(n) - Math.max(0, n.xMem);
export const availMem = (n: Node): number => Math.max(0, unallocatedMem(n) - n.rMem);
export function availDisk(n: Node): number {
  return n.fDsk < n.loDsk ? 0 : n.fDsk - n.loDsk;
}
export function availCpu(n: Node): number {
  return n.hiCpu >= n.uCpu ? n.hiCpu - n.uCpu : 0;
}
export const iDsk = (n: Node): number => Math.trunc(n.tDsk) - n.fDsk;
export const conflictingPrimaries = (n: Node): number => {
  let s = 0;
  for (const v of n.pTags.values()) s += v;
  return s - n.pTags.size;
};

function unallocWithImem(n: Node, iMem: number): number {
  return Math.trunc(n.tMem) - n.nMem - iMem - Math.max(0, n.xMem);
}

// ---- tag multisets -------------------------------------------------------
function addTags(m: Map<string, number>, tags: readonly string[]): Map<string, number> {
  if (tags.length === 0) return m;
  const r = new Map(m);
  for (const t of tags) r.set(t, (r.get(t) ?? 0) + 1);
  return r;
}
function delTags(m: Map<string, number>, tags: readonly string[]): Map<string, number> {
  if (tags.length === 0) return m;
  const r = new Map(m);
  for (const t of tags) {
    const v = r.get(t);
    if (v === undefined) continue;
    if (v > 1) r.set(t, v - 1);
    else r.delete(t);
  }
  return r;
}
function rejectAddTags(m: Map<string, number>, tags: readonly string[]): boolean {
  for (const t of tags) if (m.has(t)) return true;
  return false;
}

export function locExclPairs(n: Node, inst: Instance): string[] {
  if (n.locationTags.size === 0 || inst.exclTags.length === 0) return [];
  const r: string[] = [];
  for (const loc of n.locationTags) for (const ex of inst.exclTags) r.push(loc + "\u0000" + ex);
  return r;
}

export function dsrdLocScore(n: Node, inst: Instance): number {
  if (inst.dsrdLocTags.size === 0) return 0;
  let common = 0;
  for (const t of inst.dsrdLocTags) if (n.locationTags.has(t)) common++;
  return inst.dsrdLocTags.size - common;
}

function spindleUse(add: boolean, n: Node, inst: Instance, base: number): number {
  if (n.exclStorage) return 0;
  if (!usesLocalStorage(inst)) return base;
  return add ? base + inst.spindleUse : base - inst.spindleUse;
}
function newFreeSpindles(add: boolean, n: Node, inst: Instance, base: number): number {
  if (!n.exclStorage) return 0;
  const s = getTotalSpindles(inst);
  if (s === null) return add ? -1 : base;
  return add ? base - s : base + s;
}
const addU = (a: DynUtil, b: DynUtil): DynUtil => [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
const subU = (a: DynUtil, b: DynUtil): DynUtil => [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]];

function without(list: number[], x: number): number[] {
  const i = list.indexOf(x);
  if (i < 0) return list;
  const r = list.slice();
  r.splice(i, 1);
  return r;
}

// ---- load-time setters (mutating, used only while building a snapshot) ----
export function setPri(t: Node, inst: Instance): void {
  const online = notOffline(inst);
  if (!inst.forthcoming) {
    t.pList = [inst.idx, ...t.pList];
    t.uCpu = online ? t.uCpu + inst.vcpus : t.uCpu;
    t.pCpu = t.uCpu / t.tCpu;
    t.utilLoad = addU(t.utilLoad, inst.util);
    t.instSpindles = spindleUse(true, t, inst, t.instSpindles);
    t.locationScore = t.locationScore + inst.locationScore + dsrdLocScore(t, inst);
    t.instanceMap = addTags(t.instanceMap, locExclPairs(t, inst));
  }
  // forthcoming-inclusive fields
  t.pTags = addTags(t.pTags, inst.exclTags);
  t.uCpuForth = online ? t.uCpuForth + inst.vcpus : t.uCpuForth;
  t.pCpuForth = t.uCpuForth / t.tCpu;
  t.utilLoadForth = addU(t.utilLoadForth, inst.util);
  t.fMemForth = !usesMemory(inst) ? t.fMemForth - inst.mem : t.fMemForth;
  t.pMemForth = t.fMemForth / t.tMem;
  t.instSpindlesForth = spindleUse(true, t, inst, t.instSpindlesForth);
  if (inst.forthcoming) {
    t.fDskForth = usesLocalStorage(inst) ? t.fDskForth - inst.dsk : t.fDskForth;
    t.fSpindlesForth = newFreeSpindles(true, t, inst, t.fSpindlesForth);
    t.pDskForth = computeNewPDsk(t, t.fSpindlesForth, t.fDskForth);
  }
}

export function setSec(t: Node, inst: Instance): void {
  if (!inst.forthcoming) {
    t.sList = [inst.idx, ...t.sList];
    t.utilLoad = [t.utilLoad[0], t.utilLoad[1], t.utilLoad[2] + inst.util[2], t.utilLoad[3]];
    t.instSpindles = spindleUse(true, t, inst, t.instSpindles);
  }
  t.utilLoadForth = [t.utilLoadForth[0], t.utilLoadForth[1], t.utilLoadForth[2] + inst.util[2], t.utilLoadForth[3]];
  t.instSpindlesForth = spindleUse(true, t, inst, t.instSpindlesForth);
  if (inst.forthcoming) {
    t.fDskForth = usesLocalStorage(inst) ? t.fDskForth - inst.dsk : t.fDskForth;
    t.fSpindlesForth = newFreeSpindles(true, t, inst, t.fSpindlesForth);
    t.pDskForth = computeNewPDsk(t, t.fSpindlesForth, t.fDskForth);
  }
}

export function buildPeers(t: Node, il: Instance[]): void {
  const pm = new Map<number, number>();
  // (an indexed loop: loading runs this over every secondary, unoptimised)
  const sl = t.sList;
  for (let k = 0; k < sl.length; k++) {
    const inst = il[sl[k]!]!;
    const mem = usesSecMem(inst) && !inst.forthcoming ? inst.mem : 0;
    pm.set(inst.pNode, (pm.get(inst.pNode) ?? 0) + mem);
  }
  t.peers = pm;
  t.rMem = maxElem(pm);
  t.pRem = t.rMem / t.tMem;
  // Ganeti 3.0.2 initialises the N+1 flag from the reported free memory.
  t.failN1 = t.fMem < t.rMem;
}

function maxElem(pm: Map<number, number>): number {
  let m = 0;
  for (const v of pm.values()) if (v > m) m = v;
  return m;
}
export function peersSum(pm: Map<number, number>): number {
  let s = 0;
  for (const v of pm.values()) s += v;
  return s;
}

// ---- simulation primitives -------------------------------------------------
export function removePri(t: Node, inst: Instance): Node {
  const n = t.clone();
  const usesDisk = usesLocalStorage(inst);
  const online = notOffline(inst);
  if (!inst.forthcoming) {
    n.pList = without(t.pList, inst.idx);
    n.iMem = usesMemory(inst) ? t.iMem - inst.mem : t.iMem;
    const newFree = unallocWithImem(t, n.iMem);
    n.pMem = newFree / t.tMem;
    n.failN1 = newFree <= t.rMem;
    n.fDsk = usesDisk ? t.fDsk + inst.dsk : t.fDsk;
    n.fSpindles = newFreeSpindles(false, t, inst, t.fSpindles);
    n.instSpindles = spindleUse(false, t, inst, t.instSpindles);
    n.pDsk = computeNewPDsk(t, n.fSpindles, n.fDsk);
    n.uCpu = online ? t.uCpu - inst.vcpus : t.uCpu;
    n.pCpu = n.uCpu / t.tCpu;
    n.utilLoad = subU(t.utilLoad, inst.util);
    n.locationScore = t.locationScore - inst.locationScore - dsrdLocScore(t, inst);
    n.instanceMap = delTags(t.instanceMap, locExclPairs(t, inst));
  }
  n.pTags = delTags(t.pTags, inst.exclTags);
  n.fMemForth = t.fMemForth + inst.mem;
  n.fDskForth = usesDisk ? t.fDskForth + inst.dsk : t.fDskForth;
  n.fSpindlesForth = newFreeSpindles(false, t, inst, t.fSpindlesForth);
  n.instSpindlesForth = spindleUse(false, t, inst, t.instSpindlesForth);
  n.pMemForth = n.fMemForth / t.tMem;
  n.pDskForth = computeNewPDsk(t, n.fSpindlesForth, n.fDskForth);
  n.uCpuForth = online ? t.uCpuForth - inst.vcpus : t.uCpuForth;
  n.pCpuForth = n.uCpuForth / t.tCpu;
  n.utilLoadForth = subU(t.utilLoadForth, inst.util);
  return n;
}

export function removeSec(t: Node, inst: Instance): Node {
  const n = t.clone();
  const usesDisk = usesLocalStorage(inst);
  if (!inst.forthcoming) {
    n.sList = without(t.sList, inst.idx);
    n.fDsk = usesDisk ? t.fDsk + inst.dsk : t.fDsk;
    n.fSpindles = newFreeSpindles(false, t, inst, t.fSpindles);
    n.instSpindles = spindleUse(false, t, inst, t.instSpindles);
    const pnode = inst.pNode;
    const oldPeem = t.peers.get(pnode) ?? 0;
    const newPeem = usesSecMem(inst) ? oldPeem - inst.mem : oldPeem;
    const np = new Map(t.peers);
    if (newPeem > 0) np.set(pnode, newPeem);
    else np.delete(pnode);
    n.peers = np;
    n.rMem = oldPeem < t.rMem ? t.rMem : maxElem(np);
    n.pRem = n.rMem / t.tMem;
    n.failN1 = unallocatedMem(t) <= n.rMem;
    n.pDsk = computeNewPDsk(t, n.fSpindles, n.fDsk);
    n.utilLoad = [t.utilLoad[0], t.utilLoad[1], t.utilLoad[2] - inst.util[2], t.utilLoad[3]];
  }
  n.fDskForth = usesDisk ? t.fDskForth + inst.dsk : t.fDskForth;
  n.fSpindlesForth = newFreeSpindles(false, t, inst, t.fSpindlesForth);
  n.instSpindlesForth = spindleUse(false, t, inst, t.instSpindlesForth);
  n.pDskForth = computeNewPDsk(t, n.fSpindlesForth, n.fDskForth);
  n.utilLoadForth = [t.utilLoadForth[0], t.utilLoadForth[1], t.utilLoadForth[2] - inst.util[2], t.utilLoadForth[3]];
  return n;
}

export function addPri(t: Node, inst: Instance): OpResult<Node> {
  return addPriEx(false, t, inst);
}

function priForthViolation(
  t: Node,
  usesDisk: boolean,
  lCpu: number,
  newMemForth: number,
  newDskForth: number,
  newFreeSpForth: number,
  newInstSpForth: number,
  newPcpuForth: number,
): FailMode | null {
  if (newMemForth <= 0) return "FailMem";
  if (usesDisk && newDskForth <= 0) return "FailDisk";
  if (usesDisk && newDskForth < t.loDsk) return "FailDisk";
  if (usesDisk && t.exclStorage && newFreeSpForth < 0) return "FailSpindles";
  if (usesDisk && newInstSpForth > t.hiSpindles) return "FailDisk";
  if (lCpu >= 0 && lCpu < newPcpuForth) return "FailCPU";
  return null;
}
function priUpdateForth(
  n: Node,
  t: Node,
  inst: Instance,
  newMemForth: number,
  newDskForth: number,
  newFreeSpForth: number,
  newInstSpForth: number,
  newUcpuForth: number,
  newPcpuForth: number,
): Node {
  n.pTags = addTags(t.pTags, inst.exclTags);
  n.fMemForth = newMemForth;
  n.fDskForth = newDskForth;
  n.pMemForth = newMemForth / t.tMem;
  n.pDskForth = computeNewPDsk(t, newFreeSpForth, newDskForth);
  n.uCpuForth = newUcpuForth;
  n.pCpuForth = newPcpuForth;
  n.utilLoadForth = addU(t.utilLoadForth, inst.util);
  n.instSpindlesForth = newInstSpForth;
  n.fSpindlesForth = newFreeSpForth;
  return n;
}

/** What addPriEx computes and checks before it builds the node (probe.ts scores from it). */
interface PriPlan {
  usesDisk: boolean;
  newMemForth: number;
  newDskForth: number;
  newFreeSpForth: number;
  newInstSpForth: number;
  newUcpuForth: number;
  newPcpuForth: number;
  // not set for a forthcoming instance
  newIMem: number;
  newFreeMem: number;
  newFailN1: boolean;
  newDsk: number;
  newFreeSp: number;
  newInstSp: number;
  newUcpu: number;
  newPcpu: number;
}
export const newPriPlan = (): PriPlan => ({
  usesDisk: false,
  newMemForth: 0,
  newDskForth: 0,
  newFreeSpForth: 0,
  newInstSpForth: 0,
  newUcpuForth: 0,
  newPcpuForth: 0,
  newIMem: 0,
  newFreeMem: 0,
  newFailN1: false,
  newDsk: 0,
  newFreeSp: 0,
  newInstSp: 0,
  newUcpu: 0,
  newPcpu: 0,
});

/** addPriEx's arithmetic and checks into `p`: null if the instance fits, else the failure. */
export function planAddPri(force: boolean, t: Node, inst: Instance, p: PriPlan): FailMode | null {
  const strict = !force;
  const usesDisk = usesLocalStorage(inst);
  const online = notOffline(inst);
  const lCpu = t.iPolicy.vcpuRatio;
  p.usesDisk = usesDisk;
  p.newMemForth = t.fMemForth - inst.mem;
  p.newDskForth = usesDisk ? t.fDskForth - inst.dsk : t.fDskForth;
  p.newFreeSpForth = newFreeSpindles(true, t, inst, t.fSpindlesForth);
  p.newInstSpForth = spindleUse(true, t, inst, t.instSpindlesForth);
  p.newUcpuForth = online ? t.uCpuForth + inst.vcpus : t.uCpuForth;
  p.newPcpuForth = p.newUcpuForth / t.tCpu;
  if (inst.forthcoming)
    return strict
      ? priForthViolation(t, usesDisk, lCpu, p.newMemForth, p.newDskForth, p.newFreeSpForth, p.newInstSpForth, p.newPcpuForth)
      : null;
  p.newIMem = usesMemory(inst) ? t.iMem + inst.mem : t.iMem;
  p.newFreeMem = unallocWithImem(t, p.newIMem);
  p.newFailN1 = p.newFreeMem <= t.rMem;
  p.newDsk = usesDisk ? t.fDsk - inst.dsk : t.fDsk;
  p.newFreeSp = newFreeSpindles(true, t, inst, t.fSpindles);
  p.newInstSp = spindleUse(true, t, inst, t.instSpindles);
  p.newUcpu = online ? t.uCpu + inst.vcpus : t.uCpu;
  p.newPcpu = p.newUcpu / t.tCpu;
  if (p.newFreeMem <= 0) return "FailMem";
  if (usesDisk && p.newDsk <= 0) return "FailDisk";
  if (strict && usesDisk && p.newDsk < t.loDsk) return "FailDisk";
  if (usesDisk && t.exclStorage && p.newFreeSp < 0) return "FailSpindles";
  if (strict && usesDisk && p.newInstSp > t.hiSpindles) return "FailDisk";
  if (strict && p.newFailN1 && !t.failN1) return "FailMem";
  if (strict && lCpu >= 0 && lCpu < p.newPcpu) return "FailCPU";
  if (strict && rejectAddTags(t.pTags, inst.exclTags)) return "FailTags";
  return strict
    ? priForthViolation(t, usesDisk, lCpu, p.newMemForth, p.newDskForth, p.newFreeSpForth, p.newInstSpForth, p.newPcpuForth)
    : null;
}

const PRI = newPriPlan();

export function addPriEx(force: boolean, t: Node, inst: Instance): OpResult<Node> {
  const p = PRI;
  const fail = planAddPri(force, t, inst, p);
  if (fail) return fail;
  if (inst.forthcoming)
    return priUpdateForth(
      t.clone(),
      t,
      inst,
      p.newMemForth,
      p.newDskForth,
      p.newFreeSpForth,
      p.newInstSpForth,
      p.newUcpuForth,
      p.newPcpuForth,
    );
  const n = t.clone();
  n.pList = [inst.idx, ...t.pList];
  n.iMem = p.newIMem;
  n.fDsk = p.newDsk;
  n.failN1 = p.newFailN1;
  n.pMem = p.newFreeMem / t.tMem;
  n.pDsk = computeNewPDsk(t, p.newFreeSp, p.newDsk);
  n.uCpu = p.newUcpu;
  n.pCpu = p.newPcpu;
  n.utilLoad = addU(t.utilLoad, inst.util);
  n.instSpindles = p.newInstSp;
  n.fSpindles = p.newFreeSp;
  n.locationScore = t.locationScore + inst.locationScore + dsrdLocScore(t, inst);
  n.instanceMap = addTags(t.instanceMap, locExclPairs(t, inst));
  return priUpdateForth(n, t, inst, p.newMemForth, p.newDskForth, p.newFreeSpForth, p.newInstSpForth, p.newUcpuForth, p.newPcpuForth);
}

/**
 * Whether addPriEx(true, ·, inst) accepts each of `insts` in turn, starting
 * on t and each time on the node the previous call returned, computed without
 * building the nodes.  With force only the hard checks remain (planAddPri's
 * FailMem, FailDisk and, with exclusive storage, FailSpindles), and they read
 * only iMem, fDsk and fSpindles, which an addition changes as forcedAddPri does
 * (a forthcoming instance changes none of them and is always accepted).
 */
export function fitsAllForced(t: Node, insts: readonly Instance[], from?: readonly number[]): boolean {
  // (from: t's iMem, fDsk and fSpindles after failoverFits, in place of t's own)
  const st = from ? [from[0]!, from[1]!, from[2]!] : [t.iMem, t.fDsk, t.fSpindles];
  for (let k = 0; k < insts.length; k++) {
    const inst = insts[k]!;
    if (!inst.forthcoming && !forcedAddPri(t, inst, st)) return false;
  }
  return true;
}

/** planAddPri's hard checks (FailMem, FailDisk, FailSpindles) on st = [iMem, fDsk, fSpindles] of t, updated in place when they pass. */
function forcedAddPri(t: Node, inst: Instance, st: number[]): boolean {
  const usesDisk = usesLocalStorage(inst);
  const newIMem = usesMemory(inst) ? st[0]! + inst.mem : st[0]!;
  const newDsk = usesDisk ? st[1]! - inst.dsk : st[1]!;
  const newFreeSp = newFreeSpindles(true, t, inst, st[2]!);
  if (unallocWithImem(t, newIMem) <= 0) return false;
  if (usesDisk && newDsk <= 0) return false;
  if (usesDisk && t.exclStorage && newFreeSp < 0) return false;
  st[0] = newIMem;
  st[1] = newDsk;
  st[2] = newFreeSp;
  return true;
}

/**
 * One node's half of forced DRBD failovers (moves.ts applyMove "Failover"
 * with force), instance by instance, without building the nodes: as the
 * secondary taking over (removeSec, then addPriEx(true)) or as the primary
 * stepping down (removePri, then addSecExEx(offline, true)).  `st` holds
 * t's iMem, fDsk and fSpindles and is updated in place, by the same
 * operations as those primitives; the forced checks read only these and
 * fields no primitive changes.  False when a check fails (st is then
 * left part-way).
 */
export function failoverFits(t: Node, insts: readonly Instance[], takesOver: boolean, st: number[]): boolean {
  for (let k = 0; k < insts.length; k++) {
    const inst = insts[k]!;
    // (a forthcoming instance changes none of the three, and the forced checks accept it)
    if (inst.forthcoming) continue;
    // removeSec / removePri
    if (!takesOver && usesMemory(inst)) st[0] = st[0]! - inst.mem;
    if (usesLocalStorage(inst)) st[1] = st[1]! + inst.dsk;
    st[2] = newFreeSpindles(false, t, inst, st[2]!);
    if (takesOver) {
      // planAddPri, forced
      if (!forcedAddPri(t, inst, st)) return false;
    } else {
      // planAddSec, forced, disks ignored on an offline node
      const newDsk = st[1]! - inst.dsk;
      const newFreeSp = newFreeSpindles(true, t, inst, st[2]!);
      if (!hasSecondary(inst)) return false;
      if (!t.offline && newDsk <= 0) return false;
      if (t.exclStorage && newFreeSp < 0) return false;
      st[1] = newDsk;
      st[2] = newFreeSp;
    }
  }
  return true;
}

export function addSec(t: Node, inst: Instance, pdx: number): OpResult<Node> {
  return addSecExEx(false, false, t, inst, pdx);
}
export function addSecEx(force: boolean, t: Node, inst: Instance, pdx: number): OpResult<Node> {
  return addSecExEx(false, force, t, inst, pdx);
}

function secForthViolation(
  t: Node,
  inst: Instance,
  newDskForth: number,
  newFreeSpForth: number,
  newInstSpForth: number,
  secNeeded: number,
  oldMemForth: number,
): FailMode | null {
  if (!hasSecondary(inst)) return "FailDisk";
  if (newDskForth <= 0) return "FailDisk";
  if (newDskForth < t.loDsk) return "FailDisk";
  if (t.exclStorage && newFreeSpForth < 0) return "FailSpindles";
  if (newInstSpForth > t.hiSpindles) return "FailDisk";
  if (secNeeded >= oldMemForth) return "FailMem";
  return null;
}
function secUpdateForth(n: Node, t: Node, inst: Instance, newDskForth: number, newFreeSpForth: number, newInstSpForth: number): Node {
  n.fDskForth = newDskForth;
  n.pDskForth = computeNewPDsk(t, newFreeSpForth, newDskForth);
  n.utilLoadForth = [t.utilLoadForth[0], t.utilLoadForth[1], t.utilLoadForth[2] + inst.util[2], t.utilLoadForth[3]];
  n.instSpindlesForth = newInstSpForth;
  n.fSpindlesForth = newFreeSpForth;
  return n;
}

/** What addSecExEx computes and checks before it builds the node (probe.ts scores from it). */
interface SecPlan {
  secNeeded: number;
  newPeem: number;
  newDskForth: number;
  newFreeSpForth: number;
  newInstSpForth: number;
  // not set for a forthcoming instance
  newDsk: number;
  newFreeSp: number;
  newInstSp: number;
  newRmem: number;
  newFailN1: boolean;
}
export const newSecPlan = (): SecPlan => ({
  secNeeded: 0,
  newPeem: 0,
  newDskForth: 0,
  newFreeSpForth: 0,
  newInstSpForth: 0,
  newDsk: 0,
  newFreeSp: 0,
  newInstSp: 0,
  newRmem: 0,
  newFailN1: false,
});

/**
 * addSecExEx's arithmetic and checks into `p`: null if the instance fits, else the failure.
 * The primary `pdx` enters only through the planned reserved memory
 * max(rMem, peers[pdx] + secNeeded): hail's pair search (alloc-probe.ts)
 * relies on this to probe a secondary once for all primaries that would not
 * raise it, so keep it that way (or change alloc-probe with it).
 */
export function planAddSec(ignoreDisks: boolean, force: boolean, t: Node, inst: Instance, pdx: number, p: SecPlan): FailMode | null {
  const strict = !force;
  p.secNeeded = usesSecMem(inst) ? inst.mem : 0;
  p.newPeem = (t.peers.get(pdx) ?? 0) + p.secNeeded;
  const oldMemForth = t.fMemForth;
  p.newDskForth = t.fDskForth - inst.dsk;
  p.newFreeSpForth = newFreeSpindles(true, t, inst, t.fSpindlesForth);
  p.newInstSpForth = spindleUse(true, t, inst, t.instSpindlesForth);
  if (inst.forthcoming)
    return strict ? secForthViolation(t, inst, p.newDskForth, p.newFreeSpForth, p.newInstSpForth, p.secNeeded, oldMemForth) : null;
  const oldMem = unallocatedMem(t);
  p.newDsk = t.fDsk - inst.dsk;
  p.newFreeSp = newFreeSpindles(true, t, inst, t.fSpindles);
  p.newInstSp = spindleUse(true, t, inst, t.instSpindles);
  p.newRmem = Math.max(t.rMem, p.newPeem);
  p.newFailN1 = oldMem <= p.newRmem;
  if (!hasSecondary(inst)) return "FailDisk";
  if (!ignoreDisks && p.newDsk <= 0) return "FailDisk";
  if (strict && p.newDsk < t.loDsk) return "FailDisk";
  if (t.exclStorage && p.newFreeSp < 0) return "FailSpindles";
  if (strict && p.newInstSp > t.hiSpindles) return "FailDisk";
  if (strict && p.secNeeded >= oldMem) return "FailMem";
  if (strict && p.newFailN1 && !t.failN1) return "FailMem";
  return strict ? secForthViolation(t, inst, p.newDskForth, p.newFreeSpForth, p.newInstSpForth, p.secNeeded, oldMemForth) : null;
}

const SEC = newSecPlan();

export function addSecExEx(ignoreDisks: boolean, force: boolean, t: Node, inst: Instance, pdx: number): OpResult<Node> {
  const p = SEC;
  const fail = planAddSec(ignoreDisks, force, t, inst, pdx, p);
  if (fail) return fail;
  if (inst.forthcoming) return secUpdateForth(t.clone(), t, inst, p.newDskForth, p.newFreeSpForth, p.newInstSpForth);
  const n = t.clone();
  n.sList = [inst.idx, ...t.sList];
  n.fDsk = p.newDsk;
  const np = new Map(t.peers);
  np.set(pdx, p.newPeem);
  n.peers = np;
  n.failN1 = p.newFailN1;
  n.rMem = p.newRmem;
  n.pDsk = computeNewPDsk(t, p.newFreeSp, p.newDsk);
  n.pRem = p.newRmem / t.tMem;
  n.utilLoad = [t.utilLoad[0], t.utilLoad[1], t.utilLoad[2] + inst.util[2], t.utilLoad[3]];
  n.instSpindles = p.newInstSp;
  n.fSpindles = p.newFreeSp;
  return secUpdateForth(n, t, inst, p.newDskForth, p.newFreeSpForth, p.newInstSpForth);
}

export function checkMigration(src: Node, tgt: Node): OpResult<true> {
  if (src.migTags.size === 0) return true;
  for (const t of src.migTags) if (!tgt.rmigTags.has(t)) return "FailMig";
  return true;
}

/** Policy health of a node (used for hbal's "policy-violating nodes" note). */
export function getPolicyHealth(n: Node): OpResult<true> {
  if (n.instSpindles > n.hiSpindles) return "FailDisk";
  if (n.pCpu > n.iPolicy.vcpuRatio) return "FailCPU";
  return true;
}

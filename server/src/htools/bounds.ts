// Lower bounds of the cluster score over every possible target node, shared
// by hbal's probe search (balance-probe.ts) and hail's pair search
// (alloc-probe.ts).
//
// For a std-dev component over n nodes, with the target-independent part of
// a move applied (mean M, variance V0, in a fixed shift), the variance after
// the target's value moves by δ is V0 + 2δ(x − M)/n + δ²(n − 1)/n².  When the
// target gains an instance with resource r, δ = e + r·u exactly (up to
// rounding; for reserved memory on a secondary, δ lies in [e, e + r·u]), with
// e and u per node (coef).  Each term is bounded below by its minimum over the
// targets (RoleAgg), so the bound is never above any target's variance.
import type { Instance } from "./types.js";
import type { Node } from "./node.js";
import { notOffline, usesLocalStorage, usesMemory, usesSecMem } from "./instance.js";
import { KIND, NCOMP, ONLINE } from "./metrics.js";

export const STD = [...Array(NCOMP).keys()].filter((k) => KIND[k] === 0 && ONLINE[k]);

function dskBase(t: Node, free: number): number {
  return t.tDsk === 0 ? 1 : free / t.tDsk;
}

/**
 * Component k of node t after it gains an instance with resource r, as the
 * primary (pri) or the secondary, is ybase + r·u: writes [ybase, u] into out;
 * false when the component does not change in that role.
 */
function coef(t: Node, k: number, pri: boolean, out: Float64Array): boolean {
  let b: number;
  let u: number;
  switch (k) {
    // both roles
    case 1:
    case 14:
      b = dskBase(t, k === 1 ? t.fDsk : t.fDskForth);
      u = t.tDsk === 0 ? 0 : -1 / t.tDsk;
      break;
    case 9:
      b = t.utilLoad[2] / t.utilPool[2];
      u = 1 / t.utilPool[2];
      break;
    case 12:
    case 16:
      b = (k === 12 ? t.instSpindles : t.instSpindlesForth) / t.hiSpindles;
      u = 1 / t.hiSpindles;
      break;
    // primary only
    case 0:
    case 13:
      if (!pri) return false;
      b = (k === 0 ? Math.trunc(t.tMem) - t.nMem - t.iMem - Math.max(0, t.xMem) : t.fMemForth) / t.tMem;
      u = -1 / t.tMem;
      break;
    case 6:
    case 15:
      if (!pri) return false;
      b = (k === 6 ? t.uCpu : t.uCpuForth) / t.tCpu / t.tCpuSpeed;
      u = 1 / (t.tCpu * t.tCpuSpeed);
      break;
    case 7:
    case 8:
    case 10:
      if (!pri) return false;
      b = t.utilLoad[k - 7]! / t.utilPool[k - 7]!;
      u = 1 / t.utilPool[k - 7]!;
      break;
    // secondary only (an interval, see isInterval)
    case 3:
      if (pri) return false;
      b = t.rMem / t.tMem;
      u = 1 / t.tMem;
      break;
    default:
      return false;
  }
  out[0] = b;
  out[1] = u;
  return true;
}

/** The components coef can change in a role, as positions in STD. */
const PRI_CHANGES = [0, 1, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16];
const SEC_CHANGES = [1, 3, 9, 12, 14, 16];
export function roleComponents(pri: boolean): number[] {
  const ks = pri ? PRI_CHANGES : SEC_CHANGES;
  const qs: number[] = [];
  for (let q = 0; q < STD.length; q++) if (ks.includes(STD[q]!)) qs.push(q);
  return qs;
}

/** Reserved memory on a secondary moves within [e, e + r·u], not by exactly r·u. */
const isInterval = (k: number, pri: boolean): boolean => !pri && k === 3;

/** The instance's resource behind each component in the given role (see coef). */
export function resources(inst: Instance, pri: boolean, r: Float64Array): Float64Array {
  r.fill(0);
  const disk = usesLocalStorage(inst);
  r[12] = r[16] = disk ? inst.spindleUse : 0;
  r[9] = inst.util[2]!;
  if (pri) {
    r[0] = usesMemory(inst) ? inst.mem : 0;
    r[1] = r[14] = disk ? inst.dsk : 0;
    r[6] = r[15] = notOffline(inst) ? inst.vcpus : 0;
    for (let k = 7; k <= 10; k++) r[k] = inst.util[k - 7]!;
    r[13] = inst.mem;
  } else {
    r[1] = r[14] = inst.dsk;
    r[3] = usesSecMem(inst) ? inst.mem : 0;
  }
  return r;
}

/** Per node and std component: the terms whose minima RoleAgg keeps. */
export const TERMS = 5; // pe, pb, e, u, u²

/**
 * The terms of node t for component k (x: its shifted value, c: the shift),
 * written at out[o..o+TERMS); returns the mode (0: unchanged, 1: exact, 2: interval).
 */
export function nodeTerms(
  t: Node,
  k: number,
  pri: boolean,
  n: number,
  c: number,
  x: number,
  cu: Float64Array,
  out: Float64Array,
  o: number,
): number {
  if (!coef(t, k, pri, cu)) return 0;
  const e = cu[0]! - c - x;
  const u = cu[1]!;
  const interval = isInterval(k, pri);
  out[o] = interval ? (2 * e * x) / n : (2 * e * x) / n + (e * e * (n - 1)) / (n * n);
  out[o + 1] = interval ? (2 * u * x) / n : (2 * u * x) / n + (2 * e * u * (n - 1)) / (n * n);
  out[o + 2] = e;
  out[o + 3] = u;
  out[o + 4] = u * u;
  return interval ? 2 : 1;
}

/** Per std component, the minima of the terms over the target nodes. */
export class RoleAgg {
  readonly mode = new Int8Array(NCOMP); // 0 unchanged, 1 exact, 2 interval, 3 unbounded
  readonly p1 = new Float64Array(NCOMP);
  readonly emin = new Float64Array(NCOMP);
  readonly emax = new Float64Array(NCOMP);
  readonly b0 = new Float64Array(NCOMP);
  readonly umin = new Float64Array(NCOMP);
  readonly umax = new Float64Array(NCOMP);
  readonly g = new Float64Array(NCOMP);

  reset(k: number): void {
    this.mode[k] = 0;
    this.p1[k] = this.emin[k] = this.b0[k] = this.umin[k] = this.g[k] = Infinity;
    this.emax[k] = this.umax[k] = -Infinity;
  }

  /** Fold in one node's terms (T[o..o+TERMS)) of mode md. */
  add(k: number, md: number, T: Float64Array, o: number): void {
    if (md === 0) return;
    this.mode[k] = md;
    const pe = T[o]!,
      pb = T[o + 1]!,
      e = T[o + 2]!,
      u = T[o + 3]!,
      u2 = T[o + 4]!;
    if (pe < this.p1[k]!) this.p1[k] = pe;
    if (e < this.emin[k]!) this.emin[k] = e;
    if (e > this.emax[k]!) this.emax[k] = e;
    if (pb < this.b0[k]!) this.b0[k] = pb;
    if (u < this.umin[k]!) this.umin[k] = u;
    if (u > this.umax[k]!) this.umax[k] = u;
    if (u2 < this.g[k]!) this.g[k] = u2;
  }

  /** After all nodes: scale the quadratic term, and give up on non-finite data. */
  close(k: number, n: number): void {
    // (no array or closure here: hspace calls this for every component of every context it builds)
    const finite =
      Number.isFinite(this.p1[k]!) &&
      Number.isFinite(this.emin[k]!) &&
      Number.isFinite(this.emax[k]!) &&
      Number.isFinite(this.b0[k]!) &&
      Number.isFinite(this.umin[k]!) &&
      Number.isFinite(this.umax[k]!) &&
      Number.isFinite(this.g[k]!);
    if (this.mode[k] !== 0 && !finite) this.mode[k] = 3;
    this.g[k] = (this.g[k]! * (n - 1)) / (n * n);
  }

  /**
   * Lower bound of component k's variance after the target's change, given
   * the variance v and shifted mean m with the fixed part applied and the
   * instance's resource rk; -Infinity when nothing can be said.
   */
  variance(k: number, n: number, m: number, v: number, rk: number): number {
    const md = this.mode[k]!;
    if (md === 0) return v;
    if (md === 3 || !(rk >= 0)) return -Infinity;
    const p2 = m >= 0 ? (-2 * m * this.emax[k]!) / n : (-2 * m * this.emin[k]!) / n;
    const bu = m >= 0 ? (-2 * m * this.umax[k]!) / n : (-2 * m * this.umin[k]!) / n;
    if (md === 1) return v + this.p1[k]! + p2 + rk * (this.b0[k]! + bu) + rk * rk * this.g[k]!;
    const lin = rk * (this.b0[k]! + bu);
    return v + this.p1[k]! + p2 + (lin < 0 ? lin : 0);
  }
}

/** Final margin: far above the rounding of the evaluators the bound is compared with. */
export const boundMargin = (r: number): number => r - 1e-6 - 1e-9 * Math.abs(r);

/**
 * RoleAgg in the packed form the bound loops read: per std component q (in
 * STD order) AGG_W doubles [interval?, p1, −2·emax/n, −2·emin/n, b0,
 * −2·umax/n, −2·umin/n, g].  An unchanged component packs as zeros (the
 * variance stays as it is).  False when a component has no bound (mode 3).
 */
export const AGG_W = 8;
export function packAgg(a: RoleAgg, cnt: Float64Array, out: Float64Array, o: number): boolean {
  for (let q = 0; q < STD.length; q++) {
    const k = STD[q]!;
    const c = o + q * AGG_W;
    const md = a.mode[k]!;
    if (md === 3) return false;
    if (md === 0) {
      out.fill(0, c, c + AGG_W);
      continue;
    }
    const n = cnt[k]!;
    out[c] = md === 2 ? 1 : 0;
    out[c + 1] = a.p1[k]!;
    out[c + 2] = (-2 * a.emax[k]!) / n;
    out[c + 3] = (-2 * a.emin[k]!) / n;
    out[c + 4] = a.b0[k]!;
    out[c + 5] = (-2 * a.umax[k]!) / n;
    out[c + 6] = (-2 * a.umin[k]!) / n;
    out[c + 7] = md === 2 ? 0 : a.g[k]!;
  }
  return true;
}

/**
 * Packed aggregates (packAgg) of the union of node sets from those of the
 * sets: src[first + j·stride ..] for j < count, into out[o..].  Each field is
 * a minimum or maximum of one per-node term, or a monotone function of one
 * (−2·emax/n falls as emax grows, g grows with min u²), so the union's field
 * is the minimum or maximum of the parts' fields, the same value packAgg
 * gives over all the nodes at once.  All parts must be bounded.
 */
export function mergePacked(src: Float64Array, first: number, count: number, stride: number, out: Float64Array, o: number): void {
  for (let q = 0; q < STD.length; q++) {
    const c = q * AGG_W;
    let p1 = Infinity,
      emaxT = Infinity,
      eminT = -Infinity,
      b0 = Infinity,
      umaxT = Infinity,
      uminT = -Infinity,
      g = Infinity;
    for (let j = 0; j < count; j++) {
      const a = first + j * stride + c;
      if (src[a + 1]! < p1) p1 = src[a + 1]!;
      if (src[a + 2]! < emaxT) emaxT = src[a + 2]!;
      if (src[a + 3]! > eminT) eminT = src[a + 3]!;
      if (src[a + 4]! < b0) b0 = src[a + 4]!;
      if (src[a + 5]! < umaxT) umaxT = src[a + 5]!;
      if (src[a + 6]! > uminT) uminT = src[a + 6]!;
      if (src[a + 7]! < g) g = src[a + 7]!;
    }
    out[o + c] = src[first + c]!;
    out[o + c + 1] = p1;
    out[o + c + 2] = emaxT;
    out[o + c + 3] = eminT;
    out[o + c + 4] = b0;
    out[o + c + 5] = umaxT;
    out[o + c + 6] = uminT;
    out[o + c + 7] = g;
  }
}

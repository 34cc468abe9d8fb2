// Location tags on the fast paths (alloc-probe.ts, capacity.ts,
// balance-probe.ts): the location score of a node pair, and how the
// location-exclusion map statistic changes when an instance's primary moves.
// Both are exact integers, so the searches add them to their rankings
// without changing a decision; the reference path computes them from the
// built nodes (node.ts, metrics.ts).
import type { Instance } from "./types.js";
import { Node, locExclPairs } from "./node.js";

/** The location score component (a sum over nodes of their primaries' scores). */
export const LOC = 17;

// Location classes: nodes with equal location tag sets share a class
// (-1: none); a pair's location score is the number of tags the two
// classes share.  Registered for the process (a cluster has few racks).
const locIdOfSet = new WeakMap<ReadonlySet<string>, number>();
const locIdOfKey = new Map<string, number>();
const locSets: Array<ReadonlySet<string>> = [];
let locCommon = new Int32Array(0);
let locDim = 0;
let locAllSingle = true;

/** The class of a location tag set (-1 when empty). */
export function locClass(tags: ReadonlySet<string>): number {
  if (tags.size === 0) return -1;
  let id = locIdOfSet.get(tags);
  if (id === undefined) {
    const key = [...tags].sort().join("\u0000");
    id = locIdOfKey.get(key);
    if (id === undefined) {
      id = locSets.length;
      locSets.push(tags);
      locIdOfKey.set(key, id);
      if (tags.size !== 1) locAllSingle = false;
    }
    locIdOfSet.set(tags, id);
  }
  return id;
}

/** The number of location tags classes a and b share (0 when either is -1). */
export function commonTags(a: number, b: number): number {
  if (a < 0 || b < 0) return 0;
  if (locAllSingle) return a === b ? 1 : 0;
  if (a >= locDim || b >= locDim) {
    const K = locSets.length;
    const m = new Int32Array(K * K);
    for (let i = 0; i < K; i++)
      for (let j = 0; j < K; j++) {
        let c = 0;
        for (const t of locSets[i]!) if (locSets[j]!.has(t)) c++;
        m[i * K + j] = c;
      }
    locCommon = m;
    locDim = K;
  }
  return locCommon[a * locDim + b]!;
}

/** The location score of an instance with primary p and secondary s (moves.ts locScore). */
export function pairLocScore(p: Node, s: Node): number {
  return commonTags(locClass(p.locationTags), locClass(s.locationTags));
}

/**
 * The change of the map statistic (Σcount − #keys over the online nodes'
 * instance maps, whose counts are `count`) when `inst` leaves the primary
 * `from` (null: none, or offline) and joins the primary `to` (null: none,
 * or offline), as removePri then addPriEx do it (node.ts delTags/addTags):
 * a removed key whose count stays positive takes one off, an added key that
 * is present adds one.
 */
export function mapMoveDelta(count: (key: string) => number, inst: Instance, from: Node | null, to: Node | null): number {
  if (inst.exclTags.length === 0) return 0;
  const rem = from !== null && !from.offline ? locExclPairs(from, inst) : NONE;
  const add = to !== null && !to.offline ? locExclPairs(to, inst) : NONE;
  if (rem.length === 0 && add.length === 0) return 0;
  // each key's count as the removals and additions go (keys are few)
  const now = new Map<string, number>();
  const get = (key: string): number => {
    const c = now.get(key);
    return c === undefined ? count(key) : c;
  };
  let d = 0;
  for (let j = 0; j < rem.length; j++) {
    const c = get(rem[j]!);
    if (c <= 0) continue;
    if (c >= 2) d--;
    now.set(rem[j]!, c - 1);
  }
  for (let j = 0; j < add.length; j++) {
    const c = get(add[j]!);
    if (c > 0) d++;
    now.set(add[j]!, c + 1);
  }
  return d;
}
const NONE: readonly string[] = [];

// hspace's tiered allocation shrinks the instance spec one unit at a time
// (256 MiB of disk, 64 MiB of memory, one CPU) for as long as a trial
// allocation on the unchanged cluster state fails: shrinking a 1 TiB disk
// tries up to 4,096 specs, most failing with the very same counts.  This
// module finds, without running the searches, how many further shrink steps
// are certain to fail with the counts of the last one.
//
// Why a few probes decide it.  Every check of planAddPri and planAddSec
// (node.ts) is "a node resource after adding the instance passes a limit",
// and each check reads at most one of the instance's sizes, monotonically:
// the FailMem checks read mem, the FailDisk checks dsk, the FailCPU checks
// vcpus; the other checks read none.  Shrinking size X (whose checks fail
// with mode M) only turns X's checks from failing to passing, so a probe's
// first failing check moves later or disappears.  Hence a probe's outcome,
// along the shrink steps, is M for a while and then a fixed other outcome
// for good: if it is M at step 0 and at step k, it is M at every step in
// between; any other outcome at step 0 stays.  A pair's outcome is its
// primary's failure, else its secondary's for that primary; so if every
// probe that gave M at step 0 gives M at step k, every step up to k gives
// step 0's outcome for every pair: no success and the same failure counts.
// The policy check is the exception (a spec must lie in one of its min/max
// boxes, not monotone), so it is checked at every step: the run ends where
// a candidate's policy answers otherwise than at step 0.  A candidate whose
// policy rejects step 0's spec fails with the policy's mode before any node
// check (allocateOnSingle, allocateOnPrimary), so while its policy answers
// the same it is not probed at all: shrinking a spec below the policy's
// minimum fails on every node the same way down to the smallest spec.
//
// tieredAlloc (hspace.ts) then records the skipped steps as if searched:
// the same frames, with the same failure counts, so everything after is
// unchanged.  shrink-run.test.ts checks the claim against full searches.
import type { FailMode, Instance, IPolicy } from "./types.js";
import { Node, newPriPlan, newSecPlan, planAddPri, planAddSec } from "./node.js";
import { instMatchesPolicy, shrinkByTypeN, shrinkSteps, shrinkingSizes } from "./instance.js";
import type { AlgOptions, AllocNodes, NL } from "./alloc.js";

/** The shrink modes whose size only checks of that same mode read. */
const SHRINKS: ReadonlySet<FailMode> = new Set<FailMode>(["FailMem", "FailDisk", "FailCPU"]);

const PRI = newPriPlan();
const SEC = newSecPlan();

/** The probes that gave the shrink mode at step 0: they alone can change the outcome. */
interface Watch {
  force: boolean;
  mode: FailMode;
  nodes: readonly Node[];
  /** the candidates' policies and their answers at step 0 */
  policies: IPolicy[];
  answers: Array<FailMode | true>;
  /** nodes probed as primaries */
  pri: number[];
  /** (secondary, primary or -1 for "no shared instance") probes, flat */
  sec: number[];
}

/**
 * What must hold at a later step for tryAlloc (opts, nl, an) to fail there
 * as it did at inst0 (which must have had no solution), or null when the
 * argument above does not apply: another mode, a capacity predicate, the
 * reference engine, exclusive storage (its spindle checks and policy) or
 * forthcoming instances.  (Location tags change scores, never a check's
 * outcome.)
 */
function watchFor(opts: AlgOptions, nl: NL, an: AllocNodes, inst0: Instance, mode: FailMode): Watch | null {
  if (!SHRINKS.has(mode) || opts.capacity !== false || opts.engine === "reference") return null;
  const nodes = nl.nodes;
  if (inst0.forthcoming) return null;
  for (const i of nl.members) if (nodes[i]!.exclStorage) return null;
  const force = !!opts.ignoreSoftErrors;
  const w: Watch = { force, mode, nodes, policies: [], answers: [], pri: [], sec: [] };
  // tryAlloc's candidates: every listed node as a primary for a single-node
  // template; for two nodes, the listed nodes of groups with at least two
  const pairs = !("single" in an);
  let cands: readonly number[];
  if ("single" in an) cands = an.single;
  else {
    if (!an.listed) return null;
    const perGroup = new Map<number, number>();
    for (const i of an.listed) perGroup.set(nodes[i]!.group, (perGroup.get(nodes[i]!.group) ?? 0) + 1);
    cands = an.listed.filter((i) => perGroup.get(nodes[i]!.group)! >= 2);
  }
  const okByGroup = new Map<number, number[]>();
  for (const p of cands) {
    const n = nodes[p]!;
    let k = w.policies.indexOf(n.iPolicy);
    if (k < 0) {
      k = w.policies.push(n.iPolicy) - 1;
      w.answers.push(instMatchesPolicy(inst0, n.iPolicy, false));
    }
    // (a rejected primary fails with its policy's mode, with every secondary)
    if (w.answers[k] !== true) continue;
    const r = planAddPri(force, n, inst0, PRI);
    if (r === mode) w.pri.push(p);
    else if (r === null && pairs) {
      let l = okByGroup.get(n.group);
      if (l === undefined) okByGroup.set(n.group, (l = []));
      l.push(p);
    }
  }
  if (pairs) {
    // the secondaries of groups with a primary that fits (elsewhere a
    // pair's outcome is its primary's): addSec's probe for a primary it
    // shares no instance with, and for each primary it does
    for (const s of cands) {
      const sn = nodes[s]!;
      const oks = okByGroup.get(sn.group);
      if (oks === undefined) continue;
      if (planAddSec(false, false, sn, inst0, -1, SEC) === mode) w.sec.push(s, -1);
      for (const p of oks) if (p !== s && sn.peers.has(p) && planAddSec(false, false, sn, inst0, p, SEC) === mode) w.sec.push(s, p);
    }
  }
  return w;
}

/** Whether every candidate's policy answers at inst as it did at step 0. */
function policiesAgree(w: Watch, inst: Instance): boolean {
  for (let k = 0; k < w.policies.length; k++) if (instMatchesPolicy(inst, w.policies[k]!, false) !== w.answers[k]) return false;
  return true;
}

/**
 * The last step k (of the shrinks possible from inst0 along m) up to which
 * every candidate's policy answers as at step 0.  A policy's answer reads
 * the shrinking sizes only through their comparisons with its boxes'
 * minima and maxima, and a size going down by a fixed unit changes its
 * comparison with a bound at most twice (> to =, = to <, or > to <): the
 * answers are constant between those steps, so they are checked there only.
 */
function policiesAgreeUpTo(w: Watch, inst0: Instance, m: "FailMem" | "FailDisk" | "FailCPU"): number {
  const maxK = shrinkSteps(inst0, m);
  const { sizes, unit } = shrinkingSizes(inst0, m);
  const steps = new Set<number>();
  for (const pol of w.policies)
    for (const box of pol.minmax)
      for (const spec of [box.min, box.max]) {
        const bound = m === "FailMem" ? spec.memorySize : m === "FailDisk" ? spec.diskSize : spec.cpuCount;
        for (const x of sizes) {
          const d = (x - bound) / unit;
          // the first step at which the size is <= bound, and < bound
          for (const k of [Math.ceil(d), Math.floor(d) + 1]) if (k >= 1 && k <= maxK) steps.add(k);
        }
      }
  const scratch: Instance = { ...inst0, disks: inst0.disks.map((d) => ({ ...d })) };
  for (const k of [...steps].sort((a, b) => a - b)) if (!policiesAgree(w, shrinkByTypeN(inst0, m, k, scratch)!)) return k - 1;
  return maxK;
}

/** Whether every watched probe still gives the mode at inst. */
function stillFails(w: Watch, inst: Instance): boolean {
  for (const p of w.pri) if (planAddPri(w.force, w.nodes[p]!, inst, PRI) !== w.mode) return false;
  for (let j = 0; j < w.sec.length; j += 2)
    if (planAddSec(false, false, w.nodes[w.sec[j]!]!, inst, w.sec[j + 1]!, SEC) !== w.mode) return false;
  return true;
}

/**
 * How many specs after inst0 shrunk along `mode` (shrinkByType: once,
 * twice, ...) are certain to make tryAlloc(opts, nl, il, spec, an) fail
 * exactly as it failed at inst0 (no solution; inst0's failure counts): the
 * k-th spec for every k up to the answer, none for k = answer + 1.  (0
 * when the argument above does not apply.)
 */
export function sameFailureRunLength(opts: AlgOptions, nl: NL, an: AllocNodes, inst0: Instance, mode: FailMode): number {
  const w = watchFor(opts, nl, an, inst0, mode);
  if (w === null) return 0;
  const m = mode as "FailMem" | "FailDisk" | "FailCPU"; // (watchFor takes only these)
  const agreed = policiesAgreeUpTo(w, inst0, m);
  // whether the specs up to the k-th all fail like inst0: a prefix of the
  // run, found from the last run's length (runs along one mode are often
  // alike), then by galloping and bisection
  const holds = (k: number): boolean => k <= agreed && stillFails(w, shrinkByTypeN(inst0, m, k)!);
  let good = 0;
  let bad = -1;
  const guess = lastRun.get(mode) ?? 0;
  if (guess > 0) {
    if (!holds(guess)) bad = guess;
    else {
      good = guess;
      if (!holds(guess + 1)) bad = guess + 1;
      else good = guess + 1;
    }
  }
  for (let step = 1; bad < 0; step *= 2) {
    if (holds(good + step)) good += step;
    else bad = good + step;
  }
  while (bad - good > 1) {
    const mid = good + ((bad - good) >> 1);
    if (holds(mid)) good = mid;
    else bad = mid;
  }
  lastRun.set(mode, good);
  skipped += good;
  return good;
}

/** sameFailureRunLength's specs themselves, in order. */
export function sameFailureRun(opts: AlgOptions, nl: NL, an: AllocNodes, inst0: Instance, mode: FailMode): Instance[] {
  const n = sameFailureRunLength(opts, nl, an, inst0, mode);
  const m = mode as "FailMem" | "FailDisk" | "FailCPU";
  return Array.from({ length: n }, (_, k) => shrinkByTypeN(inst0, m, k + 1)!);
}

const lastRun = new Map<FailMode, number>();
let skipped = 0;
/** How many specs sameFailureRunLength has skipped so far (for tests). */
export const skippedSpecs = (): number => skipped;

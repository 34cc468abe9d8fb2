// Job filter rules ("optables", Ganeti's design-optables): which queued jobs
// the scheduler may start. Pure: rules and jobs in, decisions out.
//
// Facts followed (Ganeti 3.0, JQScheduler/Filtering.hs):
// - rules are ordered by priority, then watermark, then uuid;
// - the rule that *applies* to a job is the first one whose predicates all
//   match and whose action is not CONTINUE (no rule: the job runs);
// - the watermark only enters through predicates (`["jobid", [">", "id",
//   "watermark"]]`); a rule without one also applies to older queued jobs;
// - jobid and reason predicates allow only comparisons; anything else, or a
//   comparison they cannot make, makes the predicate false;
// - an opcode predicate holds if some opcode of the job satisfies it; a
//   missing field or a type error makes it false for that opcode.
import type { FilterRuleObject } from "@ganeti-ts/schema";
import { parseFilter, QueryParseError, type FilterNode, type FilterValue } from "../config/query/qlang.js";

/** What the filters need of a job: its id and its opcodes as submitted. */
export interface FilterJob {
  id: number;
  ops: ReadonlyArray<Record<string, unknown>>;
}

/** Scheduler decision for a queued job. */
type FilterDecision = "run" | "hold" | "reject";

/** Ganeti's filterRuleOrder: priority, watermark, uuid. */
export function orderRules(rules: Iterable<FilterRuleObject>): FilterRuleObject[] {
  return [...rules].sort(
    (a, b) => a.priority - b.priority || a.watermark - b.watermark || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0),
  );
}

function rateLimit(rule: FilterRuleObject): number | null {
  const a = rule.action;
  return Array.isArray(a) && a[0] === "RATE_LIMIT" && typeof a[1] === "number" ? a[1] : null;
}

type Cmp = "eq" | "lt" | "gt" | "le" | "ge";
/** A leaf evaluator: true/false, or undefined when the leaf cannot be evaluated. */
type Leaf = (node: LeafNode) => boolean | undefined;

/** Evaluate with Maybe semantics: an undefined leaf reached makes the whole result undefined. */
function evaluate(node: FilterNode | null, leaf: Leaf): boolean | undefined {
  if (!node) return true; // empty filter
  switch (node.op) {
    case "and":
      for (const a of node.args) {
        const r = evaluate(a, leaf);
        if (r !== true) return r;
      }
      return true;
    case "or":
      for (const a of node.args) {
        const r = evaluate(a, leaf);
        if (r !== false) return r;
      }
      return false;
    case "not": {
      const r = evaluate(node.arg, leaf);
      return r === undefined ? undefined : !r;
    }
    default:
      return leaf(node);
  }
}

function cmp(op: Cmp, a: number | string, b: number | string): boolean {
  switch (op) {
    case "eq":
      return a === b;
    case "lt":
      return a < b;
    case "gt":
      return a > b;
    case "le":
      return a <= b;
    case "ge":
      return a >= b;
  }
}

type LeafNode = Exclude<FilterNode, { op: "and" | "or" | "not" }>;
type CmpNode = { op: Cmp; field: string; value: FilterValue };
const isCmp = (leaf: LeafNode): leaf is CmpNode & LeafNode =>
  leaf.op === "eq" || leaf.op === "lt" || leaf.op === "gt" || leaf.op === "le" || leaf.op === "ge";

/** Order of JSON kinds as in Haskell's derived Ord on JSValue. */
function jsonRank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "boolean") return 1;
  if (typeof v === "number") return 2;
  if (typeof v === "string") return 3;
  if (Array.isArray(v)) return 4;
  return 5;
}

function jsonCmp(op: Cmp, json: unknown, value: FilterValue): boolean {
  const rj = jsonRank(json);
  const rv = jsonRank(value);
  if (rj !== rv) return cmp(op, rj, rv);
  return cmp(op, json as number | string, value);
}

/** Dotted access into an opcode ("a.b.c"); undefined when a key is missing. */
function access(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split(".")) {
    // Own keys only: a field named "constructor" must not reach Object.prototype.
    if (cur === null || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function opcodeMatches(node: FilterNode | null, op: Record<string, unknown>): boolean {
  const r = evaluate(node, (leaf) => {
    const v = access(op, leaf.field);
    if (v === undefined) return undefined;
    switch (leaf.op) {
      case "true":
        return typeof v === "boolean" ? v : undefined;
      case "regex":
        return typeof v === "string" ? leaf.re.test(v) : undefined;
      case "contains":
        if (!Array.isArray(v) || !v.every((x) => typeof x === typeof leaf.value)) return undefined;
        return v.includes(leaf.value);
      default:
        return jsonCmp(leaf.op, v, leaf.value);
    }
  });
  return r === true;
}

type Reason = [string, string, number];
function reasonsOf(job: FilterJob): Reason[] {
  const out: Reason[] = [];
  for (const op of job.ops) {
    const trail = op["reason"];
    if (!Array.isArray(trail)) continue;
    for (const r of trail) {
      if (Array.isArray(r) && typeof r[0] === "string" && typeof r[1] === "string" && typeof r[2] === "number")
        out.push([r[0], r[1], r[2]]);
    }
  }
  return out;
}

function parsed(raw: unknown): { ok: true; node: FilterNode | null } | { ok: false } {
  try {
    return { ok: true, node: parseFilter(raw) };
  } catch (err) {
    // Rules are checked when added; one stored before that check (or by
    // hand) cannot match anything, as in Ganeti where it cannot be loaded.
    if (err instanceof QueryParseError) return { ok: false };
    throw err;
  }
}

/** Whether one predicate holds for the job. Unknown predicate kinds never hold. */
export function predicateMatches(predicate: unknown, job: FilterJob, watermark: number): boolean {
  if (!Array.isArray(predicate) || predicate.length !== 2) return false;
  const p = parsed(predicate[1]);
  if (!p.ok) return false;
  switch (predicate[0]) {
    case "jobid":
      return (
        evaluate(p.node, (leaf) => {
          if (!isCmp(leaf) || leaf.field !== "id") return undefined;
          if (typeof leaf.value === "number") return cmp(leaf.op, job.id, leaf.value);
          return leaf.value === "watermark" ? cmp(leaf.op, job.id, watermark) : undefined;
        }) === true
      );
    case "opcode":
      return job.ops.some((op) => opcodeMatches(p.node, op));
    case "reason":
      return reasonsOf(job).some(
        ([source, reason, timestamp]) =>
          evaluate(p.node, (leaf) => {
            if (!isCmp(leaf)) return undefined;
            const v =
              leaf.field === "source" ? source : leaf.field === "reason" ? reason : leaf.field === "timestamp" ? timestamp : undefined;
            if (v === undefined) return undefined;
            if (typeof v !== typeof leaf.value) return undefined;
            return cmp(leaf.op, v, leaf.value);
          }) === true,
      );
    default:
      return false;
  }
}

function ruleMatches(rule: FilterRuleObject, job: FilterJob): boolean {
  return rule.predicates.every((p) => predicateMatches(p, job, rule.watermark));
}

/** The rule that applies to the job (rules already ordered), or null. */
export function applyingRule(ordered: readonly FilterRuleObject[], job: FilterJob): FilterRuleObject | null {
  for (const rule of ordered) {
    if (rule.action === "CONTINUE") continue;
    if (ruleMatches(rule, job)) return rule;
  }
  return null;
}

/**
 * One scheduling pass. Built from the ordered rules and the jobs running now
 * (which occupy the RATE_LIMIT slots of their applying rule); `decide` is then
 * asked for candidates in scheduling order, and a "run" answer takes a slot.
 */
export class FilterPass {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly ordered: readonly FilterRuleObject[],
    running: Iterable<FilterJob>,
  ) {
    if (ordered.length === 0) return;
    for (const job of running) {
      const rule = applyingRule(ordered, job);
      if (rule && rateLimit(rule) !== null) this.used.set(rule.uuid, (this.used.get(rule.uuid) ?? 0) + 1);
    }
  }

  /** Whether a REJECT rule applies (takes no slot). */
  rejects(job: FilterJob): boolean {
    return this.ordered.length > 0 && applyingRule(this.ordered, job)?.action === "REJECT";
  }

  /** The decision for a job that could start now; "run" takes a RATE_LIMIT slot. */
  decide(job: FilterJob): FilterDecision {
    if (this.ordered.length === 0) return "run";
    const rule = applyingRule(this.ordered, job);
    if (!rule || rule.action === "ACCEPT") return "run";
    if (rule.action === "REJECT") return "reject";
    if (rule.action === "PAUSE") return "hold";
    const n = rateLimit(rule);
    if (n === null) return "run"; // unknown action: as no rule
    const used = this.used.get(rule.uuid) ?? 0;
    if (used >= n) return "hold";
    this.used.set(rule.uuid, used + 1);
    return "run";
  }
}

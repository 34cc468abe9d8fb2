// Pure, table-driven diff (house rule 8): no API calls. Each resource lists
// its input fields with the way a change is applied. Fields missing from
// the table never cause a diff.

/** The value Pulumi sends for inputs not known during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Apply = "update" | "replace";

export interface FieldRule {
  /** How a change of this field is applied; a function decides per change (disk shrink → replace). */
  apply: Apply | ((oldValue: unknown, newValue: unknown, olds: Record<string, unknown>, news: Record<string, unknown>) => Apply);
  /** Unset in the program means "whatever the cluster has" (cluster defaults, allocator's choice). */
  optional?: boolean;
  /** Compare as an unordered set of strings (tags, node lists). */
  set?: boolean;
}
export type DiffTable = Readonly<Record<string, FieldRule>>;

export interface FieldChange {
  field: string;
  apply: Apply;
}

export interface DiffOutcome {
  changes: boolean;
  replaces: string[];
  stables: string[];
  changed: FieldChange[];
}

export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** Deep equality where key order does not matter and `undefined` equals absent. */
export function stableEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => stableEqual(x, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!stableEqual(ao[k], bo[k])) return false;
  return true;
}

function sortedSet(v: unknown): unknown {
  return Array.isArray(v) ? [...new Set(v.map(String))].sort() : v;
}

/** Compare old state and new (checked) inputs field by field. */
export function diffInputs(olds: Record<string, unknown>, news: Record<string, unknown>, table: DiffTable): DiffOutcome {
  const changed: FieldChange[] = [];
  const stables: string[] = [];
  for (const [field, rule] of Object.entries(table)) {
    const o = olds[field];
    const n = news[field];
    if (n === undefined && rule.optional) {
      stables.push(field);
      continue;
    }
    const same = !containsUnknown(n) && (rule.set ? stableEqual(sortedSet(o), sortedSet(n)) : stableEqual(o, n));
    if (same) {
      stables.push(field);
      continue;
    }
    // An unknown value may turn out to be anything: assume the costliest outcome.
    const apply = containsUnknown(n)
      ? typeof rule.apply === "function"
        ? "replace"
        : rule.apply
      : typeof rule.apply === "function"
        ? rule.apply(o, n, olds, news)
        : rule.apply;
    changed.push({ field, apply });
  }
  return {
    changes: changed.length > 0,
    replaces: changed.filter((c) => c.apply === "replace").map((c) => c.field),
    stables,
    changed,
  };
}

/** Normalise a tag list: unique, sorted (Ganeti keeps tags as a set). */
export function normalizeTags(tags: readonly string[] | undefined): string[] {
  return [...new Set(tags ?? [])].sort();
}

/** Drop `undefined` values so stored state and checked inputs compare equal. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

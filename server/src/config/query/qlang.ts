// Ganeti's query filter language ("qlang", doc/design-query2.rst): parse the
// list form into a tree (errors here are LUXI request-parse errors, which
// the RAPI reports as 502), then evaluate it per item against field values.
import type { QueryValue } from "@ganeti-ts/schema";
import { GanetiError } from "../../lib/errors.js";
import { RS_NORMAL, type FieldTable, type QueryContext } from "./types.js";

export type FilterValue = string | number;
export type FilterNode =
  | { op: "and" | "or"; args: FilterNode[] }
  | { op: "not"; arg: FilterNode }
  | { op: "true"; field: string }
  | { op: "eq" | "lt" | "gt" | "le" | "ge" | "contains"; field: string; value: FilterValue }
  | { op: "regex"; field: string; value: string; re: RegExp };

/** The request could not be parsed by the query server (RAPI: 502 "Failed to parse request: ..."). */
export class QueryParseError extends GanetiError {
  override readonly errorClass = "LuxiError";
  readonly code = "wrong_input" as const;
}
/** A well-formed query that fails (unknown filter field, type mismatch): Ganeti's ParameterError. */
export class QueryParameterError extends GanetiError {
  override readonly errorClass = "ParameterError";
  readonly code = "wrong_input" as const;
}

/** Python json.dumps layout (", " and ": "), as Ganeti prints values in messages. */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const MAX_DEPTH = 10;
const BINARY: Record<string, FilterNode["op"]> = {
  "==": "eq",
  "=": "eq",
  "<": "lt",
  ">": "gt",
  "<=": "le",
  ">=": "ge",
  "=~": "regex",
  "=[]": "contains",
};

function fail(detail: string): never {
  throw new QueryParseError(detail);
}

/** Python regex syntax → JavaScript, for the common subset ((?i) flag, \Z, \A). */
function compilePyRegex(src: string): RegExp {
  let flags = "";
  let s = src;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(s);
  if (inline) {
    s = s.slice(inline[0].length);
    for (const ch of inline[1] ?? "") if ("ims".includes(ch) && !flags.includes(ch)) flags += ch;
  }
  s = s.replace(/\\Z/g, "$").replace(/\\A/g, "^");
  try {
    return new RegExp(s, flags);
  } catch (err) {
    return fail(`Invalid regular expression ${pyJson(src)}: ${(err as Error).message}`);
  }
}

export function parseFilter(raw: unknown, depth = 0): FilterNode | null {
  if (raw === null || raw === undefined)
    return depth === 0 ? null : fail(`Cannot deserialise filter: expected array [string, args], got ${pyJson(raw)}`);
  if (depth > MAX_DEPTH) fail(`Filter nested too deeply (maximum ${MAX_DEPTH} levels)`);
  if (!Array.isArray(raw) || typeof raw[0] !== "string") {
    fail(`Cannot deserialise filter: expected array [string, args], got ${pyJson(raw)}`);
  }
  const [op, ...args] = raw as [string, ...unknown[]];
  const sub = (x: unknown): FilterNode =>
    parseFilter(x, depth + 1) ?? fail("Cannot deserialise filter: expected array [string, args], got null");
  if (op === "&" || op === "|") return { op: op === "&" ? "and" : "or", args: args.map(sub) };
  if (op === "!") {
    if (args.length !== 1) fail(`Cannot deserialise field, expected [filter] but got ${pyJson(args)}`);
    return { op: "not", arg: sub(args[0]) };
  }
  if (op === "?") {
    if (args.length !== 1 || typeof args[0] !== "string") fail(`Cannot deserialise field, expected [fieldname] but got ${pyJson(args)}`);
    return { op: "true", field: args[0] as string };
  }
  const bin = op === "!=" ? "eq" : BINARY[op];
  if (!bin) fail(`Unknown filter operand '${op}'`);
  if (args.length !== 2 || typeof args[0] !== "string") {
    fail(`Cannot deserialise field/value pair, expected [fieldname, value] but got ${pyJson(args)}`);
  }
  const field = args[0] as string;
  const value = args[1];
  if (!(typeof value === "string" || (typeof value === "number" && Number.isInteger(value)))) {
    fail(`Cannot deserialise filter value, expected string or integer but got ${pyJson(value)}`);
  }
  let node: FilterNode;
  if (bin === "regex") {
    if (typeof value !== "string") fail(`Cannot deserialise regular expression, expected string but got ${pyJson(value)}`);
    node = { op: "regex", field, value, re: compilePyRegex(value) };
  } else {
    node = { op: bin as "eq", field, value };
  }
  return op === "!=" ? { op: "not", arg: node } : node;
}

/** Every field a filter references. */
export function filterFields(node: FilterNode | null, out = new Set<string>()): Set<string> {
  if (!node) return out;
  switch (node.op) {
    case "and":
    case "or":
      node.args.forEach((a) => filterFields(a, out));
      break;
    case "not":
      filterFields(node.arg, out);
      break;
    default:
      out.add(node.field);
  }
  return out;
}

/** Raise ParameterError for filter fields the resource does not have. */
export function checkFilterFields<T>(node: FilterNode | null, table: FieldTable<T>): void {
  for (const name of filterFields(node)) {
    if (!table.has(name)) throw new QueryParameterError(`Can't find field named '${name}'`);
  }
}

function compare(op: "lt" | "gt" | "le" | "ge", a: unknown, b: FilterValue): boolean {
  const ok = (typeof a === "string" && typeof b === "string") || (typeof a === "number" && typeof b === "number");
  if (!ok) throw new QueryParameterError(`Invalid types in comparison, trying to compare ${pyJson(a)} with ${pyJson(b)}`);
  const x = a as string | number;
  switch (op) {
    case "lt":
      return x < b;
    case "gt":
      return x > b;
    case "le":
      return x <= b;
    case "ge":
      return x >= b;
  }
}

/** Ganeti's hostname matching: exact, or the value is the leading label(s) of the name. */
function hostnameMatch(name: string, value: string): boolean {
  return name === value || name.toLowerCase().startsWith(`${value.toLowerCase()}.`);
}

/**
 * Evaluate for one item. Returns undefined when a referenced field has no
 * normal value (Ganeti then leaves the item out).
 */
export function evaluateFilter<T>(node: FilterNode, table: FieldTable<T>, item: T, ctx: QueryContext): boolean | undefined {
  const get = (field: string): QueryValue | undefined => table.get(field)?.get(item, ctx);
  switch (node.op) {
    case "and": {
      for (const a of node.args) {
        const r = evaluateFilter(a, table, item, ctx);
        if (r !== true) return r;
      }
      return true;
    }
    case "or": {
      for (const a of node.args) {
        const r = evaluateFilter(a, table, item, ctx);
        if (r !== false) return r;
      }
      return false;
    }
    case "not": {
      const r = evaluateFilter(node.arg, table, item, ctx);
      return r === undefined ? undefined : !r;
    }
    default:
  }
  const v = get(node.field);
  if (!v || v[0] !== RS_NORMAL) return undefined;
  const value = v[1];
  switch (node.op) {
    case "true":
      return typeof value === "boolean" ? value : Boolean(value) && !(Array.isArray(value) && value.length === 0);
    case "eq":
      if (typeof value === "string" && typeof node.value === "string" && table.get(node.field)?.hostname)
        return hostnameMatch(value, node.value);
      return value === node.value;
    case "regex":
      if (typeof value !== "string") {
        throw new QueryParameterError(`Invalid field value used in regexp matching, expecting string but got ${pyJson(value)}`);
      }
      return node.re.test(value);
    case "contains":
      if (!Array.isArray(value))
        throw new QueryParameterError(`Invalid field value used in list membership, expecting a list but got ${pyJson(value)}`);
      return value.includes(node.value);
    default:
      return compare(node.op, value, node.value);
  }
}

/**
 * Names requested by a filter of the form ["=", name_field, x] or an OR of
 * those (Ganeti's requested names: such queries fail on a missing item).
 */
export function requestedNames(node: FilterNode | null, nameField: string): string[] | null {
  if (!node) return null;
  if (node.op === "eq" && node.field === nameField && typeof node.value === "string") return [node.value];
  if (node.op === "or" && node.args.length > 0) {
    const out: string[] = [];
    for (const a of node.args) {
      const r = requestedNames(a, nameField);
      if (!r) return null;
      out.push(...r);
    }
    return out;
  }
  return null;
}

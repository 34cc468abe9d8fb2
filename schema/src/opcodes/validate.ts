// Ganeti's opcode parameter validation as the RAPI performs it before
// submitting a job (baserlib.FillOpcode): first every body key must be a
// parameter of the opcode (TypeError "Object OpX doesn't support the
// parameter 'foo'"), then each parameter, in definition order, must pass its
// type check after defaults; the first failure gives OpPrereqError
// ("Parameter 'OP_X.y' fails validation", 'wrong_input'). RAPI answers both
// with 400 "Invalid body parameters: <str(error)>".
import type { z } from "zod";
import { OPCODES, opcodeClassName, type OpcodeId, type OpcodeOf } from "./registry.js";

export type OpcodeParamsFailure =
  | { ok: false; kind: "unknown_parameter"; param: string; message: string }
  | { ok: false; kind: "invalid_parameter"; param: string; message: string; ecode: "wrong_input" };

export type OpcodeParamsResult<Id extends OpcodeId> = { ok: true; op: OpcodeOf<Id> } | OpcodeParamsFailure;

/** Thrown by parseOpcodeParams; `code` is the Ganeti ECODE of the failure. */
export class OpcodeParamsError extends Error {
  readonly code = "wrong_input" as const;
  readonly kind: OpcodeParamsFailure["kind"];
  readonly param: string;
  constructor(failure: OpcodeParamsFailure) {
    super(failure.message);
    this.name = "OpcodeParamsError";
    this.kind = failure.kind;
    this.param = failure.param;
  }
}

/** Thrown when asked to validate an OP_ID that is not in OPCODES (a programming error). */
export class UnknownOpcodeError extends Error {
  readonly code = "wrong_input" as const;
  constructor(readonly opId: string) {
    super(`Unknown opcode ${opId}`);
    this.name = "UnknownOpcodeError";
  }
}

/**
 * Validates a body (the opcode parameters without OP_ID, after the RAPI
 * layer's renames and static parameters were merged) and returns the opcode
 * with every default applied, or Ganeti's failure message.
 */
export function validateOpcodeParams<Id extends OpcodeId>(
  opId: Id,
  body: Record<string, unknown> | null | undefined,
): OpcodeParamsResult<Id> {
  const entry = Object.prototype.hasOwnProperty.call(OPCODES, opId) ? OPCODES[opId] : undefined;
  if (!entry) throw new UnknownOpcodeError(opId);
  const params = body ?? {};
  const shape = entry.schema.shape as Record<string, z.ZodType>;

  // Python raises on the first unknown keyword argument, in body order.
  for (const key of Object.keys(params)) {
    if (key === "OP_ID" || !Object.prototype.hasOwnProperty.call(shape, key)) {
      return {
        ok: false,
        kind: "unknown_parameter",
        param: key,
        message: `Object ${opcodeClassName(opId)} doesn't support the parameter '${key}'`,
      };
    }
  }

  for (const [name, fieldSchema] of Object.entries(shape)) {
    if (name === "OP_ID") continue;
    const value = Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined;
    if (!fieldSchema.safeParse(value).success) return invalid(opId, name);
  }

  const parsed = entry.schema.safeParse({ ...params, OP_ID: opId });
  if (!parsed.success) {
    // Every field passed on its own; report the first issue's parameter.
    const first = parsed.error.issues[0]?.path[0];
    return invalid(opId, typeof first === "string" ? first : "OP_ID");
  }
  return { ok: true, op: parsed.data as OpcodeOf<Id> };
}

function invalid(opId: string, param: string): OpcodeParamsFailure {
  return {
    ok: false,
    kind: "invalid_parameter",
    param,
    message: `Parameter '${opId}.${param}' fails validation`,
    ecode: "wrong_input",
  };
}

/** Like validateOpcodeParams, but throws OpcodeParamsError. */
export function parseOpcodeParams<Id extends OpcodeId>(opId: Id, body: Record<string, unknown> | null | undefined): OpcodeOf<Id> {
  const res = validateOpcodeParams(opId, body);
  if (!res.ok) throw new OpcodeParamsError(res);
  return res.op;
}

/**
 * Python's str() of the raised exception: a TypeError prints its message,
 * an OpPrereqError with (message, ecode) prints the tuple's repr.
 */
export function formatOpcodeParamsError(failure: OpcodeParamsFailure): string {
  return failure.kind === "unknown_parameter" ? failure.message : pyRepr([failure.message, failure.ecode]);
}

/**
 * The 400 message the RAPI sends, before HTML escaping, e.g.
 * `Invalid body parameters: ("Parameter 'OP_INSTANCE_REBOOT.reboot_type' fails validation", 'wrong_input')`.
 * Ganeti HTML-escapes every error message on the wire (see pyHtmlEscape).
 */
export function formatInvalidBodyParameters(failure: OpcodeParamsFailure): string {
  return `Invalid body parameters: ${formatOpcodeParamsError(failure)}`;
}

/** Python's html.escape(s, quote=True), applied by Ganeti to error messages. */
export function pyHtmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
}

/** Python 3 repr() of a str. */
export function pyReprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * Python 3 repr() for the JSON-ish values that appear in Ganeti error
 * arguments: str, int/float, bool, None, lists (arrays print as tuples when
 * `asTuple`, which is how exception args print).
 */
export function pyRepr(value: unknown, asTuple = true): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return pyReprString(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => pyRepr(v, false));
    if (asTuple) return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
    return `[${items.join(", ")}]`;
  }
  if (typeof value === "object") {
    const items = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyReprString(k)}: ${pyRepr(v, false)}`);
    return `{${items.join(", ")}}`;
  }
  return String(value);
}

// The only place where errors become Ganeti's RAPI error body
// {code, message, explain} (message HTML-escaped, explain = Python's
// BaseHTTPRequestHandler long text for the status).
import type { RapiErrorBody } from "@ganeti-ts/schema";
import { pyHtmlEscape, pyRepr } from "@ganeti-ts/schema";
import { GanetiError, JobQueueError, OpPrereqError } from "../lib/errors.js";
import { QueryParameterError, QueryParseError } from "../config/query/qlang.js";

const REASONS: Record<number, [string, string]> = {
  400: ["Bad Request", "Bad request syntax or unsupported method"],
  401: ["Unauthorized", "No permission -- see authorization schemes"],
  403: ["Forbidden", "Request forbidden -- authorization will not help"],
  404: ["Not Found", "Nothing matches the given URI"],
  405: ["Method Not Allowed", "Specified method is invalid for this resource"],
  408: ["Request Timeout", "Request timed out; try again later"],
  413: ["Request Entity Too Large", "Entity is too large"],
  415: ["Unsupported Media Type", "Entity body in unsupported format"],
  431: ["Request Header Fields Too Large", "The server is unwilling to process the request because its header fields are too large"],
  500: ["Internal Server Error", "Server got itself in trouble"],
  501: ["Not Implemented", "Server does not support this operation"],
  502: ["Bad Gateway", "Invalid responses from another server/proxy"],
  503: ["Service Unavailable", "The server cannot process the request due to a high load"],
  504: ["Gateway Timeout", "The gateway server did not receive a timely response"],
};

/** An HTTP error answered with Ganeti's body; `message` defaults to the reason phrase. */
export class RapiHttpError extends Error {
  readonly code: number;
  constructor(
    readonly status: number,
    message?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? REASONS[status]?.[0] ?? "Error");
    this.name = "RapiHttpError";
    this.code = status;
  }
}

/** The reason phrase Ganeti uses as the message when none is given. */
export const reasonPhrase = (status: number): string => REASONS[status]?.[0] ?? "Error";

export const badRequest = (msg: string) => new RapiHttpError(400, msg);
export const notFound = () => new RapiHttpError(404);

export function errorBody(status: number, message: string): RapiErrorBody {
  return { code: status, message: pyHtmlEscape(message), explain: REASONS[status]?.[1] ?? "" };
}

/** Python str() of an exception with these args. */
function pyStr(args: unknown[]): string {
  if (args.length === 1) return typeof args[0] === "string" ? args[0] : pyRepr(args[0], false);
  return pyRepr(args);
}

/** Translate anything thrown by a handler into (status, message, headers). */
export function translateError(err: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof RapiHttpError) return { status: err.status, message: err.message, headers: err.headers };
  // Queue refuses submissions: Ganeti's HttpServiceUnavailable.
  if (err instanceof JobQueueError) return { status: 503, message: err.message, headers: {} };
  // The query server could not parse the request: LUXI protocol error → 502.
  if (err instanceof QueryParseError) return { status: 502, message: `Failed to parse request: ${err.message}`, headers: {} };
  if (err instanceof QueryParameterError) return { status: 500, message: err.message, headers: {} };
  if (err instanceof OpPrereqError) return { status: 500, message: pyStr(err.encodeArgs()), headers: {} };
  if (err instanceof GanetiError) return { status: 500, message: pyStr(err.encodeArgs()), headers: {} };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, message, headers: {} };
}

/** Python's type(x).__name__ for JSON values (CheckType messages). */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (Array.isArray(v)) return "list";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return "dict";
}

/** baserlib.CheckType. */
export function checkType(v: unknown, expected: "dict" | "str" | "list", descr: string): void {
  if (pyTypeName(v) !== expected) throw badRequest(`${descr}: Type is '${pyTypeName(v)}', but '${expected}' is expected`);
}

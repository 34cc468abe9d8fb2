// The RAPI endpoint table format: one entry per (method, path), as data.
// This is Ganeti's rlib2 resource classes (PUT_OPCODE, PUT_RENAME,
// GetPutOpInput's static parameters, *_ACCESS, *_FORBIDDEN) written down as
// a table, so that one generic server handler covers the opcode-backed
// endpoints and the SDK and OpenAPI document are derived from it.
import { z } from "zod";
import type { OpcodeId } from "../opcodes/registry.js";

export const HTTP_METHODS = ["GET", "PUT", "POST", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Access options a user needs: [] = anonymous (unless --require-authentication). */
export type AccessList = readonly [] | readonly ["write"] | readonly ["read", "write"];
export const ANONYMOUS: AccessList = [];
export const WRITE: AccessList = ["write"];
export const READ: AccessList = ["read", "write"];

/** Query parameters: "int" flags are parsed with Python's int() of the first value. */
export interface QueryParamDef {
  kind: "int" | "string" | "list";
  description: string;
  required?: boolean;
}

/** Where a static (non-body) opcode parameter comes from. */
export type StaticSource =
  | { from: "path"; param: string; int?: boolean; list?: boolean }
  /** bool(int(first value)) with a default when absent. */
  | { from: "flag"; query: string; default?: number }
  /** First value of a string query parameter. */
  | { from: "string"; query: string; default: string | null }
  /** Every value of a repeated query parameter. */
  | { from: "list"; query: string }
  | { from: "const"; value: unknown };

export interface OpcodeMapping {
  opId: OpcodeId;
  /**
   * "body": the JSON body holds the opcode parameters (Ganeti's
   * `(self.request_body, static)`); "ignored": the body is not read
   * (`({}, static)`).
   */
  body: "body" | "ignored";
  static: Record<string, StaticSource>;
  /** Old name → new name (Ganeti's *_RENAME). */
  renames?: Record<string, string>;
  /** Parameters that answer 403 (Ganeti's *_FORBIDDEN). */
  forbidden?: readonly string[];
  /** Ganeti's _ConvertUsbDevices: `hvparams.usb_devices` spaces become commas. */
  convertUsbDevices?: boolean;
}

export interface Endpoint {
  /** rlib2 class name without `R_2_` (used in the reason trail `gnt:library:rlib2:<name>`). */
  name: string;
  method: HttpMethod;
  /** OpenAPI-style path: `/2/instances/{instance_name}/startup`. */
  path: string;
  access: AccessList;
  summary: string;
  query: Record<string, QueryParamDef>;
  /** Request body shape when it is not an opcode mapping (documentation and OpenAPI). */
  body?: z.ZodType;
  /** Opcode-backed endpoint handled by the generic handler. */
  opcode?: OpcodeMapping;
  /** Named special handler (server/src/rapi/handlers). Exactly one of opcode/handler. */
  handler?: string;
  response: z.ZodType;
}

/** Path parameters that are integers (`\d+`); every other one is a name (`[\w._-]+`). */
export const INT_PATH_PARAMS = new Set(["job_id", "disk_index"]);

export const JobIdResponseSchema = z.number().int().describe("job id");

// ---- shared query parameter definitions ----------------------------------------

export const Q = {
  bulk: { kind: "int", description: "1: full objects instead of {id|name, uri} entries" },
  lock: { kind: "int", description: "locked query (rejected by Ganeti 3.0: send 0 or omit)" },
  dryRun: { kind: "int", description: "1: only check prerequisites (opcode dry_run)" },
  force: { kind: "int", description: "1: force the operation" },
  reason: { kind: "string", description: "reason recorded in the opcode reason trail" },
  noRemember: { kind: "int", description: "1: do not record the state change" },
  tag: { kind: "list", description: "tag (repeat for several)" },
} as const satisfies Record<string, QueryParamDef>;

/** The static parameters of most endpoints: the named object from the path. */
export const fromPath = (param: string): StaticSource => ({ from: "path", param });
export const flag = (query: string, def = 0): StaticSource => ({ from: "flag", query, default: def });
export const DRY_RUN: Record<string, StaticSource> = { dry_run: flag("dry-run") };

export function endpoint(e: Omit<Endpoint, "query"> & { query?: Endpoint["query"] }): Endpoint {
  return { query: {}, ...e };
}

/** GET/PUT/DELETE of an object's tags (cluster: `name` null). */
export function tagEndpoints(base: string, name: string, kind: string, nameParam: string | null): Endpoint[] {
  const stat: Record<string, StaticSource> = {
    kind: { from: "const", value: kind },
    name: nameParam ? fromPath(nameParam) : { from: "const", value: null },
    tags: { from: "list", query: "tag" },
    ...DRY_RUN,
  };
  const q = { tag: Q.tag, "dry-run": Q.dryRun, reason: Q.reason };
  return [
    endpoint({
      name,
      method: "GET",
      path: `${base}/tags`,
      access: ANONYMOUS,
      summary: `List the ${kind}'s tags`,
      handler: "tags.get",
      response: z.array(z.string()),
    }),
    endpoint({
      name,
      method: "PUT",
      path: `${base}/tags`,
      access: WRITE,
      summary: `Add tags to the ${kind}`,
      query: q,
      opcode: { opId: "OP_TAGS_SET", body: "ignored", static: stat },
      response: JobIdResponseSchema,
    }),
    endpoint({
      name,
      method: "DELETE",
      path: `${base}/tags`,
      access: WRITE,
      summary: `Remove tags from the ${kind}`,
      query: q,
      opcode: { opId: "OP_TAGS_DEL", body: "ignored", static: stat },
      response: JobIdResponseSchema,
    }),
  ];
}

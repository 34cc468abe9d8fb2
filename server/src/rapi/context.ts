// What a RAPI handler gets: the parsed request and the daemon's services.
import type { Endpoint } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../config/cluster-config.js";
import type { QueryEngine } from "../config/query/engine.js";
import type { JobQueueApi } from "../jobs/queue-api.js";
import type { RpcRunner } from "../rpc/runner.js";
import type { RapiUser } from "./auth.js";
import { badRequest } from "./errors.js";

export interface RapiServices {
  config: ClusterConfig;
  queue: JobQueueApi;
  rpc: RpcRunner;
  engine: QueryEngine;
  /** Epoch nanoseconds (reason trail timestamps). */
  nowNs: () => bigint;
  /** Long-poll cap of /2/jobs/ID/wait. */
  waitTimeoutMs: number;
}

export interface RapiRequest {
  endpoint: Endpoint;
  method: string;
  path: string;
  params: Record<string, string>;
  /** parse_qs: repeated keys → list, blank values dropped. */
  query: Map<string, string[]>;
  /** Parsed JSON body, null when empty. */
  body: unknown;
  user: RapiUser | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type Handler = (req: RapiRequest, svc: RapiServices) => Promise<unknown> | unknown;

/** A handler result that is already JSON (UTF-8), sent as is. */
export class RawJson {
  constructor(readonly bytes: Buffer) {}
}

/** Python's int() of a query value (whitespace allowed, optional sign, digits). */
function pyInt(s: string): number | null {
  const t = s.trim().replace(/_/g, "");
  return /^[+-]?\d+$/.test(t) ? Number(t) : null;
}

/** baserlib._checkIntVariable. */
export function intArg(req: RapiRequest, name: string, def = 0): number {
  const v = req.query.get(name);
  if (!v || v.length === 0) return def;
  const n = pyInt(v[0] as string);
  if (n === null) throw badRequest(`Invalid value for the '${name}' parameter`);
  return n;
}
export const flagArg = (req: RapiRequest, name: string, def = 0): boolean => intArg(req, name, def) !== 0;

/** baserlib._checkStringVariable. */
export function stringArg<D extends string | null>(req: RapiRequest, name: string, def: D): string | D {
  const v = req.query.get(name);
  return v && v.length > 0 ? (v[0] as string) : def;
}

/** The opcode reason trail RAPI builds (`gnt:user` only when ?reason= is given). */
export function reasonTrail(req: RapiRequest, svc: RapiServices): Array<[string, string, number]> {
  const trail: Array<[string, string, number]> = [];
  const user = stringArg(req, "reason", null);
  // Nanoseconds exceed 2^53; JSON numbers carry them as Ganeti does (doubles on the Python side).
  if (user) trail.push(["gnt:user", user, Number(svc.nowNs())]);
  trail.push([`gnt:library:rlib2:${req.endpoint.name}`, "", Number(svc.nowNs())]);
  return trail;
}

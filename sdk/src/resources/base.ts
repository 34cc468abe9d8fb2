import type { Requester } from "../core/request.js";

/** Base of every resource namespace: holds the shared requester. */
export abstract class Resource {
  constructor(protected readonly r: Requester) {}
}

/** `signal`/`timeoutMs` picked out of a call's options. */
export function callOpts(o: { signal?: AbortSignal; timeoutMs?: number } | undefined): {
  signal?: AbortSignal;
  timeoutMs?: number;
} {
  const out: { signal?: AbortSignal; timeoutMs?: number } = {};
  if (o?.signal) out.signal = o.signal;
  if (o?.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs;
  return out;
}

/** Options of list methods. */
export interface ListOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  reason?: string;
}

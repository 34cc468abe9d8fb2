// Endpoint call + response parsing. Every response is parsed with its zod
// schema from @ganeti-ts/schema; a mismatch becomes ResponseValidationError
// with the path that failed.
import { z } from "zod";
import { JobIdSchema } from "@ganeti-ts/schema";
import { ResponseValidationError } from "./errors.js";
import type { SendOptions, Transport } from "./transport.js";
import { JobHandle, type JobWaiter } from "./job-handle.js";

/** Per-call options accepted by every SDK method. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Options of every job-submitting method: `dryRun` → `?dry-run=1`, `reason` → `?reason=`. */
export interface JobCallOptions extends CallOptions {
  dryRun?: boolean;
  reason?: string;
}

function formatPath(p: readonly PropertyKey[]): string {
  let out = "";
  for (const k of p) {
    if (typeof k === "number") out += `[${k}]`;
    else {
      const s = String(k);
      out += /^[A-Za-z_$][\w$]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

export function parseResponse<T>(schema: z.ZodType<T>, data: unknown, endpoint: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  throw new ResponseValidationError(
    endpoint,
    r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
  );
}

export class Requester {
  constructor(
    readonly transport: Transport,
    private readonly waiter: () => JobWaiter,
  ) {}

  /** Call an endpoint and parse its body. */
  async call<T>(schema: z.ZodType<T>, o: SendOptions & CallOptions): Promise<T> {
    const data = await this.transport.send(o);
    return parseResponse(schema, data, `${o.method} ${o.path}`);
  }

  /** Call a job-submitting endpoint (never retried) and wrap the job id. */
  submit<R = unknown[]>(o: SendOptions & JobCallOptions): JobHandle<R> {
    const query = { ...o.query };
    if (o.dryRun) query["dry-run"] = 1;
    if (o.reason !== undefined) query.reason = o.reason;
    const id = this.call(JobIdSchema, { ...o, query, idempotent: false });
    return new JobHandle<R>(id, this.waiter());
  }
}

// Pure job maths: status from opcode statuses, priority, summaries, query
// fields. No I/O.
import type { JobRecord, JobStatus, QueuedOpcode, Timestamp } from "@ganeti-ts/schema";

export const FINALIZED: ReadonlySet<JobStatus> = new Set(["success", "error", "canceled"]);

/** Ganeti's CalcStatus. */
export function calcJobStatus(ops: readonly QueuedOpcode[]): JobStatus {
  if (ops.length > 0 && ops.every((o) => o.status === "success")) return "success";
  let status: JobStatus = "queued";
  let allSuccess = true;
  for (const op of ops) {
    if (op.status === "success") continue;
    allSuccess = false;
    if (op.status === "canceling" || op.status === "error" || op.status === "canceled") return op.status;
    if (op.status === "waiting" || op.status === "running") status = op.status;
  }
  return allSuccess ? "success" : status;
}

export function isFinal(job: JobRecord): boolean {
  return FINALIZED.has(calcJobStatus(job.ops));
}

/** Minimum priority of unfinished opcodes (0 once all are done). */
export function jobPriority(job: JobRecord): number {
  const open = job.ops.filter((o) => !FINALIZED.has(o.status));
  return open.length ? Math.min(...open.map((o) => o.priority)) : 0;
}

/** What Ganeti shows instead of a private or secret value. */
export const REDACTED = "<redacted>";
/** Parameter dicts whose values are private (shown redacted) or secret (never stored). */
const PRIVATE_DICTS = new Set(["osparams_private", "osparams_secret"]);
/** Per-OS dicts of private parameters. */
const PRIVATE_NESTED_DICTS = new Set(["osparams_private_cluster"]);
const SECRET_DICT = "osparams_secret";

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const redactValues = (d: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.keys(d).map((k) => [k, REDACTED]));

/**
 * Copy of `v` with the values of the dicts named in `keys` (and of the per-OS
 * dicts in `nested`) replaced by "<redacted>", at any depth (multi-alloc
 * carries whole creation opcodes).
 */
function redactDicts(v: unknown, keys: ReadonlySet<string>, nested: ReadonlySet<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => redactDicts(x, keys, nested));
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (keys.has(k) && isPlainObject(x)) out[k] = redactValues(x);
    else if (nested.has(k) && isPlainObject(x)) {
      out[k] = Object.fromEntries(Object.entries(x).map(([os, d]) => [os, isPlainObject(d) ? redactValues(d) : d]));
    } else out[k] = redactDicts(x, keys, nested);
  }
  return out;
}

/** An opcode as clients see it: private and secret OS parameter values redacted. */
export function redactOpcode<T>(input: T): T {
  return redactDicts(input, PRIVATE_DICTS, PRIVATE_NESTED_DICTS) as T;
}

/** An opcode as it is written to the job file: secret OS parameter values redacted (Ganeti never stores them). */
export function withoutSecrets<T>(input: T): T {
  return redactDicts(input, new Set([SECRET_DICT]), new Set()) as T;
}

/** True when the opcode carries secret values (anywhere), which the job file will not keep. */
export function hasSecrets(input: unknown): boolean {
  if (Array.isArray(input)) return input.some(hasSecrets);
  if (!isPlainObject(input)) return false;
  return Object.entries(input).some(([k, x]) => (k === SECRET_DICT && isPlainObject(x) ? Object.keys(x).length > 0 : hasSecrets(x)));
}

/** True when a secret value was lost (the job was read back from its file): Ganeti asks to re-submit. */
export function hasLostSecrets(input: unknown): boolean {
  if (Array.isArray(input)) return input.some(hasLostSecrets);
  if (!isPlainObject(input)) return false;
  return Object.entries(input).some(([k, x]) =>
    k === SECRET_DICT && isPlainObject(x) ? Object.values(x).some((v) => v === REDACTED) : hasLostSecrets(x),
  );
}

export type SummaryFieldOf = (opId: string) => string | undefined;

export function opSummary(input: Record<string, unknown>, summaryField: SummaryFieldOf): string {
  const opId = String(input["OP_ID"] ?? "");
  const base = opId.replace(/^OP_/, "");
  const field = summaryField(opId);
  if (!field) return base;
  const v = input[field];
  if (v === undefined || v === null) return base;
  return `${base}(${typeof v === "string" ? v : JSON.stringify(v)})`;
}

export function nowTimestamp(seconds: number): Timestamp {
  const s = Math.floor(seconds);
  return [s, Math.round((seconds - s) * 1e6)];
}

/** Ganeti's job query fields (the ones RAPI exposes and a few more). */
export function jobField(job: JobRecord, field: string, summaryField: SummaryFieldOf): unknown {
  switch (field) {
    case "id":
      return job.id;
    case "status":
      return calcJobStatus(job.ops);
    case "ops":
      return job.ops.map((o) => redactOpcode(o.input));
    case "opresult":
      return job.ops.map((o) => o.result ?? null);
    case "opstatus":
      return job.ops.map((o) => o.status);
    case "oplog":
      return job.ops.map((o) => o.log);
    case "summary":
      return job.ops.map((o) => opSummary(o.input, summaryField));
    case "received_ts":
      return job.received_timestamp;
    case "start_ts":
      return job.start_timestamp;
    case "end_ts":
      return job.end_timestamp;
    case "priority":
      return jobPriority(job);
    case "archived":
      return job.archived;
    case "opstart":
      return job.ops.map((o) => o.start_timestamp);
    case "opexec":
      return job.ops.map((o) => o.exec_timestamp);
    case "opend":
      return job.ops.map((o) => o.end_timestamp);
    case "oppriority":
      return job.ops.map((o) => o.priority);
    default:
      return null;
  }
}

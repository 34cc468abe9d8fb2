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
      return job.ops.map((o) => o.input);
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


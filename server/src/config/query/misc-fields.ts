// Query fields of jobs, locks, exports and filter rules.
import type { FilterRuleObject, JobRecord } from "@ganeti-ts/schema";
import { f, fieldTable, normal, type FieldDef } from "./types.js";

/** A job row: the record plus the queue's field renderer (JobQueueApi.jobFields). */
export interface JobRow {
  job: JobRecord;
  values: (fields: string[]) => unknown[];
}

const jf = (name: string, title: string, kind: FieldDef<JobRow>["kind"], doc: string): FieldDef<JobRow> =>
  f<JobRow>(name, title, kind, doc, (r) => normal(r.values([name])[0] ?? null));
const ts = (doc: string) => `${doc} (tuple containing seconds and microseconds)`;

export const JOB_FIELDS = fieldTable<JobRow>([
  f<JobRow>("id", "ID", "number", "Job ID", (r) => normal(r.job.id)),
  jf("status", "Status", "text", "Job status"),
  jf("priority", "Priority", "number", "Current job priority (19 to -20)"),
  f<JobRow>("archived", "Archived", "bool", "Whether job is archived", (r) => normal(r.job.archived)),
  jf("ops", "OpCodes", "other", "List of all opcodes"),
  jf("opresult", "OpCode_result", "other", "List of opcodes results"),
  jf("opstatus", "OpCode_status", "other", "List of opcodes status"),
  jf("oplog", "OpCode_log", "other", "List of opcode output logs"),
  jf("opstart", "OpCode_start", "other", "List of opcode start timestamps (before acquiring locks)"),
  jf("opexec", "OpCode_exec", "other", "List of opcode execution start timestamps (after acquiring locks)"),
  jf("opend", "OpCode_end", "other", "List of opcode execution end timestamps"),
  jf("oppriority", "OpCode_prio", "other", "List of opcode priorities"),
  jf("summary", "Summary", "other", "List of per-opcode summaries"),
  jf("received_ts", "Received", "other", ts("Timestamp of when job was received")),
  jf("start_ts", "Start", "other", ts("Timestamp of job start")),
  jf("end_ts", "End", "other", ts("Timestamp of job end")),
]);

/** Locks are internal to the job queue; the resource exists but lists nothing here. */
export const LOCK_FIELDS = fieldTable<never>([
  f<never>("name", "Name", "text", "Lock name", () => normal(null)),
  f<never>("mode", "Mode", "other", "Mode in which the lock is currently acquired (exclusive or shared)", () => normal(null)),
  f<never>("owner", "Owner", "other", "Current lock owner(s)", () => normal(null)),
  f<never>("pending", "Pending", "other", "Threads waiting for the lock", () => normal(null)),
]);

interface ExportRow {
  node: string;
  export: string;
}
export const EXPORT_FIELDS = fieldTable<ExportRow>([
  f<ExportRow>("node", "Node", "text", "Node name", (r) => normal(r.node), { hostname: true }),
  f<ExportRow>("export", "Export", "text", "Export name", (r) => normal(r.export)),
]);

type F = FilterRuleObject;
export const FILTER_FIELDS = fieldTable<F>([
  f<F>("action", "Action", "other", "Action", (r) => normal(r.action)),
  f<F>("predicates", "Predicates", "other", "Predicates", (r) => normal(r.predicates)),
  f<F>("priority", "Priority", "number", "Priority", (r) => normal(r.priority)),
  f<F>("reason_trail", "ReasonTrail", "other", "Reason trail", (r) => normal(r.reason_trail)),
  f<F>("uuid", "UUID", "text", "Network UUID", (r) => normal(r.uuid)),
  f<F>("watermark", "Watermark", "number", "Highest job ID used at the time when the filter was added", (r) => normal(r.watermark)),
]);

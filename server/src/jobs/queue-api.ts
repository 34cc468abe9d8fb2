// What the RAPI layer (and the local control socket) may ask of the job queue.
import type { JobRecord, LogEntry } from "@ganeti-ts/schema";
import type { OpcodeInput, SubmitResult } from "../cmdlib/base.js";

export interface WaitResult {
  job_info: unknown[];
  log_entries: LogEntry[];
}

export interface JobQueueApi {
  /**
   * Validate (OpPrereqError/TypeEnforcementError-free: the caller validated the
   * wire shape), persist and enqueue a job. Resolves with the id once the job
   * is durable. Throws JobQueueError when the queue is full or drained.
   */
  submit(ops: OpcodeInput[]): Promise<number>;
  /** Several jobs; negative `depends` ids are relative to this submission. */
  submitMany(jobs: OpcodeInput[][]): Promise<SubmitResult[]>;
  /** A live or archived job, or null if unknown. */
  getJob(id: number): Promise<JobRecord | null>;
  /** Ids of live (non-archived) jobs, ascending. */
  listJobIds(): number[];
  /** Values of Ganeti job query fields (id, status, ops, opresult, oplog, summary, received_ts, ...). */
  jobFields(job: JobRecord, fields: string[]): unknown[];
  /**
   * Long-poll: resolves when `fields` differ from `previousInfo`, when log
   * entries newer than `previousLogSerial` exist, when the job is final, or
   * with the unchanged info after `timeoutMs`. null if the job is unknown.
   */
  waitForChange(
    id: number,
    fields: string[],
    previousInfo: unknown[] | null,
    previousLogSerial: number | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitResult | null>;
  /** `[success, message]` as Ganeti's CancelJob. */
  cancel(id: number): Promise<[boolean, string]>;
  /** The job filter rules in the config changed: apply them to queued jobs now. */
  filtersChanged?(): void;
}

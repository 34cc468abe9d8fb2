import { z } from "zod";
import { SecUsecSchema } from "./common.js";

// Named Rapi* to stay apart from the job-queue record schemas in ../config/job.ts.
export const RAPI_JOB_STATUSES = ["queued", "waiting", "running", "canceling", "canceled", "success", "error"] as const;
export const RapiJobStatusSchema = z.enum(RAPI_JOB_STATUSES);
export type RapiJobStatus = z.infer<typeof RapiJobStatusSchema>;
export const FINALIZED_JOB_STATUSES: readonly RapiJobStatus[] = ["success", "error", "canceled"];

/** One log entry: `[serial, [sec, usec], type, message]`. */
export const JobLogEntrySchema = z.tuple([z.number().int(), SecUsecSchema, z.string(), z.unknown()]);
export type JobLogEntry = z.infer<typeof JobLogEntrySchema>;

/** An opcode as stored in a job: `OP_ID` plus its parameters. */
export const JobOpcodeSchema = z.looseObject({ OP_ID: z.string() });

/**
 * `GET /2/jobs/ID`. Every field but `id` is null for an unknown job
 * (Ganeti 3.0 answers 200 instead of 404).
 */
export const JobInfoSchema = z.looseObject({
  id: z.number().int(),
  ops: z.array(JobOpcodeSchema).nullable(),
  status: RapiJobStatusSchema.nullable(),
  summary: z.array(z.string()).nullable(),
  opstatus: z.array(RapiJobStatusSchema).nullable(),
  opresult: z.array(z.unknown()).nullable(),
  oplog: z.array(z.array(JobLogEntrySchema)).nullable(),
  received_ts: SecUsecSchema.nullable(),
  start_ts: SecUsecSchema.nullable(),
  end_ts: SecUsecSchema.nullable(),
});
export type JobInfo = z.infer<typeof JobInfoSchema>;

/** `GET /2/jobs?bulk=1` items (J_FIELDS_BULK only). */
export const JobBulkItemSchema = JobInfoSchema.omit({ opresult: true, oplog: true });
export type JobBulkItem = z.infer<typeof JobBulkItemSchema>;

/** `GET /2/jobs` index entries: `{"id": 17, "uri": "/2/jobs/17"}`. */
export const JobListItemSchema = z.looseObject({ id: z.number().int(), uri: z.string() });
export type JobListItem = z.infer<typeof JobListItemSchema>;

/** `GET /2/jobs/ID/wait`: changed field values and new log entries, or null. */
export const JobWaitResultSchema = z.looseObject({ job_info: z.array(z.unknown()), log_entries: z.array(JobLogEntrySchema) }).nullable();
export type JobWaitResult = z.infer<typeof JobWaitResultSchema>;

/** `DELETE /2/jobs/ID`: `[success, message]`. */
export const JobCancelResultSchema = z.tuple([z.boolean(), z.string()]);
export type JobCancelResult = z.infer<typeof JobCancelResultSchema>;

/** Job id as returned by every submitting call; pre-2.11 servers sent strings. */
export const JobIdSchema = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/** Result of LUs that spawn jobs: `{"jobs": [[true, 77], [false, "msg"]]}`. */
export const FollowUpJobsSchema = z.looseObject({
  jobs: z.array(z.tuple([z.boolean(), z.union([z.number().int(), z.string()])])),
});
export type FollowUpJobs = z.infer<typeof FollowUpJobsSchema>;

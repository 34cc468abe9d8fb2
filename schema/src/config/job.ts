// A job as persisted in the queue directory (one file per job), close to
// Ganeti's _QueuedJob/_QueuedOpCode serialisation.
import { z } from "zod";

export const JOB_STATUSES = ["queued", "waiting", "running", "canceling", "canceled", "success", "error"] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;
export const FINAL_STATUSES: readonly JobStatus[] = ["success", "error", "canceled"];

/** [seconds, microseconds] */
export const TimestampSchema = z.tuple([z.number().int(), z.number().int()]);
export type Timestamp = z.infer<typeof TimestampSchema>;

/** [serial, [sec, usec], type, message] */
export const LogEntrySchema = z.tuple([z.number().int(), TimestampSchema, z.string(), z.unknown()]);
export type LogEntry = z.infer<typeof LogEntrySchema>;

export const QueuedOpcodeSchema = z.object({
  input: z.record(z.string(), z.unknown()), // the validated opcode dict, OP_ID included
  status: JobStatusSchema,
  result: z.unknown(),
  log: z.array(LogEntrySchema),
  priority: z.number().int(),
  start_timestamp: TimestampSchema.nullable(),
  exec_timestamp: TimestampSchema.nullable(),
  end_timestamp: TimestampSchema.nullable(),
});
export type QueuedOpcode = z.infer<typeof QueuedOpcodeSchema>;

export const JobRecordSchema = z.object({
  id: z.number().int(),
  ops: z.array(QueuedOpcodeSchema),
  received_timestamp: TimestampSchema.nullable(),
  start_timestamp: TimestampSchema.nullable(),
  end_timestamp: TimestampSchema.nullable(),
  archived: z.boolean(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

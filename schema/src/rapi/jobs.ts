// /2/jobs endpoints (LUXI job queries, wait and cancel).
import { z } from "zod";
import { JobBulkItemSchema, JobCancelResultSchema, JobInfoSchema, JobListItemSchema, JobWaitResultSchema } from "../objects/job.js";
import { ANONYMOUS, Q, WRITE, endpoint, type Endpoint } from "./define.js";

export const JobWaitBodySchema = z.object({
  fields: z.array(z.string()),
  previous_job_info: z.array(z.unknown()).nullable().optional(),
  previous_log_serial: z.number().int().nullable().optional(),
});

export const JOB_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "jobs",
    method: "GET",
    path: "/2/jobs",
    access: ANONYMOUS,
    summary: "List live jobs",
    query: { bulk: Q.bulk },
    handler: "jobs.list",
    response: z.union([z.array(JobListItemSchema), z.array(JobBulkItemSchema)]),
  }),
  endpoint({
    name: "jobs_id",
    method: "GET",
    path: "/2/jobs/{job_id}",
    access: ANONYMOUS,
    summary: "One job (unknown id: every field null)",
    handler: "jobs.get",
    response: JobInfoSchema,
  }),
  endpoint({
    name: "jobs_id",
    method: "DELETE",
    path: "/2/jobs/{job_id}",
    access: WRITE,
    summary: "Cancel a job",
    handler: "jobs.cancel",
    response: JobCancelResultSchema,
  }),
  endpoint({
    name: "jobs_id_wait",
    method: "GET",
    path: "/2/jobs/{job_id}/wait",
    access: ["write"],
    summary: "Wait (up to 10 s) for a job to change",
    body: JobWaitBodySchema,
    handler: "jobs.wait",
    response: JobWaitResultSchema,
  }),
];

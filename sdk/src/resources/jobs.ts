import { z } from "zod";
import {
  JobBulkItemSchema,
  JobCancelResultSchema,
  JobInfoSchema,
  JobListItemSchema,
  JobWaitResultSchema,
  type JobBulkItem,
  type JobCancelResult,
  type JobInfo,
  type JobListItem,
  type JobWaitResult,
} from "@ganeti-ts/schema";
import type { CallOptions } from "../core/request.js";
import { JobHandle, type JobWaiter, type WaitOptions } from "../core/job-handle.js";
import { path } from "../core/path.js";
import { Resource, callOpts } from "./base.js";
import type { Requester } from "../core/request.js";

/** `client.jobs`: /2/jobs and below. */
export class Jobs extends Resource {
  constructor(
    r: Requester,
    private readonly waiter: JobWaiter,
  ) {
    super(r);
  }

  /** `GET /2/jobs` (live jobs; `bulk: true` → summaries). */
  list(opts: CallOptions & { bulk: true }): Promise<JobBulkItem[]>;
  list(opts?: CallOptions & { bulk?: false }): Promise<JobListItem[]>;
  list(opts: CallOptions & { bulk?: boolean } = {}): Promise<JobBulkItem[] | JobListItem[]> {
    const schema = opts.bulk ? z.array(JobBulkItemSchema) : z.array(JobListItemSchema);
    return this.r.call<JobBulkItem[] | JobListItem[]>(schema, {
      method: "GET",
      path: "/2/jobs",
      query: { bulk: opts.bulk ? 1 : undefined },
      ...callOpts(opts),
    });
  }

  /**
   * Iterate over live jobs with their full details, fetching them lazily
   * (`concurrency` at a time) so a long queue does not load all at once.
   */
  async *iterate(opts: CallOptions & { concurrency?: number } = {}): AsyncGenerator<JobInfo> {
    const ids = (await this.list(opts)).map((j) => j.id);
    const n = Math.max(1, opts.concurrency ?? 4);
    for (let i = 0; i < ids.length; i += n) {
      const batch = await Promise.all(ids.slice(i, i + n).map((id) => this.get(id, opts)));
      yield* batch;
    }
  }

  /** `GET /2/jobs/ID`. An unknown id gives a job with every field null (Ganeti 3.0). */
  get(id: number, opts?: CallOptions): Promise<JobInfo> {
    return this.r.call(JobInfoSchema, { method: "GET", path: path`/2/jobs/${id}`, ...callOpts(opts) });
  }

  /** `DELETE /2/jobs/ID` → `[success, message]`. Not a job submission, but not retried either. */
  cancel(id: number, opts?: CallOptions): Promise<JobCancelResult> {
    return this.r.call(JobCancelResultSchema, {
      method: "DELETE",
      path: path`/2/jobs/${id}`,
      idempotent: false,
      ...callOpts(opts),
    });
  }

  /** `GET /2/jobs/ID/wait`: one long-poll round (needs write access). */
  waitForChange(
    id: number,
    body: { fields: string[]; previous_job_info?: unknown[] | null; previous_log_serial?: number | null },
    opts?: CallOptions,
  ): Promise<JobWaitResult> {
    return this.r.call(JobWaitResultSchema, {
      method: "GET",
      path: path`/2/jobs/${id}/wait`,
      body: { previous_job_info: null, previous_log_serial: null, ...body },
      ...callOpts(opts),
    });
  }

  /** A handle for an existing job id (e.g. from `--submit`). */
  handle(id: number): JobHandle {
    return new JobHandle(Promise.resolve(id), this.waiter);
  }

  /** Wait for a job by id; resolves to its opresult (see JobHandle.wait). */
  wait(id: number, opts?: WaitOptions): Promise<unknown[]> {
    return this.waiter.wait(id, opts);
  }
}

// Jobs anonymous clients may cause. Where anonymous reads are allowed
// (Ganeti's default), two reads run a job as in Ganeti (GET
// /2/instances/NAME/info, GET /2/os); without a bound an anonymous client
// could fill the queue and leave authenticated users with 503. Anonymous
// requests share a small budget of unfinished jobs; beyond it they get 503
// (Ganeti's answer when the queue refuses a job) until some finish.
import { isFinal } from "../jobs/job.js";
import type { JobQueueApi } from "../jobs/queue-api.js";
import { JobQueueError } from "../lib/errors.js";
import type { OpcodeInput, SubmitResult } from "../cmdlib/base.js";

export const DEFAULT_ANONYMOUS_JOB_LIMIT = 10;

export class AnonymousJobBudget {
  private readonly pending = new Set<number>();

  constructor(
    private readonly queue: JobQueueApi,
    readonly limit = DEFAULT_ANONYMOUS_JOB_LIMIT,
  ) {}

  /** Unfinished jobs submitted anonymously (finished ones are forgotten here). */
  async inFlight(): Promise<number> {
    for (const id of [...this.pending]) {
      const job = await this.queue.getJob(id);
      if (!job || isFinal(job)) this.pending.delete(id);
    }
    return this.pending.size;
  }

  private async admit(count: number): Promise<void> {
    if ((await this.inFlight()) + count > this.limit) {
      throw new JobQueueError("Too many unfinished jobs from anonymous clients, try again later or authenticate");
    }
  }

  /** The queue as an anonymous request sees it: submissions count against the budget. */
  queueView(): JobQueueApi {
    const q = this.queue;
    const view: JobQueueApi = {
      submit: async (ops: OpcodeInput[]) => {
        await this.admit(1);
        const id = await q.submit(ops);
        this.pending.add(id);
        return id;
      },
      submitMany: async (jobs: OpcodeInput[][]): Promise<SubmitResult[]> => {
        await this.admit(jobs.length);
        const res = await q.submitMany(jobs);
        for (const [ok, id] of res) if (ok && typeof id === "number") this.pending.add(id);
        return res;
      },
      getJob: (id) => q.getJob(id),
      listJobIds: () => q.listJobIds(),
      jobFields: (job, fields) => q.jobFields(job, fields),
      waitForChange: (id, fields, info, serial, timeoutMs, signal) => q.waitForChange(id, fields, info, serial, timeoutMs, signal),
      cancel: (id) => q.cancel(id),
      ...(q.filtersChanged ? { filtersChanged: () => q.filtersChanged?.() } : {}),
    };
    return view;
  }
}

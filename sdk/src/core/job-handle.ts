// JobHandle: what every job-submitting method returns. Thenable to the job
// id, so `const id = await client.instances.startup("x")` works, and
// `.wait()` follows the job to its end through /2/jobs/ID/wait long-polling
// (falling back to plain GET polling for users without write access).
import {
  FINALIZED_JOB_STATUSES,
  FollowUpJobsSchema,
  JobInfoSchema,
  JobWaitResultSchema,
  type JobInfo,
  type RapiJobStatus,
} from "@ganeti-ts/schema";
import {
  AbortedError,
  AuthError,
  GanetiError,
  JobCanceledError,
  JobFailedError,
  JobNotFoundError,
  JobWaitTimeoutError,
  decodeJobError,
  jobFailedFromJob,
} from "./errors.js";
import { path } from "./path.js";
import { parseResponse } from "./request.js";
import type { Transport } from "./transport.js";

export interface JobLogLine {
  jobId: number;
  serial: number;
  /** Milliseconds since the epoch. */
  time: number;
  type: string;
  message: string;
}

export interface WaitOptions {
  /** Called for each new job log entry, in serial order. */
  onLog?: (line: JobLogLine) => void;
  /** Called when the job status changes (queued → waiting → running → ...). */
  onStatus?: (status: RapiJobStatus, jobId: number) => void;
  signal?: AbortSignal;
  /** Give up (JobWaitTimeoutError) after this long; the job keeps running. */
  timeoutMs?: number;
  /** Also wait for jobs spawned by this one (`{"jobs": [[true, id], ...]}`); default true. */
  followUp?: boolean;
  /** Polling backoff for the fallback mode, ms (default 250 → 5000). */
  pollMinMs?: number;
  pollMaxMs?: number;
}

const FINAL = new Set<string>(FINALIZED_JOB_STATUSES);

export class JobWaiter {
  constructor(private readonly t: Transport) {}

  /** Fetch a job (plain GET, retried like any GET). */
  async get(id: number, signal?: AbortSignal): Promise<JobInfo> {
    const data = await this.t.send({ method: "GET", path: path`/2/jobs/${id}`, ...(signal ? { signal } : {}) });
    return parseResponse(JobInfoSchema, data, `GET /2/jobs/${id}`);
  }

  /** Wait for a job; resolve to its opresult, reject with JobFailedError/JobCanceledError. */
  async wait(id: number, opts: WaitOptions = {}): Promise<unknown[]> {
    const ctl = new AbortController();
    const cleanup: (() => void)[] = [];
    const deadline = opts.timeoutMs !== undefined ? this.t.now() + opts.timeoutMs : undefined;
    if (opts.signal) {
      if (opts.signal.aborted) throw new AbortedError();
      const onAbort = () => ctl.abort(new AbortedError());
      opts.signal.addEventListener("abort", onAbort, { once: true });
      cleanup.push(() => opts.signal?.removeEventListener("abort", onAbort));
    }
    if (opts.timeoutMs !== undefined) {
      // Interrupts an in-flight long poll; the loop also checks the (injectable) clock.
      const timer = setTimeout(() => ctl.abort(new JobWaitTimeoutError(id, opts.timeoutMs ?? 0)), opts.timeoutMs);
      timer.unref?.();
      cleanup.push(() => clearTimeout(timer));
    }
    const checkDeadline = () => {
      if (deadline !== undefined && this.t.now() >= deadline) throw new JobWaitTimeoutError(id, opts.timeoutMs ?? 0);
    };
    try {
      return await this.follow(id, opts, ctl.signal, checkDeadline);
    } catch (err) {
      // An abort caused by our timer surfaces as the timeout error itself.
      if (ctl.signal.aborted && ctl.signal.reason instanceof GanetiError && err instanceof AbortedError) {
        throw ctl.signal.reason;
      }
      throw err;
    } finally {
      for (const c of cleanup) c();
    }
  }

  private async follow(id: number, opts: WaitOptions, signal: AbortSignal, checkDeadline: () => void): Promise<unknown[]> {
    const job = await this.untilFinal(id, opts, signal, checkDeadline);
    if (job.status === "error") throw jobFailedFromJob(job);
    if (job.status === "canceled") throw new JobCanceledError(id);
    const result = job.opresult ?? [];
    if (opts.followUp !== false) {
      for (const r of result) {
        const fu = FollowUpJobsSchema.safeParse(r);
        if (!fu.success) continue;
        for (const [ok, child] of fu.data.jobs) {
          if (!ok) {
            const { errorClass, message, ecode } = decodeJobError(child);
            throw new JobFailedError(
              {
                jobId: id,
                opIndex: 0,
                opId: job.ops?.[0]?.OP_ID ?? null,
                errorClass: errorClass === "JobError" ? "JobSubmissionError" : errorClass,
                ecode,
                errorMessage: message,
              },
              job,
            );
          }
          await this.follow(Number(child), opts, signal, checkDeadline);
        }
      }
    }
    return result;
  }

  /** Long-poll /wait until the job is final, then GET it once for its result. */
  private async untilFinal(id: number, opts: WaitOptions, signal: AbortSignal, checkDeadline: () => void): Promise<JobInfo> {
    let prevInfo: unknown[] | null = null;
    let prevSerial: number | null = null;
    let lastStatus: string | null = null;
    const emit = (status: unknown) => {
      if (typeof status === "string" && status !== lastStatus) {
        lastStatus = status;
        opts.onStatus?.(status as RapiJobStatus, id);
      }
    };
    for (;;) {
      checkDeadline();
      let res;
      try {
        const data = await this.t.send({
          method: "GET",
          path: path`/2/jobs/${id}/wait`,
          body: { fields: ["status"], previous_job_info: prevInfo, previous_log_serial: prevSerial },
          signal,
        });
        res = parseResponse(JobWaitResultSchema, data, `GET /2/jobs/${id}/wait`);
      } catch (err) {
        // /wait needs write access; read-only users poll the job instead.
        if (err instanceof AuthError) return this.poll(id, opts, signal, checkDeadline, prevSerial, emit);
        throw err;
      }
      if (res === null) continue; // nothing changed within the server's timeout
      for (const [serial, [sec, usec], type, message] of res.log_entries) {
        if (prevSerial !== null && serial <= prevSerial) continue;
        prevSerial = serial;
        opts.onLog?.({ jobId: id, serial, time: sec * 1000 + Math.floor(usec / 1000), type, message: String(message) });
      }
      prevInfo = res.job_info;
      const status = res.job_info[0];
      emit(status);
      if (typeof status === "string" && FINAL.has(status)) {
        const job = await this.get(id, signal);
        if (job.status === null) throw new JobNotFoundError(id);
        return job;
      }
    }
  }

  private async poll(
    id: number,
    opts: WaitOptions,
    signal: AbortSignal,
    checkDeadline: () => void,
    prevSerialIn: number | null,
    emit: (s: unknown) => void,
  ): Promise<JobInfo> {
    let prevSerial = prevSerialIn ?? 0;
    let delay = opts.pollMinMs ?? 250;
    const max = opts.pollMaxMs ?? 5_000;
    for (;;) {
      checkDeadline();
      const job = await this.get(id, signal);
      if (job.status === null) throw new JobNotFoundError(id);
      const entries = (job.oplog ?? []).flat().sort((a, b) => a[0] - b[0]);
      for (const [serial, [sec, usec], type, message] of entries) {
        if (serial <= prevSerial) continue;
        prevSerial = serial;
        opts.onLog?.({ jobId: id, serial, time: sec * 1000 + Math.floor(usec / 1000), type, message: String(message) });
      }
      emit(job.status);
      if (FINAL.has(job.status)) return job;
      try {
        await this.t.sleep(Math.round(delay * (0.5 + this.t.random() / 2)), signal);
      } catch {
        throw signal.reason instanceof GanetiError ? signal.reason : new AbortedError();
      }
      delay = Math.min(max, delay * 1.5);
    }
  }
}

/**
 * Returned by every job-submitting method. Submission starts immediately;
 * `await handle` gives the job id; `handle.wait()` gives the opresult.
 */
export class JobHandle<R = unknown[]> implements PromiseLike<number> {
  /** The job id (rejects if the submission failed). */
  readonly id: Promise<number>;

  constructor(
    id: Promise<number>,
    private readonly waiter: JobWaiter,
  ) {
    this.id = id;
    // Callers may fire and forget; an unobserved failed submission must not
    // crash the process. The rejection still reaches anyone awaiting `id`.
    id.catch(() => undefined);
  }

  then<A = number, B = never>(
    onfulfilled?: ((value: number) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.id.then(onfulfilled, onrejected);
  }

  /** Wait until the job (and its follow-up jobs) finish; resolve to the job's opresult. */
  async wait(opts: WaitOptions = {}): Promise<R> {
    const id = await this.id;
    return (await this.waiter.wait(id, opts)) as R;
  }

  /** The full job object, as it is now. */
  async info(signal?: AbortSignal): Promise<JobInfo> {
    return this.waiter.get(await this.id, signal);
  }
}

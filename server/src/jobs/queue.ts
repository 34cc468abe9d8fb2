// The persistent job queue. A job is written durably before its id is
// returned; every status change that matters for recovery (running, final) is
// durable before anyone is told about it. On open, queued and waiting jobs are
// rescheduled and jobs that were running fail, as Ganeti does after an
// unclean master shutdown.
import { EventEmitter } from "node:events";
import { JobRecordSchema, type JobRecord, type JobStatus, type LogEntry, type QueuedOpcode } from "@ganeti-ts/schema";
import type { Allocator, LuContext, OpcodeInput, SubmitResult } from "../cmdlib/base.js";
import { LOCK_LEVELS } from "../cmdlib/base.js";
import type { LuTable } from "../cmdlib/registry.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import { encodeError, GanetiError, JobCanceledError, JobQueueError, OpExecError, OpPrereqError } from "../lib/errors.js";
import { withoutLogContext, type LogFn } from "../lib/log.js";
import type { RpcRunner } from "../rpc/runner.js";
import type { Store } from "../store/store.js";
import { FilterPass, orderRules, type FilterJob } from "./filters.js";
import {
  calcJobStatus,
  FINALIZED,
  hasLostSecrets,
  hasSecrets,
  isFinal,
  jobField,
  jobPriority,
  nowTimestamp,
  withoutSecrets,
  type SummaryFieldOf,
} from "./job.js";
import { LockManager } from "./locks.js";
import type { JobQueueApi, WaitResult } from "./queue-api.js";

const JOB_QUEUE_SIZE_HARD_LIMIT = 5000;
const LIVE_PREFIX = "queue/job-";
const ARCHIVE_PREFIX = "archive/";
/** Job files that could not be parsed at start. */
const CORRUPT_PREFIX = "queue-corrupt/";

function jobIdOfKey(key: string): number | null {
  const m = /\/job-(\d+)$/.exec(key);
  return m ? Number(m[1]) : null;
}

function describeParseError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** How opcodes are validated/filled at submission and summarised. */
export interface OpcodeCatalog {
  /** Fill defaults and validate; throw GanetiError (e.g. TypeEnforcementError) on bad input. */
  prepare(input: OpcodeInput): OpcodeInput;
  /** The opcode as the LU receives it: every default filled. */
  expand(stored: OpcodeInput): OpcodeInput;
  summaryField: SummaryFieldOf;
}

const PASSTHROUGH_CATALOG: OpcodeCatalog = {
  prepare: (i) => i,
  expand: (i) => i,
  summaryField: () => undefined,
};

interface JobQueueOptions {
  store: Store;
  config: ClusterConfig;
  rpc: RpcRunner;
  allocator: Allocator;
  registry: LuTable;
  catalog?: OpcodeCatalog;
  clock?: () => number;
  /** The LUs' waits between polls (drbd sync); default real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Diagnostics (job submitted/finished, feedback at debug level) with the job's `jobId`; never receives secrets. */
  log?: LogFn;
}

interface LiveJob {
  record: JobRecord;
  /** Serialised writes of this job's file. */
  writing: Promise<void>;
  abort: AbortController;
  started: boolean;
  /** Set when cancel asked a waiting job to stop. */
  cancelRequested: boolean;
}

export class JobQueue implements JobQueueApi {
  readonly locks = new LockManager();
  private readonly live = new Map<number, LiveJob>();
  /**
   * Opcodes with their secret parameters, by job id, for jobs of this
   * process only: the job file holds "<redacted>" instead (as Ganeti, which
   * hands secrets to the job's process in memory). Dropped when the job ends.
   */
  private readonly secrets = new Map<number, OpcodeInput[]>();
  private readonly events = new EventEmitter();
  private nextId = 1;
  private running = 0;
  private drained = false;
  private closed = false;
  private readonly catalog: OpcodeCatalog;
  private readonly clock: () => number;
  private readonly idle = new Set<() => void>();

  private constructor(private readonly o: JobQueueOptions) {
    this.catalog = o.catalog ?? PASSTHROUGH_CATALOG;
    this.clock = o.clock ?? (() => Date.now() / 1000);
    this.events.setMaxListeners(0);
  }

  /** Load the queue from the store, recover interrupted jobs, start scheduling. */
  static async open(o: JobQueueOptions): Promise<JobQueue> {
    const q = new JobQueue(o);
    await q.recover();
    q.schedule();
    return q;
  }

  private key(id: number): string {
    return `${LIVE_PREFIX}${id}`;
  }
  private archiveKey(id: number): string {
    return `${ARCHIVE_PREFIX}${Math.floor(id / 10000)}/job-${id}`;
  }

  private async recover(): Promise<void> {
    const keys = await this.o.store.list(LIVE_PREFIX);
    let maxId = 0;
    for (const k of keys) {
      const fileId = jobIdOfKey(k);
      if (fileId === null) continue;
      maxId = Math.max(maxId, fileId);
      const raw = await this.o.store.get(k);
      if (!raw) continue;
      let record: JobRecord;
      try {
        record = JobRecordSchema.parse(JSON.parse(raw.toString("utf8")));
        if (record.id !== fileId) throw new Error(`the file holds job ${record.id}`);
      } catch (err) {
        // As Ganeti: one unreadable job file must not keep the master down.
        // Keep it aside for inspection; its id is never reused.
        const aside = `${CORRUPT_PREFIX}job-${fileId}`;
        await this.o.store.rename(k, aside);
        this.o.log?.(`Can't parse job ${fileId} (${k}), moved to ${aside}: ${describeParseError(err)}`, { level: "warn", jobFile: fileId });
        continue;
      }
      const job: LiveJob = { record, writing: Promise.resolve(), abort: new AbortController(), started: false, cancelRequested: false };
      this.live.set(record.id, job);
      const status = calcJobStatus(record.ops);
      if (status === "running" || status === "canceling") {
        // The process that ran it is gone: fail what did not finish.
        const err: [string, unknown[]] = ["OpExecError", ["Unclean master daemon shutdown"]];
        let serial = record.ops.reduce((m, o) => Math.max(m, ...o.log.map((l) => l[0])), 0);
        for (const op of record.ops) {
          if (FINALIZED.has(op.status)) continue;
          if (op.status === "running") {
            // Say what the error means for the cluster: nothing is rolled back.
            const opId = String(op.input["OP_ID"]);
            const what =
              opId === "OP_INSTANCE_CREATE"
                ? " (the instance stays in the configuration with the disks made so far, marked up only if its start had begun)"
                : "";
            op.log.push([
              ++serial,
              this.ts(),
              "message",
              `The master daemon stopped while ${opId} was running: what it changed is kept, not rolled back${what}`,
            ]);
          }
          op.status = status === "canceling" ? "canceled" : "error";
          op.result = status === "canceling" ? "Job canceled by request" : err;
          op.end_timestamp = this.ts();
        }
        record.end_timestamp = this.ts();
        await this.persist(job);
      } else if (status === "waiting") {
        for (const op of record.ops) if (op.status === "waiting") op.status = "queued";
        await this.persist(job);
      }
    }
    for (const k of await this.o.store.list(CORRUPT_PREFIX)) maxId = Math.max(maxId, jobIdOfKey(k) ?? 0);
    // archive/<bucket>/job-ID keys: the id high-water mark.
    for (const jk of await this.o.store.list(ARCHIVE_PREFIX)) maxId = Math.max(maxId, Number(jk.split("job-")[1]) || 0);
    this.nextId = maxId + 1;
  }

  private ts() {
    return nowTimestamp(this.clock());
  }

  private persist(job: LiveJob): Promise<void> {
    const text = JSON.stringify(job.record);
    const id = job.record.id;
    job.writing = job.writing.then(() => this.o.store.put(this.key(id), text));
    return job.writing;
  }

  private notify(id: number): void {
    this.events.emit(`job:${id}`);
  }

  // ---- submission ------------------------------------------------------------

  setDrained(drained: boolean): void {
    this.drained = drained;
  }

  private newRecord(id: number, ops: OpcodeInput[]): JobRecord {
    return {
      id,
      ops: ops.map((input): QueuedOpcode => ({
        input,
        status: "queued",
        result: null,
        log: [],
        priority: typeof input["priority"] === "number" ? input["priority"] : 0,
        start_timestamp: null,
        exec_timestamp: null,
        end_timestamp: null,
      })),
      received_timestamp: this.ts(),
      start_timestamp: null,
      end_timestamp: null,
      archived: false,
    };
  }

  private checkAccepting(count: number): void {
    if (this.closed) throw new JobQueueError("Job queue is shutting down");
    if (this.drained) throw new JobQueueError("Job queue is drained, cannot submit");
    if (this.live.size + count > JOB_QUEUE_SIZE_HARD_LIMIT) throw new JobQueueError("Job queue is full, needs archiving");
  }

  async submit(ops: OpcodeInput[]): Promise<number> {
    const [res] = await this.submitMany([ops], true);
    if (!res || !res[0]) throw new OpPrereqError(String(res?.[1] ?? "submission failed"), "wrong_input");
    return res[1];
  }

  async submitMany(jobs: OpcodeInput[][], throwOnInvalid = false): Promise<SubmitResult[]> {
    this.checkAccepting(jobs.length);
    const results: SubmitResult[] = [];
    const pending: Promise<void>[] = [];
    const ids: number[] = [];
    for (const ops of jobs) {
      let prepared: OpcodeInput[];
      try {
        if (ops.length === 0) throw new OpPrereqError("Job has no opcodes", "wrong_input");
        prepared = ops.map((op) => this.catalog.prepare(op));
      } catch (err) {
        if (throwOnInvalid) throw err;
        results.push([false, err instanceof Error ? err.message : String(err)]);
        ids.push(-1);
        continue;
      }
      const id = this.nextId++;
      // Relative dependencies (-1 = previous job of this submission).
      for (const op of prepared) {
        const deps = op["depends"];
        if (!Array.isArray(deps)) continue;
        op["depends"] = deps.map((d: unknown) => {
          if (!Array.isArray(d) || typeof d[0] !== "number" || d[0] >= 0) return d;
          const abs = ids[ids.length + d[0]];
          return [abs ?? d[0], d[1]];
        });
      }
      ids.push(id);
      if (prepared.some(hasSecrets)) this.secrets.set(id, prepared);
      const job: LiveJob = {
        record: this.newRecord(
          id,
          prepared.map((op) => withoutSecrets(op)),
        ),
        writing: Promise.resolve(),
        abort: new AbortController(),
        started: false,
        cancelRequested: false,
      };
      pending.push(
        this.persist(job).then(() => {
          this.live.set(id, job);
          this.o.log?.(`job ${id} submitted`, { jobId: id, ops: job.record.ops.map((o) => String(o.input["OP_ID"])) });
        }),
      );
      results.push([true, id]);
    }
    await Promise.all(pending);
    this.schedule();
    return results;
  }

  // ---- scheduling and execution ----------------------------------------------

  private maxRunning(): number {
    return Math.max(1, this.o.config.data.cluster.max_running_jobs);
  }

  /** The filter rules changed: rejected jobs go, paused or rate-limited ones may start. */
  filtersChanged(): void {
    this.schedule();
  }

  private filterJob(job: LiveJob): FilterJob {
    return { id: job.record.id, ops: job.record.ops.map((o) => o.input as Record<string, unknown>) };
  }

  private schedule(): void {
    if (this.closed) return;
    const rules = orderRules(Object.values(this.o.config.data.filters));
    const running = [...this.live.values()].filter((j) => j.started && !isFinal(j.record));
    const pass = new FilterPass(
      rules,
      running.map((j) => this.filterJob(j)),
    );
    const queued = [...this.live.values()]
      .filter((j) => !j.started && !isFinal(j.record))
      .sort((a, b) => jobPriority(a.record) - jobPriority(b.record) || a.record.id - b.record.id);
    for (const next of queued) {
      // As Ganeti's scheduler: rejected queued jobs are canceled whether or not a slot is free.
      const fj = this.filterJob(next);
      if (pass.rejects(fj)) {
        void this.reject(next).catch((err) =>
          this.o.log?.(`job ${next.record.id} reject failed: ${err instanceof Error ? err.stack : String(err)}`, {
            level: "error",
            jobId: next.record.id,
          }),
        );
        continue;
      }
      if (this.running >= this.maxRunning() || pass.decide(fj) !== "run") continue;
      next.started = true;
      this.running++;
      // A job outlives the request that submitted it: its lines carry its jobId, not the request's id.
      void withoutLogContext(() => this.runJob(next))
        .catch((err) =>
          this.o.log?.(`job ${next.record.id} crashed: ${err instanceof Error ? err.stack : String(err)}`, {
            level: "error",
            jobId: next.record.id,
          }),
        )
        .finally(() => {
          this.running--;
          this.locks.releaseAll(String(next.record.id));
          this.schedule();
          if (this.running === 0) for (const f of this.idle) f();
        });
    }
  }

  /** A REJECT rule applies: cancel the queued job as Ganeti does (status canceled, results left empty). */
  private async reject(job: LiveJob): Promise<void> {
    job.started = true; // never schedule it
    const now = this.ts();
    for (const op of job.record.ops) {
      op.status = "canceled";
      op.end_timestamp = now;
    }
    job.record.end_timestamp = now;
    this.secrets.delete(job.record.id);
    this.o.log?.(`job ${job.record.id} canceled by a REJECT filter rule`, { jobId: job.record.id });
    await this.persist(job);
    this.notify(job.record.id);
  }

  private async runJob(job: LiveJob): Promise<void> {
    const rec = job.record;
    const owner = String(rec.id);
    for (let i = 0; i < rec.ops.length; i++) {
      const op = rec.ops[i]!;
      if (FINALIZED.has(op.status)) continue;
      try {
        if (job.cancelRequested) throw new JobCanceledError("Job canceled by request");
        op.status = "waiting";
        op.start_timestamp = this.ts();
        if (!rec.start_timestamp) rec.start_timestamp = op.start_timestamp;
        this.notify(rec.id);
        await this.waitForDependencies(job, op.input as OpcodeInput);
        const result = await this.runOpcode(job, i, owner);
        op.status = "success";
        op.result = result === undefined ? null : result;
        op.end_timestamp = this.ts();
      } catch (err) {
        const canceled = err instanceof JobCanceledError;
        const encoded = canceled ? "Job canceled by request" : encodeError(err);
        if (!(err instanceof GanetiError))
          this.o.log?.(`job ${rec.id} opcode ${i} failed: ${err instanceof Error ? err.stack : String(err)}`, {
            level: "error",
            jobId: rec.id,
            opIndex: i,
          });
        for (let j = i; j < rec.ops.length; j++) {
          const o = rec.ops[j]!;
          o.status = canceled ? "canceled" : "error";
          // As in Ganeti, only the failing opcode carries the error; later ones say why they did not run.
          o.result = j === i || canceled ? encoded : ["OpExecError", ["Preceding opcode failed"]];
          o.end_timestamp = this.ts();
        }
        break;
      } finally {
        this.locks.releaseAll(owner);
      }
      if (i < rec.ops.length - 1) await this.persist(job);
    }
    rec.end_timestamp = this.ts();
    this.secrets.delete(rec.id);
    await this.persist(job);
    this.o.log?.(`job ${rec.id} ${calcJobStatus(rec.ops)}`, { jobId: rec.id, status: calcJobStatus(rec.ops) });
    this.notify(rec.id);
  }

  private async waitForDependencies(job: LiveJob, input: OpcodeInput): Promise<void> {
    const deps = input["depends"];
    if (!Array.isArray(deps)) return;
    for (const dep of deps) {
      if (!Array.isArray(dep)) continue;
      const depId = Number(dep[0]);
      const wanted = Array.isArray(dep[1]) ? (dep[1] as string[]) : [];
      if (depId === job.record.id) throw new OpPrereqError("A job can't depend on itself", "wrong_input");
      let status = await this.finalStatusOf(depId, job.abort.signal);
      if (status === null) throw new OpExecError(`Dependency job ${depId} not found`);
      if (status === "canceled" && !wanted.includes("canceled")) throw new JobCanceledError(`Dependency job ${depId} was canceled`);
      if (wanted.length && !wanted.includes(status))
        throw new OpExecError(`Dependency job ${depId} finished with status '${status}', not one of '${wanted.join(", ")}' as required`);
      status = null;
    }
  }

  private async finalStatusOf(id: number, signal: AbortSignal): Promise<JobStatus | null> {
    for (;;) {
      const rec = await this.getJob(id);
      if (!rec) return null;
      const st = calcJobStatus(rec.ops);
      if (FINALIZED.has(st)) return st;
      await new Promise<void>((resolve, reject) => {
        const onChange = () => {
          cleanup();
          resolve();
        };
        const onAbort = () => {
          cleanup();
          reject(new JobCanceledError("Job canceled while waiting for dependencies"));
        };
        const cleanup = () => {
          this.events.off(`job:${id}`, onChange);
          signal.removeEventListener("abort", onAbort);
        };
        this.events.on(`job:${id}`, onChange);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  private async runOpcode(job: LiveJob, index: number, owner: string): Promise<unknown> {
    const rec = job.record;
    const op = rec.ops[index]!;
    const input = this.secrets.get(rec.id)?.[index] ?? (op.input as OpcodeInput);
    // Read back from the job file (a master restart): the secrets are gone, as in Ganeti.
    if (hasLostSecrets(input)) throw new OpPrereqError("Please re-submit secret parameters to job.", "wrong_input");
    const opId = String(input["OP_ID"]);
    const Lu = Object.hasOwn(this.o.registry, opId) ? this.o.registry[opId] : undefined;
    if (!Lu) throw new OpPrereqError(`Opcode ${opId} is not supported`, "wrong_input");
    let serial = rec.ops.reduce((m, o) => Math.max(m, ...o.log.map((l) => l[0])), 0);
    const ctx: LuContext = {
      config: this.o.config,
      rpc: this.o.rpc,
      allocator: this.o.allocator,
      jobId: rec.id,
      log: (message, type = "message") => {
        const entry: LogEntry = [++serial, this.ts(), type, message];
        op.log.push(entry);
        this.o.log?.(typeof message === "string" ? message : JSON.stringify(message), { level: "debug", jobId: rec.id, opIndex: index });
        this.notify(rec.id);
      },
      submitJobs: (jobs) => this.submitMany(jobs),
      held: (level) => this.locks.held(owner, level),
      now: () => this.clock(),
      timestamp: () => this.ts(),
      ...(this.o.sleep ? { sleep: this.o.sleep } : {}),
    };
    const lu = new Lu(this.catalog.expand(input), ctx);
    lu.checkArguments();
    const decl = lu.expandNames();
    // Every LU holds the cluster level (Ganeti's BGL) shared unless it asks for more.
    if (!decl.cluster) decl.cluster = { names: ["cluster"], shared: true };
    for (const level of LOCK_LEVELS) {
      const set = lu.declareLocks(level) ?? decl[level];
      if (!set) continue;
      if (set.names !== "all" && set.names.length === 0) continue;
      await this.locks.acquire(owner, level, set, { priority: op.priority, signal: job.abort.signal });
    }
    if (job.cancelRequested) throw new JobCanceledError("Job canceled by request");
    op.status = "running";
    op.exec_timestamp = this.ts();
    await this.persist(job);
    this.notify(rec.id);
    await lu.checkPrereq();
    if (input["dry_run"] === true) return lu.dryRunResult();
    return await lu.exec();
  }

  // ---- reading -----------------------------------------------------------------

  async getJob(id: number): Promise<JobRecord | null> {
    if (!Number.isSafeInteger(id) || id < 0) return null;
    const live = this.live.get(id);
    if (live) return live.record;
    const raw = await this.o.store.get(this.archiveKey(id));
    if (!raw) return null;
    return JobRecordSchema.parse(JSON.parse(raw.toString("utf8")));
  }

  listJobIds(): number[] {
    return [...this.live.keys()].sort((a, b) => a - b);
  }

  jobFields(job: JobRecord, fields: string[]): unknown[] {
    return fields.map((f) => jobField(job, f, this.catalog.summaryField));
  }

  async waitForChange(
    id: number,
    fields: string[],
    previousInfo: unknown[] | null,
    previousLogSerial: number | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitResult | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(id);
      if (!job) return null;
      const info = this.jobFields(job, fields);
      const since = previousLogSerial ?? 0;
      const logs = job.ops.flatMap((o) => o.log).filter((l) => l[0] > since);
      const changed = previousInfo === null || JSON.stringify(info) !== JSON.stringify(previousInfo);
      if (changed || logs.length > 0 || isFinal(job) || Date.now() >= deadline || signal?.aborted) {
        return { job_info: info, log_entries: logs };
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.events.off(`job:${id}`, done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
        this.events.on(`job:${id}`, done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  async cancel(id: number): Promise<[boolean, string]> {
    const job = this.live.get(id);
    // Finished jobs are no longer in Ganeti's queue: same answer as for unknown ones.
    if (!job || isFinal(job.record)) return [false, `Job ${id} not found in queue`];
    const status = calcJobStatus(job.record.ops);
    if (status === "queued" && !job.started) {
      for (const op of job.record.ops) {
        op.status = "canceled";
        op.result = "Job canceled by request";
        op.end_timestamp = this.ts();
      }
      job.record.end_timestamp = this.ts();
      job.started = true; // never schedule it
      this.secrets.delete(id);
      await this.persist(job);
      this.notify(id);
      return [true, `Job ${id} canceled`];
    }
    if (status === "queued" || status === "waiting") {
      job.cancelRequested = true;
      for (const op of job.record.ops) if (op.status === "waiting" || op.status === "queued") op.status = "canceling";
      job.abort.abort();
      await this.persist(job);
      this.notify(id);
      return [true, `Job ${id} will be canceled`];
    }
    return [false, "Job no longer waiting, can't cancel (informed it anyway)"];
  }

  // ---- archival and shutdown -----------------------------------------------------

  /** Move finalized jobs older than `ageSeconds` (by end time) to the archive. */
  async archiveOld(ageSeconds: number): Promise<number> {
    const cutoff = this.clock() - ageSeconds;
    let n = 0;
    for (const [id, job] of [...this.live]) {
      if (!isFinal(job.record)) continue;
      const end = job.record.end_timestamp;
      if (!end || end[0] + end[1] / 1e6 > cutoff) continue;
      if (await this.archive(id)) n++;
    }
    return n;
  }

  async archive(id: number): Promise<boolean> {
    const job = this.live.get(id);
    if (!job || !isFinal(job.record)) return false;
    await job.writing;
    job.record.archived = true;
    await this.o.store.put(this.key(id), JSON.stringify(job.record));
    await this.o.store.rename(this.key(id), this.archiveKey(id));
    this.live.delete(id);
    return true;
  }

  /** Resolves when no job is running (tests, shutdown). */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const f = () => {
        this.idle.delete(f);
        resolve();
      };
      this.idle.add(f);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live.values()].map((j) => j.writing.catch(() => undefined)));
  }
}

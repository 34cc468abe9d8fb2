// hbal -X: execute the jobsets of a balancing solution on a live cluster,
// jobset by jobset (the jobs of one jobset touch disjoint nodes and run in
// parallel), waiting for each jobset before the next and stopping at the
// first failed job, as Ganeti's hbal does through LUXI.
//
// Two ways to reach the master:
//  * the RAPI (`-m HOST -X`): the RAPI has no generic job submission, so the
//    opcodes of a move become one job each on the matching resource
//    (migrate / failover / replace-disks), chained: the next opcode of a move
//    is submitted when the previous job succeeded;
//  * the master's control socket (`-L -X`, LUXI-like): one job per move with
//    all its opcodes, exactly as Ganeti.
import { iMoveToJob, type Opcode } from "../htools/alloc.js";
import type { MoveStep } from "../htools/balance.js";
import type { Instance } from "../htools/types.js";
import { HtoolsError } from "../htools/types.js";
import type { Node } from "../htools/node.js";
import { RapiClient } from "./rapi-client.js";

const FINAL = new Set(["success", "error", "canceled"]);

export interface JobOutcome {
  id: number;
  status: string;
  /** "OpExecError: message" of the failed opcode. */
  error?: string;
}

/** Where jobs go. */
export interface JobBackend {
  /** Whether one job may carry several opcodes (LUXI); the RAPI takes one per job. */
  readonly multiOpcode: boolean;
  submit(ops: Opcode[]): Promise<number>;
  /** Resolves once the job is final; log messages go to onLog as they arrive. */
  wait(id: number, onLog: (msg: string) => void): Promise<JobOutcome>;
  close(): void;
}

interface SubmitAnnotations {
  /** --priority: low / normal / high */
  priority?: string;
  /** --reason */
  reason?: string;
}

const PRIORITIES: Record<string, number> = { low: 10, normal: 0, high: -10 };

/** First failed opcode of a job, as "Class: message". */
function opError(opstatus: unknown, opresult: unknown): string | undefined {
  if (!Array.isArray(opstatus) || !Array.isArray(opresult)) return undefined;
  const k = opstatus.findIndex((s) => s === "error" || s === "canceled");
  const r: unknown = opresult[k < 0 ? opresult.length - 1 : k];
  if (Array.isArray(r) && typeof r[0] === "string") {
    const args: unknown = r[1];
    const msg = Array.isArray(args) ? String(args[0]) : String(args);
    return `${r[0]}: ${msg}`;
  }
  return k >= 0 ? String(opstatus[k]) : undefined;
}

// ---- RAPI ---------------------------------------------------------------

/** The RAPI resource of each opcode hbal emits (iMoveToJob). */
const RAPI_RESOURCES: Record<string, { method: string; action: string }> = {
  OP_INSTANCE_MIGRATE: { method: "PUT", action: "migrate" },
  OP_INSTANCE_FAILOVER: { method: "PUT", action: "failover" },
  OP_INSTANCE_REPLACE_DISKS: { method: "POST", action: "replace-disks" },
};

/** The RAPI request that submits one opcode: resource from the opcode, body = its parameters. */
export function rapiRequestFor(op: Opcode, ann: SubmitAnnotations = {}): { method: string; path: string; body: Record<string, unknown> } {
  const res = RAPI_RESOURCES[op.OP_ID];
  const name = op["instance_name"];
  if (!res || typeof name !== "string") throw new HtoolsError(`hbal: no RAPI resource runs ${op.OP_ID}`, "EEXEC");
  // The instance name is part of the path (a static parameter the body must not repeat).
  const { OP_ID: _id, instance_name: _name, ...body } = op;
  if (ann.priority !== undefined) body["priority"] = PRIORITIES[ann.priority];
  const query = ann.reason !== undefined ? `?reason=${encodeURIComponent(ann.reason)}` : "";
  return { method: res.method, path: `/2/instances/${encodeURIComponent(name)}/${res.action}${query}`, body };
}

export class RapiJobs implements JobBackend {
  readonly multiOpcode = false;
  constructor(
    private readonly client: RapiClient,
    private readonly ann: SubmitAnnotations = {},
  ) {}

  async submit(ops: Opcode[]): Promise<number> {
    if (ops.length !== 1) throw new HtoolsError("hbal: a RAPI job runs one opcode", "EEXEC");
    const r = rapiRequestFor(ops[0]!, this.ann);
    const id = Number(await this.client.json(r.method, r.path, r.body));
    if (!Number.isInteger(id)) throw new HtoolsError(`hbal: the RAPI answered ${r.method} ${r.path} without a job id`, "EEXEC");
    return id;
  }

  async wait(id: number, onLog: (msg: string) => void): Promise<JobOutcome> {
    // Long-poll /2/jobs/ID/wait (the server answers on a change or after ~10 s).
    let prev: unknown[] | null = null;
    let serial: number | null = null;
    for (;;) {
      const r = (await this.client.json(
        "GET",
        `/2/jobs/${id}/wait`,
        { fields: ["status"], previous_job_info: prev, previous_log_serial: serial },
        120_000,
      )) as {
        job_info?: unknown[];
        log_entries?: Array<[number, unknown, string, unknown]>;
      } | null;
      if (r && Array.isArray(r.job_info)) {
        for (const e of r.log_entries ?? []) {
          serial = Math.max(serial ?? 0, Number(e[0]));
          onLog(String(e[3]));
        }
        prev = r.job_info;
        if (r.job_info[0] === null) throw new HtoolsError(`hbal: job ${id} is unknown to the master`, "EEXEC");
        if (FINAL.has(String(r.job_info[0]))) break;
      }
    }
    const job = (await this.client.json("GET", `/2/jobs/${id}`)) as { status?: unknown; opstatus?: unknown; opresult?: unknown };
    const status = String(job.status);
    const error = status === "success" ? undefined : opError(job.opstatus, job.opresult);
    return error === undefined ? { id, status } : { id, status, error };
  }

  close(): void {
    this.client.close();
  }
}

// ---- the master's control socket (LUXI-like) -------------------------------

export class LuxiJobs implements JobBackend {
  readonly multiOpcode = true;
  constructor(
    private readonly socket: string,
    private readonly ann: SubmitAnnotations = {},
  ) {}

  async submit(ops: Opcode[]): Promise<number> {
    // Ganeti annotates each opcode with hbal's reason trail entry (and --priority).
    const ts = Date.now() * 1e6;
    const annotated = ops.map((op) => ({
      ...op,
      reason: [["gnt:client:hbal", this.ann.reason ?? "", ts]],
      ...(this.ann.priority !== undefined ? { priority: PRIORITIES[this.ann.priority] } : {}),
    }));
    return Number(await this.call("SubmitJob", [annotated]));
  }

  async wait(id: number, onLog: (msg: string) => void): Promise<JobOutcome> {
    let prev: unknown[] | null = null;
    let serial: number | null = null;
    for (;;) {
      const r = (await this.call("WaitForJobChange", [id, ["status", "opstatus", "opresult"], prev, serial, 10])) as {
        job_info: unknown[];
        log_entries: Array<[number, unknown, string, unknown]>;
      } | null;
      if (!r) throw new HtoolsError(`hbal: job ${id} is unknown to the master`, "EEXEC");
      for (const e of r.log_entries) {
        serial = Math.max(serial ?? 0, Number(e[0]));
        onLog(String(e[3]));
      }
      prev = r.job_info;
      const [status, opstatus, opresult] = r.job_info;
      if (FINAL.has(String(status))) {
        const error = status === "success" ? undefined : opError(opstatus, opresult);
        return error === undefined ? { id, status: String(status) } : { id, status: String(status), error };
      }
    }
  }

  close(): void {}

  private async call(method: string, args: unknown[]): Promise<unknown> {
    try {
      // loaded here, not at start: node:net costs every hbal start ~10 ms to compile
      const { controlCall } = await import("../master/control-socket.js");
      return await controlCall(this.socket, method, args);
    } catch (e) {
      throw new HtoolsError(`hbal: ${method} on ${this.socket}: ${(e as Error).message}`, "EEXEC");
    }
  }
}

// ---- the executor --------------------------------------------------------

export interface ExecMove {
  instance: string;
  ops: Opcode[];
}

/** The opcodes of each move (Ganeti's iMoveToJob on the final node list). */
export function movesToExec(sets: MoveStep[][], nodes: readonly Node[], instances: readonly Instance[]): ExecMove[][] {
  return sets.map((js) =>
    js.map((m) => {
      const inst = instances[m.inst]!;
      return { instance: inst.name, ops: iMoveToJob(nodes as Node[], inst, m.move) };
    }),
  );
}

interface ExecIO {
  out(s: string): void;
  err(s: string): void;
  verbose: number;
  /** Set once the user asked to stop (SIGINT/SIGTERM): no new jobset starts. */
  cancelled(): boolean;
}

/**
 * Runs the jobsets in order. Throws HtoolsError when a job failed (after the
 * whole jobset has finished: submitted jobs are always waited for).
 */
export async function execJobSets(sets: ExecMove[][], be: JobBackend, io: ExecIO): Promise<void> {
  for (let j = 0; j < sets.length; j++) {
    if (io.cancelled()) {
      io.out(`Exiting early due to user request, ${sets.length - j} jobset(s) remaining.\n`);
      return;
    }
    const js = sets[j]!;
    io.out(`Executing jobset for instances ${js.map((m) => m.instance).join(", ")}\n`);
    const failures = await runJobSet(js, be, io);
    if (failures.length > 0) {
      io.err(`Not all jobs completed successfully: ${failures.join("; ")}\nAborting.\n`);
      throw new HtoolsError("hbal: Aborting due to job failures", "EEXEC");
    }
  }
}

async function runJobSet(js: ExecMove[], be: JobBackend, io: ExecIO): Promise<string[]> {
  // Each move is a chain of jobs: one job (LUXI), or one per opcode (RAPI).
  const chains = js.map((m) => (be.multiOpcode ? [m.ops] : m.ops.map((op) => [op])));
  const failures: string[] = [];
  const follow = async (m: ExecMove, id: number): Promise<boolean> => {
    let res: JobOutcome;
    try {
      res = await be.wait(id, (msg) => {
        if (io.verbose > 1) io.out(`  job ${id} (${m.instance}): ${msg}\n`);
      });
    } catch (e) {
      if (!(e instanceof HtoolsError)) throw e;
      failures.push(`job ${id} (${m.instance}): cannot get its status: ${e.message}`);
      return false;
    }
    if (io.verbose > 1 || res.status !== "success")
      io.out(`Job ${id} (${m.instance}): ${res.status}${res.error ? ` (${res.error})` : ""}\n`);
    if (res.status !== "success") failures.push(`job ${id} (${m.instance}): ${res.status}${res.error ? `: ${res.error}` : ""}`);
    return res.status === "success";
  };
  // First jobs of the jobset together, as Ganeti submits a jobset at once.
  const first: number[] = [];
  let submitError: string | null = null;
  for (const c of chains) {
    try {
      first.push(await be.submit(c[0]!));
    } catch (e) {
      if (!(e instanceof HtoolsError)) throw e;
      submitError = e.message;
      break;
    }
  }
  if (first.length > 0) io.out(`Got job IDs ${first.join(", ")}\n`);
  if (submitError !== null) failures.push(`submitting the job of ${js[first.length]!.instance}: ${submitError}`);
  await Promise.all(
    first.map(async (id, k) => {
      const m = js[k]!;
      const chain = chains[k]!;
      let ok = await follow(m, id);
      for (let s = 1; ok && s < chain.length; s++) {
        let next: number;
        try {
          next = await be.submit(chain[s]!);
        } catch (e) {
          if (!(e instanceof HtoolsError)) throw e;
          failures.push(`submitting step ${s + 1} of ${m.instance}: ${e.message}`);
          return;
        }
        io.out(`Got job IDs ${next}\n`);
        ok = await follow(m, next);
      }
    }),
  );
  return failures;
}

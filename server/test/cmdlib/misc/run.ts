// Job runner for the non-instance LU tests. Like the harness's runOp/runJob,
// but waits with the last seen log serial: the harness passes null, so a job
// that logs before awaiting a timer or I/O makes its wait loop spin without
// yielding (reported to the harness owner).
import type { JobRecord } from "@ganeti-ts/schema";
import type { OpcodeInput } from "../../../src/cmdlib/base.js";
import { calcJobStatus } from "../../../src/jobs/job.js";
import { decodeJobError, type TestCluster } from "../../harness/cluster.js";

export async function runJob(c: TestCluster, ops: OpcodeInput[]): Promise<JobRecord> {
  const id = await c.queue.submit(ops);
  let info: unknown[] | null = null;
  let serial = 0;
  for (;;) {
    const res = await c.queue.waitForChange(id, ["status"], info, serial, 60_000);
    if (!res) throw new Error(`job ${id} vanished`);
    info = res.job_info;
    for (const l of res.log_entries) serial = Math.max(serial, l[0]);
    const job = (await c.queue.getJob(id))!;
    if (["success", "error", "canceled"].includes(calcJobStatus(job.ops))) return job;
  }
}

export async function runOp(c: TestCluster, op: OpcodeInput): Promise<unknown> {
  const job = await runJob(c, [op]);
  const o = job.ops[0]!;
  if (o.status === "success") return o.result;
  throw decodeJobError(o.result);
}

/** Run and return [result, log messages]. */
export async function runOpLog(c: TestCluster, op: OpcodeInput): Promise<[unknown, string[]]> {
  const job = await runJob(c, [op]);
  const o = job.ops[0]!;
  if (o.status !== "success") throw decodeJobError(o.result);
  return [o.result, c.jobLog(job)];
}

// Shared pieces of the instance LU tests: opcode builders and node-side probes.
import type { InstanceObject, JobRecord } from "@ganeti-ts/schema";
import type { OpcodeInput } from "../../../src/cmdlib/base.js";
import { isFinal } from "../../../src/jobs/job.js";
import { decodeJobError, type TestCluster } from "../../harness/cluster.js";

/**
 * Run a job to its end. Unlike the harness's runJob this passes the last log
 * serial back to waitForChange: with null, a job that logs makes the wait
 * resolve at once forever and starves the job it waits for.
 */
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
    if (isFinal(job)) return job;
  }
}

/** Run one opcode; its result, or the decoded job error. */
export async function runOp(c: TestCluster, op: OpcodeInput): Promise<unknown> {
  const job = await runJob(c, [op]);
  const o = job.ops[0]!;
  if (o.status === "success") return o.result;
  throw decodeJobError(o.result);
}

export function createOp(name: string, over: Record<string, unknown> = {}): OpcodeInput {
  return {
    OP_ID: "OP_INSTANCE_CREATE",
    instance_name: name,
    mode: "create",
    disk_template: "diskless",
    disks: [],
    nics: [{}],
    os_type: "noop",
    pnode: "node1.example.com",
    name_check: false,
    ip_check: false,
    beparams: { memory: 128 },
    // Test instances use small disks (fast sparse files), below the default
    // policy's 1 GiB minimum; policy tests set this to false.
    ignore_ipolicy: true,
    ...over,
  };
}

export function inst(c: TestCluster, name: string): InstanceObject {
  const i = c.config.findInstance(name);
  if (!i) throw new Error(`no instance ${name}`);
  return i;
}

/** Names of instances the fake hypervisor runs on a node. */
export async function runningOn(c: TestCluster, node: string): Promise<string[]> {
  return (await c.backendOf(node).handle("instance_list", { hypervisors: ["fake"] })) as string[];
}

export async function create(c: TestCluster, name: string, over: Record<string, unknown> = {}): Promise<InstanceObject> {
  await runOp(c, createOp(name, over));
  return inst(c, name);
}

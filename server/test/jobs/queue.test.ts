// Job queue semantics with test-only logical units (no node daemons).
import { describe, expect, it } from "vitest";
import { LogicalUnit, type LockDecl, type OpcodeInput } from "../../src/cmdlib/base.js";
import type { LuTable } from "../../src/cmdlib/registry.js";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { JobQueue } from "../../src/jobs/queue.js";
import { OpPrereqError } from "../../src/lib/errors.js";
import type { RpcRunner } from "../../src/rpc/runner.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { Store } from "../../src/store/store.js";

/** Releases held gates by name: lets a test decide when an LU finishes. */
class Gates {
  private readonly waiting = new Map<string, () => void>();
  readonly started: string[] = [];
  wait(name: string): Promise<void> {
    this.started.push(name);
    return new Promise((r) => this.waiting.set(name, r));
  }
  open(name: string): void {
    this.waiting.get(name)?.();
    this.waiting.delete(name);
  }
  isWaiting(name: string): boolean {
    return this.waiting.has(name);
  }
}

function registry(gates: Gates): LuTable {
  class LUGate extends LogicalUnit<{ name: string; lock?: string; gate?: boolean; fail?: string }> {
    expandNames(): LockDecl {
      return this.op.lock ? { instance: { names: [this.op.lock], shared: false } } : {};
    }
    checkPrereq(): void {
      if (this.op.fail) throw new OpPrereqError(this.op.fail, "wrong_state");
    }
    async exec(): Promise<unknown> {
      this.ctx.log(`running ${this.op.name}`);
      if (this.op.gate) await gates.wait(this.op.name);
      return `done ${this.op.name}`;
    }
  }
  class LUCrash extends LogicalUnit {
    expandNames(): LockDecl {
      return {};
    }
    checkPrereq(): void {}
    async exec(): Promise<unknown> {
      throw new TypeError("boom");
    }
  }
  return { OP_T_GATE: LUGate, OP_T_CRASH: LUCrash };
}

const noRpc = {} as RpcRunner;
const tick = () => new Promise((r) => setImmediate(r));

async function makeQueue(store: Store = new MemoryStore(), gates = new Gates()) {
  let config = await ClusterConfig.load(store);
  config ??= await ClusterConfig.create(
    store,
    buildInitialConfig({
      clusterName: "c.test",
      master: { name: "n1.test", ip: "127.0.0.1", rpcPort: 1811 },
      fileStorageDir: "/tmp/f",
      sharedFileStorageDir: "/tmp/s",
      osSearchPath: [],
    }),
  );
  const queue = await JobQueue.open({
    store,
    config,
    rpc: noRpc,
    allocator: { run: async () => ({}) },
    registry: registry(gates),
  });
  return { queue, store, gates, config };
}

const gate = (name: string, extra: Record<string, unknown> = {}): OpcodeInput => ({ OP_ID: "OP_T_GATE", name, gate: true, ...extra });

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 1));
  expect(await cond()).toBe(true);
}

describe("JobQueue", () => {
  it("persists a job before returning its id and runs it to success", async () => {
    const { queue, store, gates } = await makeQueue();
    const id = await queue.submit([gate("a")]);
    expect(id).toBe(1);
    expect(await store.get("queue/job-1")).not.toBeNull();
    await until(() => gates.isWaiting("a"));
    expect(queue.jobFields((await queue.getJob(1))!, ["status", "opstatus"])).toEqual(["running", ["running"]]);
    gates.open("a");
    await queue.whenIdle();
    const job = (await queue.getJob(1))!;
    expect(queue.jobFields(job, ["status", "opresult"])).toEqual(["success", ["done a"]]);
    expect(job.ops[0]!.log.map((l) => [l[0], l[2], l[3]])).toEqual([[1, "message", "running a"]]);
    const onDisk = JSON.parse((await store.get("queue/job-1"))!.toString());
    expect(onDisk.ops[0].status).toBe("success");
  });

  it("encodes failures and fails the following opcodes", async () => {
    const { queue } = await makeQueue();
    const id = await queue.submit([
      { OP_ID: "OP_T_GATE", name: "x", fail: "Instance 'x' is marked to be up" },
      { OP_ID: "OP_T_GATE", name: "y" },
    ]);
    await queue.whenIdle();
    const job = (await queue.getJob(id))!;
    const err = ["OpPrereqError", ["Instance 'x' is marked to be up", "wrong_state"]];
    expect(queue.jobFields(job, ["status", "opstatus", "opresult"])).toEqual([
      "error",
      ["error", "error"],
      [err, ["OpExecError", ["Preceding opcode failed"]]],
    ]);
  });

  it("turns unexpected exceptions into OpExecError", async () => {
    const { queue } = await makeQueue();
    const id = await queue.submit([{ OP_ID: "OP_T_CRASH" }]);
    await queue.whenIdle();
    expect(queue.jobFields((await queue.getJob(id))!, ["opresult"])).toEqual([[["OpExecError", ["boom"]]]]);
  });

  it("runs jobs on disjoint objects in parallel and serialises jobs on the same object", async () => {
    const { queue, gates } = await makeQueue();
    await queue.submit([gate("a1", { lock: "A" })]);
    await queue.submit([gate("b1", { lock: "B" })]);
    await queue.submit([gate("a2", { lock: "A" })]);
    await until(() => gates.isWaiting("a1") && gates.isWaiting("b1"));
    expect(gates.started).not.toContain("a2");
    expect(queue.jobFields((await queue.getJob(3))!, ["status"])).toEqual(["waiting"]);
    gates.open("a1");
    await until(() => gates.isWaiting("a2"));
    gates.open("a2");
    gates.open("b1");
    await queue.whenIdle();
  });

  it("respects max_running_jobs", async () => {
    const { queue, gates, config } = await makeQueue();
    config.data.cluster.max_running_jobs = 2;
    for (const n of ["a", "b", "c"]) await queue.submit([gate(n)]);
    await until(() => gates.started.length === 2);
    await tick();
    expect(gates.started).toEqual(["a", "b"]);
    gates.open("a");
    await until(() => gates.isWaiting("c"));
    gates.open("b");
    gates.open("c");
    await queue.whenIdle();
  });

  it("honours depends: success, mismatched status, unknown job, relative ids", async () => {
    const { queue, gates } = await makeQueue();
    const first = await queue.submit([gate("first")]);
    const dep = await queue.submit([{ OP_ID: "OP_T_GATE", name: "dep", depends: [[first, ["success"]]] }]);
    const bad = await queue.submit([{ OP_ID: "OP_T_GATE", name: "bad", depends: [[first, ["error"]]] }]);
    const unknown = await queue.submit([{ OP_ID: "OP_T_GATE", name: "u", depends: [[999, []]] }]);
    await until(async () => queue.jobFields((await queue.getJob(unknown))!, ["status"])[0] === "error");
    expect(queue.jobFields((await queue.getJob(dep))!, ["status"])).toEqual(["waiting"]);
    gates.open("first");
    await queue.whenIdle();
    expect(queue.jobFields((await queue.getJob(dep))!, ["status"])).toEqual(["success"]);
    const badJob = (await queue.getJob(bad))!;
    expect(queue.jobFields(badJob, ["opresult"])).toEqual([
      [["OpExecError", [`Dependency job ${first} finished with status 'success', not one of 'error' as required`]]],
    ]);
    const many = await queue.submitMany([[gate("m1")], [{ OP_ID: "OP_T_GATE", name: "m2", depends: [[-1, ["success"]]] }]]);
    const [m1, m2] = many.map((r) => r[1] as number);
    expect((await queue.getJob(m2!))!.ops[0]!.input["depends"]).toEqual([[m1, ["success"]]]);
    await until(() => gates.isWaiting("m1"));
    gates.open("m1");
    await until(async () => queue.jobFields((await queue.getJob(m2!))!, ["status"])[0] === "success");
  });

  it("cancels queued and waiting jobs, refuses running ones", async () => {
    const { queue, gates, config } = await makeQueue();
    config.data.cluster.max_running_jobs = 1;
    const running = await queue.submit([gate("r", { lock: "X" })]);
    const queued = await queue.submit([gate("q")]);
    await until(() => gates.isWaiting("r"));
    expect(await queue.cancel(queued)).toEqual([true, `Job ${queued} canceled`]);
    expect(queue.jobFields((await queue.getJob(queued))!, ["status", "opresult"])).toEqual(["canceled", ["Job canceled by request"]]);
    expect(await queue.cancel(running)).toEqual([false, "Job no longer waiting, can't cancel (informed it anyway)"]);
    config.data.cluster.max_running_jobs = 5;
    const waiting = await queue.submit([gate("w", { lock: "X" })]);
    await until(async () => queue.jobFields((await queue.getJob(waiting))!, ["status"])[0] === "waiting");
    expect(await queue.cancel(waiting)).toEqual([true, `Job ${waiting} will be canceled`]);
    await until(async () => queue.jobFields((await queue.getJob(waiting))!, ["status"])[0] === "canceled");
    expect(await queue.cancel(424242)).toEqual([false, "Job 424242 not found in queue"]);
    gates.open("r");
    await queue.whenIdle();
  });

  it("long-polls for changes and log entries", async () => {
    const { queue, gates } = await makeQueue();
    const id = await queue.submit([gate("p")]);
    const first = await queue.waitForChange(id, ["status"], null, null, 5000);
    expect(first!.job_info).toHaveLength(1);
    await until(() => gates.isWaiting("p"));
    const running = await queue.waitForChange(id, ["status"], ["queued"], null, 5000);
    expect(running!.job_info).toEqual(["running"]);
    const logs = await queue.waitForChange(id, ["status"], ["running"], 0, 5000);
    expect(logs!.log_entries.map((l) => l[3])).toEqual(["running p"]);
    const pending = queue.waitForChange(id, ["status"], ["running"], 1, 5000);
    gates.open("p");
    expect((await pending)!.job_info).toEqual(["success"]);
    expect(await queue.waitForChange(9999, ["status"], null, null, 10)).toBeNull();
    // Nothing changes: returns the unchanged info after the timeout, as 3.0 does.
    expect(await queue.waitForChange(id, ["status"], ["success"], 1, 10)).toEqual({ job_info: ["success"], log_entries: [] });
  });

  it("recovers after a restart: queued jobs run, running jobs fail, ids continue", async () => {
    const store = new MemoryStore();
    const a = await makeQueue(store);
    await a.queue.submit([gate("one")]);
    await until(() => a.gates.isWaiting("one"));
    a.config.data.cluster.max_running_jobs = 1;
    await a.queue.submit([gate("two")]);
    // "kill -9": abandon the first queue object without closing it.
    const b = await makeQueue(store);
    const one = (await b.queue.getJob(1))!;
    expect(b.queue.jobFields(one, ["status", "opresult"])).toEqual(["error", [["OpExecError", ["Unclean master daemon shutdown"]]]]);
    await until(() => b.gates.isWaiting("two"));
    b.gates.open("two");
    await b.queue.whenIdle();
    expect(b.queue.jobFields((await b.queue.getJob(2))!, ["status"])).toEqual(["success"]);
    expect(await b.queue.submit([{ OP_ID: "OP_T_GATE", name: "three" }])).toBe(3);
    a.gates.open("one");
  });

  it("skips a truncated or corrupt job file at start, says which, and never reuses its id", async () => {
    const store = new MemoryStore();
    const a = await makeQueue(store);
    const ok = await a.queue.submit([{ OP_ID: "OP_T_GATE", name: "ok" }]);
    await a.queue.whenIdle();
    const good = (await store.get(`queue/job-${ok}`))!.toString("utf8");
    await store.put("queue/job-7", good.slice(0, good.length / 2)); // torn write
    await store.put("queue/job-8", JSON.stringify({ id: 8, ops: "nonsense" }));
    const lines: string[] = [];
    const config = (await ClusterConfig.load(store))!;
    const b = await JobQueue.open({
      store,
      config,
      rpc: noRpc,
      allocator: { run: async () => ({}) },
      registry: registry(new Gates()),
      log: (l) => lines.push(l),
    });
    expect(b.listJobIds()).toEqual([ok]);
    expect(lines.filter((l) => l.includes("Can't parse job"))).toEqual([
      expect.stringMatching(/^Can't parse job 7 \(queue\/job-7\), moved to queue-corrupt\/job-7: /),
      expect.stringMatching(/^Can't parse job 8 \(queue\/job-8\), moved to queue-corrupt\/job-8: /),
    ]);
    expect(await store.get("queue-corrupt/job-7")).not.toBeNull();
    expect(await b.getJob(7)).toBeNull();
    expect(await b.submit([{ OP_ID: "OP_T_GATE", name: "next" }])).toBe(9);
    await b.whenIdle();
    // And once more: the ids stay reserved after a second restart.
    const c = await JobQueue.open({ store, config, rpc: noRpc, allocator: { run: async () => ({}) }, registry: registry(new Gates()) });
    expect(await c.submit([{ OP_ID: "OP_T_GATE", name: "after" }])).toBe(10);
    await c.whenIdle();
  });

  it("archives finalized jobs and still finds them by id", async () => {
    const { queue, store } = await makeQueue();
    const id = await queue.submit([{ OP_ID: "OP_T_GATE", name: "z" }]);
    await queue.whenIdle();
    expect(await queue.archiveOld(-1)).toBe(1);
    expect(queue.listJobIds()).toEqual([]);
    expect(await store.get(`archive/0/job-${id}`)).not.toBeNull();
    expect((await queue.getJob(id))!.archived).toBe(true);
  });

  it("refuses submissions when drained and unknown opcodes fail the job", async () => {
    const { queue } = await makeQueue();
    queue.setDrained(true);
    await expect(queue.submit([gate("x")])).rejects.toThrow("Job queue is drained, cannot submit");
    queue.setDrained(false);
    const id = await queue.submit([{ OP_ID: "OP_NOPE" }]);
    await queue.whenIdle();
    expect(queue.jobFields((await queue.getJob(id))!, ["opresult"])).toEqual([
      [["OpPrereqError", ["Opcode OP_NOPE is not supported", "wrong_input"]]],
    ]);
  });
});

// Honest end states when a job cannot finish: a create interrupted by a
// master kill leaves a down instance (marked up only once its start begins,
// in Ganeti's order) and a job in error that says what was kept; a node whose
// daemon cannot be reached makes jobs fail exactly where Ganeti's LUs raise,
// and warn (with the job still a success) exactly where Ganeti's LUs warn.
import { afterEach, describe, expect, it } from "vitest";
import { LU_REGISTRY } from "../../../src/cmdlib/registry.js";
import { ClusterConfig } from "../../../src/config/cluster-config.js";
import { calcJobStatus } from "../../../src/jobs/job.js";
import { JobQueue } from "../../../src/jobs/queue.js";
import { makeAllocator } from "../../../src/master/allocator.js";
import { OPCODE_CATALOG } from "../../../src/master/opcode-catalog.js";
import type { NodeBackend } from "../../../src/noded/backend/node-backend.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, createOp, inst, runJob, runningOn } from "./helpers.js";

let c: TestCluster | undefined;
/** Held RPCs, released after each test even when an assertion failed. */
const held: Array<() => void> = [];
afterEach(async () => {
  for (const release of held.splice(0)) release();
  await c?.cleanup();
  c = undefined;
});

/** Make one RPC of a backend hang until released; resolves `reached` when it is called. */
function holdCall(backend: NodeBackend, call: string): { reached: Promise<void>; release: () => void } {
  const original = backend.handle.bind(backend);
  let onReached!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (onReached = r));
  const gate = new Promise<void>((r) => (release = r));
  held.push(release);
  backend.handle = async (name: string, args: unknown) => {
    if (name === call) {
      onReached();
      await gate;
    }
    return original(name, args);
  };
  return { reached, release };
}

/** What a restarted master sees: the persisted config, and the queue after recovery. */
async function restartMaster(t: TestCluster): Promise<{ config: ClusterConfig; queue: JobQueue }> {
  const config = (await ClusterConfig.load(t.store))!;
  const queue = await JobQueue.open({
    store: t.store,
    config,
    rpc: t.rpc,
    allocator: makeAllocator(config),
    registry: LU_REGISTRY,
    catalog: OPCODE_CATALOG,
  });
  return { config, queue };
}

describe("a create interrupted by a master kill", () => {
  it("during the OS install: the instance is kept marked down, the job is in error and says what was kept", async () => {
    c = await testCluster();
    const hold = holdCall(c.backendOf("node1.example.com"), "instance_os_add");
    const id = await c.queue.submit([createOp("half.example.com", { disk_template: "file", disks: [{ size: 64 }] })]);
    await hold.reached;
    // kill -9: the old queue object is abandoned; a new master opens the store.
    const { config, queue } = await restartMaster(c);
    const half = Object.values(config.data.instances).find((i) => i.name === "half.example.com")!;
    expect(half.admin_state).toBe("down");
    const job = (await queue.getJob(id))!;
    expect(calcJobStatus(job.ops)).toBe("error");
    expect(job.ops[0]!.result).toEqual(["OpExecError", ["Unclean master daemon shutdown"]]);
    expect(job.ops[0]!.log.map((l) => l[3]).at(-1)).toMatch(
      /^The master daemon stopped while OP_INSTANCE_CREATE was running: what it changed is kept, not rolled back \(the instance stays/,
    );
    await queue.close();
    hold.release();
    await c.queue.whenIdle();
  });

  it("marks the instance up just before its start, as Ganeti does", async () => {
    c = await testCluster();
    const hold = holdCall(c.backendOf("node1.example.com"), "instance_start");
    const id = await c.queue.submit([createOp("late.example.com")]);
    await hold.reached;
    const { config, queue } = await restartMaster(c);
    expect(Object.values(config.data.instances).find((i) => i.name === "late.example.com")!.admin_state).toBe("up");
    expect(calcJobStatus((await queue.getJob(id))!.ops)).toBe("error");
    await queue.close();
    hold.release();
    await c.queue.whenIdle();
    expect(await runningOn(c, "node1.example.com")).toEqual(["late.example.com"]);
  });

  it("a create that does not start leaves it down (serial bumped only by the start)", async () => {
    c = await testCluster();
    await create(c, "up.example.com");
    await create(c, "down.example.com", { start: false });
    expect([inst(c, "up.example.com").admin_state, inst(c, "up.example.com").serial_no]).toEqual(["up", 2]);
    expect([inst(c, "down.example.com").admin_state, inst(c, "down.example.com").serial_no]).toEqual(["down", 1]);
  });
});

describe("a node daemon that cannot be reached", () => {
  it("fails the jobs whose LUs raise in Ganeti, and only warns where Ganeti warns", async () => {
    c = await testCluster({ nodes: 2 });
    await create(c, "a.example.com", { pnode: "node2.example.com" });
    await create(c, "b.example.com", { pnode: "node2.example.com", start: false, disk_template: "file", disks: [{ size: 64 }] });
    const node2 = c.config.findNode("node2.example.com")!;
    const backend = c.backends.get(node2.uuid)!;
    c.backends.delete(node2.uuid);

    const status = async (op: Record<string, unknown>) => {
      const job = await runJob(c!, [op as never]);
      return { status: calcJobStatus(job.ops), result: job.ops[0]!.result, log: c!.jobLog(job) };
    };
    // Ganeti raises (RpcResult.Raise / OpPrereqError): the job fails, nothing is claimed.
    const failing = [
      { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "b.example.com" },
      { OP_ID: "OP_INSTANCE_REBOOT", instance_name: "a.example.com", reboot_type: "hard" },
      { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "a.example.com" },
      { OP_ID: "OP_INSTANCE_REINSTALL", instance_name: "b.example.com" },
      { OP_ID: "OP_INSTANCE_CONSOLE", instance_name: "a.example.com" },
      { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["a.example.com"], static: false },
      { OP_ID: "OP_TEST_DELAY", duration: 0.01, on_nodes: ["node2.example.com"] },
      { OP_ID: "OP_NODE_POWERCYCLE", node_name: "node2.example.com", force: true },
      { ...createOp("c.example.com"), pnode: "node2.example.com" },
    ];
    for (const op of failing) {
      const r = await status(op);
      expect(r.status, `${op.OP_ID}: ${JSON.stringify(r.result)}`).toBe("error");
      expect(JSON.stringify(r.result)).toContain("node2.example.com");
    }
    expect(c.config.findInstance("c.example.com")).toBeUndefined();
    expect(inst(c, "a.example.com").admin_state).toBe("up");
    expect(inst(c, "b.example.com").admin_state).toBe("down");

    // Ganeti's LUInstanceShutdown only warns when the shutdown call fails (detection is cluster verify's).
    const shutdown = await status({ OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "a.example.com" });
    expect(shutdown.status).toBe("success");
    expect(shutdown.log.some((l) => l.includes("WARNING: Could not shutdown instance") && l.includes("node2.example.com"))).toBe(true);
    // ... as does LUInstanceRemove with ignore_failures.
    const removed = await status({ OP_ID: "OP_INSTANCE_REMOVE", instance_name: "b.example.com", ignore_failures: true });
    expect(removed.status).toBe("success");
    expect(removed.log.some((l) => l.includes("WARNING: Warning: can't shutdown instance"))).toBe(true);

    c.backends.set(node2.uuid, backend);
  });
});

// migrate / failover / multi-alloc on a 3-node cluster.
import { afterEach, describe, expect, it } from "vitest";
import { isFinal } from "../../../src/jobs/job.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, createOp, inst, runJob, runningOn, runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});
const [N1, N2, N3] = ["node1.example.com", "node2.example.com", "node3.example.com"];

describe("OP_INSTANCE_MIGRATE", () => {
  it("live-migrates a diskless instance to target_node with Ganeti's log", async () => {
    c = await testCluster({ nodes: 3 });
    await create(c, "i1.example.com");
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "i1.example.com", target_node: N2, mode: "live" }]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toEqual([
      "Migrating instance i1.example.com",
      "* checking disk consistency between source and target",
      `* closing instance disks on node ${N2}`,
      `* opening instance disks on node ${N1} in shared mode`,
      `* opening instance disks on node ${N2} in shared mode`,
      `* preparing ${N2} to accept the instance`,
      `* migrating instance to ${N2}`,
      "* starting memory transfer",
      "* memory transfer complete",
      `* closing instance disks on node ${N1}`,
      `* opening instance disks on node ${N2} in exclusive mode`,
      "* done",
    ]);
    expect(inst(c, "i1.example.com").primary_node).toBe(c.config.findNode(N2)!.uuid);
    expect(await runningOn(c, N1)).toEqual([]);
    expect(await runningOn(c, N2)).toEqual(["i1.example.com"]);
  });

  it("migrates a sharedfile instance to an allocator-chosen node", async () => {
    c = await testCluster({ nodes: 3 });
    await create(c, "s1.example.com", { disk_template: "sharedfile", disks: [{ size: 8 }] });
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "s1.example.com" }]);
    expect(job.ops[0]!.status).toBe("success");
    const i = inst(c, "s1.example.com");
    const target = c.config.node(i.primary_node).name;
    expect(target).not.toBe(N1);
    expect(c.jobLog(job)[0]).toBe(` - INFO: Selected nodes for instance s1.example.com via iallocator hail: ${target}`);
    expect(c.config.disk(i.disks[0]!).nodes).toEqual([i.primary_node]);
    expect(await runningOn(c, target)).toEqual(["s1.example.com"]);
  });

  it("refuses file instances, stopped instances, and the primary as target", async () => {
    c = await testCluster({ nodes: 3 });
    await create(c, "f.example.com", { disk_template: "file", disks: [{ size: 8 }] });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "f.example.com" })).rejects.toMatchObject({
      message: "Instance's disk layout 'file' does not allow migrations",
      code: "wrong_state",
    });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "f.example.com" })).rejects.toMatchObject({
      message: "Instance's disk layout 'file' does not allow failovers",
    });
    await create(c, "d.example.com", { start: false });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d.example.com", target_node: N2 })).rejects.toMatchObject({
      message: "Can't migrate, please use failover: Instance d.example.com is not running",
      code: "wrong_state",
    });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d.example.com", target_node: N1 })).rejects.toMatchObject({
      message: `Cannot migrate instance d.example.com to its primary (${N1})`,
    });
    // allow_failover falls back to a failover.
    await runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d.example.com", target_node: N3, allow_failover: true });
    expect(c.config.node(inst(c, "d.example.com").primary_node).name).toBe(N3);
  });

  it("on one node the allocator finds no target", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "i1.example.com" })).rejects.toMatchObject({
      code: "insufficient_resources",
      message: expect.stringMatching(/^Can't compute nodes using iallocator 'hail': Request failed: /),
    });
  });

  it("cleanup confirms where the instance runs", async () => {
    c = await testCluster({ nodes: 2 });
    await create(c, "i1.example.com");
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "i1.example.com", cleanup: true, target_node: N2 }]);
    expect(c.jobLog(job)).toContain(`* instance confirmed to be running on its primary node (${N1})`);
  });
});

describe("OP_INSTANCE_FAILOVER", () => {
  it("fails a running sharedfile instance over and starts it on the target", async () => {
    c = await testCluster({ nodes: 3 });
    await create(c, "s1.example.com", { disk_template: "sharedfile", disks: [{ size: 8 }] });
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "s1.example.com", target_node: N3 }]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toEqual([
      "Failover instance s1.example.com",
      "* checking disk consistency between source and target",
      "* shutting down instance on source node",
      `* closing instance disks on node ${N1}`,
      "* deactivating the instance's disks on source node",
      `* activating the instance's disks on target node ${N3}`,
      `* starting the instance on the target node ${N3}`,
    ]);
    expect(await runningOn(c, N1)).toEqual([]);
    expect(await runningOn(c, N3)).toEqual(["s1.example.com"]);
  });

  it("moves a stopped instance without starting it", async () => {
    c = await testCluster({ nodes: 2 });
    await create(c, "d.example.com", { start: false });
    await runOp(c, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "d.example.com", target_node: N2 });
    expect(c.config.node(inst(c, "d.example.com").primary_node).name).toBe(N2);
    expect(await runningOn(c, N2)).toEqual([]);
  });
});

describe("OP_INSTANCE_MULTI_ALLOC", () => {
  it("allocates and submits one create job per instance", async () => {
    c = await testCluster({ nodes: 2 });
    const mk = (n: string) => {
      const { OP_ID: _x, pnode: _p, ...rest } = createOp(n);
      return { ...rest, hypervisor: "fake" };
    };
    const res = (await runOp(c, { OP_ID: "OP_INSTANCE_MULTI_ALLOC", instances: [mk("m1.example.com"), mk("m2.example.com")] })) as {
      allocatable: string[];
      failed: string[];
      jobs: Array<[boolean, number]>;
    };
    expect(res.allocatable).toEqual(["m1.example.com", "m2.example.com"]);
    expect(res.failed).toEqual([]);
    expect(res.jobs.map((j) => j[0])).toEqual([true, true]);
    for (const [, id] of res.jobs) {
      let job = (await c.queue.getJob(id))!;
      let info: unknown[] | null = null;
      while (!isFinal(job)) {
        info = (await c.queue.waitForChange(id, ["status"], info, Number.MAX_SAFE_INTEGER, 5000))!.job_info;
        job = (await c.queue.getJob(id))!;
      }
      expect(job.ops[0]!.status).toBe("success");
    }
    expect(c.config.findInstance("m1.example.com")).toBeDefined();
    expect(c.config.findInstance("m2.example.com")).toBeDefined();
  });

  it("dry run answers allocatable, failed and an empty jobs list, and submits nothing", async () => {
    c = await testCluster({ nodes: 2 });
    const mk = (n: string) => {
      const { OP_ID: _x, pnode: _p, ...rest } = createOp(n);
      return { ...rest, hypervisor: "fake" };
    };
    const before = c.queue.listJobIds().length;
    const res = await runOp(c, {
      OP_ID: "OP_INSTANCE_MULTI_ALLOC",
      dry_run: true,
      instances: [mk("d1.example.com"), mk("d2.example.com")],
    });
    expect(res).toEqual({ allocatable: ["d1.example.com", "d2.example.com"], failed: [], jobs: [] });
    expect(c.queue.listJobIds().length).toBe(before + 1);
    expect(c.config.findInstance("d1.example.com")).toBeUndefined();
  });

  it("dry run with nodes given also has jobs: []", async () => {
    c = await testCluster();
    const res = await runOp(c, { OP_ID: "OP_INSTANCE_MULTI_ALLOC", dry_run: true, instances: [createOp("d3.example.com")] });
    expect(res).toEqual({ allocatable: ["d3.example.com"], failed: [], jobs: [] });
  });

  it("fails, as Ganeti, when an instance to place has no hypervisor (no default is filled in)", async () => {
    c = await testCluster({ nodes: 2 });
    const { OP_ID: _x, pnode: _p, ...bare } = createOp("nohv.example.com");
    const before = c.queue.listJobIds().length;
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MULTI_ALLOC", instances: [bare] }]);
    expect(job.ops[0]!.status).toBe("error");
    expect(job.ops[0]!.result).toEqual([
      "OpPrereqError",
      ["Request parameter 'hypervisor' has invalid type <class 'NoneType'>/value None", "wrong_input"],
    ]);
    // No create job was submitted.
    expect(c.queue.listJobIds().length).toBe(before + 1);
    expect(c.config.findInstance("nohv.example.com")).toBeUndefined();
  });

  it("refuses mixing instances with and without nodes, and duplicate names", async () => {
    c = await testCluster();
    const a = createOp("a.example.com");
    const { pnode: _p, ...b } = createOp("b.example.com");
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MULTI_ALLOC", instances: [a, b] })).rejects.toMatchObject({
      message: "There are instance objects providing pnode/snode while others do not",
    });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MULTI_ALLOC", instances: [a, a] })).rejects.toMatchObject({
      message: "There are duplicate instance names: a.example.com",
    });
  });
});

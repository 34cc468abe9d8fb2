import { existsSync, statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, createOp, inst, runJob, runningOn, runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("OP_INSTANCE_CREATE", () => {
  it("creates and starts a diskless instance; result is the node list", async () => {
    c = await testCluster();
    const job = await runJob(c, [createOp("inst1.example.com")]);
    expect(job.ops[0]!.status).toBe("success");
    expect(job.ops[0]!.result).toEqual(["node1.example.com"]);
    expect(c.jobLog(job)).toEqual([
      "* creating instance disks...",
      "adding instance inst1.example.com to cluster config",
      "adding disks to cluster config",
      "* starting instance...",
    ]);
    const i = inst(c, "inst1.example.com");
    expect(i.admin_state).toBe("up");
    expect(i.beparams).toEqual({ maxmem: 128, minmem: 128 });
    expect(i.nics).toHaveLength(1);
    expect(i.nics[0]!.mac).toMatch(/^aa:00:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    expect(await runningOn(c, "node1.example.com")).toEqual(["inst1.example.com"]);
  });

  it("creates file disks as sparse files under <file_storage_dir>/<name>/ and logs like Ganeti", async () => {
    c = await testCluster();
    const job = await runJob(c, [createOp("inst2.example.com", { disk_template: "file", disks: [{ size: 1024 }] })]);
    expect(job.ops[0]!.status).toBe("success");
    const log = c.jobLog(job);
    expect(log[0]).toBe("* disk 0, size 1.0G");
    expect(log).toContain("* running the instance OS create scripts...");
    expect(log).toContain(" - INFO: Instance inst2.example.com's disks are in sync");
    const i = inst(c, "inst2.example.com");
    const d = c.config.disk(i.disks[0]!);
    const p = String(d.logical_id[1]);
    expect(d.logical_id[0]).toBe("loop");
    expect(p).toMatch(new RegExp(`^${c.config.cluster.file_storage_dir}/inst2.example.com/[0-9a-f-]{36}\\.file\\.disk0$`));
    expect(statSync(p).size).toBe(1024 * 1024 * 1024);
    expect(d.iv_name).toBe("disk/0");
  });

  it("creates a stopped sharedfile instance with start=false", async () => {
    c = await testCluster();
    const i = await create(c, "inst3.example.com", { disk_template: "sharedfile", disks: [{ size: "512M" }], start: false });
    expect(i.admin_state).toBe("down");
    const d = c.config.disk(i.disks[0]!);
    expect(String(d.logical_id[1]).startsWith(`${c.config.cluster.shared_file_storage_dir}/inst3.example.com/`)).toBe(true);
    expect(String(d.logical_id[1])).toMatch(/\.sharedfile\.disk0$/);
    expect(await runningOn(c, "node1.example.com")).toEqual([]);
  });

  it("uses the allocator when no pnode is given and logs the choice", async () => {
    c = await testCluster({ nodes: 2 });
    const job = await runJob(c, [createOp("inst4.example.com", { pnode: undefined })]);
    expect(job.ops[0]!.status).toBe("success");
    const node = (job.ops[0]!.result as string[])[0]!;
    expect(c.jobLog(job)[0]).toBe(` - INFO: Selected nodes for instance inst4.example.com via iallocator hail: ${node}`);
    expect(inst(c, "inst4.example.com").primary_node).toBe(c.config.findNode(node)!.uuid);
  });

  it("dry run returns the node uuids and changes nothing", async () => {
    c = await testCluster();
    const res = await runOp(c, { ...createOp("inst5.example.com"), dry_run: true });
    expect(res).toEqual([c.config.masterNode.uuid]);
    expect(c.config.findInstance("inst5.example.com")).toBeUndefined();
  });

  it("refuses a duplicate name with already_exists", async () => {
    c = await testCluster();
    await create(c, "inst1.example.com");
    await expect(runOp(c, createOp("inst1.example.com"))).rejects.toMatchObject({
      errorClass: "OpPrereqError",
      message: "Instance 'inst1.example.com' is already in the cluster",
      code: "already_exists",
    });
  });

  it("refuses a disabled template with Ganeti's message and no ecode", async () => {
    c = await testCluster();
    await expect(runOp(c, createOp("x.example.com", { disk_template: "plain", disks: [{ size: 1024 }] }))).rejects.toMatchObject({
      errorClass: "OpPrereqError",
      message: "Disk template 'plain' is not enabled in cluster. Enabled disk templates are: file,sharedfile,diskless",
      code: null,
    });
  });

  it("refuses global hvparams", async () => {
    c = await testCluster();
    await expect(runOp(c, createOp("x.example.com", { hvparams: { migration_mode: "non-live" } }))).rejects.toMatchObject({
      message:
        "The following hypervisor parameters are global and cannot be customized at instance level, please modify them at cluster level: migration_mode",
      code: "wrong_input",
    });
  });

  it("reports an unknown OS as OpExecError from the OS validation", async () => {
    c = await testCluster();
    await expect(runOp(c, createOp("x.example.com", { os_type: "nosuchos" }))).rejects.toMatchObject({
      errorClass: "OpExecError",
    });
    expect(c.config.findInstance("x.example.com")).toBeUndefined();
  });

  it("rejects beparams that are not sizes with TypeEnforcementError", async () => {
    c = await testCluster();
    const job = await runJob(c, [createOp("x.example.com", { beparams: { memory: "lots" } })]);
    expect(job.ops[0]!.result).toEqual(["TypeEnforcementError", ["'maxmem' (value lots) is not a valid size. error: Invalid format"]]);
  });

  it("refuses import mode clearly and needs an OS unless no_install", async () => {
    c = await testCluster();
    await expect(runOp(c, createOp("x.example.com", { mode: "import" }))).rejects.toMatchObject({ code: "wrong_input" });
    await expect(runOp(c, createOp("x.example.com", { os_type: null }))).rejects.toMatchObject({
      message: "No guest OS or OS image specified",
    });
    const i = await create(c, "y.example.com", { os_type: null, no_install: true });
    expect(i.admin_state).toBe("down");
  });

  it("fails allocation of a file instance without disks like hail (FailDiskCount)", async () => {
    c = await testCluster();
    await expect(runOp(c, createOp("x.example.com", { pnode: undefined, disk_template: "file", nics: [] }))).rejects.toMatchObject({
      code: "insufficient_resources",
      message: expect.stringMatching(/^Can't compute nodes using iallocator 'hail': Request failed: .*FailDiskCount/),
    });
  });

  it("refuses to start when the node lacks memory", async () => {
    c = await testCluster({ nodeMemory: 256 });
    await expect(runOp(c, createOp("x.example.com", { beparams: { memory: 1024 } }))).rejects.toMatchObject({
      code: "insufficient_resources",
      message: expect.stringContaining("Not enough memory on node node1.example.com for creating instance x.example.com"),
    });
  });

  it("takes a NIC address from a network pool", async () => {
    c = await testCluster({ bridges: ["br9"] });
    await runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "net1", network: "10.9.0.0/29", gateway: "10.9.0.1" });
    await runOp(c, {
      OP_ID: "OP_NETWORK_CONNECT",
      group_name: "default",
      network_name: "net1",
      network_mode: "bridged",
      network_link: "br9",
      network_vlan: "",
    });
    const job = await runJob(c, [createOp("n1.example.com", { nics: [{ network: "net1", ip: "pool" }] })]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toContain(" - INFO: Chose IP 10.9.0.2 from network net1");
    const i = inst(c, "n1.example.com");
    expect(i.nics[0]).toMatchObject({ ip: "10.9.0.2", nicparams: { mode: "bridged", link: "br9", vlan: "" } });
    const net = c.config.findNetwork("net1")!;
    expect(net.reservations[2]).toBe("1");
    await runOp(c, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "n1.example.com" });
    expect(c.config.findNetwork("net1")!.reservations[2]).toBe("0");
  });

  it("removes created disks when the OS install fails", async () => {
    c = await testCluster();
    c.config.cluster.os_search_path = ["/nonexistent"];
    await expect(runOp(c, createOp("x.example.com", { disk_template: "file", disks: [{ size: 16 }] }))).rejects.toMatchObject({
      errorClass: "OpExecError",
    });
    expect(existsSync(`${c.config.cluster.file_storage_dir}/x.example.com`)).toBe(false);
  });
});

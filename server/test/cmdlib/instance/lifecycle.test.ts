// startup, shutdown, reboot, remove, rename, reinstall, grow-disk, query-data.
import { existsSync, statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, inst, runJob, runningOn, runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});
const N1 = "node1.example.com";

describe("startup / shutdown / reboot", () => {
  it("shutdown stops the instance and marks it down; twice is fine; startup brings it back", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    expect(await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "i1.example.com" })).toBeNull();
    expect(inst(c, "i1.example.com").admin_state).toBe("down");
    expect(await runningOn(c, N1)).toEqual([]);
    await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "i1.example.com" });
    await runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com" });
    expect(inst(c, "i1.example.com").admin_state).toBe("up");
    expect(await runningOn(c, N1)).toEqual(["i1.example.com"]);
    await runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com" });
    expect(await runningOn(c, N1)).toEqual(["i1.example.com"]);
  });

  it("no_remember shutdown keeps admin state up (ERROR_down)", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "i1.example.com", no_remember: true, timeout: 10 });
    expect(inst(c, "i1.example.com").admin_state).toBe("up");
    expect(await runningOn(c, N1)).toEqual([]);
  });

  it("unknown instance → unknown_entity", async () => {
    c = await testCluster();
    for (const OP_ID of ["OP_INSTANCE_STARTUP", "OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REMOVE"])
      await expect(runOp(c, { OP_ID, instance_name: "nosuch.example.com" })).rejects.toMatchObject({
        message: "Instance 'nosuch.example.com' not known",
        code: "unknown_entity",
      });
  });

  it("startup checks free memory; offline instances cannot start", async () => {
    c = await testCluster({ nodeMemory: 512 });
    await create(c, "i1.example.com", { beparams: { memory: 256 }, start: false });
    await create(c, "i2.example.com", { beparams: { memory: 400 }, start: false });
    await runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com" });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i2.example.com" })).rejects.toMatchObject({
      code: "insufficient_resources",
      message: expect.stringContaining("Not enough memory on node node1.example.com for starting instance i2.example.com: needed 400 MiB"),
    });
    await runOp(c, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "i2.example.com", offline: true });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i2.example.com" })).rejects.toMatchObject({
      message: "Instance 'i2.example.com' is marked to be offline, can't use instance from outside up, down states",
      code: "wrong_state",
    });
  });

  it("reboots soft, hard and full; a stopped instance is started by a full reboot", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    for (const reboot_type of ["soft", "hard", "full"])
      await runOp(c, { OP_ID: "OP_INSTANCE_REBOOT", instance_name: "i1.example.com", reboot_type });
    expect(await runningOn(c, N1)).toEqual(["i1.example.com"]);
    await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "i1.example.com", no_remember: true });
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_REBOOT", instance_name: "i1.example.com", reboot_type: "full" }]);
    expect(c.jobLog(job)).toContain(" - INFO: Instance i1.example.com was already stopped, starting now");
    expect(await runningOn(c, N1)).toEqual(["i1.example.com"]);
  });
});

describe("remove", () => {
  it("stops the instance, deletes its disks and directory and the config entries", async () => {
    c = await testCluster();
    const i = await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }] });
    const path = String(c.config.disk(i.disks[0]!).logical_id[1]);
    expect(existsSync(path)).toBe(true);
    await runOp(c, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "i1.example.com" });
    expect(c.config.findInstance("i1.example.com")).toBeUndefined();
    expect(c.config.data.disks[i.disks[0]!]).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${c.config.cluster.file_storage_dir}/i1.example.com`)).toBe(false);
    expect(await runningOn(c, N1)).toEqual([]);
  });

  it("dry run changes nothing", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_REMOVE", instance_name: "i1.example.com", dry_run: true }]);
    expect(job.ops[0]!.result).toBeNull();
    expect(c.config.findInstance("i1.example.com")).toBeDefined();
  });
});

describe("rename / reinstall", () => {
  it("refuses to rename a running instance; renames a stopped one with its storage directory", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }] });
    const rename = {
      OP_ID: "OP_INSTANCE_RENAME",
      instance_name: "i1.example.com",
      new_name: "i9.example.com",
      name_check: false,
      ip_check: false,
    };
    await expect(runOp(c, rename)).rejects.toMatchObject({
      message: "Instance 'i1.example.com' is marked to be up, cannot rename",
      code: "wrong_state",
    });
    await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "i1.example.com" });
    expect(await runOp(c, rename)).toBe("i9.example.com");
    const i = inst(c, "i9.example.com");
    const p = String(c.config.disk(i.disks[0]!).logical_id[1]);
    expect(p.startsWith(`${c.config.cluster.file_storage_dir}/i9.example.com/`)).toBe(true);
    expect(existsSync(p)).toBe(true);
    expect(existsSync(`${c.config.cluster.file_storage_dir}/i1.example.com`)).toBe(false);
  });

  it("reinstall: diskless has no disks; running is refused; stopped file instance reinstalls", async () => {
    c = await testCluster();
    await create(c, "d.example.com", { start: false });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_REINSTALL", instance_name: "d.example.com", os_type: "noop" })).rejects.toMatchObject({
      message: "Instance 'd.example.com' has no disks",
      code: "wrong_input",
    });
    await create(c, "f.example.com", { disk_template: "file", disks: [{ size: 8 }] });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_REINSTALL", instance_name: "f.example.com" })).rejects.toMatchObject({
      message: "Instance 'f.example.com' is marked to be up, cannot reinstall",
    });
    await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "f.example.com" });
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_REINSTALL", instance_name: "f.example.com", os_type: "noop" }]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toEqual(["Changing OS scripts to 'noop'...", "Running the instance OS create scripts..."]);
  });
});

describe("disks", () => {
  it("grows a file disk (relative and absolute) and refuses shrinking", async () => {
    c = await testCluster();
    const i = await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 64 }] });
    const path = String(c.config.disk(i.disks[0]!).logical_id[1]);
    await runOp(c, { OP_ID: "OP_INSTANCE_GROW_DISK", instance_name: "i1.example.com", ignore_ipolicy: true, disk: 0, amount: 64 });
    expect(c.config.disk(i.disks[0]!).size).toBe(128);
    expect(statSync(path).size).toBe(128 * 1024 * 1024);
    await runOp(c, {
      OP_ID: "OP_INSTANCE_GROW_DISK",
      instance_name: "i1.example.com",
      ignore_ipolicy: true,
      disk: 0,
      amount: 256,
      absolute: true,
    });
    expect(c.config.disk(i.disks[0]!).size).toBe(256);
    await expect(
      runOp(c, {
        OP_ID: "OP_INSTANCE_GROW_DISK",
        instance_name: "i1.example.com",
        ignore_ipolicy: true,
        disk: 0,
        amount: 100,
        absolute: true,
      }),
    ).rejects.toMatchObject({ message: "Requested size (100M) is smaller than current disk size (256M)", code: "wrong_state" });
    await expect(
      runOp(c, { OP_ID: "OP_INSTANCE_GROW_DISK", instance_name: "i1.example.com", ignore_ipolicy: true, disk: 3, amount: 1 }),
    ).rejects.toMatchObject({
      code: "wrong_input",
    });
  });

  it("activates and deactivates disks; deactivating a running instance's disks needs force", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }], start: false });
    const res = (await runOp(c, { OP_ID: "OP_INSTANCE_ACTIVATE_DISKS", instance_name: "i1.example.com" })) as unknown[][];
    expect(res).toHaveLength(1);
    expect(res[0]!.slice(0, 2)).toEqual([N1, "disk/0"]);
    expect(inst(c, "i1.example.com").disks_active).toBe(true);
    await runOp(c, { OP_ID: "OP_INSTANCE_DEACTIVATE_DISKS", instance_name: "i1.example.com" });
    expect(inst(c, "i1.example.com").disks_active).toBe(false);
    await runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com" });
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_DEACTIVATE_DISKS", instance_name: "i1.example.com" })).rejects.toMatchObject({
      code: "wrong_state",
    });
  });

  it("recreates disks of a stopped instance; replace-disks is DRBD only", async () => {
    c = await testCluster();
    const i = await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }], start: false });
    await runOp(c, { OP_ID: "OP_INSTANCE_RECREATE_DISKS", instance_name: "i1.example.com", disks: [[0, { size: 16 }]] });
    expect(c.config.disk(i.disks[0]!).size).toBe(16);
    expect(statSync(String(c.config.disk(i.disks[0]!).logical_id[1])).size).toBe(16 * 1024 * 1024);
    await expect(
      runOp(c, { OP_ID: "OP_INSTANCE_REPLACE_DISKS", instance_name: "i1.example.com", mode: "replace_auto" }),
    ).rejects.toMatchObject({ message: "Can only run replace disks for DRBD8-based instances", code: "wrong_input" });
  });
});

describe("query data / console", () => {
  it("returns Ganeti's detail dict keyed by name, static and live", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }] });
    const live = (await runOp(c, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["i1.example.com"], use_locking: true })) as Record<
      string,
      Record<string, unknown>
    >;
    const d = live["i1.example.com"]!;
    expect(d).toMatchObject({
      name: "i1.example.com",
      config_state: "up",
      run_state: "up",
      pnode: N1,
      snodes: [],
      os: "noop",
      hv_actual: {},
    });
    expect(d["be_instance"]).toEqual({ maxmem: 128, minmem: 128 });
    expect((d["disks"] as Array<Record<string, unknown>>)[0]).toMatchObject({
      iv_name: "disk/0",
      dev_type: "file",
      size: 8,
      sstatus: null,
    });
    const stat = (await runOp(c, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["i1.example.com"], static: true })) as Record<
      string,
      Record<string, unknown>
    >;
    expect(stat["i1.example.com"]!["run_state"]).toBeNull();
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["nosuch.example.com"], use_locking: true }]);
    expect(c.jobLog(job)).toEqual([" - WARNING: Non-static data requested, locks need to be acquired"]);
    expect(job.ops[0]!.result).toEqual(["OpPrereqError", ["Instance 'nosuch.example.com' not known", "unknown_entity"]]);
  });

  it("console of a fake instance", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    expect(await runOp(c, { OP_ID: "OP_INSTANCE_CONSOLE", instance_name: "i1.example.com" })).toMatchObject({
      instance: "i1.example.com",
      kind: "msg",
    });
  });
});

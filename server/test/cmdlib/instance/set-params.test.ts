import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, inst, runJob, runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});
// Small test disks are below the default policy's minimum; policy tests pass ignore_ipolicy: false.
const mod = (over: Record<string, unknown>) => ({
  OP_ID: "OP_INSTANCE_SET_PARAMS",
  instance_name: "i1.example.com",
  ignore_ipolicy: true,
  ...over,
});

describe("OP_INSTANCE_SET_PARAMS", () => {
  it("beparams: result lists the given keys; memory is stored as minmem/maxmem", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    expect(await runOp(c, mod({ beparams: { maxmem: 256, minmem: 256, vcpus: 2 } }))).toEqual([
      ["be/maxmem", 256],
      ["be/minmem", 256],
      ["be/vcpus", 2],
    ]);
    expect(await runOp(c, mod({ beparams: { memory: 192 } }))).toEqual([["be/memory", 192]]);
    expect(inst(c, "i1.example.com").beparams).toEqual({ maxmem: 192, minmem: 192, vcpus: 2 });
  });

  it("errors: no changes, global hvparam, bad beparam type, unknown beparam", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    await expect(runOp(c, mod({}))).rejects.toMatchObject({ message: "No changes submitted", code: "wrong_input" });
    await expect(runOp(c, mod({ hvparams: { migration_mode: "non-live" } }))).rejects.toMatchObject({
      message:
        "The following hypervisor parameters are global and cannot be customized at instance level, please modify them at cluster level: migration_mode",
    });
    const j1 = await runJob(c, [mod({ beparams: { maxmem: "lots" } })]);
    expect(j1.ops[0]!.result).toEqual(["TypeEnforcementError", ["'maxmem' (value lots) is not a valid size. error: Invalid format"]]);
    const j2 = await runJob(c, [mod({ beparams: { bogus: 1 } })]);
    expect(j2.ops[0]!.result).toEqual(["TypeEnforcementError", ["Unknown parameter 'bogus'"]]);
  });

  it("adds, modifies and removes NICs with Ganeti's change descriptions", async () => {
    c = await testCluster({ bridges: ["xen-br0", "br1"] });
    await create(c, "i1.example.com");
    expect(await runOp(c, mod({ nics: [["add", -1, { mac: "aa:00:00:95:ab:09" }]] }))).toEqual([
      ["nic.1", "add:mac=aa:00:00:95:ab:09,ip=None,mode=bridged,link=xen-br0,network=None"],
    ]);
    expect(await runOp(c, mod({ nics: [["modify", 1, { link: "br1" }]] }))).toEqual([["nic.link/1", "br1"]]);
    expect(await runOp(c, mod({ nics: [["remove", 1, {}]] }))).toEqual([["NIC/1", "remove"]]);
    expect(inst(c, "i1.example.com").nics).toHaveLength(1);
    await expect(runOp(c, mod({ nics: [["remove", 5, {}]] }))).rejects.toMatchObject({ code: "wrong_input" });
  });

  it("adds a NIC in a network with ip=pool", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    await runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "capnet", network: "10.250.3.0/24", gateway: "10.250.3.254" });
    await runOp(c, {
      OP_ID: "OP_NETWORK_CONNECT",
      group_name: "default",
      network_name: "capnet",
      network_mode: "bridged",
      network_link: "xen-br0",
      network_vlan: "",
    });
    const job = await runJob(c, [mod({ nics: [["add", -1, { mac: "aa:00:00:ea:31:bc", ip: "pool", network: "capnet" }]] })]);
    expect(job.ops[0]!.result).toEqual([["nic.1", "add:mac=aa:00:00:ea:31:bc,ip=10.250.3.1,mode=bridged,link=xen-br0,network=capnet"]]);
    expect(c.jobLog(job)).toEqual([" - INFO: Chose IP 10.250.3.1 from network capnet"]);
  });

  it("adds and removes disks of a stopped file instance", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }], start: false });
    expect(await runOp(c, mod({ disks: [["add", -1, { size: 16 }]] }))).toEqual([["disk/1", "add:size=16,mode=rw"]]);
    const i = inst(c, "i1.example.com");
    const d1 = c.config.disk(i.disks[1]!);
    expect(d1.iv_name).toBe("disk/1");
    expect(String(d1.logical_id[1])).toMatch(/\.file\.disk1$/);
    expect(existsSync(String(d1.logical_id[1]))).toBe(true);
    expect(await runOp(c, mod({ disks: [[0, { mode: "ro" }]] }))).toEqual([["disk.mode/0", "ro"]]);
    expect(await runOp(c, mod({ disks: [["remove", 0, {}]] }))).toEqual([["disk/0", "remove"]]);
    expect(c.config.disk(inst(c, "i1.example.com").disks[0]!).iv_name).toBe("disk/0");
    await expect(runOp(c, mod({ disks: [["modify", 0, { size: 99 }]] }))).rejects.toMatchObject({
      message: "Disk size change not possible, use grow-disk",
    });
  });

  it("offline needs a stopped instance; primary node change of a stopped instance", async () => {
    c = await testCluster({ nodes: 2 });
    await create(c, "i1.example.com");
    await expect(runOp(c, mod({ offline: true }))).rejects.toMatchObject({ code: "wrong_state" });
    await runOp(c, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "i1.example.com" });
    expect(await runOp(c, mod({ offline: true }))).toEqual([["admin_state", "offline"]]);
    expect(await runOp(c, mod({ offline: false }))).toEqual([["admin_state", "down"]]);
    await runOp(c, mod({ pnode: "node2.example.com" }));
    expect(c.config.node(inst(c, "i1.example.com").primary_node).name).toBe("node2.example.com");
  });

  it("refuses disk template conversions it cannot perform", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { start: false });
    await expect(runOp(c, mod({ disk_template: "diskless" }))).rejects.toMatchObject({
      message: "Instance already has disk template diskless",
    });
    await expect(runOp(c, mod({ disk_template: "file" }))).rejects.toMatchObject({
      message: "Unsupported disk template conversion from diskless to file",
    });
  });

  it("runtime memory of a running instance", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { beparams: { minmem: 128, maxmem: 512 } });
    expect(await runOp(c, mod({ runtime_mem: 256 }))).toEqual([["runtime_memory", 256]]);
  });

  it("runtime memory is checked against the memory range the same job proposes (Ganeti's be_proposed)", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { beparams: { minmem: 128, maxmem: 256 } });
    const res = await runOp(c, mod({ beparams: { minmem: 384, maxmem: 384 }, runtime_mem: 384 }));
    expect(res).toContainEqual(["runtime_memory", 384]);
    await expect(runOp(c, mod({ beparams: { minmem: 128, maxmem: 192 }, runtime_mem: 256 }))).rejects.toMatchObject({
      message: "Instance i1.example.com must have memory between 128 and 192 of memory unless --force is given",
      code: "wrong_input",
    });
  });
});

describe("backup", () => {
  it("prepare local → null; export of file disks is refused like Ganeti", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 8 }] });
    expect(await runOp(c, { OP_ID: "OP_BACKUP_PREPARE", instance_name: "i1.example.com", mode: "local" })).toBeNull();
    await expect(
      runOp(c, { OP_ID: "OP_BACKUP_EXPORT", instance_name: "i1.example.com", target_node: "node1.example.com" }),
    ).rejects.toMatchObject({ message: "Export not supported for instances with file-based disks", code: "wrong_input" });
    await expect(
      runOp(c, {
        OP_ID: "OP_BACKUP_EXPORT",
        instance_name: "i1.example.com",
        target_node: "node1.example.com",
        remove_instance: true,
        shutdown: false,
      }),
    ).rejects.toMatchObject({ message: "Can not remove instance without shutting it down before" });
  });
});

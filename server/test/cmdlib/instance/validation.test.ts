// Bad input at the LUs: names, parameter types and ranges, and the group's
// instance policy, refused with Ganeti's error classes, messages and ECODEs
// before anything is stored.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, createOp, inst, runJob, runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});
const mod = (over: Record<string, unknown>) => ({ OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "i1.example.com", ...over });
const errorOf = async (c: TestCluster, op: Record<string, unknown>) => (await runJob(c, [op as never])).ops[0]!.result;

describe("instance names (Ganeti's Hostname.GetNormalizedName)", () => {
  const bad: Array<[string, string]> = [
    ["", ""],
    [" ", " "],
    ["a/b", "a/b"],
    ["..", ".."],
    ["../../x", "../../x"],
    ["a\u0000b", "a\u0000b"],
    ["my host", "my host"],
    ["evil\u202Etxt.exe", "evil\u202Etxt.exe"],
    ["a..b", "a..b"],
    ["x".repeat(70_000), "x".repeat(70_000)],
  ];
  it.each(bad.map(([n, s], i) => [i, n, s] as const))("create refuses bad name #%i with OpPrereqError wrong_input", async (_i, name, shown) => {
    c ??= await testCluster();
    const res = await errorOf(c, createOp(name));
    expect(res).toEqual(["OpPrereqError", [`Invalid hostname '${shown}'`, "wrong_input"]]);
    expect(c.config.instances()).toEqual([]);
  });

  it("create lower-cases the name and drops a trailing dot", async () => {
    c = await testCluster();
    await runOp(c, createOp("Web1.Example.COM."));
    expect(c.config.instances().map((i) => i.name)).toEqual(["web1.example.com"]);
  });

  it("rename refuses a bad new name and normalises a good one", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { start: false });
    const rename = (new_name: string) => ({ OP_ID: "OP_INSTANCE_RENAME", instance_name: "i1.example.com", new_name, name_check: false, ip_check: false });
    expect(await errorOf(c, rename("../../etc"))).toEqual(["OpPrereqError", ["Invalid hostname '../../etc'", "wrong_input"]]);
    await runOp(c, rename("I2.Example.com"));
    expect(c.config.instances().map((i) => i.name)).toEqual(["i2.example.com"]);
  });

  it("group, network and OS names cannot be paths", async () => {
    c = await testCluster();
    expect(await errorOf(c, { OP_ID: "OP_GROUP_ADD", group_name: "a/b" })).toEqual(["OpPrereqError", ["Invalid group name 'a/b'", "wrong_input"]]);
    expect(await errorOf(c, { OP_ID: "OP_GROUP_ADD", group_name: ".." })).toEqual(["OpPrereqError", ["Invalid group name '..'", "wrong_input"]]);
    expect(await errorOf(c, { OP_ID: "OP_GROUP_RENAME", group_name: "default", new_name: "x y" })).toEqual([
      "OpPrereqError",
      ["Invalid group name 'x y'", "wrong_input"],
    ]);
    expect(await errorOf(c, { OP_ID: "OP_NETWORK_ADD", network_name: "n\u0000", network: "10.1.0.0/24" })).toEqual([
      "OpPrereqError",
      ["Invalid network name 'n\u0000'", "wrong_input"],
    ]);
    expect(await errorOf(c, createOp("o.example.com", { os_type: ".." }))).toEqual(["OpPrereqError", ["Invalid OS name '..'", "wrong_input"]]);
    expect(await errorOf(c, createOp("o.example.com", { os_type: "../noop" }))).toEqual(["OpPrereqError", ["Invalid OS name '../noop'", "wrong_input"]]);
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "Rack-1" });
    expect(c.config.findGroup("Rack-1")).toBeDefined();
  });

  it("tags given at create follow the tag rules", async () => {
    c = await testCluster();
    expect(await errorOf(c, createOp("t.example.com", { tags: ["bad tag"] }))).toEqual(["TagError", ["Tag contains invalid characters"]]);
  });
});

describe("parameters on create and modify", () => {
  it("hvparams: unknown key, wrong type, not this hypervisor's, failing syntax", async () => {
    c = await testCluster();
    expect(await errorOf(c, createOp("h.example.com", { hypervisor: "fake", hvparams: { bogus: 1 } }))).toEqual([
      "TypeEnforcementError",
      ["Unknown parameter 'bogus'"],
    ]);
    await create(c, "i1.example.com");
    expect(await errorOf(c, mod({ hvparams: { bogus: "x" } }))).toEqual(["TypeEnforcementError", ["Unknown parameter 'bogus'"]]);
    expect(await errorOf(c, mod({ hvparams: { acpi: "maybe" } }))).toEqual(["TypeEnforcementError", ["'acpi' (value maybe) is not a valid boolean"]]);
    expect(await errorOf(c, mod({ hvparams: { kernel_args: { a: { b: 1 } } } }))).toEqual([
      "TypeEnforcementError",
      ["'kernel_args' (value {'a': {'b': 1}}) is not a valid string"],
    ]);
    // A kvm parameter on a fake instance.
    expect(await errorOf(c, mod({ hvparams: { boot_order: "disk" } }))).toEqual(["HypervisorError", ["Parameter 'boot_order' is not supported"]]);
    expect(inst(c, "i1.example.com").hvparams).toEqual({});
  });

  it("startup's one-off hvparams and beparams are checked too", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { start: false });
    const start = (over: Record<string, unknown>) => ({ OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com", ...over });
    expect(await errorOf(c, start({ hvparams: { kernel_path: 5 } }))).toEqual(["TypeEnforcementError", ["'kernel_path' (value 5) is not a valid string"]]);
    expect(await errorOf(c, start({ hvparams: { acpi: true } }))).toEqual(["HypervisorError", ["Parameter 'acpi' is not supported"]]);
    expect(await errorOf(c, start({ beparams: { memory: -5 } }))).toEqual([
      "TypeEnforcementError",
      ["'maxmem' (value -5) is not a valid size. error: Invalid format"],
    ]);
    expect(inst(c, "i1.example.com").admin_state).toBe("down");
  });

  it("beparams: memory -1, vcpus 0 and spindle_use -1 are refused and nothing is stored", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    expect(await errorOf(c, mod({ beparams: { memory: -1 } }))).toEqual([
      "TypeEnforcementError",
      ["'maxmem' (value -1) is not a valid size. error: Invalid format"],
    ]);
    // Under the default policy Ganeti refuses these with the policy's message ...
    expect(await errorOf(c, mod({ beparams: { vcpus: 0 } }))).toEqual([
      "OpPrereqError",
      [expect.stringMatching(/violates policy: cpu-count value 0 is not in range \[1, 8\]$/), "wrong_input"],
    ]);
    // ... and without it they still make no sense.
    expect(await errorOf(c, mod({ beparams: { vcpus: 0 }, ignore_ipolicy: true }))).toEqual([
      "OpPrereqError",
      ["Invalid value for 'vcpus': 0 (must be at least 1)", "wrong_input"],
    ]);
    expect(await errorOf(c, mod({ beparams: { spindle_use: -1 }, ignore_ipolicy: true }))).toEqual([
      "OpPrereqError",
      ["Invalid value for 'spindle_use': -1 (cannot be negative)", "wrong_input"],
    ]);
    expect(await errorOf(c, createOp("v.example.com", { beparams: { vcpus: "two" } }))).toEqual([
      "TypeEnforcementError",
      ["'vcpus' (value two) is not a valid integer"],
    ]);
    expect(inst(c, "i1.example.com").beparams).toEqual({ maxmem: 128, minmem: 128 });
  });

  it("beparams 'constructor' or '__proto__' are unknown parameters, not Object.prototype members", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    expect(await errorOf(c, mod({ beparams: { constructor: 1 } }))).toEqual(["TypeEnforcementError", ["Unknown parameter 'constructor'"]]);
    expect(await errorOf(c, mod({ hvparams: { toString: "x" } }))).toEqual(["TypeEnforcementError", ["Unknown parameter 'toString'"]]);
  });

  it("osparams and private osparams the OS does not declare are refused", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    expect(await errorOf(c, mod({ osparams: { nope: "1" } }))).toEqual([
      "OpExecError",
      [expect.stringContaining("The following parameters are not supported by the OS noop: nope")],
    ]);
    expect(await errorOf(c, mod({ osparams_private: { hidden: "1" } }))).toEqual([
      "OpExecError",
      [expect.stringContaining("The following parameters are not supported by the OS noop: hidden")],
    ]);
    const i = inst(c, "i1.example.com");
    expect(i.osparams).toEqual({});
    expect(i.osparams_private).toEqual({});
  });

  it("group diskparams: unknown and prototype keys refused, types checked", async () => {
    c = await testCluster();
    const add = (diskparams: unknown) => ({ OP_ID: "OP_GROUP_ADD", group_name: "g2", diskparams });
    const unsupported = (k: string) => ["OpPrereqError", [`While verify diskparams options: Provided option keys not supported: ${k}`, "wrong_input"]];
    expect(await errorOf(c, add({ plain: { constructor: 1 } }))).toEqual(unsupported("plain/constructor"));
    expect(await errorOf(c, add({ drbd: { "resync-rate": "fast" } }))).toEqual(["TypeEnforcementError", ["'resync-rate' (value fast) is not a valid integer"]]);
    expect(c.config.findGroup("g2")).toBeUndefined();
  });

  it("cluster hvparams are typed and syntax-checked per hypervisor", async () => {
    c = await testCluster();
    const setp = (hvparams: unknown) => ({ OP_ID: "OP_CLUSTER_SET_PARAMS", hvparams });
    expect(await errorOf(c, setp({ kvm: { boot_order: "usb" } }))).toEqual([
      "HypervisorError",
      ["Parameter 'boot_order' fails syntax check: The value must be one of: cdrom, disk, floppy, network (current value: 'usb')"],
    ]);
    expect(await errorOf(c, setp({ kvm: { migration_port: "many" } }))).toEqual([
      "TypeEnforcementError",
      ["'migration_port' (value many) is not a valid integer"],
    ]);
    expect(await errorOf(c, setp({ constructor: { a: 1 } }))).toEqual(["OpPrereqError", ["Unknown hypervisor 'constructor'", "wrong_input"]]);
    await runOp(c, setp({ kvm: { migration_port: "8200" } }));
    expect(c.config.cluster.hvparams["kvm"]?.["migration_port"]).toBe(8200);
  });
});

describe("instance policy", () => {
  const violation = (what: string) => [
    "OpPrereqError",
    [expect.stringMatching(new RegExp(`^Instance allocation to group [0-9a-f-]+ \\(default\\) violates policy: ${what}$`)), "wrong_input"],
  ];

  it("create on a given node is refused unless ignore_ipolicy", async () => {
    c = await testCluster();
    const op = createOp("p.example.com", { disk_template: "file", disks: [{ size: 1024 }, { size: 512 }], ignore_ipolicy: false });
    expect(await errorOf(c, op)).toEqual(violation("disk-size/1 value 512 is not in range \\[1024, 1048576\\]"));
    expect(c.config.instances()).toEqual([]);
    expect(await errorOf(c, createOp("q.example.com", { beparams: { memory: 65536 }, ignore_ipolicy: false }))).toEqual(
      violation("memory-size value 65536 is not in range \\[128, 32768\\]"),
    );
    expect(await errorOf(c, createOp("r.example.com", { nics: [], ignore_ipolicy: false }))).toEqual(violation("nic-count value 0 is not in range \\[1, 8\\]"));
    await runOp(c, createOp("p.example.com", { disk_template: "file", disks: [{ size: 16 }], start: false, ignore_ipolicy: true }));
    expect(inst(c, "p.example.com")).toBeDefined();
  });

  it("modify: memory, vcpus, disk add and NIC removal are checked against the policy", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 1024 }], start: false });
    expect(await errorOf(c, mod({ beparams: { maxmem: 40000 } }))).toEqual(violation("memory-size value 40000 is not in range \\[128, 32768\\]"));
    expect(await errorOf(c, mod({ beparams: { vcpus: 9 } }))).toEqual(violation("cpu-count value 9 is not in range \\[1, 8\\]"));
    expect(await errorOf(c, mod({ disks: [["add", -1, { size: 512 }]] }))).toEqual(violation("disk-size/1 value 512 is not in range \\[1024, 1048576\\]"));
    expect(await errorOf(c, mod({ nics: [["remove", 0, {}]] }))).toEqual(violation("nic-count value 0 is not in range \\[1, 8\\]"));
    expect(await errorOf(c, mod({ beparams: { spindle_use: 13 } }))).toEqual(violation("spindle-use value 13 is not in range \\[1, 12\\]"));
    const i = inst(c, "i1.example.com");
    expect(i.beparams).toEqual({ maxmem: 128, minmem: 128 });
    expect(i.disks).toHaveLength(1);
    expect(await runOp(c, mod({ beparams: { vcpus: 9 }, ignore_ipolicy: true }))).toEqual([["be/vcpus", 9]]);
  });

  it("grow-disk beyond the policy's maximum is refused (a warning with ignore_ipolicy)", async () => {
    c = await testCluster();
    await create(c, "i1.example.com", { disk_template: "file", disks: [{ size: 1024 }], start: false });
    // The group's policy caps disks at 2 GiB.
    const group = c.config.groups()[0]!;
    await runOp(c, {
      OP_ID: "OP_GROUP_SET_PARAMS",
      group_name: group.name,
      ipolicy: { minmax: [{ min: { ...c.config.cluster.ipolicy.minmax[0]!.min }, max: { ...c.config.cluster.ipolicy.minmax[0]!.max, "disk-size": 2048 } }] },
    });
    const grow = (amount: number, ignore: boolean) => ({ OP_ID: "OP_INSTANCE_GROW_DISK", instance_name: "i1.example.com", disk: 0, amount, ignore_ipolicy: ignore });
    expect(await errorOf(c, grow(2048, false))).toEqual([
      "OpPrereqError",
      ["Growing disk 0 violates policy: disk-size/0 value 3072 is not in range [1024, 2048]", "wrong_input"],
    ]);
    expect(c.config.disk(inst(c, "i1.example.com").disks[0]!).size).toBe(1024);
    const job = await runJob(c, [grow(2048, true) as never]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toContain(" - WARNING: Growing disk 0 violates policy: disk-size/0 value 3072 is not in range [1024, 2048]");
  });
});

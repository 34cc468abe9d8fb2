// Node group LUs: add, rename, set-params, assign-nodes, remove.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runOp, runOpLog } from "../misc/run.js";

let c: TestCluster;
afterEach(async () => {
  await c?.cleanup();
});

describe("group LUs", () => {
  it("adds a group and refuses a duplicate name with already_exists", async () => {
    c = await testCluster();
    const before = c.config.data.serial_no;
    expect(await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "capgrp", alloc_policy: "preferred" })).toBeNull();
    const g = c.config.expandGroup("capgrp");
    expect(g).toMatchObject({ alloc_policy: "preferred", ndparams: {}, ipolicy: {}, networks: {}, serial_no: 1 });
    expect(c.config.data.serial_no).toBeGreaterThan(before);
    await expect(runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "capgrp" })).rejects.toMatchObject({
      errorClass: "OpPrereqError",
      message: `Desired group name 'capgrp' already exists as a node group (UUID: ${g.uuid})`,
      code: "already_exists",
    });
  });

  it("validates ndparams, diskparams and ipolicy on add", async () => {
    c = await testCluster();
    await expect(runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "g", ndparams: { bogus: 1 } })).rejects.toMatchObject({
      errorClass: "TypeEnforcementError",
      message: "Unknown parameter 'bogus'",
    });
    await expect(runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "g", diskparams: { plain: { nope: 1 } } })).rejects.toMatchObject({
      message: "While verify diskparams options: Provided option keys not supported: plain/nope",
      code: "wrong_input",
    });
    await expect(runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "g", ipolicy: { "disk-templates": ["drbd"] } })).rejects.toMatchObject({
      message: "The following disk templates are allowed by the ipolicy, but not enabled on the cluster: drbd",
      code: "wrong_input",
    });
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "g", ndparams: { spindle_count: "2" }, ipolicy: { "vcpu-ratio": 2 } });
    expect(c.config.expandGroup("g")).toMatchObject({ ndparams: { spindle_count: 2 }, ipolicy: { "vcpu-ratio": 2 } });
  });

  it("renames (result not wrapped) and refuses clashes", async () => {
    c = await testCluster();
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "capgrp" });
    const g = c.config.expandGroup("capgrp");
    expect(await runOp(c, { OP_ID: "OP_GROUP_RENAME", group_name: "capgrp", new_name: "capgrp2" })).toBe("capgrp2");
    expect(c.config.group(g.uuid)).toMatchObject({ name: "capgrp2", serial_no: 2 });
    await expect(runOp(c, { OP_ID: "OP_GROUP_RENAME", group_name: "capgrp2", new_name: "default" })).rejects.toMatchObject({
      code: "already_exists",
    });
    await expect(runOp(c, { OP_ID: "OP_GROUP_RENAME", group_name: "nosuch", new_name: "x" })).rejects.toMatchObject({
      message: "Group 'nosuch' not found",
      code: "unknown_entity",
    });
  });

  it("set-params: alloc_policy gives [], ndparams/diskparams are reported as Python dicts", async () => {
    c = await testCluster();
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "capgrp" });
    expect(await runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp", alloc_policy: "last_resort" })).toEqual([]);
    expect(c.config.expandGroup("capgrp").alloc_policy).toBe("last_resort");
    expect(await runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp", ndparams: { spindle_count: 2, oob_program: "" } })).toEqual(
      [["ndparams", "{'spindle_count': 2, 'oob_program': ''}"]],
    );
    expect(await runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp", diskparams: { plain: { stripes: 2 } } })).toEqual([
      ["diskparams", "{'plain': {'stripes': 2}}"],
    ]);
    // "default" drops a group override
    await runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp", ndparams: { spindle_count: "default" } });
    expect(c.config.expandGroup("capgrp").ndparams).toEqual({ oob_program: "" });
    await expect(runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp" })).rejects.toMatchObject({
      message: "Please pass at least one modification",
      code: "wrong_input",
    });
    await expect(
      runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp", ipolicy: { std: { "cpu-count": 1 } } }),
    ).rejects.toMatchObject({ message: "std cannot appear in group instance specs", code: "wrong_input" });
    await runOp(c, { OP_ID: "OP_GROUP_SET_PARAMS", group_name: "capgrp", ipolicy: { "spindle-ratio": 8 } });
    expect(c.config.expandGroup("capgrp").ipolicy).toEqual({ "spindle-ratio": 8 });
  });

  it("assigns nodes, then removes only empty groups and never the last one", async () => {
    c = await testCluster({ nodes: 2 });
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "g2" });
    const g2 = c.config.expandGroup("g2");
    const def = c.config.expandGroup("default");
    const n2 = c.config.expandNode("node2");
    const nodeSerial = n2.serial_no;
    expect(await runOp(c, { OP_ID: "OP_GROUP_ASSIGN_NODES", group_name: "g2", nodes: ["node2.example.com"] })).toBeNull();
    expect(c.config.node(n2.uuid).group).toBe(g2.uuid);
    expect(c.config.node(n2.uuid).serial_no).toBe(nodeSerial + 1);
    await expect(runOp(c, { OP_ID: "OP_GROUP_REMOVE", group_name: "g2" })).rejects.toMatchObject({
      message: `Group 'g2' not empty, has the following nodes: ${n2.uuid}`,
      code: "wrong_state",
    });
    await runOp(c, { OP_ID: "OP_GROUP_ASSIGN_NODES", group_name: "default", nodes: ["node2"] });
    expect(await runOp(c, { OP_ID: "OP_GROUP_REMOVE", group_name: "g2" })).toBeNull();
    expect(c.config.findGroup("g2")).toBeUndefined();
    // the only group left
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "empty" });
    await runOp(c, { OP_ID: "OP_GROUP_ASSIGN_NODES", group_name: "empty", nodes: ["node1", "node2"] });
    await runOp(c, { OP_ID: "OP_GROUP_REMOVE", group_name: "default" });
    await expect(runOp(c, { OP_ID: "OP_GROUP_REMOVE", group_name: "empty" })).rejects.toMatchObject({
      code: "wrong_state",
    });
    void def;
  });

  it("assign-nodes refuses to split a drbd instance without force", async () => {
    c = await testCluster({ nodes: 2 });
    await runOp(c, { OP_ID: "OP_GROUP_ADD", group_name: "g2" });
    const [n1, n2] = [c.config.expandNode("node1"), c.config.expandNode("node2")];
    // A drbd instance straight into the config: only its nodes matter here.
    await c.config.mutate((d) => {
      d.instances["i1"] = {
        uuid: "i1",
        name: "inst1.example.com",
        primary_node: n1.uuid,
        secondary_nodes: [n2.uuid],
        os: "noop",
        hypervisor: "fake",
        hvparams: {},
        beparams: {},
        osparams: {},
        osparams_private: {},
        admin_state: "down",
        admin_state_source: "admin",
        nics: [],
        disks: [],
        disk_template: "drbd",
        disks_active: false,
        network_port: null,
        serial_no: 1,
        ctime: 0,
        mtime: 0,
        tags: [],
      };
    });
    await expect(runOp(c, { OP_ID: "OP_GROUP_ASSIGN_NODES", group_name: "g2", nodes: ["node2"] })).rejects.toMatchObject({
      errorClass: "OpExecError",
      message: "The following instances get split by this change and --force was not given: inst1.example.com",
    });
    const [, log] = await runOpLog(c, { OP_ID: "OP_GROUP_ASSIGN_NODES", group_name: "g2", nodes: ["node2"], force: true });
    expect(log).toEqual([" - WARNING: This operation will split the following instances: inst1.example.com"]);
  });
});

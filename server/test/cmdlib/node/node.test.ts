// Node LUs: set-params (roles), add, remove, powercycle, migrate, evacuate, storage.
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeBackend } from "../../../src/noded/backend/node-backend.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runOp, runOpLog } from "../misc/run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("OP_NODE_SET_PARAMS", () => {
  it("drained with auto_promote, then regular: results as Ganeti's (stringified)", async () => {
    c = await testCluster({ nodes: 3 });
    const n2 = c.config.expandNode("node2");
    const serial = n2.serial_no;
    const res = await runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2.example.com", drained: true, auto_promote: true });
    expect(res).toEqual([
      ["master_candidate", "False"],
      ["drained", "True"],
    ]);
    expect(c.config.node(n2.uuid)).toMatchObject({ master_candidate: false, drained: true, offline: false });
    expect(c.config.node(n2.uuid).serial_no).toBeGreaterThan(serial);
    const [res2, log] = await runOpLog(c, {
      OP_ID: "OP_NODE_SET_PARAMS",
      node_name: "node2.example.com",
      master_candidate: false,
      offline: false,
      drained: false,
    });
    expect(res2).toEqual([
      ["master_candidate", "True"],
      ["drained", "False"],
    ]);
    expect(log).toEqual([
      " - INFO: Ignoring request to unset flag master_candidate, already unset",
      " - INFO: Ignoring request to unset flag offline, already unset",
      " - INFO: Auto-promoting node to master candidate",
    ]);
  });

  it("argument and prerequisite errors", async () => {
    c = await testCluster({ nodes: 2 });
    await expect(runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2" })).rejects.toMatchObject({
      message: "Please pass at least one modification",
      code: "wrong_input",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2", offline: true, drained: true })).rejects.toMatchObject({
      message: "Can't set the node into more than one state at the same time",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node1", drained: true })).rejects.toMatchObject({
      message: "The master role can be changed only via master-failover",
      code: "wrong_input",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2", powered: false, vm_capable: true })).rejects.toMatchObject({
      message: "Unable to change powered state for node node2 as it does not support out-of-band handling",
      code: "wrong_state",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "nosuch", drained: true })).rejects.toMatchObject({
      code: "unknown_entity",
    });
  });

  it("offline and back: de-offlining checks the node's version", async () => {
    c = await testCluster({ nodes: 2 });
    expect(await runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2", offline: true })).toEqual([
      ["master_candidate", "False"],
      ["offline", "True"],
    ]);
    const [res, log] = await runOpLog(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2", offline: false });
    expect(res).toEqual([
      ["master_candidate", "True"],
      ["offline", "False"],
    ]);
    expect(log).toContain(
      " - WARNING: Transitioning node from offline to online state without using re-add. Please make sure the node is healthy!",
    );
    expect(await runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2", vm_capable: false, ndparams: { spindle_count: 3 } })).toEqual([
      ["vm_capable", "False"],
    ]);
    expect(c.config.expandNode("node2")).toMatchObject({ vm_capable: false, ndparams: { spindle_count: 3 } });
  });
});

describe("OP_NODE_ADD / OP_NODE_REMOVE", () => {
  it("adds a node after a version check, promotes it, and removes it again", async () => {
    c = await testCluster();
    const backend = new NodeBackend({
      dataDir: path.join(c.root, "nodes", "node2.example.com"),
      nodeName: "node2.example.com",
      overrides: { memoryTotal: 4096, memoryDom0: 0, cpuTotal: 2 },
    });
    // The new node's uuid is made inside the LU: answer for any unknown uuid.
    const get = c.rpc.backends.get.bind(c.rpc.backends);
    c.rpc.backends.get = (k: string) => get(k) ?? backend;
    const [res, log] = await runOpLog(c, { OP_ID: "OP_NODE_ADD", node_name: "node2.example.com", primary_ip: "127.0.0.12" });
    expect(res).toBeNull();
    expect(log).toEqual([" - INFO: Node will be a master candidate"]);
    const n2 = c.config.expandNode("node2");
    expect(n2).toMatchObject({
      primary_ip: "127.0.0.12",
      secondary_ip: "127.0.0.12",
      rpc_address: "127.0.0.12",
      rpc_port: 1811,
      group: c.config.masterNode.group,
      master_candidate: true,
      vm_capable: true,
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_ADD", node_name: "node2.example.com", primary_ip: "127.0.0.12" })).rejects.toMatchObject({
      message: "Node node2.example.com is already in the configuration",
      code: "already_exists",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_ADD", node_name: "node1.example.com", readd: true })).rejects.toMatchObject({
      message: "Cannot readd the master node",
      code: "wrong_state",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_REMOVE", node_name: "node1" })).rejects.toMatchObject({
      message: "Node is the master node, failover to another node is required",
      code: "wrong_input",
    });
    expect(await runOp(c, { OP_ID: "OP_NODE_REMOVE", node_name: "node2" })).toBeNull();
    expect(c.config.findNode("node2")).toBeUndefined();
  });

  it("refuses a node whose daemon does not answer", async () => {
    c = await testCluster();
    await expect(runOp(c, { OP_ID: "OP_NODE_ADD", node_name: "node9.example.com", primary_ip: "10.0.0.9" })).rejects.toMatchObject({
      code: "environment_error",
    });
    expect(c.config.findNode("node9")).toBeUndefined();
  });
});

describe("other node LUs", () => {
  it("powercycle refuses the master without force", async () => {
    c = await testCluster();
    await expect(runOp(c, { OP_ID: "OP_NODE_POWERCYCLE", node_name: "node1" })).rejects.toMatchObject({
      message: "The node is the master and the force parameter was not set",
      code: "wrong_input",
    });
  });

  it("migrate and evacuate of an empty node submit no jobs; mode all is refused", async () => {
    c = await testCluster({ nodes: 2 });
    expect(await runOp(c, { OP_ID: "OP_NODE_MIGRATE", node_name: "node2" })).toEqual({ jobs: [] });
    expect(await runOp(c, { OP_ID: "OP_NODE_EVACUATE", node_name: "node2", mode: "primary-only" })).toEqual({ jobs: [] });
    await expect(runOp(c, { OP_ID: "OP_NODE_EVACUATE", node_name: "node2", mode: "all" })).rejects.toMatchObject({
      code: "wrong_input",
    });
    await expect(
      runOp(c, { OP_ID: "OP_NODE_EVACUATE", node_name: "node2", mode: "primary-only", remote_node: "node1" }),
    ).rejects.toMatchObject({ message: "Without the use of an iallocator only secondary instances can be evacuated" });
  });

  it("storage: query lists the file storage dir, modify/repair refuse unsupported types", async () => {
    c = await testCluster();
    const rows = (await runOp(c, {
      OP_ID: "OP_NODE_QUERY_STORAGE",
      output_fields: ["node", "type", "name", "size", "used", "free", "allocatable"],
      storage_type: "file",
      nodes: ["node1.example.com"],
    })) as unknown[][];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.slice(0, 3)).toEqual(["node1.example.com", "file", c.config.data.cluster.file_storage_dir]);
    await expect(runOp(c, { OP_ID: "OP_NODE_QUERY_STORAGE", output_fields: ["bogus"], storage_type: "file" })).rejects.toMatchObject({
      message: "Unknown output fields selected: bogus",
      code: "wrong_input",
    });
    await expect(runOp(c, { OP_ID: "OP_NODE_QUERY_STORAGE", output_fields: ["name"], storage_type: "lvm-vg" })).rejects.toMatchObject({
      message: "No disk template of storage type 'lvm-vg' is enabled in this cluster. Enabled disk templates are: file,sharedfile,diskless",
    });
    await expect(
      runOp(c, { OP_ID: "OP_NODE_MODIFY_STORAGE", node_name: "node1", storage_type: "file", name: "x", changes: {} }),
    ).rejects.toMatchObject({ message: "Storage units of type 'file' can not be modified", code: "wrong_input" });
    await expect(runOp(c, { OP_ID: "OP_REPAIR_NODE_STORAGE", node_name: "node1", storage_type: "file", name: "x" })).rejects.toMatchObject({
      message: "Storage units of type 'file' can not be repaired",
      code: "wrong_input",
    });
  });
});

// OP_CLUSTER_SET_PARAMS and OP_CLUSTER_REDIST_CONF.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runOp, runOpLog } from "../misc/run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("cluster LUs", () => {
  it("redist-conf succeeds with null", async () => {
    c = await testCluster();
    expect(await runOp(c, { OP_ID: "OP_CLUSTER_REDIST_CONF" })).toBeNull();
  });

  it("stores simple parameters and bumps the cluster serial", async () => {
    c = await testCluster();
    const serial = c.config.data.cluster.serial_no;
    const res = await runOp(c, {
      OP_ID: "OP_CLUSTER_SET_PARAMS",
      max_running_jobs: 5,
      max_tracked_jobs: 7,
      mac_prefix: "AA:BB:CC",
      beparams: { memory: 256 },
      ndparams: { spindle_count: 2 },
      nicparams: { link: "br1" },
      hvparams: { fake: { migration_mode: "non-live" } },
      uid_pool: [[1000, 2000]],
      add_uids: [[3000, 3100]],
      prealloc_wipe_disks: true,
      enabled_user_shutdown: true,
      modify_etc_hosts: true,
      maintain_node_health: true,
      ipolicy: { "vcpu-ratio": 8 },
      enabled_data_collectors: { lv: false },
    });
    expect(res).toBeNull();
    const cl = c.config.data.cluster;
    expect(cl.serial_no).toBe(serial + 1);
    expect(cl).toMatchObject({
      max_running_jobs: 5,
      max_tracked_jobs: 7,
      mac_prefix: "aa:bb:cc",
      uid_pool: [[1000, 2000]], // as Ganeti: add_uids first, then uid_pool replaces
      prealloc_wipe_disks: true,
      enabled_user_shutdown: true,
      modify_etc_hosts: true,
      maintain_node_health: true,
    });
    expect(cl.beparams["default"]).toMatchObject({ maxmem: 256, minmem: 256 });
    expect(cl.ndparams["spindle_count"]).toBe(2);
    expect(cl.nicparams["default"]).toMatchObject({ link: "br1", mode: "bridged" });
    expect(cl.hvparams["fake"]!["migration_mode"]).toBe("non-live");
    expect(cl.ipolicy["vcpu-ratio"]).toBe(8);
    expect(cl.enabled_data_collectors["lv"]).toBe(false);
  });

  it("edits hidden/blacklisted OS lists with Ganeti's feedback", async () => {
    c = await testCluster();
    await runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", hidden_os: [["add", "debootstrap"]] });
    const [, log] = await runOpLog(c, {
      OP_ID: "OP_CLUSTER_SET_PARAMS",
      hidden_os: [
        ["add", "debootstrap"],
        ["remove", "nosuch"],
      ],
      blacklisted_os: [["add", "bad"]],
    });
    expect(log).toEqual(["OS debootstrap already in hidden OS list, ignoring", "OS nosuch not found in hidden OS list, ignoring"]);
    expect(c.config.data.cluster.hidden_os).toEqual(["debootstrap"]);
    expect(c.config.data.cluster.blacklisted_os).toEqual(["bad"]);
  });

  it("refuses bad input with Ganeti's errors", async () => {
    c = await testCluster();
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", beparams: { maxmem: "lots" } })).rejects.toMatchObject({
      errorClass: "TypeEnforcementError",
      message: "'maxmem' (value lots) is not a valid size. error: Invalid format",
    });
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", uid_pool: [[5, 1]] })).rejects.toMatchObject({
      message: "Lower user-id range boundary value (5) is larger than the higher boundary value (1)",
      code: "wrong_input",
    });
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", remove_uids: [[1, 2]] })).rejects.toMatchObject({
      code: "wrong_input",
    });
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", enabled_disk_templates: ["plain"] })).rejects.toMatchObject({
      message: "Please specify a volume group when enabling lvm-based disk-templates.",
    });
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", ipolicy: { "disk-templates": ["drbd"] } })).rejects.toMatchObject({
      message: "The following disk templates are allowed by the ipolicy, but not enabled on the cluster: drbd",
    });
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", ipolicy: { std: null } })).rejects.toMatchObject({
      message: "Can't unset ipolicy attribute 'std' on the cluster'",
    });
    await expect(runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", default_iallocator: "nosuch" })).rejects.toMatchObject({
      message: "Invalid default iallocator script 'nosuch' specified",
    });
    // the live config is untouched by refused changes
    expect(c.config.data.cluster.uid_pool).toEqual([]);
  });

  it("candidate_pool_size promotes nodes up to the new size", async () => {
    c = await testCluster({ nodes: 3 });
    await runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node3", master_candidate: false });
    expect(c.config.expandNode("node3").master_candidate).toBe(false);
    await runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", candidate_pool_size: 2 });
    expect(c.config.expandNode("node3").master_candidate).toBe(false);
    const [, log] = await runOpLog(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", candidate_pool_size: 5 });
    expect(log).toEqual([" - INFO: Promoted nodes to master candidate role: node3.example.com"]);
    expect(c.config.expandNode("node3").master_candidate).toBe(true);
  });
});

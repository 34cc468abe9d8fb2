// Ganeti's bridge checks (CheckNicsBridgesExist through bridges_exist): every
// bridged NIC's link must be a bridge on the node that is to run the
// instance, whatever the hypervisor (here fake), before create, startup,
// reboot, migrate, failover and NIC changes.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { create, createOp, inst, runJob, runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});
const [N1, N2] = ["node1.example.com", "node2.example.com"];

describe("bridge checks", () => {
  it("refuses to create an instance whose bridges are missing, with Ganeti's message", async () => {
    c = await testCluster();
    const err = runOp(c, createOp("i1.example.com", { nics: [{ link: "br-missing" }, {}, { link: "br-other" }] }));
    await expect(err).rejects.toMatchObject({
      message: `Error checking bridges on destination node '${N1}': Missing bridges br-missing, br-other`,
      code: "environment_error",
      errorClass: "OpPrereqError",
    });
    expect(c.config.findInstance("i1.example.com")).toBeUndefined();
    // The default link (xen-br0) exists in the cluster's namespace; a routed NIC needs no bridge.
    await create(c, "i2.example.com", { nics: [{}, { mode: "routed", link: "rt100", ip: "192.0.2.5" }] });
    // A bridge made afterwards is found.
    await c.netns.addBridge("br-missing");
    await create(c, "i3.example.com", { nics: [{ link: "br-missing" }] });
  });

  it("checks the primary's bridges at startup and reboot", async () => {
    c = await testCluster({ bridges: ["xen-br0", "br7"] });
    await create(c, "i1.example.com", { nics: [{ link: "br7" }], start: false });
    await c.netns.delLink("br7");
    const want = { message: `Error checking bridges on destination node '${N1}': Missing bridges br7`, code: "environment_error" };
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com" })).rejects.toMatchObject(want);
    await c.netns.addBridge("br7");
    await runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "i1.example.com" });
    await c.netns.delLink("br7");
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_REBOOT", instance_name: "i1.example.com", reboot_type: "hard" })).rejects.toMatchObject(
      want,
    );
  });

  it("checks the target node's bridges before migrate and failover", async () => {
    c = await testCluster({ nodes: 2, netnsPerNode: true });
    await c.netnsOf(N1).addBridge("br-a");
    await create(c, "i1.example.com", { nics: [{ link: "br-a" }] });
    const want = { message: `Error checking bridges on destination node '${N2}': Missing bridges br-a`, code: "environment_error" };
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "i1.example.com", target_node: N2 })).rejects.toMatchObject(want);
    await expect(runOp(c, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "i1.example.com", target_node: N2 })).rejects.toMatchObject(want);
    expect(inst(c, "i1.example.com").primary_node).toBe(c.config.findNode(N1)!.uuid);
    await c.netnsOf(N2).addBridge("br-a");
    await runOp(c, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "i1.example.com", target_node: N2 });
    expect(inst(c, "i1.example.com").primary_node).toBe(c.config.findNode(N2)!.uuid);
  });

  it("checks the bridge of an added or modified NIC; --force makes it a warning", async () => {
    c = await testCluster();
    await create(c, "i1.example.com");
    const mod = (nics: unknown[], force = false) => ({ OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "i1.example.com", nics, force });
    const want = { message: `Error checking bridges on node '${N1}': Missing bridges br5`, code: "environment_error" };
    await expect(runOp(c, mod([["add", -1, { link: "br5" }]]))).rejects.toMatchObject(want);
    await expect(runOp(c, mod([["modify", 0, { link: "br5" }]]))).rejects.toMatchObject(want);
    expect(inst(c, "i1.example.com").nics).toHaveLength(1);
    const job = await runJob(c, [mod([["modify", 0, { link: "br5" }]], true)]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toContain(` - WARNING: ${want.message}`);
    expect(inst(c, "i1.example.com").nics[0]!.nicparams["link"]).toBe("br5");
  });
});

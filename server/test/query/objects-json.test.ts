// QueryEngine.objectsJson (the bulk lists' serializer, with per-item texts
// kept until the config changes) must give byte for byte what
// JSON.stringify(objects(...)) gives, also right after every kind of change.
import { afterEach, describe, expect, it } from "vitest";
import { QueryEngine } from "../../src/config/query/engine.js";
import { LiveDataCache } from "../../src/config/query/live.js";
import { G_FIELDS, I_FIELDS, NET_FIELDS, N_FIELDS, addMemoryBeparam, memoryBeparam } from "../../src/config/query/render.js";
import { testCluster, type TestCluster } from "../harness/cluster.js";
import { createOp, runOp } from "../cmdlib/instance/helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

const LISTS = [
  ["instance", I_FIELDS],
  ["node", N_FIELDS],
  ["group", G_FIELDS],
  ["network", NET_FIELDS],
] as const;

async function expectSame(engine: QueryEngine): Promise<void> {
  for (const [res, fields] of LISTS) {
    const map = res === "instance" ? memoryBeparam : undefined;
    const got = (await engine.objectsJson(res, fields, map)).toString("utf8");
    const objs = (await engine.objects(res, fields)) as Array<Record<string, unknown>>;
    expect(got, res).toBe(JSON.stringify(res === "instance" ? objs.map(addMemoryBeparam) : objs));
  }
}

describe("QueryEngine.objectsJson", () => {
  it("renders what objects() renders, before and after config and live changes", async () => {
    c = await testCluster({ nodes: 2, bridges: ["xen-br0", "br-net1", "br1"] });
    const engine = new QueryEngine({ config: c.config, live: new LiveDataCache(c.rpc, 0), jobs: null });
    await expectSame(engine);

    await runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "net1", network: "10.250.3.0/24", gateway: "10.250.3.1" });
    await runOp(c, {
      OP_ID: "OP_NETWORK_CONNECT",
      group_name: "default",
      network_name: "net1",
      network_mode: "bridged",
      network_link: "br-net1",
      network_vlan: "",
    });
    await runOp(c, createOp("inst1.example.com", { nics: [{ network: "net1", ip: "pool" }, {}] }));
    await runOp(c, createOp("inst2.example.com", { start: false, disk_template: "file", disks: [{ size: 64 }] }));
    await runOp(c, createOp("inst10.example.com", { pnode: "node2.example.com", start: false }));
    await expectSame(engine);
    // Same engine again: now from the kept texts.
    await expectSame(engine);
    // Nothing changed: the very same answer (live data was fetched and compared).
    const a = await engine.objectsJson("instance", I_FIELDS, memoryBeparam);
    expect(await engine.objectsJson("instance", I_FIELDS, memoryBeparam)).toBe(a);

    // Live state only (no config change for the hypervisor's side).
    await c.backendOf("node2.example.com").handle("instance_start", {
      instance: c.config.rpcInstance(c.config.findInstance("inst10.example.com")!),
      startup_paused: false,
    });
    await expectSame(engine);

    await runOp(c, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "inst2.example.com", beparams: { vcpus: 2 }, ignore_ipolicy: true });
    await expectSame(engine);
    await runOp(c, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "inst2.example.com" });
    await expectSame(engine);
    await runOp(c, { OP_ID: "OP_CLUSTER_SET_PARAMS", nicparams: { link: "br1" }, beparams: { memory: 256 } });
    await expectSame(engine);
    await runOp(c, { OP_ID: "OP_GROUP_RENAME", group_name: "default", new_name: "other" });
    await expectSame(engine);
    await runOp(c, { OP_ID: "OP_NETWORK_SET_PARAMS", network_name: "net1", gateway: "10.250.3.254" });
    await expectSame(engine);
    await runOp(c, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "inst1.example.com", ignore_failures: false, shutdown_timeout: 10 });
    await expectSame(engine);
  });

  it("sees a change made by a mutation that failed half-way", async () => {
    c = await testCluster();
    const engine = new QueryEngine({ config: c.config, live: new LiveDataCache(c.rpc, 0), jobs: null });
    await runOp(c, createOp("inst1.example.com", { start: false }));
    await expectSame(engine);
    await expect(
      c.config.mutate((d) => {
        for (const i of Object.values(d.instances)) i.tags.push("half");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expectSame(engine);
    expect((await engine.objectsJson("instance", ["name", "tags"])).toString()).toBe('[{"name":"inst1.example.com","tags":["half"]}]');
  });

  it("leaves out keys whose value is undefined, as JSON.stringify does, and names unknown fields null", async () => {
    c = await testCluster();
    const engine = new QueryEngine({ config: c.config, live: new LiveDataCache(c.rpc, 0), jobs: null });
    await runOp(c, createOp("inst1.example.com", { start: false }));
    const drop = (field: string, v: unknown) => (field === "os" ? undefined : v);
    const text = (await engine.objectsJson("instance", ["os", "name", "nosuch", "os"], drop)).toString();
    expect(text).toBe('[{"name":"inst1.example.com","nosuch":null}]');
  });
});

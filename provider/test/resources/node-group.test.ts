// NodeGroup provider methods against the stateful nock fake.
import { describe, expect, it } from "vitest";
import { providers } from "../../src/runtime.js";
import { useFakeRapi } from "../helpers/fake-rapi.js";

const { fake } = useFakeRapi();
const p = providers.NodeGroup;
type Props = Record<string, any>;
const base = { name: "g1", nodes: ["node2.example.com"], ndParams: { ssh_port: 2222 }, tags: ["z", "a"] };

async function check(args: Props): Promise<Props> {
  const r = await p.check!({}, args);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

describe("NodeGroup", () => {
  it("create assigns nodes and tags; unchanged program and refresh show no diff", async () => {
    const { id, outs } = await p.create(await check(base));
    expect(fake().calls()).toEqual(["POST /2/groups", "PUT /2/groups/g1/tags", "PUT /2/groups/g1/assign-nodes"]);
    expect(outs).toMatchObject({
      allocPolicy: "preferred",
      nodes: ["node2.example.com"],
      nodeList: ["node2.example.com"],
      tags: ["a", "z"],
      ndParams: { ssh_port: 2222 },
    });
    expect((await p.diff!(id, outs as Props, await check(base))).changes).toBe(false);
    const r = await p.read!(id, outs);
    expect((await p.diff!(id, r.props as Props, await check(base))).changes).toBe(false);
  });

  it("rename, alloc policy, ndParams and tags update in place", async () => {
    const { id, outs } = await p.create(await check(base));
    const want = { ...base, name: "g2", allocPolicy: "last_resort", ndParams: {}, tags: ["a"] };
    const d = await p.diff!(id, outs as Props, await check(want));
    expect(d).toMatchObject({ changes: true, replaces: [] });
    fake().submitted = [];
    const r = await p.update!(id, outs as Props, await check(want));
    expect(fake().calls()).toEqual(["PUT /2/groups/g1/rename", "PUT /2/groups/g2/modify", "DELETE /2/groups/g2/tags"]);
    expect(fake().submitted[1]!.body).toEqual({ alloc_policy: "last_resort", ndparams: { ssh_port: "default" } });
    expect(r.outs).toMatchObject({ name: "g2", allocPolicy: "last_resort", tags: ["a"] });
  });

  it("a node moved away by hand is drift, and update assigns it back", async () => {
    const { id, outs } = await p.create(await check(base));
    fake().nodeGroup.set("node2.example.com", "default");
    const r = await p.read!(id, outs);
    expect((r.props as Props).nodes).toEqual([]);
    const d = await p.diff!(id, r.props as Props, await check(base));
    expect(d.changes).toBe(true);
    await p.update!(id, r.props as Props, await check(base));
    expect(fake().nodeGroup.get("node2.example.com")).toBe("g1");
  });

  it("delete with nodes fails with Ganeti's error; adopt takes over 'default'", async () => {
    const { id, outs } = await p.create(await check(base));
    await expect(p.delete!(id, outs)).rejects.toThrow(/removing group g1 failed: Job \d+ failed .*Group still has nodes/);
    fake().nodeGroup.set("node2.example.com", "default");
    await p.delete!(id, outs);
    expect(fake().groups.has("g1")).toBe(false);
    const a = await p.create(await check({ name: "default", adopt: true, tags: ["managed"] }));
    expect(a.outs).toMatchObject({ name: "default", tags: ["managed"], nodeList: ["node1.example.com", "node2.example.com"] });
  });
});

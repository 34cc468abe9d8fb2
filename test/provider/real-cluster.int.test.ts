// The provider methods against a real one-node cluster (master + node
// daemons on 127.0.0.1, fake hypervisor), started by test/helpers/cluster.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providers } from "@ganeti-ts/pulumi/runtime";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

let cluster: LocalCluster;
const saved = { ...process.env };
const p = providers.Instance;
type Props = Record<string, any>;

beforeAll(async () => {
  cluster = await startLocalCluster({ diskTemplates: ["diskless", "file", "sharedfile"] });
  Object.assign(process.env, cluster.env());
});

afterAll(async () => {
  process.env = { ...saved };
  await cluster?.destroy();
});

async function check(args: Props): Promise<Props> {
  const r = await p.check!({}, args);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

describe("Instance on a real cluster", () => {
  it("create, no-op diff, refresh, in-place memory update, stop, delete", async () => {
    const base = { name: "vm1.example.com", diskTemplate: "diskless", os: "noop", hypervisor: "fake", memory: 128, vcpus: 1, nics: [{}], primaryNode: cluster.nodes[0], tags: ["a"] };
    const { id, outs } = await p.create(await check(base));
    expect(outs).toMatchObject({ name: base.name, status: "running", maxMemory: 128, primaryNode: cluster.nodes[0] });
    expect((await p.diff!(id, outs as Props, await check(base))).changes).toBe(false);
    const r = await p.read!(id, outs);
    expect((await p.diff!(id, r.props as Props, await check(base))).changes).toBe(false);
    const want = { ...base, memory: 256, state: "stopped", tags: ["a", "b"] };
    const u = await p.update!(id, r.props as Props, await check(want));
    expect(u.outs).toMatchObject({ maxMemory: 256, state: "stopped", tags: ["a", "b"] });
    expect((await p.diff!(id, u.outs as Props, await check(want))).changes).toBe(false);
    await p.delete!(id, u.outs as Props);
    expect((await p.read!(id, u.outs)).id).toBeUndefined();
  });
});

// The provider methods against a real two-node cluster (master + node
// daemons on 127.0.0.11/.12, fake hypervisor), started once for the file by
// test/helpers/cluster.ts. Outcomes are checked on the cluster through the
// SDK or the gnt CLI, not only through what the provider returns.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { dynamic } from "@pulumi/pulumi";
import { GanetiClient, JobFailedError, NotFoundError } from "@ganeti-ts/sdk";
import { providers } from "@ganeti-ts/pulumi/runtime";
import { instanceDiffTable } from "../../provider/src/resources/instance.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

let cluster: LocalCluster;
let client: GanetiClient;
const saved = { ...process.env };
const p = providers.Instance;
type Props = Record<string, any>;

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 2, diskTemplates: ["diskless", "file", "sharedfile"] });
  Object.assign(process.env, cluster.env());
  client = new GanetiClient({ baseUrl: cluster.url, username: cluster.user, password: cluster.password, caFile: cluster.caFile });
}, 240_000);

afterAll(async () => {
  process.env = { ...saved };
  client?.close();
  await cluster?.destroy();
});

async function checkWith(prov: dynamic.ResourceProvider, args: Props): Promise<Props> {
  const r = await prov.check!({}, args);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}
const check = (args: Props) => checkWith(p, args);

/** Fields of the Instance diff table that differ (everything not reported stable). */
async function changedFields(id: string, olds: Props, news: Props): Promise<string[]> {
  const d = await p.diff!(id, olds, news);
  const stable = new Set(d.stables ?? []);
  return Object.keys(instanceDiffTable)
    .filter((f) => !stable.has(f))
    .sort();
}

describe("Instance on a real cluster", () => {
  it("create, no-op diff, refresh, in-place memory update, stop, delete", async () => {
    const base = {
      name: "vm1.example.com",
      diskTemplate: "diskless",
      os: "noop",
      hypervisor: "fake",
      memory: 128,
      vcpus: 1,
      nics: [{}],
      primaryNode: cluster.nodes[0],
      tags: ["a"],
    };
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

  it("a disk shrink previews as a replacement; the replacement is created after the old one is deleted", async () => {
    // Sizes and one NIC within Ganeti's default instance policy (disks >= 1 GiB, >= 1 NIC).
    const base = {
      name: "repl.example.com",
      diskTemplate: "file",
      os: "noop",
      hypervisor: "fake",
      memory: 128,
      disks: [{ size: "2G" }],
      nics: [{}],
      primaryNode: cluster.nodes[0],
    };
    const { id, outs } = await p.create(await check(base));
    const before = await client.instances.get(id);
    expect(before["disk.sizes"]).toEqual([2048]);

    const shrunk = await check({ ...base, disks: [{ size: "1G" }] });
    const d = await p.diff!(id, outs as Props, shrunk);
    expect(d).toMatchObject({ changes: true, replaces: ["disks"], deleteBeforeReplace: true });

    // What the engine does for deleteBeforeReplace: delete, then create.
    await p.delete!(id, outs as Props);
    await expect(client.instances.get(id)).rejects.toBeInstanceOf(NotFoundError);
    const created = await p.create(shrunk);
    expect(created.id).toBe(id);
    const after = await client.instances.get(id);
    expect(after["disk.sizes"]).toEqual([1024]);
    expect(after.uuid).not.toBe(before.uuid);
    expect(after.status).toBe("running");
    expect((await p.diff!(id, created.outs as Props, shrunk)).changes).toBe(false);
    await p.delete!(id, created.outs as Props);
  });

  it("adopts an instance made with `gnt instance add`, with no diff afterwards", async () => {
    const name = "adopted.example.com";
    await cluster.gnt([
      "instance",
      "add",
      "-t",
      "diskless",
      "-o",
      "noop",
      "-H",
      "fake",
      "-B",
      "memory=128,vcpus=1",
      "-n",
      cluster.nodes[1]!,
      "--no-name-check",
      "--tags",
      "web,prod",
      name,
    ]);
    const program = {
      name,
      diskTemplate: "diskless",
      os: "noop",
      hypervisor: "fake",
      memory: 128,
      vcpus: 1,
      nics: [{}],
      primaryNode: cluster.nodes[1],
      tags: ["prod", "web"],
    };

    // Without adopt, an existing name is refused and nothing changes.
    await expect(p.create(await check(program))).rejects.toThrow(/already exists; set `adopt: true`/);

    // Adopt with one field differing: updated in place, not recreated.
    const uuid = (await client.instances.get(name)).uuid;
    const want = { ...program, vcpus: 2, adopt: true };
    const { id, outs } = await p.create(await check(want));
    expect(id).toBe(name);
    const info = await client.instances.get(name);
    expect(info.uuid).toBe(uuid);
    expect(info.beparams).toMatchObject({ vcpus: 2, maxmem: 128, minmem: 128 });
    expect(info.pnode).toBe(cluster.nodes[1]);
    expect(await changedFields(id, outs as Props, await check(want))).toEqual([]);
    const r = await p.read!(id, outs);
    expect(await changedFields(id, r.props as Props, await check(want))).toEqual([]);
    await p.delete!(id, r.props as Props);
    await expect(client.instances.get(name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refresh detects drift made with gnt (memory, stopped, tag removed) and nothing else; up converges", async () => {
    const base = {
      name: "drift.example.com",
      diskTemplate: "diskless",
      os: "noop",
      hypervisor: "fake",
      memory: 128,
      vcpus: 1,
      nics: [{}],
      primaryNode: cluster.nodes[0],
      tags: ["a", "b"],
    };
    const inputs = await check(base);
    const { id, outs } = await p.create(inputs);
    expect(await changedFields(id, outs as Props, inputs)).toEqual([]);

    await cluster.gnt(["instance", "modify", "-B", "maxmem=256,minmem=256", id]);
    await cluster.gnt(["instance", "shutdown", id]);
    await cluster.gnt(["instance", "remove-tags", id, "b"]);

    const r = await p.read!(id, outs);
    expect(r.id).toBe(id);
    expect(r.props).toMatchObject({ maxMemory: 256, minMemory: 256, state: "stopped", tags: ["a"] });
    expect(await changedFields(id, r.props as Props, inputs)).toEqual(["maxMemory", "minMemory", "state", "tags"]);
    const d = await p.diff!(id, r.props as Props, inputs);
    expect(d.replaces).toEqual([]);

    const u = await p.update!(id, r.props as Props, inputs);
    expect(await changedFields(id, u.outs as Props, inputs)).toEqual([]);
    const info = await client.instances.get(id);
    expect(info).toMatchObject({ admin_state: "up", status: "running" });
    expect(info.beparams).toMatchObject({ maxmem: 128, minmem: 128 });
    expect([...info.tags].sort()).toEqual(["a", "b"]);
    await p.delete!(id, u.outs as Props);
  });

  it("rename: refused while running without allowReboot; with it, stop → rename → start", async () => {
    const base = {
      name: "old.example.com",
      diskTemplate: "diskless",
      os: "noop",
      hypervisor: "fake",
      memory: 128,
      nics: [{}],
      primaryNode: cluster.nodes[0],
    };
    const { id, outs } = await p.create(await check(base));
    const uuid = outs.uuid as string;
    // Ganeti renames only an instance marked down: refused before any job.
    await expect(p.update!(id, outs as Props, await check({ ...base, name: "new.example.com" }))).rejects.toThrow(
      /renaming needs the instance stopped/,
    );
    expect((await client.instances.get(id)).status).toBe("running");
    const want = await check({ ...base, name: "new.example.com", updatePolicy: { allowReboot: true } });
    const u = await p.update!(id, outs as Props, want);
    expect(u.outs).toMatchObject({ name: "new.example.com", uuid, state: "running" });
    await expect(client.instances.get(id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await client.instances.get("new.example.com")).toMatchObject({ uuid, status: "running" });
    const r = await p.read!("new.example.com", u.outs);
    expect(r.id).toBe("new.example.com");
    expect(await changedFields("new.example.com", r.props as Props, want)).toEqual([]);
    await p.delete!("new.example.com", r.props as Props);
  });

  it("a failed job (memory larger than any node) reports the job id and Ganeti's message", async () => {
    const name = "huge.example.com";
    const inputs = await check({
      name,
      diskTemplate: "diskless",
      os: "noop",
      hypervisor: "fake",
      memory: "4T",
      nics: [],
      primaryNode: cluster.nodes[0],
    });
    const err = await p.create(inputs).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: unknown },
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(new RegExp(`^creating Instance ${name} failed: Job \\d+ failed .*memory`, "i"));
    const cause = err!.cause;
    expect(cause).toBeInstanceOf(JobFailedError);
    const jobId = (cause as JobFailedError).jobId;
    expect(err!.message).toContain(`Job ${jobId} failed`);
    expect(err!.message).toContain((cause as JobFailedError).errorMessage);
    // The same job, as the cluster records it.
    const job = await client.jobs.get(jobId);
    expect(job.status).toBe("error");
    await expect(client.instances.get(name)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("NodeGroup on a real cluster", () => {
  const g = providers.NodeGroup;

  it("create (alloc policy, ipolicy, tags, members) / diff / drift / update / delete", async () => {
    const node = cluster.nodes[1]!;
    const program = { name: "rack1", allocPolicy: "last_resort", ipolicy: { "vcpu-ratio": 2 }, tags: ["zone:a"], nodes: [node] };
    const inputs = await checkWith(g, program);
    const { id, outs } = await g.create(inputs);
    expect(id).toBe("rack1");
    let info = await client.groups.get("rack1");
    expect(info).toMatchObject({ alloc_policy: "last_resort", node_list: [node] });
    expect(info.custom_ipolicy).toMatchObject({ "vcpu-ratio": 2 });
    expect(info.tags).toEqual(["zone:a"]);
    expect((await client.groups.get("default")).node_list).not.toContain(node);
    expect((await g.diff!(id, outs as Props, inputs)).changes).toBe(false);
    const r = await g.read!(id, outs);
    expect((await g.diff!(id, r.props as Props, inputs)).changes).toBe(false);

    // A member moved away by hand is drift, and update puts it back.
    await cluster.gnt(["group", "assign-nodes", "default", node]);
    const drifted = await g.read!(id, r.props as Props);
    expect(drifted.props).toMatchObject({ nodes: [], nodeList: [] });
    const dd = await g.diff!(id, drifted.props as Props, inputs);
    expect(dd).toMatchObject({ changes: true, replaces: [] });

    const want = await checkWith(g, {
      ...program,
      allocPolicy: "preferred",
      ipolicy: { "vcpu-ratio": 4, "spindle-ratio": 8 },
      tags: ["zone:b", "tier:1"],
    });
    const u = await g.update!(id, drifted.props as Props, want);
    expect(u.outs).toMatchObject({ allocPolicy: "preferred", nodes: [node], tags: ["tier:1", "zone:b"] });
    info = await client.groups.get("rack1");
    expect(info).toMatchObject({ alloc_policy: "preferred", node_list: [node] });
    expect(info.custom_ipolicy).toMatchObject({ "vcpu-ratio": 4, "spindle-ratio": 8 });
    expect([...info.tags].sort()).toEqual(["tier:1", "zone:b"]);
    expect((await g.diff!(id, u.outs as Props, want)).changes).toBe(false);
    const r2 = await g.read!(id, u.outs);
    expect((await g.diff!(id, r2.props as Props, want)).changes).toBe(false);

    // Ganeti refuses to remove a group with nodes; once empty, delete works.
    await expect(g.delete!(id, u.outs as Props)).rejects.toThrow(/removing group rack1 failed: Job \d+ failed/);
    await cluster.gnt(["group", "assign-nodes", "default", node]);
    await g.delete!(id, u.outs as Props);
    await expect(client.groups.get("rack1")).rejects.toBeInstanceOf(NotFoundError);
    expect((await client.groups.get("default")).node_list).toContain(node);
  });
});

describe("Network on a real cluster", () => {
  const n = providers.Network;

  it("create (subnet, gateway, reserved IPs, connections) / update (gateway + reserve, connect, disconnect, tags, clear MAC prefix) / delete", async () => {
    await cluster.gnt(["group", "add", "netgrp"]);
    const program = {
      name: "lan1",
      subnet: "192.0.2.0/24",
      gateway: "192.0.2.1",
      reservedIps: ["192.0.2.20", "192.0.2.10"],
      connections: [{ group: "default", mode: "bridged", link: "br0" }],
      tags: ["net:a"],
    };
    const inputs = await checkWith(n, program);
    const { id, outs } = await n.create(inputs);
    expect(outs).toMatchObject({ reservedIps: ["192.0.2.10", "192.0.2.20"], connections: program.connections });
    let info = await client.networks.get("lan1");
    expect(info).toMatchObject({ network: "192.0.2.0/24", gateway: "192.0.2.1" });
    expect(info.external_reservations.split(",").map((s) => s.trim())).toEqual(expect.arrayContaining(["192.0.2.10", "192.0.2.20"]));
    expect(info.group_list).toEqual([["default", "bridged", "br0", ""]]);
    expect(info.tags).toEqual(["net:a"]);
    expect((await n.diff!(id, outs as Props, inputs)).changes).toBe(false);
    const r = await n.read!(id, outs);
    expect((await n.diff!(id, r.props as Props, inputs)).changes).toBe(false);

    const want = await checkWith(n, {
      ...program,
      gateway: "192.0.2.254",
      macPrefix: "aa:00:07",
      reservedIps: [...program.reservedIps, "192.0.2.30"],
      connections: [{ group: "netgrp", mode: "routed", link: "rt1" }],
      tags: ["net:b"],
    });
    const d = await n.diff!(id, r.props as Props, want);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    const u = await n.update!(id, r.props as Props, want);
    expect(u.outs).toMatchObject({
      reservedIps: ["192.0.2.10", "192.0.2.20", "192.0.2.30"],
      connections: [{ group: "netgrp", mode: "routed", link: "rt1" }],
      tags: ["net:b"],
    });
    info = await client.networks.get("lan1");
    expect(info.external_reservations.split(",").map((s) => s.trim())).toEqual(
      expect.arrayContaining(["192.0.2.10", "192.0.2.20", "192.0.2.30"]),
    );
    expect(info.group_list).toEqual([["netgrp", "routed", "rt1", ""]]);
    expect(info.tags).toEqual(["net:b"]);
    expect(info).toMatchObject({ gateway: "192.0.2.254", mac_prefix: "aa:00:07" });
    const r2 = await n.read!(id, u.outs);
    expect((await n.diff!(id, r2.props as Props, want)).changes).toBe(false);

    // Clearing a setting: Ganeti takes "none" (an empty value means "no change").
    const noMac = await checkWith(n, {
      ...program,
      gateway: "192.0.2.254",
      reservedIps: want.reservedIps,
      connections: want.connections,
      tags: want.tags,
    });
    const u2 = await n.update!(id, r2.props as Props, noMac);
    expect((await client.networks.get("lan1")).mac_prefix).toBeNull();
    expect((await n.diff!(id, (await n.read!(id, u2.outs)).props as Props, noMac)).changes).toBe(false);

    // A subnet change can only be a replacement.
    expect((await n.diff!(id, r2.props as Props, await checkWith(n, { ...program, subnet: "198.51.100.0/24" }))).replaces).toEqual([
      "subnet",
    ]);

    await n.delete!(id, u2.outs as Props);
    await expect(client.networks.get("lan1")).rejects.toBeInstanceOf(NotFoundError);
    await cluster.gnt(["group", "remove", "netgrp"]);
  });

  it('an instance NIC with ip "pool" takes a free address from the network', async () => {
    const net = await n.create(
      await checkWith(n, {
        name: "pool1",
        subnet: "198.51.100.0/28",
        gateway: "198.51.100.1",
        reservedIps: ["198.51.100.2"],
        connections: [{ group: "default", mode: "bridged", link: "br0" }],
      }),
    );
    const free0 = (await client.networks.get("pool1")).free_count;
    const program = {
      name: "pooled.example.com",
      diskTemplate: "diskless",
      os: "noop",
      hypervisor: "fake",
      memory: 128,
      nics: [{ network: "pool1", ip: "pool" }],
      primaryNode: cluster.nodes[0],
    };
    const inputs = await check(program);
    const { id, outs } = await p.create(inputs);
    const info = await client.instances.get(id);
    const ip = info["nic.ips"][0];
    expect(ip).toMatch(/^198\.51\.100\.(\d+)$/);
    const last = Number(ip!.split(".")[3]);
    // Not the network, gateway, reserved or broadcast address.
    expect(last).toBeGreaterThan(2);
    expect(last).toBeLessThan(15);
    expect(info["nic.networks.names"]).toEqual(["pool1"]);
    expect(outs).toMatchObject({ nics: [{ network: "pool1", ip: "pool" }], nicIps: [ip] });
    const netInfo = await client.networks.get("pool1");
    expect(netInfo.free_count).toBe(free0 - 1);
    expect(netInfo.inst_list).toContain(id);
    expect(await changedFields(id, outs as Props, inputs)).toEqual([]);
    const r = await p.read!(id, outs);
    expect(await changedFields(id, r.props as Props, inputs)).toEqual([]);

    await p.delete!(id, r.props as Props);
    expect((await client.networks.get("pool1")).free_count).toBe(free0);
    await n.delete!(net.id, net.outs as Props);
    await expect(client.networks.get("pool1")).rejects.toBeInstanceOf(NotFoundError);
  });
});

// Network provider methods against the stateful nock fake.
import { describe, expect, it } from "vitest";
import { providers } from "../../src/runtime.js";
import { useFakeRapi } from "../helpers/fake-rapi.js";

const { fake } = useFakeRapi();
const p = providers.Network;
type Props = Record<string, any>;
const base = {
  name: "lan",
  subnet: "192.0.2.0/24",
  gateway: "192.0.2.1",
  reservedIps: ["192.0.2.3", "192.0.2.2"],
  connections: [{ group: "default", mode: "bridged", link: "br0" }],
  tags: ["t"],
};

async function check(args: Props): Promise<Props> {
  const r = await p.check!({}, args);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

describe("Network", () => {
  it("create → connect; unchanged program and refresh show no diff", async () => {
    const { id, outs } = await p.create(await check(base));
    expect(fake().calls()).toEqual(["POST /2/networks", "PUT /2/networks/lan/connect"]);
    expect(fake().submitted[0]!.body).toMatchObject({
      network_name: "lan",
      network: "192.0.2.0/24",
      add_reserved_ips: ["192.0.2.2", "192.0.2.3"],
      tags: ["t"],
    });
    expect(outs).toMatchObject({
      reservedIps: ["192.0.2.2", "192.0.2.3"],
      connections: [{ group: "default", mode: "bridged", link: "br0" }],
      freeCount: expect.any(Number),
    });
    expect((await p.diff!(id, outs as Props, await check(base))).changes).toBe(false);
    const r = await p.read!(id, outs);
    expect((await p.diff!(id, r.props as Props, await check(base))).changes).toBe(false);
  });

  it("subnet or name change → replace; gateway, reservations, connections in place", async () => {
    const { id, outs } = await p.create(await check(base));
    expect((await p.diff!(id, outs as Props, await check({ ...base, subnet: "198.51.100.0/24" }))).replaces).toEqual(["subnet"]);
    expect((await p.diff!(id, outs as Props, await check({ ...base, name: "lan2" }))).replaces).toEqual(["name"]);
    const want = {
      ...base,
      gateway: "192.0.2.254",
      reservedIps: ["192.0.2.2", "192.0.2.9"],
      connections: [{ group: "default", mode: "routed", link: "rt0" }],
    };
    fake().submitted = [];
    const r = await p.update!(id, outs as Props, await check(want));
    // Ganeti refuses a gateway and reserved IPs in one modify: two jobs.
    expect(fake().calls()).toEqual([
      "PUT /2/networks/lan/modify",
      "PUT /2/networks/lan/modify",
      "PUT /2/networks/lan/disconnect",
      "PUT /2/networks/lan/connect",
    ]);
    expect(fake().submitted[0]!.body).toEqual({ gateway: "192.0.2.254" });
    expect(fake().submitted[1]!.body).toEqual({ add_reserved_ips: ["192.0.2.9"], remove_reserved_ips: ["192.0.2.3"] });
    expect((await p.diff!(id, r.outs as Props, await check(want))).changes).toBe(false);
  });

  it("refresh sees a reservation and a connection removed by hand; delete disconnects first", async () => {
    const { id, outs } = await p.create(await check(base));
    const n = fake().networks.get("lan")!;
    n.reserved = ["192.0.2.2"];
    n.group_list = [];
    const r = await p.read!(id, outs);
    expect(r.inputs).toMatchObject({ reservedIps: ["192.0.2.2"], connections: [] });
    n.group_list = [["default", "bridged", "br0", ""]];
    fake().submitted = [];
    await p.delete!(id, outs);
    expect(fake().calls()).toEqual(["PUT /2/networks/lan/disconnect", "DELETE /2/networks/lan"]);
  });

  it("check rejects a bad CIDR and duplicate group connections", async () => {
    const r = await p.check!({}, { ...base, subnet: "192.0.2.0/33" });
    expect(r.failures?.[0]?.property).toBe("subnet");
    const r2 = await p.check!({}, { ...base, connections: [base.connections[0], base.connections[0]] });
    expect(r2.failures?.[0]?.property).toBe("connections");
  });
});

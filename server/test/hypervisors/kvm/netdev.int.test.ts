// Taps of kvm NICs in a scratch network namespace: bridged (port of the
// link's bridge), routed (route + proxy ARP), release, refusals.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RpcInstance, RpcNic } from "@ganeti-ts/schema";
import { HostNetwork } from "../../../src/hypervisors/host-net.js";
import { TapNicBackend, tapName } from "../../../src/hypervisors/kvm/netdev.js";
import { createScratchNetns, type ScratchNetns } from "../../../src/lib/scratch-netns.js";

let ns: ScratchNetns;
beforeEach(async () => {
  ns = await createScratchNetns({ prefix: "nd", bridges: ["br-test"] });
});
afterEach(async () => {
  await ns.dispose();
});

const instance = { name: "i1.example.com", uuid: "11111111-2222-3333-4444-555555555555" } as RpcInstance;
const nic = (over: Partial<RpcNic>): RpcNic => ({
  uuid: "aaaaaaaa-0000-0000-0000-000000000001",
  name: null,
  mac: "aa:00:00:12:34:56",
  ip: null,
  mode: "bridged",
  link: "br-test",
  vlan: "",
  network: null,
  network_name: null,
  ...over,
});
const links = async () =>
  JSON.parse(await ns.ip(["-j", "-d", "link", "show"])) as Array<{ ifname: string; master?: string; operstate: string; flags: string[] }>;

describe("TapNicBackend", () => {
  it("puts a bridged NIC's tap on its bridge and removes it on release", async () => {
    const be = new TapNicBackend("/node1", async () => new HostNetwork(ns.name));
    const prep = await be.prepare(instance, nic({}), 0);
    const tap = tapName("/node1", instance.uuid, nic({}).uuid);
    expect(tap).toMatch(/^gnt[0-9a-f]{12}$/);
    expect(prep.netdev).toBe(`tap,ifname=${tap},script=no,downscript=no`);
    const dev = (await links()).find((l) => l.ifname === tap);
    expect(dev?.master).toBe("br-test");
    expect(dev?.flags).toContain("UP");
    // Another node daemon in the same namespace gets another tap for the same NIC (migration).
    expect(tapName("/node2", instance.uuid, nic({}).uuid)).not.toBe(tap);
    // Preparing again (a qemu that died) makes the tap afresh.
    await be.prepare(instance, nic({}), 0);
    await be.release(instance, nic({}), prep.backend);
    expect((await links()).some((l) => l.ifname === tap)).toBe(false);
    await be.release(instance, nic({}), prep.backend); // already gone: no error
  });

  it("routes a routed NIC's address to its tap with proxy ARP", async () => {
    const be = new TapNicBackend("/node1", async () => new HostNetwork(ns.name));
    const prep = await be.prepare(instance, nic({ mode: "routed", link: "", ip: "192.0.2.7" }), 0);
    const tap = prep.backend.tap;
    expect(await ns.ip(["route", "show", "192.0.2.7"])).toContain(`dev ${tap}`);
    const { execFile } = await import("node:child_process");
    const proxyArp = await new Promise<string>((res, rej) =>
      execFile("ip", ["netns", "exec", ns.name, "cat", `/proc/sys/net/ipv4/conf/${tap}/proxy_arp`], (e, out) => (e ? rej(e) : res(out))),
    );
    expect(proxyArp.trim()).toBe("1");
    await be.release(instance, nic({}), prep.backend);
    expect(await ns.ip(["route", "show", "192.0.2.7"])).toBe("");
  });

  it("refuses a missing bridge, a routed NIC without IP and openvswitch, leaving no tap", async () => {
    const be = new TapNicBackend("/node1", async () => new HostNetwork(ns.name));
    await expect(be.prepare(instance, nic({ link: "br-nope" }), 0)).rejects.toThrow("Missing bridges br-nope");
    await expect(be.prepare(instance, nic({ mode: "routed", link: "" }), 0)).rejects.toThrow(/has no IP address/);
    await expect(be.prepare(instance, nic({ mode: "openvswitch" }), 0)).rejects.toThrow(/not supported/);
    expect((await links()).map((l) => l.ifname).sort()).toEqual(["br-test", "lo"]);
  });

  it("wraps qemu's command line into the node's namespace", async () => {
    expect(await new TapNicBackend("/n", async () => new HostNetwork(ns.name)).wrapCommand(["qemu", "-x"])).toEqual([
      "ip",
      "netns",
      "exec",
      ns.name,
      "qemu",
      "-x",
    ]);
    expect(await new TapNicBackend("/n", async () => new HostNetwork(null)).wrapCommand(["qemu"])).toEqual(["qemu"]);
  });
});

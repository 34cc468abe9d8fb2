// Network LUs and the IPv4 address pool.
import { afterEach, describe, expect, it } from "vitest";
import { AddressPool } from "../../../src/cmdlib/network/address-pool.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runOp, runOpLog } from "../misc/run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

const net = (name: string) => c!.config.expandNetwork(name);

describe("AddressPool", () => {
  it("reserves network, broadcast and gateway and tracks free addresses", () => {
    const n = { network: "10.0.0.0/29", gateway: "10.0.0.1", reservations: "", ext_reservations: "" };
    const pool = AddressPool.initialize(n);
    expect(n.ext_reservations).toBe("11000001");
    expect(n.reservations).toBe("00000000");
    expect(pool.map()).toBe("XX.....X");
    expect(pool.getFreeAddress()).toBe("10.0.0.2");
    expect(n.reservations).toBe("00100000");
    expect(pool.freeCount()).toBe(4);
    expect(() => pool.reserve("10.0.0.2")).toThrow("IP 10.0.0.2 is already used by an instance");
    expect(() => pool.reserve("10.0.1.2")).toThrow("10.0.0.0/29 does not contain 10.0.1.2");
    expect(() => pool.release("10.0.0.3", true)).toThrow("IP 10.0.0.3 is not externally reserved");
  });

  it("refuses too small and too big networks", () => {
    expect(() => AddressPool.initialize({ network: "10.0.0.0/31", gateway: null, reservations: "", ext_reservations: "" })).toThrow(
      "A network with only 2 host(s) is too small, please specify at least a /30 network",
    );
    expect(() => AddressPool.initialize({ network: "10.0.0.0/8", gateway: null, reservations: "", ext_reservations: "" })).toThrow(
      "A big network with 16777216 host(s) is currently not supported. please specify at most a /16 network",
    );
  });
});

describe("network LUs", () => {
  it("adds a network with reservations and tags; duplicate names are refused", async () => {
    c = await testCluster();
    const res = await runOp(c, {
      OP_ID: "OP_NETWORK_ADD",
      network_name: "capnet",
      network: "10.250.3.0/24",
      gateway: "10.250.3.1",
      add_reserved_ips: ["10.250.3.2"],
      tags: ["net:cap"],
    });
    expect(res).toBeNull();
    const n = net("capnet");
    expect(n).toMatchObject({ gateway: "10.250.3.1", tags: ["net:cap"], mac_prefix: null, serial_no: 1 });
    expect(n.ext_reservations).toBe(`1110${"0".repeat(251)}1`);
    expect(n.reservations).toBe("0".repeat(256));
    await expect(runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "capnet", network: "10.9.0.0/24" })).rejects.toMatchObject({
      message: `Desired network name 'capnet' already exists as a network (UUID: ${n.uuid})`,
      code: "already_exists",
    });
    await expect(runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "bad", network: "10.9.0.0/24", tags: ["a b"] })).rejects.toMatchObject({
      errorClass: "TagError",
    });
    await expect(
      runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "bad", network: "10.9.0.0/24", mac_prefix: "zz:00:00" }),
    ).rejects.toMatchObject({ message: "Invalid MAC address prefix 'zz:00:00'", code: "wrong_input" });
    await expect(
      runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "bad", network: "10.9.0.0/24", add_reserved_ips: ["10.9.1.1"] }),
    ).rejects.toMatchObject({
      errorClass: "OpExecError",
      message: "Cannot reserve IP address '10.9.1.1': 10.9.0.0/24 does not contain 10.9.1.1",
    });
  });

  it("reserves node IPs inside the network with conflicts_check", async () => {
    c = await testCluster();
    const [, log] = await runOpLog(c, { OP_ID: "OP_NETWORK_ADD", network_name: "lo", network: "127.0.0.0/24" });
    expect(log).toContain(" - INFO: Reserved IP address of node 'node1.example.com' (127.0.0.11)");
    expect(net("lo").ext_reservations[11]).toBe("1");
  });

  it("set-params moves the gateway and edits external reservations", async () => {
    c = await testCluster();
    await runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "capnet", network: "10.250.3.0/24", gateway: "10.250.3.1" });
    const serial = net("capnet").serial_no;
    expect(await runOp(c, { OP_ID: "OP_NETWORK_SET_PARAMS", network_name: "capnet", gateway: "10.250.3.254" })).toBeNull();
    let n = net("capnet");
    expect(n.gateway).toBe("10.250.3.254");
    expect(n.ext_reservations[1]).toBe("0");
    expect(n.ext_reservations[254]).toBe("1");
    expect(n.serial_no).toBe(serial + 1);
    await runOp(c, { OP_ID: "OP_NETWORK_SET_PARAMS", network_name: "capnet", add_reserved_ips: ["10.250.3.5"], mac_prefix: "AA:BB:CC" });
    n = net("capnet");
    expect(n.ext_reservations[5]).toBe("1");
    expect(n.mac_prefix).toBe("aa:bb:cc");
    const [, log] = await runOpLog(c, {
      OP_ID: "OP_NETWORK_SET_PARAMS",
      network_name: "capnet",
      remove_reserved_ips: ["10.250.3.5", "10.250.3.254", "10.250.3.6"],
    });
    expect(log).toEqual([
      " - WARNING: Cannot unreserve Gateway's IP",
      " - WARNING: Cannot release IP address 10.250.3.6: IP 10.250.3.6 is not externally reserved",
    ]);
    expect(net("capnet").ext_reservations[5]).toBe("0");
    await expect(
      runOp(c, { OP_ID: "OP_NETWORK_SET_PARAMS", network_name: "capnet", gateway: "10.250.3.7", add_reserved_ips: ["10.250.3.8"] }),
    ).rejects.toMatchObject({ message: "Cannot modify gateway and reserved ips at once", code: "wrong_input" });
    await expect(runOp(c, { OP_ID: "OP_NETWORK_SET_PARAMS", network_name: "capnet", gateway: "10.250.3.0" })).rejects.toMatchObject({
      message: "Gateway IP address '10.250.3.0' is already reserved",
      code: "wrong_state",
    });
  });

  it("connects and disconnects groups; remove is refused while connected", async () => {
    c = await testCluster();
    await runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "capnet", network: "10.250.3.0/24" });
    const n = net("capnet");
    const g = c.config.expandGroup("default");
    const gSerial = g.serial_no;
    expect(
      await runOp(c, {
        OP_ID: "OP_NETWORK_CONNECT",
        group_name: "default",
        network_name: "capnet",
        network_mode: "bridged",
        network_link: "xen-br0",
        network_vlan: "",
      }),
    ).toBeNull();
    expect(c.config.group(g.uuid).networks[n.uuid]).toEqual({ mode: "bridged", link: "xen-br0", vlan: "" });
    expect(c.config.group(g.uuid).serial_no).toBe(gSerial + 1);
    const [, log] = await runOpLog(c, {
      OP_ID: "OP_NETWORK_CONNECT",
      group_name: "default",
      network_name: "capnet",
      network_mode: "routed",
      network_link: "rt",
    });
    expect(log).toEqual([" - WARNING: Network 'capnet' is already mapped to group 'default'"]);
    await expect(runOp(c, { OP_ID: "OP_NETWORK_REMOVE", network_name: "capnet" })).rejects.toMatchObject({
      message: "Network still connected",
      code: "wrong_state",
    });
    await runOp(c, { OP_ID: "OP_NETWORK_DISCONNECT", group_name: "default", network_name: "capnet" });
    expect(c.config.group(g.uuid).networks).toEqual({});
    expect(await runOp(c, { OP_ID: "OP_NETWORK_REMOVE", network_name: "capnet" })).toBeNull();
    expect(c.config.findNetwork("capnet")).toBeUndefined();
    await expect(runOp(c, { OP_ID: "OP_NETWORK_REMOVE", network_name: "capnet" })).rejects.toMatchObject({
      message: "Network 'capnet' not found",
      code: "unknown_entity",
    });
  });

  it("refuses to disconnect while NICs of the group's instances use the network", async () => {
    c = await testCluster();
    await runOp(c, { OP_ID: "OP_NETWORK_ADD", network_name: "capnet", network: "10.250.3.0/24" });
    await runOp(c, {
      OP_ID: "OP_NETWORK_CONNECT",
      group_name: "default",
      network_name: "capnet",
      network_mode: "bridged",
      network_link: "br0",
    });
    const n = net("capnet");
    await c.config.mutate((d) => {
      d.instances["i1"] = {
        uuid: "i1",
        name: "inst1.example.com",
        primary_node: c!.config.masterNode.uuid,
        secondary_nodes: [],
        os: "noop",
        hypervisor: "fake",
        hvparams: {},
        beparams: {},
        osparams: {},
        osparams_private: {},
        admin_state: "down",
        admin_state_source: "admin",
        disks: [],
        disk_template: "diskless",
        disks_active: false,
        network_port: null,
        nics: [{ uuid: "nic1", name: null, mac: "aa:00:00:00:00:01", ip: "10.250.3.9", network: n.uuid, nicparams: {} }],
        serial_no: 1,
        ctime: 0,
        mtime: 0,
        tags: [],
      };
    });
    await expect(runOp(c, { OP_ID: "OP_NETWORK_DISCONNECT", group_name: "default", network_name: "capnet" })).rejects.toMatchObject({
      message: "Conflicting IP addresses found;  remove/modify the corresponding network interfaces",
      code: "wrong_state",
    });
  });
});

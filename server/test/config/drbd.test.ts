// drbd disks in the configuration: ports, minors, secrets, children, and
// their release, with Ganeti's semantics (AllocatePort, AllocateDRBDMinor,
// GenerateDRBDSecret, _GenerateDRBD8Branch).
import type { ConfigData, InstanceObject, NodeObject } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import {
  allocateDrbdMinors,
  allocatePort,
  computeDrbdMinorMap,
  DRBD_META_SIZE,
  drbdDynamicParams,
  generateDrbdDisk,
  generateDrbdDisks,
  parseDrbdLogicalId,
  releaseDrbdDisk,
  releaseDrbdMinors,
  rpcDrbdDisk,
} from "../../src/config/drbd.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { addDrbdInstance as addDrbd } from "../harness/drbd-instance.js";
import { verifyConfig } from "../../src/config/verify.js";
import { MemoryStore } from "../../src/store/memory-store.js";

function initial(): ConfigData {
  const d = buildInitialConfig({
    clusterName: "cluster.example.com",
    master: { name: "node1.example.com", ip: "127.0.0.11", rpcPort: 1811 },
    enabledDiskTemplates: ["drbd", "plain"],
    fileStorageDir: "/srv/ganeti/file-storage",
    sharedFileStorageDir: "/srv/ganeti/shared-file-storage",
    osSearchPath: [],
  });
  d.cluster.volume_group_name = "xenvg";
  const master = Object.values(d.nodes)[0]!;
  master.secondary_ip = "192.0.2.11";
  for (const [name, ip] of [
    ["node2.example.com", "127.0.0.12"],
    ["node3.example.com", "127.0.0.13"],
  ] as const) {
    const n: NodeObject = {
      ...structuredClone(master),
      uuid: `uuid-${name}`,
      name,
      primary_ip: ip,
      secondary_ip: ip.replace("127.0.0", "192.0.2"),
    };
    n.master_candidate = true;
    d.nodes[n.uuid] = n;
  }
  return d;
}

async function config(): Promise<{ cfg: ClusterConfig; store: MemoryStore; n1: string; n2: string; n3: string }> {
  const store = new MemoryStore();
  const cfg = await ClusterConfig.create(store, initial());
  const [n1, n2, n3] = cfg.nodes().map((n) => n.uuid) as [string, string, string];
  return { cfg, store, n1, n2, n3 };
}

const spec = (size: number) => ({ size, mode: "rw" as const, name: null, spindles: null });

/** Generate an instance's drbd disks and add instance and disks to the config. */
const addDrbdInstance = (cfg: ClusterConfig, name: string, pnode: string, snode: string, sizes: number[]) =>
  addDrbd(cfg, { name, pnode, snode, sizes });

describe("drbd ports (Ganeti's AllocatePort)", () => {
  it("hands out FIRST_DRBD_PORT first, then highest_used_port + 1, and the pool before either", async () => {
    const { cfg } = await config();
    expect(cfg.cluster.highest_used_port).toBe(10999);
    expect(allocatePort(cfg.data)).toBe(11000);
    expect(allocatePort(cfg.data)).toBe(11001);
    expect(cfg.cluster.highest_used_port).toBe(11001);
    cfg.cluster.tcpudp_port_pool = [11000];
    expect(allocatePort(cfg.data)).toBe(11000);
    expect(cfg.cluster.tcpudp_port_pool).toEqual([]);
    expect(allocatePort(cfg.data)).toBe(11002);
  });

  it("refuses past LAST_DRBD_PORT with Ganeti's message", async () => {
    const { cfg } = await config();
    cfg.cluster.highest_used_port = 14999;
    expect(() => allocatePort(cfg.data)).toThrow("The highest used port is greater than 14999. Aborting.");
  });

  it("starts above the ports in use for a config written before the port fields existed", async () => {
    const { cfg, n1, n2 } = await config();
    await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    delete cfg.cluster.highest_used_port;
    delete cfg.cluster.tcpudp_port_pool;
    expect(allocatePort(cfg.data)).toBe(11001);
  });

  it("instance console ports come from the same allocator", async () => {
    const { cfg, n1, n2 } = await config();
    await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    expect(cfg.allocatePort()).toBe(11001);
  });
});

describe("drbd minors (Ganeti's ComputeDRBDMap / AllocateDRBDMinor)", () => {
  it("gives each node its lowest free minor, reserved until the disk reaches the config", async () => {
    const { cfg, n1, n2, n3 } = await config();
    expect(allocateDrbdMinors(cfg, [n1, n2], "d1")).toEqual([0, 0]);
    // d1 is not in the config yet: its minors stay reserved.
    expect(allocateDrbdMinors(cfg, [n2, n3], "d2")).toEqual([1, 0]);
    expect(computeDrbdMinorMap(cfg)).toEqual({ [n1]: { 0: "d1" }, [n2]: { 0: "d1", 1: "d2" }, [n3]: { 0: "d2" } });
    releaseDrbdMinors(cfg, "d1");
    expect(allocateDrbdMinors(cfg, [n1, n2], "d3")).toEqual([0, 0]);
  });

  it("refuses a node twice in one request", async () => {
    const { cfg, n1 } = await config();
    expect(() => allocateDrbdMinors(cfg, [n1, n1], "d1")).toThrow(/Duplicate nodes detected/);
  });

  it("counts minors of disks in the config, and reuses those of a removed disk", async () => {
    const { cfg, n1, n2, n3 } = await config();
    const a = await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024, 2048]);
    const b = await addDrbdInstance(cfg, "b.example.com", n2, n3, [512]);
    expect(a.disks.map((d) => d.logical_id.slice(3, 5))).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(b.disks[0]!.logical_id.slice(3, 5)).toEqual([2, 0]);
    const map = computeDrbdMinorMap(cfg);
    expect(map[n2]).toEqual({ 0: a.disks[0]!.uuid, 1: a.disks[1]!.uuid, 2: b.disks[0]!.uuid });
    await cfg.mutate((data) => {
      for (const d of a.disks) {
        releaseDrbdDisk(cfg, d);
        delete data.disks[d.uuid];
      }
      delete data.instances[a.inst.uuid];
    });
    expect(allocateDrbdMinors(cfg, [n2, n1], "new")).toEqual([0, 0]);
  });

  it("reports a minor used twice on a node", async () => {
    const { cfg, n1, n2, n3 } = await config();
    const a = await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    const b = await addDrbdInstance(cfg, "b.example.com", n3, n2, [1024]);
    b.disks[0]!.logical_id[4] = 0; // n2's minor of a's disk
    expect(() => computeDrbdMinorMap(cfg)).toThrow(`Duplicate DRBD minors detected: ${n2}/0: ${a.disks[0]!.uuid}, ${b.disks[0]!.uuid}`);
  });
});

describe("generateDrbdDisk (Ganeti's _GenerateDRBD8Branch)", () => {
  it("builds the disk with Ganeti's logical_id and plain data/meta children", async () => {
    const { cfg, n1, n2 } = await config();
    const d = generateDrbdDisk(cfg, { size: 1024, mode: "rw", name: "root", spindles: null }, 3, {
      instanceUuid: "inst",
      pnodeUuid: n1,
      snodeUuid: n2,
    });
    const id = parseDrbdLogicalId(d);
    expect(id).toMatchObject({ pnode: n1, snode: n2, port: 11000, pminor: 0, sminor: 0 });
    expect(id.secret).toMatch(/^[0-9a-f]{40}$/);
    expect(d).toMatchObject({
      dev_type: "drbd",
      size: 1024,
      mode: "rw",
      name: "root",
      iv_name: "disk/3",
      nodes: [n1, n2],
      instance: "inst",
    });
    expect(d.children).toHaveLength(2);
    const [data, meta] = d.children!;
    expect(data).toMatchObject({ dev_type: "plain", size: 1024 });
    expect(meta).toMatchObject({ dev_type: "plain", size: DRBD_META_SIZE });
    expect(data!.logical_id[0]).toBe("xenvg");
    expect(data!.logical_id[1]).toMatch(/^[0-9a-f-]{36}\.disk3_data$/);
    expect(meta!.logical_id[1]).toBe(String(data!.logical_id[1]).replace(/_data$/, "_meta"));
    expect(new Set([d.uuid, data!.uuid, meta!.uuid]).size).toBe(3);
  });

  it("puts data and meta in the volume groups the disk asks for, else the cluster's and drbd's metavg", async () => {
    const { cfg, n1, n2 } = await config();
    const opts = { instanceUuid: "i", pnodeUuid: n1, snodeUuid: n2 };
    const d = generateDrbdDisk(cfg, { ...spec(64), vg: "fast", metavg: "meta" }, 0, opts);
    expect(d.children!.map((c) => c.logical_id[0])).toEqual(["fast", "meta"]);
    const e = generateDrbdDisk(cfg, spec(64), 1, { ...opts, drbdParams: { metavg: "metavg2" } });
    expect(e.children!.map((c) => c.logical_id[0])).toEqual(["xenvg", "metavg2"]);
  });

  it("gives every disk its own port, minors and secret", async () => {
    const { cfg, n1, n2 } = await config();
    const disks = generateDrbdDisks(cfg, [spec(1), spec(2), spec(3)], { instanceUuid: "i", pnodeUuid: n1, snodeUuid: n2, baseIndex: 1 });
    const ids = disks.map(parseDrbdLogicalId);
    expect(ids.map((i) => i.port)).toEqual([11000, 11001, 11002]);
    expect(ids.map((i) => [i.pminor, i.sminor])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    expect(new Set(ids.map((i) => i.secret)).size).toBe(3);
    expect(disks.map((d) => d.iv_name)).toEqual(["disk/1", "disk/2", "disk/3"]);
  });

  it("refuses the same node twice and a cluster without a volume group", async () => {
    const { cfg, n1, n2 } = await config();
    expect(() => generateDrbdDisk(cfg, spec(1), 0, { instanceUuid: "i", pnodeUuid: n1, snodeUuid: n1 })).toThrow(
      "The secondary node cannot be the primary node",
    );
    cfg.cluster.volume_group_name = null;
    expect(() => generateDrbdDisk(cfg, spec(1), 0, { instanceUuid: "i", pnodeUuid: n1, snodeUuid: n2 })).toThrow(/no volume group/);
  });

  it("abandoned disks give back their port and minors", async () => {
    const { cfg, n1, n2 } = await config();
    const [d] = generateDrbdDisks(cfg, [spec(1)], { instanceUuid: "i", pnodeUuid: n1, snodeUuid: n2 });
    releaseDrbdDisk(cfg, d!);
    expect(cfg.cluster.tcpudp_port_pool).toEqual([11000]);
    const [e] = generateDrbdDisks(cfg, [spec(1)], { instanceUuid: "i", pnodeUuid: n1, snodeUuid: n2 });
    expect(parseDrbdLogicalId(e!)).toMatchObject({ port: 11000, pminor: 0, sminor: 0 });
  });
});

describe("drbd disks in the stored config", () => {
  it("keeps children, logical_id and the port pool through a reload", async () => {
    const { cfg, store, n1, n2 } = await config();
    const { inst, disks } = await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    await cfg.mutate((data) => {
      releasePortsOf(cfg, inst);
      for (const d of inst.disks) delete data.disks[d];
      delete data.instances[inst.uuid];
    });
    const again = await addDrbdInstance(cfg, "b.example.com", n1, n2, [256]);
    const loaded = (await ClusterConfig.load(store))!;
    const disk = loaded.disk(again.disks[0]!.uuid);
    expect(disk.children).toEqual(again.disks[0]!.children);
    expect(disk.logical_id).toEqual(again.disks[0]!.logical_id);
    expect(disk.logical_id[2]).toBe(parseDrbdLogicalId(disks[0]!).port);
    expect(loaded.cluster.highest_used_port).toBe(11000);
    expect(verifyConfig(structuredClone(loaded.data))).toEqual([]);
  });

  it("tells each node its own side (dynamic params) with the children", async () => {
    const { cfg, n1, n2, n3 } = await config();
    const { disks } = await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    const d = disks[0]!;
    expect(drbdDynamicParams(cfg, d, n1)).toEqual({
      local_ip: "192.0.2.11",
      remote_ip: "192.0.2.12",
      local_minor: 0,
      remote_minor: 0,
      primary: true,
    });
    const onSecondary = rpcDrbdDisk(cfg, d, n2);
    expect(onSecondary.dynamic_params).toMatchObject({ local_ip: "192.0.2.12", remote_ip: "192.0.2.11", primary: false });
    expect(onSecondary.children?.map((c) => c.logical_id)).toEqual(d.children!.map((c) => c.logical_id));
    expect(cfg.rpcDisk(d).children?.map((c) => c.size)).toEqual([1024, DRBD_META_SIZE]);
    expect(() => drbdDynamicParams(cfg, d, n3)).toThrow(/is not on node/);
  });
});

describe("verifyConfig on drbd disks", () => {
  it("names duplicate ports and minors, unknown nodes, and a stale highest_used_port", async () => {
    const { cfg, n1, n2, n3 } = await config();
    const a = await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    const b = await addDrbdInstance(cfg, "b.example.com", n3, n2, [1024]);
    const data = structuredClone(cfg.data);
    const bd = data.disks[b.disks[0]!.uuid]!;
    bd.logical_id[2] = 11000; // a's port
    bd.logical_id[4] = 0; // a's minor on n2
    data.cluster.highest_used_port = 10999;
    const ad = data.disks[a.disks[0]!.uuid]!;
    ad.logical_id[0] = "gone";
    ad.nodes = ["gone", n2];
    expect(verifyConfig(data)).toEqual([
      "tcp/udp port 11000 has duplicates: a.example.com/drbd disk 0, b.example.com/drbd disk 0",
      "Highest used port mismatch, saved 10999, computed 11000",
      `drbd disk ${ad.uuid} refers to unknown node 'gone'`,
      `drbd disk ${ad.uuid} of instance 'a.example.com' is on nodes gone/${n2}, not the instance's`,
      `drbd minor used twice: ${n2}/0: ${[ad.uuid, bd.uuid].sort().join(", ")}`,
      `disk ${ad.uuid}: node gone does not exist`,
    ]);
  });

  it("counts a pool port that is also in use as a duplicate", async () => {
    const { cfg, n1, n2 } = await config();
    await addDrbdInstance(cfg, "a.example.com", n1, n2, [1024]);
    const data = structuredClone(cfg.data);
    data.cluster.tcpudp_port_pool = [11000];
    expect(verifyConfig(data)).toEqual(["tcp/udp port 11000 has duplicates: a.example.com/drbd disk 0, cluster/port marked as free"]);
  });
});

/** What instance removal does to a drbd instance's ports (cmdlib calls it inside its mutation). */
function releasePortsOf(cfg: ClusterConfig, inst: InstanceObject): void {
  for (const u of inst.disks) releaseDrbdDisk(cfg, cfg.disk(u));
}

// What queries show of a drbd instance: instance info (OP_INSTANCE_QUERY_DATA)
// with drbd_info, the secret hidden, pstatus/sstatus from blockdev_find on
// each node (a degraded mirror visible), the children; the instance and node
// query fields (snodes, disk.*, sinst_*).
import { mkdir, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BlockDevStatus, DiskObject, InstanceObject, RpcDisk } from "@ganeti-ts/schema";
import { afterEach, describe, expect, it } from "vitest";
import { QueryEngine } from "../../../src/config/query/engine.js";
import { LiveDataCache } from "../../../src/config/query/live.js";
import type { NodeBackend } from "../../../src/noded/backend/node-backend.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { addDrbdInstance as addDrbd } from "../../harness/drbd-instance.js";
import { runOp } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

/** Put a drbd instance straight into the config (creating one is another LU's business). */
async function addDrbdInstance(cl: TestCluster, name: string, pnode: string, snode: string, sizes: number[]): Promise<InstanceObject> {
  return (await addDrbd(cl.config, { name, pnode, snode, sizes, disksActive: true })).inst;
}

/** Replace a node's blockdev_find (the replication engine is another branch's work). */
function stubFind(backend: NodeBackend, find: (disk: RpcDisk) => BlockDevStatus | null, seen: RpcDisk[]): void {
  const handlers = (backend as unknown as { handlers: Record<string, (a: unknown) => Promise<unknown>> }).handlers;
  handlers["blockdev_find"] = async (a) => {
    const disk = (a as { disk: RpcDisk }).disk;
    seen.push(disk);
    return find(disk);
  };
}

const status = (dev: string, over: Partial<BlockDevStatus> = {}): BlockDevStatus => ({
  dev_path: dev,
  major: null,
  minor: null,
  sync_percent: null,
  estimated_time: null,
  is_degraded: false,
  ldisk_status: 1,
  ...over,
});

async function drbdCluster(): Promise<{ cl: TestCluster; n1: string; n2: string }> {
  const cl = await testCluster({ nodes: 2, diskTemplates: ["drbd", "plain", "file", "diskless"] });
  await cl.config.mutate((d) => void (d.cluster.volume_group_name = "xenvg"));
  const [n1, n2] = cl.nodes.map((n) => n.uuid) as [string, string];
  return { cl, n1, n2 };
}

describe("instance info of a drbd instance", () => {
  it("shows drbd_info, hides the secret, and reports each node's view of the disk and its children", async () => {
    const { cl, n1, n2 } = await drbdCluster();
    c = cl;
    const inst = await addDrbdInstance(cl, "d1.example.com", n1, n2, [1024]);
    const disk = cl.config.disk(inst.disks[0]!);
    const seen1: RpcDisk[] = [];
    const seen2: RpcDisk[] = [];
    // The primary lost its peer (degraded); the secondary has nothing assembled.
    stubFind(
      cl.backends.get(n1)!,
      (d) => status(`/run/${d.uuid}`, d.dev_type === "drbd" ? { is_degraded: true, sync_percent: 42.5, estimated_time: 30 } : {}),
      seen1,
    );
    stubFind(cl.backends.get(n2)!, (d) => (d.dev_type === "drbd" ? null : status(`/vol/${String(d.logical_id[1])}`)), seen2);

    const res = (await runOp(cl, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["d1.example.com"], use_locking: true })) as Record<
      string,
      Record<string, unknown>
    >;
    const info = res["d1.example.com"]!;
    expect(info["snodes"]).toEqual(["node2.example.com"]);
    expect(info["disk_template"]).toBe("drbd");
    const [d0] = info["disks"] as Array<Record<string, unknown>>;
    const lid = disk.logical_id;
    expect(d0).toMatchObject({
      iv_name: "disk/0",
      dev_type: "drbd",
      logical_id: [n1, n2, lid[2], 0, 0, null],
      drbd_info: {
        primary_node: "node1.example.com",
        primary_minor: 0,
        secondary_node: "node2.example.com",
        secondary_minor: 0,
        port: lid[2],
      },
      pstatus: [`/run/${disk.uuid}`, null, null, 42.5, 30, true, 1],
      sstatus: null,
      mode: "rw",
      size: 1024,
      uuid: disk.uuid,
    });
    const children = d0!["children"] as Array<Record<string, unknown>>;
    expect(children.map((ch) => [ch["dev_type"], ch["size"], ch["logical_id"]])).toEqual(
      disk.children!.map((ch) => ["plain", ch.size, ch.logical_id]),
    );
    expect(children[0]!["pstatus"]).toEqual([`/run/${disk.children![0]!.uuid}`, null, null, null, null, false, 1]);
    expect(children[1]!["sstatus"]).toEqual([`/vol/${String(disk.children![1]!.logical_id[1])}`, null, null, null, null, false, 1]);
    // Each node was asked about its own side of the mirror.
    expect(seen1.find((d) => d.dev_type === "drbd")?.dynamic_params).toMatchObject({ primary: true, local_minor: 0 });
    expect(seen2.find((d) => d.dev_type === "drbd")?.dynamic_params).toMatchObject({ primary: false });
    expect(JSON.stringify(info)).not.toContain(String(lid[5]));
  });

  it("static asks no node; an offline secondary gives no sstatus; a failing node fails the opcode as in Ganeti", async () => {
    const { cl, n1, n2 } = await drbdCluster();
    c = cl;
    await addDrbdInstance(cl, "d1.example.com", n1, n2, [256]);
    const seen: RpcDisk[] = [];
    stubFind(cl.backends.get(n1)!, (d) => status(`/run/${d.uuid}`), seen);
    stubFind(cl.backends.get(n2)!, (d) => status(`/run/${d.uuid}`), seen);
    const stat = (await runOp(cl, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["d1.example.com"], static: true })) as Record<
      string,
      Record<string, unknown>
    >;
    const [d0] = stat["d1.example.com"]!["disks"] as Array<Record<string, unknown>>;
    expect([d0!["pstatus"], d0!["sstatus"]]).toEqual([null, null]);
    expect((d0!["children"] as Array<Record<string, unknown>>).map((ch) => [ch["pstatus"], ch["sstatus"]])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(seen).toEqual([]);

    await cl.config.mutate((d) => void (d.nodes[n2]!.offline = true));
    const off = (await runOp(cl, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["d1.example.com"] })) as Record<
      string,
      Record<string, unknown>
    >;
    const [o0] = off["d1.example.com"]!["disks"] as Array<Record<string, unknown>>;
    expect(o0!["pstatus"]).not.toBeNull();
    expect(o0!["sstatus"]).toBeNull();

    await cl.config.mutate((d) => void (d.nodes[n2]!.offline = false));
    const handlers = (cl.backends.get(n2)! as unknown as { handlers: Record<string, () => Promise<unknown>> }).handlers;
    handlers["blockdev_find"] = () => Promise.reject(new Error("replication daemon not running"));
    await expect(runOp(cl, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["d1.example.com"] })).rejects.toThrow(
      /Can't compute disk status for d1.example.com: .*replication daemon not running/,
    );
  });
});

describe("instance info of a plain instance", () => {
  it("reports the volume as the primary's blockdev_find finds it (the image file of the volume)", async () => {
    const { cl, n1 } = await drbdCluster();
    c = cl;
    const cfg = cl.config;
    const instUuid = cfg.newUuid();
    const disk: DiskObject = {
      uuid: cfg.newUuid(),
      serial_no: 1,
      ctime: 0,
      mtime: 0,
      name: null,
      dev_type: "plain",
      size: 64,
      mode: "rw",
      spindles: null,
      logical_id: ["xenvg", "p1.disk0"],
      nodes: [n1],
      iv_name: "disk/0",
      params: {},
      instance: instUuid,
    };
    const volDir = path.join(cl.root, "nodes", "node1.example.com", "volumes", "xenvg");
    await mkdir(volDir, { recursive: true });
    await writeFile(path.join(volDir, "p1.disk0"), Buffer.alloc(0));
    await truncate(path.join(volDir, "p1.disk0"), 64 * 1024 * 1024);
    await cfg.mutate((data) => {
      data.disks[disk.uuid] = disk;
      data.instances[instUuid] = {
        uuid: instUuid,
        serial_no: 1,
        ctime: 0,
        mtime: 0,
        tags: [],
        name: "p1.example.com",
        primary_node: n1,
        secondary_nodes: [],
        os: "noop",
        hypervisor: "fake",
        hvparams: {},
        beparams: {},
        osparams: {},
        osparams_private: {},
        admin_state: "down",
        admin_state_source: "admin",
        nics: [],
        disks: [disk.uuid],
        disk_template: "plain",
        disks_active: false,
        network_port: null,
      };
    });
    const res = (await runOp(cl, { OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["p1.example.com"] })) as Record<
      string,
      Record<string, unknown>
    >;
    const [d0] = res["p1.example.com"]!["disks"] as Array<Record<string, unknown>>;
    expect(d0).toMatchObject({
      dev_type: "plain",
      logical_id: ["xenvg", "p1.disk0"],
      pstatus: [path.join(volDir, "p1.disk0"), null, null, null, null, false, 1],
      sstatus: null,
    });
  });
});

describe("query fields of drbd instances and their nodes", () => {
  it("snodes, disk.*, disk_usage with the metadata volume, and the secondary's sinst_*", async () => {
    const { cl, n1, n2 } = await drbdCluster();
    c = cl;
    const inst = await addDrbdInstance(cl, "d1.example.com", n1, n2, [1024, 512]);
    const engine = new QueryEngine({ config: cl.config, live: new LiveDataCache(cl.rpc, 0), jobs: null });
    const fields = ["snodes", "snodes.group", "disk_template", "disk.count", "disk.sizes", "disk.size/1", "disk_usage", "disk.uuids"];
    const q = await engine.query("instance", fields, ["=", "name", "d1.example.com"]);
    expect(q.data[0]!.map((v) => v[1])).toEqual([
      ["node2.example.com"],
      ["default"],
      "drbd",
      2,
      [1024, 512],
      512,
      1024 + 512 + 2 * 128,
      inst.disks,
    ]);
    const nodes = await engine.query("node", ["name", "pinst_cnt", "pinst_list", "sinst_cnt", "sinst_list"], null);
    expect(nodes.data.map((r) => r.map((v) => v[1]))).toEqual([
      ["node1.example.com", 1, ["d1.example.com"], 0, []],
      ["node2.example.com", 0, [], 1, ["d1.example.com"]],
    ]);
  });
});

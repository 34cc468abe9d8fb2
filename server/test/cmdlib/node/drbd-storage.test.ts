// Storage reporting of a cluster with drbd disks (volume groups kept as
// directories on each node): list-storage for lvm-vg / lvm-pv, repair,
// the node fields dtotal/dfree/sptotal/spfree, and the replicas' volumes.
import { mkdir, open, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DiskObject, InstanceObject } from "@ganeti-ts/schema";
import { afterEach, describe, expect, it } from "vitest";
import { QueryEngine } from "../../../src/config/query/engine.js";
import { LiveDataCache } from "../../../src/config/query/live.js";
import type { LuContext } from "../../../src/cmdlib/base.js";
import { runAllocator } from "../../../src/cmdlib/iallocator.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { addDrbdInstance, placeDrbdVolumes } from "../../harness/drbd-instance.js";
import { runOp, runOpLog } from "../misc/run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

const MiB = 1024 * 1024;
const VG_SIZE = 10240;

/** Two nodes with drbd enabled, volume group xenvg of VG_SIZE MiB on each (node setting storage_size). */
async function drbdCluster(): Promise<TestCluster> {
  const cl = await testCluster({ nodes: 2, diskTemplates: ["drbd", "plain", "file", "diskless"] });
  await cl.config.mutate((d) => void (d.cluster.volume_group_name = "xenvg"));
  for (const n of cl.nodes) {
    const dir = path.join(cl.root, "nodes", n.name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "noded.json"), JSON.stringify({ storage_size: { "lvm-vg": VG_SIZE } }));
    // Settings are read once per daemon: read them again.
    (cl.backends.get(n.uuid) as unknown as { settingsP: unknown }).settingsP = null;
  }
  return cl;
}

/** A drbd instance in the config, with its data and meta volumes on both nodes (sparse files, as the node makes them). */
async function drbdInstance(cl: TestCluster, name: string, sizes: number[]): Promise<{ inst: InstanceObject; disks: DiskObject[] }> {
  const [p, s] = cl.nodes;
  const made = await addDrbdInstance(cl.config, { name, pnode: p!.uuid, snode: s!.uuid, sizes });
  await placeDrbdVolumes(cl.root, [p!.name, s!.name], made.disks);
  return made;
}

const ALL = ["node", "type", "name", "size", "used", "free", "allocatable"];

describe("storage of a drbd cluster", () => {
  it("list-storage reports each node's volume group with the replicas' volumes at full size", async () => {
    c = await drbdCluster();
    await drbdInstance(c, "d1.example.com", [1024, 512]);
    const used = 1024 + 512 + 2 * 128;
    // No storage type: the first enabled template's (drbd → lvm-vg), as Ganeti.
    // (Rows come in node uuid order, as Ganeti's: sorted here by name.)
    const rows = (await runOp(c, { OP_ID: "OP_NODE_QUERY_STORAGE", output_fields: ALL, storage_type: null })) as string[][];
    expect(rows.sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual([
      ["node1.example.com", "lvm-vg", "xenvg", VG_SIZE, used, VG_SIZE - used, true],
      ["node2.example.com", "lvm-vg", "xenvg", VG_SIZE, used, VG_SIZE - used, true],
    ]);
    const pv = (await runOp(c, {
      OP_ID: "OP_NODE_QUERY_STORAGE",
      output_fields: ["node", "name", "used", "allocatable"],
      storage_type: "lvm-pv",
      nodes: ["node2.example.com"],
    })) as unknown[][];
    expect(pv).toEqual([["node2.example.com", path.join(c.root, "nodes", "node2.example.com", "volumes", "xenvg"), used, true]]);
    expect(await runOp(c, { OP_ID: "OP_REPAIR_NODE_STORAGE", node_name: "node1", storage_type: "lvm-vg", name: "xenvg" })).toBeNull();
  });

  it("a node without volumes yet lists the cluster's volume group, empty", async () => {
    c = await drbdCluster();
    expect(
      await runOp(c, {
        OP_ID: "OP_NODE_QUERY_STORAGE",
        output_fields: ["node", "name", "used", "free"],
        storage_type: "lvm-vg",
        nodes: ["node1"],
      }),
    ).toEqual([["node1.example.com", "xenvg", 0, VG_SIZE]]);
  });

  it("node fields: dtotal/dfree from the volume group, spindles 0 (no exclusive storage), sinst_cnt", async () => {
    c = await drbdCluster();
    await drbdInstance(c, "d1.example.com", [2048]);
    const engine = new QueryEngine({ config: c.config, live: new LiveDataCache(c.rpc, 0), jobs: null });
    const q = await engine.query("node", ["name", "dtotal", "dfree", "sptotal", "spfree", "pinst_cnt", "sinst_cnt"], null);
    expect(q.data.map((r) => r.map((v) => v[1]))).toEqual([
      ["node1.example.com", VG_SIZE, VG_SIZE - 2048 - 128, 0, 0, 1, 0],
      ["node2.example.com", VG_SIZE, VG_SIZE - 2048 - 128, 0, 0, 0, 1],
    ]);
  });

  it("volumes (gnt node volumes): each replica's data and meta volume on both nodes with its instance, strays as '-'", async () => {
    c = await drbdCluster();
    const { disks } = await drbdInstance(c, "d1.example.com", [1024]);
    const stray = path.join(c.root, "nodes", "node2.example.com", "volumes", "xenvg");
    const fh = await open(path.join(stray, "leftover"), "w");
    await fh.truncate(10 * MiB);
    await fh.close();
    const [data, meta] = disks[0]!.children!.map((ch) => String(ch.logical_id[1]));
    const rows = (await runOp(c, {
      OP_ID: "OP_NODE_QUERYVOLS",
      output_fields: ["node", "phys", "vg", "name", "size", "instance"],
      nodes: [],
    })) as string[][];
    const dir = (n: string) => path.join(c!.root, "nodes", n, "volumes", "xenvg");
    expect(rows.sort()).toEqual(
      [
        ["node1.example.com", dir("node1.example.com"), "xenvg", data!, "1024", "d1.example.com"],
        ["node1.example.com", dir("node1.example.com"), "xenvg", meta!, "128", "d1.example.com"],
        ["node2.example.com", dir("node2.example.com"), "xenvg", data!, "1024", "d1.example.com"],
        ["node2.example.com", dir("node2.example.com"), "xenvg", meta!, "128", "d1.example.com"],
        ["node2.example.com", dir("node2.example.com"), "xenvg", "leftover", "10", "-"],
      ].sort(),
    );
    expect(await runOp(c, { OP_ID: "OP_NODE_QUERYVOLS", output_fields: ["name", "instance"], nodes: ["node1"] })).toEqual(
      [
        [data, "d1.example.com"],
        [meta, "d1.example.com"],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    await expect(runOp(c, { OP_ID: "OP_NODE_QUERYVOLS", output_fields: ["bogus"], nodes: [] })).rejects.toMatchObject({
      message: "Unknown output fields selected: bogus",
      code: "wrong_input",
    });
  });

  it("iallocator requests for drbd and plain report the volume group's space (Ganeti's _ComputeClusterData), others the file storage's", async () => {
    c = await drbdCluster();
    await drbdInstance(c, "d1.example.com", [1024]);
    let input: Record<string, unknown> = {};
    const ctx = {
      config: c.config,
      rpc: c.rpc,
      allocator: {
        run: async (i: Record<string, unknown>) => {
          input = i;
          return { success: true, info: "", result: [] };
        },
      },
    } as unknown as LuContext;
    const disks = () =>
      Object.values(input["nodes"] as Record<string, { total_disk: number; free_disk: number }>).map((n) => [n.total_disk, n.free_disk]);
    const inVg = [VG_SIZE, VG_SIZE - 1024 - 128];
    await runAllocator(ctx, "hail", { type: "allocate", name: "x", disk_template: "drbd" });
    expect(disks()).toEqual([inVg, inVg]);
    await runAllocator(ctx, "hail", { type: "relocate", name: "d1.example.com" });
    expect(disks()).toEqual([inVg, inVg]);
    await runAllocator(ctx, "hail", { type: "allocate", name: "x", disk_template: "file" });
    expect(disks().every(([t]) => t !== VG_SIZE)).toBe(true);
  });

  it("verify-disks asks each node for its side of a drbd disk: not assembled there → the instance needs activate-disks", async () => {
    c = await drbdCluster();
    const { inst } = await drbdInstance(c, "d1.example.com", [64]);
    await c.config.mutate(() => void (inst.disks_active = true));
    // No storage daemon runs for the disk on either node (never assembled, or the node rebooted).
    expect(await runOp(c, { OP_ID: "OP_GROUP_VERIFY_DISKS", group_name: "default" })).toEqual([{}, ["d1.example.com"], {}]);
    // Both nodes report it (each got its own side: dynamic params for that node).
    const seen: Array<{ node: string; primary: unknown }> = [];
    for (const n of c.nodes) {
      const handlers = (c.backends.get(n.uuid) as unknown as { handlers: Record<string, (a: unknown) => Promise<unknown>> }).handlers;
      handlers["blockdev_getmirrorstatus"] = async (a) => {
        const disks = (a as { disks: Array<{ dynamic_params?: { primary: boolean } }> }).disks;
        for (const d of disks) seen.push({ node: n.name, primary: d.dynamic_params?.primary });
        return disks.map(() => ({
          dev_path: "x",
          major: null,
          minor: 0,
          sync_percent: null,
          estimated_time: null,
          is_degraded: true,
          ldisk_status: 1,
        }));
      };
    }
    expect(await runOp(c, { OP_ID: "OP_GROUP_VERIFY_DISKS", group_name: "default" })).toEqual([{}, [], {}]);
    expect(seen.sort((a, b) => a.node.localeCompare(b.node))).toEqual([
      { node: "node1.example.com", primary: true },
      { node: "node2.example.com", primary: false },
    ]);
  });

  it("repair-disk-sizes reads a drbd disk's size on its primary (that node's side)", async () => {
    c = await drbdCluster();
    const { disks } = await drbdInstance(c, "d1.example.com", [64]);
    await c.config.mutate(() => {
      disks[0]!.size = 32;
      c!.config.touch(disks[0]!);
    });
    expect(await runOp(c, { OP_ID: "OP_CLUSTER_REPAIR_DISK_SIZES", instances: [] })).toEqual([["d1.example.com", 0, "size", 64]]);
    expect(c.config.disk(disks[0]!.uuid).size).toBe(64);
  });

  it("cluster verify reports a degraded drbd disk (a warning while its local data is okay) and one no node can find", async () => {
    c = await drbdCluster();
    const { inst } = await drbdInstance(c, "d1.example.com", [64]);
    await c.config.mutate(() => void (inst.disks_active = true));
    const [n1, n2] = c.nodes;
    const stub = (uuid: string, answer: unknown) => {
      const handlers = (c!.backends.get(uuid) as unknown as { handlers: Record<string, (a: unknown) => Promise<unknown>> }).handlers;
      handlers["blockdev_getmirrorstatus"] = async () => [answer];
    };
    stub(n1!.uuid, { dev_path: "x", major: null, minor: 0, sync_percent: null, estimated_time: null, is_degraded: true, ldisk_status: 1 });
    stub(n2!.uuid, null);
    const [, log] = await runOpLog(c, { OP_ID: "OP_CLUSTER_VERIFY_GROUP", group_name: "default" });
    const faulty = log.filter((l) => l.includes("EINSTANCEFAULTYDISK") || /disk\/0 on/.test(l));
    expect(faulty).toEqual([
      expect.stringMatching(/WARNING: instance d1\.example\.com: disk\/0 on node1\.example\.com is degraded; local disk state is 'ok'$/),
      expect.stringMatching(
        /ERROR: instance d1\.example\.com: couldn't retrieve status for disk\/0 on node2\.example\.com: Can't find device disk\/0$/,
      ),
    ]);
    // A disk state 'unknown' (replica not known to be consistent) while degraded is an error.
    stub(n1!.uuid, { dev_path: "x", major: null, minor: 0, sync_percent: null, estimated_time: null, is_degraded: true, ldisk_status: 3 });
    stub(n2!.uuid, { dev_path: "x", major: null, minor: 0, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 1 });
    const [, log2] = await runOpLog(c, { OP_ID: "OP_CLUSTER_VERIFY_GROUP", group_name: "default" });
    expect(log2.filter((l) => /disk\/0 on/.test(l))).toEqual([
      expect.stringMatching(/ERROR: instance d1\.example\.com: disk\/0 on node1\.example\.com is degraded; local disk state is 'unknown'$/),
    ]);
  });
});

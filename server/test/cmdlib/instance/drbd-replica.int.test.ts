// drbd instances end to end on the master's LUs and two node backends with
// the real replication engine (qemu-storage-daemons on random loopback
// addresses and a random port; the fake hypervisor runs the instance):
// create with the initial sync, a write on the primary reaching the
// secondary's replica, live migration and failover with the roles swapped
// and the mirror healthy after each, removal stopping every storage daemon.
import { promises as fs } from "node:fs";
import path from "node:path";
import type { BlockDevStatus, RpcDisk } from "@ganeti-ts/schema";
import { afterEach, describe, expect, it } from "vitest";
import { generateClusterCert, writeCert } from "../../../src/lib/certs.js";
import { parseReplicaUri } from "../../../src/lib/replica-uri.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { freePort, killDaemons, qemuIo, randomLoopbackPair, readAt } from "../../storage/replication-fixture.js";
import { createOp, inst, runOp, runningOn } from "./helpers.js";
import { poller } from "../../harness/poll.js";

let c: TestCluster | undefined;
afterEach(async () => {
  if (c) {
    for (const b of c.backends.values()) b.storage.replication.close();
    for (const n of c.nodes) await killDaemons(path.join(c.root, "nodes", n.name));
    await c.cleanup();
  }
  c = undefined;
});

async function replicaCluster(): Promise<TestCluster> {
  const cl = await testCluster({ nodes: 2, diskTemplates: ["drbd", "file", "diskless"] });
  c = cl;
  const cert = await generateClusterCert("cluster.example.com");
  const ips = randomLoopbackPair();
  const port = await freePort(ips);
  for (const n of cl.nodes) {
    const dir = path.join(cl.root, "nodes", n.name);
    await fs.mkdir(dir, { recursive: true });
    await writeCert(path.join(dir, "server.pem"), cert.pem);
  }
  await cl.config.mutate((d) => {
    d.cluster.volume_group_name = "xenvg";
    // The first drbd port handed out: one free right now on both replication addresses.
    d.cluster.tcpudp_port_pool = [port];
    cl.nodes.forEach((n, i) => (d.nodes[n.uuid]!.secondary_ip = ips[i]!));
  });
  return cl;
}

const status = async (cl: TestCluster, node: string, disk: RpcDisk): Promise<BlockDevStatus | null> =>
  ((await cl.backendOf(node).handle("blockdev_getmirrorstatus", { disks: [disk] })) as (BlockDevStatus | null)[])[0] ?? null;

const until = poller({ timeoutMs: 90_000 });

describe("drbd instances on the replication engine", () => {
  it("create, write, migrate, fail over and remove: the replicas follow the roles", async () => {
    const cl = await replicaCluster();
    const [n1, n2] = cl.nodes.map((n) => n.uuid) as [string, string];
    const job = await cl.runJob([
      createOp("r1.example.com", { disk_template: "drbd", disks: [{ size: 16 }], snode: "node2.example.com", start: false }),
    ]);
    expect(job.ops[0]!.status, JSON.stringify(job.ops[0]!.result)).toBe("success");
    expect(cl.jobLog(job)).toContain(" - INFO: Instance r1.example.com's disks are in sync");
    const i = inst(cl, "r1.example.com");
    const disk = cl.config.disk(i.disks[0]!);

    // A write on the primary's export reaches the secondary's replica.
    await runOp(cl, { OP_ID: "OP_INSTANCE_ACTIVATE_DISKS", instance_name: "r1.example.com", wait_for_sync: true });
    const onPrimary = cl.config.rpcDisk(disk, n1);
    const uri = parseReplicaUri((await status(cl, "node1.example.com", onPrimary))!.dev_path)!;
    const w = await qemuIo(uri, ["write -P 0x5a 1M 64k", "flush"]);
    expect(w.ok, w.out).toBe(true);
    const secondaryData = await cl.backendOf("node2.example.com").storage.plain.pathOf(disk.children![0]!);
    expect((await readAt(secondaryData, 1024 * 1024, 65536)).every((x) => x === 0x5a)).toBe(true);

    // Live migration: the roles swap, the new primary mirrors to the old one.
    await runOp(cl, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "r1.example.com" });
    await runOp(cl, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "r1.example.com" });
    expect(inst(cl, "r1.example.com").primary_node).toBe(n2);
    expect(await runningOn(cl, "node2.example.com")).toEqual(["r1.example.com"]);
    const afterMigrate = await until("the mirror from node2", async () => {
      const st = await status(cl, "node2.example.com", cl.config.rpcDisk(disk, n2));
      return st && !st.is_degraded ? st : undefined;
    });
    expect(afterMigrate.sync_percent).toBeNull();

    // Failover back: stopped on node2, started on node1 with node1 writing.
    await runOp(cl, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "r1.example.com" });
    expect(inst(cl, "r1.example.com").primary_node).toBe(n1);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["r1.example.com"]);
    await until("the mirror from node1", async () => {
      const st = await status(cl, "node1.example.com", cl.config.rpcDisk(disk, n1));
      return st && !st.is_degraded ? st : undefined;
    });
    expect((await readAt(secondaryData, 1024 * 1024, 65536)).every((x) => x === 0x5a)).toBe(true);

    // Removal stops both storage daemons and removes the volumes.
    await runOp(cl, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "r1.example.com", ignore_failures: false });
    expect(await status(cl, "node1.example.com", onPrimary)).toBeNull();
    await expect(fs.stat(secondaryData)).rejects.toMatchObject({ code: "ENOENT" });
  }, 300_000);

  it("converts file to drbd and back, the data copied by the primary (through the mirror to the secondary)", async () => {
    const cl = await replicaCluster();
    const [n1] = cl.nodes.map((n) => n.uuid) as [string, string];
    await runOp(cl, createOp("c1.example.com", { disk_template: "file", disks: [{ size: 16 }], start: false }));
    const image = String(cl.config.disk(inst(cl, "c1.example.com").disks[0]!).logical_id[1]);
    const fh = await fs.open(image, "r+");
    await fh.write(Buffer.alloc(65536, 0xa7), 0, 65536, 2 * 1024 * 1024);
    await fh.close();

    await runOp(cl, {
      OP_ID: "OP_INSTANCE_SET_PARAMS",
      instance_name: "c1.example.com",
      disk_template: "drbd",
      remote_node: "node2.example.com",
    });
    const disk = cl.config.disk(inst(cl, "c1.example.com").disks[0]!);
    expect(disk.dev_type).toBe("drbd");
    const onSecondary = await cl.backendOf("node2.example.com").storage.plain.pathOf(disk.children![0]!);
    expect((await readAt(onSecondary, 2 * 1024 * 1024, 65536)).every((x) => x === 0xa7)).toBe(true);
    await expect(fs.stat(image)).rejects.toMatchObject({ code: "ENOENT" });

    await runOp(cl, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "file" });
    const back = String(cl.config.disk(inst(cl, "c1.example.com").disks[0]!).logical_id[1]);
    expect((await readAt(back, 2 * 1024 * 1024, 65536)).every((x) => x === 0xa7)).toBe(true);
    await expect(fs.stat(onSecondary)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await status(cl, "node1.example.com", cl.config.rpcDisk(disk, n1))).toBeNull();
  }, 300_000);
});

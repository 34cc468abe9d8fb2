// The drbd strategy's node calls, in Ganeti's order as the user-space
// replication engine needs it (the secondary before the primary), the disk
// each node is told about (children, its own dynamic params), the initial
// sync's progress lines, and the mirror steps of migration and failover.
import type { BlockDevStatus, DiskObject, InstanceObject, RpcDisk } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import {
  assembleInstanceDisks,
  createDisks,
  generateDisks,
  growDisk,
  removeDisks,
  waitForDiskSync,
} from "../../../src/cmdlib/common/disks.js";
import {
  checkDiskConsistency,
  drbdAttach,
  drbdDisconnect,
  drbdWaitUntilSync,
  formatSeconds,
  setDrbdPrimary,
} from "../../../src/cmdlib/disk-templates/drbd.js";
import { OpExecError, OpPrereqError } from "../../../src/lib/errors.js";
import { bench, type Bench } from "./recording.js";

const spec = (size: number) => ({ size, mode: "rw" as const, name: null, spindles: null });
const st = (over: Partial<BlockDevStatus> = {}): BlockDevStatus => ({
  dev_path: "/dev/x",
  major: null,
  minor: null,
  sync_percent: null,
  estimated_time: null,
  is_degraded: false,
  ldisk_status: 1,
  ...over,
});

/** A drbd instance on node1 (primary) and node2, in the config. */
async function drbdInstance(b: Bench, sizes: number[]): Promise<{ inst: InstanceObject; disks: DiskObject[] }> {
  const [n1, n2] = b.nodes;
  const uuid = b.cfg.newUuid();
  const disks = generateDisks(b.cfg, "drbd", {
    instanceName: "d1.example.com",
    instanceUuid: uuid,
    primary: n1!.uuid,
    secondaries: [n2!.uuid],
    specs: sizes.map(spec),
  });
  const inst = {
    uuid,
    name: "d1.example.com",
    primary_node: n1!.uuid,
    secondary_nodes: [n2!.uuid],
    disk_template: "drbd",
    disks: disks.map((d) => d.uuid),
    disks_active: false,
    admin_state: "up",
    serial_no: 1,
    mtime: 0,
  } as unknown as InstanceObject;
  await b.cfg.mutate((data) => {
    for (const d of disks) data.disks[d.uuid] = d;
    data.instances[uuid] = inst;
  });
  return { inst: b.cfg.instance(uuid), disks: disks.map((d) => b.cfg.disk(d.uuid)) };
}

const dyn = (args: Record<string, unknown>) => (args["disk"] as RpcDisk).dynamic_params;

describe("drbd strategy: disks", () => {
  it("needs a secondary node, and makes Ganeti's disk objects (logical_id with both nodes, data and meta children)", async () => {
    const b = await bench(2);
    expect(() =>
      generateDisks(b.cfg, "drbd", { instanceName: "x", instanceUuid: "u", primary: b.nodes[0]!.uuid, specs: [spec(1)] }),
    ).toThrow(new OpPrereqError("The networked disk templates need a mirror node", "wrong_input"));
    const { disks } = await drbdInstance(b, [1024, 512]);
    const [n1, n2] = b.nodes.map((n) => n.uuid);
    expect(disks.map((d) => d.iv_name)).toEqual(["disk/0", "disk/1"]);
    for (const d of disks) {
      expect(d.dev_type).toBe("drbd");
      expect(d.nodes).toEqual([n1, n2]);
      expect(d.logical_id.slice(0, 2)).toEqual([n1, n2]);
      expect(d.children!.map((c) => [c.dev_type, c.size, c.logical_id[0]])).toEqual([
        ["plain", d.size, "xenvg"],
        ["plain", 128, "xenvg"],
      ]);
    }
    // Each disk its own port and, on each node, its own minor.
    expect(new Set(disks.map((d) => d.logical_id[2])).size).toBe(2);
    expect(disks.map((d) => d.logical_id[3])).toEqual([0, 1]);
  });

  it("creates each disk on the secondary, then on the primary, each node told its own side", async () => {
    const b = await bench(2);
    const { inst, disks } = await drbdInstance(b, [1024]);
    await createDisks(b.ctx, inst, disks);
    expect(b.rpc.trace()).toEqual(["blockdev_create@node2.example.com", "blockdev_create@node1.example.com"]);
    const [onS, onP] = b.rpc.of("blockdev_create");
    expect(onS!.args["on_primary"]).toBe(false);
    expect(onP!.args["on_primary"]).toBe(true);
    expect(dyn(onP!.args)).toEqual({ local_ip: "127.0.0.11", remote_ip: "127.0.1.12", local_minor: 0, remote_minor: 0, primary: true });
    expect(dyn(onS!.args)).toEqual({ local_ip: "127.0.1.12", remote_ip: "127.0.0.11", local_minor: 0, remote_minor: 0, primary: false });
    expect((onP!.args["disk"] as RpcDisk).children!.map((c) => c.dev_type)).toEqual(["plain", "plain"]);
  });

  it("a creation failing on the primary removes the secondary's half and reports Ganeti's message", async () => {
    const b = await bench(2);
    const { inst, disks } = await drbdInstance(b, [1024]);
    b.rpc.on("blockdev_create", (n) => {
      if (n.name === "node1.example.com") throw new Error("no space left");
      return "/dev/x";
    });
    const err = await createDisks(b.ctx, inst, disks).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpExecError);
    expect((err as Error).message).toBe(
      "Can't create block device disk/0 on node node1.example.com for instance d1.example.com: no space left",
    );
    expect(b.rpc.trace()).toEqual([
      "blockdev_create@node2.example.com",
      "blockdev_create@node1.example.com",
      "blockdev_remove@node2.example.com",
    ]);
  });

  it("removes each disk from both nodes", async () => {
    const b = await bench(2);
    const { inst, disks } = await drbdInstance(b, [1024, 64]);
    expect(await removeDisks(b.ctx, inst, disks)).toBe(true);
    expect(b.rpc.trace()).toEqual([
      "blockdev_remove@node1.example.com",
      "blockdev_remove@node2.example.com",
      "blockdev_remove@node1.example.com",
      "blockdev_remove@node2.example.com",
    ]);
    expect(b.rpc.of("blockdev_remove").map((c) => dyn(c.args)!.primary)).toEqual([true, false, true, false]);
  });

  it("assembles in Ganeti's two passes: the secondary as secondary, then the primary; a failed secondary counts unless ignored", async () => {
    const b = await bench(2);
    const { inst } = await drbdInstance(b, [1024]);
    b.rpc.on("blockdev_assemble", (n) => `/dev/on-${n.name}`);
    const ok = await assembleInstanceDisks(b.ctx, inst);
    expect(ok).toEqual({ ok: true, info: [["node1.example.com", "disk/0", "/dev/on-node1.example.com"]] });
    expect(b.rpc.of("blockdev_assemble").map((c) => [c.node, c.args["on_primary"]])).toEqual([
      ["node2.example.com", false],
      ["node1.example.com", true],
    ]);

    b.rpc.on("blockdev_assemble", (n) => {
      if (n.name === "node2.example.com") throw new Error("peer gone");
      return "/dev/p";
    });
    expect((await assembleInstanceDisks(b.ctx, inst)).ok).toBe(false);
    expect(b.log.at(-1)).toBe(
      " - WARNING: Could not prepare block device disk/0 on node node2.example.com (is_primary=False, pass=1): peer gone",
    );
    expect((await assembleInstanceDisks(b.ctx, inst, undefined, { ignoreSecondaries: true })).ok).toBe(true);
  });

  it("grows the secondary, then the primary: all dry runs before the real grows", async () => {
    const b = await bench(2);
    const { inst, disks } = await drbdInstance(b, [1024]);
    await growDisk(b.ctx, inst, disks[0]!, 512);
    expect(b.rpc.of("blockdev_grow").map((c) => `${c.node.slice(0, 5)} ${String(c.args["dryrun"])}`)).toEqual([
      "node2 true",
      "node1 true",
      "node2 false",
      "node1 false",
    ]);
  });
});

describe("drbd strategy: waiting for the sync", () => {
  it("logs each syncing disk's progress as Ganeti does, polling the primary until in sync", async () => {
    const b = await bench(2);
    const { inst } = await drbdInstance(b, [1024, 2048]);
    const answers: BlockDevStatus[][] = [
      [st({ is_degraded: true, sync_percent: 45.2, estimated_time: 12 }), st({ is_degraded: true, sync_percent: 5, estimated_time: null })],
      [st(), st({ is_degraded: true, sync_percent: 99.5, estimated_time: 3725 })],
      [st(), st()],
    ];
    b.rpc.on("blockdev_getmirrorstatus", () => answers.shift()!);
    expect(await waitForDiskSync(b.ctx, inst)).toBe(true);
    expect(b.log).toEqual([
      " - INFO: Waiting for instance d1.example.com to sync disks",
      " - INFO: - device disk/0: 45.20% done, 12s remaining (estimated)",
      " - INFO: - device disk/1:  5.00% done, no time estimate",
      " - INFO: - device disk/1: 99.50% done, 1h 2m 5s remaining (estimated)",
      " - INFO: Instance d1.example.com's disks are in sync",
    ]);
    expect(new Set(b.rpc.of("blockdev_getmirrorstatus").map((c) => c.node))).toEqual(new Set(["node1.example.com"]));
    expect(b.sleeps.length).toBe(2);
  });

  it("a disk that stays degraded (peer gone) is looked at ten more times, then reported; oneshot looks once", async () => {
    const b = await bench(2);
    const { inst } = await drbdInstance(b, [1024]);
    b.rpc.on("blockdev_getmirrorstatus", () => [st({ is_degraded: true })]);
    expect(await waitForDiskSync(b.ctx, inst)).toBe(false);
    expect(b.rpc.of("blockdev_getmirrorstatus")).toHaveLength(11);
    expect(b.log.at(-1)).toBe(" - INFO: Instance d1.example.com's disks are in sync");

    const c = await bench(2);
    const i2 = await drbdInstance(c, [1024]);
    c.rpc.on("blockdev_getmirrorstatus", () => [st({ is_degraded: true, sync_percent: 10, estimated_time: 4 })]);
    expect(await waitForDiskSync(c.ctx, i2.inst, undefined, { oneshot: true })).toBe(true);
    expect(c.log).toEqual([" - INFO: - device disk/0: 10.00% done, 4s remaining (estimated)"]);
  });

  it("formats seconds as Ganeti's FormatSeconds", () => {
    expect(formatSeconds(0)).toBe("0s");
    expect(formatSeconds(59.6)).toBe("1m 0s");
    expect(formatSeconds(90061)).toBe("1d 1h 1m 1s");
  });
});

describe("drbd strategy: the mirror between the nodes", () => {
  it("checks a node's copy: present and not degraded (ldisk: local storage okay)", async () => {
    const b = await bench(2);
    const { inst, disks } = await drbdInstance(b, [1024]);
    const [n1, n2] = b.nodes as [NonNullable<Bench["nodes"][0]>, NonNullable<Bench["nodes"][0]>];
    b.rpc.on("blockdev_find", () => st());
    expect(await checkDiskConsistency(b.ctx, inst, disks[0]!, n2, false)).toBe(true);
    expect(b.rpc.of("blockdev_find")).toHaveLength(1);
    expect(await checkDiskConsistency(b.ctx, inst, disks[0]!, n1, true)).toBe(true);
    expect(b.rpc.of("blockdev_find")).toHaveLength(4); // the disk and its two children
    b.rpc.on("blockdev_find", () => st({ is_degraded: true, ldisk_status: 1 }));
    expect(await checkDiskConsistency(b.ctx, inst, disks[0]!, n2, false)).toBe(false);
    expect(await checkDiskConsistency(b.ctx, inst, disks[0]!, n2, false, true)).toBe(true);
    b.rpc.on("blockdev_find", () => null);
    expect(await checkDiskConsistency(b.ctx, inst, disks[0]!, n2, false)).toBe(false);
    expect(b.log.at(-1)).toBe(" - WARNING: Can't find disk on node node2.example.com");
  });

  it("disconnects and reconnects the nodes (the secondary first), and waits for the resync", async () => {
    const b = await bench(2);
    const { inst } = await drbdInstance(b, [1024]);
    await drbdDisconnect(b.ctx, inst, b.nodes.slice(0, 2));
    await drbdAttach(b.ctx, inst, b.nodes.slice(0, 2), true);
    const waits = [
      { alldone: false, min_resync: 40 },
      { alldone: true, min_resync: 100 },
    ];
    b.rpc.on("drbd_wait_sync", () => waits.shift() ?? { alldone: true, min_resync: 100 });
    await drbdWaitUntilSync(b.ctx, inst, b.nodes.slice(0, 2));
    expect(b.rpc.trace()).toEqual([
      "drbd_disconnect_net@node1.example.com",
      "drbd_disconnect_net@node2.example.com",
      "drbd_attach_net@node2.example.com",
      "drbd_attach_net@node1.example.com",
      "drbd_wait_sync@node1.example.com",
      "drbd_wait_sync@node2.example.com",
      "drbd_wait_sync@node1.example.com",
      "drbd_wait_sync@node2.example.com",
    ]);
    expect(b.rpc.of("drbd_attach_net").map((c) => c.args["multimaster"])).toEqual([true, true]);
    expect(b.log).toEqual([
      "* changing into standalone mode",
      "* changing disks into dual-master mode",
      "* wait until resync is done",
      "   - progress: 40.0%",
    ]);
    b.rpc.on("drbd_attach_net", () => {
      throw new Error("refused");
    });
    await expect(drbdAttach(b.ctx, inst, b.nodes.slice(0, 2), false)).rejects.toThrow(
      "Cannot change disks config on node node2.example.com: refused",
    );
  });

  it("swaps the roles in the config: the instance's nodes and each disk's logical_id, minors following their nodes", async () => {
    const b = await bench(3);
    const { inst } = await drbdInstance(b, [1024]);
    // A second instance gives node2 a minor of 1 for this one.
    const [n1, n2, n3] = b.nodes.map((n) => n.uuid) as [string, string, string];
    const disk = b.cfg.disk(inst.disks[0]!);
    const [, , port, , , secret] = disk.logical_id;
    await b.cfg.mutate(() => {
      disk.logical_id = [n1, n2, port, 0, 1, secret];
    });
    await b.cfg.mutate(() => setDrbdPrimary(b.cfg, inst, n2));
    expect(inst.primary_node).toBe(n2);
    expect(inst.secondary_nodes).toEqual([n1]);
    expect(disk.logical_id).toEqual([n2, n1, port, 1, 0, secret]);
    expect(disk.nodes).toEqual([n2, n1]);
    expect(b.cfg.rpcDisk(disk, n2).dynamic_params).toMatchObject({ primary: true, local_minor: 1, remote_minor: 0 });
    await expect(b.cfg.mutate(() => setDrbdPrimary(b.cfg, inst, n3))).rejects.toThrow(OpExecError);
  });
});

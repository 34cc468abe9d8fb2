// The single-node strategies (file, sharedfile, diskless) and the registry:
// which node calls each step makes, in which order, with which messages.
import type { DiskObject, InstanceObject, RpcDisk } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import {
  assembleInstanceDisks,
  createDisks,
  generateDisks,
  removeDisks,
  shutdownInstanceDisks,
  waitForDiskSync,
} from "../../../src/cmdlib/common/disks.js";
import { diskSteps, diskStrategy, hasDiskStrategy, SUPPORTED_TEMPLATES } from "../../../src/cmdlib/disk-templates/registry.js";
import { OpExecError, OpPrereqError } from "../../../src/lib/errors.js";
import { bench, type Bench } from "./recording.js";

const spec = (size: number) => ({ size, mode: "rw" as const, name: null, spindles: null });

async function fileInstance(
  b: Bench,
  template: "file" | "sharedfile",
  sizes: number[],
): Promise<{ inst: InstanceObject; disks: DiskObject[] }> {
  const uuid = b.cfg.newUuid();
  const disks = generateDisks(b.cfg, template, {
    instanceName: "i1.example.com",
    instanceUuid: uuid,
    primary: b.nodes[0]!.uuid,
    specs: sizes.map(spec),
  });
  const inst = {
    uuid,
    name: "i1.example.com",
    primary_node: b.nodes[0]!.uuid,
    secondary_nodes: [],
    disk_template: template,
    disks: disks.map((d) => d.uuid),
    disks_active: false,
  } as unknown as InstanceObject;
  await b.cfg.mutate((data) => {
    for (const d of disks) data.disks[d.uuid] = d;
    data.instances[uuid] = inst;
  });
  return { inst: b.cfg.instance(uuid), disks: disks.map((d) => b.cfg.disk(d.uuid)) };
}

describe("file strategy", () => {
  it("generates one image per disk in the instance's directory, numbered from the base index", async () => {
    const b = await bench(1);
    const { disks } = await fileInstance(b, "file", [128, 256]);
    expect(disks.map((d) => d.iv_name)).toEqual(["disk/0", "disk/1"]);
    expect(disks.map((d) => d.nodes)).toEqual([[b.nodes[0]!.uuid], [b.nodes[0]!.uuid]]);
    for (const [i, d] of disks.entries()) {
      expect(d.logical_id[0]).toBe("loop");
      expect(String(d.logical_id[1])).toMatch(new RegExp(`^/srv/ganeti/file-storage/i1\\.example\\.com/[0-9a-f-]+\\.file\\.disk${i}$`));
    }
    // A disk added later goes beside the existing ones.
    const [added] = generateDisks(b.cfg, "file", {
      instanceName: "i1.example.com",
      instanceUuid: "x",
      primary: b.nodes[0]!.uuid,
      specs: [spec(64)],
      baseIndex: 2,
      existing: [{ ...disks[0]!, logical_id: ["loop", "/elsewhere/i1.example.com/a.file.disk0"] }],
    });
    expect(added!.iv_name).toBe("disk/2");
    expect(String(added!.logical_id[1])).toMatch(/^\/elsewhere\/i1\.example\.com\/.+\.file\.disk2$/);
    const [shared] = generateDisks(b.cfg, "sharedfile", {
      instanceName: "s.example.com",
      instanceUuid: "y",
      primary: b.nodes[0]!.uuid,
      specs: [spec(1)],
    });
    expect(String(shared!.logical_id[1])).toMatch(/^\/srv\/ganeti\/shared-file-storage\/s\.example\.com\/.+\.sharedfile\.disk0$/);
  });

  it("creates the directory, then each disk on the primary; a failure removes what was made", async () => {
    const b = await bench(1);
    const { inst, disks } = await fileInstance(b, "file", [128, 256]);
    await createDisks(b.ctx, inst, disks);
    expect(b.rpc.trace()).toEqual([
      "file_storage_dir_create@node1.example.com",
      "blockdev_create@node1.example.com",
      "blockdev_create@node1.example.com",
    ]);
    expect(b.rpc.of("blockdev_create").map((c) => c.args["on_primary"])).toEqual([true, true]);

    const c = await bench(1);
    const f = await fileInstance(c, "file", [128, 256]);
    let n = 0;
    c.rpc.on("blockdev_create", () => {
      if (++n === 2) throw new Error("disk full");
      return "/dev/x";
    });
    c.rpc.on("blockdev_remove", () => {
      throw new Error("busy");
    });
    const err = await createDisks(c.ctx, f.inst, f.disks).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpExecError);
    expect((err as Error).message).toBe(
      "Can't create block device disk/1 on node node1.example.com for instance i1.example.com: disk full",
    );
    expect(c.rpc.trace().slice(-1)).toEqual(["blockdev_remove@node1.example.com"]);
    expect(c.log).toContain(" - WARNING: Failed to remove newly-created disk disk/0 on node node1.example.com: busy");
  });

  it("removes each disk, then the directory; failures are warnings and a false result", async () => {
    const b = await bench(1);
    const { inst, disks } = await fileInstance(b, "sharedfile", [128]);
    b.rpc.on("file_storage_dir_remove", () => {
      throw new Error("not empty");
    });
    expect(await removeDisks(b.ctx, inst, disks)).toBe(false);
    expect(b.rpc.trace()).toEqual(["blockdev_remove@node1.example.com", "file_storage_dir_remove@node1.example.com"]);
    expect(b.rpc.of("file_storage_dir_remove")[0]!.args["path"]).toBe("/srv/ganeti/shared-file-storage/i1.example.com");
    expect(b.log.at(-1)).toMatch(/^ - WARNING: Could not remove directory '.*' on node node1.example.com: not empty$/);
  });

  it("assembles on the primary only, shuts down on the disk's nodes, and has nothing to sync", async () => {
    const b = await bench(1);
    const { inst } = await fileInstance(b, "file", [128, 64]);
    b.rpc.on("blockdev_assemble", (_n, a) => `/dev/${(a.disk as RpcDisk).uuid}`);
    const res = await assembleInstanceDisks(b.ctx, inst);
    expect(res.ok).toBe(true);
    expect(res.info.map((r) => r[1])).toEqual(["disk/0", "disk/1"]);
    expect(b.rpc.of("blockdev_assemble").map((c) => [c.node, c.args["on_primary"]])).toEqual([
      ["node1.example.com", true],
      ["node1.example.com", true],
    ]);
    expect(await shutdownInstanceDisks(b.ctx, inst)).toBe(true);
    expect(b.rpc.of("blockdev_shutdown")).toHaveLength(2);
    expect(await waitForDiskSync(b.ctx, inst)).toBe(true);
    expect(b.log.slice(-2)).toEqual([
      " - INFO: Waiting for instance i1.example.com to sync disks",
      " - INFO: Instance i1.example.com's disks are in sync",
    ]);
    expect(b.rpc.of("blockdev_getmirrorstatus")).toHaveLength(0);
  });

  it("moves the images' directory with the instance's name", async () => {
    const b = await bench(1);
    const { inst, disks } = await fileInstance(b, "file", [128]);
    const steps = diskStrategy("file");
    const before = String(disks[0]!.logical_id[1]);
    const move = await b.cfg.mutate(() => steps.renameInConfig(b.cfg, disks, "i2.example.com"));
    expect(move).toEqual({ from: "/srv/ganeti/file-storage/i1.example.com", to: "/srv/ganeti/file-storage/i2.example.com" });
    expect(b.cfg.disk(disks[0]!.uuid).logical_id[1]).toBe(before.replace("/i1.example.com/", "/i2.example.com/"));
    await steps.renameOnNodes(b.ctx, inst, move!);
    expect(b.rpc.of("file_storage_dir_rename").map((c) => c.args)).toEqual([{ old_path: move!.from, new_path: move!.to }]);
  });
});

describe("disk strategy registry", () => {
  it("has a strategy exactly for the templates this implementation creates", () => {
    expect([...SUPPORTED_TEMPLATES].sort()).toEqual(["diskless", "drbd", "file", "plain", "sharedfile"]);
    expect(hasDiskStrategy("blockdev")).toBe(false);
    expect(diskStrategy("diskless").generate(undefined as never, undefined as never)).toEqual([]);
  });

  it("refuses to make disks of a template without a strategy, but still runs the plain node calls on existing ones", async () => {
    expect(() => diskStrategy("rbd")).toThrow(OpPrereqError);
    expect(() => diskStrategy("rbd")).toThrow("Disk template 'rbd' is not supported by this cluster implementation");
    const b = await bench(1);
    const steps = diskSteps("blockdev");
    expect(() => steps.generate(b.cfg, undefined as never)).toThrow(OpPrereqError);
    const disk = {
      uuid: "d",
      dev_type: "plain",
      iv_name: "disk/0",
      nodes: [b.nodes[0]!.uuid],
      logical_id: ["xenvg", "v"],
    } as unknown as DiskObject;
    const inst = { name: "i", primary_node: b.nodes[0]!.uuid } as unknown as InstanceObject;
    expect(await steps.shutdown(b.ctx, inst, disk, {})).toBe(true);
    expect(b.rpc.trace()).toEqual(["blockdev_shutdown@node1.example.com"]);
  });
});

describe("plain strategy", () => {
  it("makes one volume per disk in the cluster's volume group, created on the primary", async () => {
    const b = await bench(1);
    const uuid = b.cfg.newUuid();
    const disks = generateDisks(b.cfg, "plain", {
      instanceName: "p.example.com",
      instanceUuid: uuid,
      primary: b.nodes[0]!.uuid,
      specs: [spec(64), spec(32)],
    });
    expect(disks.map((d) => [d.dev_type, d.logical_id[0], d.iv_name])).toEqual([
      ["plain", "xenvg", "disk/0"],
      ["plain", "xenvg", "disk/1"],
    ]);
    expect(String(disks[1]!.logical_id[1])).toMatch(/\.disk1$/);
    const inst = { uuid, name: "p.example.com", primary_node: b.nodes[0]!.uuid, disk_template: "plain" } as unknown as InstanceObject;
    await createDisks(b.ctx, inst, disks);
    expect(b.rpc.trace()).toEqual(["blockdev_create@node1.example.com", "blockdev_create@node1.example.com"]);
    const c = await bench(1, (d) => void (d.cluster.volume_group_name = null));
    expect(() =>
      generateDisks(c.cfg, "plain", { instanceName: "x", instanceUuid: "u", primary: c.nodes[0]!.uuid, specs: [spec(1)] }),
    ).toThrow(OpPrereqError);
  });
});

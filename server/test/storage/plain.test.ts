import { mkdir, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RpcDisk } from "@ganeti-ts/schema";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { PlainBlockDevice } from "../../src/storage/plain.js";
import { driverFor } from "../../src/storage/registry.js";
import { ReplicationEngine } from "../../src/storage/replication/engine.js";
import { VolumeDirs, volumeIdOf } from "../../src/storage/volume-dir.js";
import { tempDir } from "../noded/fixtures.js";

const MiB = 1024 * 1024;

function plainDisk(vg: string, name: string, size: number): RpcDisk {
  return { uuid: `disk-${name}`, dev_type: "plain", size, mode: "rw", name: null, logical_id: [vg, name], params: {} };
}

describe("volume directories", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("puts a volume group below <dataDir>/volumes unless the node maps it elsewhere", async () => {
    const mapped = path.join(dir, "elsewhere");
    const dirs = new VolumeDirs(dir, async () => ({ fast: mapped }));
    expect(await dirs.dirOf("xenvg")).toBe(path.join(dir, "volumes", "xenvg"));
    expect(await dirs.dirOf("fast")).toBe(mapped);
    expect(await dirs.pathOf("fast", "abc.disk0_data")).toBe(path.join(mapped, "abc.disk0_data"));
    await mkdir(path.join(dir, "volumes", "xenvg"), { recursive: true });
    expect(await dirs.groups()).toEqual(["fast", "xenvg"]);
  });

  it("refuses names that are paths or not LVM names", async () => {
    const dirs = new VolumeDirs(dir);
    for (const bad of ["..", ".", "a/b", "../x", "-x", "", "a\0b", "x y"]) {
      await expect(dirs.pathOf("xenvg", bad)).rejects.toThrow(/Invalid volume name/);
      await expect(dirs.dirOf(bad)).rejects.toThrow(/Invalid volume group name/);
    }
    expect(() => volumeIdOf(["xenvg"])).toThrow(/expected \[volume group, volume\]/);
    expect(() => volumeIdOf(["xenvg", 3])).toThrow(/Invalid volume name/);
  });

  it("lists a group's volumes with their sizes, skipping other entries", async () => {
    const dirs = new VolumeDirs(dir);
    const dev = new PlainBlockDevice(dirs);
    await dev.create(plainDisk("xenvg", "b.disk0", 3));
    await dev.create(plainDisk("xenvg", "a.disk0", 2));
    await mkdir(path.join(dir, "volumes", "xenvg", "subdir"));
    expect((await dirs.list("xenvg")).map((v) => [v.name, v.size])).toEqual([
      ["a.disk0", 2],
      ["b.disk0", 3],
    ]);
    expect(await dirs.list("othervg")).toEqual([]);
  });
});

describe("plain block device", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let dev: PlainBlockDevice;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    dev = new PlainBlockDevice(new VolumeDirs(dir));
  });
  afterEach(() => cleanup());

  it("creates a sparse image in the group's directory and refuses to overwrite", async () => {
    const disk = plainDisk("xenvg", "u1.disk0_data", 512);
    const file = path.join(dir, "volumes", "xenvg", "u1.disk0_data");
    expect(await dev.create(disk)).toBe(file);
    const st = await stat(file);
    expect(st.size).toBe(512 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB);
    await expect(dev.create(disk)).rejects.toThrow(/Can't create volume xenvg\/u1.disk0_data/);
    expect(await dev.getSize(disk)).toBe(512);
    expect(await dev.assemble(disk)).toBe(file);
  });

  it("grows (not on dryrun), renames within its group, removes (missing is fine)", async () => {
    const disk = plainDisk("xenvg", "v", 10);
    await dev.create(disk);
    await dev.grow(disk, 6, true);
    expect(await dev.getSize(disk)).toBe(10);
    await dev.grow(disk, 6, false);
    expect(await dev.getSize(disk)).toBe(16);
    await expect(dev.grow(disk, -1, false)).rejects.toThrow(/can't grow by -1/);
    await expect(dev.rename(disk, ["othervg", "w"])).rejects.toThrow(/another volume group/);
    await dev.create(plainDisk("xenvg", "taken", 1));
    await expect(dev.rename(disk, ["xenvg", "taken"])).rejects.toThrow(/target exists/);
    await dev.rename(disk, ["xenvg", "w"]);
    expect(await dev.getSize(disk)).toBeNull();
    const moved = plainDisk("xenvg", "w", 16);
    expect(await dev.getSize(moved)).toBe(16);
    await expect(dev.assemble(disk)).rejects.toThrow(/does not exist/);
    await dev.remove(moved);
    await dev.remove(moved);
    expect(await dev.getSize(moved)).toBeNull();
    await dev.shutdown(moved);
  });

  it("refuses a symlink planted in the group's directory", async () => {
    const outside = path.join(dir, "outside.img");
    await writeFile(outside, "x");
    await mkdir(path.join(dir, "volumes", "xenvg"), { recursive: true });
    await symlink(outside, path.join(dir, "volumes", "xenvg", "evil"));
    const disk = plainDisk("xenvg", "evil", 1);
    await expect(dev.assemble(disk)).rejects.toThrow(/not a regular file/);
    await expect(dev.create(disk)).rejects.toThrow(/Can't create volume/);
    await expect(dev.remove(disk)).rejects.toThrow(/not a regular file/);
  });

  it("is registered for dev_type plain, bound to a node's storage", () => {
    const volumes = new VolumeDirs(dir);
    const plain = new PlainBlockDevice(volumes);
    const node = { volumes, plain, replication: new ReplicationEngine({ dataDir: dir, plain }) };
    expect(driverFor({ dev_type: "plain" }, node)).toBe(plain);
    expect(driverFor({ dev_type: "plain" }, node)).toBe(driverFor({ dev_type: "plain" }, node));
    expect(() => driverFor({ dev_type: "plain" })).toThrow(/needs the node's storage/);
  });

  it("backs blockdev_create/getsizes/remove on a node backend, in the node's volume_group_map", async () => {
    const mapped = path.join(dir, "vg-here");
    const be = new NodeBackend({ dataDir: path.join(dir, "node"), nodeName: "n1", overrides: { volumeGroupMap: { xenvg: mapped } } });
    const disk = plainDisk("xenvg", "inst.disk0", 4);
    expect(await be.handle("blockdev_create", { disk, owner: "inst", on_primary: true })).toBe(path.join(mapped, "inst.disk0"));
    expect(await be.handle("blockdev_getsizes", { disks: [disk] })).toEqual([4]);
    await be.handle("blockdev_remove", { disk });
    expect(await be.handle("blockdev_getsizes", { disks: [disk] })).toEqual([null]);
  });
});

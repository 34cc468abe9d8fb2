import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlockDeviceError } from "../../src/lib/errors.js";
import { FileBlockDevice } from "../../src/storage/file.js";
import {
  createFileStorageDir,
  directorySizeMiB,
  fileStorageSpace,
  listFileStorage,
  removeFileStorageDir,
  renameFileStorageDir,
} from "../../src/storage/file-storage.js";
import { driverFor } from "../../src/storage/registry.js";
import { fileDisk, tempDir } from "../noded/fixtures.js";

const MiB = 1024 * 1024;

describe("file block device", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const dev = new FileBlockDevice();
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("creates a sparse file of the size, parents included, and refuses to overwrite", async () => {
    const file = path.join(dir, "inst1", "disk0");
    const disk = fileDisk(file, 1024);
    expect(await dev.create(disk)).toBe(file);
    const st = await stat(file);
    expect(st.size).toBe(1024 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB); // sparse: nothing allocated
    await expect(dev.create(disk)).rejects.toThrow(/can't create/);
    expect(await dev.getSize(disk)).toBe(1024);
  });

  it("grows (not on dryrun), renames, assembles and removes", async () => {
    const file = path.join(dir, "d0");
    const disk = fileDisk(file, 10);
    await dev.create(disk);
    await dev.grow(disk, 5, true);
    expect(await dev.getSize(disk)).toBe(10);
    await dev.grow(disk, 5, false);
    expect(await dev.getSize(disk)).toBe(15);
    await expect(dev.grow(disk, -1, false)).rejects.toThrow(/negative/);
    const moved = path.join(dir, "d0-renamed");
    await dev.rename(disk, ["loop", moved]);
    expect(await dev.getSize(disk)).toBeNull();
    const disk2 = fileDisk(moved, 15);
    expect(await dev.assemble(disk2)).toBe(moved);
    await dev.remove(disk2);
    await dev.remove(disk2); // missing is fine
    await expect(dev.assemble(disk2)).rejects.toThrow(/No such file/);
    await expect(dev.grow(disk2, 1, false)).rejects.toBeInstanceOf(BlockDeviceError);
  });

  it("refuses to rename over an existing image", async () => {
    const a = fileDisk(path.join(dir, "a"), 1);
    const b = fileDisk(path.join(dir, "b"), 1);
    await dev.create(a);
    await dev.create(b);
    await expect(dev.rename(a, b.logical_id)).rejects.toThrow(/target exists/);
  });

  it("validates logical ids", async () => {
    await expect(dev.create(fileDisk("relative/path", 1))).rejects.toThrow(/absolute/);
    await expect(dev.create(fileDisk(`${dir}/../x`, 1))).rejects.toThrow(/normalised/);
    await expect(dev.create({ ...fileDisk("/x", 1), logical_id: ["loop"] })).rejects.toThrow(/logical_id/);
  });

  it("picks drivers by dev_type; diskless has no devices", async () => {
    expect(driverFor({ dev_type: "sharedfile" })).toBeInstanceOf(FileBlockDevice);
    expect(() => driverFor({ dev_type: "rbd" })).toThrow(/Unsupported disk type 'rbd'/);
    expect(() => driverFor({ dev_type: "drbd" })).toThrow(/needs the node's storage/);
    const diskless = driverFor({ dev_type: "diskless" });
    await expect(diskless.create(fileDisk("/x", 1))).rejects.toThrow(/diskless/);
  });
});

describe("file storage directories", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("creates (idempotent), renames and removes only empty dirs", async () => {
    const a = path.join(dir, "storage", "inst1");
    await createFileStorageDir(a);
    await createFileStorageDir(a);
    const b = path.join(dir, "storage", "inst2");
    await renameFileStorageDir(a, b);
    await renameFileStorageDir(a, b); // already done
    await createFileStorageDir(a);
    await expect(renameFileStorageDir(a, b)).rejects.toThrow(/both locations exist/);
    await writeFile(path.join(b, "disk0"), "x");
    await expect(removeFileStorageDir(b)).rejects.toThrow(/Cannot remove file storage directory/);
    await removeFileStorageDir(a);
    await removeFileStorageDir(a); // missing is fine
    await writeFile(path.join(dir, "plain"), "");
    await expect(createFileStorageDir(path.join(dir, "plain"))).rejects.toThrow(/not a directory/);
  });

  it("reports space from statfs, or from the override minus the images", async () => {
    const d = path.join(dir, "file-storage");
    await mkdir(path.join(d, "inst1"), { recursive: true });
    await new FileBlockDevice().create(fileDisk(path.join(d, "inst1", "disk0"), 300));
    expect(await directorySizeMiB(d)).toBe(300);
    expect(await fileStorageSpace(d, 1000)).toEqual({ size: 1000, free: 700 });
    const real = await fileStorageSpace(path.join(d, "not", "yet", "created"));
    expect(real.size).toBeGreaterThan(0);
    expect(real.free).toBeGreaterThanOrEqual(0);
  });

  it("lists storage rows with the requested fields", async () => {
    const d = path.join(dir, "fs");
    await new FileBlockDevice().create(fileDisk(path.join(d, "i", "disk0"), 100));
    const rows = await listFileStorage({
      suName: "file",
      suArgs: [[d]],
      name: null,
      fields: ["node", "type", "name", "size", "used", "free", "allocatable"],
      nodeName: "node1",
      sizeOverride: 1024,
    });
    expect(rows).toEqual([["node1", "file", d, 100, 100, 924, true]]);
    await expect(listFileStorage({ suName: "file", suArgs: [[d]], name: null, fields: ["bogus"], nodeName: "n" })).rejects.toThrow(
      /Unknown field/,
    );
  });
});

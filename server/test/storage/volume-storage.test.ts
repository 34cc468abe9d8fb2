// Storage reporting of volume groups kept as directories: what lvm-vg and
// lvm-pv units report (a volume counts at its full size, as an LV does,
// although its image is sparse), through the functions and the node daemon's
// node_info / storage_list / storage_execute.
import { mkdir, open, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { VolumeDirs } from "../../src/storage/volume-dir.js";
import { listVolumeStorage, volumeGroupSpace } from "../../src/storage/volume-storage.js";
import { tempDir } from "../noded/fixtures.js";

const MiB = 1024 * 1024;

/** A sparse volume of `size` MiB with `written` MiB of data at its start. */
async function volume(dir: string, name: string, size: number, written = 0): Promise<void> {
  await mkdir(dir, { recursive: true });
  const fh = await open(path.join(dir, name), "w");
  try {
    if (written > 0) await fh.write(Buffer.alloc(written * MiB, 1), 0, written * MiB, 0);
    await fh.truncate(size * MiB);
  } finally {
    await fh.close();
  }
}

describe("volume group space", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("counts volumes at full size and keeps their unwritten part out of free", async () => {
    const dirs = new VolumeDirs(dir);
    const vgDir = path.join(dir, "volumes", "xenvg");
    await volume(vgDir, "a.disk0_data", 64, 2);
    await volume(vgDir, "a.disk0_meta", 128);
    const before = await statfs(dir);
    const space = await volumeGroupSpace(dirs, "xenvg");
    const after = await statfs(dir);
    expect(space.used).toBe(192);
    expect(space.size).toBe(space.used + space.free);
    // Free: the file system's available space less the 62 + 128 MiB the volumes may still claim
    // (the file system is shared with other work: bounded by the two readings around the call).
    const freeOf = (s: typeof before) => Math.floor((s.bavail * s.bsize - 190 * MiB) / MiB);
    expect(space.free).toBeGreaterThanOrEqual(Math.min(freeOf(before), freeOf(after)) - 1);
    expect(space.free).toBeLessThanOrEqual(Math.max(freeOf(before), freeOf(after)) + 1);
  });

  it("with a configured size: that size, less what the volumes take; a group without a directory is empty", async () => {
    const dirs = new VolumeDirs(dir);
    await volume(path.join(dir, "volumes", "xenvg"), "v1", 1000);
    expect(await volumeGroupSpace(dirs, "xenvg", 4096)).toEqual({ size: 4096, used: 1000, free: 3096 });
    expect(await volumeGroupSpace(dirs, "fresh", 4096)).toEqual({ size: 4096, used: 0, free: 4096 });
  });

  it("lists lvm-vg units (the known group and those present) and lvm-pv units (their directories)", async () => {
    const mapped = path.join(dir, "fast-disk");
    const dirs = new VolumeDirs(dir, async () => ({ fast: mapped }));
    await volume(path.join(dir, "volumes", "xenvg"), "v1", 100);
    await volume(mapped, "v2", 300);
    const fields = ["name", "size", "used", "free", "allocatable", "node", "type"];
    const opts = { dirs, fields, nodeName: "node1.example.com", known: ["cluster-vg"], sizeOverride: 1024 };
    expect(await listVolumeStorage({ ...opts, suName: "lvm-vg", name: null })).toEqual([
      ["cluster-vg", 1024, 0, 1024, true, "node1.example.com", "lvm-vg"],
      ["fast", 1024, 300, 724, true, "node1.example.com", "lvm-vg"],
      ["xenvg", 1024, 100, 924, true, "node1.example.com", "lvm-vg"],
    ]);
    expect(await listVolumeStorage({ ...opts, suName: "lvm-vg", name: "xenvg", fields: ["name", "used"] })).toEqual([["xenvg", 100]]);
    expect(await listVolumeStorage({ ...opts, suName: "lvm-pv", name: null, fields: ["name", "used"] })).toEqual([
      [path.join(dir, "volumes", "cluster-vg"), 0],
      [mapped, 300],
      [path.join(dir, "volumes", "xenvg"), 100],
    ]);
    await expect(listVolumeStorage({ ...opts, suName: "lvm-vg", name: null, fields: ["bogus"] })).rejects.toThrow("Unknown field: 'bogus'");
    await expect(listVolumeStorage({ ...opts, suName: "file", name: null })).rejects.toThrow("Unknown storage type: 'file'");
  });

  it("the node daemon reports them: node_info, storage_list, storage_execute", async () => {
    await writeFile(path.join(dir, "noded.json"), JSON.stringify({ storage_size: { "lvm-vg": 2048 } }));
    const backend = new NodeBackend({
      dataDir: dir,
      nodeName: "node1.example.com",
      overrides: { memoryTotal: 1024, memoryDom0: 0, cpuTotal: 1 },
    });
    await volume(path.join(dir, "volumes", "xenvg"), "a.disk0_data", 512);
    const info = (await backend.handle("node_info", {
      storage_units: [
        { type: "lvm-vg", name: "xenvg" },
        { type: "lvm-pv", name: "xenvg" },
      ],
      hypervisor: "fake",
      hvparams: {},
    })) as { storage: unknown[] };
    expect(info.storage).toEqual([
      { type: "lvm-vg", name: "xenvg", storage_size: 2048, storage_free: 1536 },
      { type: "lvm-pv", name: "xenvg", storage_size: 0, storage_free: 0 },
    ]);
    expect(
      await backend.handle("storage_list", {
        su_name: "lvm-vg",
        su_args: [["xenvg"]],
        name: null,
        fields: ["name", "size", "used", "free"],
      }),
    ).toEqual([["xenvg", 2048, 512, 1536]]);
    expect(await backend.handle("storage_execute", { su_name: "lvm-vg", name: "xenvg", op: "fix-consistency" })).toBeNull();
    await expect(backend.handle("storage_execute", { su_name: "lvm-pv", name: "xenvg", op: "fix-consistency" })).rejects.toThrow(
      /not supported/,
    );
  });
});

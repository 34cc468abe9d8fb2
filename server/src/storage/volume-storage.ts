// Storage reporting for volume groups kept as directories (volume-dir.ts):
// what Ganeti's lvm-vg and lvm-pv storage units report (node_info's
// storage_size/storage_free, storage_list rows), computed from the volumes'
// image files and the file system holding them.
//
// A volume group counts every volume at its full size, as LVM counts a
// logical volume, although the image files are sparse: `used` is the sum of
// the volumes' sizes, `free` what the file system can still give once every
// volume is fully written (its available space minus the parts of the
// volumes not yet written), and `size` = used + free, as vgs reports. Groups
// on one file system share its free space (each reports all of it).
import { promises as fs } from "node:fs";
import path from "node:path";
import { StorageError } from "./file-storage.js";
import type { VolumeDirs } from "./volume-dir.js";

const MiB = 1024 * 1024;

export interface VolumeGroupSpace {
  /** MiB, used + free. */
  size: number;
  /** MiB: the volumes at their full size. */
  used: number;
  /** MiB. */
  free: number;
}

/** Available bytes of the file system holding `dir` (or its nearest existing parent). */
async function availableBytes(dir: string): Promise<number> {
  let p = path.resolve(dir);
  for (;;) {
    try {
      const s = await fs.statfs(p);
      return s.bavail * s.bsize;
    } catch (err) {
      const parent = path.dirname(p);
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === p)
        throw new StorageError(`Cannot get file system space of '${dir}': ${(err as Error).message}`, { cause: err });
      p = parent;
    }
  }
}

/**
 * Space of volume group `vg` on this node. A group without a directory yet
 * is empty (its file system's space is free). With `sizeOverride` (node
 * setting storage_size["lvm-vg"], for deterministic tests) the group is that
 * many MiB and free is what its volumes leave.
 */
export async function volumeGroupSpace(dirs: VolumeDirs, vg: string, sizeOverride?: number): Promise<VolumeGroupSpace> {
  const volumes = await dirs.list(vg);
  let usedBytes = 0;
  let unwritten = 0;
  for (const v of volumes) {
    try {
      const st = await fs.stat(v.path);
      usedBytes += st.size;
      unwritten += Math.max(0, st.size - st.blocks * 512);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new StorageError(`${v.path}: can't stat: ${(err as Error).message}`);
    }
  }
  const used = Math.ceil(usedBytes / MiB);
  if (sizeOverride !== undefined) return { size: sizeOverride, used, free: Math.max(0, sizeOverride - used) };
  const free = Math.max(0, Math.floor(((await availableBytes(await dirs.dirOf(vg))) - unwritten) / MiB));
  return { size: used + free, used, free };
}

/** The storage types this module reports. */
export const VOLUME_STORAGE_TYPES = ["lvm-vg", "lvm-pv"] as const;

/**
 * storage_list rows for lvm-vg (one per volume group: the cluster's, given
 * in `known`, and every group this node has) and lvm-pv (Ganeti's physical
 * volumes: here the directory holding each group, with the group's space;
 * always allocatable). Fields: name, size, used, free, allocatable, node, type.
 */
export async function listVolumeStorage(opts: {
  dirs: VolumeDirs;
  suName: string;
  name: string | null;
  fields: string[];
  nodeName: string;
  /** Volume groups to list even before this node has a directory for them (the cluster's). */
  known?: string[];
  sizeOverride?: number;
}): Promise<unknown[][]> {
  if (!(VOLUME_STORAGE_TYPES as readonly string[]).includes(opts.suName)) throw new StorageError(`Unknown storage type: '${opts.suName}'`);
  const groups = [...new Set([...(opts.known ?? []), ...(await opts.dirs.groups())])].sort();
  const units: Array<{ name: string; vg: string }> = [];
  for (const vg of groups) units.push({ vg, name: opts.suName === "lvm-vg" ? vg : await opts.dirs.dirOf(vg) });
  const wanted = opts.name === null ? units : units.filter((u) => u.name === opts.name);
  const rows: unknown[][] = [];
  for (const u of wanted) {
    const needSpace = opts.fields.some((f) => f === "size" || f === "used" || f === "free");
    const space = needSpace ? await volumeGroupSpace(opts.dirs, u.vg, opts.sizeOverride) : null;
    rows.push(
      opts.fields.map((f) => {
        switch (f) {
          case "name":
            return u.name;
          case "size":
            return space!.size;
          case "used":
            return space!.used;
          case "free":
            return space!.free;
          case "allocatable":
            return true;
          case "node":
            return opts.nodeName;
          case "type":
            return opts.suName;
          default:
            throw new StorageError(`Unknown field: '${f}'`);
        }
      }),
    );
  }
  return rows;
}

/** The volumes of every group (or of `groups`): name, size in MiB. */
export async function listVolumes(dirs: VolumeDirs, groups?: string[]): Promise<Array<{ vg: string; name: string; size: number }>> {
  const out: Array<{ vg: string; name: string; size: number }> = [];
  for (const vg of groups ?? (await dirs.groups())) for (const v of await dirs.list(vg)) out.push({ vg, name: v.name, size: v.size });
  return out;
}

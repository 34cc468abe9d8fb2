// Where a volume group's volumes live on a node. Without LVM (no
// device-mapper in many containers and VMs), a "volume group" is a directory
// and a volume a raw sparse image file in it. The directory of volume group
// VG is <dataDir>/volumes/VG unless the node setting volume_group_map names
// another one, so two node daemons on one machine keep their volumes apart.
// Volume group and volume names are plain names (LVM's character set), never
// paths: every volume path is built here and stays inside its group's dir.
import { promises as fs } from "node:fs";
import path from "node:path";
import { BlockDeviceError } from "../lib/errors.js";

export const VOLUMES_DIR = "volumes";

const MiB = 1024 * 1024;

/** LVM's names: letters, digits and + _ . -, not starting with '-' or '.'. */
const NAME_RE = /^[A-Za-z0-9+_][A-Za-z0-9+_.-]{0,127}$/;

export function checkVolumeName(kind: "volume group" | "volume", name: unknown): string {
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw new BlockDeviceError(`Invalid ${kind} name ${JSON.stringify(name)}`);
  }
  return name;
}

/** A [vg, volume] logical_id (Ganeti's plain disks). */
export function volumeIdOf(logicalId: unknown[]): { vg: string; name: string } {
  if (logicalId.length !== 2) {
    throw new BlockDeviceError(`Invalid plain disk logical_id ${JSON.stringify(logicalId)}: expected [volume group, volume]`);
  }
  return { vg: checkVolumeName("volume group", logicalId[0]), name: checkVolumeName("volume", logicalId[1]) };
}

export interface VolumeInfo {
  vg: string;
  name: string;
  path: string;
  /** Apparent size, MiB. */
  size: number;
}

export class VolumeDirs {
  constructor(
    private readonly dataDir: string,
    /** Node setting volume_group_map: volume group → absolute directory. */
    private readonly mapOf: () => Promise<Readonly<Record<string, string>> | undefined> = async () => undefined,
  ) {}

  /** The directory holding volume group `vg`'s volumes. */
  async dirOf(vg: string): Promise<string> {
    checkVolumeName("volume group", vg);
    const mapped = (await this.mapOf())?.[vg];
    if (mapped !== undefined) {
      if (!path.isAbsolute(mapped) || mapped.includes("\0")) {
        throw new BlockDeviceError(`Volume group '${vg}': mapped directory '${mapped}' must be absolute`);
      }
      return path.normalize(mapped);
    }
    return path.join(this.dataDir, VOLUMES_DIR, vg);
  }

  /** The image file of volume `name` in `vg` (it may not exist). */
  async pathOf(vg: string, name: string): Promise<string> {
    return path.join(await this.dirOf(vg), checkVolumeName("volume", name));
  }

  /** The volume groups this node has: the mapped ones and the directories below <dataDir>/volumes. */
  async groups(): Promise<string[]> {
    const out = new Set(Object.keys((await this.mapOf()) ?? {}));
    try {
      for (const e of await fs.readdir(path.join(this.dataDir, VOLUMES_DIR), { withFileTypes: true })) {
        if (e.isDirectory() && NAME_RE.test(e.name)) out.add(e.name);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        throw new BlockDeviceError(`Cannot list volume groups: ${(err as Error).message}`);
    }
    return [...out].sort();
  }

  /** The volumes of `vg` (regular files with volume names), sorted by name. */
  async list(vg: string): Promise<VolumeInfo[]> {
    const dir = await this.dirOf(vg);
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new BlockDeviceError(`Cannot list volume group '${vg}' (${dir}): ${(err as Error).message}`, { cause: err });
    }
    const out: VolumeInfo[] = [];
    for (const e of entries) {
      if (!e.isFile() || !NAME_RE.test(e.name)) continue;
      const p = path.join(dir, e.name);
      try {
        const st = await fs.stat(p);
        out.push({ vg, name: e.name, path: p, size: Math.floor(st.size / MiB) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new BlockDeviceError(`${p}: can't stat: ${(err as Error).message}`);
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

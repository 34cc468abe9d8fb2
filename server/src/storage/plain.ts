// Plain volumes (Ganeti's LogicalVolume, template "plain"): logical_id is
// [volume group, volume]; without LVM a volume is a raw sparse image file in
// its group's directory (volume-dir.ts). Also the data and metadata children
// of drbd disks.
import { constants as fsc, promises as fs } from "node:fs";
import path from "node:path";
import type { RpcDisk } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../lib/errors.js";
import type { BlockDeviceDriver } from "./block-device.js";
import { volumeIdOf, type VolumeDirs } from "./volume-dir.js";

const MiB = 1024 * 1024;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export class PlainBlockDevice implements BlockDeviceDriver {
  constructor(private readonly dirs: VolumeDirs) {}

  /** The image path of a plain disk (it may not exist). */
  async pathOf(disk: Pick<RpcDisk, "logical_id">): Promise<string> {
    const { vg, name } = volumeIdOf(disk.logical_id);
    return this.dirs.pathOf(vg, name);
  }

  /** The image's stat; a symlink or anything but a regular file is refused (it could point outside the group). */
  private async statVolume(file: string): Promise<import("node:fs").Stats | null> {
    let st;
    try {
      st = await fs.lstat(file);
    } catch (err) {
      if (errno(err) === "ENOENT") return null;
      throw new BlockDeviceError(`${file}: can't stat: ${(err as Error).message}`, { cause: err });
    }
    if (!st.isFile()) throw new BlockDeviceError(`${file}: not a regular file`);
    return st;
  }

  private async existing(disk: RpcDisk): Promise<{ file: string; st: import("node:fs").Stats }> {
    const file = await this.pathOf(disk);
    const st = await this.statVolume(file);
    if (!st) throw new BlockDeviceError(`Volume ${volumeLabel(disk)} (${file}) does not exist`);
    return { file, st };
  }

  async create(disk: RpcDisk): Promise<string> {
    const file = await this.pathOf(disk);
    if (!Number.isInteger(disk.size) || disk.size < 0) throw new BlockDeviceError(`${volumeLabel(disk)}: invalid size ${disk.size}`);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
      const fh = await fs.open(file, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
      try {
        await fh.truncate(disk.size * MiB);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw new BlockDeviceError(`Can't create volume ${volumeLabel(disk)} (${file}): ${(err as Error).message}`, { cause: err });
    }
    return file;
  }

  async remove(disk: RpcDisk): Promise<void> {
    const file = await this.pathOf(disk);
    if (!(await this.statVolume(file))) return;
    try {
      await fs.unlink(file);
    } catch (err) {
      if (errno(err) === "ENOENT") return;
      throw new BlockDeviceError(`Can't remove volume ${volumeLabel(disk)} (${file}): ${(err as Error).message}`, { cause: err });
    }
  }

  async grow(disk: RpcDisk, amount: number, dryrun: boolean): Promise<void> {
    const { file, st } = await this.existing(disk);
    if (!Number.isInteger(amount) || amount < 0) throw new BlockDeviceError(`${volumeLabel(disk)}: can't grow by ${amount} MiB`);
    if (dryrun) return;
    try {
      await fs.truncate(file, st.size + amount * MiB);
    } catch (err) {
      throw new BlockDeviceError(`Can't grow volume ${volumeLabel(disk)}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Rename within the volume group (as lvrename: a volume never changes group). */
  async rename(disk: RpcDisk, newLogicalId: unknown[]): Promise<void> {
    const from = volumeIdOf(disk.logical_id);
    const to = volumeIdOf(newLogicalId);
    if (from.vg !== to.vg) throw new BlockDeviceError(`Can't move volume ${from.vg}/${from.name} to another volume group (${to.vg})`);
    if (from.name === to.name) return;
    const { file } = await this.existing(disk);
    const target = await this.dirs.pathOf(to.vg, to.name);
    // rename(2) would silently replace an existing volume: refuse instead.
    if (await this.statVolume(target))
      throw new BlockDeviceError(`Can't rename volume ${from.vg}/${from.name} to ${to.name}: target exists`);
    try {
      await fs.rename(file, target);
    } catch (err) {
      throw new BlockDeviceError(`Can't rename volume ${from.vg}/${from.name} to ${to.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  async getSize(disk: RpcDisk): Promise<number | null> {
    const st = await this.statVolume(await this.pathOf(disk));
    return st ? Math.floor(st.size / MiB) : null;
  }

  async assemble(disk: RpcDisk): Promise<string> {
    return (await this.existing(disk)).file;
  }

  async shutdown(disk: RpcDisk): Promise<void> {
    // Image files need no deactivation, but the disk must be well-formed.
    volumeIdOf(disk.logical_id);
  }
}

function volumeLabel(disk: Pick<RpcDisk, "logical_id">): string {
  return `${String(disk.logical_id[0])}/${String(disk.logical_id[1])}`;
}

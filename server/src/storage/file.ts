// File-backed disks (templates "file" and "sharedfile"), after Ganeti's
// filestorage.FileStorage: logical_id is [driver, absolute path]; the image is
// a sparse file created with O_EXCL and truncated to size MiB.
import { constants as fsc, promises as fs } from "node:fs";
import path from "node:path";
import type { RpcDisk } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../lib/errors.js";
import type { BlockDeviceDriver } from "./block-device.js";

const MiB = 1024 * 1024;

/** The image path from a [driver, path] logical_id; absolute and normalised only. */
function filePathOf(logicalId: unknown[]): string {
  if (logicalId.length !== 2 || typeof logicalId[0] !== "string" || typeof logicalId[1] !== "string") {
    throw new BlockDeviceError(`Invalid file disk logical_id ${JSON.stringify(logicalId)}: expected [driver, path]`);
  }
  return checkedPath(logicalId[1]);
}

export function checkedPath(p: string): string {
  if (!path.isAbsolute(p) || path.normalize(p) !== p || p.includes("\0")) {
    throw new BlockDeviceError(`File storage path '${p}' must be absolute and normalised`);
  }
  return p;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export class FileBlockDevice implements BlockDeviceDriver {
  async create(disk: RpcDisk): Promise<string> {
    const file = filePathOf(disk.logical_id);
    if (!Number.isInteger(disk.size) || disk.size < 0) throw new BlockDeviceError(`${file}: invalid size ${disk.size}`);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
      const fh = await fs.open(file, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      try {
        await fh.truncate(disk.size * MiB);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw new BlockDeviceError(`${file}: can't create: ${(err as Error).message}`, { cause: err });
    }
    return file;
  }

  async remove(disk: RpcDisk): Promise<void> {
    const file = filePathOf(disk.logical_id);
    try {
      await fs.unlink(file);
    } catch (err) {
      if (errno(err) === "ENOENT") return;
      throw new BlockDeviceError(`${file}: can't remove: ${(err as Error).message}`, { cause: err });
    }
  }

  private async statFile(file: string): Promise<import("node:fs").Stats> {
    let st;
    try {
      st = await fs.stat(file);
    } catch (err) {
      if (errno(err) === "ENOENT") throw new BlockDeviceError(`${file}: No such file`, { cause: err });
      throw new BlockDeviceError(`${file}: can't stat: ${(err as Error).message}`, { cause: err });
    }
    if (!st.isFile()) throw new BlockDeviceError(`${file}: not a regular file`);
    return st;
  }

  async grow(disk: RpcDisk, amount: number, dryrun: boolean): Promise<void> {
    const file = filePathOf(disk.logical_id);
    const st = await this.statFile(file);
    if (amount < 0) throw new BlockDeviceError(`${file}: can't grow by negative amount`);
    if (dryrun) return;
    try {
      await fs.truncate(file, st.size + amount * MiB);
    } catch (err) {
      throw new BlockDeviceError(`${file}: can't grow: ${(err as Error).message}`, { cause: err });
    }
  }

  async rename(disk: RpcDisk, newLogicalId: unknown[]): Promise<void> {
    const file = filePathOf(disk.logical_id);
    const target = filePathOf(newLogicalId);
    await this.statFile(file);
    // rename(2) would silently replace an existing image: refuse instead.
    if (await exists(target)) throw new BlockDeviceError(`${file}: can't rename to ${target}: target exists`);
    try {
      await fs.rename(file, target);
    } catch (err) {
      throw new BlockDeviceError(`${file}: can't rename to ${target}: ${(err as Error).message}`, { cause: err });
    }
  }

  async getSize(disk: RpcDisk): Promise<number | null> {
    const file = filePathOf(disk.logical_id);
    try {
      const st = await fs.stat(file);
      return Math.floor(st.size / MiB);
    } catch (err) {
      if (errno(err) === "ENOENT") return null;
      throw new BlockDeviceError(`${file}: can't stat: ${(err as Error).message}`, { cause: err });
    }
  }

  async assemble(disk: RpcDisk): Promise<string> {
    const file = filePathOf(disk.logical_id);
    await this.statFile(file);
    return file;
  }

  async shutdown(disk: RpcDisk): Promise<void> {
    // Files are not deactivated (Ganeti: no-op), but the disk must be well-formed.
    filePathOf(disk.logical_id);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if (errno(err) === "ENOENT") return false;
    throw new BlockDeviceError(`${p}: can't stat: ${(err as Error).message}`, { cause: err });
  }
}

// File storage directories (Ganeti's CreateFileStorageDir & co.), their space
// (statvfs) and the storage_list rows for OP_NODE_QUERY_STORAGE.
import { promises as fs } from "node:fs";
import path from "node:path";
import { GanetiError } from "../lib/errors.js";
import { checkedPath } from "./file.js";

const MiB = 1024 * 1024;

/** A storage unit operation failed (Ganeti's StorageError). */
export class StorageError extends GanetiError {
  override readonly errorClass = "StorageError";
  readonly code = "environment_error" as const;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function statOrNull(p: string): Promise<import("node:fs").Stats | null> {
  try {
    return await fs.stat(p);
  } catch (err) {
    if (errno(err) === "ENOENT") return null;
    throw new StorageError(`Cannot stat '${p}': ${(err as Error).message}`, { cause: err });
  }
}

export async function createFileStorageDir(dir: string): Promise<void> {
  checkedPath(dir);
  const st = await statOrNull(dir);
  if (st) {
    if (!st.isDirectory()) throw new StorageError(`Specified storage dir '${dir}' is not a directory`);
    return;
  }
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new StorageError(`Cannot create file storage directory '${dir}': ${(err as Error).message}`, { cause: err });
  }
}

/** Removes the directory only when empty; a missing directory is fine. */
export async function removeFileStorageDir(dir: string): Promise<void> {
  checkedPath(dir);
  const st = await statOrNull(dir);
  if (!st) return;
  if (!st.isDirectory()) throw new StorageError(`Specified Storage directory '${dir}' is not a directory`);
  try {
    await fs.rmdir(dir);
  } catch (err) {
    throw new StorageError(`Cannot remove file storage directory '${dir}': ${(err as Error).message}`, { cause: err });
  }
}

/** Idempotent: done when only the new path exists. */
export async function renameFileStorageDir(oldDir: string, newDir: string): Promise<void> {
  checkedPath(oldDir);
  checkedPath(newDir);
  const [oldSt, newSt] = [await statOrNull(oldDir), await statOrNull(newDir)];
  if (!newSt) {
    if (!oldSt?.isDirectory()) throw new StorageError(`Specified storage dir '${oldDir}' is not a directory`);
    try {
      await fs.mkdir(path.dirname(newDir), { recursive: true, mode: 0o750 });
      await fs.rename(oldDir, newDir);
    } catch (err) {
      throw new StorageError(`Cannot rename '${oldDir}' to '${newDir}': ${(err as Error).message}`, { cause: err });
    }
  } else if (oldSt) {
    throw new StorageError(`Cannot rename '${oldDir}' to '${newDir}': both locations exist`);
  }
}

/** Apparent size of all regular files below `dir`, MiB (Ganeti's CalculateDirectorySize). */
export async function directorySizeMiB(dir: string): Promise<number> {
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      if (errno(err) === "ENOENT") return;
      throw new StorageError(`Cannot list '${d}': ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) bytes += (await statOrNull(p))?.size ?? 0;
    }
  };
  await walk(dir);
  return Math.round(bytes / MiB);
}

/** Size and free space of the file system holding `dir` (or its nearest existing parent), MiB. */
async function fileSystemSpace(dir: string): Promise<{ size: number; free: number }> {
  let p = path.resolve(dir);
  for (;;) {
    try {
      const s = await fs.statfs(p);
      return { size: Math.floor((s.blocks * s.bsize) / MiB), free: Math.floor((s.bavail * s.bsize) / MiB) };
    } catch (err) {
      const parent = path.dirname(p);
      if (errno(err) !== "ENOENT" || parent === p) {
        throw new StorageError(`Cannot get file system space of '${dir}': ${(err as Error).message}`, { cause: err });
      }
      p = parent;
    }
  }
}

/**
 * Space of a file storage dir. With `sizeOverride` (node settings, for
 * deterministic tests) the unit is that many MiB and free is what the images
 * below it do not use.
 */
export async function fileStorageSpace(dir: string, sizeOverride?: number): Promise<{ size: number; free: number }> {
  if (sizeOverride !== undefined) {
    return { size: sizeOverride, free: Math.max(0, sizeOverride - (await directorySizeMiB(dir))) };
  }
  return fileSystemSpace(dir);
}

export const FILE_STORAGE_TYPES = ["file", "sharedfile"] as const;

/**
 * Rows for storage_list. Ganeti's file unit knows name, size (MiB used by the
 * directory) and free; we also answer used (= size), allocatable (true) and
 * node/type, which Ganeti's LU otherwise fills in itself.
 */
export async function listFileStorage(opts: {
  suName: string;
  suArgs: unknown[];
  name: string | null;
  fields: string[];
  nodeName: string;
  sizeOverride?: number;
  /** Where this node keeps a listed directory (node-local file storage). */
  localPath?: (p: string) => string;
}): Promise<unknown[][]> {
  if (!(FILE_STORAGE_TYPES as readonly string[]).includes(opts.suName)) {
    throw new StorageError(`Unknown storage type: '${opts.suName}'`);
  }
  let paths: string[];
  if (opts.name !== null) paths = [opts.name];
  else {
    const first = opts.suArgs[0];
    paths = Array.isArray(first) ? first.map(String) : opts.suArgs.map(String);
  }
  const rows: unknown[][] = [];
  for (const dir of paths) {
    checkedPath(dir);
    const local = opts.localPath ? opts.localPath(dir) : dir;
    const needSize = opts.fields.some((f) => f === "size" || f === "used" || f === "free");
    const used = needSize ? await directorySizeMiB(local) : 0;
    const space = opts.fields.includes("free") ? await fileStorageSpace(local, opts.sizeOverride) : null;
    rows.push(
      opts.fields.map((f) => {
        switch (f) {
          case "name":
            return dir;
          case "size":
          case "used":
            return used;
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

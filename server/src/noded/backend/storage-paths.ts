// Where this node lets the master put file storage (Ganeti's
// file-storage-paths): one absolute directory per line in
// <dataDir>/file-storage-paths, '#' comments. Every path a call touches for
// file storage must lie below one of them, after resolving '..' and
// symlinks, and outside the system directories Ganeti forbids. The file is
// the node's own: no call changes it, and it is re-read on every check so
// that an edit applies at once. Without the file the node allows its own
// <dataDir>/file-storage and <dataDir>/shared-file-storage (the directories
// `gnt cluster init` picks by default).
import { promises as fs } from "node:fs";
import path from "node:path";
import type { RpcDisk } from "@ganeti-ts/schema";
import { GanetiError } from "../../lib/errors.js";

export const FILE_STORAGE_PATHS_FILE = "file-storage-paths";

/** A path outside what this node allows (Ganeti's FileStoragePathError). */
export class FileStoragePathError extends GanetiError {
  override readonly errorClass = "FileStoragePathError";
  readonly code = "wrong_input" as const;
}

/** Ganeti's forbidden prefixes: system directories no file storage may use. */
const FORBIDDEN = (() => {
  const paths = new Set(["/boot", "/dev", "/etc", "/home", "/proc", "/root", "/sys"]);
  for (const prefix of ["", "/usr", "/usr/local"]) for (const s of ["bin", "lib", "lib32", "lib64", "sbin"]) paths.add(`${prefix}/${s}`);
  return [...paths];
})();

/** Strictly below `root` (Ganeti's IsBelowDir). */
export function isBelowDir(root: string, other: string): boolean {
  const r = root.endsWith("/") ? root : `${root}/`;
  return path.normalize(other).startsWith(r);
}

function usesForbiddenPrefix(p: string): boolean {
  return FORBIDDEN.some((f) => p === f || isBelowDir(f, p));
}

/** The real location of `p`: symlinks resolved for the part that exists, the rest appended. */
async function realLocation(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(cur), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * A cluster path as this node keeps it: below a mapped directory (node
 * setting file_storage_map), the same relative path below its local one.
 */
export function localFilePath(p: string, map: Readonly<Record<string, string>> | undefined): string {
  if (!map) return p;
  const norm = path.normalize(p);
  for (const [cluster, local] of Object.entries(map)) {
    const root = path.normalize(cluster);
    if (norm === root) return path.normalize(local);
    if (isBelowDir(root, norm)) return path.join(local, path.relative(root, norm));
  }
  return p;
}

/** The inverse of localFilePath, for paths the node reports (image listings). */
export function clusterFilePath(p: string, map: Readonly<Record<string, string>> | undefined): string {
  if (!map) return p;
  const norm = path.normalize(p);
  for (const [cluster, local] of Object.entries(map)) {
    const root = path.normalize(local);
    if (norm === root) return path.normalize(cluster);
    if (isBelowDir(root, norm)) return path.join(cluster, path.relative(root, norm));
  }
  return p;
}

export class StoragePaths {
  constructor(
    private readonly dataDir: string,
    private readonly fixed?: readonly string[],
    private readonly mapOf: () => Promise<Readonly<Record<string, string>> | undefined> = async () => undefined,
  ) {}

  /** Where this node keeps the (already checked) cluster path `p`. */
  async local(p: string): Promise<string> {
    return localFilePath(p, await this.mapOf());
  }

  /** The cluster path of a local one (listings). */
  async cluster(p: string): Promise<string> {
    return clusterFilePath(p, await this.mapOf());
  }

  /** A disk with its image path as this node keeps it (file-backed disks only). */
  async localDisk<D extends Pick<RpcDisk, "dev_type" | "logical_id">>(disk: D): Promise<D> {
    if (disk.dev_type !== "file" && disk.dev_type !== "sharedfile") return disk;
    const lid = disk.logical_id;
    if (lid.length !== 2 || typeof lid[1] !== "string") return disk;
    const p = await this.local(lid[1]);
    return p === lid[1] ? disk : { ...disk, logical_id: [lid[0], p] };
  }

  get file(): string {
    return path.join(this.dataDir, FILE_STORAGE_PATHS_FILE);
  }

  /** The allowed directories (absolute ones only, as Ganeti, which ignores relative entries). */
  async allowed(): Promise<string[]> {
    if (this.fixed) return this.fixed.filter((p) => path.isAbsolute(p)).map((p) => path.normalize(p));
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        throw new FileStoragePathError(`Cannot read ${this.file}: ${(err as Error).message}`);
      return [path.join(this.dataDir, "file-storage"), path.join(this.dataDir, "shared-file-storage")];
    }
    return text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#") && path.isAbsolute(l))
      .map((l) => path.normalize(l));
  }

  /**
   * Ganeti's CheckFileStoragePathAcceptance, plus symlinks: `p` must be
   * absolute, free of NUL, outside the forbidden system directories, and
   * (as written and as resolved) below an allowed directory, or equal to
   * one with `exactOk`. Returns the normalised path.
   */
  async check(p: string, opts: { exactOk?: boolean } = {}): Promise<string> {
    if (typeof p !== "string" || !path.isAbsolute(p) || p.includes("\0")) {
      throw new FileStoragePathError(`File storage path must be absolute, got '${String(p)}'`);
    }
    const allowed = await this.allowed();
    if (allowed.length === 0) throw new FileStoragePathError(`No paths are valid or path file '${this.file}' was not accessible.`);
    const norm = path.normalize(p);
    const real = await realLocation(norm);
    if (usesForbiddenPrefix(norm) || usesForbiddenPrefix(real)) throw new FileStoragePathError(`Path '${p}' uses a forbidden prefix`);
    const within = (candidate: string, roots: string[]) =>
      roots.some((root) => isBelowDir(root, candidate) || (opts.exactOk === true && root === candidate));
    const realRoots = await Promise.all(allowed.map((a) => realLocation(a)));
    if (!within(norm, allowed) || !within(real, realRoots)) {
      throw new FileStoragePathError(`Path '${p}' is not acceptable for file storage`);
    }
    return norm;
  }

  /** File-backed disks must live in allowed directories; other disk types carry no path. */
  async checkDisk(disk: Pick<RpcDisk, "dev_type" | "logical_id">, logicalId: unknown[] = disk.logical_id): Promise<void> {
    if (disk.dev_type !== "file" && disk.dev_type !== "sharedfile") return;
    await this.check(String(logicalId[1] ?? ""));
  }

  /** The error text for a path, or null when allowed (the master asks before changing the cluster's directories). */
  async problem(p: string): Promise<string | null> {
    try {
      await this.check(p, { exactOk: true });
      return null;
    } catch (err) {
      if (err instanceof FileStoragePathError) return err.message;
      throw err;
    }
  }
}

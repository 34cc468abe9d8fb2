// Durable files (the master's store, node-side runtime state): write-temp,
// fsync, rename, fsync-dir, so a kill -9 leaves the old or the new content,
// never a torn one.
import { promises as fs, type Dirent } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

/** Prefix of the temp files writeFileAtomic leaves behind when killed mid-write. */
const TEMP_PREFIX = ".tmp-";

export interface AtomicWriteOptions {
  /** Create the directory first (default true); false when the caller knows it exists. */
  mkdir?: boolean;
  /**
   * fsync the directory after the rename (default true). A caller writing
   * many files into one directory may pass false and sync it once after the
   * last: until then a crash may leave a file's old content, never a torn one.
   */
  syncDir?: boolean;
}

export async function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  if (opts.mkdir !== false) await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${TEMP_PREFIX}${path.basename(file)}-${randomBytes(6).toString("hex")}`);
  const fh = await fs.open(tmp, "w", 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (opts.syncDir !== false) await syncDir(dir);
}

export async function removeFileDurable(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  await syncDir(path.dirname(file));
  return true;
}

export async function readFileOrNull(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Remove the temp files of writes a kill interrupted (in `dir` and below).
 * Only the writer of a directory may call this, at its start: a live writer's
 * temp file would go too. Returns the paths removed.
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const removed: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) removed.push(...(await removeStaleTempFiles(p)));
    else if (e.name.startsWith(TEMP_PREFIX)) {
      await fs.rm(p, { force: true });
      removed.push(p);
    }
  }
  if (removed.some((p) => path.dirname(p) === dir)) await syncDir(dir);
  return removed;
}

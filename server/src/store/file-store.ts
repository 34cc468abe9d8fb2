// One directory on disk. Writes go to a temp file, are fsynced, renamed over
// the target and the directory is fsynced: a kill -9 at any moment leaves
// either the old or the new value, never a torn one.
import { promises as fs } from "node:fs";
import path from "node:path";
import { removeStaleTempFiles, syncDir, TEMP_PREFIX, writeFileAtomic } from "../lib/atomic-file.js";
import { checkKey, type Store } from "./store.js";

export class FileStore implements Store {
  private readonly knownDirs = new Set<string>();

  constructor(readonly root: string) {}

  private file(key: string): string {
    checkKey(key);
    return path.join(this.root, ...key.split("/"));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    this.knownDirs.add(dir);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  async put(key: string, value: Buffer | string): Promise<void> {
    const target = this.file(key);
    await this.ensureDir(path.dirname(target));
    await writeFileAtomic(target, value);
  }

  async delete(key: string): Promise<void> {
    const target = this.file(key);
    await fs.rm(target, { force: true });
    await syncDir(path.dirname(target)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the directory the prefix points into.
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : "";
    const dir = dirKey ? path.join(this.root, ...dirKey.split("/")) : this.root;
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const keys = names
      .filter((n) => !n.startsWith(TEMP_PREFIX))
      .map((n) => (dirKey ? `${dirKey}/${n}` : n))
      .filter((k) => k.startsWith(prefix));
    return keys.sort();
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.file(from);
    const dst = this.file(to);
    await this.ensureDir(path.dirname(dst));
    await fs.rename(src, dst);
    await syncDir(path.dirname(dst));
    if (path.dirname(dst) !== path.dirname(src)) await syncDir(path.dirname(src));
  }

  /**
   * Delete the temp files of writes that a kill interrupted (their targets
   * still hold the old value). Call once at start, before any write.
   */
  async removeInterruptedWrites(): Promise<string[]> {
    return removeStaleTempFiles(this.root);
  }

  async close(): Promise<void> {}
}

// One directory on disk, the embedded default store.
//
// put/delete/rename work on one file each: write-temp, fsync, rename,
// fsync-dir, so a kill -9 at any moment leaves the old or the new value,
// never a torn one.
//
// commit() (several keys at once, e.g. the config objects one job changed)
// appends one checksummed record to a journal segment and fdatasyncs it: a
// write proportional to the change, atomic because a record is applied whole
// or (torn by a crash, so never acknowledged) not at all. Committed values
// are served from memory until a checkpoint writes them into their files
// (atomically, as above) and removes the segment; replay on open applies
// what was not checkpointed. A key written through the journal keeps going
// through it until checkpointed, so files and journal never disagree on
// which write is the newest.
import { createHash } from "node:crypto";
import { promises as fs, type Dirent } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { removeStaleTempFiles, syncDir, writeFileAtomic } from "../lib/atomic-file.js";
import { checkKey, noSuchKey, scanByGets, type Store, type StoreOp } from "./store.js";

const JOURNAL = ".journal-";
/** Segment size that triggers a checkpoint (bytes). */
const DEFAULT_JOURNAL_LIMIT = 8 * 1024 * 1024;
/** Files written in parallel by a checkpoint. */
const CHECKPOINT_PARALLEL = 32;

interface Segment {
  seq: number;
  keys: Set<string>;
  /** Open for appends while this is the active segment; null once frozen. */
  fh: FileHandle | null;
  size: number;
}

interface FileStoreOptions {
  /** Checkpoint once the active journal segment grows past this many bytes. */
  journalLimit?: number;
}

function digest(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

export class FileStore implements Store {
  private readonly knownDirs = new Set<string>();
  private opened: Promise<void> | null = null;
  /** Journal-committed values not yet in their files (null: deleted). */
  private readonly overlay = new Map<string, { value: Buffer | null; seq: number }>();
  /** Oldest first; at most the last one is open for appends. */
  private readonly segments: Segment[] = [];
  private nextSeq = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private checkpointing: Promise<void> | null = null;
  private checkpointError: unknown = null;
  private readonly journalLimit: number;

  constructor(
    readonly root: string,
    opts: FileStoreOptions = {},
  ) {
    this.journalLimit = opts.journalLimit ?? DEFAULT_JOURNAL_LIMIT;
  }

  private file(key: string): string {
    checkKey(key);
    return path.join(this.root, ...key.split("/"));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    this.knownDirs.add(dir);
  }

  private open(): Promise<void> {
    this.opened ??= this.replay();
    return this.opened;
  }

  /** Load the journal segments left by the previous run (oldest first). */
  private async replay(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    const seqs = names
      .filter((n) => n.startsWith(JOURNAL) && /^\d+$/.test(n.slice(JOURNAL.length)))
      .map((n) => Number(n.slice(JOURNAL.length)))
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      let text: string;
      try {
        text = await fs.readFile(path.join(this.root, `${JOURNAL}${seq}`), "utf8");
      } catch (err) {
        // Checkpointed by a running master since the listing: its values are in the files now.
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw err;
      }
      const seg: Segment = { seq, keys: new Set(), fh: null, size: text.length };
      const lines = text.split("\n");
      lines.pop(); // after the last newline: empty, or a record torn by a crash (never acknowledged)
      for (const line of lines) {
        const sp = line.indexOf(" ");
        const body = line.slice(sp + 1);
        if (sp !== 40 || digest(body) !== line.slice(0, sp)) break; // torn: nothing after it was acknowledged
        const ops = JSON.parse(body) as Array<[string, string | null]>;
        for (const [key, value] of ops) {
          this.overlay.set(key, { value: value === null ? null : Buffer.from(value, "base64"), seq });
          seg.keys.add(key);
        }
      }
      this.segments.push(seg);
      this.nextSeq = seq + 1;
    }
  }

  /** Run `fn` after every journal append queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async get(key: string): Promise<Buffer | null> {
    const file = this.file(key);
    await this.open();
    const o = this.overlay.get(key);
    if (o) return o.value ? Buffer.from(o.value) : null;
    try {
      return await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  async put(key: string, value: Buffer | string): Promise<void> {
    const target = this.file(key);
    await this.open();
    if (this.overlay.has(key)) return this.commit([{ op: "put", key, value }]);
    await this.ensureDir(path.dirname(target));
    await writeFileAtomic(target, value);
  }

  async delete(key: string): Promise<void> {
    const target = this.file(key);
    await this.open();
    if (this.overlay.has(key)) return this.commit([{ op: "delete", key }]);
    await fs.rm(target, { force: true });
    await syncDir(path.dirname(target)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  async list(prefix: string): Promise<string[]> {
    await this.open();
    // Walk only the directory the prefix points into (and folders below it that match).
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : "";
    const keys = new Set<string>();
    const walk = async (key: string, all: boolean): Promise<void> => {
      let ents: Dirent[];
      try {
        ents = await fs.readdir(key ? path.join(this.root, ...key.split("/")) : this.root, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return;
        throw err;
      }
      for (const e of ents) {
        if (e.name.startsWith(".")) continue; // temp files, the journal
        const k = key ? `${key}/${e.name}` : e.name;
        if (!all && !k.startsWith(prefix)) continue;
        if (e.isDirectory()) await walk(k, true);
        else keys.add(k);
      }
    };
    await walk(dirKey, false);
    for (const [k, o] of this.overlay) {
      if (!k.startsWith(prefix)) continue;
      if (o.value) keys.add(k);
      else keys.delete(k);
    }
    return [...keys].sort();
  }

  scan(prefix: string): Promise<Array<[string, Buffer]>> {
    return scanByGets(this, prefix);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.file(from);
    const dst = this.file(to);
    await this.open();
    if (this.overlay.has(from) || this.overlay.has(to)) {
      const value = await this.get(from);
      if (!value) throw noSuchKey(from);
      return this.commit([
        { op: "put", key: to, value },
        { op: "delete", key: from },
      ]);
    }
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

  async commit(ops: StoreOp[]): Promise<void> {
    for (const o of ops) checkKey(o.key);
    if (ops.length === 0) return;
    await this.open();
    if (this.checkpointError) {
      const err = this.checkpointError;
      this.checkpointError = null;
      throw err;
    }
    const values = ops.map((o) => (o.op === "put" ? Buffer.from(o.value) : null));
    const body = JSON.stringify(ops.map((o, i) => [o.key, values[i]?.toString("base64") ?? null]));
    const line = `${digest(body)} ${body}\n`;
    await this.serial(async () => {
      const seg = await this.activeSegment();
      const bytes = Buffer.from(line);
      await seg.fh!.write(bytes);
      await seg.fh!.datasync();
      seg.size += bytes.length;
      ops.forEach((o, i) => {
        this.overlay.set(o.key, { value: values[i]!, seq: seg.seq });
        seg.keys.add(o.key);
      });
      if (seg.size >= this.journalLimit) this.startCheckpoint();
    });
  }

  private async activeSegment(): Promise<Segment> {
    const last = this.segments[this.segments.length - 1];
    if (last?.fh) return last;
    await this.ensureDir(this.root);
    const seq = this.nextSeq++;
    const fh = await fs.open(path.join(this.root, `${JOURNAL}${seq}`), "a", 0o600);
    await syncDir(this.root); // the segment itself must survive a crash
    const seg: Segment = { seq, keys: new Set(), fh, size: 0 };
    this.segments.push(seg);
    return seg;
  }

  private startCheckpoint(): void {
    if (this.checkpointing) return;
    this.checkpoint().catch((err: unknown) => {
      this.checkpointError = err;
    });
  }

  /** Move everything journaled so far into files (one checkpoint at a time). */
  async checkpoint(): Promise<void> {
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    const run = this.runCheckpoint().finally(() => {
      this.checkpointing = null;
    });
    this.checkpointing = run;
    await run;
  }

  /**
   * Write every journaled key into its file, then drop the segments. Appends
   * go on meanwhile into a new segment; a key changed again there is written
   * with its newest value, which the newer segment would replay anyway.
   */
  private async runCheckpoint(): Promise<void> {
    await this.open();
    const frozen = await this.serial(async () => {
      const active = this.segments[this.segments.length - 1];
      if (active?.fh) {
        await active.fh.close();
        active.fh = null;
      }
      return [...this.segments];
    });
    if (frozen.length === 0) return;
    const keys = [...new Set(frozen.flatMap((s) => [...s.keys]))];
    const dirsToSync = new Set<string>();
    for (let i = 0; i < keys.length; i += CHECKPOINT_PARALLEL) {
      await Promise.all(
        keys.slice(i, i + CHECKPOINT_PARALLEL).map(async (key) => {
          const o = this.overlay.get(key);
          if (!o) return;
          const file = this.file(key);
          if (o.value) {
            await this.ensureDir(path.dirname(file));
            await writeFileAtomic(file, o.value);
          } else {
            await fs.rm(file, { force: true });
            dirsToSync.add(path.dirname(file));
          }
        }),
      );
    }
    for (const d of dirsToSync) await syncDir(d).catch(() => undefined);
    const maxSeq = frozen[frozen.length - 1]!.seq;
    for (const s of frozen) await fs.rm(path.join(this.root, `${JOURNAL}${s.seq}`), { force: true });
    await syncDir(this.root);
    this.segments.splice(0, frozen.length);
    for (const key of keys) {
      const o = this.overlay.get(key);
      if (o && o.seq <= maxSeq) this.overlay.delete(key);
    }
  }

  async close(): Promise<void> {
    await this.chain;
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    const active = this.segments[this.segments.length - 1];
    if (active?.fh) {
      await active.fh.close();
      active.fh = null;
    }
  }
}

// One directory on disk, the embedded default store.
//
// Every write (put, delete, rename, commit) appends one checksummed record
// to a journal segment and fdatasyncs it before it is acknowledged; writes
// that arrive while one is being synced are appended and synced together
// (group commit). A record is applied whole or, torn by a crash (so never
// acknowledged), not at all: a write costs what it changes, atomically.
// Journaled values are served from memory until a checkpoint writes them
// into one file per key (write-temp, fsync, rename, fsync-dir, so a kill -9
// leaves the old or the new file) and removes the segment; replay on open
// applies what was not checkpointed. Files are the state of the last
// checkpoint plus the journal: read the store through this class.
import { createHash } from "node:crypto";
import { promises as fs, type Dirent } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { removeStaleTempFiles, syncDir, writeFileAtomic } from "../lib/atomic-file.js";
import { checkKey, noSuchKey, scanByGets, type Store, type StoreOp } from "./store.js";

const JOURNAL = ".journal-";
/** Segment size that triggers a checkpoint (bytes). */
const DEFAULT_JOURNAL_LIMIT = 8 * 1024 * 1024;
/**
 * Files written in parallel by a checkpoint. Few: each write is several
 * calls on libuv's four threads (open, write, fsync, close, rename), and
 * the journal appends that acknowledge jobs queue behind them (32 in
 * parallel made jobs 2-4× slower while a checkpoint of 10,000 files ran).
 */
const CHECKPOINT_PARALLEL = 2;

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
  private pending: Array<{ line: Buffer; apply: Array<[string, Buffer | null]>; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;
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
    return this.commit([{ op: "put", key, value }]);
  }

  async delete(key: string): Promise<void> {
    return this.commit([{ op: "delete", key }]);
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
    checkKey(from);
    checkKey(to);
    const value = await this.get(from);
    if (!value) throw noSuchKey(from);
    return this.commit([
      { op: "put", key: to, value },
      { op: "delete", key: from },
    ]);
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
    const line = Buffer.from(`${digest(body)} ${body}\n`);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, apply: ops.map((o, i) => [o.key, values[i]!] as [string, Buffer | null]), resolve, reject });
      this.flushing ??= this.flushJournal();
    });
  }

  /** Append and sync every pending record, in batches (group commit). */
  private async flushJournal(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.serial(async () => {
            const seg = await this.activeSegment();
            const bytes = Buffer.concat(batch.map((r) => r.line));
            await seg.fh!.write(bytes);
            await seg.fh!.datasync();
            seg.size += bytes.length;
            for (const r of batch) {
              for (const [key, value] of r.apply) {
                this.overlay.set(key, { value, seq: seg.seq });
                seg.keys.add(key);
              }
            }
            if (seg.size >= this.journalLimit) this.startCheckpoint();
          });
          for (const r of batch) r.resolve();
        } catch (err) {
          for (const r of batch) r.reject(err);
        }
      }
    } finally {
      this.flushing = null;
    }
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
            // Each directory is synced once below, before the journal that still holds these values goes.
            await writeFileAtomic(file, o.value, { mkdir: false, syncDir: false });
          } else {
            await fs.rm(file, { force: true });
          }
          dirsToSync.add(path.dirname(file));
        }),
      );
    }
    // Deepest first, and every folder up to the root: a folder created by this checkpoint is an entry in its parent.
    for (const d of [...dirsToSync])
      for (let p = path.dirname(d); p.startsWith(this.root) && p !== this.root; p = path.dirname(p)) dirsToSync.add(p);
    dirsToSync.add(this.root);
    for (const d of [...dirsToSync].sort((a, b) => b.length - a.length)) {
      await syncDir(d).catch((err: unknown) => {
        // A folder that never held anything but deleted keys may not exist.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      });
    }
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
    while (this.flushing) await this.flushing;
    await this.chain;
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    const active = this.segments[this.segments.length - 1];
    if (active?.fh) {
      await active.fh.close();
      active.fh = null;
    }
  }
}

// Durable key/value storage for the master: the config objects, the job
// queue's files and serial. A write is acknowledged only once durable.
// Implementations: FileStore (one directory, the embedded default),
// MemoryStore (tests), EtcdStore (replicated, for master failover).

export type StoreOp = { op: "put"; key: string; value: Buffer | string } | { op: "delete"; key: string };

export interface Store {
  get(key: string): Promise<Buffer | null>;
  /** Atomic and durable: after it resolves, a crash keeps the new value whole. */
  put(key: string, value: Buffer | string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (nested ones too), sorted. */
  list(prefix: string): Promise<string[]>;
  /** The keys `list(prefix)` gives with their values, in one go. */
  scan(prefix: string): Promise<Array<[string, Buffer]>>;
  /** Atomically move a key (e.g. a job file into the archive). */
  rename(from: string, to: string): Promise<void>;
  /**
   * Apply several puts and deletes as one: after a crash either all of them
   * are there or none; durable once it resolves. Costs what the ops write,
   * not what the store holds.
   */
  commit(ops: StoreOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Keys are relative paths of '/'-separated segments of [A-Za-z0-9._-]. */
export function checkKey(key: string): void {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split("/").some((s) => s === "." || s === "..")) {
    throw new Error(`invalid store key: ${JSON.stringify(key)}`);
  }
}

/** Error for a key that is not there (rename's source), with the errno code callers test. */
export function noSuchKey(key: string): Error {
  return Object.assign(new Error(`no such key: ${key}`), { code: "ENOENT" });
}

/** scan() from list() and get(), for stores without a cheaper way. */
export async function scanByGets(store: Pick<Store, "list" | "get">, prefix: string, parallel = 64): Promise<Array<[string, Buffer]>> {
  const keys = await store.list(prefix);
  const out: Array<[string, Buffer]> = [];
  for (let i = 0; i < keys.length; i += parallel) {
    const chunk = keys.slice(i, i + parallel);
    const values = await Promise.all(chunk.map((k) => store.get(k)));
    chunk.forEach((k, j) => {
      const v = values[j];
      if (v) out.push([k, v]);
    });
  }
  return out;
}

// Durable key/value storage for the master: the config document, the job
// queue's files and serial. A write is acknowledged only once durable.
// Behind this interface a replicated store can replace the file store.

export interface Store {
  get(key: string): Promise<Buffer | null>;
  /** Atomic and durable: after it resolves, a crash keeps the new value whole. */
  put(key: string, value: Buffer | string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Atomically move a key (e.g. a job file into the archive). */
  rename(from: string, to: string): Promise<void>;
  close(): Promise<void>;
}

/** Keys are relative paths of '/'-separated segments of [A-Za-z0-9._-]. */
export function checkKey(key: string): void {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split("/").some((s) => s === "." || s === "..")) {
    throw new Error(`invalid store key: ${JSON.stringify(key)}`);
  }
}

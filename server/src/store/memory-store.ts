// In-memory store for unit tests and the LU harness.
import { checkKey, noSuchKey, scanByGets, type Store, type StoreOp } from "./store.js";

export class MemoryStore implements Store {
  private readonly data = new Map<string, Buffer>();

  async get(key: string): Promise<Buffer | null> {
    checkKey(key);
    const v = this.data.get(key);
    return v ? Buffer.from(v) : null;
  }
  async put(key: string, value: Buffer | string): Promise<void> {
    checkKey(key);
    this.data.set(key, Buffer.from(value));
  }
  async delete(key: string): Promise<void> {
    checkKey(key);
    this.data.delete(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  scan(prefix: string): Promise<Array<[string, Buffer]>> {
    return scanByGets(this, prefix);
  }
  async rename(from: string, to: string): Promise<void> {
    checkKey(from);
    checkKey(to);
    const v = this.data.get(from);
    if (!v) throw noSuchKey(from);
    this.data.set(to, v);
    this.data.delete(from);
  }
  async commit(ops: StoreOp[]): Promise<void> {
    for (const o of ops) checkKey(o.key);
    for (const o of ops) {
      if (o.op === "put") this.data.set(o.key, Buffer.from(o.value));
      else this.data.delete(o.key);
    }
  }
  async close(): Promise<void> {}
}

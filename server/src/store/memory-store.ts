// In-memory store for unit tests and the LU harness.
import { checkKey, type Store } from "./store.js";

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
  async rename(from: string, to: string): Promise<void> {
    const v = this.data.get(from);
    if (!v) throw Object.assign(new Error(`no such key: ${from}`), { code: "ENOENT" });
    this.data.set(to, v);
    this.data.delete(from);
  }
  async close(): Promise<void> {}
}

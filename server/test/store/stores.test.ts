import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileStore } from "../../src/store/file-store.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { storeConformance } from "./conformance.js";

storeConformance("MemoryStore", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
storeConformance("FileStore", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  const opened: FileStore[] = [new FileStore(dir)];
  return {
    store: opened[0]!,
    reopen: async () => {
      const s = new FileStore(dir);
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
storeConformance("FileStore (checkpoint after every commit)", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  const store = new FileStore(dir, { journalLimit: 1 });
  return {
    store,
    reopen: async () => {
      await store.checkpoint();
      return new FileStore(dir);
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("FileStore", () => {
  it("leaves no temp files behind: a checkpoint turns the journal into one file per key", () =>
    withDir(async (dir) => {
      const s = new FileStore(dir);
      for (let i = 0; i < 5; i++) await s.put("config.data", `v${i}`);
      expect(await readdir(dir)).toEqual([".journal-1"]);
      await s.checkpoint();
      expect(await readdir(dir)).toEqual(["config.data"]);
      expect(await readFile(path.join(dir, "config.data"), "utf8")).toBe("v4");
      await s.close();
    }));

  it("keeps concurrent writes, readable after a reopen", () =>
    withDir(async (dir) => {
      const s = new FileStore(dir);
      await s.put("first", "x");
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(`queue/job-${i}`, String(i))));
      expect((await s.list("queue/")).length).toBe(20);
      const again = new FileStore(dir);
      expect((await again.get("queue/job-19"))!.toString()).toBe("19");
      await s.close();
    }));

  it("writes a commit as one journal record, not the files", () =>
    withDir(async (dir) => {
      const s = new FileStore(dir);
      await s.commit([
        { op: "put", key: "config/instances/u1", value: "one" },
        { op: "put", key: "config/meta", value: "m" },
      ]);
      expect((await readdir(dir)).sort()).toEqual([".journal-1"]);
      const journal = await readFile(path.join(dir, ".journal-1"), "utf8");
      expect(journal.split("\n")).toHaveLength(2);
      await s.checkpoint();
      expect((await readdir(dir)).sort()).toEqual(["config"]);
      expect(await readFile(path.join(dir, "config", "instances", "u1"), "utf8")).toBe("one");
      await s.close();
    }));

  it("ignores a record torn by a crash, and what the new run appends after it counts", () =>
    withDir(async (dir) => {
      const s = new FileStore(dir);
      await s.commit([{ op: "put", key: "k", value: "acknowledged" }]);
      await s.close();
      // a crash half-way through the next append
      await appendFile(path.join(dir, ".journal-1"), '0123456789012345678901234567890123456789 [["k","dG9');
      const s2 = new FileStore(dir);
      expect((await s2.get("k"))!.toString()).toBe("acknowledged");
      await s2.commit([{ op: "put", key: "k2", value: "after restart" }]);
      await s2.close();
      const s3 = new FileStore(dir);
      expect((await s3.get("k"))!.toString()).toBe("acknowledged");
      expect((await s3.get("k2"))!.toString()).toBe("after restart");
      await s3.checkpoint();
      expect((await readdir(dir)).sort()).toEqual(["k", "k2"]);
    }));

  it("stops at a record whose checksum does not match", () =>
    withDir(async (dir) => {
      const s = new FileStore(dir);
      await s.commit([{ op: "put", key: "a", value: "1" }]);
      await s.commit([{ op: "put", key: "a", value: "2" }]);
      await s.close();
      const file = path.join(dir, ".journal-1");
      const lines = (await readFile(file, "utf8")).split("\n");
      lines[1] = lines[1]!.replace("Mg==", "Mw==");
      await writeFile(file, lines.join("\n"));
      expect((await new FileStore(dir).get("a"))!.toString()).toBe("1");
    }));

  it("replays a journal over older files and checkpoints while commits go on", () =>
    withDir(async (dir) => {
      const s = new FileStore(dir, { journalLimit: 200 });
      await Promise.all(Array.from({ length: 40 }, (_, i) => s.commit([{ op: "put", key: `c/${i % 7}`, value: String(i) }])));
      await s.commit([{ op: "delete", key: "c/3" }]);
      const fresh = new FileStore(dir);
      expect(await fresh.list("c/")).toEqual(["c/0", "c/1", "c/2", "c/4", "c/5", "c/6"]);
      expect(await s.list("c/")).toEqual(await fresh.list("c/"));
      for (const k of await s.list("c/")) expect((await fresh.get(k))!.toString()).toBe((await s.get(k))!.toString());
      await s.close();
    }));
});

it("FileStore removes the temp files of writes a kill interrupted, and only those", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  try {
    const s = new FileStore(dir);
    await s.put("config.data", "v1");
    await s.put("queue/job-1", "{}");
    // Writes go through the journal: a checkpoint puts them into their files.
    await s.checkpoint();
    await s.close();
    await writeFile(path.join(dir, ".tmp-config.data-0a1b2c"), "half");
    await writeFile(path.join(dir, "queue", ".tmp-job-2-3d4e5f"), "half");
    const removed = await new FileStore(dir).removeInterruptedWrites();
    expect(removed.map((p) => path.relative(dir, p)).sort()).toEqual([".tmp-config.data-0a1b2c", path.join("queue", ".tmp-job-2-3d4e5f")]);
    expect(await readdir(dir)).toEqual(["config.data", "queue"]);
    expect(await readdir(path.join(dir, "queue"))).toEqual(["job-1"]);
    expect((await new FileStore(dir).get("config.data"))!.toString()).toBe("v1");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { FileStore } from "../../src/store/file-store.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { storeConformance } from "./conformance.js";

storeConformance("MemoryStore", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
storeConformance("FileStore", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  return { store: new FileStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

it("FileStore leaves no temp files behind", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  try {
    const s = new FileStore(dir);
    for (let i = 0; i < 5; i++) await s.put("config.data", `v${i}`);
    expect(await readdir(dir)).toEqual(["config.data"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("FileStore removes the temp files of writes a kill interrupted, and only those", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-store-"));
  try {
    const s = new FileStore(dir);
    await s.put("config.data", "v1");
    await s.put("queue/job-1", "{}");
    await writeFile(path.join(dir, ".tmp-config.data-0a1b2c"), "half");
    await writeFile(path.join(dir, "queue", ".tmp-job-2-3d4e5f"), "half");
    const removed = await new FileStore(dir).removeInterruptedWrites();
    expect(removed.map((p) => path.relative(dir, p)).sort()).toEqual([".tmp-config.data-0a1b2c", path.join("queue", ".tmp-job-2-3d4e5f")]);
    expect(await readdir(dir)).toEqual(["config.data", "queue"]);
    expect(await readdir(path.join(dir, "queue"))).toEqual(["job-1"]);
    expect((await s.get("config.data"))!.toString()).toBe("v1");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

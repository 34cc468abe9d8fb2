import { mkdtemp, readdir, rm } from "node:fs/promises";
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

// A node's noded.json written at cluster init / node add (its network
// namespace, its file storage map) keeps what the file already held: the
// resources an operator or a test prepared before the node joined.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeNodeSettings } from "../../src/master/init.js";

let dir: string | null = null;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

const read = async (d: string): Promise<unknown> => JSON.parse(await readFile(path.join(d, "noded.json"), "utf8"));

describe("writeNodeSettings", () => {
  it("writes the settings into a directory without a noded.json", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gts-node-settings-"));
    await writeNodeSettings(dir, { netns: "gts-a" });
    expect(await read(dir)).toEqual({ netns: "gts-a" });
  });

  it("keeps the settings a prepared noded.json holds, the new ones win", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gts-node-settings-"));
    await writeFile(path.join(dir, "noded.json"), JSON.stringify({ memory_total: 8192, storage_size: { "lvm-vg": 20480 }, netns: "old" }));
    await writeNodeSettings(dir, { netns: "gts-b", file_storage_map: { "/srv/ganeti": "/tmp/x" } });
    expect(await read(dir)).toEqual({
      memory_total: 8192,
      storage_size: { "lvm-vg": 20480 },
      netns: "gts-b",
      file_storage_map: { "/srv/ganeti": "/tmp/x" },
    });
  });

  it("refuses a prepared noded.json that is not valid settings", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gts-node-settings-"));
    await writeFile(path.join(dir, "noded.json"), JSON.stringify({ memory_total: "lots" }));
    await expect(writeNodeSettings(dir, { netns: "gts-c" })).rejects.toThrow();
  });
});

// New clusters require RAPI authentication for every request (issue 15
// item 3); --allow-anonymous-reads restores Ganeti's anonymous reads.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeClusterFiles, type InitOptions } from "../../src/master/init.js";
import { dataPaths } from "../../src/master/paths.js";
import { MasterSettingsSchema } from "../../src/master/settings.js";

let dir: string | null = null;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

async function init(extra: Partial<InitOptions> = {}) {
  dir = await mkdtemp(path.join(tmpdir(), "gts-init-"));
  const o: InitOptions = {
    dataDir: path.join(dir, "data"),
    clusterName: "c.example.com",
    nodeName: "n1.example.com",
    nodeAddress: "127.0.0.1",
    nodePort: 0,
    rapiAddress: "127.0.0.1",
    rapiPort: 0,
    ...extra,
  };
  await writeClusterFiles(o);
  return MasterSettingsSchema.parse(JSON.parse(await readFile(dataPaths(o.dataDir).masterSettings, "utf8")));
}

describe("gnt cluster init: RAPI access of a new cluster", () => {
  it("requires authentication by default, with bounded bodies and receive times", async () => {
    const s = await init();
    expect(s.rapi.requireAuthentication).toBe(true);
    expect(s.rapi.maxBodyBytes).toBe(1024 * 1024);
    expect(s.rapi.headersTimeoutMs).toBe(10_000);
    expect(s.rapi.requestTimeoutMs).toBe(30_000);
  });

  it("serves anonymous reads only when asked", async () => {
    expect((await init({ allowAnonymousReads: true })).rapi.requireAuthentication).toBe(false);
  });

  it("settings written before this option keep Ganeti's default", () => {
    expect(MasterSettingsSchema.parse({ rapi: {} }).rapi.requireAuthentication).toBe(false);
  });
});

// The node's run-time directory outside its data directory (by default
// /run/ganeti-ts, here a temporary one): each node daemon keeps its disks'
// export sockets in a directory of its own there, made with the first
// replicated disk and removed with the last one, and the run directory goes
// when no node daemon of the machine keeps anything there any more. Real
// storage daemons on two node backends that share the run directory.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeExportDir, replicationExportDir } from "../../src/storage/replication/engine.js";
import { tempDir } from "../noded/fixtures.js";
import { createDrbdPair, killDaemons, newDrbdPair, twoNodes, type TestNode } from "./replication-fixture.js";

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

describe("the run directory of replicated disks", () => {
  let env: Awaited<ReturnType<typeof twoNodes>>;
  let a: TestNode;
  let b: TestNode;
  let runDir: string;
  let rmRun: () => Promise<void>;
  beforeEach(async () => {
    const t = await tempDir("gts-run-");
    rmRun = t.cleanup;
    runDir = path.join(t.dir, "ganeti-ts");
    env = await twoNodes({ runDir });
    ({ a, b } = env);
  });
  afterEach(async () => {
    await env.cleanup();
    await rmRun();
  });

  it("is made with the first replicated disk and removed, once empty, with the last one", async () => {
    const exportA = replicationExportDir(a.dataDir, runDir);
    const exportB = replicationExportDir(b.dataDir, runDir);
    const one = await newDrbdPair(a, b, 8);
    const two = await newDrbdPair(a, b, 8);
    await createDrbdPair(one, "i1");
    await createDrbdPair(two, "i2");
    for (const dir of [exportA, exportB]) expect((await fs.stat(dir)).mode & 0o777).toBe(0o711);
    expect((await fs.readdir(exportA)).sort()).toEqual([one.uuid, two.uuid].sort());

    // One disk left: its socket keeps the directories.
    await a.backend.handle("blockdev_remove", { disk: one.onA });
    await b.backend.handle("blockdev_remove", { disk: one.onB });
    expect(await fs.readdir(exportA)).toEqual([two.uuid]);

    // a's last disk: a's export directory goes; b's still holds the run directory.
    await a.backend.handle("blockdev_remove", { disk: two.onA });
    expect(await exists(exportA)).toBe(false);
    expect(await fs.readdir(runDir)).toEqual([path.basename(exportB)]);
    // Shut down (not removed) counts too: nothing of b is left under the run directory.
    await b.backend.handle("blockdev_shutdown", { disk: two.onB });
    expect(await exists(runDir)).toBe(false);

    // The next replicated disk makes them again.
    await b.backend.handle("blockdev_remove", { disk: two.onB });
    const three = await newDrbdPair(a, b, 8);
    await createDrbdPair(three, "i3");
    expect(await fs.readdir(exportA)).toEqual([three.uuid]);
    await a.backend.handle("blockdev_remove", { disk: three.onA });
    await b.backend.handle("blockdev_remove", { disk: three.onB });
    expect(await exists(runDir)).toBe(false);
  }, 300_000);

  it("a node leaving its cluster removes an empty export directory and run directory left behind", async () => {
    const exportA = replicationExportDir(a.dataDir, runDir);
    await fs.mkdir(exportA, { recursive: true, mode: 0o711 });
    await a.backend.handle("node_leave_cluster", { modify_ssh_setup: false });
    expect(await exists(runDir)).toBe(false);
  });

  it("removing a node's data (cluster destroy) removes its export directory, and the run directory once no other node's is left", async () => {
    const one = await newDrbdPair(a, b, 8);
    await createDrbdPair(one, "i1");
    // The daemons are stopped first (the node daemons are); their sockets stay behind.
    await killDaemons(a.dataDir);
    await killDaemons(b.dataDir);
    await removeExportDir(a.dataDir, runDir);
    expect(await fs.readdir(runDir)).toEqual([path.basename(replicationExportDir(b.dataDir, runDir))]);
    await removeExportDir(b.dataDir, runDir);
    expect(await exists(runDir)).toBe(false);
  }, 300_000);
});

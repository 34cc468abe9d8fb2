// The watcher's pass on the LU harness: instances that should run are
// restarted through jobs, with Ganeti's restart limit and messages; a pause
// stops it; the instance status file lists every instance's status.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Watcher, MAXTRIES, readWatcherPause, setWatcherPause, watcherPaths } from "../../src/master/watcher.js";
import { testCluster, type TestCluster } from "../harness/cluster.js";
import { createOp, runOp, runningOn } from "../cmdlib/instance/helpers.js";

let c: TestCluster;
let dataDir: string;
let now = 1_800_000_000;
const watcher = () => new Watcher({ config: c.config, queue: c.queue, rpc: c.rpc, dataDir, clock: () => now });

beforeEach(async () => {
  c = await testCluster({ nodes: 1 });
  dataDir = path.join(c.root, "master");
  await fs.mkdir(dataDir, { recursive: true });
});
afterEach(async () => {
  await c.cleanup();
});

const killed = (name: string) => fs.rm(path.join(c.backendOf("node1.example.com").dataDir, "hypervisors", "fake", `${name}.json`));

describe("watcher", () => {
  it("restarts an instance whose process died, then forgets the attempt", async () => {
    await runOp(c, createOp("web1"));
    await killed("web1");
    const w = watcher();
    const first = await w.runOnce();
    expect(first).toContain("INFO: Restarting instance 'web1' (attempt #1)");
    expect(await runningOn(c, "node1.example.com")).toEqual(["web1"]);
    const state = JSON.parse(await fs.readFile(watcherPaths(dataDir).state, "utf8"));
    expect(state.instance.web1.restart_count).toBe(1);
    expect(await fs.readFile(watcherPaths(dataDir).instanceStatus, "utf8")).toBe("web1 ERROR_down\n");
    const second = await w.runOnce();
    expect(second).toContain("INFO: Restart of instance 'web1' succeeded");
    expect(await fs.readFile(watcherPaths(dataDir).instanceStatus, "utf8")).toBe("web1 running\n");
    // The watcher's jobs carry its reason trail.
    const ids = c.queue.listJobIds();
    const startups = [];
    for (const id of ids) {
      const job = await c.queue.getJob(id);
      if (job?.ops[0]?.input["OP_ID"] === "OP_INSTANCE_STARTUP") startups.push(job);
    }
    expect(startups).toHaveLength(1);
    expect((startups[0]!.ops[0]!.input["reason"] as unknown[][])[0]!.slice(0, 2)).toEqual(["gnt:watcher", "Restarting instance web1"]);
  });

  it(`gives up after ${MAXTRIES} failed restarts, and retries once the attempts expire`, async () => {
    // Admin state up, but too big to start on its 8 GiB node.
    await runOp(c, createOp("big1", { start: false, beparams: { minmem: 9000, maxmem: 9000 } }));
    await c.config.mutate((d) => {
      Object.values(d.instances).find((i) => i.name === "big1")!.admin_state = "up";
    });
    const w = watcher();
    const logs: string[][] = [];
    for (let i = 0; i < MAXTRIES + 2; i++) logs.push(await w.runOnce());
    for (let i = 0; i < MAXTRIES; i++) expect(logs[i]).toContain(`INFO: Restarting instance 'big1' (attempt #${i + 1})`);
    expect(logs[MAXTRIES]).toContain(`ERROR: Could not restart instance 'big1' after ${MAXTRIES} attempts, giving up`);
    expect(logs[MAXTRIES + 1]).toContain("WARNING: Not restarting instance 'big1', retries exhausted");
    now += 8 * 3600 + 1;
    expect(await w.runOnce()).toContain("INFO: Restarting instance 'big1' (attempt #1)");
  }, 60_000);

  it("does nothing while paused; continue resumes it", async () => {
    await runOp(c, createOp("web1"));
    await killed("web1");
    await setWatcherPause(dataDir, now + 3600);
    expect(await readWatcherPause(dataDir, now)).toBe(now + 3600);
    const w = watcher();
    const lines = await w.runOnce();
    expect(lines.some((l) => l.startsWith("INFO: Pause has been set, exiting"))).toBe(true);
    expect(await runningOn(c, "node1.example.com")).toEqual([]);
    await setWatcherPause(dataDir, null);
    expect(await readWatcherPause(dataDir, now)).toBeNull();
    await w.runOnce();
    expect(await runningOn(c, "node1.example.com")).toEqual(["web1"]);
  });
});

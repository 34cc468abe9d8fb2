// verify-disks through Ganeti's own Python RAPI client (python3-ganeti-rapi)
// where Ganeti's RAPI offers it: verify_disks_client.py breaks a file disk
// behind the master's back and checks the shapes of activate-disks,
// instance info, group info and the verify-disks job results.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("./verify_disks_client.py", import.meta.url));
let c: LocalCluster;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 1 });
}, 240_000);
afterAll(async () => {
  await c?.destroy();
}, 120_000);

describe("verify-disks through Ganeti's Python RAPI client", () => {
  it("activate-disks, instance and group info, verify-disks results have Ganeti's shapes", async () => {
    const r = await run("/usr/bin/python3", [SCRIPT, c.host, String(c.port), c.user, c.password, c.nodes[0]!], { timeout: 300_000 });
    const checks = r.stdout
      .split("\n")
      .filter((l) => l)
      .map((l) => JSON.parse(l) as { check: string; ok: boolean; detail: unknown });
    expect(checks.map((x) => x.check)).toHaveLength(9);
    expect(checks.filter((x) => !x.ok)).toEqual([]);
  }, 300_000);
});

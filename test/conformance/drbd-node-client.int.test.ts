// Node-level operations on replicated (drbd) instances through Ganeti's own
// Python RAPI client (ganeti.rapi.client of Ganeti 3.0.2, /usr/bin/python3):
// drbd_node_client.py evacuates a node (secondaries to a given node and
// through hail, primaries through hail, mode "all" refused), migrates a
// node, splits the instances across groups (refused without force) and
// converts an instance to drbd with hail choosing the secondary, on a
// three-node local cluster with the fake hypervisor whose replication engine
// keeps real replicas. One vitest test per group of checks.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killDaemons } from "../../server/test/storage/replication-fixture.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("./drbd_node_client.py", import.meta.url));
const GROUPS = [
  "setup",
  "evacuate-secondary-remote",
  "evacuate-secondary-hail",
  "evacuate-primary-hail",
  "node-migrate",
  "group-assign",
  "convert-iallocator",
  "cleanup",
];

interface Check {
  group: string;
  check: string;
  ok: boolean;
  detail?: unknown;
}

describe("node evacuate, node migrate, group assign and conversion of drbd instances through Ganeti's Python RAPI client", () => {
  let c: LocalCluster | undefined;
  let checks: Check[] = [];
  let stderr = "";
  const nodeDir = (node: string) => {
    const i = c!.nodes.indexOf(node);
    return i === 0 ? c!.dataDir : path.join(path.dirname(c!.dataDir), `node${i + 1}`);
  };

  beforeAll(async () => {
    c = await startLocalCluster({ nodes: 3, secondaryIps: true, diskTemplates: ["drbd", "plain", "diskless", "file"] });
    const res = await run(
      "/usr/bin/python3",
      [SCRIPT, "--host", c.host, "--port", String(c.port), "--user", c.user, "--password", c.password],
      { maxBuffer: 64 << 20, timeout: 1_500_000 },
    ).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? "", stderr: `${err.stderr ?? ""}\n${String(err)}` }));
    stderr = res.stderr;
    checks = res.stdout
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map((l) => JSON.parse(l) as Check);
  }, 1_600_000);

  afterAll(async () => {
    if (c) {
      for (const n of c.nodes) await killDaemons(nodeDir(n));
      await c.destroy();
    }
  }, 120_000);

  for (const group of GROUPS) {
    it(group, () => {
      const mine = checks.filter((x) => x.group === group);
      expect(mine.length, `group ${group} produced no checks; stderr:\n${stderr.slice(-3000)}`).toBeGreaterThan(1);
      const failed = mine.filter((x) => !x.ok).map((x) => `${x.check}: ${JSON.stringify(x.detail ?? null)}`);
      expect(failed).toEqual([]);
    });
  }
});

// Replicated (drbd) instances through Ganeti's own Python RAPI client
// (ganeti.rapi.client of Ganeti 3.0.2, /usr/bin/python3): drbd_client.py
// creates them (pnode:snode and with hail), migrates, fails over and
// replaces disks on a three-node local cluster with the fake hypervisor;
// the replication engine keeps real replicas, whose volumes this driver then
// finds on both nodes. One vitest test per group of checks.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killDaemons } from "../../server/test/storage/replication-fixture.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("./drbd_client.py", import.meta.url));
const GROUPS = ["create", "iallocator", "migrate", "failover", "replace-disks", "replace-disks-on-secondary", "replace-disks-on-primary"];

interface Check {
  group: string;
  check: string;
  ok: boolean;
  detail?: unknown;
}

describe("drbd instances through Ganeti's Python RAPI client, three nodes", () => {
  let c: LocalCluster | undefined;
  let checks: Check[] = [];
  let kept: { keep: string; pnode: string | null; snode: string | null; volume: string | null } | undefined;
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
    const lines = res.stdout
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    checks = lines.filter((l) => "check" in l) as unknown as Check[];
    kept = lines.find((l) => "keep" in l) as typeof kept;
  }, 1_600_000);

  afterAll(async () => {
    if (c) {
      for (let i = 0; i < c.nodes.length; i++) await killDaemons(nodeDir(c.nodes[i]!));
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

  it("the instance the client created with hail has its replica's volumes on both nodes, same size, and a storage daemon's state", async () => {
    expect(kept?.pnode).toBeTruthy();
    expect(kept?.snode).toBeTruthy();
    const vgDir = (node: string) => path.join(nodeDir(node), "volumes", "xenvg");
    expect(kept?.volume).toMatch(/_data$/);
    const onP = (await fs.readdir(vgDir(kept!.pnode!))).filter((f) => f === kept!.volume);
    const onS = (await fs.readdir(vgDir(kept!.snode!))).filter((f) => f === kept!.volume);
    expect(onP).toHaveLength(1);
    expect(onS).toEqual(onP);
    const size = async (node: string) => (await fs.stat(path.join(vgDir(node), onP[0]!))).size;
    expect(await size(kept!.pnode!)).toBe(1024 * 1024 * 1024);
    expect(await size(kept!.snode!)).toBe(1024 * 1024 * 1024);
    for (const node of [kept!.pnode!, kept!.snode!]) {
      const daemons = await fs.readdir(path.join(nodeDir(node), "replication"));
      expect(daemons.filter((d) => d !== "tls").length).toBeGreaterThanOrEqual(1);
    }
  });
});

// Replicated (drbd) instances through Ganeti's own Python RAPI client
// (ganeti.rapi.client of Ganeti 3.0.2, /usr/bin/python3): drbd_client.py
// creates them (pnode:snode and with hail), migrates, fails over and
// replaces disks on a three-node local cluster with the fake hypervisor;
// the replication engine keeps real replicas, whose volumes this driver then
// finds on both nodes. One vitest test per group of checks.
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { destroyDrbdCluster, groupTests, runDrbdClient, type ClientRun } from "./drbd-client-run.js";

const SCRIPT = fileURLToPath(new URL("./drbd_client.py", import.meta.url));
const GROUPS = ["create", "iallocator", "migrate", "failover", "replace-disks", "replace-disks-on-secondary", "replace-disks-on-primary"];

describe("drbd instances through Ganeti's Python RAPI client, three nodes", () => {
  let r: ClientRun | undefined;
  let kept: { keep: string; pnode: string | null; snode: string | null; volume: string | null } | undefined;
  const nodeDir = (node: string) => r!.cluster.nodeDir(node);

  beforeAll(async () => {
    r = await runDrbdClient(SCRIPT);
    kept = r.others.find((l) => "keep" in l) as typeof kept;
  }, 1_600_000);
  afterAll(() => destroyDrbdCluster(r?.cluster), 120_000);

  groupTests(GROUPS, () => r);

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

// Changing the master candidates of a cluster whose candidates run the etcd
// members keeps the etcd membership right: `gnt node modify
// --master-candidate no` takes the node's member out (and stops its standby
// master daemon), `yes` brings it back as a new member (real etcd, three
// candidates on 127.0.0.x).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { loadMasterSettings } from "@ganeti-ts/server/master/settings";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { isAlive } from "@ganeti-ts/server/master/launcher";
import { EtcdStore } from "@ganeti-ts/server/store/etcd-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

let c: LocalCluster;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 3, diskTemplates: ["diskless"], initArgs: ["--store", "etcd", "--master-lease-ttl", "5"] });
}, 600_000);

afterAll(async () => {
  await c?.destroy();
}, 180_000);

async function members(): Promise<string[]> {
  const settings = await loadMasterSettings(dataPaths(c.dataDir).masterSettings);
  const store = new EtcdStore(settings.store.endpoints);
  try {
    return (await store.client.cluster.memberList({})).members.map((m) => m.name).sort();
  } finally {
    await store.close();
  }
}

async function masterDaemonAlive(nodeDir: string): Promise<boolean> {
  try {
    const rt = JSON.parse(await readFile(path.join(nodeDir, "master.runtime.json"), "utf8")) as { pid: number };
    return isAlive(rt.pid);
  } catch {
    return false;
  }
}

it("takes a demoted candidate's etcd member out and brings a promoted one back", async () => {
  const node3 = c.nodes[2]!;
  const node3Dir = path.join(path.dirname(c.dataDir), "node3");
  const before = await members();
  expect(before).toHaveLength(3);
  expect(await masterDaemonAlive(node3Dir)).toBe(true);

  const env = { GANETI_DATA_DIR: c.dataDir };
  const off = await c.gnt(["node", "modify", node3, "--master-candidate", "no"], { env });
  expect(off.stdout).toMatch(/Removed the etcd member of/);
  const after = await members();
  expect(after).toHaveLength(2);
  expect(after).not.toContain(node3.replace(/[^A-Za-z0-9-]/g, "-"));
  expect(await masterDaemonAlive(node3Dir)).toBe(false);
  // Still a working cluster on two members.
  expect((await c.gnt(["node", "role", node3], { env })).stdout.trim()).toBe("regular");

  const on = await c.gnt(["node", "modify", node3, "--master-candidate", "yes"], { env });
  expect(on.stdout).toMatch(/Started the etcd member and the standby master daemon of/);
  expect(await members()).toEqual(before);
  expect(await masterDaemonAlive(node3Dir)).toBe(true);
}, 600_000);

// Changing the master candidates of a cluster whose candidates run the etcd
// members keeps the etcd membership right, whichever way the change comes:
// the active master reconciles etcd's members with the candidates of its
// config. `gnt node modify --master-candidate no` takes the node's member
// out (and stops its standby master daemon), `yes` brings it back as a new
// member; the same through the RAPI (node modify, node role, cluster modify
// candidate_pool_size) and a node removal through a job, with Ganeti's
// promotion of another node to candidate (real etcd, three candidates on
// 127.0.0.x).
import { readFile } from "node:fs/promises";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import path from "node:path";
import { loadMasterSettings } from "@ganeti-ts/server/master/settings";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { isAlive } from "@ganeti-ts/server/master/launcher";
import { EtcdStore } from "@ganeti-ts/server/store/etcd-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { masterUrl, rapiClient, waitFinal, type Rapi } from "./helpers.js";

let c: LocalCluster;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 3, diskTemplates: ["diskless"], initArgs: ["--store", "etcd", "--master-lease-ttl", "5"] });
}, 600_000);

afterAll(async () => {
  await c?.destroy();
}, 180_000);

/** Names of etcd's started members (a member being added has no name yet). */
async function members(): Promise<string[]> {
  const settings = await loadMasterSettings(dataPaths(c.dataDir).masterSettings);
  const store = new EtcdStore(settings.store.endpoints);
  try {
    return (await store.client.cluster.memberList({})).members.map((m) => m.name).sort();
  } finally {
    await store.close();
  }
}

/** Wait until the node's standby master daemon runs (it starts after the node's etcd member), or not. */
async function masterDaemonBecomes(nodeDir: string, alive: boolean): Promise<void> {
  for (let i = 0; i < 240 && (await masterDaemonAlive(nodeDir)) !== alive; i++) await new Promise((r) => setTimeout(r, 500));
  expect(await masterDaemonAlive(nodeDir)).toBe(alive);
}

const member = (node: string) => node.replace(/[^A-Za-z0-9-]/g, "-");

/** Wait until etcd's members are those of `nodes` (the master reconciles after the job). */
async function membersBecome(nodes: string[]): Promise<void> {
  const want = nodes.map(member).sort();
  let last: string[] = [];
  for (let i = 0; i < 240; i++) {
    last = await members().catch(() => last);
    if (JSON.stringify(last) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(last).toEqual(want);
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

it("follows candidate changes made through the RAPI and a node removal through a job", async () => {
  const [node1, node2, node3] = c.nodes as [string, string, string];
  const node2Dir = path.join(path.dirname(c.dataDir), "node2");
  const node3Dir = path.join(path.dirname(c.dataDir), "node3");
  const rapi: Rapi = await rapiClient(c, await masterUrl(c.dataDir));
  const job = async (method: string, p: string, body: unknown): Promise<void> => {
    const r = await rapi.call<number>(method, p, body);
    expect(r.status).toBe(200);
    expect([...(await waitFinal(rapi, [r.body])).values()]).toEqual(["success"]);
  };
  await membersBecome([node1, node2, node3]);

  // Demote (node modify), promote (node role) through the RAPI.
  await job("POST", `/2/nodes/${node3}/modify`, { master_candidate: false });
  await membersBecome([node1, node2]);
  await masterDaemonBecomes(node3Dir, false);
  await job("PUT", `/2/nodes/${node3}/role`, "master-candidate");
  await membersBecome([node1, node2, node3]);
  await masterDaemonBecomes(node3Dir, true);

  // A pool of two, node3 a regular node again; removing candidate node2 promotes node3 (Ganeti's pool adjustment).
  await job("PUT", "/2/modify", { candidate_pool_size: 2 });
  await job("PUT", `/2/nodes/${node3}/role`, "regular");
  await membersBecome([node1, node2]);
  const sock = dataPaths(c.dataDir).controlSocket;
  const id = (await controlCall(sock, "SubmitJob", [[{ OP_ID: "OP_NODE_REMOVE", node_name: node2 }]])) as number;
  expect([...(await waitFinal(rapi, [id])).values()]).toEqual(["success"]);
  await membersBecome([node1, node3]);
  await masterDaemonBecomes(node2Dir, false);
  await masterDaemonBecomes(node3Dir, true);
  const roles = await rapi.call<string>("GET", `/2/nodes/${node3}/role`);
  expect(roles.body).toBe("master-candidate");

  // The cluster keeps working on its two members: a change through the RAPI, the config verifies.
  await job("PUT", "/2/tags?tag=after-candidate-changes", {});
  expect((await c.gnt(["cluster", "verify"], { env: { GANETI_DATA_DIR: c.dataDir } })).stdout).not.toMatch(/ERROR/);
}, 600_000);

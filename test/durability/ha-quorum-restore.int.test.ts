// docs/operations.md, "If a majority is lost for good": the etcd members of
// all three candidates are lost (killed, their data gone); the operator
// restores the last `etcdctl snapshot save` into a new one-member cluster on
// one candidate, restarts its node daemon (which starts the member) and
// starts its master daemon. The cluster comes back with
// the state of the snapshot (later changes are lost), and the active master
// brings the other candidates back into the etcd cluster with fresh members
// by itself (real etcd on 127.0.0.x, three candidates).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { isAlive, launchDaemon, stopDaemon } from "@ganeti-ts/server/master/launcher";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { loadMasterSettings } from "@ganeti-ts/server/master/settings";
import { peerUrl, waitEtcdHealthy, type EtcdMemberSpec } from "@ganeti-ts/server/store/etcd-member";
import { EtcdStore } from "@ganeti-ts/server/store/etcd-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { rapiClient, waitFinal, type Rapi } from "./helpers.js";
import { poller } from "../../server/test/harness/poll.js";

const run = promisify(execFile);
let c: LocalCluster;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 3, diskTemplates: ["diskless"], initArgs: ["--store", "etcd", "--master-lease-ttl", "5"] });
}, 600_000);

afterAll(async () => {
  await c?.destroy();
}, 180_000);

interface EtcdRuntime {
  pid: number;
  url: string;
  spec: EtcdMemberSpec;
  token: string;
}

const etcdRuntime = async (dir: string) => JSON.parse(await readFile(path.join(dir, "etcd.runtime.json"), "utf8")) as EtcdRuntime;

const until = poller({ timeoutMs: 180_000, intervalMs: 500 });

it("restores a cluster whose etcd majority is lost for good from a snapshot", async () => {
  const dirs = [c.dataDir, path.join(path.dirname(c.dataDir), "node2"), path.join(path.dirname(c.dataDir), "node3")];
  const rapi: Rapi = await rapiClient(c, c.url);
  const tag = async (t: string) => {
    const r = await rapi.call<number>("PUT", `/2/tags?tag=${t}`, {});
    expect(r.status).toBe(200);
    expect([...(await waitFinal(rapi, [r.body])).values()]).toEqual(["success"]);
  };
  await tag("before-snapshot");
  const first = await etcdRuntime(c.dataDir);
  const snapshot = path.join(path.dirname(c.dataDir), "etcd-snapshot.db");
  await run("etcdctl", [`--endpoints=${first.url}`, "snapshot", "save", snapshot], { env: { ...process.env, ETCDCTL_API: "3" } });
  await tag("after-snapshot");

  // The disaster: every member gone with its data. The operator stops the master daemons first.
  for (const d of dirs) await stopDaemon(d, "master");
  for (const d of dirs) {
    const rt = await etcdRuntime(d);
    if (isAlive(rt.pid)) process.kill(rt.pid, "SIGKILL");
    await until(`etcd ${rt.pid} gone`, async () => (isAlive(rt.pid) ? null : true));
    await rm(path.join(d, "etcd"), { recursive: true, force: true });
  }

  // The documented recovery: restore into a new one-member cluster on node1 (same name and URLs), start it, start its master daemon.
  const { spec } = first;
  const token = `restored-${randomBytes(4).toString("hex")}`;
  await run(
    "etcdctl",
    [
      "snapshot",
      "restore",
      snapshot,
      `--name=${spec.name}`,
      `--initial-cluster=${spec.name}=${peerUrl(spec)}`,
      `--initial-cluster-token=${token}`,
      `--initial-advertise-peer-urls=${peerUrl(spec)}`,
      `--data-dir=${path.join(c.dataDir, "etcd")}`,
    ],
    { env: { ...process.env, ETCDCTL_API: "3" } },
  );
  // Restarting the node daemon starts the member (etcd.runtime.json names it), now on the restored data.
  await stopDaemon(c.dataDir, "node");
  await launchDaemon("node", c.dataDir);
  const restarted = await until("node1's etcd member", async () => {
    const rt = await etcdRuntime(c.dataDir);
    return rt.pid !== first.pid && isAlive(rt.pid) ? rt : null;
  });
  await waitEtcdHealthy(restarted.url, 120_000);
  await launchDaemon("master", c.dataDir);

  // The RAPI answers with the snapshot's state: the change made after it is lost.
  const tags = await until("RAPI of the restored cluster", async () => {
    const r = await rapi.call<string[]>("GET", "/2/tags");
    return r.status === 200 ? r.body : null;
  });
  expect(tags).toContain("before-snapshot");
  expect(tags).not.toContain("after-snapshot");

  // The active master brings the other candidates back with fresh members and standby masters.
  const settings = await loadMasterSettings(dataPaths(c.dataDir).masterSettings);
  const names = c.nodes.map((n) => n.replace(/[^A-Za-z0-9-]/g, "-")).sort();
  await until("three etcd members", async () => {
    const store = new EtcdStore(settings.store.endpoints);
    try {
      const m = (await store.client.cluster.memberList({})).members.map((x) => x.name).sort();
      return JSON.stringify(m) === JSON.stringify(names) ? m : null;
    } finally {
      await store.close();
    }
  });
  for (const d of dirs.slice(1)) {
    await until(`standby master of ${d}`, async () => {
      const rt = JSON.parse(await readFile(path.join(d, "master.runtime.json"), "utf8")) as { pid: number };
      return isAlive(rt.pid) ? true : null;
    });
  }
  await tag("after-restore");
  const after = (await rapi.call<string[]>("GET", "/2/tags")).body;
  expect(after).toEqual(expect.arrayContaining(["before-snapshot", "after-restore"]));
  expect((await c.gnt(["cluster", "verify"], { env: { GANETI_DATA_DIR: c.dataDir } })).stdout).not.toMatch(/ERROR/);
}, 600_000);

it("starts a candidate's etcd member again with its node daemon", async () => {
  const dir = path.join(path.dirname(c.dataDir), "node2");
  const before = await etcdRuntime(dir);
  process.kill(before.pid, "SIGKILL");
  await until("etcd killed", async () => (isAlive(before.pid) ? null : true));
  await stopDaemon(dir, "node");
  await launchDaemon("node", dir);
  const after = await until("etcd member started again", async () => {
    const rt = await etcdRuntime(dir);
    return rt.pid !== before.pid && isAlive(rt.pid) ? rt : null;
  });
  expect(after.url).toBe(before.url);
  await waitEtcdHealthy(after.url, 120_000);
}, 300_000);

// Restarting daemons over damage a kill leaves behind: a torn job file and
// temp files of interrupted writes do not keep the master down (they are
// skipped or removed, and the log says which); a damaged or missing config
// is named in the error, without suggesting a new cluster; ports chosen with
// port 0 are saved, so restarted daemons bind them again.
import { cp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isAlive, launchDaemon } from "@ganeti-ts/server/master/launcher";
import { FileStore } from "@ganeti-ts/server/store/file-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { createBody, rapiClient, waitFinal, type Rapi } from "./helpers.js";

let c: LocalCluster;
let rapi: Rapi;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 1 });
  rapi = await rapiClient(c, c.url);
}, 180_000);

afterAll(async () => {
  await c?.destroy();
}, 120_000);

async function killDaemon(kind: "master" | "node"): Promise<void> {
  const rt = JSON.parse(await readFile(path.join(c.dataDir, `${kind}.runtime.json`), "utf8")) as { pid: number };
  process.kill(rt.pid, "SIGKILL");
  while (isAlive(rt.pid)) await new Promise((r) => setTimeout(r, 20));
}

it("restarts over a torn job file, stale temp files, and keeps the ports chosen at init", async () => {
  const node = c.nodes[0]!;
  const state = path.join(c.dataDir, "master-state");
  const first = (await rapi.call<number>("POST", "/2/instances", createBody("r1.example.com", node))).body;
  expect((await waitFinal(rapi, [first])).get(first)).toBe("success");
  const nodeRt = JSON.parse(await readFile(path.join(c.dataDir, "node.runtime.json"), "utf8")) as { port: number };

  await killDaemon("master");
  await killDaemon("node");

  // The store journals its writes: a checkpoint puts the newest values (job and config files) into their files.
  const store = new FileStore(state);
  await store.checkpoint();
  await store.close();

  // What a kill -9 in the middle of writes leaves.
  const good = await readFile(path.join(state, "queue", `job-${first}`), "utf8");
  await writeFile(path.join(state, "queue", "job-500"), good.slice(0, Math.floor(good.length / 3)));
  await writeFile(path.join(state, "queue", ".tmp-job-501-0a1b2c3d4e5f"), good.slice(0, 10));
  await writeFile(path.join(state, ".tmp-config.data-0a1b2c3d4e5f"), "{");
  await writeFile(path.join(c.dataDir, "hypervisors", "fake", ".tmp-r1.example.com.json-0a1b2c3d4e5f"), "{");

  // A damaged config: the error names the file and does not suggest a new cluster.
  const configDir = path.join(state, "config");
  const clusterFile = path.join(configDir, "cluster");
  await cp(configDir, `${configDir}.saved`, { recursive: true });
  await writeFile(clusterFile, (await readFile(clusterFile, "utf8")).slice(0, 100));
  const damaged = await launchDaemon("master", c.dataDir, 30_000).then(
    () => null,
    (err: Error) => err.message,
  );
  expect(damaged).toContain(`Cannot load the cluster configuration ${configDir}/: config/cluster is not valid JSON`);
  expect(damaged).not.toContain("cluster init");
  await rm(configDir, { recursive: true });
  const missing = await launchDaemon("master", c.dataDir, 30_000).then(
    () => null,
    (err: Error) => err.message,
  );
  expect(missing).toContain(`The cluster configuration ${configDir}/ is missing`);
  expect(missing).not.toContain("cluster init");
  await rename(`${configDir}.saved`, configDir);

  // Both daemons come back on the ports chosen at init (they were started with port 0).
  await launchDaemon("node", c.dataDir);
  const nodeRt2 = JSON.parse(await readFile(path.join(c.dataDir, "node.runtime.json"), "utf8")) as { port: number };
  expect(nodeRt2.port).toBe(nodeRt.port);
  await launchDaemon("master", c.dataDir);
  const masterRt = JSON.parse(await readFile(path.join(c.dataDir, "master.runtime.json"), "utf8")) as { rapiUrl: string };
  expect(masterRt.rapiUrl).toBe(c.url);

  // The torn job was set aside and logged; the temp files are gone.
  const log = await readFile(path.join(c.dataDir, "log", "master.log"), "utf8");
  expect(log).toMatch(/Can't parse job 500 \(queue\/job-500\), moved to queue-corrupt\/job-500/);
  expect(await readdir(path.join(state, "queue"))).not.toContain(".tmp-job-501-0a1b2c3d4e5f");
  expect(await readdir(state)).not.toContain(".tmp-config.data-0a1b2c3d4e5f");
  expect((await readdir(path.join(c.dataDir, "hypervisors", "fake"))).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  const jobs = (await rapi.call<{ id: number }[]>("GET", "/2/jobs")).body.map((j) => j.id);
  expect(jobs).toContain(first);
  expect(jobs).not.toContain(500);

  // The restarted node daemon is reachable where the config says: jobs on it succeed, ids go on after the torn one.
  const ids = [
    (await rapi.call<number>("PUT", "/2/instances/r1.example.com/shutdown", {})).body,
    (await rapi.call<number>("PUT", "/2/instances/r1.example.com/startup", {})).body,
  ];
  expect(Math.min(...ids)).toBeGreaterThan(500);
  const done = await waitFinal(rapi, ids);
  expect(ids.map((id) => done.get(id))).toEqual(["success", "success"]);
  const inst = (await rapi.call<{ oper_state: boolean }>("GET", "/2/instances/r1.example.com")).body;
  expect(inst.oper_state).toBe(true);
}, 300_000);

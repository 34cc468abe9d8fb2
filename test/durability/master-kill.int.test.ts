// Kill -9 of the master daemon with 100 jobs queued and running: every
// acknowledged job survives and ends final after a restart (running ones in
// error "Unclean master daemon shutdown", queued ones run to success), and
// the configuration is intact.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { readConfigData } from "@ganeti-ts/server/config/cluster-config";
import { FileStore } from "@ganeti-ts/server/store/file-store";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import { isAlive, launchDaemon } from "@ganeti-ts/server/master/launcher";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { createBody, jobInfo, jobStatus, rapiClient, readJobFiles, waitFinal, type Rapi } from "./helpers.js";

let c: LocalCluster;
let rapi: Rapi;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 1 });
  rapi = await rapiClient(c, c.url);
}, 180_000);

afterAll(async () => {
  await c?.destroy();
}, 120_000);

async function configSerial(): Promise<number> {
  const read = await readConfigData(new FileStore(path.join(c.dataDir, "master-state")));
  return read!.data.serial_no;
}

it("survives SIGKILL with 100 jobs in flight", async () => {
  const node = c.nodes[0]!;
  const sock = path.join(c.dataDir, "master.sock");

  // Instances that exist before the crash.
  const before = ["d1", "d2", "d3", "d4", "d5"].map((n) => `${n}.example.com`);
  const createIds: number[] = [];
  for (const name of before) createIds.push((await rapi.call<number>("POST", "/2/instances", createBody(name, node))).body);
  const created = await waitFinal(rapi, createIds);
  expect([...created.values()]).toEqual(before.map(() => "success"));
  const serialBefore = await configSerial();

  // 100 jobs: 60 delays that lock the master node (one runs at a time), and 40
  // RAPI jobs (creates, shutdowns, startups) queued behind them.
  const acked: number[] = [];
  const delay = () => controlCall(sock, "SubmitJob", [[{ OP_ID: "OP_TEST_DELAY", duration: 0.5, on_master: true }]]) as Promise<number>;
  const first = await delay();
  acked.push(first);
  const submissions: Promise<number>[] = [];
  for (let i = 0; i < 59; i++) submissions.push(delay());
  const later = Array.from({ length: 10 }, (_, i) => `e${i + 1}.example.com`);
  for (const name of later) submissions.push(rapi.call<number>("POST", "/2/instances", createBody(name, node)).then((r) => r.body));
  for (let i = 0; i < 15; i++) {
    const inst = before[i % before.length]!;
    submissions.push(rapi.call<number>("PUT", `/2/instances/${inst}/shutdown`, {}).then((r) => r.body));
    submissions.push(rapi.call<number>("PUT", `/2/instances/${inst}/startup`, {}).then((r) => r.body));
  }
  acked.push(...(await Promise.all(submissions)));
  expect(acked).toHaveLength(100);
  expect(acked.every((id) => Number.isInteger(id))).toBe(true);

  // Kill once the first delay is running (long-poll, no sleeps).
  let prev: unknown = null;
  for (;;) {
    const r = await rapi.call<{ job_info: [string] }>("GET", `/2/jobs/${first}/wait`, {
      fields: ["status"],
      previous_job_info: prev,
      previous_log_serial: null,
    });
    prev = r.body.job_info;
    if (r.body.job_info[0] !== "queued" && r.body.job_info[0] !== "waiting") break;
  }
  const rt = JSON.parse(await readFile(path.join(c.dataDir, "master.runtime.json"), "utf8")) as { pid: number };
  process.kill(rt.pid, "SIGKILL");
  while (isAlive(rt.pid)) await new Promise((r) => setTimeout(r, 20));

  // Every acknowledged job is on disk.
  const onDisk = await readJobFiles(c.dataDir);
  const missing = acked.filter((id) => !onDisk.has(id));
  expect(missing).toEqual([]);
  const atKill = new Map(acked.map((id) => [id, jobStatus(onDisk.get(id)!)]));
  const running = acked.filter((id) => atKill.get(id) === "running");
  const pending = acked.filter((id) => ["queued", "waiting"].includes(atKill.get(id)!));
  expect(running.length).toBeGreaterThanOrEqual(1);
  expect(pending.length).toBeGreaterThanOrEqual(50);

  // Restart the master on the same data dir.
  await launchDaemon("master", c.dataDir);
  const url = JSON.parse(await readFile(path.join(c.dataDir, "master.runtime.json"), "utf8")) as { rapiUrl: string };
  rapi = await rapiClient(c, url.rapiUrl);

  const final = await waitFinal(rapi, acked);
  const notFinal = acked.filter((id) => !final.has(id));
  expect(notFinal).toEqual([]);
  for (const id of running) {
    const job = await jobInfo(rapi, id);
    expect(job.status, `job ${id} was running at the kill`).toBe("error");
    expect(JSON.stringify(job.opresult)).toContain("Unclean master daemon shutdown");
  }
  // For the report: how the 100 jobs stood at the kill and how they ended.
  console.info(
    `master kill: ${running.length} running, ${pending.length} queued/waiting, ${acked.length - running.length - pending.length} final at the kill; after restart ${[...final.values()].filter((s) => s === "success").length} success, ${[...final.values()].filter((s) => s === "error").length} error`,
  );
  const pendingNotOk = pending.filter((id) => final.get(id) !== "success").map((id) => [id, final.get(id)]);
  expect(pendingNotOk).toEqual([]);

  // Configuration intact: old instances, plus every create that succeeded.
  const info = await rapi.call<{ name: string }>("GET", "/2/info");
  expect(info.status).toBe(200);
  expect(info.body.name).toBe("cluster.example.com");
  const names = (await rapi.call<{ id: string }[]>("GET", "/2/instances")).body.map((i) => i.id);
  for (const n of before) expect(names).toContain(n);
  const laterIds = acked.slice(60, 70);
  for (let i = 0; i < later.length; i++) if (final.get(laterIds[i]!) === "success") expect(names).toContain(later[i]);
  expect(await configSerial()).toBeGreaterThan(serialBefore);

  // The queue goes on: new ids above the old ones, and jobs succeed.
  const next = (await rapi.call<number>("PUT", "/2/tags?tag=after:crash")).body;
  expect(next).toBeGreaterThan(Math.max(...acked));
  expect((await waitFinal(rapi, [next])).get(next)).toBe("success");
}, 400_000);

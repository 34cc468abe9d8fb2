// Kill -9 of a node daemon in the middle of a job: the job fails with an RPC
// error, the daemon restarts on its data dir, the fake hypervisor's instance
// state survives, and the next jobs on that node succeed.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import { isAlive, launchDaemon } from "@ganeti-ts/server/master/launcher";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { createBody, jobInfo, rapiClient, waitFinal, type Rapi } from "./helpers.js";

let c: LocalCluster;
let rapi: Rapi;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 2 });
  rapi = await rapiClient(c, c.url);
}, 180_000);

afterAll(async () => {
  await c?.destroy();
}, 120_000);

async function waitRunning(id: number): Promise<void> {
  let prev: unknown = null;
  for (;;) {
    const r = await rapi.call<{ job_info: [string] }>("GET", `/2/jobs/${id}/wait`, {
      fields: ["status"],
      previous_job_info: prev,
      previous_log_serial: null,
    });
    prev = r.body.job_info;
    if (r.body.job_info[0] === "running") return;
    if (!["queued", "waiting"].includes(r.body.job_info[0])) throw new Error(`job ${id} ended before running: ${r.body.job_info[0]}`);
  }
}

it("a node daemon killed mid-job: RPC error, restart, state kept, next jobs succeed", async () => {
  const node2 = c.nodes[1]!;
  const node2Dir = path.join(path.dirname(c.dataDir), "node2");
  const inst = "k1.example.com";
  const created = (await rapi.call<number>("POST", "/2/instances", createBody(inst, node2))).body;
  expect((await waitFinal(rapi, [created])).get(created)).toBe("success");

  // A long delay on node2 (an RPC in flight), then kill -9 its daemon.
  const sock = path.join(c.dataDir, "master.sock");
  const job = (await controlCall(sock, "SubmitJob", [
    [{ OP_ID: "OP_TEST_DELAY", duration: 30, on_master: false, on_nodes: [node2] }],
  ])) as number;
  await waitRunning(job);
  const rt = JSON.parse(await readFile(path.join(node2Dir, "node.runtime.json"), "utf8")) as { pid: number; port: number };
  process.kill(rt.pid, "SIGKILL");
  while (isAlive(rt.pid)) await new Promise((r) => setTimeout(r, 20));

  expect((await waitFinal(rapi, [job])).get(job)).toBe("error");
  const failed = await jobInfo(rapi, job);
  const err = failed.opresult?.[0] as [string, [string]];
  expect(err[0]).toBe("OpExecError");
  expect(err[1][0]).toContain(node2);

  // Restart on its data dir: the port chosen at `node add --port 0` was saved, so it binds it again.
  const again = await launchDaemon("node", node2Dir);
  expect(again["port"]).toBe(rt.port);

  // The fake hypervisor's state survived: the instance is still running.
  const i = await rapi.call<{ status: string; oper_state: boolean; pnode: string }>("GET", `/2/instances/${inst}`);
  expect([i.body.pnode, i.body.status, i.body.oper_state]).toEqual([node2, "running", true]);

  // Next jobs on node2 succeed.
  const next = [
    (await rapi.call<number>("PUT", `/2/instances/${inst}/shutdown`, {})).body,
    (await rapi.call<number>("PUT", `/2/instances/${inst}/startup`, {})).body,
    (await controlCall(sock, "SubmitJob", [[{ OP_ID: "OP_TEST_DELAY", duration: 0.1, on_master: false, on_nodes: [node2] }]])) as number,
  ];
  const done = await waitFinal(rapi, next);
  expect(next.map((id) => done.get(id))).toEqual(["success", "success", "success"]);
  const after = await rapi.call<{ status: string; oper_state: boolean }>("GET", `/2/instances/${inst}`);
  expect([after.body.status, after.body.oper_state]).toEqual(["running", true]);
}, 300_000);

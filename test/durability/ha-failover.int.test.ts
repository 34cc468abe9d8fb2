// An HA cluster on one machine: three master candidates on 127.0.0.11-13,
// each with its etcd member (`gnt cluster init --store etcd`, `gnt node add`),
// the RAPI on one address bound by whichever master is active.
//  - kill -9 of the active master during 200 start/stop jobs: a standby
//    takes over, every acknowledged job is there and ends, the config reads
//    back whole, the RAPI answers at the same address;
//  - `gnt cluster master-failover` with jobs running: no job is lost or fails;
//  - one etcd member down: jobs go on; two down: changes refused with a
//    clear error; they work again once one member is back.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { readConfigData } from "@ganeti-ts/server/config/cluster-config";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import { isAlive, launchDaemon } from "@ganeti-ts/server/master/launcher";
import { startEtcdMember, waitEtcdHealthy, type EtcdMemberSpec } from "@ganeti-ts/server/store/etcd-member";
import { EtcdStore } from "@ganeti-ts/server/store/etcd-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { createBody, rapiClient, waitFinal, type Rapi } from "./helpers.js";

let c: LocalCluster;
let rapi: Rapi;
let dirs: string[];
const instances = ["ha1.example.com", "ha2.example.com", "ha3.example.com", "ha4.example.com"];

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 3, diskTemplates: ["diskless"], initArgs: ["--store", "etcd", "--master-lease-ttl", "5"] });
  rapi = await rapiClient(c, c.url);
  const root = path.dirname(c.dataDir);
  dirs = [c.dataDir, path.join(root, "node2"), path.join(root, "node3")];
  const ids: number[] = [];
  for (const [i, name] of instances.entries())
    ids.push((await rapi.call<number>("POST", "/2/instances", createBody(name, c.nodes[i % 3]!))).body);
  const res = await waitFinal(rapi, ids);
  expect([...res.values()]).toEqual(instances.map(() => "success"));
}, 600_000);

afterAll(async () => {
  await c?.destroy();
}, 180_000);

interface Leader {
  node: string;
  pid: number;
  controlSocket: string;
}

/** The active master, asked through any candidate's control socket. */
async function leader(): Promise<Leader | null> {
  for (const d of dirs) {
    try {
      return (await controlCall(path.join(d, "master.sock"), "GetMaster", [], 10_000)) as Leader | null;
    } catch {
      // that candidate is down: ask the next
    }
  }
  return null;
}

/** Retry a RAPI call while no master answers (a failover in progress); bounded. */
async function call<T>(method: string, p: string, body?: unknown, tries = 240): Promise<{ status: number; body: T }> {
  for (let i = 1; ; i++) {
    try {
      const r = await rapi.call<T>(method, p, body);
      if (r.status !== 502 && r.status !== 503) return r;
      if (i >= tries) return r;
    } catch (err) {
      if (i >= tries) throw err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** waitFinal across a failover: retries the long-polls until a master answers. */
async function finalOf(ids: number[]): Promise<Map<number, string>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await waitFinal(rapi, ids, 400_000);
    } catch (err) {
      if (attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function startStop(i: number): [string, string] {
  return ["PUT", `/2/instances/${instances[i % instances.length]}/${Math.floor(i / instances.length) % 2 === 0 ? "shutdown" : "startup"}`];
}

async function configIsWhole(): Promise<void> {
  const settings = JSON.parse(await readFile(path.join(c.dataDir, "master.json"), "utf8")) as {
    store: { endpoints: string[]; prefix: string };
  };
  const store = new EtcdStore(settings.store.endpoints, { prefix: settings.store.prefix });
  try {
    const read = await readConfigData(store); // schema-checked
    const d = read!.data;
    for (const inst of Object.values(d.instances)) {
      expect(d.nodes[inst.primary_node], `primary node of ${inst.name}`).toBeDefined();
      for (const disk of inst.disks) expect(d.disks[disk]).toBeDefined();
    }
    expect(
      Object.values(d.instances)
        .map((i) => i.name)
        .sort(),
    ).toEqual([...instances].sort());
    expect(d.nodes[d.cluster.master_node]).toBeDefined();
  } finally {
    await store.close();
  }
}

it("survives kill -9 of the active master during 200 start/stop jobs", async () => {
  const before = await leader();
  expect(before).not.toBeNull();
  const acked: number[] = [];
  let unknown = 0;
  let killed = false;
  let killedAt = 0;
  const submit = async (i: number) => {
    if (i === 100) {
      // half-way through the submissions: kill the active master
      process.kill(before!.pid, "SIGKILL");
      killedAt = performance.now();
      killed = true;
    }
    const [m, p] = startStop(i);
    try {
      const r = await rapi.call<number>(m, p, {});
      if (r.status === 200 && Number.isInteger(r.body)) acked.push(r.body);
      else unknown++;
    } catch {
      // no answer: the job may or may not exist; a client must not resubmit blindly
      unknown++;
    }
  };
  for (let i = 0; i < 200; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => submit(i + j)));
  expect(killed).toBe(true);
  while (isAlive(before!.pid)) await new Promise((r) => setTimeout(r, 50));

  // A standby takes over (same RAPI address); submit the rest of the 200 there.
  const answered = await call<unknown>("GET", "/2/info");
  expect(answered.status).toBe(200);
  // For the report (no assertion on timings): kill -> first RAPI answer of the new master.
  console.info(
    `HA failover: kill -9 to the new master's first RAPI answer ${((performance.now() - killedAt) / 1000).toFixed(1)} s (lease TTL 5 s)`,
  );
  const rest = 200 - acked.length;
  for (let i = 0; i < rest; i++) {
    const [m, p] = startStop(i);
    const r = await call<number>(m, p, {});
    expect(r.status).toBe(200);
    acked.push(r.body);
  }
  const after = await leader();
  expect(after!.node).not.toBe(before!.node);
  expect((await call<{ master: string }>("GET", "/2/info")).body.master).toBe(after!.node);
  // The new master took over the config copy its standby kept through the etcd watch (no full read).
  const masterLog = await readFile(path.join(path.dirname(after!.controlSocket), "log", "master.log"), "utf8");
  const takeover = masterLog.split("\n").filter((l) => /standby copy|reading the config from etcd/.test(l));
  console.info(`HA takeover: ${takeover.at(-1) ?? "(no config line)"}`);
  expect(takeover.at(-1)).toMatch(/config from the standby copy \(copy current at revision \d+\)/);

  const final = await finalOf(acked);
  expect(acked.filter((id) => !final.has(id))).toEqual([]);
  const byStatus: Record<string, number> = {};
  for (const s of final.values()) byStatus[s] = (byStatus[s] ?? 0) + 1;
  console.info(
    `HA kill -9: ${acked.length} acknowledged (${unknown} submissions without answer), ended ${JSON.stringify(byStatus)}, ${before!.node} -> ${after!.node}`,
  );
  for (const [id, s] of final) {
    if (s === "success") continue;
    // Only a job that was running at the kill may fail, and only so.
    const job = (await call<{ opresult: unknown }>("GET", `/2/jobs/${id}`)).body;
    expect(JSON.stringify(job.opresult), `job ${id}`).toMatch(/Unclean master daemon shutdown|already|not running|is down/);
  }
  await configIsWhole();

  // The killed candidate comes back as a standby.
  await launchDaemon("master", path.dirname(before!.controlSocket));
  expect(((await controlCall(before!.controlSocket, "MasterState", [])) as { active: boolean }).active).toBe(false);
}, 900_000);

it("moves the master with gnt cluster master-failover while jobs run, losing none", async () => {
  const before = (await leader())!;
  const target = dirs.find((d) => !before.controlSocket.startsWith(d + path.sep))!;
  const ids: number[] = [];
  for (let i = 0; i < 40; i++) {
    const [m, p] = startStop(i);
    const r = await call<number>(m, p, {});
    expect(r.status).toBe(200);
    ids.push(r.body);
  }
  const out = await c.gnt(["cluster", "master-failover", "--data-dir", target]);
  expect(out.stdout).toMatch(/Master failover done: node\d\.example\.com is the master/);
  const after = (await leader())!;
  expect(after.node).not.toBe(before.node);
  expect(after.controlSocket.startsWith(target + path.sep)).toBe(true);
  const final = await finalOf(ids);
  expect([...final.values()].filter((s) => s !== "success")).toEqual([]);
  expect((await c.gnt(["cluster", "getmaster"])).stdout.trim()).toBe(after.node);
  await configIsWhole();
}, 900_000);

it("goes on with one etcd member down, refuses changes with two down, resumes when one is back", async () => {
  const rts = await Promise.all(
    dirs.map(
      async (d) =>
        JSON.parse(await readFile(path.join(d, "etcd.runtime.json"), "utf8")) as {
          pid: number;
          url: string;
          spec: EtcdMemberSpec;
          token: string;
        },
    ),
  );
  const lead = (await leader())!;
  // Keep the active master's own member; kill the others one by one.
  const victims = dirs.map((d, i) => ({ d, rt: rts[i]! })).filter(({ d }) => !lead.controlSocket.startsWith(d + path.sep));
  process.kill(victims[0]!.rt.pid, "SIGKILL");
  const one = await call<number>("PUT", "/2/tags?tag=etcd:one-down", undefined);
  expect(one.status, JSON.stringify(one.body)).toBe(200);
  expect((await finalOf([one.body])).get(one.body)).toBe("success");

  process.kill(victims[1]!.rt.pid, "SIGKILL");
  const refused = await rapi.call<{ message: string }>("PUT", "/2/tags?tag=etcd:two-down");
  expect(refused.status).toBe(503);
  expect(refused.body.message).toMatch(/Cluster store unavailable/);
  // Reads still answer.
  expect((await rapi.call("GET", "/2/instances")).status).toBe(200);

  const back = victims[1]!;
  const m = await startEtcdMember(back.rt.spec, [back.rt.spec], {
    dataDir: path.join(back.d, "etcd"),
    state: "existing",
    token: back.rt.token,
    detached: true,
  });
  try {
    await waitEtcdHealthy(m.url, 180_000);
    const again = await call<number>("PUT", "/2/tags?tag=etcd:back");
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect((await finalOf([again.body])).get(again.body)).toBe("success");
    const tags = (await call<string[]>("GET", "/2/tags")).body;
    expect(tags).toContain("etcd:back");
    expect(tags).not.toContain("etcd:two-down");
  } finally {
    await m.stop("SIGKILL");
  }
}, 900_000);

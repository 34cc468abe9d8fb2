// hbal -X against a live ganeti-ts cluster: every instance starts on node 1;
// hbal executes its moves through the RAPI (-m) or the master's control
// socket (-L), and the cluster, its jobs and a second hbal run show the result.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GanetiClient } from "@ganeti-ts/sdk";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { createInstancesOn, tool, type LiveInstance, type Run } from "./live-helpers.js";

const hbal = (args: string[], env: Record<string, string> = {}): Promise<Run> => tool("hbal", args, env);
const SUFFIX = ".example.com";

const initialScore = (r: Run): number => Number(/^Initial score: (\S+)$/m.exec(r.stdout)?.[1]);
/** The planned moves: instance -> new primary (full names; the last move of an instance wins). */
function plannedPrimaries(r: Run): Map<string, string> {
  const m = new Map<string, string>();
  for (const x of r.stdout.matchAll(/^\s+\d+\. (\S+)\s+\S+\s+=> (\S+)\s+\S+ a=\S+$/gm))
    m.set(x[1]! + SUFFIX, x[2]!.split(":")[0]! + SUFFIX);
  return m;
}
const jobIds = (r: Run): number[] => [...r.stdout.matchAll(/^Got job IDs (.*)$/gm)].flatMap((x) => x[1]!.split(", ").map(Number));

let c: LocalCluster;
let client: GanetiClient;
let hostPort: string;
const tmp = mkdtempSync(path.join(tmpdir(), "gts-htools-exec-"));

const INSTANCES: LiveInstance[] = [
  { name: "sf1.example.com", template: "sharedfile", memory: 1024 },
  { name: "sf2.example.com", template: "sharedfile", memory: 1024 },
  { name: "sf3.example.com", template: "sharedfile", memory: 512 },
  { name: "sf4.example.com", template: "sharedfile", memory: 512, stopped: true },
  { name: "dl1.example.com", template: "diskless", memory: 1024 },
];

/** Every instance back on node 1 (migrate the running ones, fail over the stopped one). */
async function allOnNode1(): Promise<void> {
  for (const i of await client.instances.list({ bulk: true })) {
    if (i.pnode === c.nodes[0]) continue;
    if (i.status === "running") await client.instances.migrate(i.name, { target_node: c.nodes[0]! }).wait();
    else await client.instances.failover(i.name, { target_node: c.nodes[0]! }).wait();
  }
}

async function primaries(): Promise<Map<string, string>> {
  return new Map((await client.instances.list({ bulk: true })).map((i) => [i.name, i.pnode]));
}

beforeAll(async () => {
  // hbal reads the cluster anonymously, as Ganeti's hbal -m does: the cluster allows that (new clusters do not by default).
  c = await startLocalCluster({ nodes: 3, initArgs: ["--allow-anonymous-reads"] });
  hostPort = `${c.host}:${c.port}`;
  client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
  await createInstancesOn(client, c.nodes[0]!, INSTANCES);
}, 240_000);

afterAll(async () => {
  client?.close();
  await c?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

describe("hbal -X refuses to run without a way to write", () => {
  it("no credentials: an error before anything is computed or submitted", async () => {
    const jobsBefore = (await client.jobs.list()).length;
    const r = await hbal(["-m", hostPort, "-X"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("needs write credentials");
    expect(r.stdout).toBe("");
    expect((await client.jobs.list()).length).toBe(jobsBefore);
  });

  it("a wrong password: the RAPI's 401 ends hbal with an error, the password is never printed", async () => {
    const pw = path.join(tmp, "wrong-password");
    writeFileSync(pw, "not-the-password\n");
    const r = await hbal(["-m", hostPort, "-X", "--rapi-user", c.user, "--rapi-password-file", pw]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HTTP 401/);
    expect(r.stdout).not.toMatch(/Got job IDs/);
    expect(r.stdout + r.stderr).not.toContain("not-the-password");
    expect([...(await primaries()).values()].every((p) => p === c.nodes[0])).toBe(true);
  });

  it("a drained job queue: the refused submission aborts the balance (exit 1)", async () => {
    const socket = dataPaths(c.dataDir).controlSocket;
    await controlCall(socket, "SetDrainFlag", [true]);
    try {
      const r = await hbal(["-m", hostPort, "-X"], { GANETI_RAPI_USER: c.user, GANETI_RAPI_PASSWORD: c.password });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^Executing jobset for instances /m);
      expect(r.stderr).toMatch(/^Not all jobs completed successfully: submitting the job of \S+: .*HTTP 503.*drained/m);
      expect(r.stderr).toContain("Aborting.\nError: hbal: Aborting due to job failures\n");
    } finally {
      await controlCall(socket, "SetDrainFlag", [false]);
    }
    expect([...(await primaries()).values()].every((p) => p === c.nodes[0])).toBe(true);
  });
});

describe("hbal -m HOST:PORT -X (through the RAPI)", () => {
  it("migrates the instances as planned, jobset by jobset, and the cluster score improves", async () => {
    const plan = await hbal(["-m", hostPort]);
    const before = initialScore(plan);
    const pw = path.join(tmp, "password");
    writeFileSync(pw, `${c.password}\n`);
    const r = await hbal(["-m", hostPort, "-X", "--rapi-user", c.user, "--rapi-password-file", pw], { GANETI_RAPI_CA: c.caFile });
    expect(r.stderr).not.toMatch(/Error|Not all jobs/);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(c.password);

    const moves = plannedPrimaries(r);
    expect(moves.size).toBeGreaterThan(0);
    // Only the shared-storage instances can move; the diskless one stays.
    expect([...moves.keys()].every((n) => n.startsWith("sf"))).toBe(true);
    const now = await primaries();
    for (const [inst, pnode] of moves) expect(now.get(inst)).toBe(pnode);
    expect(now.get("dl1.example.com")).toBe(c.nodes[0]);

    // One "Executing jobset" per jobset, each followed by its job ids; every job succeeded.
    const sets = r.stdout.match(/^Executing jobset for instances .*$/gm) ?? [];
    expect(sets.length).toBeGreaterThan(0);
    const ids = jobIds(r);
    expect(ids.length).toBe([...r.stdout.matchAll(/^\s+\d+\. /gm)].length);
    for (const id of ids) {
      const job = await client.jobs.get(id);
      expect(job.status).toBe("success");
      const op = job.ops?.[0] as Record<string, unknown>;
      expect(op["OP_ID"]).toBe("OP_INSTANCE_MIGRATE");
      expect(moves.get(op["instance_name"] as string)).toBeDefined();
      expect(op["allow_failover"]).toBe(true);
    }

    const after = await hbal(["-m", hostPort]);
    expect(after.code).toBe(0);
    expect(initialScore(after)).toBeLessThan(before);
    const planned = Number(/^Cluster score improved from \S+ to (\S+)$/m.exec(r.stdout)?.[1]);
    // (Free memory is the host's and moves a little between runs, hence not equality.)
    expect(Math.abs(initialScore(after) - planned)).toBeLessThan(0.05);
  });
});

describe("hbal -L DATADIR -X (through the master's control socket)", () => {
  it("submits one job per move, annotated with hbal's reason and priority", async () => {
    await allOnNode1();
    const r = await hbal([`-L${c.dataDir}`, "-X", "--reason", "nightly balance", "--priority", "low"]);
    expect(r.stderr).not.toMatch(/Error|Not all jobs/);
    expect(r.code).toBe(0);
    const moves = plannedPrimaries(r);
    expect(moves.size).toBeGreaterThan(0);
    const now = await primaries();
    for (const [inst, pnode] of moves) expect(now.get(inst)).toBe(pnode);
    const ids = jobIds(r);
    expect(ids.length).toBe([...r.stdout.matchAll(/^\s+\d+\. /gm)].length);
    for (const id of ids) {
      const job = await client.jobs.get(id);
      expect(job.status).toBe("success");
      const op = job.ops?.[0] as Record<string, unknown>;
      expect(op["priority"]).toBe(10);
      expect((op["reason"] as unknown[][])[0]!.slice(0, 2)).toEqual(["gnt:client:hbal", "nightly balance"]);
    }
  });
});

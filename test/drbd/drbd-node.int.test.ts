// Whole-node operations and hbal -X on drbd instances, on a three-node
// local cluster (real node daemons, the fake hypervisor, the replication
// engine's storage daemons keeping real replicas): `gnt node evacuate -n`,
// `gnt node migrate` and `gnt node failover` move every instance of a node
// and leave each mirror in sync; then Ganeti's own hbal plans moves that
// change secondaries on the lopsided cluster, ours executes them through the
// RAPI (Ganeti's hbal executes only over LUXI), and the cluster ends where
// the plan said with every mirror in sync; a secondary node killed and
// marked offline is evacuated. The nodes report fixed memory and
// volume group sizes (noded.json), so both hbals see the same cluster.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GanetiClient } from "@ganeti-ts/sdk";
import { poller } from "../../server/test/harness/poll.js";
import { killDaemons } from "../../server/test/storage/replication-fixture.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { tool } from "../htools/live-helpers.js";

const SUFFIX = ".example.com";
const until = poller({ timeoutMs: 180_000, intervalMs: 500 });
/** drbd instances, all on node1 (primary) and node2 (secondary) at first; the last one stopped. */
const INSTANCES = [
  { name: "d1.example.com", memory: 1024, running: true },
  { name: "d2.example.com", memory: 1024, running: true },
  { name: "d3.example.com", memory: 512, running: false },
];

let c: LocalCluster;
let client: GanetiClient;
let n1: string, n2: string, n3: string;
const tmp = mkdtempSync(path.join(tmpdir(), "gts-drbd-node-"));
const nodeDir = (node: string): string => c.nodeDir(node);

/** Instance -> [primary, secondary]. */
async function placement(): Promise<Map<string, [string, string]>> {
  return new Map((await client.instances.list({ bulk: true })).map((i) => [i.name, [i.pnode, i.snodes[0]!] as [string, string]]));
}

/**
 * Both sides of every disk of the instance healthy and not resyncing (live
 * instance info). A stopped instance's disks are activated for the look.
 */
async function waitInSync(name: string): Promise<void> {
  if ((await client.instances.get(name)).status === "running") return inSync(name);
  await client.instances.activateDisks(name).wait();
  try {
    await inSync(name);
  } finally {
    await client.instances.deactivateDisks(name).wait();
  }
}

async function inSync(name: string): Promise<void> {
  await until(`${name}'s mirror in sync`, async () => {
    const info = (await client.instances.info(name, { static: false }).wait())[0][name]!;
    const disks = info["disks"] as Array<{ pstatus: unknown[] | null; sstatus: unknown[] | null }>;
    return disks.every((d) => d.pstatus && d.sstatus && d.pstatus[5] === false && d.sstatus[5] === false && d.pstatus[3] === null);
  });
}

async function allInSync(): Promise<void> {
  for (const i of INSTANCES) await waitInSync(i.name);
}

beforeAll(async () => {
  // hbal reads the RAPI anonymously (Ganeti's hbal -m cannot authenticate).
  c = await startLocalCluster({
    nodes: 3,
    secondaryIps: true,
    diskTemplates: ["drbd", "plain", "diskless"],
    initArgs: ["--allow-anonymous-reads"],
    nodeSettings: { memory_total: 8192, memory_dom0: 0, cpu_total: 4, storage_size: { "lvm-vg": 20480 } },
  });
  [n1, n2, n3] = c.nodes as [string, string, string];
  client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
  await client.cluster.modify({ vg_name: "xenvg" }).wait();
  for (const i of INSTANCES)
    await client.instances
      .create({
        mode: "create",
        instance_name: i.name,
        disk_template: "drbd",
        disks: [{ size: 1024 }],
        nics: [{}],
        os_type: "noop",
        pnode: n1,
        snode: n2,
        hypervisor: "fake",
        beparams: { memory: i.memory, vcpus: 1 },
        name_check: false,
        ip_check: false,
        start: i.running,
      })
      .wait();
  await allInSync();
}, 600_000);

afterAll(async () => {
  client?.close();
  if (c) {
    for (const n of c.nodes) await killDaemons(nodeDir(n));
    await c.destroy();
  }
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe("gnt node evacuate / migrate / failover with drbd instances", () => {
  it("evacuate -n moves every secondary off the node; the mirrors resync to the new node", async () => {
    const r = await c.gnt(["node", "evacuate", "-f", "-n", n3, n2]);
    expect(r.stderr).toContain("New secondary node given (disabling iallocator), hence evacuating secondary instances only.");
    expect(r.stdout).toContain("All instances evacuated successfully.");
    for (const [, nodes] of await placement()) expect(nodes).toEqual([n1, n3]);
    await allInSync();
  });

  it("migrate moves every running primary to its secondary (roles swap, mirrors in sync); the stopped one is refused, as in Ganeti", async () => {
    const r = await c.gnt(["node", "migrate", "-f", n1]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(r.stdout).toContain("There were 1 errors during the node migration.");
    expect(r.stderr).toMatch(/^Job \d+: error: OpPrereqError: Can't migrate, please use failover: /m);
    const now = await placement();
    expect(now.get("d1.example.com")).toEqual([n3, n1]);
    expect(now.get("d2.example.com")).toEqual([n3, n1]);
    expect(now.get("d3.example.com")).toEqual([n1, n3]);
    const status = Object.fromEntries((await client.instances.list({ bulk: true })).map((i) => [i.name, i.status]));
    expect(status).toEqual({ "d1.example.com": "running", "d2.example.com": "running", "d3.example.com": "ADMIN_down" });
    await allInSync();
  });

  it("failover submits one failover per primary (Ganeti's client side); roles swap, mirrors in sync", async () => {
    const one = await c.gnt(["node", "failover", "-f", n1]);
    expect(one.stdout).toContain("All 1 instance(s) failed over successfully.");
    expect((await placement()).get("d3.example.com")).toEqual([n3, n1]);
    const all = await c.gnt(["node", "failover", "-f", n3]);
    expect(all.stdout).toContain(`All ${INSTANCES.length} instance(s) failed over successfully.`);
    for (const [, nodes] of await placement()) expect(nodes).toEqual([n1, n3]);
    for (const i of await client.instances.list({ bulk: true }))
      expect(i.status).toBe(INSTANCES.find((x) => x.name === i.name)!.running ? "running" : "ADMIN_down");
    await allInSync();
  });

  it("evacuate -s -I hail chooses the only possible new secondary", async () => {
    const r = await c.gnt(["node", "evacuate", "-f", "-s", "-I", "hail", n3]);
    expect(r.stdout).toContain("All instances evacuated successfully.");
    for (const [, nodes] of await placement()) expect(nodes).toEqual([n1, n2]);
    await allInSync();
  });
});

/** hbal's command lines (-C), node and instance names without the common suffix. */
const commands = (out: string): string[] => [...out.matchAll(/^ +(gnt-instance .*)$/gm)].map((m) => m[1]!.trim());

/** Where the instances end after the commands, from where they start. */
function applyCommands(start: Map<string, [string, string]>, cmds: string[]): Map<string, [string, string]> {
  const now = new Map([...start].map(([k, v]) => [k, [...v] as [string, string]]));
  for (const cmd of cmds) {
    const words = cmd.split(/\s+/);
    const inst = words.at(-1)! + SUFFIX;
    const cur = now.get(inst)!;
    if (words[1] === "replace-disks" && words[2] === "-n") now.set(inst, [cur[0], words[3]! + SUFFIX]);
    else if (words[1] === "failover" || words[1] === "migrate") now.set(inst, [cur[1], cur[0]]);
    else throw new Error(`unexpected hbal command: ${cmd}`);
  }
  return now;
}

describe("hbal -X with drbd instances", () => {
  it("Ganeti's hbal plans secondary changes and failovers; ours executes that plan through the RAPI; the mirrors are in sync after", async () => {
    const hostPort = `${c.host}:${c.port}`;
    // Ganeti's hbal takes an address with a port as the URL's start (it adds https:// only to a bare host).
    const theirUrl = `https://${hostPort}`;
    const before = await placement();
    const theirs = spawnSync("/usr/bin/hbal", ["-m", theirUrl, "-C"], { encoding: "utf8" });
    expect(theirs.status, theirs.stderr).toBe(0);
    const plan = commands(theirs.stdout);
    expect(
      plan.some((x) => /^gnt-instance replace-disks -n node\d d\d$/.test(x)),
      theirs.stdout,
    ).toBe(true);

    // Ganeti's hbal executes moves only over LUXI, never through the RAPI.
    const theirsX = spawnSync("/usr/bin/hbal", ["-m", theirUrl, "-X"], { encoding: "utf8" });
    expect(theirsX.status).not.toBe(0);
    expect(theirsX.stdout + theirsX.stderr).toMatch(/LUXI/i);
    expect(await placement()).toEqual(before);

    const pw = path.join(tmp, "password");
    writeFileSync(pw, `${c.password}\n`);
    const ours = await tool("hbal", ["-m", hostPort, "-C", "-X", "--rapi-user", c.user, "--rapi-password-file", pw], {
      GANETI_RAPI_CA: c.caFile,
    });
    expect(ours.stderr).not.toMatch(/Error|Not all jobs/);
    expect(ours.code).toBe(0);
    expect(commands(ours.stdout)).toEqual(plan);

    // Every job succeeded: replace-disks to the new secondary, migrations (failover for the stopped instance).
    const ids = [...ours.stdout.matchAll(/^Got job IDs (.*)$/gm)].flatMap((x) => x[1]!.split(", ").map(Number));
    expect(ids.length).toBeGreaterThan(0);
    const opIds = new Set<string>();
    for (const id of ids) {
      const job = await client.jobs.get(id);
      expect(job.status, JSON.stringify(job.opresult)).toBe("success");
      for (const op of job.ops ?? []) opIds.add((op as Record<string, unknown>)["OP_ID"] as string);
    }
    expect([...opIds].sort(), plan.join("\n")).toEqual(["OP_INSTANCE_MIGRATE", "OP_INSTANCE_REPLACE_DISKS"]);
    expect(
      plan.some((x) => /^gnt-instance (failover -f|migrate -f) d\d$/.test(x)),
      plan.join("\n"),
    ).toBe(true);

    expect(await placement()).toEqual(applyCommands(before, plan));
    await allInSync();

    // Ganeti's hbal on the result: the score its plan promised.
    const promised = Number(/^Cluster score improved from \S+ to (\S+)$/m.exec(theirs.stdout)?.[1]);
    const after = spawnSync("/usr/bin/hbal", ["-m", theirUrl], { encoding: "utf8" });
    expect(Number(/^Initial score: (\S+)$/m.exec(after.stdout)?.[1])).toBeCloseTo(promised, 6);
  });
});

describe("a dead secondary node", () => {
  it("killed (node daemon and storage daemons), marked offline and evacuated through hail: every mirror resyncs to a live node", async () => {
    const before = await placement();
    // The non-master node holding the most secondaries.
    const count = (n: string) => [...before.values()].filter(([, s]) => s === n).length;
    const dead = [n2, n3].sort((a, b) => count(b) - count(a))[0]!;
    expect(count(dead)).toBeGreaterThan(0);
    const pid = Number.parseInt(await readFile(path.join(nodeDir(dead), "noded.pid"), "utf8"), 10);
    process.kill(pid, "SIGKILL");
    await killDaemons(nodeDir(dead));

    await c.gnt(["node", "modify", "-O", "yes", dead]);
    const r = await c.gnt(["node", "evacuate", "-f", "-s", "-I", "hail", dead]);
    expect(r.stdout).toContain("All instances evacuated successfully.");
    const after = await placement();
    for (const [name, [p, s]] of before) {
      if (s === dead) {
        expect(after.get(name)![0]).toBe(p);
        expect([n1, n2, n3].filter((n) => n !== dead && n !== p)).toEqual([after.get(name)![1]]);
      } else expect(after.get(name)).toEqual([p, s]);
    }
    for (const [name, [, s]] of before) if (s === dead) await waitInSync(name);
  });
});

// harep (Ganeti's auto-repair tool) through the RAPI.
//  * Detection and repair: Ganeti's recorded RAPI answers of a DRBD/plain
//    cluster (the htools testsuite corpus) served by a small stand-in RAPI
//    with one node marked offline; harep must submit the repairs Ganeti's
//    harep chooses (failover, replace-disks with a new secondary, nothing
//    beyond the policy) and record them in Ganeti's tags, then settle them.
//    ganeti-ts has no DRBD or plain storage yet, so no instance of ours can
//    be broken this way.
//  * The tag protocol on a real ganeti-ts cluster: pending repairs whose
//    jobs succeeded or failed become result tags through our RAPI.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GanetiClient } from "@ganeti-ts/sdk";
import { REPO, startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
const HAREP = join(REPO, "server/bin/harep.js");
const DATA = execFileSync(join(REPO, "scripts/ensure-ganeti-testsuite.sh"), { encoding: "utf8" }).trim();

async function harep(args: string[], env: Record<string, string>): Promise<{ out: string; err: string; code: number }> {
  try {
    const r = await run(process.execPath, [HAREP, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return { out: r.stdout, err: r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { out: x.stdout ?? "", err: x.stderr ?? "", code: typeof x.code === "number" ? x.code : -1 };
  }
}

type J = Record<string, unknown>;
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** A stand-in RAPI over Ganeti's recorded answers: reads from the corpus, writes recorded, every job a success. */
class RecordedRapi {
  server: http.Server;
  requests: Array<{ method: string; path: string; body: unknown }> = [];
  instances: J[];
  nodes: J[];
  groups: J[];
  info: J;
  nextJob = 100;
  jobStatus = new Map<number, string>();
  constructor() {
    const rd = (f: string): unknown => JSON.parse(readFileSync(join(DATA, "rapi", f), "utf8"));
    this.instances = rd("instances.json") as J[];
    this.nodes = rd("nodes.json") as J[];
    this.groups = rd("groups.json") as J[];
    this.info = rd("info.json") as J;
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://x");
        const send = (v: unknown) => {
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end(JSON.stringify(v));
        };
        const job = (): void => {
          const id = this.nextJob++;
          this.jobStatus.set(id, "success");
          send(id);
        };
        if (req.method === "GET") {
          if (url.pathname === "/2/instances") return send(this.instances);
          if (url.pathname === "/2/nodes") return send(this.nodes);
          if (url.pathname === "/2/groups") return send(this.groups);
          if (url.pathname === "/2/info") return send(this.info);
          const m = /^\/2\/jobs\/(\d+)$/.exec(url.pathname);
          if (m) return send({ id: Number(m[1]), status: this.jobStatus.get(Number(m[1])) ?? "error", opresult: [null] });
          res.writeHead(404);
          return res.end("{}");
        }
        this.requests.push({ method: req.method ?? "", path: url.pathname + url.search, body: body ? JSON.parse(body) : null });
        const t = /^\/2\/instances\/([^/]+)\/tags$/.exec(url.pathname);
        if (t) {
          const inst = this.instances.find((i) => i["name"] === decodeURIComponent(t[1]!))!;
          const tags = url.searchParams.getAll("tag");
          const cur = inst["tags"] as string[];
          inst["tags"] = req.method === "PUT" ? [...cur, ...tags] : cur.filter((x) => !tags.includes(x));
        }
        job();
      });
    });
  }
  tagsOf(name: string): string[] {
    return this.instances.find((i) => i["name"] === name)!["tags"] as string[];
  }
}

describe("harep: detection and repair on Ganeti's recorded DRBD/plain cluster", () => {
  let rapi: RecordedRapi;
  let env: Record<string, string>;
  beforeAll(async () => {
    rapi = new RecordedRapi();
    // node3 is down; repairs up to failover are enabled cluster-wide, instance9 allows only fix-storage,
    // instance14 suspends repairs
    rapi.nodes.find((n) => n["name"] === "node3")!["offline"] = true;
    (rapi.info["tags"] as string[]).push("ganeti:watcher:autorepair:failover");
    rapi.tagsOf("instance9").push("ganeti:watcher:autorepair:fix-storage");
    rapi.tagsOf("instance14").push("ganeti:watcher:autorepair:suspend");
    await new Promise<void>((r) => rapi.server.listen(0, "127.0.0.1", r));
    const port = (rapi.server.address() as AddressInfo).port;
    env = { GANETI_RAPI_USER: "admin", GANETI_RAPI_PASSWORD: "secret", GANETI_DATA_DIR: "" };
    env["URL"] = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((r) => rapi.server.close(r));
  });

  it("--dry-run reports what it would do and submits nothing", async () => {
    const r = await harep(["-m", env["URL"]!, "--dry-run"], env);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("Executing ArFailover repair on instance2\n");
    expect(rapi.requests).toEqual([]);
    expect(rapi.tagsOf("instance2")).toEqual([]);
  }, 60_000);

  it("submits Ganeti's repairs and records them in pending tags", async () => {
    const r = await harep(["-m", env["URL"]!, "--reason", "auto repair"], env);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    // DRBD with the primary offline: failover; with the secondary offline: a new secondary (fix-storage)
    expect(lines).toContain("Executing ArFailover repair on instance2");
    expect(lines).toContain("Executing ArFixStorage repair on instance4");
    expect(lines).toContain("Not performing a repair of type ArFailover on instance9 because only repairs up to ArFixStorage are allowed");
    expect(lines).toContain("Not repairing instance14 because it's in state ArSuspended Forever");
    // plain instances on node4 (online) are fine
    expect(r.out).not.toMatch(/instance(3|8|13|18|20)\b/);
    expect(
      r.out.endsWith(
        "---------------------\nInstance status count\n---------------------\nHealthy: 6\nNeeds repair: 1\nPending repair: 4\n",
      ),
    ).toBe(true);
    const failover = rapi.requests.find((q) => q.path === "/2/instances/instance2/failover?reason=auto%20repair")!;
    expect(failover.method).toBe("PUT");
    expect(failover.body).toEqual({ shutdown_timeout: 120, ignore_consistency: false, ignore_ipolicy: false, cleanup: false });
    const replace = rapi.requests.find((q) => q.path.startsWith("/2/instances/instance4/replace-disks"))!;
    expect(replace.body).toEqual({
      mode: "replace_new_secondary",
      disks: [],
      iallocator: "hail",
      early_release: false,
      ignore_ipolicy: false,
    });
    // the pending tag names the repair type, a fresh id, the time and the repair's job
    const pending = rapi.tagsOf("instance2").filter((t) => t.startsWith("ganeti:watcher:autorepair:pending:"));
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatch(new RegExp(`^ganeti:watcher:autorepair:pending:failover:${UUID}:\\d+:\\d+$`));
    expect(r.out).toContain(`>>> Adding the following tag to instance2:\n"${pending[0]}"\n`);
    const enoperm = rapi.tagsOf("instance9").filter((t) => t.includes(":result:"));
    expect(enoperm[0]).toMatch(new RegExp(`^ganeti:watcher:autorepair:result:failover:${UUID}:\\d+:enoperm:$`));
    expect(rapi.tagsOf("instance14").some((t) => t.includes(":pending:"))).toBe(false);
  }, 60_000);

  it("a second run settles the finished repairs: result tags replace the pending ones", async () => {
    const before = rapi.tagsOf("instance2").find((t) => t.includes(":pending:"))!;
    // instance4's repair job failed
    const pending4 = rapi.tagsOf("instance4").find((t) => t.includes(":pending:"))!;
    rapi.jobStatus.set(Number(pending4.split(":").pop()), "error");
    const r = await harep(["-m", env["URL"]!], env);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Moving instance2 from "Pending repair" to "Healthy"');
    expect(r.out).toContain('Moving instance4 from "Pending repair" to "Failure"');
    const [, , , , type, uuid, , jobs] = before.split(":");
    const result = new RegExp(
      `>>> Adding the following tag to instance2:\\n"(ganeti:watcher:autorepair:result:${type}:${uuid}:\\d+:success:${jobs})"\\n>>> Removing the following tags from instance2:\\n"${before}"\\n`,
    ).exec(r.out);
    expect(result, r.out).not.toBeNull();
    expect(rapi.tagsOf("instance4").some((t) => /:result:fix-storage:.*:failure:/.test(t))).toBe(true);
    // a repair that failed is not retried; an instance whose repair succeeded but is still broken is
    // repaired again, and its result tag gives way to the new pending one
    expect(r.out).not.toContain("Executing ArFixStorage repair on instance4");
    expect(r.out).toContain("Executing ArFailover repair on instance2");
    const now2 = rapi.tagsOf("instance2").filter((t) => t.startsWith("ganeti:watcher:autorepair:"));
    expect(now2).toHaveLength(1);
    expect(now2[0]).toMatch(/^ganeti:watcher:autorepair:pending:failover:/);
    expect(now2[0]).not.toContain(uuid!);
    expect(r.out).toMatch(/\nFailure: 1\n/);
  }, 60_000);
});

describe("harep: the tag protocol on a ganeti-ts cluster", () => {
  let c: LocalCluster;
  let client: GanetiClient;
  const now = Math.floor(Date.now() / 1000);
  const tagsOf = (name: string): Promise<string[]> => client.tags.list("instance", name);
  const run1 = () => harep(["-m", c.url], c.env());
  beforeAll(async () => {
    c = await startLocalCluster({ nodes: 1 });
    for (const n of ["web1.example.com", "web2.example.com"])
      await c.gnt(["instance", "add", "-t", "diskless", "-o", "noop", "-n", c.nodes[0]!, "--no-name-check", "--no-ip-check", n]);
    client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
  }, 240_000);
  afterAll(async () => {
    client?.close();
    await c?.destroy();
  }, 120_000);

  it("settles pending repairs by their jobs' outcome through our RAPI, and refuses two unfinished repairs", async () => {
    // a job that succeeded (a tag set) and one that failed (removing a tag that is not set)
    const okJob = client.tags.add("instance", "web1.example.com", ["marker"]);
    await okJob.wait();
    const okId = await okJob.id;
    const failJob = client.tags.remove("instance", "web1.example.com", ["nosuch"]);
    await expect(failJob.wait()).rejects.toThrow();
    const failId = await failJob.id;

    const p1 = `ganeti:watcher:autorepair:pending:failover:11111111-1111-4111-8111-111111111111:${now}:${okId}`;
    await client.tags.add("instance", "web1.example.com", [p1]).wait();
    let r = await run1();
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Moving web1.example.com from "Pending repair" to "Healthy"\n');
    let tags = await tagsOf("web1.example.com");
    expect(tags).not.toContain(p1);
    const ok = tags.filter((t) => t.includes(":result:"));
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatch(
      new RegExp(`^ganeti:watcher:autorepair:result:failover:11111111-1111-4111-8111-111111111111:\\d+:success:${okId}$`),
    );
    expect(r.out).toMatch(/\nHealthy: 2\n$/);

    // a newer repair whose job failed: Failure; the older result tag goes
    const p2 = `ganeti:watcher:autorepair:pending:migrate:22222222-2222-4222-8222-222222222222:${now + 100}:${failId}`;
    await client.tags.add("instance", "web1.example.com", [p2]).wait();
    r = await run1();
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Moving web1.example.com from "Pending repair" to "Failure"\n');
    tags = await tagsOf("web1.example.com");
    expect(tags.filter((t) => t.startsWith("ganeti:watcher:autorepair:"))).toEqual([
      expect.stringMatching(
        new RegExp(`^ganeti:watcher:autorepair:result:migrate:22222222-2222-4222-8222-222222222222:\\d+:failure:${failId}$`),
      ),
    ]);
    expect(r.out).toMatch(/\nFailure: 1\nHealthy: 1\n$/);

    // two unfinished repairs of one instance: Ganeti's error, nothing changed
    const p3 = `ganeti:watcher:autorepair:pending:failover:33333333-3333-4333-8333-333333333333:${now + 200}:${okId}`;
    const p4 = `ganeti:watcher:autorepair:pending:failover:44444444-4444-4444-8444-444444444444:${now + 300}:${okId}`;
    await client.tags.add("instance", "web2.example.com", [p3, p4]).wait();
    r = await run1();
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `Error: when parsing auto-repair tags: An unfinished repair was found in instance web2.example.com: found tag "${p4}", but older pending tag "${p3}"exists.\n`,
    );
    expect((await tagsOf("web2.example.com")).sort()).toEqual([p3, p4].sort());
  }, 180_000);
});

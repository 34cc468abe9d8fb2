// The SDK and the gnt CLI against a real ganeti-ts cluster (two nodes on
// 127.0.0.x, started by `gnt cluster init` / `gnt node add`).
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionError, GanetiClient, JobFailedError, NotFoundError, q, type JobLogLine } from "@ganeti-ts/sdk";
import { main as example } from "../../examples/sdk-scripts/create-and-wait.js";
import { GNT, REPO, startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
let c: LocalCluster;
let client: GanetiClient;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 2 });
  client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
}, 180_000);

afterAll(async () => {
  client?.close();
  await c?.destroy();
});

describe("SDK against a real cluster", () => {
  it("TLS: CA file and pinned fingerprint pass, a wrong pin fails", async () => {
    expect(await client.cluster.version()).toBe(2);
    const fp = new X509Certificate(readFileSync(c.caFile)).fingerprint256;
    // New clusters want credentials for reads too.
    const pinned = new GanetiClient({ baseUrl: c.url, fingerprint: fp, username: c.user, password: c.password });
    expect((await pinned.cluster.info()).name).toBe("cluster.example.com");
    pinned.close();
    const wrong = new GanetiClient({ baseUrl: c.url, fingerprint: "00".repeat(32), retry: false });
    await expect(wrong.cluster.info()).rejects.toBeInstanceOf(ConnectionError);
    wrong.close();
  });

  it("reads: features, nodes, groups, os, query", async () => {
    expect(await client.cluster.features()).toContain("instance-create-reqv1");
    const nodes = await client.nodes.list({ bulk: true });
    expect(nodes.map((n) => n.name).sort()).toEqual(c.nodes);
    expect(await client.nodes.getRole(c.nodes[0]!)).toBe("master");
    expect((await client.groups.list()).map((g) => g.name)).toContain("default");
    expect(await client.os.list()).toContain("noop");
    const rows = await client.query.from("node").select("name", "master_candidate").where(q.truthy("master_candidate")).rows();
    expect(rows.map((r) => r.name)).toContain(c.nodes[0]);
    await expect(client.instances.get("nosuch.example.com")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("instance lifecycle with job logs: create, modify, tags, migrate, remove", async () => {
    const name = "sdk-int1.example.com";
    const logs: JobLogLine[] = [];
    const [placed] = await client.instances
      .create({
        mode: "create",
        instance_name: name,
        disk_template: "diskless",
        disks: [],
        nics: [{}],
        os_type: "noop",
        pnode: c.nodes[0]!,
        hypervisor: "fake",
        beparams: { memory: 128, vcpus: 1 },
        name_check: false,
        ip_check: false,
      })
      .wait({ onLog: (l) => logs.push(l) });
    expect(placed).toEqual([c.nodes[0]]);
    expect(logs.length).toBeGreaterThan(0);
    expect((await client.instances.get(name)).status).toBe("running");

    const [changes] = await client.instances.modify(name, { beparams: { vcpus: 2 } }).wait();
    expect(changes).toContainEqual(["be/vcpus", 2]);

    await client.tags.add("instance", name, ["sdk:int"]).wait();
    expect(await client.tags.list("instance", name)).toContain("sdk:int");

    await client.instances.migrate(name, { target_node: c.nodes[1]! }).wait();
    expect((await client.instances.get(name)).pnode).toBe(c.nodes[1]);

    await client.instances.remove(name).wait();
    await expect(client.instances.get(name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("a failing job surfaces as JobFailedError with its ecode", async () => {
    const err = (await client.instances
      .startup("nosuch.example.com")
      .wait()
      .catch((e: unknown) => e)) as JobFailedError;
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err.ecode).toBe("unknown_entity");
  });

  it("examples/sdk-scripts/create-and-wait.ts runs, including the migration", async () => {
    const lines: string[] = [];
    await example(
      ["--url", c.url, "--user", c.user, "--password", c.password, "--ca", c.caFile, "--os", "noop", "--name", "sdk-int2.example.com"],
      {},
      {
        print: (l) => lines.push(l),
      },
    );
    expect(lines.some((l) => l.startsWith("migrating sdk-int2.example.com to"))).toBe(true);
    expect(lines.at(-1)).toBe("done");
  });
});

describe("gnt CLI against a real cluster", () => {
  const gnt = (args: string[]) =>
    run(process.execPath, [GNT, ...args], { cwd: REPO, env: { ...process.env, ...c.env() } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it("add, list, json, failure exit code, remove", async () => {
    const add = await gnt([
      "instance",
      "add",
      "-t",
      "diskless",
      "-o",
      "noop",
      "-H",
      "fake",
      "-B",
      "memory=128",
      "-n",
      c.nodes[0]!,
      "--no-name-check",
      "cli-int.example.com",
    ]);
    expect(add.code).toBe(0);
    expect(add.stderr).toContain("starting instance");
    const list = await gnt(["instance", "list", "--no-headers", "-o", "name,status"]);
    expect(list.stdout).toMatch(/^cli-int\.example\.com\s+running$/m);
    const json = await gnt(["--output", "json", "node", "list", "-o", "name"]);
    expect(
      JSON.parse(json.stdout)
        .map((n: { name: string }) => n.name)
        .sort(),
    ).toEqual(c.nodes);
    const bad = await gnt(["instance", "startup", "nosuch.example.com"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n").at(-1)).toMatch(/^gnt: Job \d+ failed: OpPrereqError: .*\(unknown_entity\)$/);
    expect((await gnt(["instance", "remove", "-f", "cli-int.example.com"])).code).toBe(0);
  });
});

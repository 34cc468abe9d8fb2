// The real Pulumi engine (CLI 3.248.0 through the Automation API) against a
// live three-node ganeti-ts cluster: preview, up, refresh and destroy of
// examples/pulumi-cluster, then in-place updates, a replacement and a failing
// job with test/e2e/program. Steps run in order and depend on each other.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { GanetiClient } from "@ganeti-ts/sdk";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { engineProcessesAfterRun, recorder, REPO, startEngine, type Engine } from "./engine.js";

// Each engine run takes 5-30 s on two cores.
const RUN = 180_000;

let cluster: LocalCluster;
let engine: Engine;
let client: GanetiClient;
let before: Snapshot;
const stacks: Stack[] = [];

interface Snapshot {
  instances: string[];
  groups: string[];
  networks: string[];
}

type Row = Record<string, any>;

async function snapshot(): Promise<Snapshot> {
  const names = (rows: Row[]) => rows.map((r) => String(r.name)).sort();
  return {
    instances: names((await client.instances.list({ bulk: true })) as Row[]),
    groups: names((await client.groups.list({ bulk: true })) as Row[]),
    networks: names((await client.networks.list({ bulk: true })) as Row[]),
  };
}

async function instance(name: string): Promise<Row> {
  return (await client.instances.get(name)) as Row;
}

/** Resource ops of a run (the stack resource counts too: created by the first up, deleted by destroy). */
function changes(summary: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && n > 0));
}

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 3 });
  client = new GanetiClient({ baseUrl: cluster.url, username: cluster.user, password: cluster.password, caFile: cluster.caFile });
  before = await snapshot();
  engine = await startEngine();
}, 240_000);

afterAll(async () => {
  const errors: unknown[] = [];
  for (const s of stacks) {
    // Whatever a failed step left behind goes; then the stack itself.
    await s.destroy().catch((e: unknown) => errors.push(e));
    await s.workspace.removeStack(s.name).catch((e: unknown) => errors.push(e));
  }
  client?.close();
  await engine?.cleanup().catch((e: unknown) => errors.push(e));
  await cluster?.destroy().catch((e: unknown) => errors.push(e));
  if (errors.length) throw new AggregateError(errors, "e2e cleanup failed");
}, 300_000);

describe("examples/pulumi-cluster through the Pulumi engine", () => {
  let stack: Stack;
  const web = "demo-web.example.com";
  const db = "demo-db.example.com";
  const batch = "demo-batch.example.com";

  it(
    "up creates the group, the network and three instances",
    async () => {
      stack = await engine.stack(path.join(REPO, "examples/pulumi-cluster"), "cluster", cluster);
      stacks.push(stack);
      const up = await stack.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ create: 6 }); // the stack, a group, a network, three instances

      const group = (await client.groups.get("demo-apps")) as Row;
      expect(group.tags).toEqual(["env:demo"]);
      const net = (await client.networks.get("demo-lan")) as Row;
      expect(net.network).toBe("192.0.2.0/24");
      expect(net.gateway).toBe("192.0.2.1");
      expect(net.tags).toEqual(["env:demo"]);
      expect(JSON.stringify(net.group_list)).toContain("demo-apps");
      expect(JSON.stringify(net.group_list)).toContain("default");

      const w = await instance(web);
      expect(w).toMatchObject({ pnode: cluster.nodes[0], disk_template: "diskless", admin_state: "up", tags: ["env:demo"] });
      expect(w.beparams.maxmem).toBe(256);
      expect(w["nic.ips"][0]).toMatch(/^192\.0\.2\.\d+$/);
      const d = await instance(db);
      expect(d).toMatchObject({ disk_template: "file", admin_state: "up", "disk.sizes": [1024, 2048] });
      expect(d.beparams.maxmem).toBe(512);
      expect(await instance(batch)).toMatchObject({ disk_template: "sharedfile", admin_state: "down" });

      expect(up.outputs.instances?.value.web.status).toBe("running");
      expect(up.outputs.instances?.value.db.ip[0]).toMatch(/^192\.0\.2\.\d+$/);
    },
    RUN,
  );

  it("the state holds no plaintext password; the stack config holds it encrypted", async () => {
    const files = await engine.allStoredText();
    const state = files.filter((f) => f.file.endsWith(path.join("stacks", "ganeti-cluster", "cluster.json")));
    expect(state.length, `no state file in ${engine.home}`).toBe(1);
    expect(state[0]!.text).toContain("demo-web.example.com");
    const leaks = files.filter((f) => f.text.includes(cluster.password)).map((f) => f.file);
    expect(leaks).toEqual([]);
    const cfg = await stack.getConfig("ganeti:password");
    expect(cfg).toMatchObject({ value: cluster.password, secret: true });
  });

  it(
    "an unchanged program previews no changes, before and after refresh",
    async () => {
      const p1 = await stack.preview();
      expect(changes(p1.changeSummary)).toEqual({});
      const r = await stack.refresh();
      expect(changes(r.summary.resourceChanges)).toEqual({});
      const p2 = await stack.preview();
      expect(changes(p2.changeSummary)).toEqual({});
    },
    RUN,
  );

  it(
    "out-of-band memory change and shutdown show up in refresh and are corrected by up",
    async () => {
      await cluster.gnt(["instance", "modify", "-B", "memory=384", web]);
      await cluster.gnt(["instance", "shutdown", db]);
      expect((await instance(web)).beparams.maxmem).toBe(384);
      expect((await instance(db)).admin_state).toBe("down");

      const rec = recorder();
      const r = await stack.refresh({ onEvent: rec.onEvent });
      expect(changes(r.summary.resourceChanges)).toEqual({ update: 2 });
      const refreshed = rec.events
        .filter((e) => e.phase === "outputs" && e.op === "update")
        .map((e) => e.name)
        .sort();
      expect(refreshed).toEqual(["db", "web"]);
      const state = (await stack.exportStack()).deployment.resources as Row[];
      const outs = (n: string) => state.find((s) => s.urn.endsWith(`::${n}`))!.outputs;
      expect(outs("web").maxMemory).toBe(384);
      expect(outs("db").state).toBe("stopped");

      const p = await stack.preview();
      expect(changes(p.changeSummary)).toEqual({ update: 2 });
      const up = await stack.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ update: 2 });
      expect((await instance(web)).beparams.maxmem).toBe(256);
      expect((await instance(db)).admin_state).toBe("up");
      expect(changes((await stack.preview()).changeSummary)).toEqual({});
    },
    2 * RUN,
  );

  it(
    "destroy leaves the cluster as it was",
    async () => {
      const d = await stack.destroy();
      expect(changes(d.summary.resourceChanges)).toEqual({ delete: 6 }); // the same six
      expect(await snapshot()).toEqual(before);
    },
    RUN,
  );
});

describe("in-place updates, a replacement and a failing job (test/e2e/program)", () => {
  let stack: Stack;
  const app = "e2e-app.example.com";
  const base = { node: "", memory: 256, disks: ["1G"], nics: 1, tags: ["e2e", "v1"] };
  const setSpec = (spec: object) => stack.setConfig("spec", { value: JSON.stringify(spec) });
  let uuid = "";

  it(
    "up creates the instance",
    async () => {
      stack = await engine.stack(path.join(REPO, "test/e2e/program"), "changes", cluster);
      stacks.push(stack);
      base.node = cluster.nodes[1]!;
      await setSpec(base);
      const up = await stack.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ create: 2 }); // the stack and app
      const i = await instance(app);
      expect(i).toMatchObject({ pnode: cluster.nodes[1], disk_template: "file", "disk.sizes": [1024], admin_state: "up" });
      expect(i["nic.links"]).toHaveLength(1);
      uuid = i.uuid;
      expect(up.outputs.appUuid?.value).toBe(uuid);
    },
    RUN,
  );

  it(
    "memory, disk growth, a new NIC and tags preview as an update and up applies them in place",
    async () => {
      const next = { ...base, memory: 512, disks: ["2G"], nics: 2, tags: ["e2e", "v2"] };
      await setSpec(next);
      const rec = recorder();
      const p = await stack.preview({ onEvent: rec.onEvent });
      expect(changes(p.changeSummary)).toEqual({ update: 1 });
      const step = rec.events.find((e) => e.phase === "pre" && e.name === "app");
      expect(step?.op).toBe("update");
      expect(step?.changedInputs).toEqual(expect.arrayContaining(["disks", "nics", "tags"]));
      expect(
        step?.changedInputs.some((d) => /memory/i.test(d)),
        step?.changedInputs.join(","),
      ).toBe(true);

      const up = await stack.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ update: 1 });
      const i = await instance(app);
      expect(i.uuid).toBe(uuid);
      expect(i.beparams).toMatchObject({ maxmem: 512, minmem: 512 });
      expect(i["disk.sizes"]).toEqual([2048]);
      expect(i["nic.links"]).toHaveLength(2);
      expect([...i.tags].sort()).toEqual(["e2e", "v2"]);
      expect(i.admin_state).toBe("up");
      Object.assign(base, next);
    },
    2 * RUN,
  );

  it(
    "a disk shrink previews as a replace and up deletes the old instance before creating the new one",
    async () => {
      const next = { ...base, disks: ["1G"] };
      await setSpec(next);
      const prec = recorder();
      const p = await stack.preview({ onEvent: prec.onEvent });
      expect(changes(p.changeSummary)).toEqual({ replace: 1 });
      expect(prec.events.some((e) => e.name === "app" && e.op === "update")).toBe(false);

      const rec = recorder();
      const up = await stack.up({ onEvent: rec.onEvent });
      expect(changes(up.summary.resourceChanges)).toEqual({ replace: 1 });
      const appSteps = rec.events.filter((e) => e.name === "app").map((e) => `${e.phase}:${e.op}`);
      const deleted = appSteps.indexOf("outputs:delete-replaced");
      const created = appSteps.indexOf("pre:create-replacement");
      expect(deleted, appSteps.join(" ")).toBeGreaterThanOrEqual(0);
      expect(created, appSteps.join(" ")).toBeGreaterThan(deleted);

      const i = await instance(app);
      expect(i.uuid).not.toBe(uuid);
      expect(i["disk.sizes"]).toEqual([1024]);
      expect(i.beparams.maxmem).toBe(512);
      expect(up.outputs.appUuid?.value).toBe(i.uuid);
      uuid = i.uuid;
      Object.assign(base, next);
    },
    2 * RUN,
  );

  it(
    "a job that cannot find memory fails up with its job id and Ganeti's message; no plugin process is left; state stays consistent",
    async () => {
      await setSpec({ ...base, hog: true });
      const err = await stack.up().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err, "up with a 64 TiB instance succeeded").toBeInstanceOf(Error);
      const text = String(err);
      expect(text).toMatch(/e2e-hog\.example\.com/);
      expect(text).toMatch(/Job \d+ failed/);
      // hail finds no node with the memory: "No valid allocation solutions, failure reasons: FailMem: 3".
      expect(text).toMatch(/OP_INSTANCE_CREATE/);
      expect(text).toMatch(/FailMem|Not enough memory/);
      // The failed run ended every process it started (CLI, language host, program, dynamic-provider hosts).
      expect(await engineProcessesAfterRun(engine)).toEqual([]);

      expect((await snapshot()).instances).not.toContain("e2e-hog.example.com");
      const state = (await stack.exportStack()).deployment.resources as Row[];
      expect(state.some((s) => String(s.urn).endsWith("::hog"))).toBe(false);
      expect((await instance(app)).uuid).toBe(uuid);

      // The program without the hog matches both the state and the cluster.
      await setSpec(base);
      expect(changes((await stack.preview()).changeSummary)).toEqual({});
    },
    2 * RUN,
  );

  it(
    "destroy leaves the cluster as it was",
    async () => {
      const d = await stack.destroy();
      expect(changes(d.summary.resourceChanges)).toEqual({ delete: 2 }); // app and the stack
      expect(await snapshot()).toEqual(before);
    },
    RUN,
  );
});

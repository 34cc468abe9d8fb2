// Secret and private OS parameters (issue 15 item 1): secret values never
// reach the job file yet reach the LU (and the OS scripts); after a master
// restart a job that lost its secrets fails as Ganeti's does; private and
// secret values are shown "<redacted>" wherever a job's opcodes are shown.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogicalUnit, type LockDecl, type OpcodeInput } from "../../src/cmdlib/base.js";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { isFinal, redactOpcode } from "../../src/jobs/job.js";
import { JobQueue } from "../../src/jobs/queue.js";
import { buildRapiServer } from "../../src/rapi/app.js";
import type { RpcRunner } from "../../src/rpc/runner.js";
import type { Store } from "../../src/store/store.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { testCluster, type TestCluster } from "../harness/cluster.js";
import { writeOs } from "../os/os-helpers.js";

const SECRET = "hunter2-secret-value";
const PRIVATE = "private-value-42";

/** Everything the store holds, as one string. */
async function storeText(store: Store): Promise<string> {
  const keys = [...(await store.list("queue/")), ...(await store.list("archive/"))];
  const parts: string[] = [];
  for (const k of keys) parts.push((await store.get(k))?.toString("utf8") ?? "");
  return parts.join("\n");
}

class Gate {
  private release: (() => void) | null = null;
  waiting = false;
  wait(): Promise<void> {
    this.waiting = true;
    return new Promise((r) => (this.release = r));
  }
  open(): void {
    this.release?.();
  }
}

function makeRegistry(seen: unknown[], gate: Gate) {
  class LUSecret extends LogicalUnit<{ lock?: string; gate?: boolean; osparams_secret?: unknown; instances?: unknown }> {
    expandNames(): LockDecl {
      return this.op.lock ? { instance: { names: [this.op.lock], shared: false } } : {};
    }
    checkPrereq(): void {}
    async exec(): Promise<unknown> {
      seen.push(this.op.osparams_secret ?? this.op.instances ?? null);
      if (this.op.gate) await gate.wait();
      return "done";
    }
  }
  return { OP_T_SECRET: LUSecret };
}

async function openQueue(store: MemoryStore, seen: unknown[], gate: Gate) {
  let config = await ClusterConfig.load(store);
  config ??= await ClusterConfig.create(
    store,
    buildInitialConfig({
      clusterName: "c.test",
      master: { name: "n1.test", ip: "127.0.0.1", rpcPort: 1811 },
      fileStorageDir: "/tmp/f",
      sharedFileStorageDir: "/tmp/s",
      osSearchPath: [],
    }),
  );
  return JobQueue.open({ store, config, rpc: {} as RpcRunner, allocator: { run: async () => ({}) }, registry: makeRegistry(seen, gate) });
}

/** Wait for the job's end, passing the log serial back (else a job that logs makes every wait return at once). */
async function waitFinal(queue: JobQueue, id: number) {
  let serial = 0;
  for (;;) {
    const job = (await queue.getJob(id))!;
    if (isFinal(job)) return job;
    const r = await queue.waitForChange(id, ["status"], queue.jobFields(job, ["status"]), serial, 1000);
    for (const l of r?.log_entries ?? []) serial = Math.max(serial, l[0]);
  }
}

describe("secret OS parameters in the job queue", () => {
  it("reach the LU but never the job file; shown redacted with the private ones", async () => {
    const store = new MemoryStore();
    const seen: unknown[] = [];
    const queue = await openQueue(store, seen, new Gate());
    const op: OpcodeInput = { OP_ID: "OP_T_SECRET", osparams_secret: { password: SECRET }, osparams_private: { key: PRIVATE } };
    const id = await queue.submit([op]);
    expect(await storeText(store)).not.toContain(SECRET);
    const job = await waitFinal(queue, id);
    expect(job.ops[0]!.status).toBe("success");
    expect(seen).toEqual([{ password: SECRET }]);
    expect(await storeText(store)).not.toContain(SECRET);
    const [ops] = queue.jobFields(job, ["ops"]) as [Array<Record<string, unknown>>];
    expect(ops[0]!["osparams_secret"]).toEqual({ password: "<redacted>" });
    expect(ops[0]!["osparams_private"]).toEqual({ key: "<redacted>" });
    await queue.archive(id);
    expect(await storeText(store)).not.toContain(SECRET);
    await queue.close();
  });

  it("nested creation opcodes (multi-alloc) keep their secrets out of the file too", async () => {
    const store = new MemoryStore();
    const seen: unknown[] = [];
    const queue = await openQueue(store, seen, new Gate());
    const id = await queue.submit([
      { OP_ID: "OP_T_SECRET", instances: [{ OP_ID: "OP_INSTANCE_CREATE", osparams_secret: { pw: SECRET } }] },
    ]);
    await waitFinal(queue, id);
    expect(seen).toEqual([[{ OP_ID: "OP_INSTANCE_CREATE", osparams_secret: { pw: SECRET } }]]);
    expect(await storeText(store)).not.toContain(SECRET);
    await queue.close();
  });

  it("after a master restart, a job that lost its secrets fails: re-submit (as Ganeti)", async () => {
    const store = new MemoryStore();
    const seen: unknown[] = [];
    const gate = new Gate();
    const first = await openQueue(store, seen, gate);
    await first.submit([{ OP_ID: "OP_T_SECRET", lock: "x", gate: true }]);
    for (let i = 0; i < 1000 && !gate.waiting; i++) await new Promise((r) => setTimeout(r, 1));
    expect(gate.waiting).toBe(true);
    const id = await first.submit([{ OP_ID: "OP_T_SECRET", lock: "x", osparams_secret: { password: SECRET } }]);
    expect(await storeText(store)).not.toContain(SECRET);

    // A new master process on the same store: the secret existed only in the old one's memory.
    const seen2: unknown[] = [];
    const second = await openQueue(store, seen2, new Gate());
    const job = await waitFinal(second, id);
    expect(job.ops[0]!.status).toBe("error");
    expect(job.ops[0]!.result).toEqual(["OpPrereqError", ["Please re-submit secret parameters to job.", "wrong_input"]]);
    expect(seen2).toEqual([]);
    await second.close();
    gate.open();
    await first.whenIdle();
    await first.close();
  });

  it("redaction covers per-OS private dicts and leaves other parameters alone", () => {
    expect(
      redactOpcode({
        OP_ID: "OP_CLUSTER_SET_PARAMS",
        osparams: { a: 1 },
        osparams_private_cluster: { debian: { k: "v" } },
        osparams_private: null,
      }),
    ).toEqual({
      OP_ID: "OP_CLUSTER_SET_PARAMS",
      osparams: { a: 1 },
      osparams_private_cluster: { debian: { k: "<redacted>" } },
      osparams_private: null,
    });
  });
});

describe("through the RAPI, down to the OS create script", () => {
  let c: TestCluster | null = null;
  afterEach(async () => {
    await c?.cleanup();
    c = null;
  });

  it("GET /2/jobs/N and /2/jobs?bulk=1 never show secret or private values; the script gets them", { timeout: 30_000 }, async () => {
    c = await testCluster();
    const osDir = path.join(c.root, "os");
    const out = path.join(c.root, "osp.txt");
    await writeOs(osDir, "envdump", {
      scripts: { create: `printf '%s %s' "$OSP_PASSWORD" "$OSP_KEY" > '${out}'` },
      parameters: "password the password\nkey a private key\n",
    });
    await c.config.mutate((d) => void (d.cluster.os_search_path = [osDir]));
    await writeFile(path.join(c.root, "users"), "admin secret write\n");
    const app = await buildRapiServer({
      config: c.config,
      queue: c.queue,
      rpc: c.rpc,
      usersFile: path.join(c.root, "users"),
      watchUsers: false,
    });
    try {
      const headers = { authorization: `Basic ${Buffer.from("admin:secret").toString("base64")}`, "content-type": "application/json" };
      const res = await app.inject({
        method: "POST",
        url: "/2/instances",
        headers,
        payload: JSON.stringify({
          __version__: 1,
          mode: "create",
          name: "inst1.example.com",
          disk_template: "file",
          disks: [{ size: 1024 }],
          nics: [{}],
          os_type: "envdump",
          pnode: "node1.example.com",
          name_check: false,
          ip_check: false,
          beparams: { memory: 128 },
          ignore_ipolicy: true,
          osparams_secret: { password: SECRET },
          osparams_private: { key: PRIVATE },
        }),
      });
      expect(res.statusCode).toBe(200);
      const id = res.json() as number;
      const job = await waitFinal(c.queue, id);
      expect([job.ops[0]!.status, job.ops[0]!.result]).toEqual(["success", ["node1.example.com"]]);
      expect(await readFile(out, "utf8")).toBe(`${SECRET} ${PRIVATE}`);
      for (const url of [`/2/jobs/${id}`, "/2/jobs?bulk=1"]) {
        const r = await app.inject({ url, headers });
        expect(r.statusCode).toBe(200);
        expect(r.body).not.toContain(SECRET);
        expect(r.body).not.toContain(PRIVATE);
        expect(r.body).toContain('"osparams_secret":{"password":"<redacted>"}');
        expect(r.body).toContain('"osparams_private":{"key":"<redacted>"}');
      }
      expect(await storeText(c.store)).not.toContain(SECRET);
    } finally {
      await app.close();
    }
  });
});

// In-process profile of GET /2/instances?bulk=1 (a measurement aid, not a
// test): the real RAPI server (fastify inject, no TLS) over a config with N
// instances and in-process node backends (fake hypervisor) behind the
// in-memory RPC runner. The instances are clones of one created by the real
// LU, so their shape is what OP_INSTANCE_CREATE writes.
// Run: npx tsx bench/master/profile-bulk.ts [--instances 1000] [--running 0] [--samples 200]
// Profile: node --cpu-prof --import tsx bench/master/profile-bulk.ts --only inject
// Lines: "inject" the whole request; "render" QueryEngine.objectsJson alone,
// "render, uncached" the same after an empty config change (nothing kept can
// be reused: what a list costs while jobs change the config), "dicts" the
// former way (objects() + JSON.stringify, after an empty config change) for comparison. All include the
// all_instances_info RPC (in memory: JSON round trip and result checks on both
// sides). CPU is this process's user+system time per request (less sensitive
// to other load than wall time).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { InstanceObject } from "@ganeti-ts/schema";
import { QueryEngine } from "../../server/src/config/query/engine.js";
import { LiveDataCache } from "../../server/src/config/query/live.js";
import { I_FIELDS, addMemoryBeparam, memoryBeparam } from "../../server/src/config/query/render.js";
import { buildRapiServer } from "../../server/src/rapi/app.js";
import { testCluster } from "../../server/test/harness/cluster.js";

const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "1000" },
    running: { type: "string", default: "0" },
    samples: { type: "string", default: "200" },
    only: { type: "string" },
  },
});
const N = Number(values.instances);
const RUNNING = Number(values.running);
const SAMPLES = Number(values.samples);

const c = await testCluster({ nodeMemory: 1024 * 1024 });
const dir = mkdtempSync(path.join(tmpdir(), "profile-bulk-"));
try {
  const node = c.nodes[0]!.name;
  await c.runOp({
    OP_ID: "OP_INSTANCE_CREATE",
    instance_name: "bench-0001.example.com",
    mode: "create",
    disk_template: "diskless",
    disks: [],
    nics: [{}],
    os_type: "noop",
    pnode: node,
    name_check: false,
    ip_check: false,
    beparams: { memory: 128 },
    start: RUNNING > 0,
  });
  const proto = c.config.findInstance("bench-0001.example.com")!;
  await c.config.mutate((d) => {
    for (let i = 2; i <= N; i++) {
      const inst = structuredClone(proto) as InstanceObject;
      inst.name = `bench-${String(i).padStart(4, "0")}.example.com`;
      inst.uuid = c.config.newUuid();
      inst.nics = inst.nics.map((n) => ({ ...n, uuid: c.config.newUuid(), mac: c.config.generateMac() }));
      d.instances[inst.uuid] = inst;
    }
  });
  for (let i = 2; i <= RUNNING; i++) {
    await c.runOp({ OP_ID: "OP_INSTANCE_STARTUP", instance_name: `bench-${String(i).padStart(4, "0")}.example.com` });
  }
  const usersFile = path.join(dir, "users");
  writeFileSync(usersFile, "admin secret write\n");
  const app = await buildRapiServer({ config: c.config, queue: c.queue, rpc: c.rpc, usersFile, watchUsers: false });
  const engine = new QueryEngine({ config: c.config, live: new LiveDataCache(c.rpc, 0), jobs: null });
  const headers = { authorization: `Basic ${Buffer.from("admin:secret").toString("base64")}` };

  const measure = async (label: string, fn: () => Promise<number>, before?: () => Promise<unknown>) => {
    if (values.only && values.only !== label) return;
    const ms: number[] = [];
    let bytes = 0;
    let cpu = 0;
    for (let i = 0; i < SAMPLES; i++) {
      if (before) await before();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      bytes = await fn();
      ms.push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      cpu += (c1.user + c1.system) / 1000;
    }
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(1);
    console.log(
      `${label.padEnd(17)} ${N} instances (${RUNNING} running), ${SAMPLES} samples, ${(bytes / 1024).toFixed(0)} KB: median ${q(0.5)} ms, p90 ${q(0.9)} ms, min ${q(0)} ms, CPU ${(cpu / SAMPLES).toFixed(1)} ms/request`,
    );
  };
  const bump = () => c.config.mutate(() => undefined);
  await measure("inject", async () => {
    const r = await app.inject({ method: "GET", url: "/2/instances?bulk=1", headers });
    if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}: ${r.body.slice(0, 200)}`);
    return r.rawPayload.length;
  });
  await measure(
    "inject, uncached",
    async () => (await app.inject({ method: "GET", url: "/2/instances?bulk=1", headers })).rawPayload.length,
    bump,
  );
  await measure("render", async () => (await engine.objectsJson("instance", I_FIELDS, memoryBeparam)).length);
  await measure("render, uncached", async () => (await engine.objectsJson("instance", I_FIELDS, memoryBeparam)).length, bump);
  await measure(
    "dicts",
    async () => {
      const objs = (await engine.objects("instance", I_FIELDS)) as Array<Record<string, unknown>>;
      return Buffer.from(JSON.stringify(objs.map(addMemoryBeparam))).length;
    },
    bump,
  );
  await app.close();
} finally {
  await c.cleanup();
  rmSync(dir, { recursive: true, force: true });
}

// Store benchmark (a measurement, not a test): the master's job throughput
// and bulk-list latency with the file store and with etcd, on a config of
// 200 nodes and N instances (fake hypervisor). In process: the real RAPI
// server (fastify inject, no TLS, no separate node daemons: in-process
// node backends behind the in-memory RPC runner), the real job queue and
// config on the chosen store. The instances are clones of one created by the
// real LU, spread over the nodes.
//   1. 200 start/stop jobs (startup + shutdown of 100 instances) submitted at
//      once through PUT /2/instances/NAME/{startup,shutdown}: jobs/s =
//      200 / (last end_ts - first received_ts);
//   2. GET /2/instances?bulk=1 latency (median / p90 / min of --samples).
// With --store etcd, one etcd member is started on 127.0.0.x with free ports
// and a temp data dir (killed after).
// Run: npx tsx bench/master/store-bench.ts --store file|etcd|memory [--instances 1000] [--nodes 200] [--samples 20]
//        [--fill-checkpoint no] [--profile FILE]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { InstanceObject } from "@ganeti-ts/schema";
import { buildRapiServer } from "../../server/src/rapi/app.js";
import { EtcdStore } from "../../server/src/store/etcd-store.js";
import { localEtcdSpecs, startEtcdMember, waitEtcdHealthy, type EtcdMember } from "../../server/src/store/etcd-member.js";
import { FileStore } from "../../server/src/store/file-store.js";
import { MemoryStore } from "../../server/src/store/memory-store.js";
import type { Store } from "../../server/src/store/store.js";
import { testCluster } from "../../server/test/harness/cluster.js";

const { values } = parseArgs({
  options: {
    store: { type: "string", default: "file" },
    instances: { type: "string", default: "1000" },
    nodes: { type: "string", default: "200" },
    jobs: { type: "string", default: "200" },
    samples: { type: "string", default: "20" },
    // "no": leave the fill in the file store's journal, so that its checkpoint runs during the jobs
    "fill-checkpoint": { type: "string", default: "yes" },
    // write a V8 CPU profile of the jobs phase only (open it in Chrome devtools)
    profile: { type: "string" },
  },
});
const N = Number(values.instances);
const NODES = Number(values.nodes);
const JOBS = Number(values.jobs);
const SAMPLES = Number(values.samples);

const dir = mkdtempSync(path.join(tmpdir(), "store-bench-"));
let member: EtcdMember | null = null;
let store: Store;
if (values.store === "etcd") {
  const [spec] = await localEtcdSpecs([`127.0.0.${30 + Math.floor(Math.random() * 200)}`]);
  member = await startEtcdMember(spec!, [spec!], { dataDir: path.join(dir, "etcd"), state: "new", token: randomBytes(4).toString("hex") });
  await waitEtcdHealthy(member.url);
  store = new EtcdStore([member.url], { maxTxnOps: 10_000 });
} else if (values.store === "file") {
  store = new FileStore(path.join(dir, "state"));
} else {
  store = new MemoryStore();
}

const loadAvg = async () => Number((await readFile("/proc/loadavg", "utf8")).split(" ")[0]);
const secs = (t: [number, number]) => t[0] + t[1] / 1e6;

const c = await testCluster({ nodes: NODES, nodeMemory: 1024 * 1024, store, verifyChanges: false });
try {
  const nodes = c.nodes;
  await c.runOp({
    OP_ID: "OP_INSTANCE_CREATE",
    instance_name: "bench-00001.example.com",
    mode: "create",
    disk_template: "diskless",
    disks: [],
    nics: [{}],
    os_type: "noop",
    pnode: nodes[0]!.name,
    name_check: false,
    ip_check: false,
    beparams: { memory: 128 },
    start: false,
  });
  const proto = c.config.findInstance("bench-00001.example.com")!;
  const t0 = performance.now();
  await c.config.mutate((d) => {
    for (let i = 2; i <= N; i++) {
      const inst = structuredClone(proto) as InstanceObject;
      inst.name = `bench-${String(i).padStart(5, "0")}.example.com`;
      inst.uuid = c.config.newUuid();
      inst.primary_node = nodes[(i - 1) % nodes.length]!.uuid;
      // Unique MACs from the index (generateMac looks at every instance's NICs: quadratic for a fill).
      const mac = `${c.config.cluster.mac_prefix}:${[i >> 16, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
      inst.nics = inst.nics.map((n) => ({ ...n, uuid: c.config.newUuid(), mac }));
      d.instances[inst.uuid] = inst;
    }
  });
  // The fill is one journal record of every instance (9 MB at 10,000): a real cluster's journal holds
  // recent changes only, so write it out into the per-key files now rather than during the jobs.
  if (store instanceof FileStore && values["fill-checkpoint"] !== "no") await store.checkpoint();
  const fillSecs = (performance.now() - t0) / 1000;

  const usersFile = path.join(dir, "users");
  writeFileSync(usersFile, "admin secret write\n");
  const app = await buildRapiServer({ config: c.config, queue: c.queue, rpc: c.rpc, usersFile, watchUsers: false });
  const headers = { authorization: `Basic ${Buffer.from("admin:secret").toString("base64")}` };

  // 200 start/stop jobs at once: startup then shutdown of JOBS/2 instances on different nodes.
  const names = Array.from({ length: JOBS / 2 }, (_, i) => `bench-${String(i + 2).padStart(5, "0")}.example.com`);
  const session = values.profile ? new Session() : null;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const s0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ids = await Promise.all(
    names.flatMap((name) =>
      ["startup", "shutdown"].map(async (verb) => {
        const r = await app.inject({ method: "PUT", url: `/2/instances/${name}/${verb}`, headers, payload: {} });
        if (r.statusCode !== 200) throw new Error(`${verb} ${name}: HTTP ${r.statusCode} ${r.body.slice(0, 200)}`);
        return JSON.parse(r.body) as number;
      }),
    ),
  );
  await c.queue.whenIdle();
  for (const id of ids) {
    // whenIdle can resolve between two jobs; wait for each to be final
    for (;;) {
      const j = (await c.queue.getJob(id))!;
      if (j.end_timestamp) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const wall = (performance.now() - s0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU time of this process (RAPI + queue + LUs + store client) per job: less sensitive to other load than jobs/s
  const cpuMsPerJob = (cpu.user + cpu.system) / 1000 / ids.length;
  if (session) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(values.profile!, JSON.stringify(profile));
    session.disconnect();
  }
  const jobs = await Promise.all(ids.map(async (id) => (await c.queue.getJob(id))!));
  const failed = jobs.filter((j) => j.ops.some((o) => o.status !== "success")).length;
  const span =
    Math.max(...jobs.map((j) => secs(j.end_timestamp as [number, number]))) -
    Math.min(...jobs.map((j) => secs(j.received_timestamp as [number, number])));
  const loadJobs = await loadAvg();

  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const a = performance.now();
    const r = await app.inject({ method: "GET", url: "/2/instances?bulk=1", headers });
    ms.push(performance.now() - a);
    bytes = r.rawPayload.length;
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;
  const result = {
    store: values.store,
    nodes: NODES,
    instances: N,
    fillSecs,
    jobs: ids.length,
    failed,
    span,
    jobsPerSec: ids.length / span,
    wall,
    cpuMsPerJob,
    ganetiRatio: ids.length / span / 0.63,
    bulk: { median: q(0.5), p90: q(0.9), min: q(0), kb: bytes / 1024 },
    load: { jobs: loadJobs, end: await loadAvg() },
  };
  console.log(
    `${values.store} store, ${NODES} nodes, ${N} instances: ${ids.length} start/stop jobs ${result.jobsPerSec.toFixed(1)} jobs/s (${span.toFixed(2)} s, ${result.ganetiRatio.toFixed(0)}x Ganeti's 0.63), CPU ${cpuMsPerJob.toFixed(1)} ms/job, ${failed} failed; ` +
      `GET bulk ${(bytes / 1024).toFixed(0)} KB median ${q(0.5).toFixed(1)} / p90 ${q(0.9).toFixed(1)} / min ${q(0).toFixed(1)} ms; load ${loadJobs} / ${result.load.end}`,
  );
  console.log(JSON.stringify(result));
  await app.close();
} finally {
  await c.cleanup();
  await store.close();
  await member?.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}

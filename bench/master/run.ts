// Master daemon benchmark (a measurement, not a test): on a local one-node
// cluster with the fake hypervisor,
//   1. GET /2/instances?bulk=1 latency with ~54 and with 1,000 instances
//      (a new TLS connection per request, like Ganeti's Python client);
//   2. throughput of 200 instance start/stop jobs submitted at once;
//   3. the master's peak RSS (VmHWM from /proc/PID/status).
// With each latency: the master's CPU time per request (utime+stime from
// /proc/PID/stat; less sensitive to other load than wall time) and the load
// average, and, for 1,000 instances, the same list fetched by a client that
// builds its TLS context (the parsed CA) once but still opens a new TLS
// connection per request: the difference is client-side CA parsing.
// Run: npx tsx bench/master/run.ts [--instances 1000] [--jobs 200] [--samples 20]
// Ganeti 3.0.2 reference (measured on a real cluster, see docs/benchmarks.md): ~1 s for the bulk list of
// 54 instances, ~0.6 jobs/s for start/stop jobs on one node.
import { readFile } from "node:fs/promises";
import https from "node:https";
import tls from "node:tls";
import path from "node:path";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { startLocalCluster, type LocalCluster } from "../../test/helpers/cluster.js";
import { createBody, rapiClient, waitFinal, type Rapi } from "../../test/durability/helpers.js";

const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "1000" },
    jobs: { type: "string", default: "200" },
    samples: { type: "string", default: "20" },
    concurrency: { type: "string", default: "16" },
  },
});
const N_INSTANCES = Number(values.instances);
const N_JOBS = Number(values.jobs);
const SAMPLES = Number(values.samples);
const CONCURRENCY = Number(values.concurrency);

interface JobTimes {
  received_ts: [number, number];
  end_ts: [number, number];
  status: string;
}

const secs = (t: [number, number]) => t[0] + t[1] / 1e6;

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function procStatus(pid: number): Promise<{ hwm: number; rss: number }> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { hwm: kb("VmHWM") / 1024, rss: kb("VmRSS") / 1024 };
}

/** utime + stime of a process, in ms (clock ticks are 10 ms on Linux). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function loadAvg(): Promise<number> {
  return Number((await readFile("/proc/loadavg", "utf8")).split(" ")[0]);
}

/** GET with a new TLS connection per request, the CA parsed once (tls.createSecureContext). */
async function reusedContextClient(c: LocalCluster): Promise<Rapi> {
  const secureContext = tls.createSecureContext({ ca: await readFile(c.caFile, "utf8") });
  const u = new URL(c.url);
  const auth = `Basic ${Buffer.from(`${c.user}:${c.password}`).toString("base64")}`;
  return {
    call<T>(method: string, p: string) {
      return new Promise<{ status: number; body: T }>((resolve, reject) => {
        // secureContext goes through to tls.connect; @types/node's RequestOptions does not list it.
        const opts: https.RequestOptions & { secureContext: tls.SecureContext } = {
          host: u.hostname,
          port: Number(u.port),
          path: p,
          method,
          secureContext,
          agent: false,
          headers: { Authorization: auth },
        };
        const req = https.request(opts, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
            } catch (err) {
              reject(new Error(`${method} ${p}: not JSON (${res.statusCode})`, { cause: err }));
            }
          });
        });
        req.on("error", reject);
        req.end();
      });
    },
  };
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p90: q(0.9), min: s[0]! };
}

async function createInstances(rapi: Rapi, node: string, names: string[]): Promise<number> {
  const t0 = performance.now();
  await pool(names, CONCURRENCY, async (name) => {
    const body = { ...createBody(name, node), start: false };
    const r = await rapi.call<number>("POST", "/2/instances", body);
    if (r.status !== 200) throw new Error(`create ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    const st = await waitFinal(rapi, [r.body], 600_000);
    if (st.get(r.body) !== "success") throw new Error(`create ${name}: job ${r.body} ${st.get(r.body)}`);
  });
  return (performance.now() - t0) / 1000;
}

interface Latency {
  median: number;
  p90: number;
  min: number;
  bytes: number;
  count: number;
  /** Master CPU time per request (ms). */
  masterCpu: number;
  load: number;
  /** Every sample in order (ms). */
  samples: number[];
}

async function bulkLatency(rapi: Rapi, masterPid: number): Promise<Latency> {
  const ms: number[] = [];
  let bytes = 0;
  let count = 0;
  const cpu0 = await cpuMs(masterPid);
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const r = await rapi.call<unknown[]>("GET", "/2/instances?bulk=1");
    ms.push(performance.now() - t0);
    count = r.body.length;
    bytes = JSON.stringify(r.body).length;
  }
  const masterCpu = ((await cpuMs(masterPid)) - cpu0) / SAMPLES;
  return { ...stats(ms), bytes, count, masterCpu, load: await loadAvg(), samples: ms.map((x) => Math.round(x * 10) / 10) };
}

const fmt = (l: Latency) => `${l.median.toFixed(1)} / ${l.p90.toFixed(1)} / ${l.min.toFixed(1)}`;

async function main() {
  let c: LocalCluster | undefined;
  try {
    console.error("starting a one-node cluster...");
    c = await startLocalCluster({ nodes: 1 });
    const rapi = await rapiClient(c, c.url);
    const node = c.nodes[0]!;
    const rt = JSON.parse(await readFile(path.join(c.dataDir, "master.runtime.json"), "utf8")) as { pid: number };
    const names = Array.from({ length: N_INSTANCES }, (_, i) => `bench-${String(i + 1).padStart(4, "0")}.example.com`);

    console.error("creating 54 instances...");
    const first = names.slice(0, 54);
    await createInstances(rapi, node, first);
    const lat54 = await bulkLatency(rapi, rt.pid);

    console.error(`creating ${N_INSTANCES - 54} more instances (${CONCURRENCY} in parallel)...`);
    const createSecs = await createInstances(rapi, node, names.slice(54));
    const createRate = (N_INSTANCES - 54) / createSecs;
    const latN = await bulkLatency(rapi, rt.pid);
    const latNctx = await bulkLatency(await reusedContextClient(c), rt.pid);

    console.error(`submitting ${N_JOBS} start/stop jobs at once...`);
    const targets = names.slice(0, N_JOBS / 2);
    const t0 = performance.now();
    const ids = await Promise.all(
      targets.flatMap((name) => [
        rapi.call<number>("PUT", `/2/instances/${name}/startup`, {}).then((r) => r.body),
        rapi.call<number>("PUT", `/2/instances/${name}/shutdown`, {}).then((r) => r.body),
      ]),
    );
    const submitSecs = (performance.now() - t0) / 1000;
    const final = await waitFinal(rapi, ids, 600_000);
    const wallSecs = (performance.now() - t0) / 1000;
    const failed = ids.filter((id) => final.get(id) !== "success");
    const jobs = await Promise.all(ids.map(async (id) => (await rapi.call<JobTimes>("GET", `/2/jobs/${id}`)).body));
    const span = Math.max(...jobs.map((j) => secs(j.end_ts))) - Math.min(...jobs.map((j) => secs(j.received_ts)));
    const mem = await procStatus(rt.pid);

    const t = new Table({ head: ["measure", "ganeti-ts", "Ganeti 3.0.2", "ratio"] });
    const ganetiBulk = 1000; // ms, bulk list of 54 instances (Ganeti 3.0.2: 935-1163 ms)
    const ganetiJobs = 0.6; // jobs/s, start/stop on one node
    t.push(
      [
        `GET /2/instances?bulk=1, ${lat54.count} instances (median / p90 / min ms)`,
        fmt(lat54),
        "~1000 (min 935)",
        `${(ganetiBulk / lat54.median).toFixed(0)}×`,
      ],
      [
        `GET /2/instances?bulk=1, ${latN.count} instances (median / p90 / min ms)`,
        fmt(latN),
        "~1000 for 54",
        `${(ganetiBulk / latN.median).toFixed(0)}× (vs 54)`,
      ],
      [`  same, client parses the CA once (median / p90 / min ms)`, fmt(latNctx), "", ""],
      [
        `  master CPU per request (ms): ${lat54.count} / ${latN.count} / same`,
        `${lat54.masterCpu.toFixed(1)} / ${latN.masterCpu.toFixed(1)} / ${latNctx.masterCpu.toFixed(1)}`,
        "",
        "",
      ],
      [`  load average (1 min) after: ${lat54.count} / ${latN.count} / same`, `${lat54.load} / ${latN.load} / ${latNctx.load}`, "", ""],
      [`bulk response size, ${latN.count} instances`, `${(latN.bytes / 1024).toFixed(0)} KB`, "53 KB for 54", ""],
      [
        `${ids.length} start/stop jobs: jobs/s (end_ts - received_ts span)`,
        `${(ids.length / span).toFixed(1)} (${span.toFixed(2)} s)`,
        "~0.6",
        `${(ids.length / span / ganetiJobs).toFixed(0)}×`,
      ],
      [`${ids.length} jobs: submit wall / total wall (s)`, `${submitSecs.toFixed(2)} / ${wallSecs.toFixed(2)}`, "~11 / ~80 for 50", ""],
      ["jobs not successful", String(failed.length), "", ""],
      [
        `instance creates, ${CONCURRENCY} parallel (jobs/s)`,
        createRate.toFixed(1),
        "0.18 (hail, 50 at once)",
        `${(createRate / 0.18).toFixed(0)}×`,
      ],
      ["master peak RSS (VmHWM) / current RSS", `${mem.hwm.toFixed(0)} MB / ${mem.rss.toFixed(0)} MB`, "", ""],
    );
    console.log(t.toString());
    console.log(
      JSON.stringify({
        lat54,
        latN,
        latNctx,
        jobs: ids.length,
        span,
        jobsPerSec: ids.length / span,
        submitSecs,
        wallSecs,
        failed: failed.length,
        createRate,
        mem,
      }),
    );
  } finally {
    await c?.destroy();
  }
}

await main();

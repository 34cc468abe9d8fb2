// Bounded fuzzing of the RAPI of a real cluster (master + two node daemons
// on 127.0.0.x, fake hypervisor): a few thousand requests from a fixed seed
// over every route of the endpoint table, with random path names, query
// flags, bodies and every parameter of the route's opcode given odd values.
// Afterwards: no 5xx other than the ones Ganeti gives, every error in
// Ganeti's {code, message, explain} shape, the master alive, the config
// consistent (verifyConfig), and every job final.
import { readFile } from "node:fs/promises";
import https from "node:https";
import path from "node:path";
import { OPCODES, RAPI_ENDPOINTS, RapiErrorBodySchema, type Endpoint } from "@ganeti-ts/schema";
import { readConfigData } from "@ganeti-ts/server/config/cluster-config";
import { verifyConfig } from "@ganeti-ts/server/config/verify";
import { isAlive, stopDaemon } from "@ganeti-ts/server/master/launcher";
import { FileStore } from "@ganeti-ts/server/store/file-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const SEED = 0x6a09e667;
const REQUESTS = 2500;
const CONCURRENCY = 8;
const FINAL = new Set(["success", "error", "canceled"]);

let c: LocalCluster;
let ca: string;
let agent: https.Agent;

/** mulberry32: a small, fixed-seed PRNG (same requests on every run). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Reply {
  status: number;
  text: string;
}

function send(method: string, p: string, opts: { body?: string; auth?: string | null; contentType?: string | null }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.auth) headers["Authorization"] = opts.auth;
    if (opts.body !== undefined) {
      headers["Content-Length"] = String(Buffer.byteLength(opts.body));
      if (opts.contentType !== null) headers["Content-Type"] = opts.contentType ?? "application/json";
    }
    const req = https.request({ host: c.host, port: c.port, path: p, method, ca, agent, headers, timeout: 30_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within 30 s: ${method} ${p}`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 2 });
  ca = await readFile(c.caFile, "utf8");
  agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
}, 180_000);

afterAll(async () => {
  agent?.destroy();
  await c?.destroy();
}, 120_000);

const auth = () => `Basic ${Buffer.from(`${c.user}:${c.password}`).toString("base64")}`;

async function api<T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await send(method, p, { body: body === undefined ? undefined : JSON.stringify(body), auth: auth() });
  return { status: r.status, body: JSON.parse(r.text) as T };
}

async function waitJobs(ids: number[], deadlineMs: number): Promise<Map<number, string>> {
  const stopAt = Date.now() + deadlineMs;
  const status = new Map<number, string>();
  for (;;) {
    const r = await api<{ id: number; status: string }[]>("GET", "/2/jobs?bulk=1");
    for (const j of r.body) status.set(j.id, j.status);
    const open = ids.filter((id) => !FINAL.has(status.get(id) ?? "?"));
    if (open.length === 0 || Date.now() > stopAt) return status;
    await new Promise((res) => setTimeout(res, 250));
  }
}

// ---- value generators --------------------------------------------------------

const NAMES = {
  instance_name: ["fz-a.example.com", "fz-b.example.com"],
  node_name: ["node1.example.com", "node2.example.com"],
  group_name: ["default", "fzgroup"],
  network_name: ["fznet"],
  resource: ["instance", "node", "group", "network", "job", "os", "cluster", "export", "lock", "filter"],
  filter_uuid: [] as string[],
};

const ODD_STRINGS = [
  "",
  " ",
  "a/b",
  "..",
  ".",
  "../../x",
  "a\u0000b",
  "UPPER.Example.COM",
  "with space",
  "\u202eevil",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "%00",
  "%zz",
  "é",
  "x".repeat(300),
  "-1",
  "1e309",
  "null",
  "true",
  "[]",
  "{}",
  "default",
  "none",
  "fz-a.example.com",
  "node1.example.com",
  "0",
  "999999999999999999999",
  "drbd",
  "plain",
  "file",
  "diskless",
  "kvm",
  "fake",
];

function generator(r: () => number) {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const oddNumber = () => pick([0, -1, 1, 2, 64, 128, 1024, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1.5, -0.5, 1e308, 4096]);
  const value = (depth = 0): unknown => {
    const k = int(depth > 2 ? 4 : 7);
    if (k === 0) return pick(ODD_STRINGS);
    if (k === 1) return oddNumber();
    if (k === 2) return pick([true, false, null]);
    if (k === 3) return pick(ODD_STRINGS.slice(0, 12));
    if (k === 4) return Array.from({ length: int(3) }, () => value(depth + 1));
    if (k === 5) return Object.fromEntries(Array.from({ length: int(3) }, () => [pick(ODD_STRINGS), value(depth + 1)]));
    return pick([[{ size: 64 }], [{}], [{ size: "1G", mode: "rw" }], [["add", { size: 64 }]], { memory: 128 }, { maxmem: -1 }]);
  };
  /** A value that often fits the parameter's name, else anything. */
  const param = (name: string): unknown => {
    if (r() < 0.35) return value();
    if (/(^|_)name$|^pnode$|^snode$|node$/.test(name))
      return pick([...NAMES.instance_name, ...NAMES.node_name, ...ODD_STRINGS.slice(0, 10)]);
    if (/^(memory|vcpus|size|amount|duration|timeout|shutdown_timeout|priority|candidate_pool_size)$/.test(name)) return oddNumber();
    if (/^(beparams|hvparams|osparams|osparams_private|osparams_secret|ndparams|diskparams|ipolicy|nicparams)$/.test(name))
      return pick([
        {},
        { memory: 128 },
        { maxmem: -1, vcpus: 0 },
        { kernel_path: 5 },
        { [pick(ODD_STRINGS)]: value() },
        { a: { b: { c: [] } } },
      ]);
    if (/^(disks|nics)$/.test(name)) return pick([[], [{ size: 64 }], [{}], [{ size: -5 }], [["add", { size: 64 }]], [[0, {}]], "x"]);
    if (/^(dry_run|force|ignore_|no_|wait_for_sync|start|ip_check|name_check|live|cleanup)/.test(name))
      return pick([true, false, 1, "yes"]);
    if (name === "depends") return pick([[[1, []]], [[-1, ["success"]]], [[999999, []]], "x"]);
    if (name === "tags") return pick([["a"], ["x".repeat(200)], [""], [5], "tag"]);
    if (name === "disk_template") return pick(["diskless", "file", "sharedfile", "plain", "drbd", "bogus"]);
    if (name === "os_type" || name === "os") return pick(["noop", "debootstrap", "..", "noop+x"]);
    return value();
  };
  return { int, pick, value, param };
}

type Gen = ReturnType<typeof generator>;

function pathFor(e: Endpoint, g: Gen): string {
  return e.path.replace(/\{(\w+)\}/g, (_, p: string) => {
    if (p === "job_id") return String(g.pick([1, 2, 3, g.int(60) + 1, 0, 999999, "99999999999999999999"]));
    if (p === "disk_index") return String(g.pick([0, 1, 7, 99999]));
    const known = (NAMES as Record<string, string[]>)[p] ?? [];
    const raw = known.length && g.int(10) < 6 ? g.pick(known) : g.pick(ODD_STRINGS);
    return encodeURIComponent(raw);
  });
}

function queryFor(e: Endpoint, g: Gen): string {
  const parts: string[] = [];
  for (const [k, def] of Object.entries(e.query)) {
    if (g.int(3) !== 0) continue;
    const v = def.kind === "int" ? g.pick(["0", "1", "2", "-1", "yes", ""]) : g.pick(ODD_STRINGS);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  if (g.int(10) === 0) parts.push(`${encodeURIComponent(g.pick(ODD_STRINGS))}=1`);
  if (e.path.startsWith("/2/query/") && g.int(2) === 0)
    parts.push(`fields=${encodeURIComponent(g.pick(["name", "name,pnode", "bogus", "name,,x", ""]))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

function bodyFor(e: Endpoint, g: Gen): unknown {
  const body: Record<string, unknown> = {};
  const keys = e.opcode ? Object.keys(OPCODES[e.opcode.opId].schema.shape).filter((k) => k !== "OP_ID") : [];
  if (e.handler === "instances.create")
    keys.push("__version__", "mode", "name", "disk_template", "disks", "nics", "os_type", "pnode", "beparams", "hvparams");
  if (e.handler === "instances.multiAlloc") return { instances: Array.from({ length: g.int(3) }, () => bodyFor(INSTANCE_CREATE, g)) };
  if (e.path.startsWith("/2/query/"))
    return { fields: g.pick([["name"], ["bogus"], "name", []]), qfilter: g.pick([null, ["=", "name", "x"], ["bogus"], [[[]]], "x"]) };
  if (e.handler?.startsWith("filters.")) {
    // REJECT and PAUSE rules match no real job: one matching all would stop the rest of the run.
    const action = g.pick(["ACCEPT", "REJECT", "PAUSE", ["RATE_LIMIT", 4], "BOGUS"]);
    const none = [["jobid", [">", "id", 100000000]]];
    const predicates = action === "REJECT" || action === "PAUSE" ? none : g.pick([[], [["jobid", [">", "id", 1]]], "x", [[]], none]);
    return { priority: g.param("priority"), predicates, action, reason: [] };
  }
  if (e.handler === "jobs.wait") return { fields: g.pick([["status"], ["bogus"], []]), previous_job_info: null, previous_log_serial: null };
  // Often one odd parameter on an otherwise default opcode (reaches the LU), else many.
  const chosen = g.int(2) === 0 ? (keys.length ? [g.pick(keys)] : []) : keys.filter(() => g.int(3) === 0);
  for (const k of chosen) body[k] = g.param(k);
  if (e.handler === "instances.create" && g.int(2) === 0) {
    // Often close to valid, so that creates reach the LU.
    Object.assign(body, {
      __version__: 1,
      mode: "create",
      name_check: false,
      ip_check: false,
      os_type: "noop",
      disks: [],
      nics: [{}],
      disk_template: "diskless",
    });
    body["name"] = g.pick([`fz${g.int(1000)}.example.com`, ...ODD_STRINGS.slice(0, 10)]);
  }
  if (g.int(8) === 0) body[g.pick(ODD_STRINGS)] = g.value();
  return body;
}

const INSTANCE_CREATE = RAPI_ENDPOINTS.find((e) => e.handler === "instances.create")!;

interface Failure {
  klass: string;
  example: string;
}

/**
 * Routes where Ganeti 3.0 itself answers 500 (an exception in rlib2 or a
 * LUXI error passed through; recorded exchanges and the RAPI reference):
 * console of an unknown instance, wait on an unknown job, OS list when the
 * diagnose job failed, filter rules unknown or invalid, query errors, tags of
 * unknown objects; and any locked query ("Sync queries are not allowed").
 */
const GANETI_500_ROUTES = new Set([
  "/2/instances/{instance_name}/console",
  "/2/jobs/{job_id}/wait",
  "/2/os",
  "/2/filters",
  "/2/filters/{filter_uuid}",
  "/2/query/{resource}",
  "/2/query/{resource}/fields",
]);
/** Messages of our own failures (never Ganeti's): JavaScript errors, internal paths. */
const INTERNAL =
  /Cannot read|is not a function|is not iterable|is not defined|undefined|Maximum call stack|Unexpected token|in JSON at position|\.ts:\d|\/tmp\/|master-state|ENOENT|EACCES|TypeError|RangeError|SyntaxError/;

function ganetiGives5xx(status: number, route: string, method: string, text: string): boolean {
  if (method === "HEAD") return status === 501; // no body to look at
  let message = "";
  try {
    message = String((JSON.parse(text) as { message?: unknown }).message ?? "");
  } catch {
    return false;
  }
  if (INTERNAL.test(message)) return false;
  if (status === 501) return true; // unknown or unsupported method
  if (status === 503) return true; // job queue full or drained, console of a stopped instance
  if (status === 502) return route.startsWith("/2/query/") || route === "/2/os"; // LUXI parse errors, "Can't get OS list"
  if (status !== 500) return false;
  if (message === "Sync queries are not allowed") return true;
  if (method === "GET" && route.endsWith("/tags")) return true;
  return GANETI_500_ROUTES.has(route);
}

it(`${REQUESTS} fuzzed requests: Ganeti's statuses and error shape, master alive, config consistent, every job final`, async () => {
  // A few objects for the routes to find.
  const setup = [
    (
      await api<number>("POST", "/2/instances", {
        __version__: 1,
        mode: "create",
        name: "fz-a.example.com",
        disk_template: "file",
        disks: [{ size: 1024 }],
        nics: [{}],
        os_type: "noop",
        pnode: "node1.example.com",
        name_check: false,
        ip_check: false,
        beparams: { memory: 128 },
      })
    ).body,
    (
      await api<number>("POST", "/2/instances", {
        __version__: 1,
        mode: "create",
        name: "fz-b.example.com",
        disk_template: "diskless",
        disks: [],
        nics: [{}],
        os_type: "noop",
        pnode: "node2.example.com",
        name_check: false,
        ip_check: false,
        beparams: { memory: 128 },
      })
    ).body,
    (await api<number>("POST", "/2/groups", { group_name: "fzgroup" })).body,
    (await api<number>("POST", "/2/networks", { network_name: "fznet", network: "10.99.0.0/24" })).body,
  ];
  const setupDone = await waitJobs(setup, 60_000);
  expect(setup.map((id) => setupDone.get(id))).toEqual(["success", "success", "success", "success"]);

  const g = generator(rng(SEED));
  const failures: Failure[] = [];
  const masterRt = JSON.parse(await readFile(path.join(c.dataDir, "master.runtime.json"), "utf8")) as { pid: number };
  const methods = ["GET", "PUT", "POST", "DELETE"];
  const requests = Array.from({ length: REQUESTS }, () => {
    const e = g.pick(RAPI_ENDPOINTS);
    const roll = g.int(100);
    const method = roll < 4 ? g.pick([...methods, "PATCH", "HEAD", "OPTIONS"]) : e.method;
    const withBody = method !== "GET" && method !== "HEAD" && method !== "DELETE" ? true : g.int(10) === 0;
    let body: string | undefined;
    if (withBody) {
      const b = g.int(40);
      body =
        b === 0
          ? "{not json"
          : b === 1
            ? "[1,2]"
            : b === 2
              ? ""
              : b === 3
                ? `${"[".repeat(g.pick([200, 5000]))}${"]".repeat(5000)}`
                : JSON.stringify(bodyFor(e, g));
    }
    const who = g.int(20);
    return {
      route: e.path,
      method,
      url: `${pathFor(e, g)}${queryFor(e, g)}`,
      body,
      auth: who === 0 ? null : who === 1 ? `Basic ${Buffer.from("admin:wrong").toString("base64")}` : auth(),
      contentType: g.int(30) === 0 ? g.pick([null, "text/plain", ""]) : undefined,
    };
  });

  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < requests.length) {
      const q = requests[next++]!;
      const where = `${q.method} ${q.url}${q.body !== undefined ? ` body=${q.body.slice(0, 200)}` : ""}`;
      let reply: Reply;
      try {
        reply = await send(q.method, q.url, q);
      } catch (err) {
        failures.push({ klass: `no answer: ${q.method} ${q.route}`, example: `${where}: ${(err as Error).message}` });
        continue;
      }
      answered++;
      if (reply.status >= 500 && !ganetiGives5xx(reply.status, q.route, q.method, reply.text))
        failures.push({ klass: `${reply.status} on ${q.method} ${q.route}`, example: `${where} -> ${reply.text.slice(0, 300)}` });
      if (reply.status >= 400 && q.method !== "HEAD") {
        let shape: unknown;
        try {
          shape = JSON.parse(reply.text);
        } catch {
          shape = undefined;
        }
        const ok = RapiErrorBodySchema.safeParse(shape);
        if (!ok.success || ok.data.code !== reply.status)
          failures.push({
            klass: `error not in Ganeti's shape: ${reply.status} on ${q.method} ${q.route}`,
            example: `${where} -> ${reply.text.slice(0, 300)}`,
          });
      }
      if (reply.status === 200 && q.route === "/2/filters" && q.method === "POST") {
        const uuid = (() => {
          try {
            return JSON.parse(reply.text) as unknown;
          } catch {
            return null;
          }
        })();
        if (typeof uuid === "string") NAMES.filter_uuid.push(uuid);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  // The master is alive and answers.
  expect(isAlive(masterRt.pid)).toBe(true);
  const info = await api<{ name: string }>("GET", "/2/info");
  expect([info.status, info.body.name]).toEqual([200, "cluster.example.com"]);

  // Filters the fuzzing added could hold jobs back forever (PAUSE): remove them, then every job ends.
  const filters = await api<{ uuid: string }[]>("GET", "/2/filters?bulk=1");
  for (const f of filters.body) await api("DELETE", `/2/filters/${f.uuid}`);
  const jobs = (await api<{ id: number }[]>("GET", "/2/jobs")).body.map((j) => j.id);
  const statuses = await waitJobs(jobs, 90_000);
  const stuck = jobs.filter((id) => !FINAL.has(statuses.get(id) ?? "?")).map((id) => `${id}:${statuses.get(id)}`);

  // The configuration the master persisted is consistent (read once it has stopped).
  expect(await stopDaemon(c.dataDir, "master")).toBe(true);
  const persisted = await readConfigData(new FileStore(path.join(c.dataDir, "master-state")));
  const problems = persisted ? verifyConfig(persisted.data) : ["no configuration persisted"];

  const classes = new Map<string, { count: number; examples: string[] }>();
  for (const f of failures) {
    const k = classes.get(f.klass) ?? { count: 0, examples: [] };
    k.count++;
    if (k.examples.length < 2) k.examples.push(f.example);
    classes.set(f.klass, k);
  }
  const report = [...classes].map(([k, v]) => `${v.count} x ${k}\n    ${v.examples.join("\n    ")}`);
  console.info(`rapi fuzz: ${REQUESTS} requests (${answered} answered), ${jobs.length} jobs, ${classes.size} failure classes`);
  expect({ failureClasses: report, jobsNotFinal: stuck, configProblems: problems }).toEqual({
    failureClasses: [],
    jobsNotFinal: [],
    configProblems: [],
  });
}, 300_000);

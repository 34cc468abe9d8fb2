// Test harness: a ClusterConfig on a MemoryStore, a fake job queue that
// records submitted opcodes, a fake RPC runner, a users file in a temp dir.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobRecord, NodeObject } from "@ganeti-ts/schema";
import type { FastifyInstance } from "fastify";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import type { JobQueueApi, WaitResult } from "../../src/jobs/queue-api.js";
import type { OpcodeInput, SubmitResult } from "../../src/cmdlib/base.js";
import { JobQueueError } from "../../src/lib/errors.js";
import { jobField } from "../../src/jobs/job.js";
import { buildRapiServer } from "../../src/rapi/app.js";
import type { RpcOutcome, RpcRunner } from "../../src/rpc/runner.js";
import { MemoryStore } from "../../src/store/memory-store.js";

export class FakeQueue implements JobQueueApi {
  submitted: OpcodeInput[][] = [];
  jobs = new Map<number, JobRecord>();
  nextId = 1;
  refuse: string | null = null;
  async submit(ops: OpcodeInput[]): Promise<number> {
    if (this.refuse) throw new JobQueueError(this.refuse);
    this.submitted.push(ops);
    const id = this.nextId++;
    this.jobs.set(id, {
      id,
      archived: false,
      received_timestamp: [1, 0],
      start_timestamp: null,
      end_timestamp: null,
      ops: ops.map((o) => ({
        input: o,
        status: "queued",
        result: null,
        log: [],
        priority: 0,
        start_timestamp: null,
        exec_timestamp: null,
        end_timestamp: null,
      })),
    });
    return id;
  }
  async submitMany(jobs: OpcodeInput[][]): Promise<SubmitResult[]> {
    return Promise.all(jobs.map(async (j) => [true, await this.submit(j)] as SubmitResult));
  }
  async getJob(id: number) {
    return this.jobs.get(id) ?? null;
  }
  listJobIds() {
    return [...this.jobs.keys()].sort((a, b) => a - b);
  }
  /** The real queue's field rendering (no opcode has a summary field here). */
  jobFields(job: JobRecord, fields: string[]): unknown[] {
    return fields.map((f) => jobField(job, f, () => undefined));
  }
  async waitForChange(id: number, fields: string[]): Promise<WaitResult | null> {
    const job = this.jobs.get(id);
    return job ? { job_info: this.jobFields(job, fields), log_entries: [] } : null;
  }
  async cancel(id: number): Promise<[boolean, string]> {
    return this.jobs.has(id) ? [true, `Job ${id} canceled`] : [false, `Job ${id} not found in queue`];
  }
  /** Mark a job finished with these per-opcode results. */
  finish(id: number, results: unknown[]): void {
    const j = this.jobs.get(id);
    if (!j) return;
    j.ops.forEach((o, i) => {
      o.status = "success";
      o.result = results[i] ?? null;
    });
  }
}

export class FakeRpc implements RpcRunner {
  calls: Array<{ node: string; name: string }> = [];
  /** node name → instance name → running info */
  running = new Map<string, Record<string, { memory: number; vcpus: number; state: string }>>();
  down = new Set<string>();
  async call(node: NodeObject, name: string, _args: unknown): Promise<never> {
    this.calls.push({ node: node.name, name });
    if (name === "instance_console_info") {
      return {
        instance: (_args as { instance: { name: string } }).instance.name,
        kind: "msg",
        message: "Console not available for fake hypervisor",
      } as never;
    }
    throw new Error(`unexpected call ${name}`);
  }
  async callMany(nodes: NodeObject[], name: string): Promise<Map<string, RpcOutcome<never>>> {
    const out = new Map<string, RpcOutcome<never>>();
    for (const n of nodes) {
      if (n.offline) {
        out.set(n.uuid, { ok: false, error: "offline", offline: true });
        continue;
      }
      this.calls.push({ node: n.name, name });
      if (this.down.has(n.name)) {
        out.set(n.uuid, { ok: false, error: "connection refused", offline: false });
        continue;
      }
      if (name === "node_info") {
        out.set(n.uuid, {
          ok: true,
          result: {
            name: n.name,
            memory_total: 24105,
            memory_dom0: 160,
            memory_free: 23143,
            cpu_total: 2,
            cpu_nodes: 1,
            cpu_sockets: 1,
            cpu_dom0: 2,
            storage: [{ type: "file", name: "/srv", storage_size: 258019, storage_free: 80188 }],
            bootid: "boot-1",
          } as never,
        });
      } else if (name === "all_instances_info") {
        const r = this.running.get(n.name) ?? {};
        const res = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { name: k, time: 1, ...v }]));
        out.set(n.uuid, { ok: true, result: res as never });
      } else out.set(n.uuid, { ok: false, error: `unexpected ${name}`, offline: false });
    }
    return out;
  }
}

export const USERS =
  "admin secret write\nreader reader read\njack abc123\nha1 {HA1}" +
  // md5("ha1:Ganeti Remote API:pw")
  "HASH\nclear {cleartext}foo555 read,write\n# comment\n";

export interface Env {
  app: FastifyInstance;
  config: ClusterConfig;
  queue: FakeQueue;
  rpc: FakeRpc;
  dir: string;
  usersFile: string;
  close(): Promise<void>;
}

export async function makeEnv(opts: { requireAuthentication?: boolean; extraNodes?: string[]; localAdmin?: boolean } = {}): Promise<Env> {
  const { createHash } = await import("node:crypto");
  const dir = mkdtempSync(join(tmpdir(), "rapi-test-"));
  const usersFile = join(dir, "users");
  writeFileSync(usersFile, USERS.replace("HASH", createHash("md5").update("ha1:Ganeti Remote API:pw").digest("hex")));
  const data = buildInitialConfig({
    clusterName: "cluster.ganeti.test",
    master: { name: "node1.ganeti.test", ip: "10.250.0.11", rpcPort: 1811 },
    fileStorageDir: "/srv/ganeti/file-storage",
    sharedFileStorageDir: "/srv/ganeti/shared-file-storage",
    osSearchPath: ["/srv/ganeti/os"],
    now: 1795578512.7,
  });
  const config = await ClusterConfig.create(new MemoryStore(), data);
  const queue = new FakeQueue();
  const rpc = new FakeRpc();
  const app = await buildRapiServer({
    config,
    queue,
    rpc,
    usersFile,
    requireAuthentication: opts.requireAuthentication ?? false,
    watchUsers: false,
    ...(opts.localAdmin ? { localAdmin: true } : {}),
    nowNs: () => 1795578578954922752n,
  });
  return {
    app,
    config,
    queue,
    rpc,
    dir,
    usersFile,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;
export const ADMIN = { authorization: basic("admin", "secret"), "content-type": "application/json" };
export const READER = { authorization: basic("reader", "reader"), "content-type": "application/json" };

/** A recorded exchange from the oracle captures. */
export interface Capture {
  method: string;
  path: string;
  query_string: string;
  auth_user: string | null;
  request_body: unknown;
  status: number;
  response_body: unknown;
  response_headers: Record<string, string>;
}
const CAPTURES = "/work/shared/oracle/captures";
export function loadCapture(seq: number): Capture {
  const name = readdirSync(CAPTURES).find((f) => f.startsWith(`${String(seq).padStart(3, "0")}-`));
  if (!name) throw new Error(`no capture ${seq}`);
  return JSON.parse(readFileSync(join(CAPTURES, name), "utf8")) as Capture;
}

const VOLATILE = /^(uuid|ctime|mtime|serial_no|group\.uuid|nic\.uuids|disk\.uuids|received_ts|start_ts|end_ts|\d+)$/;
/** Compare modulo volatile fields (uuids, timestamps, serials, live numbers). */
export function normalize(v: unknown, volatile = VOLATILE): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, volatile));
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, volatile.test(k) ? "<volatile>" : normalize(x, volatile)]),
    );
  }
  return v;
}

/** Replay a capture's request (its credentials mapped onto our users file). */
export async function replay(env: Env, c: Capture, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  if (c.auth_user === "admin" && !("authorization" in h)) h["authorization"] = basic("admin", "secret");
  if (c.auth_user === "reader" && !("authorization" in h)) h["authorization"] = basic("reader", "reader");
  if (!("content-type" in h)) h["content-type"] = "application/json";
  const url = c.query_string ? `${c.path}?${c.query_string}` : c.path;
  return env.app.inject({
    method: c.method as "GET",
    url,
    headers: h,
    payload: c.request_body === null || c.request_body === undefined ? "" : JSON.stringify(c.request_body),
  });
}

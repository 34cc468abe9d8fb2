// Small tools for the crash tests: a RAPI client over HTTPS (pinned to the
// cluster's certificate), reading persisted job files, waiting for jobs.
import { readFile } from "node:fs/promises";
import https from "node:https";
import path from "node:path";
import { FileStore } from "@ganeti-ts/server/store/file-store";
import type { LocalCluster } from "../helpers/cluster.js";

export interface Rapi {
  call<T = unknown>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function rapiClient(c: LocalCluster, url: string): Promise<Rapi> {
  const ca = await readFile(c.caFile, "utf8");
  const u = new URL(url);
  const auth = `Basic ${Buffer.from(`${c.user}:${c.password}`).toString("base64")}`;
  return {
    call<T>(method: string, p: string, body?: unknown) {
      return new Promise<{ status: number; body: T }>((resolve, reject) => {
        const data = body === undefined ? "" : JSON.stringify(body);
        const req = https.request(
          {
            host: u.hostname,
            port: Number(u.port),
            path: p,
            method,
            ca,
            agent: false,
            headers: { "Content-Type": "application/json", Authorization: auth, "Content-Length": Buffer.byteLength(data) },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (text += c));
            res.on("end", () => {
              try {
                resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
              } catch (err) {
                reject(new Error(`${method} ${p}: not JSON (${res.statusCode}): ${text.slice(0, 200)}`, { cause: err }));
              }
            });
          },
        );
        req.on("error", reject);
        req.end(data);
      });
    },
  };
}

export async function masterUrl(dataDir: string): Promise<string> {
  const rt = JSON.parse(await readFile(path.join(dataDir, "master.runtime.json"), "utf8")) as { rapiUrl: string };
  return rt.rapiUrl;
}

export interface JobFile {
  id: number;
  ops: { status: string; result: unknown; input: Record<string, unknown> }[];
}

/** Ganeti's job status from its opcodes' statuses. */
export function jobStatus(job: Pick<JobFile, "ops">): string {
  const st = job.ops.map((o) => o.status);
  if (st.every((s) => s === "success")) return "success";
  for (const s of ["canceled", "error", "canceling", "running", "waiting"]) if (st.includes(s)) return s;
  return "queued";
}

/** Every job in DIR/master-state/queue, as persisted (read through the file store: journal and files). */
export async function readJobFiles(dataDir: string): Promise<Map<number, JobFile>> {
  const store = new FileStore(path.join(dataDir, "master-state"));
  const out = new Map<number, JobFile>();
  for (const [key, value] of await store.scan("queue/job-")) {
    if (!/^queue\/job-\d+$/.test(key)) continue;
    const job = JSON.parse(value.toString("utf8")) as JobFile;
    out.set(job.id, job);
  }
  return out;
}

export const FINAL = new Set(["success", "error", "canceled"]);

export async function jobInfo(
  rapi: Rapi,
  id: number,
): Promise<{ id: number | null; status: string | null; opresult: unknown[] | null; opstatus: string[] | null }> {
  const r = await rapi.call<{ id: number | null; status: string | null; opresult: unknown[] | null; opstatus: string[] | null }>(
    "GET",
    `/2/jobs/${id}`,
  );
  return r.body;
}

/** Long-poll each job until it is final (no sleeps: /2/jobs/ID/wait returns on change). */
export async function waitFinal(rapi: Rapi, ids: number[], deadlineMs = 240_000): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const stopAt = Date.now() + deadlineMs;
  for (const id of ids) {
    let prev: unknown[] | null = null;
    for (;;) {
      if (Date.now() > stopAt) throw new Error(`job ${id} not final in time (last ${JSON.stringify(prev)})`);
      const r: { status: number; body: { job_info: [string] } | null } = await rapi.call<{ job_info: [string] } | null>(
        "GET",
        `/2/jobs/${id}/wait`,
        { fields: ["status"], previous_job_info: prev, previous_log_serial: null },
      );
      if (r.status !== 200) throw new Error(`wait ${id}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      if (!r.body) continue;
      prev = r.body.job_info;
      if (FINAL.has(r.body.job_info[0])) {
        out.set(id, r.body.job_info[0]);
        break;
      }
    }
  }
  return out;
}

export function createBody(name: string, pnode: string): Record<string, unknown> {
  return {
    __version__: 1,
    mode: "create",
    name,
    disk_template: "diskless",
    disks: [],
    nics: [{}],
    os_type: "noop",
    pnode,
    name_check: false,
    ip_check: false,
    beparams: { memory: 128 },
  };
}

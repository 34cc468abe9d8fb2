// harep: Ganeti's auto-repair tool, through the RAPI. Instances opt in with
// ganeti:watcher:autorepair:<type> tags (on the instance, its node group or
// the cluster); each run first settles the repairs recorded as pending
// (their jobs finished: a result tag replaces the pending one), then
// submits a repair for each broken, healthy instance its policy allows and
// records it in a pending tag naming the repair's jobs.
//
// Ganeti submits a repair as one job through LUXI; Ganeti's RAPI has no
// generic job submission, so here each opcode of a repair is one job on its
// RAPI resource, all named in the pending tag (ids joined by "+", as
// Ganeti's tag format allows).
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  COMMON_OPTS,
  type OptSpec,
  type Opts,
  runMain,
  loadExternalData,
  out,
  rapiCredentials,
  resolveLocalMaster,
  startTool,
} from "./common.js";
import { RapiClient } from "./rapi-client.js";
import { HtoolsError } from "../htools/types.js";
import type { Opcode } from "../htools/alloc.js";
import {
  AR_TYPE_SHOW,
  STATE_NAME,
  arTag,
  detectBroken,
  initialState,
  instancePolicies,
  showPolicy,
  typeAllowed,
  withCurrentTagRemoved,
  type ArData,
  type InstanceRepair,
} from "../htools/harep.js";

const SPECS: OptSpec[] = [
  ...COMMON_OPTS.filter((s) =>
    ["master", "luxi", "rapiUser", "rapiPasswordFile", "rapiCa", "help", "version", "helpCompletion"].includes(s.key),
  ),
  { long: ["reason"], arg: "req", key: "reason", help: "the reason to pass to the submitted jobs" },
  { long: ["dry-run"], arg: "none", key: "dryRun", help: "do not execute any commands and just report what would be done" },
  {
    long: ["job-delay"],
    arg: "req",
    key: "jobDelay",
    help: "(accepted for compatibility: Ganeti delays its one repair job with a test opcode, which the RAPI cannot submit)",
  },
];

/** Job states that are not final yet (Ganeti's statuses up to "running"). */
const UNFINISHED = new Set(["queued", "waiting", "canceling", "running"]);
const FINAL = new Set(["success", "error", "canceled"]);

/** The RAPI request that submits one repair opcode. */
function rapiRequest(op: Opcode): { method: string; path: string; body: Record<string, unknown> } {
  const { OP_ID: id, instance_name: name, ...params } = op;
  const base = `/2/instances/${encodeURIComponent(String(name))}`;
  switch (id) {
    case "OP_INSTANCE_FAILOVER":
      return { method: "PUT", path: `${base}/failover`, body: params };
    case "OP_INSTANCE_REPLACE_DISKS":
      return { method: "POST", path: `${base}/replace-disks`, body: params };
    case "OP_INSTANCE_RECREATE_DISKS":
      return { method: "POST", path: `${base}/recreate-disks`, body: params };
    case "OP_INSTANCE_REINSTALL":
      // the RAPI's reinstall would start the instance afterwards by default; harep's opcode does not
      return { method: "POST", path: `${base}/reinstall`, body: { start: false } };
    default:
      throw new HtoolsError(`harep: no RAPI resource runs ${String(id)}`, "EEXEC");
  }
}

class Repairs {
  constructor(
    private readonly rapi: RapiClient,
    private readonly reason: string | undefined,
    /** --dry-run: report, submit nothing (no repair, no tag) */
    readonly dryRun: boolean,
  ) {}

  /** The --reason query parameter, appended to a path that may have a query already. */
  private q(path: string): string {
    if (this.reason === undefined) return path;
    return `${path}${path.includes("?") ? "&" : "?"}reason=${encodeURIComponent(this.reason)}`;
  }

  async submit(op: Opcode): Promise<number> {
    const r = rapiRequest(op);
    return Number(await this.rapi.json(r.method, this.q(r.path), r.body));
  }

  async status(id: number): Promise<string> {
    const j = (await this.rapi.json("GET", `/2/jobs/${id}`)) as { status?: unknown };
    return String(j.status);
  }

  /** Wait for a job; an error unless it succeeded (Ganeti's execJobsWaitOk). */
  async waitOk(id: number): Promise<void> {
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const j = (await this.rapi.json("GET", `/2/jobs/${id}`)) as { status?: unknown; opresult?: unknown };
      const st = String(j.status);
      if (FINAL.has(st)) {
        if (st !== "success") throw new HtoolsError(`Job ${id} failed: ${st} ${JSON.stringify(j.opresult ?? null)}`, "EJOB");
        return;
      }
      await sleep(delay);
    }
  }

  /** Add the state's record tag and remove the stale ones (Ganeti's commitChange). */
  async commit(ir: InstanceRepair): Promise<InstanceRepair> {
    const path = `/2/instances/${encodeURIComponent(ir.name)}/tags`;
    if (ir.state.data) {
      const tag = ir.state.data.tag;
      out(`>>> Adding the following tag to ${ir.name}:\n${JSON.stringify(tag)}\n`);
      if (!this.dryRun) await this.waitOk(Number(await this.rapi.json("PUT", this.q(`${path}?tag=${encodeURIComponent(tag)}`))));
    }
    if (ir.remove.length > 0) {
      out(`>>> Removing the following tags from ${ir.name}:\n${ir.remove.map((t) => JSON.stringify(t) + "\n").join("")}`);
      const q = ir.remove.map((t) => `tag=${encodeURIComponent(t)}`).join("&");
      if (!this.dryRun) await this.waitOk(Number(await this.rapi.json("DELETE", this.q(`${path}?${q}`))));
    }
    return { ...ir, remove: [] };
  }
}

/** -m URL, else the local master's RAPI (-L[ARG] or $GANETI_DATA_DIR), as Ganeti's harep defaults to the local master. */
function masterUrl(o: Opts): string {
  if (typeof o.master === "string") return o.master;
  return resolveLocalMaster(typeof o.luxi === "string" ? o.luxi : true).rapi;
}

async function main(): Promise<number> {
  const cmd = startTool("harep", SPECS);
  if (typeof cmd === "number") return cmd;
  const { opts: o, args } = cmd;
  if (args.length > 0) throw new HtoolsError("this program doesn't take any arguments.");
  if (o.jobDelay !== undefined && !/^\d+(\.\d+)?$/.test(String(o.jobDelay)))
    throw new HtoolsError(`Invalid job delay '${String(o.jobDelay)}'`, "EUSAGE");
  const url = masterUrl(o);
  const { cd } = await loadExternalData({ master: url, ...pick(o, ["rapiUser", "rapiPasswordFile", "rapiCa"]) });
  const creds = rapiCredentials(o);
  if (creds.user === undefined)
    throw new HtoolsError(
      "harep: repairs need write access to the RAPI: --rapi-user and --rapi-password-file (or GANETI_RAPI_USER and GANETI_RAPI_PASSWORD)",
      "EUSAGE",
    );
  const rapi = new RapiClient(url, creds);
  try {
    return await run(cd, new Repairs(rapi, typeof o.reason === "string" ? o.reason : undefined, !!o.dryRun));
  } finally {
    rapi.close();
  }
}

function pick(o: Opts, keys: string[]): Opts {
  const r: Opts = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

const nowSecs = (): number => Math.floor(Date.now() / 1000);

async function run(cd: Awaited<ReturnType<typeof loadExternalData>>["cd"], rp: Repairs): Promise<number> {
  const policies = instancePolicies(cd, nowSecs());
  let states: InstanceRepair[];
  try {
    states = cd.instances.map((i) => initialState(i.name, i.allTags));
  } catch (e) {
    throw new HtoolsError(`when parsing auto-repair tags: ${(e as Error).message}`, "ETAGS");
  }

  // First step: settle the pending repairs whose jobs have finished.
  for (let k = 0; k < states.length; k++) {
    const ir = states[k]!;
    if (ir.state.kind !== "pending") continue;
    const data = ir.state.data;
    let sts: string[];
    try {
      sts = [];
      for (const j of data.jobs) sts.push(await rp.status(j));
    } catch (e) {
      throw new HtoolsError(`could not check job status: ${(e as Error).message}`, "EJOB");
    }
    if (sts.some((s) => UNFINISHED.has(s))) continue;
    const ok = sts.every((s) => s === "success");
    const rec: Omit<ArData, "tag"> = { ...data, result: ok ? "success" : "failure", time: nowSecs() };
    const dataNew: ArData = { ...rec, tag: arTag(rec) };
    const next: InstanceRepair = {
      name: ir.name,
      state: ok ? { kind: "healthy", data: dataNew } : { kind: "failed", data: dataNew },
      remove: withCurrentTagRemoved(ir),
    };
    out(`Moving ${ir.name} from ${JSON.stringify(STATE_NAME[ir.state.kind])} to ${JSON.stringify(STATE_NAME[next.state.kind])}\n`);
    states[k] = await rp.commit(next);
  }

  // Second and third steps: detect problems, repair the healthy instances the policy allows.
  for (let k = 0; k < states.length; k++) {
    const ir = states[k]!;
    const broken = detectBroken(cd, k);
    if (!broken || ir.state.kind !== "healthy") continue;
    const pol = policies[k]!;
    if (pol.kind !== "enabled") {
      out(`Not repairing ${ir.name} because it's in state ${showPolicy(pol)}\n`);
      continue;
    }
    if (!typeAllowed(broken.type, pol.max)) {
      const rec: Omit<ArData, "tag"> = { type: broken.type, uuid: randomUUID(), time: nowSecs(), jobs: [], result: "enoperm" };
      out(
        `Not performing a repair of type ${AR_TYPE_SHOW[broken.type]} on ${ir.name} because only repairs up to ${AR_TYPE_SHOW[pol.max]} are allowed\n`,
      );
      states[k] = await rp.commit({
        name: ir.name,
        state: { kind: "needs-repair", data: { ...rec, tag: arTag(rec) } },
        remove: withCurrentTagRemoved(ir),
      });
      continue;
    }
    out(`Executing ${AR_TYPE_SHOW[broken.type]} repair on ${ir.name}\n`);
    const uuid = randomUUID();
    const time = nowSecs();
    const jobs: number[] = [];
    if (!rp.dryRun) for (const op of broken.ops) jobs.push(await rp.submit(op));
    const rec: Omit<ArData, "tag"> = { type: broken.type, uuid, time, jobs, result: null };
    states[k] = await rp.commit({
      name: ir.name,
      state: { kind: "pending", data: { ...rec, tag: arTag(rec) } },
      remove: withCurrentTagRemoved(ir),
    });
  }

  const counts = new Map<string, number>();
  for (const s of states) counts.set(STATE_NAME[s.state.kind], (counts.get(STATE_NAME[s.state.kind]) ?? 0) + 1);
  out("---------------------\nInstance status count\n---------------------\n");
  for (const k of [...counts.keys()].sort()) out(`${k}: ${counts.get(k)}\n`);
  return 0;
}

// not awaited: runMain sets the exit code
void runMain("harep", main);

// The watcher (Ganeti's ganeti-watcher), one pass at a time, run inside the
// master daemon: by `gnt watcher` through the control socket, by a systemd
// timer calling that, or by the master's opt-in loop. Every change goes
// through a job: instances whose admin state is up but that do not run are
// started (at most MAXTRIES times within RETRY_EXPIRATION, Ganeti's
// back-off), disks of instances on nodes that rebooted are activated again,
// each group's disks are verified (and offline ones activated), old jobs are
// archived. The restart counts and boot ids live in the watcher state file,
// each instance's status in the instance status file, both in Ganeti's
// formats; a pause file stops the watcher until a given time.
import path from "node:path";
import type { ConfigData, InstanceObject } from "@ganeti-ts/schema";
import type { OpcodeInput } from "../cmdlib/base.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import { collectLive, instanceStatus } from "../config/query/index.js";
import { isFinal } from "../jobs/job.js";
import type { JobQueue } from "../jobs/queue.js";
import { readFileOrNull, removeFileDurable, writeFileAtomic } from "../lib/atomic-file.js";
import type { RpcRunner } from "../rpc/runner.js";

/** Restart attempts per instance before giving up (Ganeti's MAXTRIES). */
export const MAXTRIES = 5;
/** Seconds after which a restart attempt is forgotten (Ganeti's RETRY_EXPIRATION). */
export const RETRY_EXPIRATION = 8 * 3600;
/** Finalized jobs older than this are archived (Ganeti's watcher --job-age default). */
export const DEFAULT_JOB_AGE = 6 * 3600;
const REASON_SRC = "gnt:watcher";
const HELPLESS = new Set(["ERROR_nodedown", "ERROR_nodeoffline"]);

/** The watcher state file (Ganeti's watcher.data). */
interface WatcherState {
  instance: Record<string, { restart_count?: number; restart_when?: number }>;
  node: Record<string, { bootid?: string }>;
}

export interface WatcherDeps {
  config: ClusterConfig;
  queue: JobQueue;
  rpc: RpcRunner;
  /** The master's data directory: state, status and pause files. */
  dataDir: string;
  /** Seconds since the epoch. */
  clock?: () => number;
  jobAge?: number;
}

export function watcherPaths(dataDir: string) {
  return {
    state: path.join(dataDir, "watcher.data"),
    instanceStatus: path.join(dataDir, "instance-status"),
    pause: path.join(dataDir, "watcher.pause"),
  };
}

/** Until when the watcher is paused (epoch seconds), or null; a pause over for an hour is removed. */
export async function readWatcherPause(dataDir: string, now: number): Promise<number | null> {
  const file = watcherPaths(dataDir).pause;
  const raw = await readFileOrNull(file);
  if (raw === null) return null;
  const until = Number.parseInt(raw.trim(), 10);
  if (!Number.isFinite(until) || now > until + 3600) {
    await removeFileDurable(file);
    return null;
  }
  return until > now ? until : null;
}

/** Pause the watcher until `until` (epoch seconds), or resume it (null). Returns the pause end. */
export async function setWatcherPause(dataDir: string, until: number | null): Promise<number | null> {
  const file = watcherPaths(dataDir).pause;
  if (until === null) await removeFileDurable(file);
  else await writeFileAtomic(file, `${Math.floor(until)}\n`);
  return until === null ? null : Math.floor(until);
}

export class Watcher {
  private readonly clock: () => number;
  private running: Promise<string[]> | null = null;

  constructor(private readonly d: WatcherDeps) {
    this.clock = d.clock ?? (() => Date.now() / 1000);
  }

  /** One pass; its log lines. Concurrent callers share the pass in progress. */
  runOnce(): Promise<string[]> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<string[]> {
    const lines: string[] = [];
    const log = (level: string, msg: string) => lines.push(`${level}: ${msg}`);
    const now = this.clock();
    const until = await readWatcherPause(this.d.dataDir, now);
    if (until !== null) {
      log("INFO", `Pause has been set, exiting (paused until ${new Date(until * 1000).toISOString()})`);
      return lines;
    }
    const archived = await this.d.queue.archiveOld(this.d.jobAge ?? DEFAULT_JOB_AGE);
    log("DEBUG", `Archived ${archived} jobs`);

    const state = await this.loadState();
    const data = this.d.config.data;
    const live = await collectLive(this.d.rpc, data, { nodeInfo: true, instances: true });
    const ctx = { config: this.d.config, data, live };
    const instances = Object.values(data.instances).sort((a, b) => a.name.localeCompare(b.name));
    const statuses = new Map(instances.map((i) => [i.name, instanceStatus(ctx, i)]));

    const started = await this.checkInstances(state, instances, statuses, now, log);
    await this.checkDisks(state, data, live.nodes, statuses, started, log);
    for (const group of this.d.config.groups()) await this.verifyDisks(group.uuid, statuses, log);

    await this.saveState(state);
    await writeFileAtomic(
      watcherPaths(this.d.dataDir).instanceStatus,
      instances.map((i) => `${i.name} ${statuses.get(i.name)}\n`).join(""),
    );
    return lines;
  }

  /** Restart instances that should run and do not (Ganeti's _CheckInstances). */
  private async checkInstances(
    state: WatcherState,
    instances: InstanceObject[],
    statuses: Map<string, string>,
    now: number,
    log: (level: string, msg: string) => void,
  ): Promise<Set<string>> {
    // Forget instances that are gone and attempts older than the expiration.
    const names = new Set(instances.map((i) => i.name));
    for (const [name, entry] of Object.entries(state.instance)) {
      if (!names.has(name) || (entry.restart_when ?? 0) < now - RETRY_EXPIRATION) delete state.instance[name];
    }
    const started = new Set<string>();
    for (const inst of instances) {
      const status = statuses.get(inst.name)!;
      const n = state.instance[inst.name]?.restart_count ?? 0;
      if (status === "ERROR_down") {
        if (n > MAXTRIES) {
          log("WARNING", `Not restarting instance '${inst.name}', retries exhausted`);
          continue;
        }
        if (n === MAXTRIES) {
          this.recordAttempt(state, inst.name, now);
          log("ERROR", `Could not restart instance '${inst.name}' after ${MAXTRIES} attempts, giving up`);
          continue;
        }
        log("INFO", `Restarting instance '${inst.name}' (attempt #${n + 1})`);
        const res = await this.runJob([
          { OP_ID: "OP_INSTANCE_STARTUP", instance_name: inst.name, force: false, reason: this.reason(`Restarting instance ${inst.name}`) },
        ]);
        if (res.ok) started.add(inst.name);
        else log("ERROR", `Error while restarting instance '${inst.name}': ${res.error}`);
        this.recordAttempt(state, inst.name, now);
      } else if (n) {
        delete state.instance[inst.name];
        if (!HELPLESS.has(status)) log("INFO", `Restart of instance '${inst.name}' succeeded`);
      }
    }
    return started;
  }

  /**
   * Nodes whose boot id changed rebooted: the mirrored instances they are
   * secondary for get their disks activated again (Ganeti's _CheckDisks).
   */
  private async checkDisks(
    state: WatcherState,
    data: ConfigData,
    nodes: Awaited<ReturnType<typeof collectLive>>["nodes"],
    statuses: Map<string, string>,
    started: Set<string>,
    log: (level: string, msg: string) => void,
  ): Promise<void> {
    for (const node of Object.values(data.nodes).sort((a, b) => a.name.localeCompare(b.name))) {
      const live = nodes.get(node.uuid);
      const bootid = live?.status === "ok" ? live.info?.bootid : undefined;
      if (!bootid) continue;
      const old = state.node[node.name]?.bootid;
      if (old === bootid) continue;
      for (const inst of Object.values(data.instances).filter((i) => i.secondary_nodes.includes(node.uuid))) {
        if (!inst.disks_active) {
          log("INFO", `Skipping disk activation for instance with not activated disks '${inst.name}'`);
          continue;
        }
        if (started.has(inst.name) || HELPLESS.has(statuses.get(inst.name) ?? "")) continue;
        log("INFO", `Activating disks for instance '${inst.name}'`);
        const res = await this.runJob([
          {
            OP_ID: "OP_INSTANCE_ACTIVATE_DISKS",
            instance_name: inst.name,
            reason: this.reason(`Activating disks for instance ${inst.name}`),
          },
        ]);
        if (!res.ok) log("ERROR", `Error while activating disks for instance '${inst.name}': ${res.error}`);
      }
      state.node[node.name] = { bootid };
    }
  }

  /** Ganeti's _VerifyDisks: a group's verify-disks job, then activate what it found offline. */
  private async verifyDisks(groupUuid: string, statuses: Map<string, string>, log: (level: string, msg: string) => void): Promise<void> {
    const res = await this.runJob([
      { OP_ID: "OP_GROUP_VERIFY_DISKS", group_name: groupUuid, priority: 10, reason: this.reason(`Verifying disks of group ${groupUuid}`) },
    ]);
    if (!res.ok) {
      log("ERROR", `Error while verifying disks of group ${groupUuid}: ${res.error}`);
      return;
    }
    await this.d.queue.archive(res.id);
    const offline = ((res.result as [unknown, string[], unknown])[1] ?? []).filter((name) => {
      if (HELPLESS.has(statuses.get(name) ?? "")) {
        log("INFO", `Skipping instance '${name}' because it is in a helpless state or has offline secondaries`);
        return false;
      }
      return true;
    });
    if (!offline.length) return;
    const ops = offline.map((name) => ({
      OP_ID: "OP_INSTANCE_ACTIVATE_DISKS",
      instance_name: name,
      reason: this.reason(`Activating disks for instance ${name}`),
    }));
    const act = await this.runJob(ops);
    if (!act.ok) log("ERROR", `Error while activating disks: ${act.error}`);
  }

  private reason(text: string): [string, string, number][] {
    return [[REASON_SRC, text, Math.round(this.clock() * 1e9)]];
  }

  private recordAttempt(state: WatcherState, name: string, now: number): void {
    const e = (state.instance[name] ??= {});
    e.restart_count = (e.restart_count ?? 0) + 1;
    e.restart_when = now;
  }

  /** Submit a job and wait for its end: its first opcode's result, or the error. */
  private async runJob(ops: OpcodeInput[]): Promise<{ ok: true; id: number; result: unknown } | { ok: false; id: number; error: string }> {
    const id = await this.d.queue.submit(ops);
    let info: unknown[] | null = null;
    let serial = 0;
    for (;;) {
      const job = await this.d.queue.getJob(id);
      if (!job) return { ok: false, id, error: "job vanished" };
      if (isFinal(job)) {
        const failed = job.ops.find((o) => o.status !== "success");
        if (!failed) return { ok: true, id, result: job.ops[0]?.result ?? null };
        const r = failed.result;
        return { ok: false, id, error: Array.isArray(r) ? `${String(r[0])}: ${String((r[1] as unknown[])?.[0])}` : String(r) };
      }
      const res = await this.d.queue.waitForChange(id, ["status"], info, serial, 30_000);
      if (!res) continue;
      info = res.job_info;
      for (const l of res.log_entries) serial = Math.max(serial, l[0]);
    }
  }

  private async loadState(): Promise<WatcherState> {
    const raw = await readFileOrNull(watcherPaths(this.d.dataDir).state);
    if (raw === null) return { instance: {}, node: {} };
    try {
      const parsed = JSON.parse(raw) as Partial<WatcherState>;
      return { instance: parsed.instance ?? {}, node: parsed.node ?? {} };
    } catch {
      // A damaged state file only loses the restart counts: start afresh.
      return { instance: {}, node: {} };
    }
  }

  private async saveState(state: WatcherState): Promise<void> {
    await writeFileAtomic(watcherPaths(this.d.dataDir).state, JSON.stringify(state));
  }
}

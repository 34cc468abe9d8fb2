// The etcd membership follows the master candidates (clusters whose
// candidates run the etcd members themselves). Whatever changed the
// candidate pool (a node modify or role change through the RAPI or the
// CLI, a larger candidate_pool_size, a node add, a node remove with
// Ganeti's promotion of another node), the active master notices it in its
// config and reconciles: a node that is no longer a candidate is asked to
// give up the role (its member leaves the etcd cluster, then stops; its
// standby master daemon stops), a member whose node left the cluster is
// removed, and a new candidate is asked to take the role (its member joins,
// its standby master daemon starts). One change at a time, removals first,
// so that etcd's quorum never counts a member that is not there.
import type { NodeObject } from "@ganeti-ts/schema";
import { readFile } from "node:fs/promises";
import type { ClusterConfig } from "../config/cluster-config.js";
import type { LogFn } from "../lib/log.js";
import type { RpcRunner } from "../rpc/runner.js";
import type { EtcdStore } from "../store/etcd-store.js";
import { memberName, membershipChange } from "./candidate-host.js";
import type { DataPaths } from "./paths.js";
import type { MasterSettings } from "./settings.js";

/** How often the config is looked at for a changed candidate pool. */
const CHECK_MS = 500;
/** After a failed reconciliation, the next attempt. */
const RETRY_MS = 10_000;

export class CandidateSync {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastGeneration = -1;
  /** Candidate pool the etcd membership was last made to match ("" before the first). */
  private lastPool = "";
  private retryAt = 0;
  private lastError: Error | null = null;
  /** What the last reconciliations did (newest last, a bounded list): what `gnt` prints after its job. */
  private readonly changes: Array<{ at: number; text: string }> = [];
  private stopped = false;

  constructor(
    private readonly o: {
      config: ClusterConfig;
      rpc: RpcRunner;
      store: EtcdStore;
      p: DataPaths;
      settings: MasterSettings;
      log: LogFn;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), CHECK_MS);
    this.timer.unref();
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /**
   * Resolves once the membership matches the config as of now, with what
   * was changed since `since` (ms since the epoch), or throws why it could
   * not be done (the CLI waits on it after a job).
   */
  async settle(since = 0): Promise<string[]> {
    await this.running;
    if (!this.stopped && (this.poolKey() !== this.lastPool || this.retryAt !== 0)) {
      this.tick(true);
      await this.running;
      if (this.lastError) throw this.lastError;
    }
    return this.changes.filter((c) => c.at >= since).map((c) => c.text);
  }

  private record(text: string): void {
    this.o.log(`etcd membership: ${text}`);
    this.changes.push({ at: Date.now(), text });
    if (this.changes.length > 100) this.changes.shift();
  }

  private poolKey(): string {
    const d = this.o.config.data;
    return Object.values(d.nodes)
      .filter((n) => n.master_candidate || n.uuid === d.cluster.master_node)
      .map((n) => `${n.uuid}:${n.primary_ip}`)
      .sort()
      .join(",");
  }

  private tick(force = false): void {
    if (this.stopped || this.running) return;
    const gen = this.o.config.generation;
    if (!force && gen === this.lastGeneration && (this.retryAt === 0 || Date.now() < this.retryAt)) return;
    this.lastGeneration = gen;
    const pool = this.poolKey();
    if (pool === this.lastPool && this.retryAt === 0) return;
    this.running = this.reconcile()
      .then(() => {
        this.lastPool = pool;
        this.retryAt = 0;
        this.lastError = null;
      })
      .catch((err: unknown) => {
        this.retryAt = Date.now() + RETRY_MS;
        this.lastError = err instanceof Error ? err : new Error(String(err));
        this.o.log(`etcd membership: ${err instanceof Error ? err.message : String(err)}; trying again in ${RETRY_MS / 1000} s`, {
          level: "error",
        });
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** Make etcd's members those of the candidates, one change at a time. */
  private async reconcile(): Promise<void> {
    const { config, rpc, store, p, settings, log } = this.o;
    const d = config.data;
    const nodes = Object.values(d.nodes);
    const byMember = new Map(nodes.map((n) => [memberName(n.name), n]));
    const isCandidate = (n: NodeObject) => n.master_candidate || n.uuid === d.cluster.master_node;
    const members = (await store.client.cluster.memberList({})).members;
    let failure: unknown = null;

    for (const m of members) {
      if (this.stopped) return;
      // A member being added has no name until it starts: its node is on the way in.
      if (!m.name) continue;
      const node = byMember.get(m.name);
      if (node && isCandidate(node)) continue;
      if (node && !node.offline) {
        try {
          // The node takes its member out before stopping it, and stops its standby master.
          const changed = await rpc.call(node, "master_candidate_role", {
            candidate: false,
            address: node.primary_ip,
            master_settings: "",
            rapi_cert: "",
            rapi_users: "",
          });
          if (changed) this.record(`Removed the etcd member of ${node.name} and stopped its master daemon (no longer a master candidate)`);
        } catch (err) {
          failure ??= err;
          log(`etcd membership: ${node.name} did not give up its candidate role (${err instanceof Error ? err.message : String(err)})`, {
            level: "warn",
          });
        }
      }
      // Removed from the cluster, offline, or it could not do it itself: the member goes anyway.
      const still = (await store.client.cluster.memberList({})).members.find((x) => x.ID === m.ID);
      if (still) {
        await membershipChange(() => store.client.cluster.memberRemove({ ID: m.ID }));
        log(
          `etcd membership: removed member ${m.name} (${node ? `node ${node.name} is no longer a master candidate` : "its node left the cluster"})`,
        );
      }
    }

    const named = new Set(members.map((m) => m.name));
    const joining = nodes.filter((n) => isCandidate(n) && n.uuid !== d.cluster.master_node && !n.offline && !named.has(memberName(n.name)));
    if (joining.length > 0) {
      const files = {
        rapi_cert: await readFile(p.rapiCert, "utf8"),
        rapi_users: await readFile(p.rapiUsers, "utf8"),
      };
      for (const node of joining) {
        if (this.stopped) return;
        try {
          // Every live member's client URL: the joining node adds its member through them.
          const live = (await store.client.cluster.memberList({})).members.flatMap((m) => m.clientURLs);
          const master_settings = JSON.stringify({ ...settings, store: { ...settings.store, endpoints: live } });
          const changed = await rpc.call(node, "master_candidate_role", {
            candidate: true,
            address: node.primary_ip,
            ...files,
            master_settings,
          });
          if (changed) this.record(`Started the etcd member and the standby master daemon of ${node.name} (master candidate)`);
        } catch (err) {
          failure ??= err;
          log(`etcd membership: ${node.name} could not take its candidate role (${err instanceof Error ? err.message : String(err)})`, {
            level: "warn",
          });
        }
      }
    }
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  }
}

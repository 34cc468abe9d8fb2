// A master candidate's daemon with the etcd store. Every candidate runs one;
// they elect the active master through etcd: the one that creates the
// leader key (bound to its lease) serves the RAPI, runs jobs and owns the
// master IP; the others wait in standby. When the active master dies its
// lease expires (leaseTtl seconds) and a standby takes over: it loads the
// config, recovers the job queue (jobs that were running fail with
// "Unclean master daemon shutdown", queued ones run) and binds the RAPI
// address. Every write of a master is fenced by its leader key, so a
// deposed master cannot change anything once another has been elected.
//
// `gnt cluster master-failover` on a candidate asks for a handover: the
// active master stops serving, lets its running jobs finish, and resigns;
// only the asking candidate may then take over.
import { readFile, rm, writeFile } from "node:fs/promises";
import type { Lease } from "etcd3";
import { ClusterConfig } from "../config/cluster-config.js";
import type { LogFn } from "../lib/log.js";
import { EtcdStore } from "../store/etcd-store.js";
import { CandidateSync } from "./candidate-sync.js";
import { ConfigFollower } from "./config-follower.js";
import { startControlSocket } from "./control-socket.js";
import { setupMasterIp, type MasterIpParams } from "./master-ip.js";
import type { DataPaths } from "./paths.js";
import type { MasterSettings } from "./settings.js";
import { rapiUrlOf, serve, type RunningMaster, type Serving } from "./app.js";

export const LEADER_KEY = "master/leader";
export const HANDOVER_KEY = "master/handover";

/** What the leader key says about the active master. */
export interface LeaderInfo {
  node: string;
  rapiUrl: string;
  controlSocket: string;
  pid: number;
  since: number;
}

/**
 * Leader and handover changes arrive through an etcd watch; this is only
 * the fallback period of each check (a watch that silently stopped, a
 * lease that expired while etcd had no quorum).
 */
const POLL_MS = 3000;
/** Retry period of what no watch reports (binding the RAPI address, etcd errors). */
const RETRY_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function readLeader(store: EtcdStore): Promise<LeaderInfo | null> {
  const v = await store.get(LEADER_KEY);
  return v ? (JSON.parse(v.toString("utf8")) as LeaderInfo) : null;
}

async function nodeName(p: DataPaths): Promise<string> {
  const s = JSON.parse(await readFile(p.nodeSettings, "utf8")) as { name?: string };
  if (!s.name) throw new Error(`${p.nodeSettings} names no node: a master candidate needs its node name`);
  return s.name;
}

export async function startHaMaster(o: { p: DataPaths; settings: MasterSettings; log: LogFn }): Promise<RunningMaster> {
  const { p, settings, log } = o;
  const me = await nodeName(p);
  const store = new EtcdStore(settings.store.endpoints, {
    prefix: settings.store.prefix,
    maxTxnOps: settings.store.managed ? 10_000 : 128,
  });
  const rapiUrl = rapiUrlOf(settings, settings.rapi.port);
  const info = (): LeaderInfo => ({ node: me, rapiUrl, controlSocket: p.controlSocket, pid: process.pid, since: Date.now() / 1000 });

  let closed = false;
  let active: Serving | null = null;
  /** The active master's etcd membership follower (candidates running the members). */
  let sync: CandidateSync | null = null;
  let stepDown: ((why: string) => void) | null = null;
  let lastLeader: LeaderInfo | null = null;

  // Wake-ups on every change of the leader or handover key (instead of polling them).
  let wakers: Array<() => void> = [];
  const wake = () => {
    const w = wakers;
    wakers = [];
    for (const f of w) f();
  };
  /** Until the next change under master/ or `ms`, whichever comes first. */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wakers.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  let stopMasterWatch: (() => Promise<void>) | null = null;
  /** Watch the leader and handover keys, if not yet (etcd may not answer at start). */
  async function watchMaster(): Promise<void> {
    if (stopMasterWatch) return;
    try {
      stopMasterWatch = await store.watch("master/", wake);
    } catch (err) {
      log(`no watch on the leader key yet (${err instanceof Error ? err.message : String(err)}): checking every ${RETRY_MS} ms`);
    }
  }
  /** How long to wait for a change before checking anyway. */
  const checkMs = () => (stopMasterWatch ? POLL_MS : RETRY_MS);
  await watchMaster();

  // The standby's copy of the config (see config-follower.ts); null while active or when it could not start.
  let follower: ConfigFollower | null = null;
  async function follow(): Promise<void> {
    const f = new ConfigFollower(store);
    try {
      await f.start();
      follower = f;
    } catch (err) {
      log(`standby config copy not started (${err instanceof Error ? err.message : String(err)}): a takeover reads the config`);
    }
  }

  const control = await startControlSocket(p.controlSocket, () => active?.queue ?? null, {
    watcher: () => active?.watcher ?? null,
    notMaster: () => ({
      message: lastLeader ? `This node (${me}) is not the master; the master is ${lastLeader.node}` : `This node (${me}) is not the master`,
      master: lastLeader,
    }),
    methods: {
      GetMaster: async () => readLeader(store),
      MasterFailover: async (args) => handover(Number(args[0] ?? 300) * 1000),
      MasterState: async () => ({ node: me, active: active !== null }),
    },
    activeMethods: {
      // Resolves once the etcd membership follows the candidates of the config as it is now.
      SettleCandidates: async (args) => (sync ? sync.settle(Number(args[0] ?? 0)) : []),
    },
  });

  /** Ask the active master to hand over to this candidate, and wait until it has. */
  async function handover(timeoutMs: number): Promise<LeaderInfo> {
    if (active) return info();
    const lease = store.ns.lease(settings.store.leaseTtl);
    try {
      await lease.put(HANDOVER_KEY).value(me);
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (active) return info();
        await nap(Math.min(RETRY_MS, Math.max(1, until - Date.now())));
      }
      throw new Error(`no handover to ${me} within ${timeoutMs / 1000} s`);
    } finally {
      await lease.revoke().catch(() => undefined);
    }
  }

  /** Campaign until elected: create the leader key bound to our lease, if nobody holds it (and no handover to another is pending). */
  async function campaign(): Promise<{ lease: Lease; revision: string }> {
    for (;;) {
      if (closed) throw new Error("closing");
      try {
        const leader = await readLeader(store);
        lastLeader = leader;
        const handoverTo = (await store.get(HANDOVER_KEY))?.toString("utf8") ?? null;
        if (!leader && (handoverTo === null || handoverTo === me) && (await isCandidate())) {
          const lease = store.ns.lease(settings.store.leaseTtl);
          const leaseId = await lease.grant();
          const res = await store.ns
            .if(LEADER_KEY, "Create", "==", 0)
            .then(store.ns.put(LEADER_KEY).value(JSON.stringify(info())).lease(leaseId))
            .commit();
          if (res.succeeded) return { lease, revision: String(res.header.revision) };
          await lease.revoke().catch(() => undefined);
        }
      } catch (err) {
        log(`election: ${err instanceof Error ? err.message : String(err)}`, { level: "warn" });
        await sleep(RETRY_MS);
      }
      await watchMaster();
      await nap(checkMs());
    }
  }

  /** Only master candidates of the config may become master. */
  async function isCandidate(): Promise<boolean> {
    for (const [, v] of await store.scan("config/nodes/")) {
      const n = JSON.parse(v.toString("utf8")) as { name: string; master_candidate: boolean };
      if (n.name === me) return n.master_candidate;
    }
    // Not in the config yet (being added): not a candidate.
    return false;
  }

  /**
   * After the lease's keepalives failed: step down once etcd shows the
   * leader key gone or someone else's. While etcd cannot answer (no quorum)
   * nobody else can be elected either, so this master keeps serving reads
   * and refuses changes with the store's error until etcd is back.
   */
  async function leadershipGone(revision: string): Promise<string> {
    for (;;) {
      if (closed) return "closing";
      try {
        const kv = (await store.ns.get(LEADER_KEY).exec()).kvs[0];
        if (!kv || String(kv.create_revision) !== revision) return "leadership expired";
      } catch {
        // etcd unreachable: see above
      }
      await nap(RETRY_MS);
    }
  }

  async function activate(revision: string): Promise<Serving> {
    store.setFence({ key: LEADER_KEY, revision });
    let config: ClusterConfig | null = null;
    const f = follower;
    follower = null;
    if (f) {
      const t = await f.takeover().catch((err: unknown) => ({ config: null, why: err instanceof Error ? err.message : String(err) }));
      await f.stop();
      config = t.config;
      log(config ? `config from the standby copy (${t.why})` : `reading the config from etcd: ${t.why}`);
    }
    config ??= await ClusterConfig.load(store);
    if (!config) throw new Error("no cluster configuration in etcd");
    const node = config.findNode(me);
    if (node && config.data.cluster.master_node !== node.uuid) {
      await config.mutate((d) => {
        d.cluster.master_node = node.uuid;
      });
    }
    // The previous master may still be closing its listening socket (handover): retry the bind a while.
    for (let i = 0; ; i++) {
      try {
        const s = await serve({ p, settings, store, config, log });
        await masterIp("start", config);
        if (settings.store.managed) {
          sync = new CandidateSync({ config, rpc: s.rpc, store, p, settings, log });
          sync.start();
        }
        return s;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || i >= 40) throw err;
        await sleep(RETRY_MS);
      }
    }
  }

  async function masterIp(action: "start" | "stop", config: ClusterConfig): Promise<void> {
    const c = config.data.cluster;
    const params: MasterIpParams = {
      ip: c.master_ip,
      netmask: c.master_netmask,
      netdev: c.master_netdev,
      external: c.use_external_mip_script,
      script: settings.masterIpSetupScript,
    };
    try {
      log(`master IP: ${await setupMasterIp(action, params)}`);
    } catch (err) {
      // Ganeti carries on without the IP (the RAPI is reachable on the node's own address).
      log(`master IP ${action} failed: ${err instanceof Error ? err.message : String(err)}`, { level: "error" });
    }
  }

  async function run(): Promise<void> {
    while (!closed) {
      let won: { lease: Lease; revision: string };
      try {
        won = await campaign();
      } catch {
        return; // closing
      }
      let why = "";
      const lost = new Promise<string>((resolve) => {
        stepDown = resolve;
        won.lease.on("lost", (err) => {
          log(`leadership lease: keepalive failed (${err.message})`, { level: "warn" });
          void leadershipGone(won.revision).then(resolve);
        });
      });
      try {
        active = await activate(won.revision);
        lastLeader = info();
        log(`${me} is now the active master (leader revision ${won.revision}), RAPI ${active.rapiUrl}`);
        await writeFile(p.masterPid, JSON.stringify({ pid: process.pid, rapiUrl: active.rapiUrl, rapiPort: active.port }));
        const handoverAsked = (async () => {
          while (!closed && active) {
            const to = (await store.get(HANDOVER_KEY).catch(() => null))?.toString("utf8");
            if (to && to !== me) return `handover to ${to} requested`;
            await nap(checkMs());
          }
          return "closing";
        })();
        why = await Promise.race([lost, handoverAsked]);
      } catch (err) {
        why = `could not become master: ${err instanceof Error ? err.message : String(err)}`;
      }
      log(`${me} steps down: ${why}`);
      const s = active;
      active = null;
      stepDown = null;
      await sync?.stop();
      sync = null;
      if (s) {
        await s.close({ drain: true }).catch((err) => log(`closing: ${String(err)}`));
        await masterIp("stop", s.config);
      }
      await rm(p.masterPid, { force: true });
      await won.lease.revoke().catch(() => undefined);
      if (!closed) await follow();
      if (why.startsWith("could not")) await sleep(settings.store.leaseTtl * 1000);
    }
  }

  store.onFenced = () => stepDown?.("another master has been elected");
  await follow();
  const loop = run().catch((err) => log(`election loop ended: ${err instanceof Error ? err.stack : String(err)}`, { level: "error" }));
  log(`master candidate ${me} started in standby (etcd ${settings.store.endpoints.join(",")})`);

  return {
    get config() {
      return active?.config ?? null;
    },
    get queue() {
      return active?.queue ?? null;
    },
    rapiUrl,
    async close() {
      closed = true;
      stepDown?.("daemon stopping");
      wake();
      await loop;
      await follower?.stop();
      await stopMasterWatch?.().catch(() => undefined);
      await control.close();
      await store.close();
    },
  };
}

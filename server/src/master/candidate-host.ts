// What a machine runs as a master candidate of a cluster on the etcd store:
// its standby master daemon and, when the candidates run the etcd members
// themselves (`--store etcd` without endpoints), its etcd member. Used by
// the node daemon (the active master asks it to take the role or give it
// up after a change of the candidate pool, see candidate-sync.ts) and by
// the CLI on the machine it runs on (cluster init, node add with external
// etcd, node remove).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { EtcdStore } from "../store/etcd-store.js";
import { freePort, peerUrl, startEtcdMember, waitEtcdHealthy, type EtcdMemberSpec } from "../store/etcd-member.js";
import { isAlive, launchDaemon, readRuntime, stopDaemon } from "./launcher.js";
import { dataPaths } from "./paths.js";
import { loadMasterSettings, MasterSettingsSchema, type MasterSettings } from "./settings.js";

export const ETCD_RUNTIME = "etcd.runtime.json";

interface EtcdRuntime {
  pid: number;
  url: string;
  spec: EtcdMemberSpec;
  token: string;
}

/** The etcd member name of a node. */
export function memberName(node: string): string {
  return node.replace(/[^A-Za-z0-9-]/g, "-");
}

/**
 * An etcd membership change, retried while etcd answers "unhealthy
 * cluster": it refuses one until every member has been connected for a few
 * seconds (e.g. right after another member joined or left), and while the
 * client's circuit breaker holds back calls after such refusals.
 */
export async function membershipChange<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      // The etcd client stops calling a member for a few seconds after three failures in a row
      // (its circuit breaker): those refusals are the same "not yet" as the member's own.
      if (!/unhealthy cluster|circuit breaker is open/i.test(String((err as Error).message)) || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function readEtcdRuntime(dataDir: string): Promise<EtcdRuntime | null> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, ETCD_RUNTIME), "utf8")) as EtcdRuntime;
  } catch {
    return null;
  }
}

/** Whether `rt`'s etcd process still runs (and its pid was not reused by another process since). */
function etcdAlive(dataDir: string, rt: EtcdRuntime): boolean {
  if (!isAlive(rt.pid)) return false;
  try {
    const args = readFileSync(`/proc/${rt.pid}/cmdline`, "utf8").split("\0");
    const dir = args.find((a) => a.startsWith("--data-dir="))?.slice("--data-dir=".length);
    return dir !== undefined && path.resolve(dir) === path.resolve(dataDir, "etcd");
  } catch {
    return false;
  }
}

/**
 * Start this node's etcd member again after the machine or its daemons
 * restarted (it is started with the node daemon): same name, address and
 * ports, its data directory as it was. Returns whether it started one.
 */
export async function restartManagedEtcd(dataDir: string): Promise<boolean> {
  const rt = await readEtcdRuntime(dataDir);
  if (!rt || etcdAlive(dataDir, rt)) return false;
  const member = await startEtcdMember(rt.spec, [rt.spec], {
    dataDir: path.join(dataDir, "etcd"),
    // With its data directory in place etcd ignores the initial-cluster flags: it rejoins as the member it was.
    state: "existing",
    token: rt.token,
    detached: true,
    logFile: path.join(dataPaths(dataDir).logDir, "etcd.log"),
  });
  await writeFile(path.join(dataDir, ETCD_RUNTIME), JSON.stringify({ ...rt, pid: member.child.pid! }));
  return true;
}

/** Start this node's etcd member (a new cluster, or joining `existing` through its endpoints). */
export async function startManagedEtcd(dataDir: string, node: string, host: string, existing?: string[]): Promise<string> {
  const spec: EtcdMemberSpec = { name: memberName(node), host, clientPort: await freePort(host), peerPort: await freePort(host) };
  let cluster = [spec];
  let token = `ganeti-${randomBytes(6).toString("hex")}`;
  let added: { store: EtcdStore; id: string } | null = null;
  if (existing) {
    const store = new EtcdStore(existing);
    try {
      const res = await membershipChange(() => store.client.cluster.memberAdd({ peerURLs: [peerUrl(spec)] }));
      added = { store, id: res.member.ID };
      const list = await store.client.cluster.memberList({});
      cluster = list.members.map((m) => {
        const peer = new URL(m.peerURLs[0]!);
        return m.name ? { name: m.name, host: peer.hostname, clientPort: 0, peerPort: Number(peer.port) } : spec;
      });
    } catch (err) {
      await store.close();
      throw err;
    }
    token = "existing";
  }
  try {
    const member = await startEtcdMember(spec, cluster, {
      dataDir: path.join(dataDir, "etcd"),
      state: existing ? "existing" : "new",
      token,
      detached: true,
      logFile: path.join(dataPaths(dataDir).logDir, "etcd.log"),
    });
    const rt: EtcdRuntime = { pid: member.child.pid!, url: member.url, spec, token };
    await writeFile(path.join(dataDir, ETCD_RUNTIME), JSON.stringify(rt));
    await waitEtcdHealthy(member.url, 120_000);
    return member.url;
  } catch (err) {
    // A member added but never started still counts for etcd's quorum: take it out again.
    if (added) {
      const { store, id } = added;
      await stopManagedEtcd(dataDir);
      await membershipChange(() => store.client.cluster.memberRemove({ ID: id })).catch(() => undefined);
    }
    throw err;
  } finally {
    await added?.store.close();
  }
}

/** Take the etcd member of `nodeDir` out of the etcd cluster, through `endpoints` (its own left out). */
export async function leaveEtcd(nodeDir: string, endpoints: string[]): Promise<boolean> {
  const rt = await readEtcdRuntime(nodeDir);
  if (!rt) return false;
  const others = endpoints.filter((u) => u !== rt.url);
  const store = new EtcdStore(others.length > 0 ? others : endpoints);
  try {
    const list = await store.client.cluster.memberList({});
    const m = list.members.find((x) => x.name === rt.spec.name);
    if (!m) return false;
    await membershipChange(() => store.client.cluster.memberRemove({ ID: m.ID }));
    return true;
  } finally {
    await store.close();
  }
}

/** Stop the etcd member of this data dir, if it runs one. */
export async function stopManagedEtcd(dataDir: string): Promise<boolean> {
  const rt = await readEtcdRuntime(dataDir);
  if (!rt || !etcdAlive(dataDir, rt)) return false;
  process.kill(rt.pid, "SIGTERM");
  const until = Date.now() + 10_000;
  while (Date.now() < until && isAlive(rt.pid)) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(rt.pid)) process.kill(rt.pid, "SIGKILL");
  return true;
}

/** Whether the node in `nodeDir` runs its etcd member now. */
export async function runsEtcd(nodeDir: string): Promise<boolean> {
  const rt = await readEtcdRuntime(nodeDir);
  return rt !== null && etcdAlive(nodeDir, rt);
}

/** Whether the node in `nodeDir` runs its master daemon now. */
export async function runsMasterDaemon(nodeDir: string): Promise<boolean> {
  const rt = await readRuntime(nodeDir, "master");
  return typeof rt?.["pid"] === "number" && isAlive(rt["pid"]);
}

/** What a node needs to become a master candidate: the active master's settings and RAPI files. */
export interface CandidateFiles {
  settings: MasterSettings;
  rapiCert: string;
  rapiUsers: string;
}

/**
 * Make the node in `nodeDir` a master candidate: the RAPI certificate and
 * users, the master settings (with its own etcd member when the cluster
 * runs them), and its master daemon, which starts in standby. Does nothing
 * when it already runs its master daemon (and, for a managed etcd, its
 * member). Returns whether it started anything.
 */
export async function becomeCandidate(nodeDir: string, node: string, address: string, files: CandidateFiles): Promise<boolean> {
  const np = dataPaths(nodeDir);
  const { settings } = files;
  const managed = settings.store.kind === "etcd" && settings.store.managed;
  if ((await runsMasterDaemon(nodeDir)) && (!managed || (await runsEtcd(nodeDir)))) return false;
  await stopDaemon(nodeDir, "master");
  await writeFile(np.rapiCert, files.rapiCert, { mode: 0o600 });
  await mkdir(path.dirname(np.rapiUsers), { recursive: true, mode: 0o700 });
  await writeFile(np.rapiUsers, files.rapiUsers, { mode: 0o600 });
  let endpoints = settings.store.endpoints;
  if (managed) {
    const rt = await readEtcdRuntime(nodeDir);
    endpoints = endpoints.filter((u) => u !== rt?.url);
    await stopManagedEtcd(nodeDir);
    // A member that left cannot come back with its old data: etcd adds it as a new member.
    await rm(path.join(nodeDir, "etcd"), { recursive: true, force: true });
    endpoints = [...endpoints, await startManagedEtcd(nodeDir, node, address, endpoints)];
  }
  await writeFile(np.masterSettings, JSON.stringify({ ...settings, store: { ...settings.store, endpoints } }, null, 2));
  await launchDaemon("master", nodeDir);
  return true;
}

/**
 * Stop being a master candidate: stop the standby master daemon and, with a
 * managed etcd, take this node's member out of the etcd cluster first (so
 * that the others' quorum never counts a stopped member), then stop it.
 * Returns whether it stopped anything.
 */
export async function stopBeingCandidate(nodeDir: string): Promise<boolean> {
  const np = dataPaths(nodeDir);
  const stoppedMaster = await stopDaemon(nodeDir, "master");
  const rt = await readEtcdRuntime(nodeDir);
  if (!rt) return stoppedMaster;
  let endpoints: string[] = [rt.url];
  try {
    endpoints = (await loadMasterSettings(np.masterSettings)).store.endpoints;
  } catch {
    // no settings: only its own member's address is known
  }
  if (etcdAlive(nodeDir, rt)) await leaveEtcd(nodeDir, endpoints);
  await stopManagedEtcd(nodeDir);
  await rm(path.join(nodeDir, ETCD_RUNTIME), { force: true });
  await rm(path.join(nodeDir, "etcd"), { recursive: true, force: true });
  return true;
}

/** The candidate files of the master whose data directory is `masterDir`. */
export async function candidateFilesOf(masterDir: string, settings?: MasterSettings): Promise<CandidateFiles> {
  const mp = dataPaths(masterDir);
  return {
    settings: settings ?? (await loadMasterSettings(mp.masterSettings)),
    rapiCert: await readFile(mp.rapiCert, "utf8"),
    rapiUsers: await readFile(mp.rapiUsers, "utf8"),
  };
}

/** The node daemon's master_candidate_role for the node `node` of `dataDir`. */
export function candidateRoleOf(dataDir: string, node: string) {
  return {
    take: async (a: { address: string; masterSettings: string; rapiCert: string; rapiUsers: string }) =>
      becomeCandidate(dataDir, node, a.address, {
        settings: MasterSettingsSchema.parse(JSON.parse(a.masterSettings)),
        rapiCert: a.rapiCert,
        rapiUsers: a.rapiUsers,
      }),
    giveUp: async () => stopBeingCandidate(dataDir),
  };
}

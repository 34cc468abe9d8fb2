// Local plumbing of HA clusters (etcd store): the etcd members the master
// candidates run themselves (`gnt cluster init --store etcd` without
// endpoints), a joining candidate's files and standby master daemon, and
// finding the active master's control socket from any candidate's.
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import { readConfigData } from "@ganeti-ts/server/config/cluster-config";
import { isAlive, launchDaemon, stopDaemon } from "@ganeti-ts/server/master/launcher";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { loadMasterSettings, type MasterSettings } from "@ganeti-ts/server/master/settings";
import { openStore } from "@ganeti-ts/server/master/store-open";
import { freePort, peerUrl, startEtcdMember, waitEtcdHealthy, type EtcdMemberSpec } from "@ganeti-ts/server/store/etcd-member";
import { EtcdStore } from "@ganeti-ts/server/store/etcd-store";

const ETCD_RUNTIME = "etcd.runtime.json";

interface EtcdRuntime {
  pid: number;
  url: string;
  spec: EtcdMemberSpec;
  token: string;
}

function memberName(node: string): string {
  return node.replace(/[^A-Za-z0-9-]/g, "-");
}

/**
 * An etcd membership change, retried while etcd answers "unhealthy
 * cluster": it refuses one until every member has been connected for a few
 * seconds (e.g. right after another member joined or left), and while the
 * client's circuit breaker holds back calls after such refusals.
 */
async function membershipChange<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
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

/** Start this node's etcd member (a new cluster, or joining `existing` through its endpoints). */
export async function startManagedEtcd(dataDir: string, node: string, host: string, existing?: string[]): Promise<string> {
  const spec: EtcdMemberSpec = { name: memberName(node), host, clientPort: await freePort(host), peerPort: await freePort(host) };
  let cluster = [spec];
  let token = `ganeti-${randomBytes(6).toString("hex")}`;
  if (existing) {
    const store = new EtcdStore(existing);
    try {
      await membershipChange(() => store.client.cluster.memberAdd({ peerURLs: [peerUrl(spec)] }));
      const list = await store.client.cluster.memberList({});
      cluster = list.members.map((m) => {
        const peer = new URL(m.peerURLs[0]!);
        return m.name ? { name: m.name, host: peer.hostname, clientPort: 0, peerPort: Number(peer.port) } : spec;
      });
    } finally {
      await store.close();
    }
    token = "existing";
  }
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
}

/** Take the etcd member of `nodeDir` out of the etcd cluster (node removal), through the master's endpoints. */
export async function leaveEtcd(masterDir: string, nodeDir: string): Promise<boolean> {
  let rt: EtcdRuntime;
  try {
    rt = JSON.parse(await readFile(path.join(nodeDir, ETCD_RUNTIME), "utf8")) as EtcdRuntime;
  } catch {
    return false;
  }
  const settings = await loadMasterSettings(dataPaths(masterDir).masterSettings);
  const others = settings.store.endpoints.filter((u) => u !== rt.url);
  const store = new EtcdStore(others.length > 0 ? others : settings.store.endpoints);
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
  let rt: EtcdRuntime;
  try {
    rt = JSON.parse(await readFile(path.join(dataDir, ETCD_RUNTIME), "utf8")) as EtcdRuntime;
  } catch {
    return false;
  }
  if (!isAlive(rt.pid)) return false;
  process.kill(rt.pid, "SIGTERM");
  const until = Date.now() + 10_000;
  while (Date.now() < until && isAlive(rt.pid)) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(rt.pid)) process.kill(rt.pid, "SIGKILL");
  return true;
}

/**
 * Make the node in `nodeDir` a master candidate: the RAPI certificate and
 * users, the master settings (with its own etcd member when the cluster
 * runs them), and its master daemon, which starts in standby.
 */
export async function joinAsCandidate(masterDir: string, nodeDir: string, node: string, address: string): Promise<void> {
  const mp = dataPaths(masterDir);
  const np = dataPaths(nodeDir);
  const settings: MasterSettings = await loadMasterSettings(mp.masterSettings);
  await copyFile(mp.rapiCert, np.rapiCert);
  await mkdir(path.dirname(np.rapiUsers), { recursive: true, mode: 0o700 });
  await copyFile(mp.rapiUsers, np.rapiUsers);
  let endpoints = settings.store.endpoints;
  if (settings.store.managed) endpoints = [...endpoints, await startManagedEtcd(nodeDir, node, address, endpoints)];
  await writeFile(np.masterSettings, JSON.stringify({ ...settings, store: { ...settings.store, endpoints } }, null, 2));
  await launchDaemon("master", nodeDir);
}

/** Whether the node in `nodeDir` runs its etcd member now. */
async function runsEtcd(nodeDir: string): Promise<boolean> {
  try {
    const rt = JSON.parse(await readFile(path.join(nodeDir, ETCD_RUNTIME), "utf8")) as EtcdRuntime;
    return isAlive(rt.pid);
  } catch {
    return false;
  }
}

/**
 * Bring the etcd members of a cluster whose candidates run them in line
 * with the master candidates of its config (after a node modify, a role
 * change or a candidate pool change): a node that became a candidate joins
 * with a fresh member and starts its standby master daemon; one that no
 * longer is stops its master daemon and leaves the etcd cluster. `nodes`:
 * node name → data dir of the nodes this machine runs (not the master's).
 */
export async function syncEtcdCandidates(masterDir: string, nodes: Record<string, string>, print: (line: string) => void): Promise<void> {
  const mp = dataPaths(masterDir);
  const settings = await loadMasterSettings(mp.masterSettings);
  if (settings.store.kind !== "etcd" || !settings.store.managed) return;
  const store = openStore(settings, mp);
  let read: Awaited<ReturnType<typeof readConfigData>>;
  try {
    read = await readConfigData(store);
  } finally {
    await store.close();
  }
  if (!read) return;
  const { data } = read;
  for (const [name, nodeDir] of Object.entries(nodes)) {
    const node = Object.values(data.nodes).find((n) => n.name === name);
    // The active master is a candidate by definition; moving it is master-failover's job.
    if (!node || node.uuid === data.cluster.master_node) continue;
    const joined = await runsEtcd(nodeDir);
    if (node.master_candidate && !joined) {
      // A member that left cannot come back with its old data: etcd adds it as a new member.
      await rm(path.join(nodeDir, "etcd"), { recursive: true, force: true });
      await joinAsCandidate(masterDir, nodeDir, name, node.primary_ip);
      print(`Started the etcd member and the standby master daemon of ${name} (master candidate)`);
    } else if (!node.master_candidate && joined) {
      await stopDaemon(nodeDir, "master");
      await leaveEtcd(masterDir, nodeDir);
      await stopManagedEtcd(nodeDir);
      await rm(path.join(nodeDir, ETCD_RUNTIME), { force: true });
      await rm(path.join(nodeDir, "etcd"), { recursive: true, force: true });
      print(`Removed the etcd member of ${name} and stopped its master daemon (no longer a master candidate)`);
    }
  }
}

/** A control call that follows "not the master" answers to the active master's socket. */
export async function activeControlCall(sock: string, method: string, args: unknown[], timeoutMs?: number): Promise<unknown> {
  for (let hops = 0; ; hops++) {
    try {
      return await controlCall(sock, method, args, timeoutMs);
    } catch (err) {
      const e = err as { errorClass?: string; master?: { controlSocket?: string } | null };
      if (e.errorClass !== "NotMasterError" || !e.master?.controlSocket || e.master.controlSocket === sock || hops >= 3) throw err;
      sock = e.master.controlSocket;
    }
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

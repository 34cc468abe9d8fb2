// Local plumbing of HA clusters (etcd store): the etcd members the master
// candidates run themselves (`gnt cluster init --store etcd` without
// endpoints), a joining candidate's files and standby master daemon, and
// finding the active master's control socket from any candidate's.
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import { isAlive, launchDaemon } from "@ganeti-ts/server/master/launcher";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { loadMasterSettings, type MasterSettings } from "@ganeti-ts/server/master/settings";
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

/** Start this node's etcd member (a new cluster, or joining `existing` through its endpoints). */
export async function startManagedEtcd(dataDir: string, node: string, host: string, existing?: string[]): Promise<string> {
  const spec: EtcdMemberSpec = { name: memberName(node), host, clientPort: await freePort(host), peerPort: await freePort(host) };
  let cluster = [spec];
  let token = `ganeti-${randomBytes(6).toString("hex")}`;
  if (existing) {
    const store = new EtcdStore(existing);
    try {
      await store.client.cluster.memberAdd({ peerURLs: [peerUrl(spec)] });
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

// Local plumbing of HA clusters (etcd store) for the CLI on the machine it
// runs on: the master's own etcd member at cluster init, a node added with
// external etcd endpoints becoming a standby candidate, a removed node's
// member, waiting for the active master to make the etcd membership follow
// the candidates, and finding the active master's control socket from any
// candidate's.
import { rm } from "node:fs/promises";
import { controlCall } from "@ganeti-ts/server/master/control-socket";
import {
  becomeCandidate,
  candidateFilesOf,
  leaveEtcd as leaveEtcdThrough,
  startManagedEtcd,
  stopManagedEtcd,
} from "@ganeti-ts/server/master/candidate-host";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { loadMasterSettings } from "@ganeti-ts/server/master/settings";

export { startManagedEtcd, stopManagedEtcd };

/** Take the etcd member of `nodeDir` out of the etcd cluster (node removal), through the master's endpoints. */
export async function leaveEtcd(masterDir: string, nodeDir: string): Promise<boolean> {
  const settings = await loadMasterSettings(dataPaths(masterDir).masterSettings);
  return leaveEtcdThrough(nodeDir, settings.store.endpoints);
}

/**
 * Make the node in `nodeDir` a master candidate: the RAPI certificate and
 * users, the master settings (with its own etcd member when the cluster
 * runs them), and its master daemon, which starts in standby.
 */
export async function joinAsCandidate(masterDir: string, nodeDir: string, node: string, address: string): Promise<void> {
  await becomeCandidate(nodeDir, node, address, await candidateFilesOf(masterDir));
}

/**
 * After a job that may have changed the master candidates of a cluster
 * whose candidates run the etcd members: wait until the active master has
 * brought the etcd membership in line (it asks the nodes concerned to start
 * or stop their member and standby master daemon), and print what it did
 * since this command started.
 */
export async function syncEtcdCandidates(masterDir: string, print: (line: string) => void): Promise<void> {
  const mp = dataPaths(masterDir);
  const settings = await loadMasterSettings(mp.masterSettings);
  if (settings.store.kind !== "etcd" || !settings.store.managed) return;
  const since = Date.now() - process.uptime() * 1000;
  const lines = (await activeControlCall(mp.controlSocket, "SettleCandidates", [since], 600_000)) as string[];
  for (const l of lines) print(l);
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

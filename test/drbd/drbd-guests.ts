// Probes of real guests on drbd disks in a local cluster, shared by the drbd
// acceptance tests: where a node keeps a guest's console log and pid file,
// the counter values the guest printed (its test init fsyncs a counter to its
// disk and prints each acknowledged value), and the mirror's state from
// instance info.
import { promises as fs } from "node:fs";
import type { GanetiClient } from "@ganeti-ts/sdk";
import { poller } from "../../server/test/harness/poll.js";
import type { LocalCluster } from "../helpers/cluster.js";
import { kvmFile } from "../helpers/kvm-guest.js";

/** The first disk's primary and secondary status, Ganeti's tuples. */
export interface DiskStatus {
  pstatus: unknown[] | null;
  sstatus: unknown[] | null;
}

// Tuple positions: dev_path, major, minor, sync_percent, estimated_time, is_degraded, ldisk_status.
export const degraded = (s: unknown[] | null) => s?.[5] === true;
export const inSync = (s: DiskStatus) =>
  s.pstatus?.[5] === false && s.pstatus?.[3] === null && s.sstatus !== null && s.sstatus[5] === false;

const until = poller({ timeoutMs: 300_000, intervalMs: 250 });

export class DrbdGuests {
  constructor(
    private readonly c: LocalCluster,
    private readonly client: GanetiClient,
  ) {}

  serialLog(node: string, name: string): string {
    return kvmFile(this.c.nodeDir(node), "log", name);
  }

  pidFile(node: string, name: string): string {
    return kvmFile(this.c.nodeDir(node), "pid", name);
  }

  /** Every acknowledged counter value the guest printed on `node`'s console after byte `from`. */
  async counters(node: string, name: string, from = 0): Promise<number[]> {
    const text = (await fs.readFile(this.serialLog(node, name), "utf8").catch(() => "")).slice(from);
    return [...text.matchAll(/GTS-COUNTER (\d+)/g)].map((m) => Number(m[1]));
  }

  /** Waits until the guest on `node` printed a counter ≥ `min` after byte `from`; the values. */
  counterAtLeast(node: string, name: string, min: number, from = 0): Promise<number[]> {
    return until(`counter ≥ ${min} on ${node}`, async () => {
      const v = await this.counters(node, name, from);
      return v.length > 0 && v[v.length - 1]! >= min ? v : undefined;
    });
  }

  /** instance info (live): the first disk's status, with the instance's nodes. */
  async diskStatus(name: string): Promise<DiskStatus & { pnode: string; snodes: string[] }> {
    const [res] = await this.client.instances.info(name).wait();
    const info = res[name] as { disks: DiskStatus[]; pnode: string; snodes: string[] };
    return { ...info.disks[0]!, pnode: info.pnode, snodes: info.snodes };
  }
}

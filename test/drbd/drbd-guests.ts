// Real guests on drbd disks in a local cluster, shared by the drbd acceptance
// tests: the cluster (kvm with the test guest's kernel, xenvg) and its
// teardown, a drbd guest's creation, and probes: where a node keeps a guest's
// console log and pid file, the counter values the guest printed (its test
// init fsyncs a counter to its disk and prints each acknowledged value), and
// the mirror's state from instance info.
import { promises as fs } from "node:fs";
import path from "node:path";
import { GanetiClient } from "@ganeti-ts/sdk";
import { guestAssets, killGuestsUnder, type GuestAssets } from "../../server/test/harness/kvm-guest.js";
import { poller } from "../../server/test/harness/poll.js";
import { killDaemons } from "../../server/test/storage/replication-fixture.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
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

export interface DrbdGuestOptions {
  /** The guest's kernel command line (default: fsync a counter to its first disk). */
  kernelArgs?: string;
  nics?: Record<string, unknown>[];
}

export class DrbdGuests {
  constructor(
    readonly c: LocalCluster,
    readonly client: GanetiClient,
    readonly assets: GuestAssets,
  ) {}

  /**
   * A cluster of `nodes` nodes with secondary IPs, kvm (the test guest's
   * kernel and initrd) and the drbd template; `params` go to the cluster's
   * modify with vg_name. The cluster is destroyed again if its set-up fails.
   */
  static async start(nodes: number, params: Record<string, unknown> = {}): Promise<DrbdGuests> {
    const assets = await guestAssets();
    const c = await startLocalCluster({
      nodes,
      secondaryIps: true,
      diskTemplates: ["drbd", "plain", "file", "diskless"],
      initArgs: ["--enabled-hypervisors", "kvm"],
    });
    const client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
    const g = new DrbdGuests(c, client, assets);
    try {
      await client.cluster.modify({ vg_name: "xenvg", ...params }).wait();
      await c.gnt([
        "cluster",
        "modify",
        "-H",
        `kvm:kernel_path=${assets.kernel},initrd_path=${assets.initrd},kernel_args=quiet,serial_speed=115200`,
      ]);
    } catch (e) {
      await g.stop();
      throw e;
    }
    return g;
  }

  /** Kills every guest and storage daemon of the cluster, then destroys it. */
  async stop(): Promise<void> {
    this.client.close();
    await killGuestsUnder(path.dirname(this.c.dataDir));
    for (const node of this.c.nodes) await killDaemons(this.c.nodeDir(node));
    await this.c.destroy();
  }

  /** A drbd instance (one 1 GiB disk, busybox, 128 MiB) of the test guest on `pnode` and `snode`, started. */
  async create(name: string, pnode: string, snode: string, o: DrbdGuestOptions = {}): Promise<void> {
    await this.client.instances
      .create({
        mode: "create",
        instance_name: name,
        disk_template: "drbd",
        disks: [{ size: 1024 }],
        nics: o.nics ?? [],
        os_type: "busybox",
        no_install: true,
        pnode,
        snode,
        hypervisor: "kvm",
        hvparams: { kernel_args: o.kernelArgs ?? "quiet gts.counter=/dev/vda" },
        beparams: { maxmem: 128, minmem: 128, vcpus: 1 },
        name_check: false,
        ip_check: false,
      })
      .wait();
    // Ganeti never starts an instance created without installation.
    await this.client.instances.startup(name).wait();
  }

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

  /** Waits until the instance's mirror is in sync (`what` names the wait); that status. */
  inSync(name: string, what: string): Promise<DiskStatus & { pnode: string; snodes: string[] }> {
    return until(what, async () => {
      const st = await this.diskStatus(name);
      return inSync(st) ? st : undefined;
    });
  }

  /** instance info (live): the first disk's status, with the instance's nodes. */
  async diskStatus(name: string): Promise<DiskStatus & { pnode: string; snodes: string[] }> {
    const [res] = await this.client.instances.info(name).wait();
    const info = res[name] as { disks: DiskStatus[]; pnode: string; snodes: string[] };
    return { ...info.disks[0]!, pnode: info.pnode, snodes: info.snodes };
  }
}

// Live migration of kvm instances, as Ganeti's hv_kvm does it:
//  - target (accept): the same instance started with -incoming
//    tcp:TARGET:migration_port, its own NICs (taps) and block devices;
//  - source (migrate): migration_bandwidth (MiB/s) and migration_downtime
//    (ms) as migrate-set-parameters, migration_caps as capabilities, a
//    non-live migration (and any migration of a TCG guest: pausedTransfer)
//    stops the guest first, then `migrate`;
//  - the master polls query-migrate through instance_get_migration_status
//    (status, RAM transferred, and when done the downtime and total time);
//  - finalize: the source's qemu is ended (its taps released); a failed
//    migration kills the target's and resumes a stopped source.
//
// Beyond Ganeti, local (`file`) disks move with the instance: the target's
// qemu, started with -incoming on new empty images, exports them writable
// over NBD (nbd-server-start on migration_port + 1, block-export-add); the
// source mirrors each disk into its export (drive-mirror, sync full) and the
// RAM moves once every mirror is READY. The source migrates with the
// pause-before-switchover capability: when the guest is stopped for the
// switchover, the mirrors are cancelled (a READY mirror's cancel first
// copies what is still dirty, so the target holds the guest's last write)
// and only then does the migration complete and the guest resume on the
// target. The target stops its NBD server when the migration is final.
import type { HvBlockDevice } from "../hypervisor.js";
import type { DiskMirrorStatus, MigrationStatus, RpcInstance } from "@ganeti-ts/schema";
import { HypervisorError } from "../../lib/errors.js";
import { parseReplicaUri } from "../../lib/replica-uri.js";
import { diskDriveId } from "./cmdline.js";
import { withQmp, type QmpClient } from "./qmp.js";
import type { KvmHypervisor } from "./kvm-hypervisor.js";

const MiB = 1024 * 1024;

function num(v: unknown, dflt: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : dflt;
}

/** tcp:HOST:PORT, IPv6 addresses bracketed. */
export function migrationUri(address: string, port: number): string {
  return `tcp:${address.includes(":") ? `[${address}]` : address}:${port}`;
}

export function migrationPort(instance: RpcInstance): number {
  const port = num(instance.hvparams["migration_port"], 8102);
  if (!Number.isInteger(port) || port <= 0 || port >= 65536) throw new HypervisorError(`Invalid migration port ${String(port)}`);
  return port;
}

/** Where the target's NBD server listens for the disk mirrors: next to the migration port. */
export function mirrorPort(instance: RpcInstance): number {
  const port = migrationPort(instance) + 1;
  if (port >= 65536) throw new HypervisorError(`Invalid disk mirror port ${port} (migration_port + 1)`);
  return port;
}

/** The block job mirroring one disk, and the name of its NBD export on the target. */
export const mirrorJobId = (uuid: string): string => `mirror-${uuid.split("-")[0]}`;
export const exportName = (uuid: string): string => diskDriveId(uuid);

/** nbd://HOST:PORT/EXPORT, IPv6 addresses bracketed. */
export function nbdUri(address: string, port: number, name: string): string {
  return `nbd://${address.includes(":") ? `[${address}]` : address}:${port}/${name}`;
}

interface BlockJob {
  device?: string;
  type?: string;
  len?: number;
  offset?: number;
  ready?: boolean;
  status?: string;
  error?: string;
}

/** The source's migration info, or null when there is none (an older source, or "" from the master). */
export function parseMachine(info: string): { maxmem: number; vcpus: number } | null {
  if (!info) return null;
  let v: unknown;
  try {
    v = JSON.parse(info);
  } catch {
    throw new HypervisorError(`Invalid migration information from the source node: ${info.slice(0, 80)}`);
  }
  const o = (v ?? {}) as { maxmem?: unknown; vcpus?: unknown };
  if (!Number.isInteger(o.maxmem) || !Number.isInteger(o.vcpus) || (o.maxmem as number) <= 0 || (o.vcpus as number) <= 0)
    throw new HypervisorError(`Invalid migration information from the source node: ${info.slice(0, 80)}`);
  return { maxmem: o.maxmem as number, vcpus: o.vcpus as number };
}

interface QueryMigrate {
  status?: string;
  ram?: { transferred?: number; total?: number };
  downtime?: number;
  "total-time"?: number;
  "error-desc"?: string;
}

/**
 * Whether the guest is paused while its memory is transferred, even when a
 * live migration was asked for. With TCG, qemu 7.2 (Debian 12's) loses some
 * of the pages the guest writes during a live migration: a page written
 * through a translation cached before a dirty-bitmap pass is not marked
 * dirty again, so the target runs with a stale copy (seen here as guest
 * kernel panics right after the move, a few runs in ten on a busy host).
 * A stopped guest writes nothing during the transfer, so every page arrives
 * as it is; the price is a downtime as long as the transfer. Hardware KVM
 * tracks dirty pages in the kernel and keeps the live pre-copy.
 */
export function pausedTransfer(accel: string): boolean {
  return accel === "tcg";
}

export class KvmMigration {
  constructor(private readonly hv: KvmHypervisor) {}

  private qmp<T>(name: string, fn: (q: QmpClient) => Promise<T>, timeoutMs = 10_000): Promise<T> {
    return withQmp(this.hv.dirs.qmpSocket(name), fn, timeoutMs);
  }

  /** The source machine's size: the target's qemu must be started with the same -m and -smp. */
  async info(instance: RpcInstance): Promise<string> {
    const rt = await this.hv.runtime(instance.name);
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
    return JSON.stringify({ maxmem: rt.maxmem, vcpus: rt.vcpus });
  }

  async accept(instance: RpcInstance, target: string, disks: HvBlockDevice[], exportDisks = false, info = ""): Promise<void> {
    if (await this.hv.runtime(instance.name)) throw new HypervisorError("Can't accept instance, already running");
    const machine = parseMachine(info);
    // Replicated disks: the guest here stays paused after the transfer until
    // finalize, when this node has become the replicas' writer (the node
    // takes over before finalizeDst resumes the guest).
    const replicated = disks.some((d) => parseReplicaUri(d.path) !== null);
    if (replicated && exportDisks) throw new HypervisorError("Replicated disks are already on the target: they are not copied");
    await this.hv.start(instance, disks, replicated, {
      incoming: migrationUri(target, migrationPort(instance)),
      ...(machine ? { machine } : {}),
    });
    if (!exportDisks) return;
    try {
      await this.qmp(instance.name, async (q) => {
        await q.execute("nbd-server-start", {
          addr: { type: "inet", data: { host: target, port: String(mirrorPort(instance)) } },
        });
        const blocks = (await q.execute("query-block")) as { device?: string; inserted?: { "node-name"?: string } }[];
        for (const d of disks) {
          const node = blocks.find((b) => b.device === diskDriveId(d.uuid))?.inserted?.["node-name"];
          if (!node) throw new HypervisorError(`Disk ${d.uuid} is not attached to the incoming instance`);
          // Exporting activates the (incoming, inactive) image for writing.
          await q.execute("block-export-add", {
            type: "nbd",
            id: `export-${exportName(d.uuid)}`,
            "node-name": node,
            name: exportName(d.uuid),
            writable: true,
          });
        }
      });
    } catch (err) {
      await this.hv.stop(instance, { force: true, timeout: 0 }).catch(() => undefined);
      throw new HypervisorError(`Can't export the disks for the migration: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Source: mirror every disk into the target's NBD export. */
  async mirrorDisks(instance: RpcInstance, targetAddress: string): Promise<void> {
    const rt = await this.hv.runtime(instance.name);
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
    const port = mirrorPort(instance);
    await this.qmp(instance.name, async (q) => {
      try {
        for (const d of rt.disks) {
          await q.execute("drive-mirror", {
            "job-id": mirrorJobId(d.uuid),
            device: diskDriveId(d.uuid),
            target: nbdUri(targetAddress, port, exportName(d.uuid)),
            format: "raw",
            sync: "full",
            mode: "existing",
          });
        }
      } catch (err) {
        await this.cancelMirrors(q, rt.disks, true);
        throw err;
      }
    });
  }

  /** Source: the mirrors' progress; an error once one failed or is gone. */
  async mirrorStatus(instance: RpcInstance): Promise<DiskMirrorStatus> {
    const rt = await this.hv.runtime(instance.name);
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
    const jobs = (await this.qmp(instance.name, (q) => q.execute("query-block-jobs"))) as BlockJob[];
    let copied = 0;
    let total = 0;
    let ready = true;
    for (const d of rt.disks) {
      const job = jobs.find((j) => j.device === mirrorJobId(d.uuid));
      if (!job) return { ready: false, copied, total, error: `the mirror of disk ${d.uuid} is gone` };
      if (job.error || job.status === "concluded" || job.status === "aborting")
        return { ready: false, copied, total, error: `the mirror of disk ${d.uuid} failed: ${job.error ?? job.status}` };
      copied += job.offset ?? 0;
      total += job.len ?? 0;
      ready &&= job.ready === true;
    }
    return { ready, copied, total, error: null };
  }

  /** Our mirror jobs on this qemu. */
  private async mirrorJobs(q: QmpClient, disks: { uuid: string }[]): Promise<BlockJob[]> {
    const ids = new Set(disks.map((d) => mirrorJobId(d.uuid)));
    return ((await q.execute("query-block-jobs")) as BlockJob[]).filter((j) => j.device !== undefined && ids.has(j.device));
  }

  /**
   * End the mirrors. At the switchover (force false) a READY mirror's cancel
   * completes the copy first; on failure (force) it just stops. Waits until
   * the jobs are gone.
   */
  private async cancelMirrors(q: QmpClient, disks: { uuid: string }[], force: boolean): Promise<void> {
    for (const j of await this.mirrorJobs(q, disks)) {
      if (j.status === "concluded") await q.execute("job-dismiss", { id: j.device }).catch(() => undefined);
      else await q.execute("block-job-cancel", { device: j.device, force }).catch(() => undefined);
    }
    const end = Date.now() + 60_000;
    for (;;) {
      const left = await this.mirrorJobs(q, disks);
      if (left.length === 0) return;
      if (Date.now() > end) throw new HypervisorError(`The disk mirrors did not end: ${left.map((j) => j.device).join(", ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async migrate(instance: RpcInstance, targetAddress: string, live: boolean): Promise<void> {
    const rt = await this.hv.runtime(instance.name);
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
    const hv = instance.hvparams;
    const caps = String(hv["migration_caps"] ?? "")
      .split(":")
      .map((c) => c.trim())
      .filter(Boolean);
    await this.qmp(instance.name, async (q) => {
      // With disks being mirrored, the migration stops before the switchover
      // for status() to end the mirrors.
      const mirroring = (await this.mirrorJobs(q, rt.disks)).length > 0;
      const capabilities = [
        ...caps.map((c) => ({ capability: c, state: true })),
        { capability: "pause-before-switchover", state: mirroring },
      ];
      await q.execute("migrate-set-capabilities", { capabilities });
      await q.execute("migrate-set-parameters", {
        "max-bandwidth": Math.round(num(hv["migration_bandwidth"], 32) * MiB),
        "downtime-limit": Math.round(num(hv["migration_downtime"], 30)),
      });
      if (!live || pausedTransfer(rt.accel)) await q.execute("stop");
      await q.execute("migrate", { uri: migrationUri(targetAddress, migrationPort(instance)) });
    });
  }

  async status(instance: RpcInstance): Promise<MigrationStatus> {
    let m = (await this.qmp(instance.name, (q) => q.execute("query-migrate"))) as QueryMigrate;
    if (m.status === "pre-switchover") m = await this.switchover(instance);
    const st = m.status ?? "none";
    const status = st === "completed" || st === "failed" || st === "cancelled" ? st : st === "none" ? "failed" : "active";
    // qemu counts as downtime only its final stop-and-copy: a guest paused for
    // the whole transfer (pausedTransfer) was down for all of it.
    const paused = pausedTransfer((await this.hv.runtime(instance.name))?.accel ?? "");
    return {
      status,
      transferred_ram: m.ram?.transferred ?? null,
      total_ram: m.ram?.total ?? null,
      downtime_ms: paused && m["total-time"] !== undefined ? m["total-time"] : (m.downtime ?? null),
      total_time_ms: m["total-time"] ?? null,
      error: st === "none" ? "no migration in progress" : (m["error-desc"] ?? null),
    };
  }

  /**
   * The guest is stopped before the switchover: end the disk mirrors (the
   * last writes reach the target) and let the migration complete. A mirror
   * that failed cancels the migration instead.
   */
  private async switchover(instance: RpcInstance): Promise<QueryMigrate> {
    const rt = await this.hv.runtime(instance.name);
    return this.qmp(
      instance.name,
      async (q) => {
        const disks = rt?.disks ?? [];
        const jobs = await this.mirrorJobs(q, disks);
        const broken = disks.length !== jobs.length || jobs.some((j) => j.error || j.ready !== true);
        try {
          if (broken) throw new HypervisorError("a disk mirror failed before the switchover");
          await this.cancelMirrors(q, disks, false);
        } catch (err) {
          await q.execute("migrate_cancel").catch(() => undefined);
          await this.cancelMirrors(q, disks, true).catch(() => undefined);
          return { status: "failed", "error-desc": (err as Error).message };
        }
        await q.execute("migrate-continue", { state: "pre-switchover" });
        return (await q.execute("query-migrate")) as QueryMigrate;
      },
      90_000,
    );
  }

  async finalizeDst(instance: RpcInstance, success: boolean): Promise<void> {
    const rt = await this.hv.runtime(instance.name);
    if (!success) {
      if (rt) await this.hv.stop(instance, { force: true, timeout: 0 });
      return;
    }
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running on the target`);
    // Disks came over NBD: the export is not needed any more (a no-op otherwise).
    await this.qmp(instance.name, (q) => q.execute("nbd-server-stop")).catch(() => undefined);
    const st = (await this.qmp(instance.name, (q) => q.execute("query-status"))) as { status?: string };
    // A non-live migration moved a stopped guest: it runs again here.
    if (st.status === "paused" || st.status === "postmigrate" || st.status === "prelaunch")
      await this.qmp(instance.name, (q) => q.execute("cont"));
    else if (st.status !== "running") throw new HypervisorError(`Instance ${instance.name} is in state '${st.status}' after the migration`);
  }

  async finalizeSrc(instance: RpcInstance, success: boolean): Promise<void> {
    const rt = await this.hv.runtime(instance.name);
    if (!rt) {
      if (success) return;
      throw new HypervisorError(`Instance ${instance.name} is not running on the source any more`);
    }
    if (success) {
      // The guest runs on the target now; this qemu only holds its old copy.
      await this.hv.stop(instance, { force: true, timeout: 0 });
      return;
    }
    await this.qmp(instance.name, async (q) => {
      const m = (await q.execute("query-migrate")) as QueryMigrate;
      if (m.status && !["completed", "failed", "cancelled", "none"].includes(m.status)) await q.execute("migrate_cancel");
      // The disks stay where they are: stop copying them.
      await this.cancelMirrors(q, rt.disks, true);
      const st = (await q.execute("query-status")) as { status?: string };
      if (st.status !== "running") await q.execute("cont");
    });
  }
}

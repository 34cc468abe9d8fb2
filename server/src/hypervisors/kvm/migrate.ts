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
import type { HvBlockDevice } from "../hypervisor.js";
import type { MigrationStatus, RpcInstance } from "@ganeti-ts/schema";
import { HypervisorError } from "../../lib/errors.js";
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

  private qmp<T>(name: string, fn: (q: QmpClient) => Promise<T>): Promise<T> {
    return withQmp(this.hv.dirs.qmpSocket(name), fn, 10_000);
  }

  /** The source machine's size: the target's qemu must be started with the same -m and -smp. */
  async info(instance: RpcInstance): Promise<string> {
    const rt = await this.hv.runtime(instance.name);
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
    return JSON.stringify({ maxmem: rt.maxmem, vcpus: rt.vcpus });
  }

  async accept(instance: RpcInstance, target: string, disks: HvBlockDevice[], info = ""): Promise<void> {
    if (await this.hv.runtime(instance.name)) throw new HypervisorError("Can't accept instance, already running");
    const machine = parseMachine(info);
    await this.hv.start(instance, disks, false, {
      incoming: migrationUri(target, migrationPort(instance)),
      ...(machine ? { machine } : {}),
    });
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
      if (caps.length) await q.execute("migrate-set-capabilities", { capabilities: caps.map((c) => ({ capability: c, state: true })) });
      await q.execute("migrate-set-parameters", {
        "max-bandwidth": Math.round(num(hv["migration_bandwidth"], 32) * MiB),
        "downtime-limit": Math.round(num(hv["migration_downtime"], 30)),
      });
      if (!live || pausedTransfer(rt.accel)) await q.execute("stop");
      await q.execute("migrate", { uri: migrationUri(targetAddress, migrationPort(instance)) });
    });
  }

  async status(instance: RpcInstance): Promise<MigrationStatus> {
    const m = (await this.qmp(instance.name, (q) => q.execute("query-migrate"))) as QueryMigrate;
    const st = m.status ?? "none";
    const status = st === "completed" || st === "failed" || st === "cancelled" ? st : st === "none" ? "failed" : "active";
    return {
      status,
      transferred_ram: m.ram?.transferred ?? null,
      total_ram: m.ram?.total ?? null,
      downtime_ms: m.downtime ?? null,
      total_time_ms: m["total-time"] ?? null,
      error: st === "none" ? "no migration in progress" : (m["error-desc"] ?? null),
    };
  }

  async finalizeDst(instance: RpcInstance, success: boolean): Promise<void> {
    const rt = await this.hv.runtime(instance.name);
    if (!success) {
      if (rt) await this.hv.stop(instance, { force: true, timeout: 0 });
      return;
    }
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running on the target`);
    const st = (await this.qmp(instance.name, (q) => q.execute("query-status"))) as { status?: string };
    // A non-live migration moved a stopped guest: it runs again here.
    if (st.status === "paused" || st.status === "postmigrate") await this.qmp(instance.name, (q) => q.execute("cont"));
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
      if (m.status === "active" || m.status === "setup") await q.execute("migrate_cancel");
      const st = (await q.execute("query-status")) as { status?: string };
      if (st.status !== "running") await q.execute("cont");
    });
  }
}

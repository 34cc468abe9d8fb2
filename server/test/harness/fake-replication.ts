// A replication engine without storage daemons, for LU tests of drbd
// instances on the in-memory cluster: the children are the node's real
// (sparse) plain volumes, the mirror is state shared by the nodes' fakes.
// A primary whose peer is assembled reports one round of sync progress,
// then in sync; a primary without its peer is degraded. Nodes can be
// "killed": their disks vanish from the shared state.
import type { BlockDevStatus } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../../src/lib/errors.js";
import type { NodeBackend } from "../../src/noded/backend/node-backend.js";
import type { PlainBlockDevice } from "../../src/storage/plain.js";
import type { DrbdDisk, ReplicationEngine } from "../../src/storage/replication/engine.js";

interface Side {
  role: "primary" | "secondary";
  /** Calls to status left before a primary reports in sync. */
  syncPolls: number;
}

/** What every node's fake engine sees: disk uuid → node address → its assembled side. */
export class FakeMirrorNet {
  readonly disks = new Map<string, Map<string, Side>>();
  /** Every engine call: "call disk@node-ip [role]". */
  readonly log: string[] = [];
  /** Status polls a new mirror reports as syncing (progress lines). */
  syncPolls = 1;

  sides(uuid: string): Map<string, Side> {
    let m = this.disks.get(uuid);
    if (!m) this.disks.set(uuid, (m = new Map()));
    return m;
  }

  /** A node's storage daemons die (kill -9 of the node): its sides are gone. */
  kill(ip: string): void {
    for (const m of this.disks.values()) m.delete(ip);
  }
}

class FakeEngine {
  constructor(
    private readonly net: FakeMirrorNet,
    private readonly plain: PlainBlockDevice,
  ) {}

  private note(call: string, d: DrbdDisk): void {
    this.net.log.push(`${call} ${d.uuid}@${d.dyn.local_ip} ${d.dyn.primary ? "primary" : "secondary"}`);
  }

  private path(d: DrbdDisk): string {
    return `nbds://${d.dyn.local_ip}:${d.port}/${d.uuid}`;
  }

  async assemble(d: DrbdDisk): Promise<string> {
    this.note("assemble", d);
    const sides = this.net.sides(d.uuid);
    const old = sides.get(d.dyn.local_ip);
    const role = d.dyn.primary ? "primary" : "secondary";
    if (old?.role !== role || !old) sides.set(d.dyn.local_ip, { role, syncPolls: role === "primary" ? this.net.syncPolls : 0 });
    return this.path(d);
  }

  async shutdown(d: DrbdDisk): Promise<void> {
    this.note("shutdown", d);
    this.net.sides(d.uuid).delete(d.dyn.local_ip);
  }

  async disconnect(d: DrbdDisk): Promise<void> {
    this.note("disconnect", d);
  }

  async attach(d: DrbdDisk, multimaster: boolean): Promise<void> {
    this.note(`attach${multimaster ? "(multimaster)" : ""}`, d);
    if (!multimaster) await this.assemble(d);
  }

  async takeOver(d: DrbdDisk): Promise<void> {
    this.note("takeOver", d);
    this.net.sides(d.uuid).set(d.dyn.local_ip, { role: "primary", syncPolls: 0 });
  }

  async status(d: DrbdDisk): Promise<BlockDevStatus | null> {
    const sides = this.net.sides(d.uuid);
    const me = sides.get(d.dyn.local_ip);
    if (!me) return null;
    // Local storage: faulty (3) when the data volume is gone, as the engine reports it.
    const ldisk_status = (await this.plain.getSize(d.data)) === null ? (4 as const) : (1 as const);
    const base = { dev_path: this.path(d), major: null, minor: d.dyn.local_minor, ldisk_status, estimated_time: null };
    if (me.role !== "primary") return { ...base, sync_percent: null, is_degraded: false };
    if (!sides.has(d.dyn.remote_ip)) return { ...base, sync_percent: null, is_degraded: true };
    if (me.syncPolls > 0) {
      me.syncPolls -= 1;
      return { ...base, sync_percent: 45.2, estimated_time: 12, is_degraded: true };
    }
    return { ...base, sync_percent: null, is_degraded: false };
  }

  /** replace-disks -p: the primary gives up its local volumes (the real engine then reads the peer's replica). */
  async detachLocal(d: DrbdDisk): Promise<void> {
    this.note("detachLocal", d);
    const sides = this.net.sides(d.uuid);
    const me = sides.get(d.dyn.local_ip);
    if (!me || me.role !== "primary" || me.syncPolls > 0 || !sides.has(d.dyn.remote_ip))
      throw new BlockDeviceError(`The mirror of disk ${d.uuid} to its peer is not in sync: the primary can't give up its local storage`);
  }

  /** The new volumes are filled from the peer: one round of progress, as a resync. */
  async attachLocal(d: DrbdDisk): Promise<void> {
    this.note("attachLocal", d);
    this.net.sides(d.uuid).set(d.dyn.local_ip, { role: "primary", syncPolls: this.net.syncPolls });
  }

  async syncState(d: DrbdDisk): Promise<{ done: boolean; percent: number }> {
    const st = await this.status(d);
    if (!st) return { done: false, percent: 0 };
    if (st.sync_percent !== null) return { done: false, percent: st.sync_percent };
    return { done: !st.is_degraded, percent: st.is_degraded ? 0 : 100 };
  }

  async grow(d: DrbdDisk, amount: number, dryrun: boolean): Promise<void> {
    this.note(`grow(${amount}${dryrun ? ", dry-run" : ""})`, d);
    await this.plain.grow(d.data, amount, dryrun);
  }

  async remove(d: DrbdDisk): Promise<void> {
    this.note("remove", d);
    this.net.sides(d.uuid).delete(d.dyn.local_ip);
  }

  /** The OS scripts get the primary's data volume itself (no storage daemon to export it). */
  async scriptDevice(d: DrbdDisk): Promise<{ path: string; close: () => Promise<void> }> {
    this.note("scriptDevice", d);
    return { path: await this.plain.pathOf(d.data), close: async () => {} };
  }

  async getSize(d: DrbdDisk): Promise<number | null> {
    return this.plain.getSize(d.data);
  }

  /** Who may use an export: nothing to enforce without storage daemons. */
  async grantExport(): Promise<void> {}

  /** No daemons of an earlier layout here. */
  async upgradeLayout(): Promise<void> {}

  close(): void {}
}

const METHODS = [
  "assemble",
  "shutdown",
  "disconnect",
  "attach",
  "takeOver",
  "status",
  "syncState",
  "grow",
  "remove",
  "getSize",
  "scriptDevice",
  "detachLocal",
  "attachLocal",
  "grantExport",
  "upgradeLayout",
  "close",
] as const satisfies ReadonlyArray<keyof ReplicationEngine & keyof FakeEngine>;

/**
 * Give every backend's engine the fake's behaviour, on one shared mirror
 * network (the engine object itself is kept: the node's handlers hold it).
 */
export function fakeReplication(backends: Iterable<NodeBackend>): FakeMirrorNet {
  const net = new FakeMirrorNet();
  for (const b of backends) {
    const fake = new FakeEngine(net, b.storage.plain);
    const engine = b.storage.replication as unknown as Record<string, unknown>;
    for (const m of METHODS) engine[m] = (fake[m] as (...a: unknown[]) => unknown).bind(fake);
  }
  return net;
}

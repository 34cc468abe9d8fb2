// The user-space replication engine behind `drbd` disks. Per disk and node
// two storage daemons (daemon.ts) open the local data volume (the disk's
// first child); a qemu process runs one NBD server, and the node's own
// guests should not pay for TLS:
//  - the peer-facing daemon serves, on the node's replication address and
//    the disk's port, over TLS with the cluster's CA:
//    - the peer export (name: the disk's shared secret): the replica that
//      the primary writes into; it sits directly on the data, below any
//      mirror;
//    - the peer header export (secret + ".meta"): the first 4 KiB of the
//      meta volume (the second child), where the primary records whether
//      this replica is consistent (DRBD keeps its disk states in its meta
//      data too);
//  - the node's daemon serves the local export (name: the disk's uuid) on a
//    unix socket of its own (replicationExportDir: root's, or the one user
//    whose guest uses it): what the node's hypervisor attaches; on the
//    primary a synchronous mirror
//    (blockdev-mirror, copy-mode write-blocking) to the peer's peer export
//    sits above it, so that a write completes only when both copies hold it.
// Both write the same file without caching it (qemu's raw driver), one at
// a time by the roles: the peer export only while this node is not the
// writer.
// The primary mirrors to the peer export: a full copy first (QEMU 7.2 cannot
// resync from a dirty bitmap here), then every write synchronously. When the
// peer goes away the mirror job ends, the primary keeps running alone
// (degraded), and the next attach or status query tries to reconnect, which
// again starts with a full copy. The secondary's header says "inconsistent"
// from the start of a full copy until it completes.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { BlockDevStatus, DrbdDynamicParams, RpcDisk } from "@ganeti-ts/schema";
import { z } from "zod";
import { BlockDeviceError } from "../../lib/errors.js";
import { formatReplicaUri } from "../../lib/replica-uri.js";
import { KeyedMutex } from "../../hypervisors/fake/keyed-mutex.js";
import type { QmpClient } from "../../hypervisors/kvm/qmp.js";
import type { PlainBlockDevice } from "../plain.js";
import { optValue, StorageDaemon } from "./daemon.js";
import { ensureReplicationTls, REPLICATION_TLS_NAME } from "./tls.js";

const HEADER_SIZE = 4096;
const HEADER_MAGIC = "ganeti-ts-replica-v1\n";
const MIRROR_JOB = "mirror";
/** replace-disks -p: the copy from the peer into the primary's new data volume. */
const REPLACE_JOB = "replace";
/** The NBD node through which a primary without local storage reads and writes the peer's replica. */
const REPLACE_SRC = "replace-src";

export interface DrbdDisk {
  uuid: string;
  /** MiB */
  size: number;
  pnode: string;
  snode: string;
  port: number;
  secret: string;
  data: RpcDisk;
  meta: RpcDisk;
  dyn: DrbdDynamicParams;
  /** Ganeti's disk parameter resync-rate (KiB/s): the speed of full copies; null: unlimited. */
  resyncRate: number | null;
}

/** A drbd RpcDisk's parts, checked. */
export function drbdDiskOf(disk: RpcDisk): DrbdDisk {
  const lid = disk.logical_id;
  const [pnode, snode, port, , , secret] = lid;
  if (lid.length !== 6 || typeof pnode !== "string" || typeof snode !== "string" || typeof secret !== "string") {
    throw new BlockDeviceError(`Invalid drbd logical_id ${JSON.stringify(lid)}: expected [pnode, snode, port, pminor, sminor, secret]`);
  }
  if (!Number.isInteger(port) || (port as number) <= 0 || (port as number) > 65535)
    throw new BlockDeviceError(`Invalid drbd port ${String(port)}`);
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(secret)) throw new BlockDeviceError("Invalid drbd shared secret");
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(disk.uuid)) throw new BlockDeviceError(`Invalid disk uuid '${disk.uuid}'`);
  const children = disk.children ?? [];
  if (children.length !== 2 || children.some((c) => c.dev_type !== "plain")) {
    throw new BlockDeviceError(`drbd disk ${disk.uuid} needs two plain children (data, meta), got ${children.length}`);
  }
  if (!disk.dynamic_params) throw new BlockDeviceError(`drbd disk ${disk.uuid} carries no dynamic_params for this node`);
  return {
    uuid: disk.uuid,
    size: disk.size,
    pnode,
    snode,
    port: port as number,
    secret,
    data: children[0]!,
    meta: children[1]!,
    dyn: disk.dynamic_params,
    resyncRate: resyncRateOf(disk.params["resync-rate"]),
  };
}

function resyncRateOf(v: unknown): number | null {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : null;
}

interface Header {
  consistent: boolean;
  /** Not consistent because the primary's full copy to it is under way (not a deliberate disconnect). */
  syncing?: boolean;
  /**
   * A primary's new volumes (replace-disks -p) being filled from the peer:
   * this replica must never be copied onto the peer's.
   */
  replacing?: boolean;
  /** ms since the epoch when written. */
  at: number;
}

interface SyncTrack {
  t0: number;
  off0: number;
  /** The peer's header was marked consistent for this mirror. */
  marked: boolean;
  timer: NodeJS.Timeout | null;
}

interface ReplaceTargets {
  /** The node of the new data volume in the node's daemon. */
  data: string;
}

interface MirrorJob {
  len: number;
  offset: number;
  ready: boolean;
}

/**
 * The directory of a node's local export sockets. Not in the data
 * directory: that is root's alone (0700) all the way down, and a guest's
 * qemu that dropped its privileges (kvm security_model=user, -runas) must
 * open its disk's socket again after the storage daemon restarted (grow)
 * and for a hotplug, not only at its start as root. This directory is
 * root's and 0711: anyone may pass through, only root may list it or add
 * and remove sockets; a socket itself is 0600, root's or granted to the one
 * user whose qemu uses it (grantExport). Under /run (root's, like Ganeti's
 * run directory), one per data directory, as several node daemons may
 * share a machine.
 */
export function replicationExportDir(dataDir: string, runDir = RUN_DIR): string {
  const h = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12);
  return path.join(runDir, `replication-${h}`);
}

/** The node's run-time directory outside its data directory (made when the first export needs it). */
export const RUN_DIR = "/run/ganeti-ts";

/**
 * Remove a node's export directory with whatever is left in it (its
 * daemons stopped: the node's data is being removed, `gnt cluster
 * destroy`), then the run directory if no other node daemon keeps
 * anything there.
 */
export async function removeExportDir(dataDir: string, runDir = RUN_DIR): Promise<void> {
  await fs.rm(replicationExportDir(dataDir, runDir), { recursive: true, force: true });
  await rmdirIfEmpty(runDir);
}

/** Remove `dir` if it is there and empty: "removed", "absent" or "kept" (not empty). */
async function rmdirIfEmpty(dir: string): Promise<"removed" | "absent" | "kept"> {
  try {
    await fs.rmdir(dir);
    return "removed";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "absent";
    if (code === "ENOTEMPTY" || code === "EEXIST") return "kept";
    throw new BlockDeviceError(`Can't remove the empty directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Who may connect to a disk's local export besides root: the user a guest's qemu runs as. */
const ExportOwnerSchema = z.object({ user: z.string(), uid: z.number().int().nonnegative(), gid: z.number().int().nonnegative() });
export type ExportOwner = z.infer<typeof ExportOwnerSchema>;

export interface ReplicationEngineOptions {
  dataDir: string;
  /** The run-time directory holding the export directory (tests); default RUN_DIR. */
  runDir?: string;
  plain: PlainBlockDevice;
  /** The cluster certificate (server.pem) whose key signs the replication certificates. */
  clusterCertFile?: string;
  binary?: string;
  clock?: () => number;
}

export class ReplicationEngine {
  private readonly lock = new KeyedMutex();
  /** Making the export directory and starting a daemon in it vs. removing it once empty (any disk). */
  private readonly dirLock = new KeyedMutex();
  private readonly syncs = new Map<string, SyncTrack>();
  /** Primaries running alone, retrying their peer (as DRBD reconnects by itself). */
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private seq = 0;
  /** When the copy into a primary's new volumes started (replace-disks -p), for its time left. */
  private readonly replaceStarts = new Map<string, number>();
  private closed = false;

  constructor(private readonly opts: ReplicationEngineOptions) {}

  private get clock(): () => number {
    return this.opts.clock ?? Date.now;
  }

  private get root(): string {
    return path.join(this.opts.dataDir, "replication");
  }

  private get tlsDir(): string {
    return path.join(this.root, "tls");
  }

  /** The node's daemon of a disk: the local export and the mirror. */
  daemonOf(uuid: string): StorageDaemon {
    return new StorageDaemon(path.join(this.root, uuid), this.opts.binary);
  }

  /** The peer-facing daemon of a disk: the exports the peer's mirror writes into, over TLS. */
  peerDaemonOf(uuid: string): StorageDaemon {
    return new StorageDaemon(path.join(this.root, uuid, "peer"), this.opts.binary);
  }

  private get runDir(): string {
    return this.opts.runDir ?? RUN_DIR;
  }

  private get exportDir(): string {
    return replicationExportDir(this.opts.dataDir, this.runDir);
  }

  /**
   * Remove a stopped daemon's socket; then the export directory and the
   * run directory, which the node made, once nothing is left in them (the
   * last replicated disk shut down, the node leaving its cluster). Another
   * node daemon of the machine keeps its own export directory there, so
   * the run directory goes only when that is gone too.
   */
  private async removeSocket(uuid: string): Promise<void> {
    const socket = await this.socketOf(uuid);
    await this.dirLock.run("", async () => {
      await fs.rm(socket, { force: true });
      if (socket.startsWith(this.exportDir + path.sep)) await this.removeEmptyDirs();
    });
  }

  /** The export directory and the run directory, if empty (see removeSocket). */
  async tidyRunDir(): Promise<void> {
    await this.dirLock.run("", () => this.removeEmptyDirs());
  }

  private async removeEmptyDirs(): Promise<void> {
    if ((await rmdirIfEmpty(this.exportDir)) !== "kept") await rmdirIfEmpty(this.runDir);
  }

  /**
   * The unix socket of the local export. A daemon started before the
   * sockets moved out of the state directory keeps serving there, and its
   * guests reconnect there (after a grow too), until the disk is shut down.
   */
  private async socketOf(uuid: string): Promise<string> {
    const legacy = path.join(this.daemonOf(uuid).dir, "nbd");
    if (
      await fs.lstat(legacy).then(
        () => true,
        () => false,
      )
    )
      return legacy;
    return path.join(this.exportDir, uuid);
  }

  /** What the hypervisor attaches: the local export, through its unix socket (see parseReplicaUri). */
  async devicePath(d: DrbdDisk): Promise<string> {
    // The single daemon of the earlier layout serves its guests over TLS on the disk's port.
    if (await this.isSingleDaemon(this.daemonOf(d.uuid)))
      return formatReplicaUri({
        host: d.dyn.local_ip,
        port: d.port,
        export: d.uuid,
        tlsCredsDir: this.tlsDir,
        tlsHostname: REPLICATION_TLS_NAME,
      });
    return formatReplicaUri({ socket: await this.socketOf(d.uuid), export: d.uuid });
  }

  private ownerFile(uuid: string): string {
    return path.join(this.daemonOf(uuid).dir, "export-owner.json");
  }

  private async exportOwner(uuid: string): Promise<ExportOwner | null> {
    try {
      return ExportOwnerSchema.parse(JSON.parse(await fs.readFile(this.ownerFile(uuid), "utf8")));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new BlockDeviceError(`Can't read the owner of disk ${uuid}'s export: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Admit `owner` (the user the guest's qemu runs as), besides root, to the
   * disk's local export from now on, also after its daemon restarts; null:
   * root only. One user at a time: whoever runs as it may read and write
   * the disk while it is granted, so a guest should run as a user of its own.
   */
  async grantExport(uuid: string, owner: ExportOwner | null): Promise<void> {
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(uuid)) throw new BlockDeviceError(`Invalid disk uuid '${uuid}'`);
    await this.lock.run(uuid, async () => {
      if (owner) {
        await fs.mkdir(this.daemonOf(uuid).dir, { recursive: true, mode: 0o700 });
        await fs.writeFile(this.ownerFile(uuid), JSON.stringify(owner));
      } else {
        await fs.rm(this.ownerFile(uuid), { force: true });
      }
      await this.applyExportOwner(uuid);
    });
  }

  /** The socket as granted: 0600, its owner's (root's unless granted). */
  private async applyExportOwner(uuid: string): Promise<void> {
    const socket = await this.socketOf(uuid);
    const owner = await this.exportOwner(uuid);
    try {
      await fs.chmod(socket, 0o600);
      await fs.chown(socket, owner?.uid ?? process.getuid!(), owner?.gid ?? process.getgid!());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // no daemon yet: applied when it starts
      throw new BlockDeviceError(`Can't set the owner of disk ${uuid}'s export: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Stop the status watchers (the daemons keep running). */
  close(): void {
    this.closed = true;
    for (const s of this.syncs.values()) if (s.timer) clearInterval(s.timer);
    this.syncs.clear();
    for (const t of this.retries.values()) clearInterval(t);
    this.retries.clear();
  }

  /** How often a primary without its peer tries to reconnect, ms. */
  static readonly RETRY_MS = 3000;

  /**
   * A primary without its peer tries again in the background until it is
   * connected, its daemon is gone, or it is no longer the primary.
   */
  private cancelReconnect(uuid: string): void {
    const t = this.retries.get(uuid);
    if (t) clearInterval(t);
    this.retries.delete(uuid);
  }

  private scheduleReconnect(d: DrbdDisk): void {
    if (this.closed || this.retries.has(d.uuid)) return;
    const stop = () => this.cancelReconnect(d.uuid);
    const timer = setInterval(() => {
      void this.lock
        .run(d.uuid, async () => {
          const daemon = this.daemonOf(d.uuid);
          if ((await daemon.pid()) === null || (await this.lastRole(d)) !== "primary") return true;
          if (!(await reachable(d.dyn.remote_ip, d.port))) {
            this.scheduleReconnect(d);
            return false;
          }
          return daemon.qmp(async (c) => (await this.mirrorJob(c)) !== null || (await this.connect(d, daemon, c)));
        })
        .then(
          (done) => done && stop(),
          () => undefined,
        );
    }, ReplicationEngine.RETRY_MS);
    timer.unref();
    this.retries.set(d.uuid, timer);
  }

  // --- headers -------------------------------------------------------------

  private async readHeader(d: DrbdDisk): Promise<Header | null> {
    const file = await this.opts.plain.pathOf(d.meta);
    let buf: Buffer;
    try {
      const fh = await fs.open(file, "r");
      try {
        buf = Buffer.alloc(HEADER_SIZE);
        await fh.read(buf, 0, HEADER_SIZE, 0);
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new BlockDeviceError(`Can't read the replica header of ${d.uuid}: ${(err as Error).message}`, { cause: err });
    }
    const text = buf.toString("utf8");
    if (!text.startsWith(HEADER_MAGIC)) return null;
    try {
      const h = JSON.parse(text.slice(HEADER_MAGIC.length, text.indexOf("\0") >= 0 ? text.indexOf("\0") : undefined)) as Header;
      return typeof h.consistent === "boolean" ? h : null;
    } catch {
      return null;
    }
  }

  private headerBytes(h: Header): Buffer {
    const buf = Buffer.alloc(HEADER_SIZE);
    buf.write(HEADER_MAGIC + JSON.stringify(h), "utf8");
    return buf;
  }

  private async writeLocalHeader(d: DrbdDisk, h: Header): Promise<void> {
    const file = await this.opts.plain.pathOf(d.meta);
    const fh = await fs.open(file, "r+");
    try {
      await fh.write(this.headerBytes(h), 0, HEADER_SIZE, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Write a header into the peer's meta volume, through its header export. */
  private async writePeerHeader(daemon: StorageDaemon, c: QmpClient, remoteMeta: string, h: Header): Promise<void> {
    const out = path.join(daemon.dir, "hdr-out");
    await fs.writeFile(out, this.headerBytes(h));
    const job = `hdr${++this.seq}`;
    await c.execute("blockdev-backup", { "job-id": job, device: "hdr-out", target: remoteMeta, sync: "full", "auto-dismiss": false });
    for (let i = 0; i < 600; i++) {
      const jobs = (await c.execute("query-jobs")) as { id: string; status: string; error?: string }[];
      const j = jobs.find((x) => x.id === job);
      if (!j) break;
      if (j.status === "concluded") {
        await c.execute("job-dismiss", { id: job });
        if (j.error) throw new BlockDeviceError(`Can't write the peer's replica header: ${j.error}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new BlockDeviceError("Writing the peer's replica header did not finish");
  }

  // --- the daemon ----------------------------------------------------------

  /** The node's replication credentials (one writer at a time: disks assemble concurrently). */
  private async tls(): Promise<string> {
    return this.lock.run(" tls", () =>
      ensureReplicationTls(this.opts.clusterCertFile ?? path.join(this.opts.dataDir, "server.pem"), this.tlsDir),
    );
  }

  /** The peer-facing daemon: the replica and its header, over TLS on the replication address. */
  private async peerDaemonArgs(d: DrbdDisk): Promise<string[]> {
    const tls = await this.tls();
    const data = await this.opts.plain.assemble(d.data);
    const meta = await this.opts.plain.assemble(d.meta);
    return [
      "--object",
      `tls-creds-x509,id=tls-server,dir=${optValue(tls)},endpoint=server,verify-peer=on`,
      "--blockdev",
      `driver=file,node-name=data-file,filename=${optValue(data)}`,
      "--blockdev",
      "driver=raw,node-name=peer,file=data-file",
      "--blockdev",
      `driver=file,node-name=meta-file,filename=${optValue(meta)}`,
      "--blockdev",
      `driver=raw,node-name=meta,file=meta-file,offset=0,size=${HEADER_SIZE}`,
      "--nbd-server",
      `addr.type=inet,addr.host=${optValue(d.dyn.local_ip)},addr.port=${d.port},tls-creds=tls-server`,
      "--export",
      `type=nbd,id=peer,node-name=peer,name=${optValue(d.secret)},writable=on`,
      "--export",
      `type=nbd,id=peer-meta,node-name=meta,name=${optValue(d.secret)}.meta,writable=on`,
    ];
  }

  /** The node's daemon: the local export on its unix socket, and the TLS client side of the mirror. */
  private async daemonArgs(d: DrbdDisk, daemon: StorageDaemon): Promise<string[]> {
    const tls = await this.tls();
    const data = await this.opts.plain.assemble(d.data);
    const hdrOut = path.join(daemon.dir, "hdr-out");
    await fs.mkdir(daemon.dir, { recursive: true, mode: 0o700 });
    await fs.writeFile(hdrOut, Buffer.alloc(HEADER_SIZE));
    await fs.writeFile(path.join(daemon.dir, "hdr-in"), Buffer.alloc(HEADER_SIZE));
    const socket = await this.socketOf(d.uuid);
    if (socket.startsWith(this.exportDir + path.sep)) {
      await fs.mkdir(this.runDir, { recursive: true, mode: 0o755 });
      await fs.mkdir(this.exportDir, { recursive: true, mode: 0o711 });
      await fs.chmod(this.exportDir, 0o711);
    }
    await fs.rm(socket, { force: true });
    // A primary whose new volumes were still being filled from the peer
    // (replace-disks -p) serves nothing from them: `local` starts on a
    // placeholder, the local export only once `local` reads the peer's
    // replica again (connect: resumeReplace).
    const replacing = await this.isReplacing(d);
    return [
      "--object",
      `tls-creds-x509,id=tls-client,dir=${optValue(tls)},endpoint=client`,
      "--blockdev",
      `driver=file,node-name=data-file,filename=${optValue(data)}`,
      ...(replacing ? ["--blockdev", `driver=null-co,node-name=placeholder,read-zeroes=on,size=${(await fs.stat(data)).size}`] : []),
      "--blockdev",
      `driver=raw,node-name=local,file=${replacing ? "placeholder" : "data-file"}`,
      "--blockdev",
      `driver=file,node-name=hdr-out-file,filename=${optValue(hdrOut)}`,
      "--blockdev",
      "driver=raw,node-name=hdr-out,file=hdr-out-file",
      "--blockdev",
      `driver=file,node-name=hdr-in-file,filename=${optValue(path.join(daemon.dir, "hdr-in"))}`,
      "--blockdev",
      "driver=raw,node-name=hdr-in,file=hdr-in-file",
      // Access: the socket's owner and mode (applyExportOwner), in a directory only root may change.
      "--nbd-server",
      `addr.type=unix,addr.path=${optValue(socket)}`,
      ...(replacing ? [] : ["--export", `type=nbd,id=local,node-name=local,name=${optValue(d.uuid)},writable=on`]),
    ];
  }

  /**
   * A daemon of the earlier layout, one per disk: it serves the peer exports
   * and the local one (its guests attached over TLS) on the disk's port, so
   * the peer-facing daemon cannot start beside it.
   */
  private async isSingleDaemon(daemon: StorageDaemon): Promise<boolean> {
    const pid = await daemon.pid();
    if (pid === null) return false;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    return cmdline.split("\0").some((a) => a.startsWith("addr.type=inet,"));
  }

  /**
   * Where no guest can be attached to the disk on this node (its instance
   * starts here, or arrives by migration), a daemon of the earlier layout is
   * stopped, so that the next assemble starts the node's daemon and the
   * peer-facing one. Elsewhere it keeps serving as it did (ensureDaemon),
   * since its guests reconnect to its port and export.
   */
  async upgradeLayout(d: DrbdDisk): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      const daemon = this.daemonOf(d.uuid);
      if (!(await this.isSingleDaemon(daemon))) return;
      await daemon.qmp((c) => this.stopMirror(c)).catch(() => undefined);
      await this.stopDaemons(d.uuid);
    });
  }

  private async refuseSingleDaemon(d: DrbdDisk, what: string): Promise<void> {
    if (await this.isSingleDaemon(this.daemonOf(d.uuid)))
      throw new BlockDeviceError(
        `Disk ${d.uuid} is still served by the single storage daemon of an earlier version: start its instance again` +
          ` (or deactivate and activate its disks) before ${what}`,
      );
  }

  /** The daemons for d, started (or found again after a node-daemon restart); returns the node's daemon. */
  private async ensureDaemon(d: DrbdDisk): Promise<StorageDaemon> {
    const daemon = this.daemonOf(d.uuid);
    const peer = this.peerDaemonOf(d.uuid);
    // It serves the peer exports itself until upgradeLayout (or a shutdown) ends it.
    if (await this.isSingleDaemon(daemon)) return daemon;
    if ((await daemon.pid()) === null) {
      // Its socket's directory stays until the daemon listens in it.
      await this.dirLock.run("", async () => daemon.start(await this.daemonArgs(d, daemon)));
      // --daemonize returns once the daemon listens: its socket exists.
      await this.applyExportOwner(d.uuid);
    }
    // The peer-facing daemon would hold the new volumes that replace-disks -p
    // is filling (a mirror's target is its own): it starts once they are full.
    if ((await peer.pid()) === null && !(await this.isReplacing(d))) await peer.start(await this.peerDaemonArgs(d));
    return daemon;
  }

  /** Stop both daemons of a disk. */
  private async stopDaemons(uuid: string): Promise<void> {
    await this.daemonOf(uuid).stop();
    await this.peerDaemonOf(uuid).stop();
  }

  private async mirrorJob(c: QmpClient, id = MIRROR_JOB): Promise<MirrorJob | null> {
    const jobs = (await c.execute("query-block-jobs")) as { device: string; len: number; offset: number; ready: boolean }[];
    const j = jobs.find((x) => x.device === id);
    return j ? { len: j.len, offset: j.offset, ready: j.ready } : null;
  }

  /** Remove the nodes of earlier connections to the peer (a mirror that ended leaves its target). */
  private async dropRemoteNodes(c: QmpClient): Promise<void> {
    const nodes = (await c.execute("query-named-block-nodes", { flat: true })) as { "node-name": string }[];
    for (const n of nodes) {
      if (n["node-name"].startsWith("remote")) {
        try {
          await c.execute("blockdev-del", { "node-name": n["node-name"] });
        } catch {
          // still in use by a job that is ending: the next attempt removes it
        }
      }
    }
  }

  private remoteNode(d: DrbdDisk, name: string, exportName: string): Record<string, unknown> {
    return {
      driver: "nbd",
      "node-name": name,
      server: { type: "inet", host: d.dyn.remote_ip, port: String(d.port) },
      export: exportName,
      "tls-creds": "tls-client",
      "tls-hostname": REPLICATION_TLS_NAME,
    };
  }

  /**
   * Primary: connect to the peer and start the mirror with a full copy, the
   * peer marked inconsistent until the copy completes. An unreachable peer is
   * not an error: the disk runs degraded.
   */
  private async connect(d: DrbdDisk, daemon: StorageDaemon, c: QmpClient): Promise<boolean> {
    if (await this.mirrorJob(c)) return true;
    await this.dropRemoteNodes(c);
    // qemu connects synchronously (its monitor would hang on an address that
    // drops packets): look first, with a short timeout.
    if (!(await reachable(d.dyn.remote_ip, d.port))) {
      this.scheduleReconnect(d);
      return false;
    }
    const n = ++this.seq;
    const remote = `remote${n}`;
    const remoteMeta = `remote-meta${n}`;
    try {
      await c.execute("blockdev-add", this.remoteNode(d, remoteMeta, `${d.secret}.meta`));
      await c.execute("blockdev-add", this.remoteNode(d, remote, d.secret));
    } catch {
      await this.dropRemoteNodes(c);
      this.scheduleReconnect(d);
      return false;
    }
    const own = await this.readHeader(d);
    if (own?.replacing || (await this.isReplacing(d))) {
      // Never copy a half-filled replacement onto the peer: go on filling it from there.
      await this.resumeReplace(d, c, remote);
      return true;
    }
    if (!own?.consistent) await this.writeLocalHeader(d, { consistent: true, at: this.clock() });
    await this.writePeerHeader(daemon, c, remoteMeta, { consistent: false, syncing: true, at: this.clock() });
    await c.execute("blockdev-mirror", {
      "job-id": MIRROR_JOB,
      device: "local",
      target: remote,
      sync: "full",
      "copy-mode": "write-blocking",
      // Only the background copy is limited; the guest's writes are mirrored at once.
      ...(d.resyncRate !== null ? { speed: d.resyncRate * 1024 } : {}),
      "on-source-error": "report",
      "on-target-error": "report",
      "filter-node-name": `mirror-top${n}`,
    });
    this.track(d, { t0: this.clock(), off0: 0, marked: false, timer: null });
    return true;
  }

  /** Watch a starting mirror until it is in sync, then mark the peer consistent. */
  private track(d: DrbdDisk, s: SyncTrack): void {
    const old = this.syncs.get(d.uuid);
    if (old?.timer) clearInterval(old.timer);
    this.syncs.set(d.uuid, s);
    if (this.closed) return;
    s.timer = setInterval(() => {
      void this.lock
        .run(d.uuid, () => this.poll(d))
        .catch(() => undefined)
        .then((done) => {
          if (done !== false && s.timer) {
            clearInterval(s.timer);
            s.timer = null;
          }
        });
    }, 500);
    s.timer.unref();
  }

  /** One look at a primary's mirror; marks the peer consistent once in sync. False: still syncing. */
  private async poll(d: DrbdDisk): Promise<boolean> {
    const s = this.syncs.get(d.uuid);
    const daemon = this.daemonOf(d.uuid);
    if ((await daemon.pid()) === null) return true;
    return daemon.qmp(async (c) => {
      const job = await this.mirrorJob(c);
      if (!job) return true;
      if (!job.ready) return false;
      if (s && !s.marked) await this.markPeerConsistent(d, daemon, c);
      return true;
    });
  }

  /**
   * Whether this mirror's connections to the peer still work: an idle NBD
   * client does not notice that the peer's daemon was restarted (replaced
   * volumes, a node reboot), so read the peer's header through them.
   */
  private async peerConnected(daemon: StorageDaemon, c: QmpClient): Promise<boolean> {
    const nodes = (await c.execute("query-named-block-nodes", { flat: true })) as { "node-name": string }[];
    const names = nodes.map((x) => x["node-name"]);
    const meta = names.find((x) => x.startsWith("remote-meta"));
    if (!meta || !names.includes("hdr-in")) return meta !== undefined;
    const job = `probe${++this.seq}`;
    try {
      await c.execute("blockdev-backup", { "job-id": job, device: meta, target: "hdr-in", sync: "full", "auto-dismiss": false });
    } catch {
      return false;
    }
    for (let i = 0; i < 500; i++) {
      const jobs = (await c.execute("query-jobs")) as { id: string; status: string; error?: string }[];
      const j = jobs.find((x) => x.id === job);
      if (!j) return false;
      if (j.status === "concluded") {
        await c.execute("job-dismiss", { id: job });
        return !j.error;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /** The mirror is in sync: record in the peer's header that its replica is consistent. */
  private async markPeerConsistent(d: DrbdDisk, daemon: StorageDaemon, c: QmpClient): Promise<void> {
    const nodes = (await c.execute("query-named-block-nodes", { flat: true })) as { "node-name": string }[];
    const meta = nodes.map((x) => x["node-name"]).find((x) => x.startsWith("remote-meta"));
    if (meta) await this.writePeerHeader(daemon, c, meta, { consistent: true, at: this.clock() });
    const s = this.syncs.get(d.uuid);
    if (s) s.marked = true;
    else this.syncs.set(d.uuid, { t0: this.clock(), off0: 0, marked: true, timer: null });
  }

  /**
   * Secondary (or disconnect): end this node's mirror. A mirror in sync is
   * cancelled without force, which first copies whatever is still dirty, so
   * the peer keeps every write; `peerGone` abandons it at once.
   */
  private async stopMirror(c: QmpClient, peerGone = false): Promise<void> {
    const job = await this.mirrorJob(c);
    if (job) {
      await c.execute("block-job-cancel", { device: MIRROR_JOB, force: peerGone || !job.ready });
      for (let i = 0; i < 500 && (await this.mirrorJob(c)); i++) await new Promise((r) => setTimeout(r, 20));
    }
    await this.dropRemoteNodes(c);
  }

  /** Apply the role in d.dyn to a running daemon. */
  private async applyRole(d: DrbdDisk, daemon: StorageDaemon): Promise<void> {
    await daemon.qmp(async (c) => {
      if (d.dyn.primary) await this.connect(d, daemon, c);
      else await this.stopMirror(c);
    });
    await fs.writeFile(path.join(daemon.dir, "role"), d.dyn.primary ? "primary\n" : "secondary\n");
  }

  // --- replace-disks -p: new volumes under a running primary -------------
  //
  // As a DRBD primary detached from its local disk, the primary reads and
  // writes the peer's replica while its new volumes are filled from there:
  // `local` (what the guest's export sits on) is reopened onto an NBD
  // connection to the peer's replica, and a second mirror job copies from
  // that connection into the new data volume, write-blocking, so that every
  // write lands on the peer and on the new volume. The mirror to the peer
  // keeps running above `local` all along (a write reaches the peer twice,
  // with the same data), so when the copy job completes and `local` switches
  // to the new volume, no write can miss the peer. The guest's connection to
  // the export never breaks. A restarted daemon resumes the copy (connect).

  private replaceStateFile(d: DrbdDisk): string {
    return path.join(this.daemonOf(d.uuid).dir, "replace.json");
  }

  /**
   * Whether this node's local storage is being replaced (replace-disks -p):
   * from the primary's detach (a state file; the meta volume is about to be
   * renamed away) until the new volumes are full (their header says so).
   * Such a replica must never be copied onto the peer's.
   */
  private async isReplacing(d: DrbdDisk): Promise<boolean> {
    if ((await this.readHeader(d))?.replacing) return true;
    try {
      await fs.access(this.replaceStateFile(d));
      return true;
    } catch {
      return false;
    }
  }

  /** The node names of the new volumes in the running daemon. */
  private async replaceTargets(d: DrbdDisk, c: QmpClient): Promise<ReplaceTargets> {
    const names = await this.nodeNames(c);
    try {
      const st = JSON.parse(await fs.readFile(this.replaceStateFile(d), "utf8")) as ReplaceTargets;
      if (names.includes(st.data)) return st;
    } catch {
      // none recorded: the daemon was started on the new volumes
    }
    return { data: "data-file" };
  }

  private async nodeNames(c: QmpClient): Promise<string[]> {
    const nodes = (await c.execute("query-named-block-nodes", { flat: true })) as { "node-name": string }[];
    return nodes.map((x) => x["node-name"]);
  }

  /** The node below `local`: the data volume's, or the peer's replica (or the copy's filter above it) while replacing. */
  private async localChild(c: QmpClient): Promise<string | null> {
    const g = (await c.execute("x-debug-query-block-graph")) as {
      nodes: { id: number; type: string; name: string }[];
      edges: { parent: number; child: number; name: string }[];
    };
    const local = g.nodes.find((x) => x.type === "block-driver" && x.name === "local");
    const edge = local && g.edges.find((e) => e.parent === local.id && e.name === "file");
    return (edge && g.nodes.find((x) => x.id === edge.child)?.name) ?? null;
  }

  private async onPeer(c: QmpClient): Promise<boolean> {
    const child = await this.localChild(c);
    return child !== null && (child.startsWith(REPLACE_SRC) || child.startsWith("replace-top"));
  }

  /** A new connection to the peer's replica. */
  private async peerConnection(d: DrbdDisk, c: QmpClient): Promise<string> {
    const src = `${REPLACE_SRC}${++this.seq}-${randomBytes(3).toString("hex")}`;
    await c.execute("blockdev-add", this.remoteNode(d, src, d.secret));
    return src;
  }

  /** Point `local` at `node`, dropping connections to the peer it no longer uses. */
  private async pointLocalAt(c: QmpClient, node: string, keep: string): Promise<void> {
    await c.execute("blockdev-reopen", { options: [{ driver: "raw", "node-name": "local", file: node }] });
    for (const n of await this.nodeNames(c)) {
      if (n.startsWith(REPLACE_SRC) && n !== keep) await c.execute("blockdev-del", { "node-name": n }).catch(() => undefined);
    }
  }

  /**
   * Fill the new volumes from the peer: a mirror job from a new connection
   * to the peer's replica (QEMU mirrors only from a root node) into the new
   * data volume, and `local` pointed at the job's filter, so that the
   * guest's writes reach the peer and the new volume before they complete.
   */
  private async startReplaceCopy(d: DrbdDisk, c: QmpClient, to: ReplaceTargets): Promise<void> {
    await fs.writeFile(this.replaceStateFile(d), JSON.stringify(to));
    const src = await this.peerConnection(d, c);
    const top = `replace-top${++this.seq}`;
    await c.execute("blockdev-mirror", {
      "job-id": REPLACE_JOB,
      device: src,
      target: to.data,
      sync: "full",
      "copy-mode": "write-blocking",
      ...(d.resyncRate !== null ? { speed: d.resyncRate * 1024 } : {}),
      "on-source-error": "report",
      "on-target-error": "report",
      "filter-node-name": top,
    });
    await this.pointLocalAt(c, top, src);
    this.replaceStarts.set(d.uuid, this.clock());
  }

  /**
   * The daemon came back while its new volumes were being filled (it started
   * with `local` and `peer` on a placeholder and no local export): read the
   * peer's replica, mirror to it with no copy (local is that replica), fill
   * the new volumes from the start, and serve the guest again.
   */
  private async resumeReplace(d: DrbdDisk, c: QmpClient, remote: string): Promise<void> {
    if (!(await this.mirrorJob(c, REPLACE_JOB))) {
      // A fresh connection: an earlier one may have died with the peer.
      const src = await this.peerConnection(d, c);
      await this.pointLocalAt(c, src, src);
    }
    // The export first: a mirror started below an export's node would not see its writes.
    const exps = (await c.execute("query-block-exports")) as { id: string }[];
    if (!exps.some((e) => e.id === "local"))
      await c.execute("block-export-add", { type: "nbd", id: "local", "node-name": "local", name: d.uuid, writable: true });
    await c.execute("blockdev-mirror", {
      "job-id": MIRROR_JOB,
      device: "local",
      target: remote,
      sync: "none",
      "copy-mode": "write-blocking",
      "on-source-error": "report",
      "on-target-error": "report",
      "filter-node-name": `mirror-top${++this.seq}`,
    });
    this.syncs.set(d.uuid, { t0: this.clock(), off0: 0, marked: true, timer: null });
    // Detached but no new volumes yet (the master adds them next): stay on the peer's replica.
    if (!(await this.mirrorJob(c, REPLACE_JOB)) && (await this.readHeader(d))?.replacing)
      await this.startReplaceCopy(d, c, await this.replaceTargets(d, c));
  }

  /** The copy is in sync: switch `local` (and the peer-facing exports) to the new volumes. */
  private async finishReplace(d: DrbdDisk, c: QmpClient): Promise<void> {
    const to = await this.replaceTargets(d, c);
    await c.execute("block-job-complete", { device: REPLACE_JOB });
    for (let i = 0; i < 500 && (await this.mirrorJob(c, REPLACE_JOB)); i++) await new Promise((r) => setTimeout(r, 20));
    if ((await this.localChild(c)) !== to.data)
      throw new BlockDeviceError(`The copy into the new volumes of disk ${d.uuid} ended without switching to them`);
    for (const n of await this.nodeNames(c)) {
      if (/^(data-file|replace-src|placeholder)/.test(n) && n !== to.data)
        await c.execute("blockdev-del", { "node-name": n }).catch(() => undefined);
    }
    await this.writeLocalHeader(d, { consistent: true, at: this.clock() });
    await fs.rm(this.replaceStateFile(d), { force: true });
    // The peer-facing daemon still holds the old volumes (renamed aside): it
    // serves the new ones from now on (nothing writes into it while this node
    // is the primary).
    const peer = this.peerDaemonOf(d.uuid);
    await peer.stop();
    await peer.start(await this.peerDaemonArgs(d));
    this.replaceStarts.delete(d.uuid);
  }

  /**
   * Primary, replace-disks -p (Ganeti's removechildren on a primary: the
   * device goes diskless): the guest's export reads and writes the peer's
   * replica from now on. Refused unless the mirror to the peer is in sync.
   */
  async detachLocal(d: DrbdDisk): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      await this.refuseSingleDaemon(d, "replacing its local storage");
      const daemon = this.daemonOf(d.uuid);
      if ((await daemon.pid()) === null) throw new BlockDeviceError(`Disk ${d.uuid} is not assembled on this node`);
      await daemon.qmp(async (c) => {
        if (await this.mirrorJob(c, REPLACE_JOB))
          throw new BlockDeviceError(`The local storage of disk ${d.uuid} is being replaced already`);
        if (await this.onPeer(c)) return;
        const job = await this.mirrorJob(c);
        if (!job?.ready || !(await this.peerConnected(daemon, c)))
          throw new BlockDeviceError(
            `The mirror of disk ${d.uuid} to its peer is not in sync: the primary can't give up its local storage`,
          );
        await fs.writeFile(this.replaceStateFile(d), JSON.stringify({ data: "" }));
        const src = await this.peerConnection(d, c);
        await this.pointLocalAt(c, src, src);
      });
    });
  }

  /**
   * Primary, replace-disks -p (addchildren): the new data and meta volumes
   * (d's children) are filled from the peer's replica; status() reports the
   * copy as a resync and switches to them when it is done.
   */
  async attachLocal(d: DrbdDisk): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      const daemon = this.daemonOf(d.uuid);
      if ((await daemon.pid()) === null) throw new BlockDeviceError(`Disk ${d.uuid} is not assembled on this node`);
      const data = await this.opts.plain.assemble(d.data);
      await this.opts.plain.assemble(d.meta);
      await this.writeLocalHeader(d, { consistent: false, syncing: true, replacing: true, at: this.clock() });
      await daemon.qmp(async (c) => {
        if (await this.mirrorJob(c, REPLACE_JOB))
          throw new BlockDeviceError(`The local storage of disk ${d.uuid} is being replaced already`);
        if (!(await this.onPeer(c))) throw new BlockDeviceError(`Disk ${d.uuid} still uses its local storage: remove its children first`);
        const suffix = `${++this.seq}-${randomBytes(3).toString("hex")}`;
        const to = { data: `data-file${suffix}` };
        await c.execute("blockdev-add", { driver: "file", "node-name": to.data, filename: data });
        await this.startReplaceCopy(d, c, to);
      });
    });
  }

  // --- the calls -----------------------------------------------------------

  async assemble(d: DrbdDisk): Promise<string> {
    return this.lock.run(d.uuid, async () => {
      const daemon = await this.ensureDaemon(d);
      await this.applyRole(d, daemon);
      return await this.devicePath(d);
    });
  }

  async shutdown(d: DrbdDisk): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      const daemon = this.daemonOf(d.uuid);
      if ((await daemon.pid()) !== null) {
        try {
          await daemon.qmp((c) => this.stopMirror(c));
        } catch {
          // stopped below anyway
        }
      }
      this.cancelReconnect(d.uuid);
      await this.stopDaemons(d.uuid);
      // The stopped daemon's socket (a daemon started next serves in replicationExportDir).
      await this.removeSocket(d.uuid);
      // A file opened for OS scripts that were killed mid-run.
      await new StorageDaemon(path.join(daemon.dir, "scripts"), this.opts.binary).stop();
      await unmountStale(path.join(daemon.dir, "scripts", "dev"));
      const s = this.syncs.get(d.uuid);
      if (s?.timer) clearInterval(s.timer);
      this.syncs.delete(d.uuid);
    });
  }

  async disconnect(d: DrbdDisk): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      this.cancelReconnect(d.uuid);
      const daemon = this.daemonOf(d.uuid);
      if ((await daemon.pid()) === null) return;
      // A secondary cut off from its primary on purpose falls behind: it is
      // not consistent again until the primary's next full copy completes.
      if (!d.dyn.primary) await this.writeLocalHeader(d, { consistent: false, at: this.clock() });
      await daemon.qmp((c) => this.stopMirror(c));
      const peer = this.peerDaemonOf(d.uuid);
      if ((await peer.pid()) === null) return;
      await peer.qmp(async (c) => {
        // Drop the peer's connection to this node too (both sides go standalone).
        await c.execute("block-export-del", { id: "peer", mode: "hard" });
        await c.execute("block-export-del", { id: "peer-meta", mode: "hard" });
        await this.waitExportsGone(c, ["peer", "peer-meta"]);
        await c.execute("block-export-add", { type: "nbd", id: "peer", "node-name": "peer", name: d.secret, writable: true });
        await c.execute("block-export-add", {
          type: "nbd",
          id: "peer-meta",
          "node-name": "meta",
          name: `${d.secret}.meta`,
          writable: true,
        });
      });
    });
  }

  private async waitExportsGone(c: QmpClient, ids: string[]): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const exps = (await c.execute("query-block-exports")) as { id: string }[];
      if (!exps.some((e) => ids.includes(e.id))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new BlockDeviceError(`The storage daemon did not close the exports ${ids.join(", ")}`);
  }

  /**
   * (Re)connect with the roles in d.dyn; a returning peer gets a full
   * resync. multimaster (live migration): both nodes serve the disk, but
   * only the node that already was the writer mirrors; a node that was the
   * secondary never starts copying its data onto the writer's, whatever
   * dyn.primary says (the writer's guest runs until the switch-over, when
   * the target takes over: takeOver).
   */
  async attach(d: DrbdDisk, multimaster: boolean): Promise<void> {
    if (!multimaster) {
      await this.assemble(d);
      return;
    }
    await this.lock.run(d.uuid, async () => {
      const daemon = await this.ensureDaemon(d);
      const wasWriter = (await this.lastRole(d)) === "primary";
      if (d.dyn.primary && wasWriter) await daemon.qmp((c) => this.connect(d, daemon, c));
    });
  }

  private async lastRole(d: DrbdDisk): Promise<string | null> {
    try {
      return (await fs.readFile(path.join(this.daemonOf(d.uuid).dir, "role"), "utf8")).trim();
    } catch {
      return null;
    }
  }

  /**
   * Live migration's switch-over on the target: the source's guest has
   * stopped and its synchronous mirror left this replica identical to its
   * copy, while the guest here is still held paused. Become the writer:
   * mirror to the old primary from now on (no copy needed: both hold the
   * same data), before the guest here writes anything. A replica not known
   * to be consistent refuses (the source was degraded).
   */
  async takeOver(d: DrbdDisk): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      const daemon = await this.ensureDaemon(d);
      const header = await this.readHeader(d);
      if (!header?.consistent) {
        throw new BlockDeviceError(`The replica of disk ${d.uuid} on this node is not consistent: it can't take over as the primary`);
      }
      await daemon.qmp(async (c) => {
        if (await this.mirrorJob(c)) return;
        await this.dropRemoteNodes(c);
        const n = ++this.seq;
        await c.execute("blockdev-add", this.remoteNode(d, `remote-meta${n}`, `${d.secret}.meta`));
        await c.execute("blockdev-add", this.remoteNode(d, `remote${n}`, d.secret));
        await c.execute("blockdev-mirror", {
          "job-id": MIRROR_JOB,
          device: "local",
          target: `remote${n}`,
          sync: "none",
          "copy-mode": "write-blocking",
          "on-source-error": "report",
          "on-target-error": "report",
          "filter-node-name": `mirror-top${n}`,
        });
      });
      // The old primary's copy was and stays consistent.
      this.syncs.set(d.uuid, { t0: this.clock(), off0: 0, marked: true, timer: null });
      await fs.writeFile(path.join(daemon.dir, "role"), "primary\n");
    });
  }

  /** BlockDevStatus for d on this node; null when the disk is not assembled here. */
  async status(d: DrbdDisk): Promise<BlockDevStatus | null> {
    return this.lock.run(d.uuid, async () => {
      const daemon = this.daemonOf(d.uuid);
      if ((await daemon.pid()) === null) return null;
      const header = await this.readHeader(d);
      // Ganeti 3.0's LDS_*: 1 okay (consistent), 2 syncing (the primary's copy to
      // this replica is under way), 3 unknown (not known to be consistent), 4 faulty (no local data).
      const missing = (await this.opts.plain.getSize(d.data)) === null;
      const ldisk_status: BlockDevStatus["ldisk_status"] = missing ? 4 : header?.consistent ? 1 : header?.syncing ? 2 : 3;
      const base = { dev_path: await this.devicePath(d), major: null, minor: d.dyn.local_minor, ldisk_status };
      if (!d.dyn.primary) {
        // The secondary knows its own replica's state from its header.
        return { ...base, sync_percent: null, estimated_time: null, is_degraded: !header?.consistent };
      }
      const peerUp = await reachable(d.dyn.remote_ip, d.port);
      let replacing: MirrorJob | null = null;
      const job = await daemon.qmp(async (c) => {
        // An idle mirror notices a dead peer only at its next write: look first.
        if (!peerUp) {
          await this.stopMirror(c, true);
          this.scheduleReconnect(d);
          return null;
        }
        // replace-disks -p: the copy into the new volumes is this node's resync.
        replacing = await this.mirrorJob(c, REPLACE_JOB);
        if (replacing?.ready) {
          await this.finishReplace(d, c);
          replacing = null;
        }
        let job = await this.mirrorJob(c);
        // (A copy under way writes all the time and fails by itself.)
        if (job?.ready && !(await this.peerConnected(daemon, c))) {
          // The peer came back as a new daemon: copy everything to it again.
          await this.stopMirror(c, true);
          job = null;
        }
        const found = job ?? ((await this.connect(d, daemon, c)) ? await this.mirrorJob(c) : null);
        // A copy into new volumes that failed (its source or target) starts again from the peer.
        // (Not between detach and attach: the master is about to add the new volumes.)
        if (found?.ready && !replacing && (await this.readHeader(d))?.replacing && !(await this.mirrorJob(c, REPLACE_JOB)))
          await this.startReplaceCopy(d, c, await this.replaceTargets(d, c));
        replacing ??= await this.mirrorJob(c, REPLACE_JOB);
        // A restarted node daemon lost its watcher: mark the peer here once in sync.
        if (found?.ready && !this.syncs.get(d.uuid)?.marked) await this.markPeerConsistent(d, daemon, c);
        return found;
      });
      if (!job) return { ...base, sync_percent: null, estimated_time: null, is_degraded: true };
      const copy: MirrorJob | null = replacing;
      if (copy) {
        const t0 = this.replaceStarts.get(d.uuid);
        return { ...base, ldisk_status: 2, ...progress(copy, t0 === undefined ? null : { t0, off0: 0 }, this.clock()) };
      }
      // (A replacement that just finished made the local replica consistent.)
      if (header?.replacing && !missing) base.ldisk_status = (await this.readHeader(d))?.consistent ? 1 : 3;
      if (job.ready) return { ...base, sync_percent: null, estimated_time: null, is_degraded: false };
      return { ...base, ...progress(job, this.syncs.get(d.uuid) ?? null, this.clock()) };
    });
  }

  /**
   * Grow the local data volume (Ganeti grows the secondary first). The NBD
   * exports of QEMU 7.2 forbid resizing what they export, so a running
   * daemon is stopped, the volume grown and the daemon started again with
   * its role (a primary then resyncs fully); a guest attached to the disk
   * loses its connection meanwhile, and its requests wait for the daemon
   * (its drive's reconnect-delay) and reconnect to the same socket.
   */
  async grow(d: DrbdDisk, amount: number, dryrun: boolean): Promise<void> {
    await this.lock.run(d.uuid, async () => {
      await this.opts.plain.grow(d.data, amount, true);
      // Restarted in the two-daemon layout, it would no longer serve the guests attached to its port.
      await this.refuseSingleDaemon(d, "growing it");
      if (dryrun) return;
      const daemon = this.daemonOf(d.uuid);
      const running = (await daemon.pid()) !== null;
      if (running) {
        await daemon.qmp((c) => this.stopMirror(c)).catch(() => undefined);
      }
      await this.stopDaemons(d.uuid);
      await this.opts.plain.grow(d.data, amount, false);
      if (running) {
        await this.ensureDaemon(d);
        await this.applyRole(d, daemon);
      }
    });
  }

  /** Stop the daemon and remove the disk's state (the children are removed by the caller). */
  async remove(d: DrbdDisk): Promise<void> {
    await this.shutdown(d);
    await fs.rm(this.daemonOf(d.uuid).dir, { recursive: true, force: true });
  }

  /** Sync state of assembled disks on this node. */
  async syncState(d: DrbdDisk): Promise<{ done: boolean; percent: number }> {
    const st = await this.status(d);
    if (!st) return { done: false, percent: 0 };
    if (st.sync_percent !== null) return { done: false, percent: st.sync_percent };
    return { done: !st.is_degraded, percent: st.is_degraded ? 0 : 100 };
  }

  /** The size of the local replica, MiB (null when its data volume does not exist). */
  async getSize(d: DrbdDisk): Promise<number | null> {
    return this.opts.plain.getSize(d.data);
  }

  /**
   * A file path for programs that want one (the OS scripts: DISK_n_PATH):
   * a second, short-lived storage daemon connects to the local export like
   * the hypervisor does and exposes it as a file through FUSE, so that what
   * the scripts write is mirrored as any guest write. close() ends it.
   */
  async scriptDevice(d: DrbdDisk): Promise<{ path: string; close: () => Promise<void> }> {
    const daemon = new StorageDaemon(path.join(this.daemonOf(d.uuid).dir, "scripts"), this.opts.binary);
    await daemon.stop();
    const dev = path.join(daemon.dir, "dev");
    await fs.mkdir(daemon.dir, { recursive: true, mode: 0o700 });
    await unmountStale(dev);
    await fs.writeFile(dev, "");
    await daemon.start([
      "--blockdev",
      `driver=nbd,node-name=disk,server.type=unix,server.path=${optValue(await this.socketOf(d.uuid))},export=${optValue(d.uuid)}`,
      "--export",
      `type=fuse,id=dev,node-name=disk,mountpoint=${optValue(dev)},writable=on`,
    ]);
    return {
      path: dev,
      close: async () => {
        await daemon.stop();
        await unmountStale(dev);
      },
    };
  }

  /** Header of the local replica (tests, status). */
  async localHeader(d: DrbdDisk): Promise<{ consistent: boolean } | null> {
    return this.readHeader(d);
  }
}

/** A copy's percent done and seconds left (from the rate since `since`). */
function progress(
  job: MirrorJob,
  since: { t0: number; off0: number } | null,
  now: number,
): { sync_percent: number; estimated_time: number | null; is_degraded: true } {
  const pct = job.len > 0 ? Math.min(99.9, (100 * job.offset) / job.len) : 0;
  let eta: number | null = null;
  if (since) {
    const elapsed = (now - since.t0) / 1000;
    const done = job.offset - since.off0;
    if (elapsed > 0 && done > 0) eta = Math.round(((job.len - job.offset) * elapsed) / done);
  }
  return { sync_percent: Math.round(pct * 10) / 10, estimated_time: eta, is_degraded: true };
}

/** A FUSE mount left by a killed daemon answers nothing: detach it. */
async function unmountStale(mountpoint: string): Promise<void> {
  let mounts: string;
  try {
    mounts = await fs.readFile("/proc/self/mounts", "utf8");
  } catch {
    return;
  }
  if (!mounts.split("\n").some((l) => l.split(" ")[1] === mountpoint)) return;
  await new Promise<void>((resolve) => execFile("umount", ["-l", mountpoint], () => resolve()));
}

/** Whether something accepts TCP connections at host:port (the peer's storage daemon). */
function reachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

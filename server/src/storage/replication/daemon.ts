// One qemu-storage-daemon per replicated disk on a node (like a DRBD minor):
// it holds the disk's local data volume and serves it over NBD with TLS on
// the node's replication address and the disk's port (a qemu process runs
// one NBD server, and every disk has its own port). It is started
// daemonized, so it survives a node-daemon restart; its pid file and QMP
// socket live in the disk's state directory, where a restarted node daemon
// finds it again.
import { execFile } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BlockDeviceError } from "../../lib/errors.js";
import { QmpClient } from "../../hypervisors/kvm/qmp.js";

export const QSD_BINARY = "qemu-storage-daemon";

/** A value inside a qemu "key=value,..." option: commas are doubled. */
export function optValue(v: string | number): string {
  return String(v).replaceAll(",", ",,");
}

/** Alive: exists and is not a zombie (a daemonized process is reaped by init, which can take a second). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export class StorageDaemon {
  constructor(
    /** The disk's state directory. */
    readonly dir: string,
    private readonly binary = QSD_BINARY,
  ) {}

  get qmpPath(): string {
    return path.join(this.dir, "qmp");
  }
  get pidPath(): string {
    return path.join(this.dir, "pid");
  }

  /** The daemon's pid when it runs (a qemu-storage-daemon, not a recycled pid), else null. */
  async pid(): Promise<number | null> {
    let text: string;
    try {
      text = await fs.readFile(this.pidPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    const pid = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0 || !isPidAlive(pid)) return null;
    try {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes(this.qmpPath)) return null;
    } catch {
      return null;
    }
    return pid;
  }

  /** Start with `args` (beside the monitor and pid file); fails with qemu's own message. */
  async start(args: string[]): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.rm(this.qmpPath, { force: true });
    const full = [
      "--daemonize",
      "--pidfile",
      this.pidPath,
      "--chardev",
      `socket,id=qmp,path=${optValue(this.qmpPath)},server=on,wait=off`,
      "--monitor",
      "chardev=qmp",
      ...args,
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(this.binary, full, { timeout: 60_000 }, (err, _stdout, stderr) => {
        if (err) reject(new BlockDeviceError(`Can't start the storage daemon: ${(stderr || err.message).trim()}`, { cause: err }));
        else resolve();
      });
    });
  }

  /** Run fn on a short QMP connection (QEMU serves one QMP client at a time). */
  async qmp<T>(fn: (c: QmpClient) => Promise<T>): Promise<T> {
    let c: QmpClient;
    try {
      c = await QmpClient.connect(this.qmpPath, 10_000);
    } catch (err) {
      throw new BlockDeviceError(`The storage daemon in ${this.dir} does not answer: ${(err as Error).message}`, { cause: err });
    }
    try {
      return await fn(c);
    } catch (err) {
      if (err instanceof BlockDeviceError) throw err;
      throw new BlockDeviceError((err as Error).message, { cause: err });
    } finally {
      c.close();
    }
  }

  /** Ask the daemon to quit, then kill it if it lingers; a stopped daemon is fine. */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid === null) return;
    try {
      await this.qmp((c) => c.execute("quit"));
    } catch {
      // killed below
    }
    for (let i = 0; i < 100 && isPidAlive(pid); i++) await sleep(50);
    if (isPidAlive(pid)) {
      process.kill(pid, "SIGKILL");
      for (let i = 0; i < 100 && isPidAlive(pid); i++) await sleep(50);
    }
    await fs.rm(this.pidPath, { force: true });
  }
}

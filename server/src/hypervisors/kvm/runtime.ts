// What the node keeps about each running kvm instance, as Ganeti's kvm does
// in its runtime files: the exact qemu command line, the NICs and disks as
// attached (with their PCI slots), the hvparams it was started with, plus the
// pid file, the QMP and serial sockets. Everything is under
// <dataDir>/hypervisors/kvm, so a restarted node daemon finds its guests
// again (qemu runs daemonised, outside the daemon's process tree).
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { RpcInstanceSchema, RpcNicSchema } from "@ganeti-ts/schema";
import { HypervisorError } from "../../lib/errors.js";
import { readFileOrNull, removeFileDurable, writeFileAtomic } from "../../lib/atomic-file.js";

export const KvmDiskSchema = z.object({
  uuid: z.string(),
  path: z.string(),
  mode: z.enum(["rw", "ro"]),
  slot: z.number().int().nullable(),
});

export const KvmNicRuntimeSchema = z.object({
  uuid: z.string(),
  mac: z.string(),
  slot: z.number().int().nullable(),
  netdev: z.string().nullable(),
  /** The NIC as configured (mode, link, ip...) when it was attached. */
  nic: RpcNicSchema,
  /** Whatever the NIC backend needs to undo its preparation (tap name...). */
  backend: z.record(z.string(), z.unknown()).default({}),
});
export type KvmNicRuntime = z.infer<typeof KvmNicRuntimeSchema>;

export const KvmRuntimeSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  uuid: z.string(),
  /** The qemu command line, as executed. */
  argv: z.array(z.string()),
  /** The instance as started (filled hvparams and beparams included). */
  instance: RpcInstanceSchema,
  accel: z.enum(["kvm", "tcg"]),
  /** Memory given with -m, MiB. */
  maxmem: z.number().int(),
  /** Current balloon target, MiB. */
  memory: z.number().int(),
  vcpus: z.number().int(),
  disks: z.array(KvmDiskSchema),
  nics: z.array(KvmNicRuntimeSchema),
  /** Epoch seconds of the (last) start. */
  started_at: z.number(),
});
export type KvmRuntime = z.infer<typeof KvmRuntimeSchema>;

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** The kvm hypervisor's directory in a node daemon's data directory. */
export const kvmBaseDir = (dataDir: string): string => path.join(dataDir, "hypervisors", "kvm");

/**
 * The directory of a node's kvm sockets when it cannot live in the node's
 * data directory (a deep one: see KvmDirs.ctrlDir), else null. Removing a
 * node's data must remove this one too.
 */
export function kvmSocketDirOutside(dataDir: string): string | null {
  const ctrl = new KvmDirs(kvmBaseDir(dataDir)).ctrlDir;
  return ctrl.startsWith(path.resolve(dataDir) + path.sep) ? null : ctrl;
}

export class KvmDirs {
  readonly runtimeDir: string;
  readonly pidDir: string;
  readonly ctrlDir: string;
  readonly logDir: string;

  constructor(readonly baseDir: string) {
    this.runtimeDir = path.join(baseDir, "runtime");
    this.pidDir = path.join(baseDir, "pid");
    this.logDir = path.join(baseDir, "log");
    // Unix socket paths are short; a deep data dir gets its sockets in a
    // directory named after it under /tmp (the same one after a restart).
    const ctrl = path.join(baseDir, "ctrl");
    this.ctrlDir =
      ctrl.length + 1 + 64 + 8 <= MAX_SOCKET_PATH
        ? ctrl
        : path.join("/tmp", `gts-kvm-${createHash("sha256").update(baseDir).digest("hex").slice(0, 12)}`);
  }

  static checkName(name: string): string {
    if (!name || name.includes("/") || name.startsWith(".") || name.includes("\0")) {
      throw new HypervisorError(`Invalid instance name '${name}'`);
    }
    return name;
  }

  runtimeFile = (name: string) => path.join(this.runtimeDir, `${KvmDirs.checkName(name)}.json`);
  pidFile = (name: string) => path.join(this.pidDir, `${KvmDirs.checkName(name)}.pid`);
  qmpSocket = (name: string) => this.socket(name, "qmp");
  qgaSocket = (name: string) => this.socket(name, "qga");
  chrootDir = (name: string) => path.join(this.baseDir, "chroot", KvmDirs.checkName(name));
  /** user_shutdown: the guest powered itself off (Ganeti's shutdown file). */
  shutdownFile = (name: string) => path.join(this.runtimeDir, `${KvmDirs.checkName(name)}.shutdown`);
  /** SPICE TLS: the node's certificate with its key, and the CA certificate. */
  spiceCert = () => path.join(this.baseDir, "spice.pem");
  spiceCaCert = () => path.join(this.baseDir, "spice-ca.pem");
  serialSocket = (name: string) => this.socket(name, "serial");
  serialLog = (name: string) => path.join(this.logDir, `${KvmDirs.checkName(name)}.serial.log`);
  qemuLog = (name: string) => path.join(this.logDir, `${KvmDirs.checkName(name)}.qemu.log`);

  private socket(name: string, kind: string): string {
    const p = path.join(this.ctrlDir, `${KvmDirs.checkName(name)}.${kind}`);
    if (p.length > MAX_SOCKET_PATH) {
      // Very long instance names: a digest keeps the socket path legal.
      const h = createHash("sha256").update(name).digest("hex").slice(0, 16);
      return path.join(this.ctrlDir, `${h}.${kind}`);
    }
    return p;
  }

  async ensure(): Promise<void> {
    for (const d of [this.runtimeDir, this.pidDir, this.ctrlDir, this.logDir]) {
      await fs.mkdir(d, { recursive: true, mode: 0o750 });
    }
  }

  async readRuntime(name: string): Promise<KvmRuntime | null> {
    const raw = await readFileOrNull(this.runtimeFile(name));
    if (raw === null) return null;
    try {
      return KvmRuntimeSchema.parse(JSON.parse(raw));
    } catch (err) {
      throw new HypervisorError(`Broken runtime file of instance ${name}: ${(err as Error).message}`, { cause: err });
    }
  }

  async writeRuntime(rt: KvmRuntime): Promise<void> {
    await writeFileAtomic(this.runtimeFile(rt.name), JSON.stringify(rt, null, 1) + "\n");
  }

  /** Names with a runtime file. */
  async runtimeNames(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.runtimeDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new HypervisorError(`Failed to list kvm instances: ${(err as Error).message}`, { cause: err });
    }
    return entries
      .filter((e) => e.endsWith(".json") && !e.startsWith("."))
      .map((e) => e.slice(0, -".json".length))
      .sort();
  }

  /** Names whose guest shut itself down (user_shutdown). */
  async shutdownNames(): Promise<string[]> {
    const entries = await fs.readdir(this.runtimeDir).catch(() => [] as string[]);
    return entries
      .filter((e) => e.endsWith(".shutdown") && !e.startsWith("."))
      .map((e) => e.slice(0, -".shutdown".length))
      .sort();
  }

  async readPid(name: string): Promise<number | null> {
    const raw = await readFileOrNull(this.pidFile(name));
    if (raw === null) return null;
    const pid = Number(raw.trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  }

  /** Forget an instance's runtime state (its process must be gone). */
  async cleanup(name: string): Promise<void> {
    await removeFileDurable(this.runtimeFile(name));
    for (const f of [this.pidFile(name), this.qmpSocket(name), this.serialSocket(name), this.qgaSocket(name)]) {
      await fs.rm(f, { force: true });
    }
  }
}

/** /proc/PID/stat fields after the command name. */
async function procStat(pid: number): Promise<string[] | null> {
  const raw = await readFileOrNull(`/proc/${pid}/stat`);
  if (raw === null) return null;
  const close = raw.lastIndexOf(")");
  return raw
    .slice(close + 2)
    .trim()
    .split(/\s+/);
}

/**
 * Whether `pid` is a live (non-zombie) qemu of instance `name`: its command
 * line must carry `-name NAME`, as Ganeti checks, so a recycled pid is not
 * taken for the guest.
 */
export async function qemuAlive(pid: number | null, name: string): Promise<boolean> {
  if (pid === null) return false;
  const stat = await procStat(pid);
  if (!stat || stat[0] === "Z" || stat[0] === "X") return false;
  const cmdline = await readFileOrNull(`/proc/${pid}/cmdline`);
  if (cmdline === null) return false;
  const args = cmdline.split("\0");
  const i = args.indexOf("-name");
  return i >= 0 && (args[i + 1] === name || args[i + 1]?.startsWith(`${name},`) === true);
}

/** CPU seconds used by the process (user + system), Ganeti's instance "time". */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await procStat(pid);
  if (!stat) return 0;
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after "(comm) ".
  const ticks = Number(stat[11] ?? 0) + Number(stat[12] ?? 0);
  return ticks / 100;
}

// The kvm hypervisor, after Ganeti's hv_kvm: one daemonised qemu per
// instance, driven over QMP. The node keeps a runtime file per instance
// (runtime.ts), a pid file and the QMP and serial sockets, so a restarted
// node daemon finds its guests by pid (checked against /proc/PID/cmdline)
// and talks to them again. A qemu that died is simply not running: the
// master then reports the instance ERROR_down, as Ganeti does.
import { spawn } from "node:child_process";
import { constants as fsc, promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { DiskMirrorStatus, HvInstanceInfo, MigrationStatus, RpcDisk, RpcInstance } from "@ganeti-ts/schema";
import { HypervisorError } from "../../lib/errors.js";
import { parseReplicaUri } from "../../lib/replica-uri.js";
import { KeyedMutex } from "../fake/keyed-mutex.js";
import type {
  ConsoleInfo,
  HostInfoSource,
  HotplugAction,
  HotplugDevice,
  HotplugTarget,
  HvBlockDevice,
  HvNodeInfo,
  Hypervisor,
} from "../hypervisor.js";
import { acceleratorFor, probeAccelerator, type AccelProbe } from "./accel.js";
import {
  buildCommandLine,
  diskDevice,
  diskDeviceId,
  diskIothread,
  diskDriveId,
  driveOptions,
  REPLICA_TLS_ID,
  replicaTlsDir,
  freeSlot,
  nicDevice,
  nicDeviceId,
  nicNetdevId,
  netdevOptions,
  type KvmDisk,
} from "./cmdline.js";
import { KvmMigration } from "./migrate.js";
import { noNetworkNicBackend, type NicBackend } from "./nic.js";
import { checkKvmParameterRules, validateKvmParameters } from "./params.js";
import { withQmp, type QmpClient } from "./qmp.js";
import { withQmpFile } from "./qmp-fd.js";
import { resizeDrive } from "./resize.js";
import { cpuSeconds, KvmDirs, qemuAlive, type KvmNicRuntime, type KvmRuntime } from "./runtime.js";

const MiB = 1024 * 1024;
/** Ganeti's constants.VNC_BASE_PORT. */
const VNC_BASE_PORT = 5900;

export interface KvmHypervisorOptions {
  /** <dataDir>/hypervisors/kvm */
  baseDir: string;
  host: HostInfoSource;
  clock?: () => number;
  nicBackend?: NicBackend;
  /** Overrides the accelerator probe (tests). */
  probe?: () => Promise<AccelProbe>;
}

function intParam(params: Record<string, unknown>, keys: string[], dflt: number): number {
  for (const k of keys) {
    const v = params[k];
    if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
    if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  }
  return dflt;
}

export class KvmHypervisor implements Hypervisor {
  readonly name = "kvm";
  readonly dirs: KvmDirs;
  private readonly host: HostInfoSource;
  private readonly clock: () => number;
  private readonly nics: NicBackend;
  private readonly probe: () => Promise<AccelProbe>;
  private readonly mutex = new KeyedMutex();

  constructor(opts: KvmHypervisorOptions) {
    this.dirs = new KvmDirs(opts.baseDir);
    this.host = opts.host;
    this.clock = opts.clock ?? Date.now;
    this.nics = opts.nicBackend ?? noNetworkNicBackend;
    this.probe = opts.probe ?? probeAccelerator;
  }

  /** The accelerator this node gives guests (kvm_flag aside), and why. */
  accelerator(): Promise<AccelProbe> {
    return this.probe();
  }

  private async pidOf(name: string): Promise<number | null> {
    const pid = await this.dirs.readPid(name);
    return (await qemuAlive(pid, name)) ? pid : null;
  }

  async listInstances(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await this.dirs.runtimeNames()) {
      if ((await this.pidOf(name)) === null) continue;
      if (await this.reapUserShutdown(name)) continue;
      out.push(name);
    }
    return out;
  }

  /**
   * user_shutdown (Ganeti's kvmd, done when the node is asked): a guest that
   * powered itself off leaves its qemu (-no-shutdown) in the "shutdown"
   * state; that qemu is ended and the instance remembered as shut down by
   * its user until it is started again. True when it was.
   */
  private async reapUserShutdown(name: string): Promise<boolean> {
    const rt = await this.dirs.readRuntime(name).catch(() => null);
    if (!rt || rt.instance.hvparams["user_shutdown"] !== true) return false;
    const st = await withQmp(this.dirs.qmpSocket(name), (q) => q.execute("query-status"), 3000).catch(() => null);
    if ((st as { status?: string } | null)?.status !== "shutdown") return false;
    await this.mutex.run(name, async () => {
      const pid = await this.pidOf(name);
      if (pid !== null) await this.kill(name, pid);
      await this.releaseNics(rt.instance, rt.nics);
      await this.dirs.cleanup(name);
      await fs.writeFile(this.dirs.shutdownFile(name), `${this.clock() / 1000}\n`);
    });
    return true;
  }

  private async userShutdown(name: string): Promise<boolean> {
    return fs.stat(this.dirs.shutdownFile(name)).then(
      () => true,
      () => false,
    );
  }

  /** Forget that the guest shut itself down (the instance was started or stopped by the cluster). */
  async clearUserShutdown(name: string): Promise<void> {
    await fs.rm(this.dirs.shutdownFile(name), { force: true });
  }

  async instanceInfo(name: string): Promise<HvInstanceInfo | null> {
    KvmDirs.checkName(name);
    const pid = (await this.reapUserShutdown(name)) ? null : await this.pidOf(name);
    if (pid === null) {
      // Ganeti reports a user-shut-down kvm instance in state shutdown.
      return (await this.userShutdown(name)) ? { name, memory: 0, vcpus: 0, state: "shutdown", time: 0 } : null;
    }
    const rt = await this.dirs.readRuntime(name);
    let memory = rt?.memory ?? 0;
    let state = "running";
    // QMP answers for the live numbers; a busy or wedged monitor (another
    // client connected) must not fail a listing, so fall back to the runtime.
    try {
      await withQmp(
        this.dirs.qmpSocket(name),
        async (q) => {
          const st = (await q.execute("query-status")) as { status?: string };
          if (st.status && st.status !== "running") state = ["shutdown", "guest-panicked"].includes(st.status) ? "shutdown" : "paused";
          const b = (await q.execute("query-balloon").catch(() => null)) as { actual?: number } | null;
          if (b?.actual) memory = Math.round(b.actual / MiB);
        },
        3000,
      );
    } catch {
      // keep the runtime's values
    }
    const info: HvInstanceInfo = { name, memory, vcpus: rt?.vcpus ?? 1, state, time: await cpuSeconds(pid) };
    if (rt) info.accel = rt.accel;
    return info;
  }

  async allInstancesInfo(): Promise<HvInstanceInfo[]> {
    const out: HvInstanceInfo[] = [];
    for (const name of await this.listInstances()) {
      const info = await this.instanceInfo(name);
      if (info) out.push(info);
    }
    for (const name of await this.dirs.shutdownNames()) {
      if (out.some((i) => i.name === name)) continue;
      const info = await this.instanceInfo(name);
      if (info) out.push(info);
    }
    return out;
  }

  async nodeInfo(host: HvNodeInfo): Promise<HvNodeInfo> {
    let used = 0;
    for (const name of await this.listInstances()) used += (await this.dirs.readRuntime(name))?.memory ?? 0;
    const accel = await this.probe();
    return { ...host, memory_free: host.memory_free - Math.min(host.memory_free, used), hv_accel: accel.accel };
  }

  private async startupMemory(instance: RpcInstance): Promise<{ maxmem: number; memory: number }> {
    const maxmem = intParam(instance.beparams, ["maxmem", "memory"], 128);
    const minmem = intParam(instance.beparams, ["minmem", "memory"], maxmem);
    const free = (await this.nodeInfo(await this.host())).memory_free;
    if (minmem > free) {
      throw new HypervisorError(`Not enough memory to start instance ${instance.name}: needed ${minmem} MiB, available ${free} MiB`);
    }
    return { maxmem, memory: Math.max(minmem, Math.min(maxmem, free)) };
  }

  /**
   * `incoming`: a migration target, qemu waits for the state on this URI
   * (migrate.ts); `machine`: the source's memory and vCPUs, which the target
   * must match whatever the beparams say now.
   */
  async start(
    instance: RpcInstance,
    disks: HvBlockDevice[],
    paused: boolean,
    opts: { incoming?: string; machine?: { maxmem: number; vcpus: number } } = {},
  ): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      if ((await this.pidOf(instance.name)) !== null) {
        throw new HypervisorError(`Failed to start instance ${instance.name}: already running`);
      }
      await this.forgetDead(instance.name);
      await this.clearUserShutdown(instance.name);
      const hv = instance.hvparams;
      const syntax = checkKvmParameterRules(hv);
      if (syntax) throw new HypervisorError(syntax);
      const invalid = await validateKvmParameters(hv, this.nodeEnv());
      if (invalid) throw new HypervisorError(invalid);
      await this.dirs.ensure();

      const { maxmem, memory } = opts.machine
        ? { maxmem: opts.machine.maxmem, memory: opts.machine.maxmem }
        : await this.startupMemory(instance);
      const vcpus = opts.machine?.vcpus ?? intParam(instance.beparams, ["vcpus"], 1);
      const reservations = intParam(hv, ["kvm_pci_reservations"], 12);
      const diskType = String(hv["disk_type"] ?? "paravirtual") || "paravirtual";
      const used: (number | null)[] = [];
      // The guest agent's channel takes the first free slot, before disks and NICs (as in Ganeti).
      const guestAgentSlot = hv["use_guest_agent"] === true ? freeSlot(used, reservations) : null;
      used.push(guestAgentSlot);
      const kdisks: KvmDisk[] = disks.map((d) => {
        const slot = diskType === "paravirtual" ? freeSlot(used, reservations) : null;
        if (diskType === "paravirtual" && slot === null) throw new HypervisorError("Not enough PCI slots for the instance's disks");
        used.push(slot);
        return { uuid: d.uuid, path: d.path, mode: d.mode, slot };
      });
      const knics: KvmNicRuntime[] = [];
      try {
        for (const [i, nic] of instance.nics.entries()) {
          const slot = freeSlot(used, reservations);
          if (slot === null) throw new HypervisorError("Not enough PCI slots for the instance's NICs");
          used.push(slot);
          const prep = await this.nics.prepare(instance, nic, i);
          knics.push({ uuid: nic.uuid, mac: nic.mac, slot, netdev: prep.netdev, nic, backend: prep.backend });
        }
        const accel = acceleratorFor(hv["kvm_flag"], await this.probe());
        if (hv["use_chroot"] === true) await fs.mkdir(this.dirs.chrootDir(instance.name), { recursive: true, mode: 0o700 });
        const spice = spiceAddress(hv);
        const argv = buildCommandLine({
          name: instance.name,
          uuid: instance.uuid,
          hvparams: hv,
          memory: maxmem,
          vcpus,
          accel,
          paths: this.paths(instance.name),
          disks: kdisks,
          nics: knics,
          paused,
          incoming: opts.incoming,
          // The cluster-allocated port is the VNC display (as the console reports it).
          vncDisplay:
            instance.network_port !== undefined && instance.network_port > VNC_BASE_PORT
              ? instance.network_port - VNC_BASE_PORT
              : undefined,
          networkPort: instance.network_port,
          spiceAddress: spice?.address,
          spiceIpVersion: spice?.version,
          guestAgentSlot,
        });
        const rt: KvmRuntime = {
          version: 1,
          name: instance.name,
          uuid: instance.uuid,
          argv,
          instance,
          accel,
          maxmem,
          memory,
          vcpus,
          disks: kdisks,
          nics: knics,
          started_at: this.clock() / 1000,
        };
        await this.dirs.writeRuntime(rt);
        await this.execute(rt, { balloon: !opts.incoming });
      } catch (err) {
        await this.releaseNics(instance, knics);
        await this.dirs.cleanup(instance.name);
        throw err;
      }
    });
  }

  /** Ganeti's ValidateParameters (plus the cross-parameter rules): what only the node can check. */
  async validateParameters(hvparams: Record<string, unknown>): Promise<string | null> {
    return checkKvmParameterRules(hvparams) ?? (await validateKvmParameters(hvparams, this.nodeEnv()));
  }

  private nodeEnv() {
    return { spiceCert: this.dirs.spiceCert(), spiceCaCert: this.dirs.spiceCaCert() };
  }

  private paths(name: string) {
    return {
      pidFile: this.dirs.pidFile(name),
      qmpSocket: this.dirs.qmpSocket(name),
      serialSocket: this.dirs.serialSocket(name),
      serialLog: this.dirs.serialLog(name),
      qgaSocket: this.dirs.qgaSocket(name),
      chrootDir: this.dirs.chrootDir(name),
      spiceCert: this.dirs.spiceCert(),
      spiceCaCert: this.dirs.spiceCaCert(),
    };
  }

  /** Run the saved command line: qemu daemonises once its devices are up. */
  private async execute(rt: KvmRuntime, opts: { balloon?: boolean } = {}): Promise<void> {
    const [bin, ...args] = this.nics.wrapCommand ? await this.nics.wrapCommand(rt.argv) : rt.argv;
    const logFile = this.dirs.qemuLog(rt.name);
    await fs.rm(this.dirs.pidFile(rt.name), { force: true });
    const log = await fs.open(logFile, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o640);
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(bin!, args, { stdio: ["ignore", log.fd, log.fd], detached: true });
        child.once("error", reject);
        child.once("exit", (c, sig) => resolve(sig ? -1 : c));
      });
    } catch (err) {
      throw new HypervisorError(`Failed to start instance ${rt.name}: can't run ${bin}: ${(err as Error).message}`, { cause: err });
    } finally {
      await log.close();
    }
    if (code !== 0 || (await this.pidOf(rt.name)) === null) {
      const out = (await fs.readFile(logFile, "utf8").catch(() => "")).trim().split("\n").slice(-5).join("; ");
      throw new HypervisorError(`Failed to start instance ${rt.name}: qemu exited with code ${code}${out ? `: ${out}` : ""}`);
    }
    if (opts.balloon !== false && rt.memory < rt.maxmem) await this.setBalloon(rt.name, rt.memory);
    await this.afterStart(rt);
  }

  /**
   * What Ganeti's kvm does once qemu runs: the VNC and SPICE passwords from
   * their files (over QMP), and the CPU pinning of cpu_mask. A failure ends
   * the qemu just started.
   */
  private async afterStart(rt: KvmRuntime): Promise<void> {
    const hv = rt.instance.hvparams;
    try {
      const passwords: [string, string][] = [];
      if (typeof hv["vnc_password_file"] === "string" && hv["vnc_password_file"] && hv["vnc_bind_address"])
        passwords.push(["vnc", await firstLine(hv["vnc_password_file"], "VNC")]);
      if (typeof hv["spice_password_file"] === "string" && hv["spice_password_file"] && hv["spice_bind"] && !hv["vnc_bind_address"])
        passwords.push(["spice", await firstLine(hv["spice_password_file"], "SPICE")]);
      if (passwords.length)
        await withQmp(this.dirs.qmpSocket(rt.name), async (q) => {
          for (const [protocol, password] of passwords) await q.execute("set_password", { protocol, password });
        });
      const mask = typeof hv["cpu_mask"] === "string" ? hv["cpu_mask"] : "";
      if (mask && mask !== "all") await this.pinCpus(rt.name, mask);
    } catch (err) {
      const pid = await this.pidOf(rt.name);
      if (pid !== null) await this.kill(rt.name, pid).catch(() => undefined);
      throw new HypervisorError(`Failed to start instance ${rt.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * cpu_mask, as Ganeti's _ExecuteCpuAffinity: one mask ("0-2,5") pins the
   * whole process; a mask per vCPU ("0:1-2:3", "all" for any) pins each vCPU
   * thread.
   */
  private async pinCpus(name: string, mask: string): Promise<void> {
    const pid = await this.pidOf(name);
    if (pid === null) return;
    const taskset = async (args: string[]) => {
      await new Promise<void>((resolve, reject) => {
        const child = spawn("taskset", args, { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.once("error", reject);
        child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`taskset ${args.join(" ")}: ${err.trim()}`))));
      });
    };
    const masks = mask.split(":").map((m) => m.trim());
    if (masks.length === 1) {
      await taskset(["-a", "-p", "-c", masks[0]!, String(pid)]);
      return;
    }
    const cpus = (await withQmp(this.dirs.qmpSocket(name), (q) => q.execute("query-cpus-fast"))) as {
      "cpu-index": number;
      "thread-id": number;
    }[];
    for (const cpu of cpus) {
      const m = masks[cpu["cpu-index"]];
      if (m && m !== "all") await taskset(["-p", "-c", m, String(cpu["thread-id"])]);
    }
  }

  /** Drop what a dead qemu left behind (runtime, sockets, prepared NICs). */
  private async forgetDead(name: string): Promise<void> {
    const rt = await this.dirs.readRuntime(name).catch(() => null);
    if (rt) await this.releaseNics(rt.instance, rt.nics);
    await this.dirs.cleanup(name);
  }

  private async releaseNics(instance: RpcInstance, nics: KvmNicRuntime[]): Promise<void> {
    for (const n of nics) await this.nics.release(instance, n.nic, n.backend).catch(() => undefined);
  }

  /** Wait until the qemu process is gone; true if it went within the time. */
  private async waitGone(name: string, pid: number, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    for (;;) {
      if (!(await qemuAlive(pid, name))) return true;
      if (Date.now() >= end) return false;
      await sleep(100);
    }
  }

  private async kill(name: string, pid: number): Promise<void> {
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(pid, s);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
      }
    };
    signal("SIGTERM");
    if (await this.waitGone(name, pid, 3000)) return;
    signal("SIGKILL");
    if (!(await this.waitGone(name, pid, 10_000))) throw new HypervisorError(`Failed to kill qemu of instance ${name} (pid ${pid})`);
  }

  async stop(instance: RpcInstance, opts: { force: boolean; timeout: number } = { force: false, timeout: 120 }): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      const pid = await this.pidOf(instance.name);
      if (pid === null) throw new HypervisorError(`Failed to stop instance ${instance.name}: not running`);
      const rt = await this.dirs.readRuntime(instance.name);
      const acpi = (rt?.instance.hvparams ?? instance.hvparams)["acpi"];
      // Ganeti: without ACPI (or when forced) the process is killed at once;
      // else the guest gets the power button and `timeout` seconds.
      if (!opts.force && acpi !== false && opts.timeout > 0) {
        const asked = await withQmp(this.dirs.qmpSocket(instance.name), (q) => q.execute("system_powerdown"), 5000).then(
          () => true,
          () => false,
        );
        if (asked) await this.waitGone(instance.name, pid, opts.timeout * 1000);
      }
      if (await qemuAlive(pid, instance.name)) await this.kill(instance.name, pid);
      await this.releaseNics(rt?.instance ?? instance, rt?.nics ?? []);
      await this.dirs.cleanup(instance.name);
    });
  }

  /**
   * Soft reboot, as Ganeti's kvm does it: the qemu process is stopped and the
   * saved runtime (same command line, NICs and disks) executed again.
   */
  async reboot(instance: RpcInstance): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      const pid = await this.pidOf(instance.name);
      const rt = await this.dirs.readRuntime(instance.name);
      if (pid === null || !rt) throw new HypervisorError(`Failed to reboot instance ${instance.name}: not running`);
      await this.kill(instance.name, pid);
      rt.started_at = this.clock() / 1000;
      await this.dirs.writeRuntime(rt);
      try {
        await this.execute(rt);
      } catch (err) {
        await this.releaseNics(rt.instance, rt.nics);
        await this.dirs.cleanup(instance.name);
        throw err;
      }
    });
  }

  private async setBalloon(name: string, memory: number): Promise<void> {
    await withQmp(this.dirs.qmpSocket(name), (q) => q.execute("balloon", { value: memory * MiB }));
  }

  async balloon(instance: RpcInstance, memory: number): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      const rt = await this.dirs.readRuntime(instance.name);
      if ((await this.pidOf(instance.name)) === null || !rt) {
        throw new HypervisorError(`Failed to balloon memory for ${instance.name}: not running`);
      }
      if (memory > rt.maxmem) {
        throw new HypervisorError(`Cannot balloon instance ${instance.name} to ${memory} MiB: above its maximum of ${rt.maxmem} MiB`);
      }
      await this.setBalloon(instance.name, memory);
      await this.dirs.writeRuntime({ ...rt, memory });
    });
  }

  /** The runtime of a running instance (its qemu alive), for hotplug and migration. */
  async runtime(name: string): Promise<KvmRuntime | null> {
    if ((await this.pidOf(name)) === null) return null;
    return this.dirs.readRuntime(name);
  }

  /** Ganeti's HotplugSupported: the instance runs and its QMP answers. */
  async hotplugSupported(instance: RpcInstance): Promise<void> {
    if ((await this.pidOf(instance.name)) === null) throw new HypervisorError("Instance is probably down");
    await withQmp(this.dirs.qmpSocket(instance.name), (q) => q.execute("query-version"), 5000).catch((err: unknown) => {
      throw new HypervisorError(`Instance is probably down: ${(err as Error).message}`, { cause: err });
    });
  }

  /**
   * Ganeti's HotAddDevice/HotDelDevice/HotModDevice for disks and NICs. A
   * disk arrives with the path its block device was assembled at.
   */
  async hotplugDevice(instance: RpcInstance, action: HotplugAction, target: HotplugTarget, device: HotplugDevice): Promise<string> {
    if (action === "hotmod") {
      // Ganeti's HotModDevice: a NIC is removed and added again with its new
      // parameters (MAC, link, mode); disks cannot be modified.
      if (target !== "nic") throw new HypervisorError("Hotplug modify is not supported for disks");
      await this.hotplugDevice(instance, "hotdel", "nic", device);
      return this.hotplugDevice(instance, "hotadd", "nic", device);
    }
    return this.mutex.run(instance.name, async () => {
      const rt = await this.runtime(instance.name);
      if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
      const hv = rt.instance.hvparams;
      const reservations = intParam(hv, ["kvm_pci_reservations"], 12);
      const used = [...rt.disks.map((d) => d.slot), ...rt.nics.map((n) => n.slot)];
      const qmp = this.dirs.qmpSocket(instance.name);
      if (target === "disk") {
        const disk = device.disk!;
        if ((String(hv["disk_type"] ?? "paravirtual") || "paravirtual") !== "paravirtual") {
          throw new HypervisorError(`Hotplug is not supported for device type ${String(hv["disk_type"])}`);
        }
        if (action === "hotadd") {
          if (rt.disks.some((d) => d.uuid === disk.uuid)) throw new HypervisorError(`Disk ${disk.uuid} is already attached`);
          const slot = freeSlot(used, reservations);
          if (slot === null) throw new HypervisorError("No free PCI slot for the disk");
          const kd: KvmDisk = { uuid: disk.uuid, path: device.diskPath!, mode: disk.mode, slot };
          // A qemu running as a user cannot open a local image under the
          // node's directories, nor a chrooted one see its path: it gets
          // the file open (Ganeti's add-fd).
          const confined = this.processUser(rt.instance) !== null || rt.instance.hvparams["use_chroot"] === true;
          const passFile = confined && parseReplicaUri(kd.path) === null;
          const file = passFile
            ? await fs.open(kd.path, kd.mode === "ro" ? "r" : "r+").catch((err: unknown) => {
                throw new HypervisorError(`Can't open disk ${disk.uuid} at ${kd.path}: ${(err as Error).message}`, { cause: err });
              })
            : null;
          const session = <T>(fn: (q: QmpClient, path: string) => Promise<T>): Promise<T> =>
            file ? withQmpFile(qmp, file.fd, (q, fdset) => fn(q, `/dev/fdset/${fdset}`)) : withQmp(qmp, (q) => fn(q, kd.path));
          await session(async (q, drivePath) => {
            const tlsDir = replicaTlsDir([kd]);
            const iothread = diskIothread(kd);
            const objs = tlsDir || iothread ? ((await q.execute("qom-list", { path: "/objects" })) as { name: string }[]) : [];
            // A replicated disk over TLS needs the replication credentials; the first one adds them.
            if (tlsDir && !objs.some((o) => o.name === REPLICA_TLS_ID)) {
              await q.execute("object-add", { "qom-type": "tls-creds-x509", id: REPLICA_TLS_ID, dir: tlsDir, endpoint: "client" });
            }
            // Its iothread (left behind by an earlier hot-remove of the same disk, or new).
            if (iothread && !objs.some((o) => o.name === iothread)) await q.execute("object-add", { "qom-type": "iothread", id: iothread });
            const out = await q.execute("human-monitor-command", {
              // A passed file is open in one mode: qemu must not first open it read-only (auto-read-only), as Ganeti's hotplug.
              "command-line": `drive_add dummy ${driveOptions({ ...kd, path: drivePath }, hv, "none")}${file ? ",auto-read-only=off" : ""}`,
            });
            if (typeof out === "string" && out.trim() && !/^OK/i.test(out.trim()))
              throw new HypervisorError(`drive_add failed: ${out.trim()}`);
            await q.execute("device_add", devArgs(diskDevice(kd, null)));
          }).finally(() => file?.close());
          rt.disks.push(kd);
        } else if (action === "hotdel") {
          const kd = rt.disks.find((d) => d.uuid === disk.uuid);
          if (!kd) throw new HypervisorError(`Disk ${disk.uuid} is not attached to ${instance.name}`);
          await withQmp(qmp, async (q) => {
            await q.execute("device_del", { id: diskDeviceId(kd.uuid) });
            await q.waitEvent("DEVICE_DELETED", 15_000).catch(() => undefined);
          });
          rt.disks = rt.disks.filter((d) => d !== kd);
        } else {
          throw new HypervisorError("Hotplug modify is not supported for disks");
        }
      } else {
        const nic = device.nic!;
        if (action === "hotadd") {
          if (rt.nics.some((n) => n.uuid === nic.uuid)) throw new HypervisorError(`NIC ${nic.uuid} is already attached`);
          const slot = freeSlot(used, reservations);
          if (slot === null) throw new HypervisorError("No free PCI slot for the NIC");
          const prep = await this.nics.prepare(rt.instance, nic, rt.nics.length);
          const kn: KvmNicRuntime = { uuid: nic.uuid, mac: nic.mac, slot, netdev: prep.netdev, nic, backend: prep.backend };
          try {
            await withQmp(qmp, async (q) => {
              if (kn.netdev !== null) await q.execute("netdev_add", netdevArgs(netdevOptions(kn.netdev, hv), nicNetdevId(kn.uuid)));
              await q.execute("device_add", devArgs(nicDevice(kn, hv)));
            });
          } catch (err) {
            await this.nics.release(rt.instance, nic, prep.backend).catch(() => undefined);
            throw err;
          }
          rt.nics.push(kn);
        } else if (action === "hotdel") {
          const kn = rt.nics.find((n) => n.uuid === nic.uuid);
          if (!kn) throw new HypervisorError(`NIC ${nic.uuid} is not attached to ${instance.name}`);
          await withQmp(qmp, async (q) => {
            await q.execute("device_del", { id: nicDeviceId(kn.uuid) });
            await q.waitEvent("DEVICE_DELETED", 15_000).catch(() => undefined);
            if (kn.netdev !== null) await q.execute("netdev_del", { id: nicNetdevId(kn.uuid) }).catch(() => undefined);
          });
          await this.nics.release(rt.instance, kn.nic, kn.backend).catch(() => undefined);
          rt.nics = rt.nics.filter((n) => n !== kn);
        } else {
          throw new HypervisorError(`Unknown hotplug action ${action}`);
        }
      }
      await this.dirs.writeRuntime(rt);
      return "";
    });
  }

  /** security_model=user: qemu drops to security_domain after its start (-runas, as in the command line). */
  processUser(instance: RpcInstance): string | null {
    const hv = instance.hvparams;
    return hv["security_model"] === "user" && typeof hv["security_domain"] === "string" && hv["security_domain"]
      ? hv["security_domain"]
      : null;
  }

  /** Ganeti's ResizeDisk: tell the running guest its disk grew (QMP block_resize). */
  async resizeDisk(instance: RpcInstance, disk: RpcDisk, newSizeBytes: number): Promise<void> {
    const rt = await this.runtime(instance.name);
    if (!rt) throw new HypervisorError(`Instance ${instance.name} is not running`);
    if (!rt.disks.some((d) => d.uuid === disk.uuid)) throw new HypervisorError(`Disk ${disk.uuid} is not attached to ${instance.name}`);
    // A replicated disk's NBD client may need a reconnect first: resize.ts.
    await withQmp(this.dirs.qmpSocket(instance.name), (q) => resizeDrive(q, diskDriveId(disk.uuid), newSizeBytes));
  }

  // Migration: migrate.ts.
  private readonly migration = new KvmMigration(this);

  async migrationInfo(instance: RpcInstance): Promise<string> {
    return this.migration.info(instance);
  }

  async acceptInstance(
    instance: RpcInstance,
    target: string,
    disks: HvBlockDevice[],
    opts: { exportDisks?: boolean; info?: string } = {},
  ): Promise<void> {
    await this.migration.accept(instance, target, disks, opts.exportDisks === true, opts.info ?? "");
  }

  async mirrorDisks(instance: RpcInstance, targetAddress: string): Promise<void> {
    await this.migration.mirrorDisks(instance, targetAddress);
  }

  async mirrorStatus(instance: RpcInstance): Promise<DiskMirrorStatus> {
    return this.migration.mirrorStatus(instance);
  }

  async migrate(instance: RpcInstance, _target: string, targetAddress: string, live: boolean): Promise<void> {
    await this.migration.migrate(instance, targetAddress, live);
  }

  async migrationStatus(instance: RpcInstance): Promise<MigrationStatus> {
    return this.migration.status(instance);
  }

  async finalizeMigrationDst(instance: RpcInstance, success: boolean): Promise<void> {
    await this.migration.finalizeDst(instance, success);
  }

  async finalizeMigrationSrc(instance: RpcInstance, success: boolean, _live: boolean): Promise<void> {
    await this.migration.finalizeSrc(instance, success);
  }

  /**
   * Ganeti's GetInstanceConsole for kvm: the serial console as a command run
   * on the primary node (over ssh, as root; the master adds the node's ssh
   * port), else VNC when it listens on an address, else a message.
   */
  console(instance: RpcInstance): ConsoleInfo {
    const hv = instance.hvparams;
    if (hv["serial_console"] !== false) {
      return {
        instance: instance.name,
        kind: "ssh",
        host: instance.primary_node,
        user: "root",
        command: ["socat", "STDIO,raw,echo=0,escape=0x1d", `UNIX-CONNECT:${this.dirs.serialSocket(instance.name)}`],
      };
    }
    const vnc = hv["vnc_bind_address"];
    const port = instance.network_port;
    if (typeof vnc === "string" && vnc && port !== undefined && port > VNC_BASE_PORT) {
      return { instance: instance.name, kind: "vnc", host: vnc, port, display: port - VNC_BASE_PORT };
    }
    const spice = hv["spice_bind"];
    if (!vnc && typeof spice === "string" && spice && port !== undefined) {
      let host = spice;
      try {
        host = spiceAddress(hv)?.address ?? spice;
      } catch {
        // an interface this node does not have: report it as configured
      }
      return { instance: instance.name, kind: "spice", host, port };
    }
    return { instance: instance.name, kind: "msg", message: `No serial shell for instance ${instance.name}` };
  }

  async verify(): Promise<string | null> {
    try {
      await this.dirs.ensure();
    } catch (err) {
      return `The required directory '${this.dirs.baseDir}' cannot be created: ${(err as Error).message}`;
    }
    return null;
  }

  async powercycle(): Promise<string> {
    // Ganeti's kvm power-cycles the machine through sysrq; a node daemon in
    // tests shares its machine with others, so ganeti-ts never does.
    return "kvm hypervisor: node powercycle is not performed by ganeti-ts";
  }

  async forgetAll(): Promise<void> {
    for (const name of await this.dirs.runtimeNames()) {
      const pid = await this.pidOf(name);
      if (pid !== null) await this.kill(name, pid);
      await this.forgetDead(name);
    }
    for (const name of await this.dirs.shutdownNames()) await this.clearUserShutdown(name);
  }
}

/** The first line of a password file (Ganeti's ReadOneLineFile). */
async function firstLine(file: string, what: string): Promise<string> {
  try {
    return (await fs.readFile(file, "utf8")).split("\n")[0]!.trim();
  } catch (err) {
    throw new HypervisorError(`Failed to open ${what} password file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * SPICE's address: spice_bind itself when it is an IP address, else the
 * first address of that network interface on this node (of spice_ip_version
 * when set), as Ganeti resolves it.
 */
export function spiceAddress(hv: Record<string, unknown>): { address: string; version?: number } | null {
  const bind = typeof hv["spice_bind"] === "string" ? hv["spice_bind"] : "";
  if (!bind || (typeof hv["vnc_bind_address"] === "string" && hv["vnc_bind_address"])) return null;
  if (net.isIP(bind)) return { address: bind };
  const wanted = Number(hv["spice_ip_version"] ?? 0);
  const addrs = (os.networkInterfaces()[bind] ?? []).filter((a) => wanted === 0 || a.family === `IPv${wanted}`);
  if (!addrs.length) throw new HypervisorError(`SPICE: Unable to get an IP${wanted ? `v${wanted}` : ""} address for ${bind}`);
  const a = addrs.find((x) => x.family === "IPv4") ?? addrs[0]!;
  return { address: a.address, version: a.family === "IPv6" ? 6 : 4 };
}

/** "driver,k=v,k=v" as a device_add argument object. */
function devArgs(spec: string): Record<string, unknown> {
  const [driver, ...kv] = spec.split(",");
  const args: Record<string, unknown> = { driver };
  for (const p of kv) {
    const eq = p.indexOf("=");
    args[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return args;
}

/** "type,k=v" as a netdev_add argument object. */
function netdevArgs(spec: string, id: string): Record<string, unknown> {
  const [type, ...kv] = spec.split(",");
  const args: Record<string, unknown> = { type, id };
  for (const p of kv) {
    const eq = p.indexOf("=");
    args[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return args;
}

// The fake hypervisor, after Ganeti's hv_fake: an instance "runs" when its
// state file exists. State lives in <dataDir>/hypervisors/fake/<name>.json
// (atomic writes), so a restarted node daemon finds its instances running,
// like noded reattaching to real VMs. Start memory follows hv_base's
// _InstanceStartupMemory: max(minmem, min(maxmem, free)); unlike hv_fake we
// refuse to start when even minmem does not fit, as a real hypervisor would.
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { HvInstanceInfo, RpcInstance } from "@ganeti-ts/schema";
import { HypervisorError } from "../../lib/errors.js";
import type { ConsoleInfo, HostInfoSource, HvBlockDevice, HvNodeInfo, Hypervisor } from "../hypervisor.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { readFileOrNull, removeFileDurable, writeFileAtomic } from "../../lib/atomic-file.js";

/** Node-local runtime state of one fake instance (not a cluster shape). */
const FakeInstanceStateSchema = z.object({
  name: z.string(),
  uuid: z.string(),
  memory: z.number().int(),
  vcpus: z.number().int(),
  state: z.enum(["running", "paused"]),
  /** Epoch seconds when the instance was (last) started. */
  started_at: z.number(),
  disks: z.array(z.object({ uuid: z.string(), path: z.string(), mode: z.enum(["rw", "ro"]) })),
});
type FakeInstanceState = z.infer<typeof FakeInstanceStateSchema>;

interface FakeHypervisorOptions {
  /** <dataDir>/hypervisors/fake */
  stateDir: string;
  host: HostInfoSource;
  /** Milliseconds since the epoch. */
  clock?: () => number;
}

const SUFFIX = ".json";

export class FakeHypervisor implements Hypervisor {
  readonly name = "fake";
  private readonly stateDir: string;
  private readonly host: HostInfoSource;
  private readonly clock: () => number;
  private readonly mutex = new KeyedMutex();
  private readonly powercycles: number[] = [];

  constructor(opts: FakeHypervisorOptions) {
    this.stateDir = opts.stateDir;
    this.host = opts.host;
    this.clock = opts.clock ?? Date.now;
  }

  private file(name: string): string {
    // Instance names are host names; refuse anything that could escape the dir.
    if (!name || name.includes("/") || name.startsWith(".") || name.includes("\0")) {
      throw new HypervisorError(`Invalid instance name '${name}'`);
    }
    return path.join(this.stateDir, name + SUFFIX);
  }

  /**
   * Every instance's state, loaded from disk once and then kept in memory:
   * this daemon is the only writer of its state dir (a second daemon on the
   * same data dir is refused), and per-call reads of every state file made
   * each job O(instances on the node).
   */
  private states: Map<string, FakeInstanceState> | null = null;
  /**
   * The state dir's mtime when `states` was last in step with it. A change
   * behind this daemon's back (a state file removed as a crashed guest's
   * process vanishes, or one started outside the cluster) moves the mtime
   * and the next read reloads, as Ganeti's hv_fake reads its files anew.
   */
  private dirMtime: number | null = -1;

  private async stateDirMtime(): Promise<number | null> {
    try {
      return (await fs.stat(this.stateDir)).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new HypervisorError(`Failed to list instances: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Own writes and removals started, and those still running (see all()). */
  private mutations = 0;
  private inFlight = 0;

  private async all(): Promise<Map<string, FakeInstanceState>> {
    const mtime = await this.stateDirMtime();
    if (this.states && mtime === this.dirMtime) return this.states;
    const before = this.mutations;
    const loaded = new Map<string, FakeInstanceState>();
    for (const name of await this.namesOnDisk()) {
      const raw = await readFileOrNull(this.file(name));
      if (raw === null) continue;
      try {
        loaded.set(name, FakeInstanceStateSchema.parse(JSON.parse(raw)));
      } catch (err) {
        throw new HypervisorError(`Failed to read state of instance ${name}: ${(err as Error).message}`, { cause: err });
      }
    }
    this.states = loaded;
    // A listing taken while this daemon changed the dir may be stale: keep
    // it, but make the next read look again.
    this.dirMtime = before === this.mutations && this.inFlight === 0 ? mtime : -1;
    return loaded;
  }

  /** Run one of this daemon's own changes to the state dir, keeping the cache in step. */
  private async mutateDir(change: () => Promise<void>, apply: (states: Map<string, FakeInstanceState>) => void): Promise<void> {
    await this.all();
    this.mutations++;
    this.inFlight++;
    try {
      await change();
    } finally {
      this.inFlight--;
    }
    if (this.states) apply(this.states);
    this.dirMtime = this.inFlight === 0 ? await this.stateDirMtime() : -1;
  }

  private async read(name: string): Promise<FakeInstanceState | null> {
    this.file(name); // validates the name
    return (await this.all()).get(name) ?? null;
  }

  private async write(st: FakeInstanceState): Promise<void> {
    const file = this.file(st.name);
    await this.mutateDir(
      () => writeFileAtomic(file, JSON.stringify(st) + "\n"),
      (states) => states.set(st.name, st),
    );
  }

  /** Remove an instance's state durably, then forget it. */
  private async remove(name: string): Promise<boolean> {
    const file = this.file(name);
    let removed = false;
    await this.mutateDir(
      async () => {
        removed = await removeFileDurable(file);
      },
      (states) => states.delete(name),
    );
    return removed;
  }

  private async names(): Promise<string[]> {
    return [...(await this.all()).keys()].sort();
  }

  private async namesOnDisk(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.stateDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new HypervisorError(`Failed to list instances: ${(err as Error).message}`, { cause: err });
    }
    return entries
      .filter((e) => e.endsWith(SUFFIX) && !e.startsWith("."))
      .map((e) => e.slice(0, -SUFFIX.length))
      .sort();
  }

  private toInfo(st: FakeInstanceState): HvInstanceInfo {
    return {
      name: st.name,
      memory: st.memory,
      vcpus: st.vcpus,
      state: st.state,
      time: Math.max(0, Math.floor(this.clock() / 1000 - st.started_at)),
    };
  }

  async listInstances(): Promise<string[]> {
    return this.names();
  }

  async instanceInfo(name: string): Promise<HvInstanceInfo | null> {
    const st = await this.read(name);
    return st ? this.toInfo(st) : null;
  }

  async allInstancesInfo(): Promise<HvInstanceInfo[]> {
    const states = await this.all();
    return [...states.keys()].sort().map((name) => this.toInfo(states.get(name)!));
  }

  async nodeInfo(host: HvNodeInfo): Promise<HvNodeInfo> {
    const used = (await this.allInstancesInfo()).reduce((sum, i) => sum + i.memory, 0);
    return { ...host, memory_free: host.memory_free - Math.min(host.memory_free, used) };
  }

  private async startupMemory(instance: RpcInstance): Promise<number> {
    const maxmem = intParam(instance.beparams, ["maxmem", "memory"], 128);
    const minmem = intParam(instance.beparams, ["minmem", "memory"], maxmem);
    const free = (await this.nodeInfo(await this.host())).memory_free;
    if (minmem > free) {
      throw new HypervisorError(`Not enough memory to start instance ${instance.name}: needed ${minmem} MiB, available ${free} MiB`);
    }
    return Math.max(minmem, Math.min(maxmem, free));
  }

  private async markUp(instance: RpcInstance, memory: number, disks: HvBlockDevice[], paused: boolean): Promise<void> {
    await this.write({
      name: instance.name,
      uuid: instance.uuid,
      memory,
      vcpus: intParam(instance.beparams, ["vcpus"], 1),
      state: paused ? "paused" : "running",
      started_at: this.clock() / 1000,
      disks: disks.map((d) => ({ uuid: d.uuid, path: d.path, mode: d.mode })),
    });
  }

  async start(instance: RpcInstance, disks: HvBlockDevice[], paused: boolean): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      if (await this.read(instance.name)) {
        throw new HypervisorError(`Failed to start instance ${instance.name}: already running`);
      }
      await this.markUp(instance, await this.startupMemory(instance), disks, paused);
    });
  }

  async stop(instance: RpcInstance, _opts?: { force: boolean; timeout: number }): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      if (!(await this.remove(instance.name))) {
        throw new HypervisorError(`Failed to stop instance ${instance.name}: not running`);
      }
    });
  }

  async reboot(instance: RpcInstance): Promise<void> {
    // A soft reboot happens inside the guest: the fake has nothing to do,
    // except refuse an instance it does not run.
    if (!(await this.read(instance.name))) {
      throw new HypervisorError(`Failed to reboot instance ${instance.name}: not running`);
    }
  }

  async balloon(instance: RpcInstance, memory: number): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      const st = await this.read(instance.name);
      if (!st) throw new HypervisorError(`Failed to balloon memory for ${instance.name}: not running`);
      await this.write({ ...st, memory });
    });
  }

  async acceptInstance(instance: RpcInstance, _target?: string): Promise<void> {
    if (await this.read(instance.name)) {
      throw new HypervisorError("Can't accept instance, already running");
    }
  }

  async migrate(instance: RpcInstance, _target?: string, _targetAddress?: string, _live?: boolean): Promise<void> {
    // The fake migration always succeeds; the target marks the instance up
    // in finalizeMigrationDst and the source drops it in finalizeMigrationSrc.
    if (!(await this.read(instance.name))) {
      throw new HypervisorError(`Failed to migrate instance ${instance.name}: not running`);
    }
  }

  async finalizeMigrationDst(instance: RpcInstance, success: boolean): Promise<void> {
    await this.mutex.run(instance.name, async () => {
      if (success) await this.markUp(instance, await this.startupMemory(instance), [], false);
      else await this.remove(instance.name);
    });
  }

  async finalizeMigrationSrc(instance: RpcInstance, success: boolean, _live?: boolean): Promise<void> {
    if (!success) return;
    await this.mutex.run(instance.name, async () => {
      await this.remove(instance.name);
    });
  }

  console(instance: RpcInstance): ConsoleInfo {
    return { instance: instance.name, kind: "msg", message: "Console not available for fake hypervisor" };
  }

  async verify(): Promise<string | null> {
    try {
      await fs.mkdir(this.stateDir, { recursive: true });
      return null;
    } catch (err) {
      return `The required directory '${this.stateDir}' cannot be created: ${(err as Error).message}`;
    }
  }

  async powercycle(): Promise<string> {
    // Never reboot the machine for a fake hypervisor; remember the request.
    this.powercycles.push(this.clock());
    return "Fake hypervisor: powercycle recorded, nothing done";
  }

  /** Powercycle requests seen by this process (tests). */
  get powercycleRequests(): readonly number[] {
    return this.powercycles;
  }

  async forgetAll(): Promise<void> {
    for (const name of await this.names()) await this.remove(name);
  }
}

function intParam(params: Record<string, unknown>, keys: string[], dflt: number): number {
  for (const k of keys) {
    const v = params[k];
    if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
    if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  }
  return dflt;
}

// Node-level calls: version, node_info (memory/CPU/storage), powercycle,
// leaving the cluster, test_delay.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PROTOCOL_VERSION, SOFTWARE_VERSION } from "../../config/defaults.js";
import type { HvNodeInfo } from "../../hypervisors/hypervisor.js";
import { SUPPORTED_HYPERVISORS } from "../../hypervisors/registry.js";
import { FILE_STORAGE_TYPES, fileStorageSpace } from "../../storage/file-storage.js";
import { volumeGroupSpace } from "../../storage/volume-storage.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";
import type { NodeSettings } from "./settings.js";

/** /proc/meminfo in MiB: MemTotal and MemAvailable (Ganeti's GetLinuxNodeInfo). */
async function procMeminfo(): Promise<{ total: number; available: number } | null> {
  let text: string;
  try {
    text = await fs.readFile("/proc/meminfo", "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null; // not Linux
    throw err;
  }
  const kib = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s*(\\d+)`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const total = kib("MemTotal");
  const available = kib("MemAvailable") ?? kib("MemFree");
  if (total === undefined || available === undefined) return null;
  return { total: Math.floor(total / 1024), available: Math.floor(available / 1024) };
}

/** The machine's resources, overridden field by field by the node settings. */
export async function hostInfo(settings: NodeSettings): Promise<HvNodeInfo> {
  let total: number;
  let dom0: number;
  if (settings.memory_total !== undefined) {
    total = settings.memory_total;
    dom0 = settings.memory_dom0 ?? 0;
  } else {
    const mi = await procMeminfo();
    total = mi?.total ?? Math.floor(os.totalmem() / 1048576);
    const avail = mi?.available ?? Math.floor(os.freemem() / 1048576);
    dom0 = settings.memory_dom0 ?? total - avail;
  }
  const cpuTotal = settings.cpu_total ?? os.availableParallelism?.() ?? os.cpus().length;
  return {
    memory_total: total,
    memory_dom0: dom0,
    memory_free: Math.max(0, total - dom0),
    cpu_total: cpuTotal,
    cpu_nodes: settings.cpu_nodes ?? 1,
    cpu_sockets: settings.cpu_sockets ?? 1,
    cpu_dom0: settings.cpu_dom0 ?? cpuTotal,
  };
}

async function bootId(settings: NodeSettings): Promise<string> {
  if (settings.bootid) return settings.bootid;
  try {
    return (await fs.readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "unknown";
    throw err;
  }
}

export function nodeInfoHandlers(
  ctx: BackendContext,
): HandlerSlice<"version" | "node_info" | "node_powercycle" | "node_leave_cluster" | "test_delay" | "hypervisor_validate_params"> {
  return {
    version: async () => ({ protocol_version: PROTOCOL_VERSION, software_version: SOFTWARE_VERSION }),

    node_info: async (args) => {
      const settings = await ctx.settings();
      const hv = ctx.hypervisors.get(args.hypervisor);
      const info = await hv.nodeInfo(await ctx.hostInfo());
      const storage = [];
      for (const su of args.storage_units) {
        if ((FILE_STORAGE_TYPES as readonly string[]).includes(su.type)) {
          const space = await fileStorageSpace(await ctx.storagePaths.local(su.name), settings.storage_size?.[su.type]);
          storage.push({ type: su.type, name: su.name, storage_size: space.size, storage_free: space.free });
        } else if (su.type === "lvm-vg") {
          const space = await volumeGroupSpace(ctx.storage.volumes, su.name, settings.storage_size?.["lvm-vg"]);
          storage.push({ type: su.type, name: su.name, storage_size: space.size, storage_free: space.free });
        } else if (su.type === "lvm-pv") {
          // Spindles: counted only with exclusive storage, which this node does not have (Ganeti then reports 0).
          storage.push({ type: su.type, name: su.name, storage_size: 0, storage_free: 0 });
        } else {
          // diskless and types this node cannot report: unknown.
          storage.push({ type: su.type, name: su.name, storage_size: null, storage_free: null });
        }
      }
      return { name: ctx.nodeName, ...info, storage, bootid: await bootId(settings) };
    },

    node_powercycle: async (args) => ctx.hypervisors.get(args.hypervisor).powercycle(),

    hypervisor_validate_params: async (args) => {
      const hv = ctx.hypervisors.get(args.hypervisor);
      const problem = hv.validateParameters ? await hv.validateParameters(args.hvparams) : null;
      if (problem) throw new NodeBackendError(problem);
      return null;
    },

    node_leave_cluster: async () => {
      // Forget the instances' runtime bookkeeping and the cluster certificate:
      // this node can only rejoin through a new node add.
      // A master candidate's etcd member leaves the etcd cluster before it stops, its standby master stops.
      await ctx.candidateRole?.giveUp();
      for (const name of SUPPORTED_HYPERVISORS) await ctx.hypervisors.get(name).forgetAll();
      await fs.rm(path.join(ctx.dataDir, "server.pem"), { force: true });
      // What the node made under /run, once its replicated disks are gone.
      await ctx.storage.replication.tidyRunDir();
      ctx.onLeaveCluster?.();
      return null;
    },

    test_delay: async (args) => {
      await ctx.sleep(args.duration * 1000);
      return null;
    },
  };
}

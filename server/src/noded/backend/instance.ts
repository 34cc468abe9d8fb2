// Instance runtime calls, with Ganeti backend.py's semantics on top of the
// hypervisor: starting a running instance and stopping a stopped one are
// no-ops; rebooting a stopped one fails; errors name their layer.
import type { HvInstanceInfo, RpcDisk, RpcInstance } from "@ganeti-ts/schema";
import { KeyedMutex } from "../../hypervisors/fake/keyed-mutex.js";
import { lookupUser } from "../../lib/users.js";
import type { HvBlockDevice, Hypervisor } from "../../hypervisors/hypervisor.js";
import { driverFor } from "../../storage/registry.js";
import { drbdDiskOf } from "../../storage/replication/engine.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError, messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

function fail(message: string, cause: unknown): never {
  throw new NodeBackendError(message, { cause });
}

async function isRunning(hv: Hypervisor, name: string): Promise<boolean> {
  return (await hv.listInstances()).includes(name);
}

async function gatherBlockDevices(ctx: BackendContext, instance: RpcInstance): Promise<HvBlockDevice[]> {
  const out: HvBlockDevice[] = [];
  for (const disk of instance.disks) {
    try {
      await ctx.storagePaths.checkDisk(disk);
      out.push({
        uuid: disk.uuid,
        path: await driverFor(disk, ctx.storage).assemble(await ctx.storagePaths.localDisk(disk)),
        mode: disk.mode,
      });
    } catch (err) {
      fail(`Block device error: ${messageOf(err)}`, err);
    }
  }
  return out;
}

/** No guest of the instance runs here: replicated disks still on a storage daemon of the earlier layout move to the current one. */
async function upgradeReplicas(ctx: BackendContext, instance: RpcInstance): Promise<void> {
  for (const disk of instance.disks) {
    if (disk.dev_type !== "drbd") continue;
    try {
      await ctx.storage.replication.upgradeLayout(drbdDiskOf(disk));
    } catch (err) {
      fail(`Block device error: ${messageOf(err)}`, err);
    }
  }
}

/**
 * The exports of the instance's replicated disks admit the user its
 * hypervisor process runs as (or root only again: `stopped`), before the
 * hypervisor attaches them.
 */
async function grantReplicas(ctx: BackendContext, hv: Hypervisor, instance: RpcInstance, disks: RpcDisk[], stopped = false): Promise<void> {
  const drbd = disks.filter((d) => d.dev_type === "drbd");
  if (!drbd.length) return;
  const name = stopped ? null : (hv.processUser?.(instance) ?? null);
  const owner = name === null ? null : await lookupUser(name);
  if (name !== null && !owner) throw new NodeBackendError(`Unknown security domain user ${name}`);
  for (const d of drbd) {
    try {
      await ctx.storage.replication.grantExport(d.uuid, owner);
    } catch (err) {
      fail(`Block device error: ${messageOf(err)}`, err);
    }
  }
}

export function instanceHandlers(
  ctx: BackendContext,
): HandlerSlice<
  | "instance_list"
  | "all_instances_info"
  | "instance_info"
  | "instance_start"
  | "instance_shutdown"
  | "instance_reboot"
  | "instance_balloon_memory"
  | "migration_info"
  | "accept_instance"
  | "instance_migrate"
  | "finalize_migration_dst"
  | "finalize_migration_src"
  | "instance_get_migration_status"
  | "instance_mirror_disks"
  | "instance_mirror_status"
  | "instance_console_info"
  | "hotplug_supported"
  | "hotplug_device"
  | "resize_disk"
> {
  // One runtime operation per instance at a time on this node.
  const lock = new KeyedMutex();
  const hvOf = (i: RpcInstance) => ctx.hypervisors.get(i.hypervisor);

  const start = async (instance: RpcInstance, paused: boolean): Promise<void> => {
    const hv = hvOf(instance);
    if (await isRunning(hv, instance.name)) return;
    await upgradeReplicas(ctx, instance);
    const devices = await gatherBlockDevices(ctx, instance);
    await grantReplicas(ctx, hv, instance, instance.disks);
    try {
      await hv.start(instance, devices, paused);
    } catch (err) {
      fail(`Hypervisor error: ${messageOf(err)}`, err);
    }
  };

  const shutdown = async (instance: RpcInstance, timeout: number): Promise<void> => {
    const hv = hvOf(instance);
    if (!(await isRunning(hv, instance.name))) {
      await hv.clearUserShutdown?.(instance.name);
      return;
    }
    try {
      await hv.stop(instance, { force: false, timeout });
    } catch (err) {
      // Gone meanwhile counts as stopped (Ganeti's _TryShutdown).
      if (await isRunning(hv, instance.name)) fail(`Failed to stop instance ${instance.name}: ${messageOf(err)}`, err);
    }
    await grantReplicas(ctx, hv, instance, instance.disks, true);
  };

  return {
    instance_list: async (args) => {
      const names = new Set<string>();
      for (const h of args.hypervisors) for (const n of await ctx.hypervisors.get(h).listInstances()) names.add(n);
      return [...names].sort();
    },

    all_instances_info: async (args) => {
      const out: Record<string, HvInstanceInfo> = {};
      for (const h of args.hypervisors) {
        for (const info of await ctx.hypervisors.get(h).allInstancesInfo()) out[info.name] = info;
      }
      return out;
    },

    instance_info: async (args) => ctx.hypervisors.get(args.hypervisor).instanceInfo(args.instance),

    instance_start: (args) => lock.run(args.instance.name, () => start(args.instance, args.startup_paused)).then(() => null),

    instance_shutdown: (args) => lock.run(args.instance.name, () => shutdown(args.instance, args.timeout)).then(() => null),

    instance_reboot: (args) =>
      lock.run(args.instance.name, async () => {
        const instance = args.instance;
        const hv = hvOf(instance);
        if (!(await isRunning(hv, instance.name))) {
          throw new NodeBackendError(`Cannot reboot instance ${instance.name} that is not running`);
        }
        if (args.reboot_type === "soft") {
          try {
            await hv.reboot(instance);
          } catch (err) {
            fail(`Failed to soft reboot instance ${instance.name}: ${messageOf(err)}`, err);
          }
          return null;
        }
        // hard (and full, which Ganeti's master does as stop + start anyway).
        await shutdown(instance, args.shutdown_timeout);
        await start(instance, false);
        return null;
      }),

    instance_balloon_memory: (args) =>
      lock.run(args.instance.name, async () => {
        const hv = hvOf(args.instance);
        if (!(await isRunning(hv, args.instance.name))) return null; // Ganeti: logged, not an error
        try {
          await hv.balloon(args.instance, args.memory);
        } catch (err) {
          fail(`Failed to balloon instance memory: ${messageOf(err)}`, err);
        }
        return null;
      }),

    migration_info: async (args) => {
      const hv = hvOf(args.instance);
      try {
        return hv.migrationInfo ? await hv.migrationInfo(args.instance) : "";
      } catch (err) {
        fail(`Failed to get migration information: ${messageOf(err)}`, err);
      }
    },

    accept_instance: (args) =>
      lock.run(args.instance.name, async () => {
        try {
          await upgradeReplicas(ctx, args.instance);
          const devices = await gatherBlockDevices(ctx, args.instance);
          await grantReplicas(ctx, hvOf(args.instance), args.instance, args.instance.disks);
          await hvOf(args.instance).acceptInstance(args.instance, args.target, devices, {
            exportDisks: args.export_disks === true,
            info: args.info,
          });
        } catch (err) {
          fail(`Failed to accept instance: ${messageOf(err)}`, err);
        }
        return null;
      }),

    instance_migrate: (args) =>
      lock.run(args.instance.name, async () => {
        try {
          await hvOf(args.instance).migrate(args.instance, args.target, args.target_address, args.live);
        } catch (err) {
          fail(`Failed to migrate instance: ${messageOf(err)}`, err);
        }
        return null;
      }),

    instance_mirror_disks: (args) =>
      lock.run(args.instance.name, async () => {
        const hv = hvOf(args.instance);
        if (!hv.mirrorDisks) throw new NodeBackendError(`Hypervisor ${hv.name} cannot copy local disks during a migration`);
        try {
          await hv.mirrorDisks(args.instance, args.target_address);
        } catch (err) {
          fail(`Failed to mirror the instance's disks: ${messageOf(err)}`, err);
        }
        return null;
      }),

    instance_mirror_status: async (args) => {
      const hv = hvOf(args.instance);
      if (!hv.mirrorStatus) throw new NodeBackendError(`Hypervisor ${hv.name} cannot copy local disks during a migration`);
      try {
        return await hv.mirrorStatus(args.instance);
      } catch (err) {
        fail(`Failed to get the disk mirror status: ${messageOf(err)}`, err);
      }
    },

    instance_get_migration_status: async (args) => {
      const hv = hvOf(args.instance);
      // A hypervisor whose migrate() returns when done has nothing in flight.
      if (!hv.migrationStatus) return { status: "completed" };
      try {
        return await hv.migrationStatus(args.instance);
      } catch (err) {
        fail(`Failed to get migration status: ${messageOf(err)}`, err);
      }
    },

    finalize_migration_dst: (args) =>
      lock.run(args.instance.name, async () => {
        try {
          // Replicated disks: this node becomes the writer before its guest runs.
          if (args.success) {
            for (const disk of args.instance.disks) if (disk.dev_type === "drbd") await ctx.storage.replication.takeOver(drbdDiskOf(disk));
          }
          await hvOf(args.instance).finalizeMigrationDst(args.instance, args.success);
          // A migration that failed leaves no guest here to admit.
          if (!args.success) await grantReplicas(ctx, hvOf(args.instance), args.instance, args.instance.disks, true);
        } catch (err) {
          fail(`Failed to finalize migration on the target node: ${messageOf(err)}`, err);
        }
        return null;
      }),

    finalize_migration_src: (args) =>
      lock.run(args.instance.name, async () => {
        try {
          await hvOf(args.instance).finalizeMigrationSrc(args.instance, args.success, args.live);
          // The guest left: its user no longer reaches this node's replicas.
          if (args.success) await grantReplicas(ctx, hvOf(args.instance), args.instance, args.instance.disks, true);
        } catch (err) {
          fail(`Failed to finalize the migration on the source node: ${messageOf(err)}`, err);
        }
        return null;
      }),

    instance_console_info: async (args) => hvOf(args.instance).console(args.instance),

    // Ganeti's backend: "Hotplug is not supported: <why>" for every refusal.
    hotplug_supported: async (args) => {
      const hv = hvOf(args.instance);
      if (!hv.hotplugSupported) throw new NodeBackendError("Hotplug is not supported: Hotplug is not supported by this hypervisor");
      try {
        await hv.hotplugSupported(args.instance);
      } catch (err) {
        fail(`Hotplug is not supported: ${messageOf(err)}`, err);
      }
      return null;
    },

    hotplug_device: (args) =>
      lock.run(args.instance.name, async () => {
        const hv = hvOf(args.instance);
        if (!hv.hotplugDevice) throw new NodeBackendError("Hotplug is not supported: Hotplug is not supported by this hypervisor");
        const device =
          args.dev_type === "disk"
            ? { disk: args.disk ?? undefined, diskPath: args.disk_path ?? undefined }
            : { nic: args.nic ?? undefined };
        if ((args.dev_type === "disk" && !device.disk) || (args.dev_type === "nic" && !("nic" in device && device.nic))) {
          throw new NodeBackendError(`Hotplug of a ${args.dev_type} needs the device`);
        }
        if (args.dev_type === "disk" && args.action === "hotadd" && !args.disk_path) {
          throw new NodeBackendError("Hotplug of a disk needs the path it was assembled at");
        }
        // A replicated disk's export admits the user qemu runs as, who opens it.
        if (args.action === "hotadd" && device.disk) await grantReplicas(ctx, hv, args.instance, [device.disk]);
        try {
          return await hv.hotplugDevice(args.instance, args.action, args.dev_type, device);
        } catch (err) {
          fail(`Failed to hotplug device: ${messageOf(err)}`, err);
        }
      }),

    resize_disk: (args) =>
      lock.run(args.instance.name, async () => {
        const hv = hvOf(args.instance);
        // Ganeti's backend passes the hypervisor's error through unwrapped.
        if (!hv.resizeDisk) throw new NodeBackendError("Disk resize is not supported by this hypervisor");
        try {
          await hv.resizeDisk(args.instance, args.disk, args.new_size);
        } catch (err) {
          fail(messageOf(err), err);
        }
        return null;
      }),
  };
}

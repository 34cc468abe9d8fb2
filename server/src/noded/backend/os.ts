// OS calls: diagnose, validate, install (create / reinstall), rename.
import path from "node:path";
import type { RpcInstance } from "@ganeti-ts/schema";
import { diagnoseOs } from "../../os/os-definition.js";
import type { OsDiskEnv } from "../../os/os-env.js";
import { installOs, renameOs, validateOs, type OsOpsContext } from "../../os/os-ops.js";
import { backendType, driverFor } from "../../storage/registry.js";
import { drbdDiskOf } from "../../storage/replication/engine.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError, messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

/**
 * Device paths for the scripts: disks must exist (Ganeti's _OpenRealBD).
 * Replicated disks are opened as files for the scripts' run (their device
 * path is a network export); `close` ends that.
 */
async function diskEnv(ctx: BackendContext, instance: RpcInstance): Promise<{ disks: OsDiskEnv[]; close: () => Promise<void> }> {
  const out: OsDiskEnv[] = [];
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0)) await c().catch(() => undefined);
  };
  for (const disk of instance.disks) {
    try {
      await ctx.storagePaths.checkDisk(disk);
      let devPath = await driverFor(disk, ctx.storage).assemble(await ctx.storagePaths.localDisk(disk));
      if (disk.dev_type === "drbd") {
        const dev = await ctx.storage.replication.scriptDevice(drbdDiskOf(disk));
        closers.push(dev.close);
        devPath = dev.path;
      }
      out.push({ path: devPath, backendType: backendType(disk) });
    } catch (err) {
      await close();
      throw new NodeBackendError(`Block device error: ${messageOf(err)}`, { cause: err });
    }
  }
  return { disks: out, close };
}

async function withDisks<T>(ctx: BackendContext, instance: RpcInstance, fn: (disks: OsDiskEnv[]) => Promise<T>): Promise<T> {
  const env = await diskEnv(ctx, instance);
  try {
    return await fn(env.disks);
  } finally {
    await env.close();
  }
}

export function osHandlers(ctx: BackendContext): HandlerSlice<"os_diagnose" | "os_validate" | "instance_os_add" | "instance_run_rename"> {
  const opsCtx: OsOpsContext = { logDir: path.join(ctx.dataDir, "log", "os"), clock: ctx.clock, spawn: ctx.spawn };
  return {
    os_diagnose: async (a) => diagnoseOs(a.search_path),
    os_validate: async (a) =>
      validateOs(opsCtx, { required: a.required, name: a.name, checks: a.checks, osparams: a.osparams, searchPath: a.search_path }),
    instance_os_add: (a) =>
      withDisks(ctx, a.instance, (disks) =>
        installOs(opsCtx, a.instance, {
          reinstall: a.reinstall,
          debug: a.debug,
          searchPath: a.search_path,
          disks,
          secret: a.osparams_secret,
        }),
      ),
    instance_run_rename: async (a) => {
      await withDisks(ctx, a.instance, (disks) =>
        renameOs(opsCtx, a.instance, {
          oldName: a.old_name,
          debug: a.debug,
          searchPath: a.search_path,
          disks,
        }),
      );
      return null;
    },
  };
}

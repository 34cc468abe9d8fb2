// OS calls: diagnose, validate, install (create / reinstall), rename.
import path from "node:path";
import type { RpcInstance } from "@ganeti-ts/schema";
import { diagnoseOs } from "../../os/os-definition.js";
import type { OsDiskEnv } from "../../os/os-env.js";
import { installOs, renameOs, validateOs, type OsOpsContext } from "../../os/os-ops.js";
import { backendType, driverFor } from "../../storage/registry.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError, messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

/** Device paths for the scripts: disks must exist (Ganeti's _OpenRealBD). */
async function diskEnv(ctx: BackendContext, instance: RpcInstance): Promise<OsDiskEnv[]> {
  const out: OsDiskEnv[] = [];
  for (const disk of instance.disks) {
    try {
      await ctx.storagePaths.checkDisk(disk);
      out.push({
        path: await driverFor(disk, ctx.storage).assemble(await ctx.storagePaths.localDisk(disk)),
        backendType: backendType(disk),
      });
    } catch (err) {
      throw new NodeBackendError(`Block device error: ${messageOf(err)}`, { cause: err });
    }
  }
  return out;
}

export function osHandlers(ctx: BackendContext): HandlerSlice<"os_diagnose" | "os_validate" | "instance_os_add" | "instance_run_rename"> {
  const opsCtx: OsOpsContext = { logDir: path.join(ctx.dataDir, "log", "os"), clock: ctx.clock, spawn: ctx.spawn };
  return {
    os_diagnose: async (a) => diagnoseOs(a.search_path),
    os_validate: async (a) =>
      validateOs(opsCtx, { required: a.required, name: a.name, checks: a.checks, osparams: a.osparams, searchPath: a.search_path }),
    instance_os_add: async (a) =>
      installOs(opsCtx, a.instance, {
        reinstall: a.reinstall,
        debug: a.debug,
        searchPath: a.search_path,
        disks: await diskEnv(ctx, a.instance),
        secret: a.osparams_secret,
      }),
    instance_run_rename: async (a) => {
      await renameOs(opsCtx, a.instance, {
        oldName: a.old_name,
        debug: a.debug,
        searchPath: a.search_path,
        disks: await diskEnv(ctx, a.instance),
      });
      return null;
    },
  };
}

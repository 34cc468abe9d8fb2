// Storage unit and file storage directory calls.
import {
  FILE_STORAGE_TYPES,
  StorageError,
  createFileStorageDir,
  listFileStorage,
  removeFileStorageDir,
  renameFileStorageDir,
} from "../../storage/file-storage.js";
import { listVolumes, listVolumeStorage, VOLUME_STORAGE_TYPES } from "../../storage/volume-storage.js";
import type { BackendContext } from "./context.js";
import type { HandlerSlice } from "./handlers.js";
import { localFilePath } from "./storage-paths.js";

export function storageHandlers(
  ctx: BackendContext,
): HandlerSlice<
  | "file_storage_dir_create"
  | "file_storage_dir_remove"
  | "file_storage_dir_rename"
  | "file_storage_path_check"
  | "storage_list"
  | "node_volumes"
  | "storage_modify"
  | "storage_execute"
> {
  return {
    file_storage_dir_create: async (a) => {
      await createFileStorageDir(await ctx.storagePaths.local(await ctx.storagePaths.check(a.path, { exactOk: true })));
      return null;
    },
    file_storage_dir_remove: async (a) => {
      await removeFileStorageDir(await ctx.storagePaths.local(await ctx.storagePaths.check(a.path, { exactOk: true })));
      return null;
    },
    file_storage_dir_rename: async (a) => {
      const from = await ctx.storagePaths.local(await ctx.storagePaths.check(a.old_path));
      await renameFileStorageDir(from, await ctx.storagePaths.local(await ctx.storagePaths.check(a.new_path)));
      return null;
    },
    file_storage_path_check: async (a) => ctx.storagePaths.problem(a.path),
    storage_list: async (a) => {
      if ((VOLUME_STORAGE_TYPES as readonly string[]).includes(a.su_name)) {
        const settings = await ctx.settings();
        const known = Array.isArray(a.su_args[0]) ? (a.su_args[0] as unknown[]).map(String) : [];
        return listVolumeStorage({
          dirs: ctx.storage.volumes,
          suName: a.su_name,
          name: a.name,
          fields: a.fields,
          nodeName: ctx.nodeName,
          known,
          sizeOverride: settings.storage_size?.["lvm-vg"],
        });
      }
      if (!(FILE_STORAGE_TYPES as readonly string[]).includes(a.su_name)) {
        throw new StorageError(`Storage type '${a.su_name}' cannot be listed on this node`);
      }
      const settings = await ctx.settings();
      const dirs = a.name !== null ? [a.name] : Array.isArray(a.su_args[0]) ? (a.su_args[0] as unknown[]) : a.su_args;
      for (const d of dirs) await ctx.storagePaths.check(String(d), { exactOk: true });
      return listFileStorage({
        suName: a.su_name,
        suArgs: a.su_args,
        name: a.name,
        fields: a.fields,
        nodeName: ctx.nodeName,
        sizeOverride: settings.storage_size?.[a.su_name],
        localPath: (p) => localFilePath(p, settings.file_storage_map),
      });
    },
    // Each volume once, on its group's directory as its "physical volume" (LVM lists an LV per PV it spans).
    node_volumes: async () => {
      const out = [];
      for (const v of await listVolumes(ctx.storage.volumes))
        out.push({ name: v.name, size: v.size, dev: await ctx.storage.volumes.dirOf(v.vg), vg: v.vg });
      return out;
    },
    // Ganeti only modifies LVM PVs and only "executes" on LVM VGs.
    storage_modify: async (a) => {
      throw new StorageError(`Storage units of type '${a.su_name}' cannot be modified`);
    },
    storage_execute: async (a) => {
      // A volume group kept as a directory has no missing physical volumes to drop (Ganeti's vgreduce --removemissing): consistent once it is listable.
      if (a.su_name === "lvm-vg" && a.op === "fix-consistency") {
        await ctx.storage.volumes.list(a.name);
        return null;
      }
      throw new StorageError(`Operation '${a.op}' is not supported for storage type '${a.su_name}'`);
    },
  };
}

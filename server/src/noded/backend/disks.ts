// Block device calls: create/remove/grow/rename/sizes/assemble/shutdown, one
// driver per disk template.
import type { RpcDisk } from "@ganeti-ts/schema";
import { driverFor } from "../../storage/registry.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError, messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

function wrap<T>(prefix: string, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    throw new NodeBackendError(`${prefix}: ${messageOf(err)}`, { cause: err });
  });
}

export function diskHandlers(
  ctx: BackendContext,
): HandlerSlice<
  | "blockdev_create"
  | "blockdev_remove"
  | "blockdev_grow"
  | "blockdev_rename"
  | "blockdev_getsizes"
  | "blockdev_assemble"
  | "blockdev_shutdown"
> {
  // The node checks every path itself: the master's word is not enough.
  // File images below a node-local mapping (file_storage_map) live there.
  const allowed = (disk: RpcDisk) => ctx.storagePaths.checkDisk(disk);
  const local = (disk: RpcDisk) => ctx.storagePaths.localDisk(disk);
  return {
    blockdev_create: (a) =>
      wrap(
        "Can't create block device",
        (async () => (await allowed(a.disk), driverFor(a.disk, ctx.storage).create(await local(a.disk))))(),
      ),
    blockdev_remove: (a) =>
      wrap(
        "Can't remove block device",
        (async () => (await allowed(a.disk), driverFor(a.disk, ctx.storage).remove(await local(a.disk))))(),
      ).then(() => null),
    blockdev_grow: (a) =>
      wrap(
        "Failed to grow block device",
        (async () => (await allowed(a.disk), driverFor(a.disk, ctx.storage).grow(await local(a.disk), a.amount, a.dryrun)))(),
      ).then(() => null),
    blockdev_rename: (a) =>
      wrap(
        "Can't rename block device",
        (async () => {
          await allowed(a.disk);
          await ctx.storagePaths.checkDisk(a.disk, a.new_logical_id);
          const to = (await local({ ...a.disk, logical_id: a.new_logical_id })).logical_id;
          return driverFor(a.disk, ctx.storage).rename(await local(a.disk), to);
        })(),
      ).then(() => null),
    blockdev_getsizes: async (a) => {
      const out: (number | null)[] = [];
      for (const d of a.disks)
        out.push(
          await wrap(
            "Can't get the size of block device",
            (async () => (await allowed(d), driverFor(d, ctx.storage).getSize(await local(d))))(),
          ),
        );
      return out;
    },
    blockdev_assemble: (a) =>
      wrap(
        "Can't assemble block device",
        (async () => (await allowed(a.disk), driverFor(a.disk, ctx.storage).assemble(await local(a.disk))))(),
      ),
    blockdev_shutdown: (a) =>
      wrap(
        "Can't shut down block device",
        (async () => (await allowed(a.disk), driverFor(a.disk, ctx.storage).shutdown(await local(a.disk))))(),
      ).then(() => null),
  };
}

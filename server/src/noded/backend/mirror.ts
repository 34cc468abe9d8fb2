// Replicated (drbd) disk calls on the user-space replication engine
// (storage/replication/engine.ts), with the semantics of Ganeti's
// backend.py: statuses in the order asked, null for a disk not assembled
// here; attach/disconnect per disk; wait_sync's aggregate.
import type { BlockDevStatus, RpcDisk } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../../lib/errors.js";
import { driverFor } from "../../storage/registry.js";
import { drbdDiskOf } from "../../storage/replication/engine.js";
import type { BackendContext } from "./context.js";
import { NodeBackendError, messageOf } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

type MirrorCall =
  | "blockdev_getmirrorstatus"
  | "blockdev_find"
  | "drbd_disconnect_net"
  | "drbd_attach_net"
  | "drbd_wait_sync"
  | "blockdev_addchildren"
  | "blockdev_removechildren";

function wrap<T>(prefix: string, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    throw new NodeBackendError(`${prefix}: ${messageOf(err)}`, { cause: err });
  });
}

function drbdOnly(disk: RpcDisk) {
  if (disk.dev_type !== "drbd") throw new BlockDeviceError(`Disk ${disk.uuid} is not a replicated (drbd) disk but '${disk.dev_type}'`);
  return drbdDiskOf(disk);
}

export function mirrorHandlers(ctx: BackendContext): HandlerSlice<MirrorCall> {
  const engine = ctx.storage.replication;

  /** A single-node device's status: present (healthy) or not. */
  const plainStatus = async (disk: RpcDisk): Promise<BlockDevStatus | null> => {
    await ctx.storagePaths.checkDisk(disk);
    const local = await ctx.storagePaths.localDisk(disk);
    const drv = driverFor(disk, ctx.storage);
    if ((await drv.getSize(local)) === null) return null;
    const dev_path = await drv.assemble(local);
    return { dev_path, major: null, minor: null, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 1 };
  };
  const status = (disk: RpcDisk) => (disk.dev_type === "drbd" ? engine.status(drbdDiskOf(disk)) : plainStatus(disk));

  return {
    blockdev_getmirrorstatus: (a) =>
      wrap(
        "Can't get the mirror status",
        (async () => {
          const out: (BlockDevStatus | null)[] = [];
          for (const d of a.disks) out.push(await status(d));
          return out;
        })(),
      ),
    blockdev_find: (a) => wrap("Can't find block device", status(a.disk)),
    drbd_disconnect_net: (a) =>
      wrap(
        "Can't disconnect the replication",
        (async () => {
          for (const d of a.disks) await engine.disconnect(drbdOnly(d));
          return null;
        })(),
      ),
    drbd_attach_net: (a) =>
      wrap(
        "Can't attach the replication",
        (async () => {
          for (const d of a.disks) await engine.attach(drbdOnly(d), a.multimaster);
          return null;
        })(),
      ),
    drbd_wait_sync: (a) =>
      wrap(
        "Can't get the resync state",
        (async () => {
          let alldone = true;
          let min = 100;
          for (const d of a.disks) {
            const s = await engine.syncState(drbdOnly(d));
            alldone &&= s.done;
            min = Math.min(min, s.percent);
          }
          return { alldone, min_resync: min };
        })(),
      ),
    // Replace-disks on the same nodes. The secondary detaches its old volumes
    // (its storage daemon stops), then attaches the new, empty ones; the
    // primary's next connection copies everything. The primary (-p) reads
    // and writes the peer's replica while its new volumes are filled from
    // there, its guest attached throughout (engine: detachLocal/attachLocal).
    blockdev_removechildren: (a) =>
      wrap(
        "Can't remove children",
        (async () => {
          const d = drbdOnly(a.parent);
          if (d.dyn.primary) await engine.detachLocal(d);
          else await engine.shutdown(d);
          return null;
        })(),
      ),
    blockdev_addchildren: (a) =>
      wrap(
        "Can't add children",
        (async () => {
          const d = drbdOnly(a.parent);
          if (a.children.length !== 2) throw new BlockDeviceError(`expected the new [data, meta] volumes, got ${a.children.length}`);
          const replaced = drbdDiskOf({ ...a.parent, children: a.children });
          if (d.dyn.primary) {
            await engine.attachLocal(replaced);
            return null;
          }
          await engine.shutdown(d);
          await engine.assemble(replaced);
          return null;
        })(),
      ),
  };
}

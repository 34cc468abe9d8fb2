// Replicated (drbd) disk calls. The user-space replication engine lands
// behind these; until then every call refuses with a clear error, so a
// master never believes a mirror exists.
import { NodeBackendError } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

type MirrorCall =
  | "blockdev_getmirrorstatus"
  | "blockdev_find"
  | "drbd_disconnect_net"
  | "drbd_attach_net"
  | "drbd_wait_sync"
  | "blockdev_addchildren"
  | "blockdev_removechildren";

const refuse = (call: MirrorCall) => () => Promise.reject(new NodeBackendError(`${call}: this node daemon has no replicated disks`));

export function mirrorHandlers(): HandlerSlice<MirrorCall> {
  return {
    blockdev_getmirrorstatus: refuse("blockdev_getmirrorstatus"),
    blockdev_find: refuse("blockdev_find"),
    drbd_disconnect_net: refuse("drbd_disconnect_net"),
    drbd_attach_net: refuse("drbd_attach_net"),
    drbd_wait_sync: refuse("drbd_wait_sync"),
    blockdev_addchildren: refuse("blockdev_addchildren"),
    blockdev_removechildren: refuse("blockdev_removechildren"),
  };
}

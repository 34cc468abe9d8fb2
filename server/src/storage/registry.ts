// Block-device driver per disk template (dev_type).
import type { RpcDisk } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../lib/errors.js";
import type { BlockDeviceDriver } from "./block-device.js";
import { DisklessBlockDevice } from "./diskless.js";
import { FileBlockDevice } from "./file.js";
import { DrbdBlockDevice } from "./drbd.js";
import { PlainBlockDevice } from "./plain.js";
import type { ReplicationEngine } from "./replication/engine.js";
import type { VolumeDirs } from "./volume-dir.js";

const file = new FileBlockDevice();
const DRIVERS: Record<string, BlockDeviceDriver> = {
  file,
  sharedfile: file,
  diskless: new DisklessBlockDevice(),
};

/** A node's own storage: drivers whose devices live in node-local places. */
export interface NodeStorage {
  /** Where the node's volume groups live (plain volumes, drbd children). */
  volumes: VolumeDirs;
  /** The replication engine of drbd disks (its data volumes are this node's plain volumes). */
  replication: ReplicationEngine;
  /** The plain driver bound to `volumes` (shared with the replication engine). */
  plain: PlainBlockDevice;
}

/** Drivers bound to one node's storage (one per NodeStorage). */
const NODE_DRIVERS: Record<string, (node: NodeStorage) => BlockDeviceDriver> = {
  plain: (node) => node.plain,
  drbd: (node) => new DrbdBlockDevice(node.plain, node.replication),
};
const bound = new WeakMap<NodeStorage, Map<string, BlockDeviceDriver>>();

/** Disk templates this build's node daemon can create. */
export const SUPPORTED_DISK_TEMPLATES: readonly string[] = [...Object.keys(DRIVERS), ...Object.keys(NODE_DRIVERS)];

export function driverFor(disk: Pick<RpcDisk, "dev_type">, node?: NodeStorage): BlockDeviceDriver {
  const d = DRIVERS[disk.dev_type];
  if (d) return d;
  const make = NODE_DRIVERS[disk.dev_type];
  if (!make) throw new BlockDeviceError(`Unsupported disk type '${disk.dev_type}' on this node`);
  if (!node) throw new BlockDeviceError(`Disk type '${disk.dev_type}' needs the node's storage`);
  let drivers = bound.get(node);
  if (!drivers) bound.set(node, (drivers = new Map()));
  let driver = drivers.get(disk.dev_type);
  if (!driver) drivers.set(disk.dev_type, (driver = make(node)));
  return driver;
}

/** Ganeti's DISK_%d_BACKEND_TYPE for the OS scripts. */
export function backendType(disk: RpcDisk): string | null {
  if (disk.dev_type === "file" || disk.dev_type === "sharedfile") return `file:${String(disk.logical_id[0])}`;
  if (disk.dev_type === "plain" || disk.dev_type === "drbd" || disk.dev_type === "blockdev") return "block";
  return null;
}

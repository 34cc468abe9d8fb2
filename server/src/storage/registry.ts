// Block-device driver per disk template (dev_type).
import type { RpcDisk } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../lib/errors.js";
import type { BlockDeviceDriver } from "./block-device.js";
import { DisklessBlockDevice } from "./diskless.js";
import { FileBlockDevice } from "./file.js";

const file = new FileBlockDevice();
const DRIVERS: Record<string, BlockDeviceDriver> = {
  file,
  sharedfile: file,
  diskless: new DisklessBlockDevice(),
};

/** Disk templates this build's node daemon can create. */
export const SUPPORTED_DISK_TEMPLATES: readonly string[] = Object.keys(DRIVERS);

export function driverFor(disk: Pick<RpcDisk, "dev_type">): BlockDeviceDriver {
  const d = DRIVERS[disk.dev_type];
  if (!d) throw new BlockDeviceError(`Unsupported disk type '${disk.dev_type}' on this node`);
  return d;
}

/** Ganeti's DISK_%d_BACKEND_TYPE for the OS scripts. */
export function backendType(disk: RpcDisk): string | null {
  if (disk.dev_type === "file" || disk.dev_type === "sharedfile") return `file:${String(disk.logical_id[0])}`;
  if (disk.dev_type === "plain" || disk.dev_type === "drbd" || disk.dev_type === "blockdev") return "block";
  return null;
}

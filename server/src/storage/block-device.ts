// Block devices as the node sees them, after Ganeti's bdev.BlockDev: one
// driver per disk template (dev_type), addressed by the disk's logical_id.
// Sizes are MiB. Every failure is a BlockDeviceError.
import type { RpcDisk } from "@ganeti-ts/schema";

export interface BlockDeviceDriver {
  /** Create the backing storage; returns the device path. Fails if it exists. */
  create(disk: RpcDisk): Promise<string>;
  /** Remove the backing storage; a missing device is not an error. */
  remove(disk: RpcDisk): Promise<void>;
  /** Grow by `amount` MiB; dryrun only checks that the device can grow. */
  grow(disk: RpcDisk, amount: number, dryrun: boolean): Promise<void>;
  rename(disk: RpcDisk, newLogicalId: unknown[]): Promise<void>;
  /** Size in MiB, null when the device does not exist. */
  getSize(disk: RpcDisk): Promise<number | null>;
  /** Make the device usable; returns its path. Fails if it does not exist. */
  assemble(disk: RpcDisk): Promise<string>;
  shutdown(disk: RpcDisk): Promise<void>;
}

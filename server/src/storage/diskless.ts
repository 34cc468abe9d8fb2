// Diskless instances have no block devices: every device operation is a
// caller error, except the harmless ones (shutdown, size of nothing).
import type { RpcDisk } from "@ganeti-ts/schema";
import { BlockDeviceError } from "../lib/errors.js";
import type { BlockDeviceDriver } from "./block-device.js";

export class DisklessBlockDevice implements BlockDeviceDriver {
  private fail(op: string): never {
    throw new BlockDeviceError(`Cannot ${op} a disk of a diskless instance: there are no block devices`);
  }
  async create(): Promise<string> {
    return this.fail("create");
  }
  async remove(): Promise<void> {}
  async grow(): Promise<void> {
    return this.fail("grow");
  }
  async rename(): Promise<void> {
    return this.fail("rename");
  }
  async getSize(_disk: RpcDisk): Promise<number | null> {
    return null;
  }
  async assemble(): Promise<string> {
    return this.fail("assemble");
  }
  async shutdown(): Promise<void> {}
}

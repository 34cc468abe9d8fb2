// A real kvm test guest on a local cluster, through `gnt`: the arguments that
// add a small diskless one, and where its node daemon keeps its files.
import path from "node:path";
import type { GuestAssets } from "../../server/test/harness/kvm-guest.js";

/** `gnt instance add` of a diskless kvm guest booting the test kernel and initramfs on `node`. */
export function addDisklessGuestArgs(a: GuestAssets, name: string, node: string): string[] {
  return [
    "instance",
    "add",
    name,
    "-t",
    "diskless",
    "-o",
    "noop",
    "-n",
    node,
    "--no-name-check",
    "-B",
    "memory=128",
    "-H",
    `kvm:kvm_path=${a.qemu},kernel_path=${a.kernel},initrd_path=${a.initrd},kernel_args=quiet,serial_speed=115200`,
  ];
}

/** A kvm instance's file kept by the node daemon whose data directory is `dataDir`. */
export function kvmFile(dataDir: string, kind: "log" | "pid", name: string): string {
  return path.join(dataDir, "hypervisors", "kvm", kind, kind === "log" ? `${name}.serial.log` : `${name}.pid`);
}

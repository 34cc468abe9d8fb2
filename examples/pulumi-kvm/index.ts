// Real kvm virtual machines: each gets a disk on which the `busybox` OS
// definition installs a small bootable system, a bridged NIC, and boots from
// its disk (the guest prints GANETI-TS-GUEST-UP on its serial console).
//
//   pulumi config set kernel /path/to/vmlinux     # the guest kernel (required)
//   pulumi config set initrd /path/to/initrd.img  # its initramfs
//   pulumi config set node node1.example.com      # where the VMs run
//   pulumi up
//
// Then, without recreating anything:
//   pulumi config set memory 128 && pulumi up     # shrink it now: beparams + the balloon, live
//   pulumi config set node node2.example.com && pulumi up   # live migration
//
// The kernel and initrd are the guest's own (scripts/ensure-kvm-assets.sh
// prints a small pair: GUEST_KERNEL, GUEST_INITRD). The cluster needs kvm
// enabled, the disk template enabled (sharedfile by default: migration needs
// storage both nodes reach) and the bridge (`link`) on its nodes. Sizes stay
// within Ganeti's default instance policy (memory >= 128 MiB, disks >= 1 GiB).
import * as pulumi from "@pulumi/pulumi";
import { Instance } from "@ganeti-ts/pulumi";

const cfg = new pulumi.Config();
const count = cfg.getNumber("count") ?? 1;
const prefix = cfg.get("prefix") ?? "kvm-vm";
const domain = cfg.get("domain") ?? "example.com";
const node = cfg.get("node");
const qemu = cfg.get("qemu");
const initrd = cfg.get("initrd");

const hvParams: Record<string, string | number> = {
  kernel_path: cfg.require("kernel"),
  kernel_args: "quiet",
  serial_speed: 115200,
};
if (initrd) hvParams.initrd_path = initrd;
if (qemu) hvParams.kvm_path = qemu;

const vms: Instance[] = [];
for (let i = 0; i < count; i++) {
  vms.push(
    new Instance(`${prefix}-${i}`, {
      name: `${prefix}-${i}.${domain}`,
      hypervisor: "kvm",
      hvParams,
      diskTemplate: cfg.get("diskTemplate") ?? "sharedfile",
      disks: [{ size: cfg.get("diskSize") ?? "1G" }],
      nics: [{ mode: "bridged", link: cfg.get("link") ?? "br0" }],
      os: "busybox",
      memory: cfg.get("memory") ?? 192,
      vcpus: cfg.getNumber("vcpus") ?? 1,
      ...(node ? { primaryNode: node } : { iallocator: cfg.get("iallocator") ?? "hail" }),
      tags: ["example:pulumi-kvm"],
      timeouts: { create: "15m", update: "15m" },
    }),
  );
}

/** One entry per VM: where it runs, its memory now, and how to reach its console. */
export const machines = vms.map((vm) =>
  pulumi
    .all([vm.name, vm.uuid, vm.primaryNode, vm.status, vm.maxMemory, vm.runtimeMemory, vm.nicMacs, vm.console])
    .apply(([name, uuid, primaryNode, status, memory, runtimeMemory, macs, console]) => ({
      name,
      uuid,
      node: primaryNode,
      status,
      memory,
      runtimeMemory,
      mac: macs[0] ?? null,
      // Ganeti's console description: for kvm's serial console, the command
      // to run on `host` (as `user`) that connects to the guest's serial port.
      console,
      consoleCommand: `gnt instance console ${name}`,
    })),
);

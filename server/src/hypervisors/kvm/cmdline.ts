// The qemu command line of an instance, from its filled hvparams, its
// disks and its prepared NICs. Pure: no file system, no processes, so unit
// tests can check it argument by argument.
//
// PCI slots: as in Ganeti, the first kvm_pci_reservations slots of bus pci.0
// are left to qemu's own devices (host bridge, PIIX, balloon, VGA); disks and
// NICs get explicit slots from there up to 31, recorded in the runtime file
// so that hotplug finds free ones and removal finds the device again.
import type { Accelerator } from "./accel.js";

export const PCI_SLOTS = 32;

export interface KvmPaths {
  pidFile: string;
  qmpSocket: string;
  serialSocket: string;
  /** Everything the guest writes on its serial console, appended. */
  serialLog: string;
}

/** A disk as attached to the VM. */
export interface KvmDisk {
  uuid: string;
  path: string;
  mode: "rw" | "ro";
  /** PCI slot (paravirtual disks), or null for other buses. */
  slot: number | null;
}

/**
 * A NIC as attached to the VM. `netdev` is the -netdev backend without its
 * id (e.g. "tap,ifname=gnt-1,script=no,downscript=no"), prepared on the node
 * before qemu starts: null attaches the NIC without a backend (no network).
 * NIC preparation (taps, bridges, routed mode) plugs in through
 * NicBackend (nic.ts); this module only places the devices.
 */
export interface KvmNic {
  uuid: string;
  mac: string;
  slot: number | null;
  netdev: string | null;
}

export interface CommandLineInput {
  name: string;
  uuid: string;
  hvparams: Record<string, unknown>;
  /** -m, MiB (Ganeti: the maximum memory; the balloon takes it down). */
  memory: number;
  vcpus: number;
  accel: Accelerator;
  paths: KvmPaths;
  disks: KvmDisk[];
  nics: KvmNic[];
  /** Start with the CPUs stopped (-S). */
  paused: boolean;
  /** Migration target: listen for the incoming state (-incoming). */
  incoming?: string;
  /** VNC display number (port 5900 + display) when vnc_bind_address is set. */
  vncDisplay?: number;
}

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const bool = (v: unknown): boolean => v === true || v === "true" || v === "True";

/** Device ids, stable across restarts and known to hotplug. */
export const diskDeviceId = (uuid: string): string => `disk-${uuid.split("-")[0]}`;
export const diskDriveId = (uuid: string): string => `drive-${uuid.split("-")[0]}`;
export const nicDeviceId = (uuid: string): string => `nic-${uuid.split("-")[0]}`;
export const nicNetdevId = (uuid: string): string => `netdev-${uuid.split("-")[0]}`;

const NIC_MODELS: Record<string, string> = {
  paravirtual: "virtio-net-pci",
  e1000: "e1000",
  i82551: "i82551",
  i8259er: "i82559er",
  i85557b: "i82557b",
  ne2k_isa: "ne2k_isa",
  ne2k_pci: "ne2k_pci",
  pcnet: "pcnet",
  rtl8139: "rtl8139",
};

export function nicModel(nicType: unknown): string {
  return NIC_MODELS[str(nicType) || "paravirtual"] ?? str(nicType);
}

/** Slots usable for disks and NICs. */
export function freeSlot(used: Iterable<number | null>, reservations: number): number | null {
  const taken = new Set([...used].filter((s): s is number => s !== null));
  for (let s = Math.max(reservations, 1); s < PCI_SLOTS; s++) if (!taken.has(s)) return s;
  return null;
}

const hex = (slot: number): string => `0x${slot.toString(16)}`;

/** -drive options of a disk (shared by the command line and drive_add). */
export function driveOptions(disk: KvmDisk, hvparams: Record<string, unknown>, iface: string): string {
  const opts = [`file=${escapeOpt(disk.path)}`, "format=raw", `if=${iface}`];
  if (iface === "none") opts.push(`id=${diskDriveId(disk.uuid)}`);
  const cache = str(hvparams["disk_cache"]);
  if (cache && cache !== "default") opts.push(`cache=${cache}`);
  const aio = str(hvparams["disk_aio"]);
  if (aio) opts.push(`aio=${aio}`);
  const discard = str(hvparams["disk_discard"]);
  if (discard && discard !== "default") opts.push(`discard=${discard}`);
  if (disk.mode === "ro") opts.push("readonly=on");
  return opts.join(",");
}

/** -device value of a paravirtual disk. */
export function diskDevice(disk: KvmDisk, bootindex: number | null): string {
  const parts = ["virtio-blk-pci", `drive=${diskDriveId(disk.uuid)}`, `id=${diskDeviceId(disk.uuid)}`];
  if (disk.slot !== null) parts.push("bus=pci.0", `addr=${hex(disk.slot)}`);
  if (bootindex !== null) parts.push(`bootindex=${bootindex}`);
  return parts.join(",");
}

/** -device value of a NIC. */
export function nicDevice(nic: KvmNic, nicType: unknown): string {
  const parts = [nicModel(nicType), `mac=${nic.mac}`, `id=${nicDeviceId(nic.uuid)}`];
  if (nic.netdev !== null) parts.push(`netdev=${nicNetdevId(nic.uuid)}`);
  if (nic.slot !== null) parts.push("bus=pci.0", `addr=${hex(nic.slot)}`);
  return parts.join(",");
}

/** qemu splits option values at commas; a literal comma is doubled. */
function escapeOpt(v: string): string {
  return v.replace(/,/g, ",,");
}

const BOOT_DEVICE: Record<string, string> = { disk: "c", cdrom: "d", floppy: "a", network: "n" };

export function buildCommandLine(i: CommandLineInput): string[] {
  const hv = i.hvparams;
  const argv: string[] = [str(hv["kvm_path"]) || "/usr/bin/kvm"];
  argv.push("-name", i.name, "-uuid", i.uuid);
  argv.push("-m", String(i.memory));
  const smp = [String(i.vcpus)];
  for (const k of ["cores", "threads", "sockets"] as const) {
    const v = Number(hv[`cpu_${k}`] ?? 0);
    if (v > 0) smp.push(`${k}=${v}`);
  }
  argv.push("-smp", smp.join(","));
  argv.push("-accel", i.accel === "tcg" ? "tcg,tb-size=16" : "kvm");
  if (str(hv["machine_version"])) argv.push("-machine", str(hv["machine_version"]));
  if (str(hv["cpu_type"])) argv.push("-cpu", str(hv["cpu_type"]));
  if (hv["acpi"] === false || hv["acpi"] === "false") argv.push("-no-acpi");
  if (str(hv["reboot_behavior"]) === "exit") argv.push("-no-reboot");
  if (bool(hv["use_localtime"])) argv.push("-rtc", "base=localtime");
  if (str(hv["mem_path"])) argv.push("-mem-path", str(hv["mem_path"]));
  // Every device is listed explicitly: no default NIC, serial, parallel, VGA.
  argv.push("-nodefaults");
  argv.push("-pidfile", i.paths.pidFile, "-daemonize");
  argv.push("-qmp", `unix:${i.paths.qmpSocket},server=on,wait=off`);
  argv.push("-device", "virtio-balloon-pci,id=balloon");

  // Display: VNC when a bind address is set, else none (-nographic would
  // take stdio, which a daemonised qemu does not have).
  const vnc = str(hv["vnc_bind_address"]);
  if (vnc) {
    argv.push("-vga", str(hv["vga"]) || "std");
    if (bool(hv["vnc_tls"]) && str(hv["vnc_x509_path"])) {
      const verify = bool(hv["vnc_x509_verify"]) ? "on" : "off";
      argv.push("-object", `tls-creds-x509,id=vnctls0,endpoint=server,dir=${escapeOpt(str(hv["vnc_x509_path"]))},verify-peer=${verify}`);
    }
    argv.push("-vnc", vncOption(vnc, i.vncDisplay ?? 0, hv));
  } else {
    argv.push("-display", "none");
  }
  if (str(hv["keymap"]) && vnc) argv.push("-k", str(hv["keymap"]));

  // Serial console: a unix socket for `gnt instance console`, and every byte
  // also appended to a log file so nothing printed while no one is connected
  // is lost.
  if (bool(hv["serial_console"] ?? true)) {
    argv.push(
      "-chardev",
      `socket,id=serial0,path=${escapeOpt(i.paths.serialSocket)},server=on,wait=off,logfile=${escapeOpt(i.paths.serialLog)},logappend=on`,
      "-serial",
      "chardev:serial0",
    );
  } else {
    argv.push("-serial", "none");
  }

  // Boot: a kernel given in kernel_path boots directly (Ganeti's behaviour:
  // boot_order then only concerns the firmware, which is skipped).
  const kernel = str(hv["kernel_path"]);
  if (kernel) {
    argv.push("-kernel", kernel);
    const initrd = str(hv["initrd_path"]);
    if (initrd) argv.push("-initrd", initrd);
    const append: string[] = [];
    if (str(hv["root_path"])) append.push(`root=${str(hv["root_path"])}`);
    if (bool(hv["serial_console"] ?? true)) append.push(`console=ttyS0,${str(hv["serial_speed"]) || "38400"}`);
    if (str(hv["kernel_args"])) append.push(str(hv["kernel_args"]));
    argv.push("-append", append.join(" "));
  }
  const bootOrder = str(hv["boot_order"]) || "disk";
  const diskType = str(hv["disk_type"]) || "paravirtual";
  if (!kernel) argv.push("-boot", `order=${BOOT_DEVICE[bootOrder] ?? "c"}`);

  const cdrom = str(hv["cdrom_image_path"]);
  if (cdrom) argv.push("-drive", `file=${escapeOpt(cdrom)},media=cdrom,format=raw,readonly=on,if=ide,index=2`);
  const cdrom2 = str(hv["cdrom2_image_path"]);
  if (cdrom2) argv.push("-drive", `file=${escapeOpt(cdrom2)},media=cdrom,format=raw,readonly=on,if=ide,index=3`);
  const floppy = str(hv["floppy_image_path"]);
  if (floppy) argv.push("-drive", `file=${escapeOpt(floppy)},format=raw,if=floppy`);

  i.disks.forEach((d, idx) => {
    if (diskType === "paravirtual") {
      argv.push("-drive", driveOptions(d, hv, "none"));
      argv.push("-device", diskDevice(d, !kernel && bootOrder === "disk" && idx === 0 ? 1 : null));
    } else {
      argv.push("-drive", driveOptions(d, hv, diskType === "ide" ? "ide" : diskType === "scsi" ? "scsi" : diskType));
    }
  });

  for (const n of i.nics) {
    if (n.netdev !== null) argv.push("-netdev", `${n.netdev},id=${nicNetdevId(n.uuid)}`);
    argv.push("-device", nicDevice(n, hv["nic_type"]));
  }

  // A migration target runs as soon as the state has arrived (no -S), as
  // Ganeti's kvm: waiting for the master to resume it would add its polling
  // interval to the guest's downtime.
  if (i.paused) argv.push("-S");
  if (i.incoming) argv.push("-incoming", i.incoming);
  const extra = str(hv["kvm_extra"]).trim();
  if (extra) argv.push(...extra.split(/\s+/));
  return argv;
}

/** -vnc value: an address gets display N (port 5900+N), a path a unix socket. */
function vncOption(bind: string, display: number, hv: Record<string, unknown>): string {
  let v = bind.startsWith("/") ? `unix:${bind}` : `${bind.includes(":") ? `[${bind}]` : bind}:${display}`;
  if (bool(hv["vnc_tls"]) && str(hv["vnc_x509_path"])) v += ",tls-creds=vnctls0";
  if (str(hv["vnc_password_file"])) v += ",password=on";
  return v;
}

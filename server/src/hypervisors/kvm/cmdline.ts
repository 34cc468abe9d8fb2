// The qemu command line of an instance, from its filled hvparams, its
// disks and its prepared NICs. Pure: no file system, no processes, so unit
// tests can check it argument by argument.
//
// PCI slots: as in Ganeti, the first kvm_pci_reservations slots of bus pci.0
// are left to qemu's own devices (host bridge, PIIX, balloon, VGA); disks and
// NICs get explicit slots from there up to 31, recorded in the runtime file
// so that hotplug finds free ones and removal finds the device again.
import { isUnixReplica, parseReplicaUri, type ReplicaUri } from "../../lib/replica-uri.js";
import type { Accelerator } from "./accel.js";

export const PCI_SLOTS = 32;

export interface KvmPaths {
  pidFile: string;
  qmpSocket: string;
  serialSocket: string;
  /** Everything the guest writes on its serial console, appended. */
  serialLog: string;
  /** The guest agent's socket (use_guest_agent). */
  qgaSocket?: string;
  /** The directory qemu chroots into (use_chroot). */
  chrootDir?: string;
  /** SPICE TLS: the node's certificate (with its key) and CA certificate. */
  spiceCert?: string;
  spiceCaCert?: string;
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
  /** The instance's network port: SPICE listens there. */
  networkPort?: number;
  /** SPICE: the address spice_bind stands for (an interface resolved by the node) and its IP version. */
  spiceAddress?: string;
  spiceIpVersion?: number;
  /** PCI slot of the guest agent's virtio-serial device (use_guest_agent). */
  guestAgentSlot?: number | null;
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
  const replica = parseReplicaUri(disk.path);
  const opts = replica ? replicaFileOptions(replica) : [`file=${escapeOpt(disk.path)}`];
  opts.push("format=raw", `if=${iface}`);
  if (iface === "none") opts.push(`id=${diskDriveId(disk.uuid)}`);
  const cache = str(hvparams["disk_cache"]);
  if (cache && cache !== "default") opts.push(`cache=${cache}`);
  // aio is the host file's I/O mode; a replicated disk is a network client.
  const aio = str(hvparams["disk_aio"]);
  if (aio && !replica) opts.push(`aio=${aio}`);
  const discard = str(hvparams["disk_discard"]);
  if (discard && discard !== "default") opts.push(`discard=${discard}`);
  if (disk.mode === "ro") opts.push("readonly=on");
  return opts.join(",");
}

/** The qemu object holding the node's replication client credentials (one for all replicated disks). */
export const REPLICA_TLS_ID = "tls-replica";

/** -object value of the replication client credentials in `dir`. */
export function replicaTlsObject(dir: string): string {
  return `tls-creds-x509,id=${REPLICA_TLS_ID},dir=${escapeOpt(dir)},endpoint=client`;
}

/** The credentials directory the instance's replicated disks need, or null when it has none. */
export function replicaTlsDir(disks: readonly Pick<KvmDisk, "path">[]): string | null {
  for (const d of disks) {
    const r = parseReplicaUri(d.path);
    if (r && !isUnixReplica(r)) return r.tlsCredsDir;
  }
  return null;
}

/** Seconds a replicated disk's requests wait for its storage daemon to come back. */
export const REPLICA_RECONNECT_DELAY = 30;

/**
 * A replicated disk (drbd): qemu's nbd driver on the node's storage daemon's
 * export, through its unix socket (or over TLS for a network attachment).
 */
function replicaFileOptions(r: ReplicaUri): string[] {
  const server = isUnixReplica(r)
    ? ["file.server.type=unix", `file.server.path=${escapeOpt(r.socket)}`, `file.export=${escapeOpt(r.export)}`]
    : [
        "file.server.type=inet",
        `file.server.host=${escapeOpt(r.host)}`,
        `file.server.port=${r.port}`,
        `file.export=${escapeOpt(r.export)}`,
        `file.tls-creds=${REPLICA_TLS_ID}`,
        `file.tls-hostname=${escapeOpt(r.tlsHostname)}`,
      ];
  return [
    "file.driver=nbd",
    ...server,
    // The storage daemon restarts on grow (and after a crash, at the next
    // assemble): the guest's requests wait for it instead of failing.
    `file.reconnect-delay=${REPLICA_RECONNECT_DELAY}`,
  ];
}

/**
 * The iothread of a paravirtual replicated disk, or null. qemu's nbd client
 * does its network I/O where the disk's requests run: in the main loop
 * that is under the big lock the vCPUs take for every device access, so
 * each of the guest's writes waits its turn there (in a TCG guest, about
 * half the write throughput of a drbd disk); an iothread of its own takes
 * the disk's I/O off it (as libvirt's iothreads do).
 */
export function diskIothread(disk: Pick<KvmDisk, "uuid" | "path">): string | null {
  return parseReplicaUri(disk.path) ? `iothread-${diskDeviceId(disk.uuid)}` : null;
}

/** -device value of a paravirtual disk. */
export function diskDevice(disk: KvmDisk, bootindex: number | null): string {
  const parts = ["virtio-blk-pci", `drive=${diskDriveId(disk.uuid)}`, `id=${diskDeviceId(disk.uuid)}`];
  const iothread = diskIothread(disk);
  if (iothread) parts.push(`iothread=${iothread}`);
  if (disk.slot !== null) parts.push("bus=pci.0", `addr=${hex(disk.slot)}`);
  if (bootindex !== null) parts.push(`bootindex=${bootindex}`);
  return parts.join(",");
}

/** virtio_net_queues of a paravirtual NIC (1: a single queue). */
export function nicQueues(hv: Record<string, unknown>): number {
  if ((str(hv["nic_type"]) || "paravirtual") !== "paravirtual") return 1;
  const n = Number(hv["virtio_net_queues"] ?? 1);
  return Number.isInteger(n) && n > 1 ? n : 1;
}

/**
 * -device value of a NIC. Several queues (virtio_net_queues) need MSI-X
 * vectors as Ganeti sets them: 2 per queue pair plus one.
 */
export function nicDevice(nic: KvmNic, hv: Record<string, unknown>): string {
  const parts = [nicModel(hv["nic_type"]), `mac=${nic.mac}`, `id=${nicDeviceId(nic.uuid)}`];
  if (nic.netdev !== null) parts.push(`netdev=${nicNetdevId(nic.uuid)}`);
  const queues = nic.netdev !== null ? nicQueues(hv) : 1;
  if (queues > 1) parts.push("mq=on", `vectors=${2 * queues + 1}`);
  if (nic.slot !== null) parts.push("bus=pci.0", `addr=${hex(nic.slot)}`);
  return parts.join(",");
}

/**
 * The -netdev backend of a NIC with the tap features Ganeti's kvm sets for
 * paravirtual NICs: vhost_net (vhost=on), vnet_hdr, and the queues.
 */
export function netdevOptions(netdev: string, hv: Record<string, unknown>): string {
  if ((str(hv["nic_type"]) || "paravirtual") !== "paravirtual" || !netdev.startsWith("tap")) return netdev;
  const opts = [netdev];
  if (bool(hv["vhost_net"])) opts.push("vhost=on");
  opts.push(`vnet_hdr=${hv["vnet_hdr"] === false || hv["vnet_hdr"] === "false" ? "off" : "on"}`);
  const queues = nicQueues(hv);
  if (queues > 1) opts.push(`queues=${queues}`);
  return opts.join(",");
}

/** Ganeti's SCSI device disk types: disks on an explicit SCSI controller (scsi_controller_type). */
export const SCSI_DEVICE_TYPES: readonly string[] = ["scsi-block", "scsi-cd", "scsi-generic", "scsi-hd"];

/** -device value of a disk on the SCSI controller. */
export function scsiDiskDevice(disk: KvmDisk, diskType: string, scsiId: number, bootindex: number | null): string {
  const parts = [
    diskType,
    `drive=${diskDriveId(disk.uuid)}`,
    `id=${diskDeviceId(disk.uuid)}`,
    "bus=scsi.0",
    "channel=0",
    `scsi-id=${scsiId}`,
    "lun=0",
  ];
  if (bootindex !== null) parts.push(`bootindex=${bootindex}`);
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
  // Ganeti preallocates the memory it takes from mem_path (hugepages).
  if (str(hv["mem_path"])) argv.push("-mem-path", str(hv["mem_path"]), "-mem-prealloc");
  if (bool(hv["use_chroot"]) && i.paths.chrootDir) argv.push("-chroot", i.paths.chrootDir);
  if (str(hv["security_model"]) === "user" && str(hv["security_domain"])) argv.push("-runas", str(hv["security_domain"]));
  // user_shutdown: a guest that powers itself off leaves qemu in its
  // "shutdown" state, which the node reports (USER_down) and then ends.
  if (bool(hv["user_shutdown"])) argv.push("-no-shutdown");
  // Ganeti's -soundhw; qemu 7.2 names the sound card on -audio (no host output).
  if (str(hv["soundhw"])) argv.push("-audio", `driver=none,model=${escapeOpt(str(hv["soundhw"]))}`);
  // Every device is listed explicitly: no default NIC, serial, parallel, VGA.
  argv.push("-nodefaults");
  argv.push("-pidfile", i.paths.pidFile, "-daemonize");
  argv.push("-qmp", `unix:${i.paths.qmpSocket},server=on,wait=off`);
  argv.push("-device", "virtio-balloon-pci,id=balloon");

  // Display: VNC when a bind address is set, else SPICE when spice_bind is,
  // else none (-nographic would take stdio, which a daemonised qemu does not
  // have). The VGA card: vga, or qxl for SPICE, or std for VNC (with
  // -nodefaults there is none unless asked for).
  const vnc = str(hv["vnc_bind_address"]);
  const spice = vnc ? "" : str(hv["spice_bind"]);
  if (str(hv["vga"])) argv.push("-vga", str(hv["vga"]));
  else if (spice) argv.push("-vga", "qxl");
  else if (vnc) argv.push("-vga", "std");
  if (vnc) {
    if (bool(hv["vnc_tls"]) && str(hv["vnc_x509_path"])) {
      const verify = bool(hv["vnc_x509_verify"]) ? "on" : "off";
      argv.push("-object", `tls-creds-x509,id=vnctls0,endpoint=server,dir=${escapeOpt(str(hv["vnc_x509_path"]))},verify-peer=${verify}`);
    }
    argv.push("-vnc", vncOption(vnc, i.vncDisplay ?? 0, hv));
  } else if (spice) {
    argv.push(...spiceArgs(i, hv));
  } else {
    argv.push("-display", "none");
  }
  if (str(hv["keymap"]) && vnc) argv.push("-k", str(hv["keymap"]));

  // USB (Ganeti's -usb -usbdevice): usb_mouse, else a tablet for VNC; usb_devices.
  const mouse = str(hv["usb_mouse"]) || (vnc ? "tablet" : "");
  const usbDevices = str(hv["usb_devices"])
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
  if (mouse || usbDevices.length) {
    argv.push("-usb");
    for (const d of [...(mouse ? [mouse] : []), ...usbDevices]) argv.push("-usbdevice", d);
  }

  // The guest agent's channel (use_guest_agent), on a PCI slot of its own.
  if (bool(hv["use_guest_agent"]) && i.paths.qgaSocket) {
    const slot = i.guestAgentSlot ?? null;
    argv.push("-chardev", `socket,path=${escapeOpt(i.paths.qgaSocket)},server=on,wait=off,id=qga0`);
    argv.push("-device", `virtio-serial-pci,id=qga0${slot !== null ? `,bus=pci.0,addr=${hex(slot)}` : ""}`);
    argv.push("-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0");
  }

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

  // CD-ROMs on cdrom_disk_type (default: disk_type); booting from one puts it on IDE, as Ganeti.
  const cdromType = str(hv["cdrom_disk_type"]) || diskType;
  const cdromIface = (boot: boolean): string =>
    boot || cdromType === "ide"
      ? "ide"
      : cdromType === "paravirtual"
        ? "virtio"
        : SCSI_DEVICE_TYPES.includes(cdromType)
          ? "scsi"
          : cdromType;
  const cdromDrive = (image: string, boot: boolean, index: number): string => {
    const iface = cdromIface(boot);
    const media = /^(https?|ftp):\/\//.test(image) ? "media=cdrom" : "media=cdrom,format=raw";
    return `file=${escapeOpt(image)},${media},readonly=on,if=${iface}${iface === "ide" ? `,index=${index}` : ""}`;
  };
  const cdrom = str(hv["cdrom_image_path"]);
  if (cdrom) argv.push("-drive", cdromDrive(cdrom, !kernel && bootOrder === "cdrom", 2));
  const cdrom2 = str(hv["cdrom2_image_path"]);
  if (cdrom2) argv.push("-drive", cdromDrive(cdrom2, false, 3));
  const floppy = str(hv["floppy_image_path"]);
  if (floppy) argv.push("-drive", `file=${escapeOpt(floppy)},format=raw,if=floppy`);

  // SCSI device disks sit on an explicit controller (scsi_controller_type), as Ganeti adds it.
  const tlsDir = replicaTlsDir(i.disks);
  if (tlsDir) argv.push("-object", replicaTlsObject(tlsDir));
  if (SCSI_DEVICE_TYPES.includes(diskType)) argv.push("-device", `${str(hv["scsi_controller_type"]) || "lsi"},id=scsi`);
  i.disks.forEach((d, idx) => {
    const bootindex = !kernel && bootOrder === "disk" && idx === 0 ? 1 : null;
    if (diskType === "paravirtual") {
      const iothread = diskIothread(d);
      if (iothread) argv.push("-object", `iothread,id=${iothread}`);
      argv.push("-drive", driveOptions(d, hv, "none"));
      argv.push("-device", diskDevice(d, bootindex));
    } else if (SCSI_DEVICE_TYPES.includes(diskType)) {
      argv.push("-drive", driveOptions(d, hv, "none"));
      argv.push("-device", scsiDiskDevice(d, diskType, idx, bootindex));
    } else {
      argv.push("-drive", driveOptions(d, hv, diskType === "ide" ? "ide" : diskType === "scsi" ? "scsi" : diskType));
    }
  });

  for (const n of i.nics) {
    if (n.netdev !== null) argv.push("-netdev", `${netdevOptions(n.netdev, hv)},id=${nicNetdevId(n.uuid)}`);
    argv.push("-device", nicDevice(n, hv));
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

/**
 * -spice and its devices, as Ganeti's kvm: on the instance's network port
 * (tls-port with spice_use_tls and the node's certificates), ticketing only
 * with a password file (the password is set over QMP after the start), the
 * compression and streaming options, and the vdagent channel.
 */
function spiceArgs(i: CommandLineInput, hv: Record<string, unknown>): string[] {
  const out: string[] = [];
  const opts = [`addr=${i.spiceAddress ?? str(hv["spice_bind"])}`];
  const port = i.networkPort ?? 0;
  if (bool(hv["spice_use_tls"])) {
    opts.push(`tls-port=${port}`, `x509-cacert-file=${escapeOpt(i.paths.spiceCaCert ?? "")}`);
    opts.push(`x509-key-file=${escapeOpt(i.paths.spiceCert ?? "")}`, `x509-cert-file=${escapeOpt(i.paths.spiceCert ?? "")}`);
    if (str(hv["spice_tls_ciphers"])) opts.push(`tls-ciphers=${escapeOpt(str(hv["spice_tls_ciphers"]))}`);
  } else {
    opts.push(`port=${port}`);
  }
  if (!str(hv["spice_password_file"])) opts.push("disable-ticketing=on");
  const version = i.spiceIpVersion ?? Number(hv["spice_ip_version"] ?? 0);
  if (version === 4 || version === 6) opts.push(`ipv${version}=on`);
  if (str(hv["spice_image_compression"])) opts.push(`image-compression=${str(hv["spice_image_compression"])}`);
  if (str(hv["spice_jpeg_wan_compression"])) opts.push(`jpeg-wan-compression=${str(hv["spice_jpeg_wan_compression"])}`);
  if (str(hv["spice_zlib_glz_wan_compression"])) opts.push(`zlib-glz-wan-compression=${str(hv["spice_zlib_glz_wan_compression"])}`);
  if (str(hv["spice_streaming_video"])) opts.push(`streaming-video=${str(hv["spice_streaming_video"])}`);
  if (hv["spice_playback_compression"] === false || hv["spice_playback_compression"] === "false") opts.push("playback-compression=off");
  if (hv["spice_use_vdagent"] === false || hv["spice_use_vdagent"] === "false") opts.push("agent-mouse=off");
  else {
    out.push("-device", "virtio-serial-pci,id=spice");
    out.push("-device", "virtserialport,chardev=spicechannel0,name=com.redhat.spice.0");
    out.push("-chardev", "spicevmc,id=spicechannel0,name=vdagent");
  }
  out.push("-spice", opts.join(","));
  return out;
}

/** -vnc value: an address gets display N (port 5900+N), a path a unix socket. */
function vncOption(bind: string, display: number, hv: Record<string, unknown>): string {
  let v = bind.startsWith("/") ? `unix:${bind}` : `${bind.includes(":") ? `[${bind}]` : bind}:${display}`;
  if (bool(hv["vnc_tls"]) && str(hv["vnc_x509_path"])) v += ",tls-creds=vnctls0";
  if (str(hv["vnc_password_file"])) v += ",password=on";
  return v;
}

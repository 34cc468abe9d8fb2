// The kvm hypervisor's parameter semantics, after Ganeti's hv_kvm: the
// per-parameter checks of its PARAMETERS table and CheckParameterSyntax's
// cross-parameter rules. Pure (no file system): the master runs these on
// filled hvparams; the node additionally checks that paths exist
// (server/src/hypervisors/kvm/params.ts). Types (bool/int/string) are
// checked before, with the other hypervisors' parameters.

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const unspecified = (v: unknown): boolean => v === undefined || v === null || v === "" || v === false || v === 0;

export const KVM_VALID_BOOT_ORDERS = ["cdrom", "disk", "floppy", "network"] as const;
export const KVM_VALID_NIC_TYPES = ["e1000", "i82551", "i8259er", "i85557b", "ne2k_isa", "ne2k_pci", "paravirtual", "pcnet", "rtl8139"] as const;
export const KVM_VALID_DISK_TYPES = ["ide", "mtd", "paravirtual", "pflash", "scsi", "sd", "scsi-generic", "scsi-block", "scsi-hd", "scsi-cd"] as const;
export const KVM_VALID_SCSI_CONTROLLERS = ["lsi", "megasas", "virtio-scsi-pci", "dc390"] as const;
export const VALID_CACHE_TYPES = ["default", "none", "writeback", "writethrough"] as const;
export const VALID_DISCARD_TYPES = ["ignore", "unmap"] as const;
export const KVM_VALID_AIO_TYPES = ["threads", "native", "io_uring"] as const;
export const KVM_VALID_MOUSE_TYPES = ["mouse", "tablet"] as const;
export const KVM_VALID_SECURITY_MODELS = ["none", "user", "pool"] as const;
export const KVM_FLAG_VALUES = ["enabled", "disabled"] as const;
export const REBOOT_BEHAVIORS = ["reboot", "exit"] as const;
export const VALID_SERIAL_SPEEDS = [75, 110, 300, 600, 1200, 1800, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200, 230400, 345600, 460800] as const;
export const SPICE_LOSSLESS = ["auto_glz", "auto_lz", "quic", "glz", "lz", "off"] as const;
export const SPICE_LOSSY = ["auto", "never", "always"] as const;
export const SPICE_VIDEO = ["off", "all", "filter"] as const;
export const QEMU_PCI_SLOTS = 32;
export const MAX_VIRTIO_NET_QUEUES = 8;

type Check = { required: boolean; ok: (v: unknown) => boolean; err: string };

const isNormAbsPath = (v: unknown): boolean => {
  const p = str(v);
  if (!p.startsWith("/") || p.includes("\0")) return false;
  const parts = p.split("/").slice(1);
  return !parts.some((s) => s === "." || s === "..") && !/\/\/|\/$/.test(p.length > 1 ? p : "");
};
const isUrl = (v: unknown): boolean => /^(https?|ftp):\/\//.test(str(v));
const inSet = (required: boolean, set: readonly (string | number)[]): Check => ({
  required,
  ok: (v) => (set as readonly unknown[]).includes(v),
  err: `The value must be one of: ${set.join(", ")}`,
});
const file = (required: boolean): Check => ({ required, ok: isNormAbsPath, err: "must be an absolute normalized path" });
const fileOrUrl: Check = { required: false, ok: (v) => isNormAbsPath(v) || isUrl(v), err: "must be an absolute normalized path or a URL" };
const nonNeg = (required: boolean): Check => ({ required, ok: (v) => Number(v) >= 0, err: "cannot be negative" });
const none: Check = { required: false, ok: () => true, err: "" };

/** Ganeti's cpu_mask syntax: "all", or ranges per vCPU separated by colons. */
function multiCpuMaskOk(v: unknown): boolean {
  const s = str(v);
  if (s === "all") return true;
  return s.split(":").every((m) => m === "all" || /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(m));
}

/** Per-parameter checks, the "syntax" half of Ganeti's PARAMETERS table. */
export const KVM_PARAMETER_CHECKS: Record<string, Check> = {
  kvm_path: file(true),
  kernel_path: file(false),
  initrd_path: file(false),
  root_path: none,
  kernel_args: none,
  acpi: none,
  serial_console: none,
  serial_speed: none,
  vnc_bind_address: none,
  vnc_tls: none,
  vnc_x509_path: { required: false, ok: isNormAbsPath, err: "must be an absolute normalized path" },
  vnc_x509_verify: none,
  vnc_password_file: file(false),
  spice_bind: none,
  spice_ip_version: { required: false, ok: (v) => v === 0 || v === 4 || v === 6, err: "The SPICE IP version should be 4 or 6" },
  spice_password_file: file(false),
  spice_image_compression: inSet(false, SPICE_LOSSLESS),
  spice_jpeg_wan_compression: inSet(false, SPICE_LOSSY),
  spice_zlib_glz_wan_compression: inSet(false, SPICE_LOSSY),
  spice_streaming_video: inSet(false, SPICE_VIDEO),
  spice_playback_compression: none,
  spice_use_tls: none,
  spice_tls_ciphers: none,
  spice_use_vdagent: none,
  floppy_image_path: file(false),
  cdrom_image_path: fileOrUrl,
  cdrom2_image_path: fileOrUrl,
  boot_order: inSet(true, KVM_VALID_BOOT_ORDERS),
  nic_type: inSet(true, KVM_VALID_NIC_TYPES),
  disk_type: inSet(true, KVM_VALID_DISK_TYPES),
  scsi_controller_type: inSet(true, KVM_VALID_SCSI_CONTROLLERS),
  // Ganeti 3.0.2 reports "default" as the cluster default, outside the set.
  disk_discard: inSet(false, ["default", ...VALID_DISCARD_TYPES]),
  cdrom_disk_type: inSet(false, KVM_VALID_DISK_TYPES),
  usb_mouse: inSet(false, KVM_VALID_MOUSE_TYPES),
  keymap: none,
  migration_port: { required: true, ok: (v) => Number(v) > 0 && Number(v) < 65535, err: "invalid port number" },
  migration_bandwidth: nonNeg(true),
  migration_downtime: nonNeg(true),
  migration_mode: inSet(true, ["live", "non-live"]),
  use_guest_agent: none,
  use_localtime: none,
  disk_cache: inSet(true, VALID_CACHE_TYPES),
  disk_aio: inSet(false, KVM_VALID_AIO_TYPES),
  security_model: inSet(true, KVM_VALID_SECURITY_MODELS),
  security_domain: none,
  kvm_flag: inSet(false, KVM_FLAG_VALUES),
  vhost_net: none,
  virtio_net_queues: { required: false, ok: (v) => Number(v) > 0 && Number(v) <= MAX_VIRTIO_NET_QUEUES, err: "invalid number of queues" },
  use_chroot: none,
  user_shutdown: none,
  mem_path: { required: false, ok: isNormAbsPath, err: "must be an absolute normalized path" },
  reboot_behavior: inSet(true, REBOOT_BEHAVIORS),
  cpu_mask: { required: false, ok: multiCpuMaskOk, err: "Multiple CPU mask definition is not well-formed" },
  cpu_type: none,
  cpu_cores: nonNeg(false),
  cpu_threads: nonNeg(false),
  cpu_sockets: nonNeg(false),
  soundhw: none,
  usb_devices: none,
  vga: none,
  kvm_extra: none,
  machine_version: none,
  migration_caps: none,
  kvm_pci_reservations: {
    required: false,
    ok: (v) => Number(v) >= 0 && Number(v) <= QEMU_PCI_SLOTS,
    err: `The number of PCI slots managed by QEMU (max: ${QEMU_PCI_SLOTS})`,
  },
  vnet_hdr: none,
};

/** Parameters on the path list that the node checks for existence. */
export const KVM_FILE_PARAMS = ["kvm_path", "kernel_path", "initrd_path", "vnc_password_file", "spice_password_file", "floppy_image_path"] as const;
export const KVM_FILE_OR_URL_PARAMS = ["cdrom_image_path", "cdrom2_image_path"] as const;
export const KVM_DIR_PARAMS = ["vnc_x509_path", "mem_path"] as const;

/**
 * Ganeti's KVMHypervisor.CheckParameterSyntax on filled hvparams: null when
 * valid, else the HypervisorError message Ganeti gives.
 */
export function checkKvmParameterSyntax(hv: Record<string, unknown>): string | null {
  for (const key of Object.keys(hv)) if (!(key in KVM_PARAMETER_CHECKS)) return `Parameter '${key}' is not supported`;
  for (const [name, c] of Object.entries(KVM_PARAMETER_CHECKS)) {
    if (!(name in hv)) return `Parameter '${name}' is missing`;
    const v = hv[name];
    if (!c.required && unspecified(v)) continue;
    if (unspecified(v)) return `Parameter '${name}' is required but is currently not defined`;
    if (!c.ok(v)) return `Parameter '${name}' fails syntax check: ${c.err} (current value: '${str(v)}')`;
  }
  if (hv["boot_order"] === "cdrom" && !str(hv["cdrom_image_path"])) return "Cannot boot from cdrom without an ISO path";
  if (str(hv["kernel_path"]) && !str(hv["root_path"])) return "Need a root partition for the instance, if a kernel is defined";
  if (hv["security_model"] === "user" && !str(hv["security_domain"])) return "A security domain (user to run kvm as) must be specified";
  if ((hv["security_model"] === "none" || hv["security_model"] === "pool") && str(hv["security_domain"])) {
    return "Cannot have a security domain when the security model is 'none' or 'pool'";
  }
  if (hv["serial_console"] === true || hv["serial_console"] === "true") {
    const speed = Number(hv["serial_speed"]);
    if (!speed || !(VALID_SERIAL_SPEEDS as readonly number[]).includes(speed)) {
      return `Invalid serial console speed, must be one of: ${VALID_SERIAL_SPEEDS.join(", ")}`;
    }
  }
  if (hv["vnc_x509_verify"] === true && !str(hv["vnc_x509_path"])) return "vnc_x509_path must be defined, if vnc_x509_verify is";
  if (!str(hv["spice_bind"])) {
    for (const p of ["spice_ip_version", "spice_password_file", "spice_image_compression", "spice_jpeg_wan_compression", "spice_zlib_glz_wan_compression", "spice_streaming_video", "spice_use_tls"]) {
      if (!unspecified(hv[p])) return `SPICE: ${p} requires spice_bind to be set`;
    }
  }
  if (hv["disk_aio"] === "native" && hv["disk_cache"] !== "none") {
    return "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.";
  }
  return null;
}

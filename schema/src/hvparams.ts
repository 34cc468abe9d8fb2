// One table of every hypervisor's parameters (Ganeti 3.0.2: constants
// HVS_PARAMETER_TYPES and each hypervisor class's PARAMETERS), plus the
// backend, NIC and node parameter types, and the checks Ganeti's master runs
// on them before a job changes anything.
//
// API (all throw ParamError; `kind` says which Ganeti error class it is):
//
//   HV_PARAMETERS[hv][name] -> { type, required, check?, path? }
//     type      "string" | "maybe-string" | "bool" | "int" | "float" | "size"
//     required  Ganeti's "required" flag: the filled value may not be "" / null
//     check     { test(value) -> boolean, message, values? } syntax check run
//               on the filled value (values: the allowed set, for enums)
//     path      "file" | "dir" | "file-or-url": the node must find it (a
//               node-side check the hypervisor does itself; the master only
//               checks the syntax, "must be an absolute normalized path")
//
//   forceParamTypes(params, types, { allowDefault })       Ganeti's
//     utils.ForceDictType: unknown key -> "Unknown parameter 'k'", wrong type
//     -> "'k' (value v) is not a valid integer|boolean|string|size|float";
//     returns the converted copy ("1" -> 1, "true" -> true, "1G" -> 1024).
//     kind "type" (TypeEnforcementError).
//
//   validateHvParams(hv, params, { partial })  forceParamTypes over
//     HVS_PARAMETER_TYPES, then the syntax of the hypervisor:
//     partial: true  (instance overrides, before filling): only the keys
//                    given; a key this hypervisor lacks -> "Parameter 'k' is
//                    not supported" (kind "syntax", HypervisorError);
//     partial: false (the filled dict): Ganeti's CheckParameterSyntax:
//                    also "Parameter 'k' is missing", "... is required but is
//                    currently not defined", "Parameter 'k' fails syntax
//                    check: <message> (current value: 'v')".
//                    For kvm also the checks across parameters of Ganeti's
//                    KVMHypervisor.CheckParameterSyntax (boot, security
//                    model, serial console, VNC, SPICE, disk cache).
//     Returns the converted copy.
//
//   validateBeParams(params, { allowDefault }) / BE_PARAMETER_TYPES: Ganeti's
//     BES_PARAMETER_TYPES (+ legacy "memory"); sizes parsed as ParseUnit does
//     (so -1 is "not a valid size"). checkBeParamRanges(filled): vcpus >= 1,
//     spindle_use >= 0, minmem <= maxmem (kind "range", OpPrereqError).
//
//   NIC_PARAMETER_TYPES, ND_PARAMETER_TYPES, DISK_PARAMETER_TYPES: Ganeti's
//     NICS_/NDS_PARAMETER_TYPES and DISK_DT_TYPES.
//
//   MAX_JSON_DEPTH / jsonDepthExceeds(value, max) (in common.ts): the bound on
//     nesting of any dict an opcode accepts (opcode schemas refuse deeper ones).
import { isIPv4Address, isIPv6Address, parseUnitSize, UnitParseError } from "./common.js";

export type ParamType = "string" | "maybe-string" | "bool" | "int" | "float" | "size";

export interface ParamCheck {
  test: (value: unknown) => boolean;
  message: string;
  /** The allowed values, when the check is set membership. */
  values?: readonly (string | number)[];
}

export interface HvParamSpec {
  type: ParamType;
  required: boolean;
  check?: ParamCheck;
  path?: "file" | "dir" | "file-or-url";
}

export type ParamErrorKind = "type" | "syntax" | "range";

/** A parameter Ganeti refuses; `kind` maps to TypeEnforcementError, HypervisorError, OpPrereqError. */
export class ParamError extends Error {
  readonly code = "wrong_input" as const;
  constructor(
    readonly kind: ParamErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "ParamError";
  }
}

// ---------------------------------------------------------------- checks

/** Python's str() of a value inside Ganeti's messages. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyReprValue).join(", ")}]`;
  if (typeof v === "object") {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyReprValue(k)}: ${pyReprValue(x)}`)
      .join(", ")}}`;
  }
  return String(v);
}
function pyReprValue(v: unknown): string {
  return typeof v === "string" ? `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'` : pyStr(v);
}

const oneOf = (values: readonly (string | number)[]): ParamCheck => ({
  test: (v) => values.includes(v as string | number),
  message: `The value must be one of: ${values.join(", ")}`,
  values,
});
const num = (v: unknown): number => (typeof v === "number" ? v : NaN);
const nonNegative: ParamCheck = { test: (v) => num(v) >= 0, message: "cannot be negative" };
const netPort: ParamCheck = { test: (v) => num(v) > 0 && num(v) < 65535, message: "invalid port number" };
const migrationMode: ParamCheck = { test: (v) => v === "live" || v === "non-live", message: "invalid migration mode" };

/** Python's os.path.normpath(p) == p and os.path.isabs(p). */
export function isNormAbsPath(p: unknown): boolean {
  if (typeof p !== "string" || !p.startsWith("/")) return false;
  // normpath keeps exactly two leading slashes, collapses others
  const lead = p.startsWith("//") && !p.startsWith("///") ? "//" : "/";
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length) parts.pop();
      continue;
    }
    parts.push(c);
  }
  return lead + parts.join("/") === p;
}
const URL_RE = /^(https?|ftps?):\/\//;
const absPath: ParamCheck = { test: isNormAbsPath, message: "must be an absolute normalized path" };
const absPathOrUrl: ParamCheck = {
  test: (v) => isNormAbsPath(v) || (typeof v === "string" && URL_RE.test(v)),
  message: "must be an absolute normalized path or a URL",
};

/** Ganeti's ParseCpuMask; null when malformed. */
export function parseCpuMask(mask: string): number[] | null {
  if (!mask) return [];
  const out: number[] = [];
  for (const def of mask.split(",")) {
    const b = def.split("-");
    if (b.length > 2) return null;
    const lo = pyInt(b[0]!);
    const hi = pyInt(b[b.length - 1]!);
    if (lo === null || hi === null || lo > hi) return null;
    for (let i = lo; i <= hi && out.length < 65536; i++) out.push(i);
  }
  return out;
}
function pyInt(s: string): number | null {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : null;
}
const cpuMask: ParamCheck = {
  test: (v) => typeof v === "string" && (parseCpuMask(v)?.length ?? 0) > 0,
  message: "CPU mask definition is not well-formed",
};
const multiCpuMask: ParamCheck = {
  test: (v) => typeof v === "string" && v.split(":").every((d) => d === "all" || parseCpuMask(d) !== null),
  message: "Multiple CPU mask definition is not well-formed",
};

// ---------------------------------------------------------------- value sets (Ganeti's constants)

export const KVM_BOOT_ORDERS = ["cdrom", "disk", "floppy", "network"] as const;
export const KVM_NIC_TYPES = ["e1000", "i82551", "i82557b", "i82559er", "ne2k_isa", "ne2k_pci", "paravirtual", "pcnet", "rtl8139"] as const;
export const KVM_DISK_TYPES = ["ide", "mtd", "paravirtual", "pflash", "scsi", "scsi-block", "scsi-cd", "scsi-generic", "scsi-hd", "sd"] as const;
export const KVM_SCSI_CONTROLLER_TYPES = ["lsi", "megasas", "virtio-scsi-pci"] as const;
export const DISCARD_TYPES = ["default", "ignore", "unmap"] as const;
export const KVM_MOUSE_TYPES = ["mouse", "tablet"] as const;
export const CACHE_TYPES = ["default", "none", "writeback", "writethrough"] as const;
export const KVM_AIO_TYPES = ["native", "threads"] as const;
export const KVM_SECURITY_MODELS = ["none", "pool", "user"] as const;
export const KVM_FLAG_VALUES = ["disabled", "enabled"] as const;
export const REBOOT_BEHAVIORS = ["reboot", "exit"] as const;
export const SPICE_LOSSLESS_IMG_COMPR = ["auto_glz", "auto_lz", "glz", "lz", "off", "quic"] as const;
export const SPICE_LOSSY_IMG_COMPR = ["always", "auto", "never"] as const;
export const SPICE_VIDEO_STREAM_DETECTION = ["all", "filter", "off"] as const;
export const HVM_NIC_TYPES = ["e1000", "ne2k_isa", "ne2k_pci", "paravirtual", "rtl8139"] as const;
export const HVM_DISK_TYPES = ["ioemu", "paravirtual"] as const;
export const HVM_VIF_TYPES = ["ioemu", "vif"] as const;
export const XEN_COMMANDS = ["xm", "xl"] as const;
export const QEMU_PCI_SLOTS = 32;
export const MAX_VIRTIO_NET_QUEUES = 32;

// ---------------------------------------------------------------- the table

const p = (type: ParamType, required = false, check?: ParamCheck, path?: HvParamSpec["path"]): HvParamSpec => {
  const spec: HvParamSpec = { type, required };
  if (check) spec.check = check;
  if (path) spec.path = path;
  return spec;
};
const reqFile = () => p("string", true, absPath, "file");
const optFile = () => p("string", false, absPath, "file");
const optDir = () => p("string", false, absPath, "dir");
const optFileOrUrl = () => p("string", false, absPathOrUrl, "file-or-url");
const inSet = (type: ParamType, required: boolean, values: readonly (string | number)[]) => p(type, required, oneOf(values));

const KVM: Record<string, HvParamSpec> = {
  kvm_path: reqFile(),
  kernel_path: optFile(),
  initrd_path: optFile(),
  root_path: p("maybe-string"),
  kernel_args: p("string"),
  acpi: p("bool"),
  serial_console: p("bool"),
  serial_speed: p("int"),
  vnc_bind_address: p("string"),
  vnc_tls: p("bool"),
  vnc_x509_path: optDir(),
  vnc_x509_verify: p("bool"),
  vnc_password_file: optFile(),
  spice_bind: p("string"),
  spice_ip_version: p("int", false, { test: (v) => v === 0 || v === 4 || v === 6, message: "The SPICE IP version should be 4 or 6" }),
  spice_password_file: optFile(),
  spice_image_compression: inSet("string", false, SPICE_LOSSLESS_IMG_COMPR),
  spice_jpeg_wan_compression: inSet("string", false, SPICE_LOSSY_IMG_COMPR),
  spice_zlib_glz_wan_compression: inSet("string", false, SPICE_LOSSY_IMG_COMPR),
  spice_streaming_video: inSet("string", false, SPICE_VIDEO_STREAM_DETECTION),
  spice_playback_compression: p("bool"),
  spice_use_tls: p("bool"),
  spice_tls_ciphers: p("string"),
  spice_use_vdagent: p("bool"),
  floppy_image_path: optFile(),
  cdrom_image_path: optFileOrUrl(),
  cdrom2_image_path: optFileOrUrl(),
  boot_order: inSet("string", true, KVM_BOOT_ORDERS),
  nic_type: inSet("string", true, KVM_NIC_TYPES),
  disk_type: inSet("string", true, KVM_DISK_TYPES),
  scsi_controller_type: inSet("string", true, KVM_SCSI_CONTROLLER_TYPES),
  disk_discard: inSet("string", false, DISCARD_TYPES),
  cdrom_disk_type: inSet("string", false, KVM_DISK_TYPES),
  usb_mouse: inSet("string", false, KVM_MOUSE_TYPES),
  keymap: p("string"),
  migration_port: p("int", true, netPort),
  migration_bandwidth: p("int", true, nonNegative),
  migration_downtime: p("int", true, nonNegative),
  migration_mode: p("string", true, migrationMode),
  use_guest_agent: p("bool"),
  use_localtime: p("bool"),
  disk_cache: inSet("string", true, CACHE_TYPES),
  disk_aio: inSet("string", false, KVM_AIO_TYPES),
  security_model: inSet("string", true, KVM_SECURITY_MODELS),
  security_domain: p("string"),
  kvm_flag: inSet("string", false, KVM_FLAG_VALUES),
  vhost_net: p("bool"),
  virtio_net_queues: p("int", false, { test: (v) => num(v) > 0 && num(v) <= MAX_VIRTIO_NET_QUEUES, message: "invalid number of queues" }),
  use_chroot: p("bool"),
  user_shutdown: p("bool"),
  mem_path: optDir(),
  reboot_behavior: inSet("string", true, REBOOT_BEHAVIORS),
  cpu_mask: p("string", false, multiCpuMask),
  cpu_type: p("string"),
  cpu_cores: p("int", false, nonNegative),
  cpu_threads: p("int", false, nonNegative),
  cpu_sockets: p("int", false, nonNegative),
  soundhw: p("string"),
  usb_devices: p("string"),
  vga: p("string"),
  kvm_extra: p("string"),
  machine_version: p("string"),
  migration_caps: p("string"),
  kvm_pci_reservations: p("int", false, {
    test: (v) => num(v) >= 0 && num(v) <= QEMU_PCI_SLOTS,
    message: `The number of PCI slots managed by QEMU (max: ${QEMU_PCI_SLOTS})`,
  }),
  vnet_hdr: p("bool"),
};

const XEN_PVM: Record<string, HvParamSpec> = {
  use_bootloader: p("bool"),
  bootloader_path: optFile(),
  bootloader_args: p("string"),
  kernel_path: reqFile(),
  initrd_path: optFile(),
  root_path: p("maybe-string"),
  kernel_args: p("string"),
  migration_port: p("int", true, netPort),
  migration_mode: p("string", true, migrationMode),
  blockdev_prefix: p("string"),
  reboot_behavior: inSet("string", true, REBOOT_BEHAVIORS),
  cpu_mask: p("string", false, multiCpuMask),
  cpu_cap: p("int", false, nonNegative),
  cpu_weight: p("int", false, { test: (v) => num(v) > 0 && num(v) < 65536, message: "invalid weight" }),
  vif_script: optFile(),
  cpuid: p("string"),
  soundhw: p("string"),
  xen_cmd: inSet("string", true, XEN_COMMANDS),
};

const XEN_HVM: Record<string, HvParamSpec> = {
  acpi: p("bool"),
  boot_order: p("string", true, {
    // Python: x and len(x.strip("acdn")) == 0
    test: (v) => typeof v === "string" && /^[acdn]+$/.test(v),
    message: "Invalid boot order specified, must be one or more of [acdn]",
  }),
  cdrom_image_path: optFile(),
  disk_type: inSet("string", true, HVM_DISK_TYPES),
  nic_type: inSet("string", true, HVM_NIC_TYPES),
  pae: p("bool"),
  vnc_bind_address: p("string", false, {
    test: (v) => typeof v === "string" && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v),
    message: "VNC bind address is not a valid IP address",
  }),
  kernel_path: reqFile(),
  device_model: reqFile(),
  vnc_password_file: reqFile(),
  migration_port: p("int", true, netPort),
  migration_mode: p("string", true, migrationMode),
  use_localtime: p("bool"),
  blockdev_prefix: p("string"),
  pci_pass: p("string"),
  reboot_behavior: inSet("string", true, REBOOT_BEHAVIORS),
  cpu_mask: p("string", false, multiCpuMask),
  cpu_cap: p("int"),
  cpu_weight: p("int", false, { test: (v) => num(v) > 0 && num(v) < 65535, message: "invalid weight" }),
  vif_type: inSet("string", false, HVM_VIF_TYPES),
  vif_script: optFile(),
  viridian: p("bool"),
  cpuid: p("string"),
  soundhw: p("string"),
  xen_cmd: inSet("string", true, XEN_COMMANDS),
};

const LXC: Record<string, HvParamSpec> = {
  cpu_mask: p("string", false, cpuMask),
  devices: p("string"),
  drop_capabilities: p("string"),
  extra_cgroups: p("string"),
  extra_config: p("string"),
  num_ttys: p("int", true, nonNegative),
  startup_timeout: p("int", false, nonNegative),
};

const CHROOT: Record<string, HvParamSpec> = {
  init_script: p("string", true, absPath),
};

const FAKE: Record<string, HvParamSpec> = {
  migration_mode: p("string", true, migrationMode),
};

/** Every hypervisor's parameters (frozen; look up with hvParamSpec or Object.hasOwn). */
export const HV_PARAMETERS: Readonly<Record<string, Readonly<Record<string, HvParamSpec>>>> = Object.freeze({
  kvm: KVM,
  "xen-pvm": XEN_PVM,
  "xen-hvm": XEN_HVM,
  lxc: LXC,
  chroot: CHROOT,
  fake: FAKE,
});

/** Ganeti's HVS_PARAMETER_TYPES: the union of every hypervisor's parameter types. */
export const HVS_PARAMETER_TYPES: ReadonlyMap<string, ParamType> = new Map(
  Object.values(HV_PARAMETERS).flatMap((t) => Object.entries(t).map(([k, s]) => [k, s.type] as const)),
);

export function hvParamSpec(hypervisor: string, name: string): HvParamSpec | undefined {
  const table = Object.hasOwn(HV_PARAMETERS, hypervisor) ? HV_PARAMETERS[hypervisor] : undefined;
  return table && Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Ganeti's BES_PARAMETER_TYPES plus the legacy "memory" (BES_PARAMETER_COMPAT). */
export const BE_PARAMETER_TYPES: ReadonlyMap<string, ParamType> = new Map<string, ParamType>([
  ["always_failover", "bool"],
  ["auto_balance", "bool"],
  ["maxmem", "size"],
  ["minmem", "size"],
  ["memory", "size"],
  ["spindle_use", "int"],
  ["vcpus", "int"],
]);

/** Ganeti's NICS_PARAMETER_TYPES. */
export const NIC_PARAMETER_TYPES: ReadonlyMap<string, ParamType> = new Map<string, ParamType>([
  ["mode", "string"],
  ["link", "string"],
  ["vlan", "string"],
]);

/** Ganeti's NDS_PARAMETER_TYPES. */
export const ND_PARAMETER_TYPES: ReadonlyMap<string, ParamType> = new Map<string, ParamType>([
  ["exclusive_storage", "bool"],
  ["oob_program", "string"],
  ["ovs", "bool"],
  ["ovs_link", "maybe-string"],
  ["ovs_name", "maybe-string"],
  ["spindle_count", "int"],
  ["ssh_port", "int"],
  ["cpu_speed", "float"],
]);

/** Ganeti's DISK_DT_TYPES: disk template parameters (keys as in the defaults per template). */
export const DISK_PARAMETER_TYPES: ReadonlyMap<string, ParamType> = new Map<string, ParamType>([
  ["resync-rate", "int"],
  ["data-stripes", "int"],
  ["meta-stripes", "int"],
  ["disk-barriers", "string"],
  ["meta-barriers", "bool"],
  ["metavg", "string"],
  ["disk-custom", "string"],
  ["net-custom", "string"],
  ["protocol", "string"],
  ["dynamic-resync", "bool"],
  ["c-plan-ahead", "int"],
  ["c-fill-target", "int"],
  ["c-delay-target", "int"],
  ["c-max-rate", "int"],
  ["c-min-rate", "int"],
  ["stripes", "int"],
  ["access", "string"],
  ["pool", "string"],
  ["host", "string"],
  ["volume", "string"],
  ["port", "int"],
]);

// ---------------------------------------------------------------- ForceDictType

/** Python's int() of a value, or null where it raises. */
function toPyInt(v: unknown): number | null {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === "string") return pyInt(v.replace(/_/g, ""));
  return null;
}
function toPyFloat(v: unknown): number | null {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v.trim()))) return Number(v.trim());
  return null;
}
/** Python truthiness of a JSON value. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v as object).length > 0;
  return true;
}

function coerce(key: string, value: unknown, type: ParamType): unknown {
  const bad = (what: string) => new ParamError("type", `'${key}' (value ${pyStr(value)}) is not a valid ${what}`);
  switch (type) {
    case "string":
    case "maybe-string":
      if (value === null && type === "maybe-string") return null;
      if (typeof value === "string") return value;
      if (value === false) return "";
      throw bad("string");
    case "bool":
      if (typeof value === "string" && value !== "") {
        const l = value.toLowerCase();
        if (l === "false") return false;
        if (l === "true") return true;
        throw bad("boolean");
      }
      return truthy(value);
    case "size":
      try {
        if (typeof value !== "string" && typeof value !== "number") throw new UnitParseError("Invalid format");
        return parseUnitSize(value);
      } catch (err) {
        if (!(err instanceof UnitParseError)) throw err;
        throw new ParamError("type", `'${key}' (value ${pyStr(value)}) is not a valid size. error: ${err.message}`);
      }
    case "int": {
      const n = toPyInt(value);
      if (n === null) throw bad("integer");
      return n;
    }
    case "float": {
      const n = toPyFloat(value);
      if (n === null) throw bad("float");
      return n;
    }
  }
}

/** Ganeti's utils.ForceDictType (see the header). */
export function forceParamTypes(
  params: Record<string, unknown>,
  types: ReadonlyMap<string, ParamType>,
  opts: { allowDefault?: boolean } = {},
): Record<string, unknown> {
  if (params === null || typeof params !== "object" || Array.isArray(params))
    throw new ParamError("type", `Expected dictionary, got '${pyStr(params)}'`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(params)) {
    const type = types.get(key);
    if (!type) throw new ParamError("type", `Unknown parameter '${key}'`);
    const value = params[key];
    out[key] = opts.allowDefault && value === "default" ? value : coerce(key, value, type);
  }
  return out;
}

// ---------------------------------------------------------------- hypervisor syntax

const unspecified = (v: unknown) => v === null || v === undefined || v === "";

function checkOne(name: string, spec: HvParamSpec, value: unknown): void {
  if (unspecified(value)) {
    if (!spec.required) return;
    throw new ParamError("syntax", `Parameter '${name}' is required but is currently not defined`);
  }
  if (spec.check && !spec.check.test(value))
    throw new ParamError("syntax", `Parameter '${name}' fails syntax check: ${spec.check.message} (current value: '${pyStr(value)}')`);
}

/** Types and syntax of hypervisor parameters (see the header). */
export function validateHvParams(
  hypervisor: string,
  params: Record<string, unknown>,
  opts: { partial: boolean; allowDefault?: boolean },
): Record<string, unknown> {
  const table = Object.hasOwn(HV_PARAMETERS, hypervisor) ? HV_PARAMETERS[hypervisor] : undefined;
  if (!table) throw new ParamError("syntax", `Unknown hypervisor '${hypervisor}'`);
  const typed = forceParamTypes(params, HVS_PARAMETER_TYPES, { allowDefault: opts.allowDefault ?? false });
  for (const key of Object.keys(typed))
    if (!Object.hasOwn(table, key)) throw new ParamError("syntax", `Parameter '${key}' is not supported`);
  if (opts.partial) {
    for (const key of Object.keys(typed)) if (typed[key] !== "default") checkOne(key, table[key]!, typed[key]);
    return typed;
  }
  for (const [name, spec] of Object.entries(table)) {
    if (!Object.hasOwn(typed, name)) throw new ParamError("syntax", `Parameter '${name}' is missing`);
    checkOne(name, spec, typed[name]);
  }
  if (hypervisor === "kvm") checkKvmAcrossParameters(typed);
  return typed;
}

// ---------------------------------------------------------------- kvm's checks across parameters

export const VALID_SERIAL_SPEEDS = [
  75, 110, 300, 600, 1200, 1800, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200, 230400, 345600, 460800,
] as const;
const SPICE_ADDITIONAL_PARAMS = [
  "spice_ip_version",
  "spice_password_file",
  "spice_image_compression",
  "spice_jpeg_wan_compression",
  "spice_zlib_glz_wan_compression",
  "spice_streaming_video",
  "spice_use_tls",
] as const;

/** Ganeti 3.0's hv_kvm validation.check_* functions, on filled kvm parameters. */
function checkKvmAcrossParameters(hv: Record<string, unknown>): void {
  const fail = (m: string) => new ParamError("syntax", m);
  // check_boot_parameters
  if (hv["boot_order"] === "cdrom" && !truthy(hv["cdrom_image_path"])) throw fail("Cannot boot from cdrom without an ISO path");
  if (truthy(hv["kernel_path"]) && !truthy(hv["root_path"])) throw fail("Need a root partition for the instance, if a kernel is defined");
  // check_security_model
  const sm = hv["security_model"];
  if (sm === "user" && !truthy(hv["security_domain"])) throw fail("A security domain (user to run kvm as) must be specified");
  if ((sm === "none" || sm === "pool") && truthy(hv["security_domain"]))
    throw fail("Cannot have a security domain when the security model is 'none' or 'pool'");
  // check_console_parameters
  if (truthy(hv["serial_console"])) {
    const speed = hv["serial_speed"];
    if (!truthy(speed) || !(VALID_SERIAL_SPEEDS as readonly unknown[]).includes(speed))
      throw fail(`Invalid serial console speed, must be one of: ${VALID_SERIAL_SPEEDS.join(", ")}`);
  }
  // check_vnc_parameters
  if (truthy(hv["vnc_x509_verify"]) && !truthy(hv["vnc_x509_path"])) throw fail("vnc_x509_path must be defined, if vnc_x509_verify is");
  // check_spice_parameters
  const bind = hv["spice_bind"];
  if (truthy(bind)) {
    const version = hv["spice_ip_version"];
    if (version !== 0 && typeof bind === "string") {
      if (isIPv4Address(bind) && version !== 4)
        throw fail(`SPICE: Got an IPv4 address (${bind}), but the specified IP version is ${pyStr(version)}`);
      if (isIPv6Address(bind) && version !== 6)
        throw fail(`SPICE: Got an IPv6 address (${bind}), but the specified IP version is ${pyStr(version)}`);
    }
  } else {
    for (const param of SPICE_ADDITIONAL_PARAMS)
      if (truthy(hv[param])) throw fail(`SPICE: ${param} requires spice_bind to be set`);
  }
  // check_disk_cache_parameters
  if (hv["disk_aio"] === "native" && hv["disk_cache"] !== "none")
    throw fail("When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.");
}

// ---------------------------------------------------------------- backend parameters

/** ForceDictType over BE_PARAMETER_TYPES (sizes parsed, so negative sizes fail). */
export function validateBeParams(params: Record<string, unknown>, opts: { allowDefault?: boolean } = {}): Record<string, unknown> {
  return forceParamTypes(params, BE_PARAMETER_TYPES, opts);
}

/** Bounds Ganeti's types cannot express, on filled beparams. */
export function checkBeParamRanges(filled: Record<string, unknown>): void {
  const vcpus = filled["vcpus"];
  if (typeof vcpus === "number" && vcpus < 1)
    throw new ParamError("range", `Invalid value for 'vcpus': ${vcpus} (must be at least 1)`);
  const spindles = filled["spindle_use"];
  if (typeof spindles === "number" && spindles < 0)
    throw new ParamError("range", `Invalid value for 'spindle_use': ${spindles} (cannot be negative)`);
  const min = Number(filled["minmem"]);
  const max = Number(filled["maxmem"]);
  if (min > max)
    throw new ParamError("range", `Minimum memory size (${min}) must be less than or equal to maximum memory size (${max})`);
}

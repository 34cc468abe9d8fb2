// Shared building blocks for opcode, RAPI and object schemas. The checks
// mirror Ganeti 3.0's RAPI-side parameter validation (lib/ht.py types that
// are generated from src/Ganeti/OpParams.hs): e.g. ints reject floats and
// booleans, booleans reject 0/1, "dict" means a JSON object.
import { z } from "zod";
import { DISK_TEMPLATES } from "./disk-template-list.js";

// ---------------------------------------------------------------- strings

/** Ganeti's NonEmptyString. */
export const NonEmptyStringSchema = z.string().min(1);
export type NonEmptyString = z.infer<typeof NonEmptyStringSchema>;

/** Node, group, network, OS names (non-empty). */
export const ObjectNameSchema = NonEmptyStringSchema;

/**
 * Instance names are a plain String in Ganeti's opcodes (an empty string
 * passes validation and fails later with a prerequisite error).
 */
export const InstanceNameSchema = z.string();

/** A UUID as Ganeti stores it (non-empty string; not format-checked by Ganeti). */
export const UuidStringSchema = NonEmptyStringSchema;

export const MAX_TAG_LEN = 128;
export const MAX_TAGS_PER_OBJECT = 4096;
/** Characters Ganeti allows in a tag (utils.ValidateTagName). */
export const TAG_REGEX = /^[\w.+*/:@-]+$/;

/**
 * A well-formed tag as Ganeti's LUs accept it. Opcodes themselves only check
 * "string", the name rules are enforced when the job runs; use this schema for
 * client-side input checking.
 */
export const TagSchema = z.string().min(1).max(MAX_TAG_LEN).regex(TAG_REGEX);
export type Tag = z.infer<typeof TagSchema>;

// ---------------------------------------------------------------- numbers

/** Ganeti's Int: an integer, not a boolean, not a fraction. */
export const IntSchema = z.number().int();
export const NonNegativeIntSchema = z.number().int().nonnegative();
export const PositiveIntSchema = z.number().int().positive();
/** Ganeti's Double: any finite number (ints are accepted and widened). */
export const DoubleSchema = z.number();

// ---------------------------------------------------------------- enums

export { DISK_TEMPLATES };
export const DiskTemplateSchema = z.enum(DISK_TEMPLATES);
export type DiskTemplate = z.infer<typeof DiskTemplateSchema>;

export const HYPERVISORS = ["kvm", "xen-pvm", "chroot", "xen-hvm", "lxc", "fake"] as const;
export const HypervisorSchema = z.enum(HYPERVISORS);
export type Hypervisor = z.infer<typeof HypervisorSchema>;

/** NIC modes; "pool" is accepted by the type check (NICMode) but rarely used. */
export const NIC_MODES = ["bridged", "routed", "openvswitch", "pool"] as const;
export const NicModeSchema = z.enum(NIC_MODES);
export type NicMode = z.infer<typeof NicModeSchema>;

export const DISK_MODES = ["rw", "ro"] as const;
export const DiskModeSchema = z.enum(DISK_MODES);
export type DiskMode = z.infer<typeof DiskModeSchema>;

export const DISK_ACCESS_MODES = ["kernelspace", "userspace"] as const;
export const DiskAccessModeSchema = z.enum(DISK_ACCESS_MODES);

export const MIGRATION_MODES = ["live", "non-live"] as const;
export const MigrationModeSchema = z.enum(MIGRATION_MODES);
export type MigrationMode = z.infer<typeof MigrationModeSchema>;

export const EVACUATE_MODES = ["primary-only", "secondary-only", "all"] as const;
export const EvacuateModeSchema = z.enum(EVACUATE_MODES);
export type EvacuateMode = z.infer<typeof EvacuateModeSchema>;

export const REPLACE_DISKS_MODES = ["replace_on_primary", "replace_on_secondary", "replace_new_secondary", "replace_auto"] as const;
export const ReplaceDisksModeSchema = z.enum(REPLACE_DISKS_MODES);
export type ReplaceDisksMode = z.infer<typeof ReplaceDisksModeSchema>;

export const REBOOT_TYPES = ["soft", "hard", "full"] as const;
export const RebootTypeSchema = z.enum(REBOOT_TYPES);
export type RebootType = z.infer<typeof RebootTypeSchema>;

export const ALLOC_POLICIES = ["preferred", "last_resort", "unallocable"] as const;
export const AllocPolicySchema = z.enum(ALLOC_POLICIES);
export type AllocPolicy = z.infer<typeof AllocPolicySchema>;

export const INSTANCE_CREATE_MODES = ["create", "import", "remote-import"] as const;
export const InstanceCreateModeSchema = z.enum(INSTANCE_CREATE_MODES);
export type InstanceCreateMode = z.infer<typeof InstanceCreateModeSchema>;

export const EXPORT_MODES = ["local", "remote"] as const;
export const ExportModeSchema = z.enum(EXPORT_MODES);
export type ExportMode = z.infer<typeof ExportModeSchema>;

export const FILE_DRIVERS = ["loop", "blktap", "blktap2"] as const;
export const FileDriverSchema = z.enum(FILE_DRIVERS);
export type FileDriver = z.infer<typeof FileDriverSchema>;

export const STORAGE_TYPES = ["file", "sharedfile", "gluster", "lvm-pv", "lvm-vg", "diskless", "blockdev", "rados", "ext"] as const;
export const StorageTypeSchema = z.enum(STORAGE_TYPES);
export type StorageType = z.infer<typeof StorageTypeSchema>;

export const TAG_KINDS = ["cluster", "node", "nodegroup", "instance", "network"] as const;
export const TagKindSchema = z.enum(TAG_KINDS);
export type TagKind = z.infer<typeof TagKindSchema>;

/** Resources accepted by OP_QUERY / OP_QUERY_FIELDS `what`. */
export const OP_QUERY_RESOURCES = [
  "cluster",
  "instance",
  "node",
  "group",
  "os",
  "export",
  "network",
  "extstorage",
  "lock",
  "job",
  "filter",
] as const;
export const OpQueryResourceSchema = z.enum(OP_QUERY_RESOURCES);
export type OpQueryResource = z.infer<typeof OpQueryResourceSchema>;

export const ADMIN_STATE_SOURCES = ["admin", "user"] as const;
export const AdminStateSourceSchema = z.enum(ADMIN_STATE_SOURCES);
export type AdminStateSource = z.infer<typeof AdminStateSourceSchema>;

/** Device-modification actions usable without an index ("DdmSimple"). */
export const DDM_SIMPLE_ACTIONS = ["add", "attach", "remove", "detach"] as const;
export const DdmSimpleSchema = z.enum(DDM_SIMPLE_ACTIONS);
/** Actions of the 3-element modification form ("DdmFull"). */
export const DDM_ACTIONS = ["add", "attach", "remove", "detach", "modify"] as const;
export const DdmActionSchema = z.enum(DDM_ACTIONS);
export type DdmAction = z.infer<typeof DdmActionSchema>;

/** Finalized job statuses usable in `depends`. */
export const DEPENDENCY_JOB_STATUSES = ["success", "error", "canceled"] as const;
export const DependencyJobStatusSchema = z.enum(DEPENDENCY_JOB_STATUSES);
export type DependencyJobStatus = z.infer<typeof DependencyJobStatusSchema>;

// ---------------------------------------------------------------- sizes

/** Maximum number of disks per instance (constants.MAX_DISKS). */
export const MAX_DISKS = 16;
/** A disk index, 0 .. MAX_DISKS-1 (Ganeti's DiskIndex). */
export const DiskIndexSchema = NonNegativeIntSchema.max(MAX_DISKS - 1);

/** A size in MiB (non-negative int). */
export const SizeMibSchema = NonNegativeIntSchema;

/** Raised by parseUnitSize; "wrong_input" as Ganeti's UnitParseError is an input error. */
export class UnitParseError extends Error {
  readonly code = "wrong_input" as const;
  constructor(message: string) {
    super(message);
    this.name = "UnitParseError";
  }
}

const UNIT_RE = /^([.\d]+)\s*([a-zA-Z]+)?$/;

/**
 * Ganeti's utils.ParseUnit: "NUMBER [UNIT]" with unit m/mb/mib (default),
 * g/gb/gib or t/tb/tib (case-insensitive) → MiB, rounded up to an integer
 * and then up to a multiple of 4 (so parseUnitSize(1023) === 1024).
 */
export function parseUnitSize(input: string | number): number {
  // Python's str() of a float never uses exponent notation for sizes we accept.
  const text = typeof input === "number" ? pyNumberString(input) : input;
  const m = UNIT_RE.exec(text);
  if (!m) throw new UnitParseError("Invalid format");
  const numText = m[1] as string;
  // float() in Python rejects things like "1.2.3" or "."
  if (!/^(\d+\.?\d*|\.\d+)$/.test(numText)) throw new UnitParseError("Invalid format");
  let value = Number(numText);
  const unit = m[2];
  const lc = unit ? unit.toLowerCase() : "m";
  if (lc === "m" || lc === "mb" || lc === "mib") {
    // already MiB
  } else if (lc === "g" || lc === "gb" || lc === "gib") {
    value *= 1024;
  } else if (lc === "t" || lc === "tb" || lc === "tib") {
    value *= 1024 * 1024;
  } else {
    throw new UnitParseError(`Unknown unit: ${unit}`);
  }
  let int = Math.trunc(value);
  if (int < value) int += 1;
  if (int % 4) int += 4 - (int % 4);
  return int;
}

function pyNumberString(n: number): string {
  // Negative numbers and exponents do not match Ganeti's regex either.
  return Number.isInteger(n) ? n.toFixed(0) : String(n);
}

/** True when parseUnitSize accepts the value. */
export function isUnitSize(input: unknown): boolean {
  if (typeof input !== "string" && typeof input !== "number") return false;
  if (typeof input === "number" && (!Number.isFinite(input) || input < 0)) return false;
  try {
    parseUnitSize(input);
    return true;
  } catch (err) {
    if (err instanceof UnitParseError) return false;
    throw err;
  }
}

/** A size as accepted where Ganeti parses units: MiB int or a unit string ("1G", "512M", "1.5g"). */
export const UnitSizeSchema = z.union([SizeMibSchema, z.string()]).refine(isUnitSize, {
  message: "Invalid size: expected MiB integer or NUMBER[m|g|t] string",
});
export type UnitSize = z.infer<typeof UnitSizeSchema>;

/** Same as UnitSizeSchema, but outputs MiB (Ganeti's rounding applied). */
export const UnitSizeMibSchema = UnitSizeSchema.transform((v) => parseUnitSize(v));

// ---------------------------------------------------------------- common opcode fields

export const OP_PRIORITIES_SUBMIT = [-10, 0, 10] as const;
/** Opcode priority accepted at submission: -10 (high), 0 (normal), 10 (low). */
export const SubmitPrioritySchema = z.union([z.literal(-10), z.literal(0), z.literal(10)]);
export type SubmitPriority = z.infer<typeof SubmitPrioritySchema>;

/**
 * A job id in a dependency: absolute (non-negative int or its decimal string)
 * or relative (negative int, only meaningful within one multi-job submission).
 */
export const DependencyJobIdSchema = z.union([z.number().int(), z.string().regex(/^\d+$/)]);

/** `[[job_id, [finalized statuses...]], ...]` */
export const JobDependencySchema = z.tuple([DependencyJobIdSchema, z.array(DependencyJobStatusSchema)]);
export type JobDependency = z.infer<typeof JobDependencySchema>;
export const DependsSchema = z.array(JobDependencySchema);
export type Depends = z.infer<typeof DependsSchema>;

/**
 * One reason-trail entry `[source, reason, timestamp_ns]`. The timestamp is
 * nanoseconds since the epoch and exceeds 2^53, so it is a plain number here
 * (precision is lost by JSON.parse anyway).
 */
export const ReasonEntrySchema = z.tuple([z.string(), z.string(), z.number()]);
export type ReasonEntry = z.infer<typeof ReasonEntrySchema>;
export const ReasonTrailSchema = z.array(ReasonEntrySchema);
export type ReasonTrail = z.infer<typeof ReasonTrailSchema>;

// ---------------------------------------------------------------- parameter dicts

/** Deepest nesting of arrays/objects any opcode dict may carry. */
export const MAX_JSON_DEPTH = 32;

/** True when `value` nests arrays/objects deeper than `max` (iterative: no stack overflow). */
export function jsonDepthExceeds(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d + 1 > max) return true;
    const items = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const x of items) if (x !== null && typeof x === "object") stack.push([x, d + 1]);
  }
  return false;
}

/**
 * Any JSON object (Ganeti's `JSObject JSValue` / ht.TDict), nested at most
 * MAX_JSON_DEPTH levels: deeper dicts are refused instead of stored (Ganeti's
 * own client cannot read them back).
 */
export const JsonObjectSchema = z
  .record(z.string(), z.unknown())
  .refine((o) => !jsonDepthExceeds(o, MAX_JSON_DEPTH), { message: `Nested deeper than ${MAX_JSON_DEPTH} levels` });
export type JsonObject = z.infer<typeof JsonObjectSchema>;

export const HvParamsSchema = JsonObjectSchema;
export type HvParams = JsonObject;
export const BeParamsSchema = JsonObjectSchema;
export type BeParams = JsonObject;
export const OsParamsSchema = JsonObjectSchema;
export type OsParams = JsonObject;
export const NdParamsSchema = JsonObjectSchema;
export type NdParams = JsonObject;
/** Instance policy dict (Ganeti's doc/rapi.rst, instance policy); checked semantically by the LU. */
export const IpolicyParamsSchema = JsonObjectSchema;
export type IpolicyParams = JsonObject;
export const HvStateSchema = JsonObjectSchema;
export const DiskStateSchema = JsonObjectSchema;

/** `{hypervisor|os name: {param: value}}` (cluster hvparams, os_hvp, osparams). */
export const NestedParamsSchema = z.record(z.string(), JsonObjectSchema);
export type NestedParams = z.infer<typeof NestedParamsSchema>;

/** `{disk_template: {param: value}}`; keys must be disk templates. */
export const DiskParamsSchema = z
  .record(z.string(), JsonObjectSchema)
  .refine((d) => Object.keys(d).every((k) => (DISK_TEMPLATES as readonly string[]).includes(k)), {
    message: "diskparams keys must be disk templates",
  });
export type DiskParams = z.infer<typeof DiskParamsSchema>;

// ---------------------------------------------------------------- NICs and disks

/** Keys allowed in a NIC dict (constants.INIC_PARAMS). */
export const NIC_PARAM_KEYS = ["bridge", "ip", "link", "mac", "mode", "name", "network", "vlan"] as const;

/**
 * A NIC dict for instance create / modify, and cluster nicparams: only the
 * known keys, each a string or null (Ganeti's INicParams).
 */
export const NicParamsSchema = z.strictObject({
  bridge: z.string().nullable().optional(),
  ip: z.string().nullable().optional(),
  link: z.string().nullable().optional(),
  mac: z.string().nullable().optional(),
  mode: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  network: z.string().nullable().optional(),
  vlan: z.string().nullable().optional(),
});
export type NicParams = z.infer<typeof NicParamsSchema>;

/** Keys with a meaning in a disk dict (constants.IDISK_PARAMS); ext disks may add provider params. */
export const DISK_PARAM_KEYS = ["size", "spindles", "mode", "adopt", "vg", "metavg", "provider", "access", "name", "type"] as const;

/**
 * A disk dict as the opcode accepts it (Ganeti's IDiskParams): non-empty
 * string keys, values a non-empty string or an int. `size` may be a unit
 * string ("1G"); it is converted with parseUnitSize when the job runs.
 */
export const DiskParamsDictSchema = z.record(NonEmptyStringSchema, z.union([NonEmptyStringSchema, IntSchema]));
export type DiskParamsDict = z.infer<typeof DiskParamsDictSchema>;

/**
 * A typed disk spec for clients (SDK/provider input). Stricter than the
 * opcode check: known keys typed, size must parse. Extra provider params
 * (ext template) are allowed as strings.
 */
export const DiskSpecSchema = z
  .object({
    size: UnitSizeSchema.optional(),
    mode: DiskModeSchema.optional(),
    name: NonEmptyStringSchema.optional(),
    vg: NonEmptyStringSchema.optional(),
    metavg: NonEmptyStringSchema.optional(),
    spindles: NonNegativeIntSchema.optional(),
    adopt: NonEmptyStringSchema.optional(),
    provider: NonEmptyStringSchema.optional(),
    access: DiskAccessModeSchema.optional(),
    type: NonEmptyStringSchema.optional(),
  })
  .catchall(z.union([NonEmptyStringSchema, IntSchema]));
export type DiskSpec = z.infer<typeof DiskSpecSchema>;

/** A typed NIC spec for clients (same keys as NicParamsSchema, mode checked). */
export const NicSpecSchema = NicParamsSchema.extend({ mode: NicModeSchema.nullable().optional() });
export type NicSpec = z.infer<typeof NicSpecSchema>;

// ---------------------------------------------------------------- modification lists (instance modify)

/**
 * Builds Ganeti's SetParamsMods check for disk or NIC changes
 * (Ganeti's doc/rapi.rst, /2/instances/[name]/modify): either every item is `[action, identifier, params]`
 * (identifier: int index, -1 = last, or a name/UUID string) or every item is
 * the legacy `[action | index>=0, params]`.
 */
export function modificationListSchema<T extends z.ZodType>(params: T) {
  const item3 = z.tuple([DdmActionSchema, z.union([IntSchema, z.string()]), params]);
  const item2 = z.tuple([z.union([DdmSimpleSchema, NonNegativeIntSchema]), params]);
  return z.union([z.array(item3), z.array(item2)]);
}

export const DiskModificationsSchema = modificationListSchema(DiskParamsDictSchema);
export type DiskModifications = z.infer<typeof DiskModificationsSchema>;
export const NicModificationsSchema = modificationListSchema(NicParamsSchema);
export type NicModifications = z.infer<typeof NicModificationsSchema>;

// ---------------------------------------------------------------- IP addresses (Python ipaddress semantics)

function parseIPv4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    // ipaddress rejects leading zeros and anything but 1-3 decimal digits
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith("0"))) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

/** Parses an IPv6 address into 8 16-bit groups, or null. */
function parseIPv6(s: string): number[] | null {
  if (s.length === 0 || s.includes("%")) return null;
  let text = s;
  let tail: number[] = [];
  if (text.includes(".")) {
    // embedded dotted quad: the last two groups
    const lastColon = text.lastIndexOf(":");
    if (lastColon < 0) return null;
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = text.slice(0, lastColon + 1);
    text = text.endsWith("::") ? text : text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === "") return [];
    const res: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      res.push(parseInt(g, 16));
    }
    return res;
  };
  const head = parseGroups(halves[0] as string);
  const rest = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (!head || !rest) return null;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 2) {
    // "::" stands for at least one zero group
    if (explicit > 7) return null;
    return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
  }
  if (explicit !== 8) return null;
  return [...head, ...tail];
}

function hostBitsZero(bytesOrGroups: number[], bitsPerItem: number, prefix: number): boolean {
  for (let i = 0; i < bytesOrGroups.length; i++) {
    const start = i * bitsPerItem;
    const keep = Math.max(0, Math.min(bitsPerItem, prefix - start));
    const mask = keep === bitsPerItem ? 0 : (1 << (bitsPerItem - keep)) - 1;
    if ((bytesOrGroups[i]! & mask) !== 0) return false;
  }
  return true;
}

export function isIPv4Address(s: string): boolean {
  return parseIPv4(s) !== null;
}

export function isIPv6Address(s: string): boolean {
  return parseIPv6(s) !== null;
}

/** Python's ipaddress.IPv4Network (strict): "a.b.c.d[/prefix]", no host bits set. */
export function isIPv4Network(s: string): boolean {
  const [addr, prefixText, extra] = s.split("/");
  if (extra !== undefined || addr === undefined) return false;
  const bytes = parseIPv4(addr);
  if (!bytes) return false;
  let prefix = 32;
  if (prefixText !== undefined) {
    if (!/^\d{1,2}$/.test(prefixText)) return false;
    prefix = Number(prefixText);
    if (prefix > 32) return false;
  }
  return hostBitsZero(bytes, 8, prefix);
}

/** Python's ipaddress.IPv6Network (strict). */
export function isIPv6Network(s: string): boolean {
  const [addr, prefixText, extra] = s.split("/");
  if (extra !== undefined || addr === undefined) return false;
  const groups = parseIPv6(addr);
  if (!groups) return false;
  let prefix = 128;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return false;
    prefix = Number(prefixText);
    if (prefix > 128) return false;
  }
  return hostBitsZero(groups, 16, prefix);
}

export const IPv4AddressSchema = z.string().refine(isIPv4Address, { message: "Invalid IPv4 address" });
export const IPv6AddressSchema = z.string().refine(isIPv6Address, { message: "Invalid IPv6 address" });
export const IPv4NetworkSchema = z.string().refine(isIPv4Network, { message: "Invalid IPv4 network" });
export const IPv6NetworkSchema = z.string().refine(isIPv6Network, { message: "Invalid IPv6 network" });

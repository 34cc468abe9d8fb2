// Cluster verification opcodes (gnt-cluster verify, verify-disks,
// repair-disk-sizes) and the table of Ganeti's verify error codes.
import { z } from "zod";
import { NonEmptyStringSchema, NonNegativeIntSchema } from "../common.js";
import { defaultFalse, defineOpcode, optional } from "./params.js";

/**
 * Ganeti's cluster-verify error codes: code → [item type, description].
 * A reported problem names its item by this type ("cluster", "node",
 * "instance", "group") in the message `ERROR:ECODE:type:item:text`.
 */
export const CV_ERROR_CODES = {
  ECLUSTERCERT: ["cluster", "Cluster certificate files verification failure"],
  ECLUSTERCLIENTCERT: ["cluster", "Cluster client certificate files verification failure"],
  ECLUSTERCFG: ["cluster", "Cluster configuration verification failure"],
  ECLUSTERDANGLINGINST: ["node", "Some instances have a non-existing primary node"],
  ECLUSTERDANGLINGNODES: ["node", "Some nodes belong to non-existing groups"],
  ECLUSTERFILECHECK: ["cluster", "Cluster configuration verification failure"],
  EEXTAGS: ["node", "Instances with same exclusion tag on the same node"],
  EGROUPDIFFERENTPVSIZE: ["group", "PVs in the group have different sizes"],
  EINSTANCEBADNODE: ["instance", "Instance marked as running lives on an offline node"],
  EINSTANCEDOWN: ["instance", "Instance not running on its primary node"],
  EINSTANCEFAULTYDISK: ["instance", "Impossible to retrieve status for a disk"],
  EINSTANCELAYOUT: ["instance", "Instance has multiple secondary nodes"],
  EINSTANCEMISSINGCFGPARAMETER: ["instance", "A configuration parameter for an instance is missing"],
  EINSTANCEMISSINGDISK: ["instance", "Missing volume on an instance"],
  EINSTANCEPOLICY: ["instance", "Instance does not meet policy"],
  EINSTANCESPLITGROUPS: ["instance", "Instance with primary and secondary nodes in different groups"],
  EINSTANCEUNSUITABLENODE: ["instance", "Instance running on nodes that are not suitable for it"],
  EINSTANCEWRONGNODE: ["instance", "Instance running on the wrong node"],
  ENODEDRBD: ["node", "Error parsing the DRBD status file"],
  ENODEDRBDHELPER: ["node", "Error caused by the DRBD helper"],
  ENODEDRBDVERSION: ["node", "DRBD version mismatch within a node group"],
  ENODEFILECHECK: ["node", "Error retrieving the checksum of the node files"],
  ENODEFILESTORAGEPATHS: ["node", "Detected bad file storage paths"],
  ENODEFILESTORAGEPATHUNUSABLE: ["node", "File storage path unusable"],
  ENODEGLUSTERSTORAGEPATHUNUSABLE: ["node", "Gluster storage path unusable"],
  ENODEHOOKS: ["node", "Communication failure in hooks execution"],
  ENODEHV: ["node", "Hypervisor parameters verification failure"],
  ENODELVM: ["node", "LVM-related node error"],
  ENODEN1: ["node", "Not enough memory to accommodate instance failovers"],
  ENODENET: ["node", "Network-related node error"],
  ENODEOOBPATH: ["node", "Invalid Out Of Band path"],
  ENODEORPHANINSTANCE: ["node", "Unknown intance running on a node"],
  ENODEORPHANLV: ["node", "Unknown LVM logical volume"],
  ENODEOS: ["node", "OS-related node error"],
  ENODERPC: ["node", "Error during connection to the primary node of an instance"],
  ENODESETUP: ["node", "Node setup error"],
  ENODESHAREDFILESTORAGEPATHUNUSABLE: ["node", "Shared file storage path unusable"],
  ENODESSH: ["node", "SSH-related node error"],
  ENODETIME: ["node", "Node returned invalid time"],
  ENODEUSERSCRIPTS: ["node", "User scripts not present or not executable"],
  ENODEVERSION: ["node", "Protocol version mismatch or Ganeti version mismatch"],
} as const satisfies Record<string, readonly [string, string]>;

export type CvErrorCode = keyof typeof CV_ERROR_CODES;
export const CV_ERROR_CODE_NAMES = Object.keys(CV_ERROR_CODES).sort() as CvErrorCode[];
export const CvErrorCodeSchema = z.enum(CV_ERROR_CODE_NAMES as [CvErrorCode, ...CvErrorCode[]]);

/** Optional checks a verify can skip (Ganeti's VERIFY_OPTIONAL_CHECKS). */
export const VERIFY_NPLUSONE_MEM = "nplusone_mem";
export const VerifyOptionalCheckSchema = z.enum([VERIFY_NPLUSONE_MEM]);

/** Ganeti's TSetOf: a list without duplicates. */
const setOf = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .refine((xs) => new Set(xs.map((x) => JSON.stringify(x))).size === xs.length)
    .default(() => []);

export const OpClusterVerifySchema = defineOpcode("OP_CLUSTER_VERIFY", {
  debug_simulate_errors: defaultFalse(),
  error_codes: defaultFalse(),
  skip_checks: setOf(VerifyOptionalCheckSchema),
  ignore_errors: setOf(CvErrorCodeSchema),
  verbose: defaultFalse(),
  group_name: optional(z.string()),
  verify_clutter: defaultFalse(),
});
export type OpClusterVerify = z.infer<typeof OpClusterVerifySchema>;

export const OpClusterVerifyConfigSchema = defineOpcode("OP_CLUSTER_VERIFY_CONFIG", {
  debug_simulate_errors: defaultFalse(),
  error_codes: defaultFalse(),
  ignore_errors: setOf(CvErrorCodeSchema),
  verbose: defaultFalse(),
});
export type OpClusterVerifyConfig = z.infer<typeof OpClusterVerifyConfigSchema>;

export const OpClusterVerifyGroupSchema = defineOpcode("OP_CLUSTER_VERIFY_GROUP", {
  group_name: NonEmptyStringSchema,
  debug_simulate_errors: defaultFalse(),
  error_codes: defaultFalse(),
  skip_checks: setOf(VerifyOptionalCheckSchema),
  ignore_errors: setOf(CvErrorCodeSchema),
  verbose: defaultFalse(),
  verify_clutter: defaultFalse(),
});
export type OpClusterVerifyGroup = z.infer<typeof OpClusterVerifyGroupSchema>;

export const OpClusterVerifyDisksSchema = defineOpcode("OP_CLUSTER_VERIFY_DISKS", {
  group_name: optional(z.string()),
});
export type OpClusterVerifyDisks = z.infer<typeof OpClusterVerifyDisksSchema>;

export const OpGroupVerifyDisksSchema = defineOpcode("OP_GROUP_VERIFY_DISKS", {
  group_name: NonEmptyStringSchema,
});
export type OpGroupVerifyDisks = z.infer<typeof OpGroupVerifyDisksSchema>;

export const OpClusterRepairDiskSizesSchema = defineOpcode("OP_CLUSTER_REPAIR_DISK_SIZES", {
  instances: z.array(NonEmptyStringSchema).default(() => []),
});
export type OpClusterRepairDiskSizes = z.infer<typeof OpClusterRepairDiskSizesSchema>;

/** OP_CLUSTER_VERIFY_CONFIG / _GROUP: true when no error (warnings allowed) was found. */
export const VerifyResultSchema = z.boolean();

/**
 * OP_GROUP_VERIFY_DISKS: `[{node: error}, [instances whose disks need
 * activating], {instance: [[node, volume], ...] missing volumes}]`.
 */
export const GroupVerifyDisksResultSchema = z.tuple([
  z.record(z.string(), z.string()),
  z.array(z.string()),
  z.record(z.string(), z.array(z.array(z.string()))),
]);
export type GroupVerifyDisksResult = z.infer<typeof GroupVerifyDisksResultSchema>;

/** OP_CLUSTER_REPAIR_DISK_SIZES: `[[instance, disk index, "size"|"spindles", new value], ...]`. */
export const RepairDiskSizesResultSchema = z.array(
  z.tuple([NonEmptyStringSchema, NonNegativeIntSchema, NonEmptyStringSchema, NonNegativeIntSchema]),
);
export type RepairDiskSizesResult = z.infer<typeof RepairDiskSizesResultSchema>;

// The opcode registry: every opcode schema, the union discriminated on
// OP_ID, and the OPCODES table (schema, Python class name, summary field,
// result schema).
import { z } from "zod";
import { OpBackupExportSchema, OpBackupPrepareSchema } from "./backup.js";
import { OpClusterQuerySchema, OpClusterRedistConfSchema, OpClusterSetParamsSchema } from "./cluster.js";
import { OpGroupAddSchema, OpGroupAssignNodesSchema, OpGroupRemoveSchema, OpGroupRenameSchema, OpGroupSetParamsSchema } from "./group.js";
import {
  OpInstanceActivateDisksSchema,
  OpInstanceConsoleSchema,
  OpInstanceCreateSchema,
  OpInstanceDeactivateDisksSchema,
  OpInstanceFailoverSchema,
  OpInstanceGrowDiskSchema,
  OpInstanceMigrateSchema,
  OpInstanceMultiAllocSchema,
  OpInstanceQueryDataSchema,
  OpInstanceRebootSchema,
  OpInstanceRecreateDisksSchema,
  OpInstanceReinstallSchema,
  OpInstanceRemoveSchema,
  OpInstanceRenameSchema,
  OpInstanceReplaceDisksSchema,
  OpInstanceSetParamsSchema,
  OpInstanceShutdownSchema,
  OpInstanceStartupSchema,
} from "./instance.js";
import {
  OpNetworkAddSchema,
  OpNetworkConnectSchema,
  OpNetworkDisconnectSchema,
  OpNetworkRemoveSchema,
  OpNetworkSetParamsSchema,
} from "./network.js";
import {
  OpNodeAddSchema,
  OpNodeEvacuateSchema,
  OpNodeMigrateSchema,
  OpNodeModifyStorageSchema,
  OpNodePowercycleSchema,
  OpNodeQueryStorageSchema,
  OpNodeQueryvolsSchema,
  OpNodeRemoveSchema,
  OpNodeSetParamsSchema,
  OpRepairNodeStorageSchema,
} from "./node.js";
import { OpOsDiagnoseSchema } from "./os.js";
import { OpQueryFieldsSchema, OpQuerySchema } from "./query.js";
import {
  ActivateDisksResultSchema,
  BackupExportResultSchema,
  ChangesResultSchema,
  DictResultSchema,
  InstanceMultiAllocResultSchema,
  JobIdListOnlySchema,
  MaybeJobsResultSchema,
  NameListResultSchema,
  NameResultSchema,
  NoneResultSchema,
  OpQueryFieldsResultSchema,
  OpQueryResultSchema,
  RowsResultSchema,
} from "./results.js";
import { OpTagsDelSchema, OpTagsGetSchema, OpTagsSetSchema } from "./tags.js";
import { OpTestDelaySchema } from "./test.js";
import { OobCommandResultSchema, OpOobCommandSchema } from "./oob.js";
import {
  GroupVerifyDisksResultSchema,
  OpClusterRepairDiskSizesSchema,
  OpClusterVerifyConfigSchema,
  OpClusterVerifyDisksSchema,
  OpClusterVerifyGroupSchema,
  OpClusterVerifySchema,
  OpGroupVerifyDisksSchema,
  RepairDiskSizesResultSchema,
  VerifyResultSchema,
} from "./verify.js";

const ALL_OPCODE_SCHEMAS = [
  OpBackupExportSchema,
  OpBackupPrepareSchema,
  OpClusterQuerySchema,
  OpClusterRedistConfSchema,
  OpClusterSetParamsSchema,
  OpClusterRepairDiskSizesSchema,
  OpClusterVerifySchema,
  OpClusterVerifyConfigSchema,
  OpClusterVerifyDisksSchema,
  OpClusterVerifyGroupSchema,
  OpGroupAddSchema,
  OpGroupAssignNodesSchema,
  OpGroupRemoveSchema,
  OpGroupRenameSchema,
  OpGroupSetParamsSchema,
  OpGroupVerifyDisksSchema,
  OpInstanceActivateDisksSchema,
  OpInstanceConsoleSchema,
  OpInstanceCreateSchema,
  OpInstanceDeactivateDisksSchema,
  OpInstanceFailoverSchema,
  OpInstanceGrowDiskSchema,
  OpInstanceMigrateSchema,
  OpInstanceMultiAllocSchema,
  OpInstanceQueryDataSchema,
  OpInstanceRebootSchema,
  OpInstanceRecreateDisksSchema,
  OpInstanceReinstallSchema,
  OpInstanceRemoveSchema,
  OpInstanceRenameSchema,
  OpInstanceReplaceDisksSchema,
  OpInstanceSetParamsSchema,
  OpInstanceShutdownSchema,
  OpInstanceStartupSchema,
  OpNetworkAddSchema,
  OpNetworkConnectSchema,
  OpNetworkDisconnectSchema,
  OpNetworkRemoveSchema,
  OpNetworkSetParamsSchema,
  OpNodeAddSchema,
  OpNodeEvacuateSchema,
  OpNodeMigrateSchema,
  OpNodeModifyStorageSchema,
  OpNodePowercycleSchema,
  OpNodeQueryStorageSchema,
  OpNodeQueryvolsSchema,
  OpNodeRemoveSchema,
  OpNodeSetParamsSchema,
  OpOobCommandSchema,
  OpOsDiagnoseSchema,
  OpQuerySchema,
  OpQueryFieldsSchema,
  OpRepairNodeStorageSchema,
  OpTagsDelSchema,
  OpTagsGetSchema,
  OpTagsSetSchema,
  OpTestDelaySchema,
] as const;

/** Any opcode, discriminated on OP_ID. Parsing fills every default. */
export const OpcodeSchema = z.discriminatedUnion("OP_ID", ALL_OPCODE_SCHEMAS);
export type Opcode = z.infer<typeof OpcodeSchema>;
export type OpcodeId = Opcode["OP_ID"];
/** The opcode type for one OP_ID. */
export type OpcodeOf<Id extends OpcodeId> = Extract<Opcode, { OP_ID: Id }>;
/** The opcode as a caller may write it before defaults are applied. */
export type OpcodeInput = z.input<typeof OpcodeSchema>;

export interface OpcodeDef {
  /** z.strictObject with OP_ID literal, own params (Ganeti order), then common params. */
  readonly schema: z.ZodObject<z.ZodRawShape>;
  /** Ganeti's Python class name, used in "Object OpX doesn't support the parameter 'y'". */
  readonly className: string;
  /**
   * The field shown in the job summary, e.g. INSTANCE_STARTUP(web1) uses
   * instance_name (Ganeti 3.0's opSummaryVal); absent = summary is the bare
   * name without the OP_ prefix.
   */
  readonly summaryField?: string;
  /** Schema of the opcode's result when it succeeds. */
  readonly result: z.ZodType;
}

/** "OP_INSTANCE_SHUTDOWN" → "OpInstanceShutdown" (holds for every OP_ID we implement). */
export function opcodeClassName(opId: string): string {
  const parts = opId.replace(/^OP_/, "").split("_");
  return "Op" + parts.map((p) => p.charAt(0) + p.slice(1).toLowerCase()).join("");
}

function def(schema: z.ZodObject<z.ZodRawShape>, result: z.ZodType, summaryField?: string): OpcodeDef {
  const opId = (schema.shape["OP_ID"] as z.ZodLiteral<string>).value;
  return summaryField === undefined
    ? { schema, className: opcodeClassName(opId), result }
    : { schema, className: opcodeClassName(opId), result, summaryField };
}

export const OPCODES: Record<OpcodeId, OpcodeDef> = {
  OP_BACKUP_EXPORT: def(OpBackupExportSchema, BackupExportResultSchema, "instance_name"),
  OP_BACKUP_PREPARE: def(OpBackupPrepareSchema, DictResultSchema.nullable(), "instance_name"),
  OP_CLUSTER_QUERY: def(OpClusterQuerySchema, DictResultSchema),
  OP_CLUSTER_REDIST_CONF: def(OpClusterRedistConfSchema, NoneResultSchema),
  OP_CLUSTER_SET_PARAMS: def(OpClusterSetParamsSchema, MaybeJobsResultSchema),
  OP_CLUSTER_REPAIR_DISK_SIZES: def(OpClusterRepairDiskSizesSchema, RepairDiskSizesResultSchema),
  OP_CLUSTER_VERIFY: def(OpClusterVerifySchema, JobIdListOnlySchema),
  OP_CLUSTER_VERIFY_CONFIG: def(OpClusterVerifyConfigSchema, VerifyResultSchema),
  OP_CLUSTER_VERIFY_DISKS: def(OpClusterVerifyDisksSchema, JobIdListOnlySchema),
  OP_CLUSTER_VERIFY_GROUP: def(OpClusterVerifyGroupSchema, VerifyResultSchema, "group_name"),
  OP_GROUP_ADD: def(OpGroupAddSchema, MaybeJobsResultSchema, "group_name"),
  OP_GROUP_ASSIGN_NODES: def(OpGroupAssignNodesSchema, NoneResultSchema, "group_name"),
  OP_GROUP_REMOVE: def(OpGroupRemoveSchema, NoneResultSchema, "group_name"),
  // Ganeti shows no field for renames (GROUP_RENAME, INSTANCE_RENAME).
  OP_GROUP_RENAME: def(OpGroupRenameSchema, NameResultSchema),
  OP_GROUP_SET_PARAMS: def(OpGroupSetParamsSchema, ChangesResultSchema, "group_name"),
  OP_GROUP_VERIFY_DISKS: def(OpGroupVerifyDisksSchema, GroupVerifyDisksResultSchema, "group_name"),
  OP_INSTANCE_ACTIVATE_DISKS: def(OpInstanceActivateDisksSchema, ActivateDisksResultSchema, "instance_name"),
  OP_INSTANCE_CONSOLE: def(OpInstanceConsoleSchema, DictResultSchema, "instance_name"),
  OP_INSTANCE_CREATE: def(OpInstanceCreateSchema, NameListResultSchema, "instance_name"),
  OP_INSTANCE_DEACTIVATE_DISKS: def(OpInstanceDeactivateDisksSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_FAILOVER: def(OpInstanceFailoverSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_GROW_DISK: def(OpInstanceGrowDiskSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_MIGRATE: def(OpInstanceMigrateSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_MULTI_ALLOC: def(OpInstanceMultiAllocSchema, InstanceMultiAllocResultSchema),
  OP_INSTANCE_QUERY_DATA: def(OpInstanceQueryDataSchema, z.record(z.string(), DictResultSchema)),
  OP_INSTANCE_REBOOT: def(OpInstanceRebootSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_RECREATE_DISKS: def(OpInstanceRecreateDisksSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_REINSTALL: def(OpInstanceReinstallSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_REMOVE: def(OpInstanceRemoveSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_RENAME: def(OpInstanceRenameSchema, NameResultSchema),
  OP_INSTANCE_REPLACE_DISKS: def(OpInstanceReplaceDisksSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_SET_PARAMS: def(OpInstanceSetParamsSchema, ChangesResultSchema, "instance_name"),
  OP_INSTANCE_SHUTDOWN: def(OpInstanceShutdownSchema, NoneResultSchema, "instance_name"),
  OP_INSTANCE_STARTUP: def(OpInstanceStartupSchema, NoneResultSchema, "instance_name"),
  OP_NETWORK_ADD: def(OpNetworkAddSchema, NoneResultSchema, "network_name"),
  OP_NETWORK_CONNECT: def(OpNetworkConnectSchema, NoneResultSchema, "network_name"),
  OP_NETWORK_DISCONNECT: def(OpNetworkDisconnectSchema, NoneResultSchema, "network_name"),
  OP_NETWORK_REMOVE: def(OpNetworkRemoveSchema, NoneResultSchema, "network_name"),
  OP_NETWORK_SET_PARAMS: def(OpNetworkSetParamsSchema, NoneResultSchema, "network_name"),
  OP_NODE_ADD: def(OpNodeAddSchema, NoneResultSchema, "node_name"),
  OP_NODE_EVACUATE: def(OpNodeEvacuateSchema, JobIdListOnlySchema, "node_name"),
  OP_NODE_MIGRATE: def(OpNodeMigrateSchema, JobIdListOnlySchema, "node_name"),
  OP_NODE_MODIFY_STORAGE: def(OpNodeModifyStorageSchema, NoneResultSchema, "node_name"),
  OP_NODE_POWERCYCLE: def(OpNodePowercycleSchema, NameResultSchema.nullable(), "node_name"),
  OP_NODE_QUERY_STORAGE: def(OpNodeQueryStorageSchema, RowsResultSchema),
  OP_NODE_QUERYVOLS: def(OpNodeQueryvolsSchema, RowsResultSchema),
  OP_NODE_REMOVE: def(OpNodeRemoveSchema, NoneResultSchema, "node_name"),
  OP_NODE_SET_PARAMS: def(OpNodeSetParamsSchema, ChangesResultSchema, "node_name"),
  OP_OOB_COMMAND: def(OpOobCommandSchema, OobCommandResultSchema),
  OP_OS_DIAGNOSE: def(OpOsDiagnoseSchema, RowsResultSchema),
  OP_QUERY: def(OpQuerySchema, OpQueryResultSchema, "what"),
  OP_QUERY_FIELDS: def(OpQueryFieldsSchema, OpQueryFieldsResultSchema, "what"),
  OP_REPAIR_NODE_STORAGE: def(OpRepairNodeStorageSchema, NoneResultSchema, "node_name"),
  OP_TAGS_DEL: def(OpTagsDelSchema, NoneResultSchema),
  // Ganeti 3.0 summarises TAGS_GET by its kind (TAGS_SET/TAGS_DEL have none).
  OP_TAGS_GET: def(OpTagsGetSchema, NameListResultSchema, "kind"),
  OP_TAGS_SET: def(OpTagsSetSchema, NoneResultSchema),
  OP_TEST_DELAY: def(OpTestDelaySchema, NoneResultSchema, "duration"),
};

/** Every OP_ID we implement, in alphabetical order. */
export const OPCODE_IDS = Object.keys(OPCODES).sort() as OpcodeId[];

export function isOpcodeId(value: unknown): value is OpcodeId {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(OPCODES, value);
}

/** Parameter names of an opcode in Ganeti's validation order (own, then common); OP_ID excluded. */
export function opcodeParamNames(opId: OpcodeId): string[] {
  return Object.keys(OPCODES[opId].schema.shape).filter((k) => k !== "OP_ID");
}

/** Haskell's `show` of a Double, as Ganeti 3.0 prints TEST_DELAY(1.0). */
function haskellShowDouble(x: number): string {
  const abs = Math.abs(x);
  if (x === 0) return "0.0";
  if (abs >= 0.1 && abs < 1e7) {
    const s = String(x);
    return s.includes(".") ? s : `${s}.0`;
  }
  const [mant, exp] = x.toExponential().split("e") as [string, string];
  const m = mant.includes(".") ? mant : `${mant}.0`;
  return `${m}e${exp.replace(/^\+/, "")}`;
}

/**
 * The job-summary string of an opcode, as Ganeti 3.0 computes it:
 * OP_ID without "OP_", plus "(value)" of the summary field when there is one,
 * e.g. "INSTANCE_STARTUP(web1)", "GROUP_RENAME", "TEST_DELAY(1.0)".
 */
export function opcodeSummary(op: { OP_ID: string } & Record<string, unknown>): string {
  const base = op.OP_ID.replace(/^OP_/, "");
  const field = isOpcodeId(op.OP_ID) ? OPCODES[op.OP_ID].summaryField : undefined;
  if (field === undefined) return base;
  const value = op[field];
  const text =
    op.OP_ID === "OP_TEST_DELAY" && typeof value === "number"
      ? haskellShowDouble(value)
      : Array.isArray(value)
        ? value.map(String).join(",")
        : String(value);
  return `${base}(${text})`;
}

/** Optional parameters Ganeti 3.0 writes as `null` when unset (all others are omitted). */
const NULL_SERIALISED_PARAMS = new Set(["comment", "depends"]);

/**
 * The opcode dict as Ganeti 3.0's job queue stores and returns it in
 * `GET /2/jobs/[id]` `ops`: optional parameters that are unset (null) are
 * left out, except `comment` and `depends`, which appear as null (observed
 * in the oracle captures; luxid serialises Maybe fields that way). Parsing
 * with OpcodeSchema restores the nulls.
 */
export function toGanetiOpcodeDict(op: { OP_ID: string } & Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(op)) {
    if (v === null && !NULL_SERIALISED_PARAMS.has(k)) continue;
    out[k] = v;
  }
  return out;
}

// Node opcodes.
import { z } from "zod";
import { EvacuateModeSchema, JsonObjectSchema, NonEmptyStringSchema, StorageTypeSchema } from "../common.js";
import {
  defaultFalse,
  defaultNameList,
  defineOpcode,
  migrationShape,
  diskState,
  hvState,
  ndparams,
  nodeRefShape,
  optional,
  optionalBool,
  optionalNonEmptyString,
} from "./params.js";

export const OpNodeEvacuateSchema = defineOpcode("OP_NODE_EVACUATE", {
  early_release: defaultFalse(),
  ...nodeRefShape(),
  remote_node: optionalNonEmptyString(),
  remote_node_uuid: optionalNonEmptyString(),
  iallocator: optionalNonEmptyString(),
  mode: EvacuateModeSchema,
  ignore_soft_errors: optionalBool(),
});
export type OpNodeEvacuate = z.infer<typeof OpNodeEvacuateSchema>;

export const OpNodeMigrateSchema = defineOpcode("OP_NODE_MIGRATE", {
  ...nodeRefShape(),
  ...migrationShape(),
  iallocator: optionalNonEmptyString(),
});
export type OpNodeMigrate = z.infer<typeof OpNodeMigrateSchema>;

export const OpNodeModifyStorageSchema = defineOpcode("OP_NODE_MODIFY_STORAGE", {
  ...nodeRefShape(),
  storage_type: StorageTypeSchema,
  name: optionalNonEmptyString(),
  changes: JsonObjectSchema,
});
export type OpNodeModifyStorage = z.infer<typeof OpNodeModifyStorageSchema>;

export const OpNodePowercycleSchema = defineOpcode("OP_NODE_POWERCYCLE", {
  ...nodeRefShape(),
  force: defaultFalse(),
});
export type OpNodePowercycle = z.infer<typeof OpNodePowercycleSchema>;

export const OpNodeQueryStorageSchema = defineOpcode("OP_NODE_QUERY_STORAGE", {
  output_fields: z.array(NonEmptyStringSchema),
  storage_type: optional(StorageTypeSchema),
  nodes: defaultNameList(),
  name: optionalNonEmptyString(),
});
export type OpNodeQueryStorage = z.infer<typeof OpNodeQueryStorageSchema>;

/** gnt node volumes (Ganeti's OpNodeQueryvols): one row of strings per volume. */
export const OpNodeQueryvolsSchema = defineOpcode("OP_NODE_QUERYVOLS", {
  output_fields: z.array(NonEmptyStringSchema),
  nodes: defaultNameList(),
});
export type OpNodeQueryvols = z.infer<typeof OpNodeQueryvolsSchema>;

export const OpNodeSetParamsSchema = defineOpcode("OP_NODE_SET_PARAMS", {
  ...nodeRefShape(),
  force: defaultFalse(),
  hv_state: hvState(),
  disk_state: diskState(),
  master_candidate: optionalBool(),
  offline: optionalBool(),
  drained: optionalBool(),
  auto_promote: defaultFalse(),
  master_capable: optionalBool(),
  vm_capable: optionalBool(),
  secondary_ip: optionalNonEmptyString(),
  ndparams: ndparams(),
  powered: optionalBool(),
});
export type OpNodeSetParams = z.infer<typeof OpNodeSetParamsSchema>;

export const OpRepairNodeStorageSchema = defineOpcode("OP_REPAIR_NODE_STORAGE", {
  ...nodeRefShape(),
  storage_type: StorageTypeSchema,
  name: optionalNonEmptyString(),
  ignore_consistency: defaultFalse(),
});
export type OpRepairNodeStorage = z.infer<typeof OpRepairNodeStorageSchema>;

/**
 * Add a node (not RAPI-reachable in Ganeti; `gnt node add` submits it on the
 * master's local socket). ganeti-ts extension: rpc_address/rpc_port say where
 * the new node's daemon listens (default: primary_ip and the master's port).
 */
export const OpNodeAddSchema = defineOpcode("OP_NODE_ADD", {
  node_name: NonEmptyStringSchema,
  primary_ip: optionalNonEmptyString(),
  secondary_ip: optionalNonEmptyString(),
  readd: defaultFalse(),
  group: optionalNonEmptyString(),
  master_capable: optionalBool(),
  vm_capable: optionalBool(),
  ndparams: ndparams(),
  hv_state: hvState(),
  disk_state: diskState(),
  node_setup: defaultFalse(),
  rpc_address: optionalNonEmptyString(),
  rpc_port: optional(z.number().int().min(1).max(65535)),
});
export type OpNodeAdd = z.infer<typeof OpNodeAddSchema>;

/** Remove a node (no instances may use it; never the master). */
export const OpNodeRemoveSchema = defineOpcode("OP_NODE_REMOVE", {
  ...nodeRefShape(),
});
export type OpNodeRemove = z.infer<typeof OpNodeRemoveSchema>;

// Instance opcodes (Ganeti 3.0 OpCodes.hs order of parameters).
import { z } from "zod";
import {
  AdminStateSourceSchema,
  DiskIndexSchema,
  DiskModificationsSchema,
  DiskParamsDictSchema,
  DiskTemplateSchema,
  FileDriverSchema,
  HypervisorSchema,
  InstanceCreateModeSchema,
  InstanceNameSchema,
  IntSchema,
  NicModificationsSchema,
  NicParamsSchema,
  NonEmptyStringSchema,
  NonNegativeIntSchema,
  PositiveIntSchema,
  RebootTypeSchema,
  ReplaceDisksModeSchema,
} from "../common.js";
import {
  defaultDict,
  defaultFalse,
  defaultNameList,
  defaultTrue,
  defineOpcode,
  migrationShape,
  instanceRefShape,
  optional,
  optionalBool,
  optionalDict,
  optionalNameList,
  optionalNonEmptyString,
  shutdownTimeout,
} from "./params.js";

export const OpInstanceActivateDisksSchema = defineOpcode("OP_INSTANCE_ACTIVATE_DISKS", {
  ...instanceRefShape(),
  ignore_size: defaultFalse(),
  wait_for_sync: defaultFalse(),
});
export type OpInstanceActivateDisks = z.infer<typeof OpInstanceActivateDisksSchema>;

export const OpInstanceConsoleSchema = defineOpcode("OP_INSTANCE_CONSOLE", {
  ...instanceRefShape(),
});
export type OpInstanceConsole = z.infer<typeof OpInstanceConsoleSchema>;

/** Instance creation (Ganeti's doc/rapi.rst, request version 1). Disk sizes may be unit strings. */
export const OpInstanceCreateSchema = defineOpcode("OP_INSTANCE_CREATE", {
  instance_name: InstanceNameSchema,
  force_variant: defaultFalse(),
  wait_for_sync: defaultTrue(),
  name_check: defaultTrue(),
  ignore_ipolicy: defaultFalse(),
  opportunistic_locking: defaultFalse(),
  beparams: defaultDict(),
  disks: z.array(DiskParamsDictSchema),
  disk_template: optional(DiskTemplateSchema),
  group_name: optionalNonEmptyString(),
  file_driver: optional(FileDriverSchema),
  file_storage_dir: optionalNonEmptyString(),
  hvparams: defaultDict(),
  hypervisor: optional(HypervisorSchema),
  iallocator: optionalNonEmptyString(),
  identify_defaults: defaultFalse(),
  ip_check: defaultTrue(),
  conflicts_check: defaultTrue(),
  mode: InstanceCreateModeSchema,
  nics: z.array(NicParamsSchema),
  no_install: optionalBool(),
  osparams: defaultDict(),
  osparams_private: optionalDict(),
  osparams_secret: optionalDict(),
  os_type: optionalNonEmptyString(),
  pnode: optionalNonEmptyString(),
  pnode_uuid: optionalNonEmptyString(),
  snode: optionalNonEmptyString(),
  snode_uuid: optionalNonEmptyString(),
  source_handshake: optional(z.array(z.unknown())),
  source_instance_name: optionalNonEmptyString(),
  source_shutdown_timeout: shutdownTimeout(),
  source_x509_ca: optionalNonEmptyString(),
  src_node: optionalNonEmptyString(),
  src_node_uuid: optionalNonEmptyString(),
  src_path: optionalNonEmptyString(),
  compress: z.string().default("none"),
  start: defaultTrue(),
  forthcoming: defaultFalse(),
  commit: defaultFalse(),
  tags: defaultNameList(),
  instance_communication: defaultFalse(),
  helper_startup_timeout: optional(IntSchema),
  helper_shutdown_timeout: optional(IntSchema),
});
export type OpInstanceCreate = z.infer<typeof OpInstanceCreateSchema>;

export const OpInstanceDeactivateDisksSchema = defineOpcode("OP_INSTANCE_DEACTIVATE_DISKS", {
  ...instanceRefShape(),
  force: defaultFalse(),
});
export type OpInstanceDeactivateDisks = z.infer<typeof OpInstanceDeactivateDisksSchema>;

export const OpInstanceFailoverSchema = defineOpcode("OP_INSTANCE_FAILOVER", {
  ...instanceRefShape(),
  shutdown_timeout: shutdownTimeout(),
  ignore_consistency: defaultFalse(),
  target_node: optionalNonEmptyString(),
  target_node_uuid: optionalNonEmptyString(),
  ignore_ipolicy: defaultFalse(),
  cleanup: defaultFalse(),
  iallocator: optionalNonEmptyString(),
});
export type OpInstanceFailover = z.infer<typeof OpInstanceFailoverSchema>;

export const OpInstanceGrowDiskSchema = defineOpcode("OP_INSTANCE_GROW_DISK", {
  ...instanceRefShape(),
  wait_for_sync: defaultTrue(),
  disk: DiskIndexSchema,
  amount: NonNegativeIntSchema,
  absolute: defaultFalse(),
  ignore_ipolicy: defaultFalse(),
});
export type OpInstanceGrowDisk = z.infer<typeof OpInstanceGrowDiskSchema>;

export const OpInstanceMigrateSchema = defineOpcode("OP_INSTANCE_MIGRATE", {
  ...instanceRefShape(),
  ...migrationShape(),
  cleanup: defaultFalse(),
  iallocator: optionalNonEmptyString(),
  allow_failover: defaultFalse(),
  ignore_hvversions: defaultFalse(),
});
export type OpInstanceMigrate = z.infer<typeof OpInstanceMigrateSchema>;

/**
 * Several creations at once. `instances` holds OP_INSTANCE_CREATE dicts;
 * Ganeti's opcode check only requires a list (the RAPI handler validates each
 * element as an OpInstanceCreate body).
 */
export const OpInstanceMultiAllocSchema = defineOpcode("OP_INSTANCE_MULTI_ALLOC", {
  opportunistic_locking: defaultFalse(),
  iallocator: optionalNonEmptyString(),
  instances: z.array(z.unknown()).default(() => []),
});
export type OpInstanceMultiAlloc = z.infer<typeof OpInstanceMultiAllocSchema>;

export const OpInstanceQueryDataSchema = defineOpcode("OP_INSTANCE_QUERY_DATA", {
  use_locking: defaultFalse(),
  instances: defaultNameList(),
  static: defaultFalse(),
});
export type OpInstanceQueryData = z.infer<typeof OpInstanceQueryDataSchema>;

export const OpInstanceRebootSchema = defineOpcode("OP_INSTANCE_REBOOT", {
  ...instanceRefShape(),
  shutdown_timeout: shutdownTimeout(),
  ignore_secondaries: defaultFalse(),
  reboot_type: RebootTypeSchema,
});
export type OpInstanceReboot = z.infer<typeof OpInstanceRebootSchema>;

/** `disks`: indices, or `[index, diskparams]` pairs; empty = all disks. */
export const RecreateDisksInfoSchema = z.union([
  z.array(NonNegativeIntSchema),
  z.array(z.tuple([NonNegativeIntSchema, DiskParamsDictSchema])),
]);
export type RecreateDisksInfo = z.infer<typeof RecreateDisksInfoSchema>;

export const OpInstanceRecreateDisksSchema = defineOpcode("OP_INSTANCE_RECREATE_DISKS", {
  ...instanceRefShape(),
  disks: RecreateDisksInfoSchema.default(() => []),
  nodes: defaultNameList(),
  node_uuids: optionalNameList(),
  iallocator: optionalNonEmptyString(),
});
export type OpInstanceRecreateDisks = z.infer<typeof OpInstanceRecreateDisksSchema>;

export const OpInstanceReinstallSchema = defineOpcode("OP_INSTANCE_REINSTALL", {
  ...instanceRefShape(),
  force_variant: defaultFalse(),
  os_type: optionalNonEmptyString(),
  osparams: optionalDict(),
  osparams_private: optionalDict(),
  osparams_secret: optionalDict(),
});
export type OpInstanceReinstall = z.infer<typeof OpInstanceReinstallSchema>;

export const OpInstanceRemoveSchema = defineOpcode("OP_INSTANCE_REMOVE", {
  ...instanceRefShape(),
  shutdown_timeout: shutdownTimeout(),
  ignore_failures: defaultFalse(),
});
export type OpInstanceRemove = z.infer<typeof OpInstanceRemoveSchema>;

export const OpInstanceRenameSchema = defineOpcode("OP_INSTANCE_RENAME", {
  ...instanceRefShape(),
  new_name: NonEmptyStringSchema,
  name_check: defaultTrue(),
  ip_check: defaultTrue(),
});
export type OpInstanceRename = z.infer<typeof OpInstanceRenameSchema>;

export const OpInstanceReplaceDisksSchema = defineOpcode("OP_INSTANCE_REPLACE_DISKS", {
  ...instanceRefShape(),
  early_release: defaultFalse(),
  ignore_ipolicy: defaultFalse(),
  mode: ReplaceDisksModeSchema,
  disks: z.array(DiskIndexSchema).default(() => []),
  remote_node: optionalNonEmptyString(),
  remote_node_uuid: optionalNonEmptyString(),
  iallocator: optionalNonEmptyString(),
});
export type OpInstanceReplaceDisks = z.infer<typeof OpInstanceReplaceDisksSchema>;

/** Instance modify (Ganeti's doc/rapi.rst, /2/instances/[name]/modify). */
export const OpInstanceSetParamsSchema = defineOpcode("OP_INSTANCE_SET_PARAMS", {
  ...instanceRefShape(),
  force: defaultFalse(),
  force_variant: defaultFalse(),
  ignore_ipolicy: defaultFalse(),
  nics: NicModificationsSchema.default(() => []),
  disks: DiskModificationsSchema.default(() => []),
  beparams: defaultDict(),
  runtime_mem: optional(PositiveIntSchema),
  hvparams: defaultDict(),
  disk_template: optional(DiskTemplateSchema),
  ext_params: defaultDict(),
  file_driver: optional(FileDriverSchema),
  file_storage_dir: optionalNonEmptyString(),
  pnode: optionalNonEmptyString(),
  pnode_uuid: optionalNonEmptyString(),
  remote_node: optionalNonEmptyString(),
  remote_node_uuid: optionalNonEmptyString(),
  iallocator: optionalNonEmptyString(),
  os_name: optionalNonEmptyString(),
  osparams: defaultDict(),
  osparams_private: optionalDict(),
  wait_for_sync: defaultTrue(),
  offline: optionalBool(),
  conflicts_check: defaultTrue(),
  hotplug: defaultFalse(),
  hotplug_if_possible: defaultFalse(),
  instance_communication: optionalBool(),
});
export type OpInstanceSetParams = z.infer<typeof OpInstanceSetParamsSchema>;

export const OpInstanceShutdownSchema = defineOpcode("OP_INSTANCE_SHUTDOWN", {
  ...instanceRefShape(),
  force: defaultFalse(),
  ignore_offline_nodes: defaultFalse(),
  timeout: shutdownTimeout(),
  no_remember: defaultFalse(),
  admin_state_source: optional(AdminStateSourceSchema),
});
export type OpInstanceShutdown = z.infer<typeof OpInstanceShutdownSchema>;

export const OpInstanceStartupSchema = defineOpcode("OP_INSTANCE_STARTUP", {
  ...instanceRefShape(),
  force: defaultFalse(),
  ignore_offline_nodes: defaultFalse(),
  hvparams: defaultDict(),
  beparams: defaultDict(),
  no_remember: defaultFalse(),
  startup_paused: defaultFalse(),
  shutdown_timeout: shutdownTimeout(),
});
export type OpInstanceStartup = z.infer<typeof OpInstanceStartupSchema>;

// Cluster opcodes.
import { z } from "zod";
import {
  DdmSimpleSchema,
  DiskTemplateSchema,
  HypervisorSchema,
  IntSchema,
  JsonObjectSchema,
  NestedParamsSchema,
  NicParamsSchema,
  NonEmptyStringSchema,
  NonNegativeIntSchema,
  PositiveIntSchema,
} from "../common.js";
import {
  defaultFalse,
  defineOpcode,
  diskState,
  groupDiskParams,
  hvState,
  ipolicy,
  ndparams,
  optional,
  optionalBool,
  optionalDict,
  optionalNameList,
  optionalNonEmptyString,
  optionalString,
} from "./params.js";

export const OpClusterQuerySchema = defineOpcode("OP_CLUSTER_QUERY", {});
export type OpClusterQuery = z.infer<typeof OpClusterQuerySchema>;

export const OpClusterRedistConfSchema = defineOpcode("OP_CLUSTER_REDIST_CONF", {});
export type OpClusterRedistConf = z.infer<typeof OpClusterRedistConfSchema>;

/** `[start, end]` inclusive uid range. */
const UidRangeSchema = z.tuple([IntSchema, IntSchema]);
/** `[["add"|"remove", os_name], ...]` edits of the hidden/blacklisted OS lists. */
const OsListEditsSchema = z.array(z.tuple([DdmSimpleSchema, NonEmptyStringSchema]));

export const OpClusterSetParamsSchema = defineOpcode("OP_CLUSTER_SET_PARAMS", {
  force: defaultFalse(),
  hv_state: hvState(),
  disk_state: diskState(),
  vg_name: optionalString(),
  enabled_hypervisors: optional(z.array(HypervisorSchema)),
  hvparams: optional(NestedParamsSchema),
  beparams: optionalDict(),
  os_hvp: optional(NestedParamsSchema),
  osparams: optional(NestedParamsSchema),
  osparams_private_cluster: optional(NestedParamsSchema),
  diskparams: groupDiskParams(),
  candidate_pool_size: optional(PositiveIntSchema),
  max_running_jobs: optional(PositiveIntSchema),
  max_tracked_jobs: optional(PositiveIntSchema),
  uid_pool: optional(z.array(UidRangeSchema)),
  add_uids: optional(z.array(UidRangeSchema)),
  remove_uids: optional(z.array(UidRangeSchema)),
  maintain_node_health: optionalBool(),
  prealloc_wipe_disks: optionalBool(),
  nicparams: optional(NicParamsSchema),
  ndparams: ndparams(),
  ipolicy: ipolicy(),
  drbd_helper: optionalString(),
  default_iallocator: optionalString(),
  default_iallocator_params: optional(JsonObjectSchema),
  mac_prefix: optionalNonEmptyString(),
  master_netdev: optionalString(),
  master_netmask: optional(NonNegativeIntSchema),
  reserved_lvs: optionalNameList(),
  hidden_os: optional(OsListEditsSchema),
  blacklisted_os: optional(OsListEditsSchema),
  use_external_mip_script: optionalBool(),
  enabled_disk_templates: optional(z.array(DiskTemplateSchema)),
  modify_etc_hosts: optionalBool(),
  file_storage_dir: optionalString(),
  shared_file_storage_dir: optionalString(),
  gluster_storage_dir: optionalString(),
  install_image: optionalString(),
  instance_communication_network: optionalString(),
  zeroing_image: optionalString(),
  compression_tools: optionalNameList(),
  enabled_user_shutdown: optionalBool(),
  enabled_data_collectors: optional(z.record(z.string(), z.boolean())),
  data_collector_interval: optional(z.record(z.string(), IntSchema)),
});
export type OpClusterSetParams = z.infer<typeof OpClusterSetParamsSchema>;

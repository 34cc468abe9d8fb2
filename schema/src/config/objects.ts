// Persisted cluster configuration (the master's "config.data"), close to
// Ganeti's objects so that queries can render Ganeti's RAPI shapes directly.
// Every object carries uuid, serial_no, ctime/mtime (float seconds) and tags.
import { z } from "zod";

const Params = z.record(z.string(), z.unknown());
const Common = {
  uuid: z.string(),
  serial_no: z.number().int(),
  ctime: z.number().nullable(),
  mtime: z.number().nullable(),
  tags: z.array(z.string()),
};

export const IspecSchema = z.object({
  "memory-size": z.number(),
  "cpu-count": z.number(),
  "disk-count": z.number(),
  "disk-size": z.number(),
  "nic-count": z.number(),
  "spindle-use": z.number(),
});
export type Ispec = z.infer<typeof IspecSchema>;

export const IpolicySchema = z.object({
  minmax: z.array(z.object({ min: IspecSchema, max: IspecSchema })),
  std: IspecSchema,
  "disk-templates": z.array(z.string()),
  "vcpu-ratio": z.number(),
  "spindle-ratio": z.number(),
});
export type Ipolicy = z.infer<typeof IpolicySchema>;

export const ClusterObjectSchema = z.object({
  ...Common,
  cluster_name: z.string(),
  master_node: z.string(), // node uuid
  enabled_hypervisors: z.array(z.string()),
  hvparams: z.record(z.string(), Params),
  os_hvp: z.record(z.string(), z.record(z.string(), Params)),
  beparams: z.record(z.string(), Params), // {"default": {...}}
  osparams: z.record(z.string(), Params),
  osparams_private_cluster: z.record(z.string(), Params),
  nicparams: z.record(z.string(), Params), // {"default": {mode, link, vlan}}
  ndparams: Params,
  diskparams: z.record(z.string(), Params),
  ipolicy: IpolicySchema,
  enabled_disk_templates: z.array(z.string()),
  candidate_pool_size: z.number().int(),
  max_running_jobs: z.number().int(),
  max_tracked_jobs: z.number().int(),
  mac_prefix: z.string(),
  master_netdev: z.string(),
  master_netmask: z.number().int(),
  master_ip: z.string(),
  use_external_mip_script: z.boolean(),
  volume_group_name: z.string().nullable(),
  drbd_usermode_helper: z.string().nullable(),
  file_storage_dir: z.string(),
  shared_file_storage_dir: z.string(),
  gluster_storage_dir: z.string(),
  maintain_node_health: z.boolean(),
  uid_pool: z.array(z.tuple([z.number(), z.number()])),
  default_iallocator: z.string(),
  default_iallocator_params: Params,
  reserved_lvs: z.array(z.string()),
  primary_ip_family: z.number().int(),
  prealloc_wipe_disks: z.boolean(),
  hidden_os: z.array(z.string()),
  blacklisted_os: z.array(z.string()),
  install_image: z.string(),
  zeroing_image: z.string(),
  instance_communication_network: z.string(),
  compression_tools: z.array(z.string()),
  enabled_user_shutdown: z.boolean(),
  modify_etc_hosts: z.boolean(),
  enabled_data_collectors: z.record(z.string(), z.boolean()),
  data_collector_interval: z.record(z.string(), z.number()),
  /** Ganeti-ts addition: where the OS definitions are searched on nodes. */
  os_search_path: z.array(z.string()),
  /**
   * Ganeti's port allocation (drbd disks and instance network ports share
   * it): released ports to hand out again first, then highest_used_port + 1.
   * Optional: configs written before drbd lack both (then the highest port
   * in use counts).
   */
  tcpudp_port_pool: z.array(z.number().int()).optional(),
  highest_used_port: z.number().int().optional(),
});
export type ClusterObject = z.infer<typeof ClusterObjectSchema>;

export const NodeObjectSchema = z.object({
  ...Common,
  name: z.string(),
  primary_ip: z.string(),
  secondary_ip: z.string(),
  group: z.string(), // group uuid
  master_candidate: z.boolean(),
  offline: z.boolean(),
  drained: z.boolean(),
  master_capable: z.boolean(),
  vm_capable: z.boolean(),
  powered: z.boolean(),
  ndparams: Params,
  hv_state_static: Params,
  disk_state_static: Params,
  /** Ganeti-ts: where this node's daemon listens (host:port for RPC). */
  rpc_address: z.string(),
  rpc_port: z.number().int(),
});
export type NodeObject = z.infer<typeof NodeObjectSchema>;

export const NetworkConnectionSchema = z.object({
  mode: z.string(),
  link: z.string(),
  vlan: z.string(),
});
export const GroupObjectSchema = z.object({
  ...Common,
  name: z.string(),
  alloc_policy: z.enum(["preferred", "last_resort", "unallocable"]),
  ndparams: Params,
  diskparams: z.record(z.string(), Params),
  ipolicy: Params, // overrides only; filled from the cluster's
  hv_state_static: Params,
  disk_state_static: Params,
  networks: z.record(z.string(), NetworkConnectionSchema), // network uuid → connection
});
export type GroupObject = z.infer<typeof GroupObjectSchema>;

export const NicObjectSchema = z.object({
  uuid: z.string(),
  name: z.string().nullable(),
  mac: z.string(),
  ip: z.string().nullable(),
  network: z.string().nullable(), // network uuid
  nicparams: Params, // instance-level overrides: mode, link, vlan
});
export type NicObject = z.infer<typeof NicObjectSchema>;

/** A component of a composite disk (drbd: its data and metadata volumes, both plain). */
export const DiskChildObjectSchema = z.object({
  uuid: z.string(),
  dev_type: z.string(),
  size: z.number().int(), // MiB
  /** plain: [volume group, volume name]. */
  logical_id: z.array(z.unknown()),
  params: Params,
});
export type DiskChildObject = z.infer<typeof DiskChildObjectSchema>;

export const DiskObjectSchema = z.object({
  uuid: z.string(),
  serial_no: z.number().int(),
  ctime: z.number().nullable(),
  mtime: z.number().nullable(),
  name: z.string().nullable(),
  dev_type: z.string(), // disk template of this disk: file, sharedfile, diskless(never), plain, ...
  size: z.number().int(), // MiB
  mode: z.enum(["rw", "ro"]),
  spindles: z.number().int().nullable(),
  /**
   * As Ganeti's logical_id: file-based [driver, path]; plain [vg, volume];
   * drbd [pnode uuid, snode uuid, port, pminor, sminor, secret].
   */
  logical_id: z.array(z.unknown()),
  /** drbd: [data, meta] (absent for single-volume templates). */
  children: z.array(DiskChildObjectSchema).optional(),
  nodes: z.array(z.string()), // node uuids holding the disk
  iv_name: z.string(), // "disk/0"
  params: Params,
  /** uuid of the owning instance, null when detached. */
  instance: z.string().nullable(),
});
export type DiskObject = z.infer<typeof DiskObjectSchema>;

export const InstanceObjectSchema = z.object({
  ...Common,
  name: z.string(),
  primary_node: z.string(), // node uuid
  secondary_nodes: z.array(z.string()), // node uuids (drbd only)
  os: z.string(),
  hypervisor: z.string(),
  hvparams: Params, // overrides
  beparams: Params, // overrides
  osparams: Params,
  osparams_private: Params,
  admin_state: z.enum(["up", "down", "offline"]),
  admin_state_source: z.enum(["admin", "user"]),
  nics: z.array(NicObjectSchema),
  disks: z.array(z.string()), // disk uuids in order
  disk_template: z.string(),
  disks_active: z.boolean(),
  network_port: z.number().int().nullable(),
});
export type InstanceObject = z.infer<typeof InstanceObjectSchema>;

export const NetworkObjectSchema = z.object({
  ...Common,
  name: z.string(),
  network: z.string(),
  gateway: z.string().nullable(),
  network6: z.string().nullable(),
  gateway6: z.string().nullable(),
  mac_prefix: z.string().nullable(),
  /** One char per address of the IPv4 network: "1" reserved by instances, "0" free. */
  reservations: z.string(),
  /** Same length: "1" externally reserved (network, broadcast, gateway, user). */
  ext_reservations: z.string(),
});
export type NetworkObject = z.infer<typeof NetworkObjectSchema>;

export const FilterRuleObjectSchema = z.object({
  uuid: z.string(),
  watermark: z.number().int(),
  priority: z.number().int(),
  predicates: z.array(z.unknown()),
  action: z.unknown(),
  reason_trail: z.array(z.unknown()),
});
export type FilterRuleObject = z.infer<typeof FilterRuleObjectSchema>;

export const ConfigDataSchema = z.object({
  version: z.number().int(),
  serial_no: z.number().int(),
  ctime: z.number(),
  mtime: z.number(),
  cluster: ClusterObjectSchema,
  nodes: z.record(z.string(), NodeObjectSchema), // by uuid
  nodegroups: z.record(z.string(), GroupObjectSchema),
  instances: z.record(z.string(), InstanceObjectSchema),
  disks: z.record(z.string(), DiskObjectSchema),
  networks: z.record(z.string(), NetworkObjectSchema),
  filters: z.record(z.string(), FilterRuleObjectSchema),
});
export type ConfigData = z.infer<typeof ConfigDataSchema>;

// Request inputs. Wire names, not camelCase (docs/architecture.md, Naming).
// These are TypeScript shapes of the RAPI request bodies; the server validates
// them, the SDK only passes them through. Extra opcode parameters are allowed
// (`[key: string]: unknown`) so that a newer server's options stay reachable.
// TODO(schema/rapi): infer these from the request schemas once
// schema/src/rapi/ lands, so there is one shape in one place.

/** Parameters common to every opcode. */
export interface OpcodeCommon {
  depends?: [number, string[]][] | null;
  priority?: -10 | 0 | 10;
  comment?: string | null;
  debug_level?: number;
  [key: string]: unknown;
}

export type DiskTemplate = "diskless" | "file" | "sharedfile" | "plain" | "drbd" | "blockdev" | "rbd" | "ext" | "gluster";
export type Hypervisor = "xen-pvm" | "xen-hvm" | "kvm" | "lxc" | "chroot" | "fake";

export interface DiskSpec {
  size?: number | string;
  mode?: "rw" | "ro";
  name?: string;
  vg?: string;
  metavg?: string;
  spindles?: number;
  adopt?: string;
  provider?: string;
  access?: "kernelspace" | "userspace";
  [key: string]: unknown;
}

export interface NicSpec {
  mac?: string;
  ip?: string | null;
  mode?: "bridged" | "routed" | "openvswitch";
  link?: string;
  vlan?: string;
  network?: string;
  name?: string;
  bridge?: string;
  [key: string]: unknown;
}

/** `POST /2/instances` (version-1 body, §8); the SDK adds `__version__: 1`. */
export interface InstanceCreateParams extends OpcodeCommon {
  mode: "create" | "import" | "remote-import";
  /** Instance name (`name` is the accepted old spelling). */
  instance_name?: string;
  name?: string;
  disk_template?: DiskTemplate | null;
  disks: DiskSpec[];
  nics: NicSpec[];
  os_type?: string | null;
  os?: string;
  pnode?: string | null;
  snode?: string | null;
  iallocator?: string | null;
  hypervisor?: Hypervisor | null;
  beparams?: Record<string, unknown>;
  hvparams?: Record<string, unknown>;
  osparams?: Record<string, unknown>;
  name_check?: boolean;
  ip_check?: boolean;
  start?: boolean;
  no_install?: boolean | null;
  wait_for_sync?: boolean;
  group_name?: string | null;
  tags?: string[];
}

/** `POST /2/instances-multi-alloc`. */
export interface InstanceMultiAllocParams extends OpcodeCommon {
  instances: Omit<InstanceCreateParams, "__version__">[];
  iallocator?: string | null;
  opportunistic_locking?: boolean;
}

export interface InstanceRemoveParams extends OpcodeCommon {
  shutdown_timeout?: number;
}

export interface InstanceShutdownParams extends OpcodeCommon {
  force?: boolean;
  ignore_offline_nodes?: boolean;
  timeout?: number;
  admin_state_source?: "admin" | "user" | null;
}

export interface InstanceRebootParams extends OpcodeCommon {
  shutdown_timeout?: number;
}

export interface InstanceReinstallParams {
  os?: string | null;
  start?: boolean;
  osparams?: Record<string, unknown> | null;
}

export interface InstanceReplaceDisksParams extends OpcodeCommon {
  mode: "replace_on_primary" | "replace_on_secondary" | "replace_new_secondary" | "replace_auto";
  disks?: number[];
  remote_node?: string | null;
  iallocator?: string | null;
  early_release?: boolean;
  ignore_ipolicy?: boolean;
}

export interface InstanceRecreateDisksParams extends OpcodeCommon {
  disks?: (number | [number, Record<string, unknown>])[];
  nodes?: string[];
  iallocator?: string | null;
}

export interface InstanceGrowDiskParams extends OpcodeCommon {
  amount: number;
  absolute?: boolean;
  wait_for_sync?: boolean;
  ignore_ipolicy?: boolean;
}

export interface InstanceExportParams extends OpcodeCommon {
  mode?: "local" | "remote";
  /** Renamed to `target_node` by the server. */
  destination?: string | unknown[];
  target_node?: string | unknown[];
  shutdown?: boolean;
  remove_instance?: boolean;
  compress?: string;
  shutdown_timeout?: number;
}

export interface InstanceMigrateParams extends OpcodeCommon {
  mode?: "live" | "non-live" | null;
  live?: boolean | null;
  target_node?: string | null;
  iallocator?: string | null;
  cleanup?: boolean;
  allow_failover?: boolean;
  allow_runtime_changes?: boolean;
  ignore_ipolicy?: boolean;
  ignore_hvversions?: boolean;
}

export interface InstanceFailoverParams extends OpcodeCommon {
  shutdown_timeout?: number;
  ignore_consistency?: boolean;
  target_node?: string | null;
  iallocator?: string | null;
  cleanup?: boolean;
  ignore_ipolicy?: boolean;
}

export interface InstanceRenameParams extends OpcodeCommon {
  name_check?: boolean;
  ip_check?: boolean;
}

/** A disk/NIC modification: `[action, identifier, params]` or legacy `[op, params]` (§9.1). */
export type DeviceModification =
  | ["add" | "attach" | "modify" | "remove" | "detach", number | string, Record<string, unknown>]
  | ["add" | "attach" | "remove" | "detach" | number, Record<string, unknown>];

export interface InstanceModifyParams extends OpcodeCommon {
  beparams?: Record<string, unknown>;
  hvparams?: Record<string, unknown>;
  osparams?: Record<string, unknown>;
  osparams_private?: Record<string, unknown> | null;
  os_name?: string | null;
  disks?: DeviceModification[];
  nics?: DeviceModification[];
  disk_template?: DiskTemplate | null;
  remote_node?: string | null;
  pnode?: string | null;
  runtime_mem?: number | null;
  offline?: boolean | null;
  force?: boolean;
  hotplug?: boolean;
  hotplug_if_possible?: boolean;
  wait_for_sync?: boolean;
}

export interface NodeModifyParams extends OpcodeCommon {
  master_candidate?: boolean | null;
  offline?: boolean | null;
  drained?: boolean | null;
  auto_promote?: boolean;
  master_capable?: boolean | null;
  vm_capable?: boolean | null;
  secondary_ip?: string | null;
  ndparams?: Record<string, unknown> | null;
  powered?: boolean | null;
  force?: boolean;
}

export interface NodeEvacuateParams extends OpcodeCommon {
  mode: "primary-only" | "secondary-only" | "all";
  iallocator?: string | null;
  remote_node?: string | null;
  early_release?: boolean;
  ignore_soft_errors?: boolean | null;
}

export interface NodeMigrateParams extends OpcodeCommon {
  mode?: "live" | "non-live" | null;
  live?: boolean | null;
  target_node?: string | null;
  iallocator?: string | null;
  allow_runtime_changes?: boolean;
  ignore_ipolicy?: boolean;
}

export type StorageType = "lvm-vg" | "lvm-pv" | "file" | (string & {});

export interface GroupCreateParams extends OpcodeCommon {
  /** `name` is the accepted old spelling. */
  group_name?: string;
  name?: string;
  alloc_policy?: "preferred" | "last_resort" | "unallocable" | null;
  ndparams?: Record<string, unknown> | null;
  diskparams?: Record<string, unknown> | null;
  ipolicy?: Record<string, unknown> | null;
}

export interface GroupModifyParams extends OpcodeCommon {
  alloc_policy?: "preferred" | "last_resort" | "unallocable" | null;
  ndparams?: Record<string, unknown> | null;
  diskparams?: Record<string, unknown> | null;
  ipolicy?: Record<string, unknown> | null;
}

export interface NetworkCreateParams extends OpcodeCommon {
  network_name: string;
  network: string;
  gateway?: string | null;
  network6?: string | null;
  gateway6?: string | null;
  mac_prefix?: string | null;
  add_reserved_ips?: string[] | null;
  conflicts_check?: boolean;
  tags?: string[];
}

export interface NetworkModifyParams extends OpcodeCommon {
  gateway?: string | null;
  network6?: string | null;
  gateway6?: string | null;
  mac_prefix?: string | null;
  add_reserved_ips?: string[] | null;
  remove_reserved_ips?: string[] | null;
}

export interface NetworkConnectParams extends OpcodeCommon {
  group_name: string;
  network_mode: "bridged" | "routed" | "openvswitch" | "pool";
  network_link: string;
  network_vlan?: string;
  conflicts_check?: boolean;
}

/** `PUT /2/modify` (OP_CLUSTER_SET_PARAMS minus compression_tools). */
export interface ClusterModifyParams extends OpcodeCommon {
  candidate_pool_size?: number | null;
  max_running_jobs?: number | null;
  enabled_hypervisors?: Hypervisor[] | null;
  enabled_disk_templates?: DiskTemplate[] | null;
  hvparams?: Record<string, Record<string, unknown>> | null;
  beparams?: Record<string, unknown> | null;
  nicparams?: Record<string, unknown> | null;
  ndparams?: Record<string, unknown> | null;
  ipolicy?: Record<string, unknown> | null;
  default_iallocator?: string | null;
  mac_prefix?: string | null;
}

/** Filter rule body for `POST /2/filters` / `PUT /2/filters/UUID`. */
export interface FilterRuleParams {
  priority?: number;
  predicates?: unknown[];
  action?: "ACCEPT" | "PAUSE" | "REJECT" | "CONTINUE" | ["RATE_LIMIT", number];
  reason?: unknown[];
}

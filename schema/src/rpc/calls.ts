// The node daemon's RPC calls (master → noded over HTTPS, cluster certificate
// on both sides), as Ganeti's rpc_defs: one row per call with its argument and
// result shapes and a timeout. The noded serves POST /<name> with the args as a
// JSON body and answers {"ok": true, "result": ...} or {"ok": false, "error":
// "message"}. Node-side code never reads the cluster config: the master sends
// everything a call needs.
import { z } from "zod";

const Params = z.record(z.string(), z.unknown());

/** A disk as the node sees it: enough to create/find the backing storage. */
/**
 * A drbd disk's view from the node the master calls (Ganeti's dynamic
 * params): the master fills it per node, so the node never reads the config.
 * Replication traffic runs between the nodes' secondary IPs on the disk's
 * port (logical_id[2]), over TLS with the cluster certificate.
 */
export const DrbdDynamicParamsSchema = z.object({
  /** This node's replication address (its secondary_ip) and the peer's. */
  local_ip: z.string(),
  remote_ip: z.string(),
  local_minor: z.number().int(),
  remote_minor: z.number().int(),
  /** This node is the disk's primary: the writer, which mirrors every write to the peer. */
  primary: z.boolean(),
});
export type DrbdDynamicParams = z.infer<typeof DrbdDynamicParamsSchema>;

/** A disk as the node sees it: enough to create/find the backing storage. */
export interface RpcDisk {
  uuid: string;
  /** file | sharedfile | plain | drbd | ... */
  dev_type: string;
  /** MiB */
  size: number;
  mode: "rw" | "ro";
  name: string | null;
  /**
   * file/sharedfile: [driver, absolute path of the image file];
   * plain: [volume group, volume name];
   * drbd: [primary node uuid, secondary node uuid, port, primary minor, secondary minor, shared secret].
   */
  logical_id: unknown[];
  params: Record<string, unknown>;
  /** drbd: [data, meta], both plain (Ganeti's children). */
  children?: RpcDisk[];
  /** drbd only. */
  dynamic_params?: DrbdDynamicParams;
}
export const RpcDiskSchema: z.ZodType<RpcDisk> = z.object({
  uuid: z.string(),
  dev_type: z.string(),
  size: z.number().int(),
  mode: z.enum(["rw", "ro"]),
  name: z.string().nullable(),
  logical_id: z.array(z.unknown()),
  params: Params,
  children: z.array(z.lazy(() => RpcDiskSchema)).optional(),
  dynamic_params: DrbdDynamicParamsSchema.optional(),
});

/**
 * A block device's state (Ganeti's BlockDevStatus), as instance info's
 * pstatus/sstatus and verify show it. For a mirrored disk: sync_percent is
 * null when in sync, estimated_time the seconds left (null when unknown).
 */
export const BlockDevStatusSchema = z.object({
  dev_path: z.string(),
  major: z.number().int().nullable(),
  minor: z.number().int().nullable(),
  sync_percent: z.number().nullable(),
  estimated_time: z.number().nullable(),
  /** The mirror is not complete: peer gone, or resyncing. */
  is_degraded: z.boolean(),
  /**
   * Local storage, Ganeti 3.0's LDS_* (its clients read these numbers): 1
   * okay, 2 syncing, 3 unknown (not known to be consistent), 4 faulty.
   */
  ldisk_status: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
});
export type BlockDevStatus = z.infer<typeof BlockDevStatusSchema>;

export const RpcNicSchema = z.object({
  uuid: z.string(),
  name: z.string().nullable(),
  mac: z.string(),
  ip: z.string().nullable(),
  mode: z.string(),
  link: z.string(),
  vlan: z.string(),
  network: z.string().nullable(),
  network_name: z.string().nullable(),
});
export type RpcNic = z.infer<typeof RpcNicSchema>;

/** An instance as the node sees it: filled parameters, no cluster lookups. */
export const RpcInstanceSchema = z.object({
  name: z.string(),
  uuid: z.string(),
  hypervisor: z.string(),
  os: z.string(),
  hvparams: Params, // filled
  beparams: Params, // filled (maxmem, minmem, vcpus, ...)
  osparams: Params, // filled
  osparams_private: Params,
  nics: z.array(RpcNicSchema),
  disks: z.array(RpcDiskSchema),
  disk_template: z.string(),
  primary_node: z.string(), // node name
  secondary_nodes: z.array(z.string()),
  tags: z.array(z.string()),
  /** The port the cluster allocated to the instance (kvm: VNC at 5900 + display), if any. */
  network_port: z.number().int().optional(),
});
export type RpcInstance = z.infer<typeof RpcInstanceSchema>;

export const HvInstanceInfoSchema = z.object({
  name: z.string(),
  memory: z.number().int(), // MiB
  vcpus: z.number().int(),
  state: z.string(), // "running" | "paused" | "shutdown" (user-initiated)
  time: z.number(), // seconds running
  /** kvm: the accelerator the running qemu uses ("kvm" or "tcg"). */
  accel: z.string().optional(),
});
export type HvInstanceInfo = z.infer<typeof HvInstanceInfoSchema>;

export const StorageUnitSchema = z.object({ type: z.string(), name: z.string() });

export const NodeInfoResultSchema = z.object({
  name: z.string(),
  memory_total: z.number().int(), // MiB
  memory_dom0: z.number().int(), // MiB used by the node OS
  memory_free: z.number().int(), // MiB free for instances
  cpu_total: z.number().int(),
  cpu_nodes: z.number().int(),
  cpu_sockets: z.number().int(),
  cpu_dom0: z.number().int(),
  /** The accelerator the hypervisor gives guests here (kvm: "kvm" or "tcg"). */
  hv_accel: z.string().optional(),
  storage: z.array(
    z.object({
      type: z.string(),
      name: z.string(),
      storage_size: z.number().int().nullable(), // MiB
      storage_free: z.number().int().nullable(),
    }),
  ),
  bootid: z.string(),
});
export type NodeInfoResult = z.infer<typeof NodeInfoResultSchema>;

export const OsInfoSchema = z.object({
  name: z.string(),
  path: z.string(),
  status: z.boolean(), // valid
  diagnose: z.string(), // why invalid, "" when valid
  variants: z.array(z.string()),
  parameters: z.array(z.tuple([z.string(), z.string()])),
  api_versions: z.array(z.number().int()),
  trusted: z.boolean(),
});
export type OsInfo = z.infer<typeof OsInfoSchema>;

export const ConsoleInfoSchema = z.object({
  instance: z.string(),
  kind: z.enum(["ssh", "vnc", "spice", "msg"]),
  message: z.string().optional(),
  host: z.string().optional(),
  port: z.number().int().optional(),
  user: z.string().optional(),
  command: z.array(z.string()).optional(),
  display: z.number().int().optional(),
});

/**
 * What OP_CLUSTER_VERIFY_GROUP asks a node to check (Ganeti's node_verify
 * NV_* keys): each present key requests one check, whose answer comes back
 * under the same key.
 */
export const NodeVerifyChecksSchema = z.object({
  /** [protocol version, software version]. */
  version: z.boolean().optional(),
  /** hypervisor name → null when healthy, else the problem. */
  hypervisor: z.array(z.string()).optional(),
  /** Names of the instances running under these hypervisors. */
  instancelist: z.array(z.string()).optional(),
  /** Memory as the hypervisor sees it. */
  hvinfo: z.object({ hypervisor: z.string(), hvparams: Params }).optional(),
  /** The node's clock, [seconds, microseconds]. */
  time: z.boolean().optional(),
  /** Problems with the node's own setup (data directory, ...). */
  nodesetup: z.boolean().optional(),
  /** Files (relative to the node's data directory) → sha1 of those present. */
  filelist: z.array(z.string()).optional(),
  /** Expiry of the node's cluster certificate. */
  certificates: z.boolean().optional(),
  /** disk template → directory: each unusable one is reported. */
  file_storage_paths: z.record(z.string(), z.string()).optional(),
  /** disk template → directory: the disk images found there. */
  file_volumes: z.record(z.string(), z.string()).optional(),
  /** Out-of-band programs that must exist and be executable on this node. */
  oob_paths: z.array(z.string()).optional(),
});
export type NodeVerifyChecks = z.infer<typeof NodeVerifyChecksSchema>;

export const NodeVerifyResultSchema = z.object({
  version: z.tuple([z.number().int(), z.string()]).optional(),
  hypervisor: z.record(z.string(), z.string().nullable()).optional(),
  /** A list of names, or the error message of a failed listing. */
  instancelist: z.union([z.array(z.string()), z.string()]).optional(),
  hvinfo: z.object({ memory_total: z.number(), memory_dom0: z.number(), memory_free: z.number() }).nullable().optional(),
  time: z.tuple([z.number().int(), z.number().int()]).optional(),
  nodesetup: z.array(z.string()).optional(),
  filelist: z.record(z.string(), z.string()).optional(),
  /** [file, "error"|"warning", message] per certificate with a problem. */
  certificates: z.array(z.tuple([z.string(), z.enum(["ERROR", "WARNING"]), z.string()])).optional(),
  file_storage_paths: z.record(z.string(), z.string()).optional(),
  /** disk template → image paths, or the error message of a failed scan. */
  file_volumes: z.record(z.string(), z.union([z.array(z.string()), z.string()])).optional(),
  oob_paths: z.array(z.string()).optional(),
});
export type NodeVerifyResult = z.infer<typeof NodeVerifyResultSchema>;
/** Progress of a live migration on its source node (Ganeti's objects.MigrationStatus, plus timings). */
export const MigrationStatusSchema = z.object({
  /** active | completed | failed | cancelled */
  status: z.string(),
  transferred_ram: z.number().nullable().optional(),
  total_ram: z.number().nullable().optional(),
  /** When completed: the guest's downtime and the whole migration, ms (as the hypervisor measured them). */
  downtime_ms: z.number().nullable().optional(),
  total_time_ms: z.number().nullable().optional(),
  error: z.string().nullable().optional(),
});
export type MigrationStatus = z.infer<typeof MigrationStatusSchema>;

/** Source side: the copy of a migrating instance's local disks to the target (kvm, `file` disks). */
export const DiskMirrorStatusSchema = z.object({
  /** Every disk's mirror caught up with the guest's writes (the RAM can move). */
  ready: z.boolean(),
  /** Bytes copied and to copy, over all disks. */
  copied: z.number(),
  total: z.number(),
  /** Set when a mirror failed or vanished. */
  error: z.string().nullable(),
});
export type DiskMirrorStatus = z.infer<typeof DiskMirrorStatusSchema>;

interface RpcCallDef<A extends z.ZodType, R extends z.ZodType> {
  args: A;
  result: R;
  /** Seconds the master waits for an answer. */
  timeout: number;
}
const call = <A extends z.ZodType, R extends z.ZodType>(args: A, result: R, timeout = 60): RpcCallDef<A, R> => ({
  args,
  result,
  timeout,
});

export const RPC_CALLS = {
  /** Liveness and protocol check. */
  version: call(z.object({}), z.object({ protocol_version: z.number().int(), software_version: z.string() }), 10),
  /** Cluster verification: the requested checks (Ganeti's node_verify). */
  node_verify: call(z.object({ checks: NodeVerifyChecksSchema }), NodeVerifyResultSchema, 120),
  /** Run an out-of-band program: `program command node`; its stdout parsed as JSON (null when empty). */
  run_oob: call(z.object({ oob_program: z.string(), command: z.string(), node: z.string(), timeout: z.number().int() }), z.unknown(), 300),
  /** Memory/CPU (real machine unless overridden in the node's settings) and storage. */
  node_info: call(
    z.object({ storage_units: z.array(StorageUnitSchema), hypervisor: z.string(), hvparams: Params }),
    NodeInfoResultSchema,
    30,
  ),
  /** Names of instances running on the node for the given hypervisors. */
  instance_list: call(z.object({ hypervisors: z.array(z.string()) }), z.array(z.string()), 30),
  /** name → runtime info for every instance running on the node. */
  all_instances_info: call(z.object({ hypervisors: z.array(z.string()) }), z.record(z.string(), HvInstanceInfoSchema), 30),
  /** Runtime info of one instance, null if not running. */
  instance_info: call(z.object({ instance: z.string(), hypervisor: z.string() }), HvInstanceInfoSchema.nullable(), 30),
  instance_start: call(z.object({ instance: RpcInstanceSchema, startup_paused: z.boolean() }), z.null(), 300),
  instance_shutdown: call(z.object({ instance: RpcInstanceSchema, timeout: z.number() }), z.null(), 300),
  instance_reboot: call(
    z.object({ instance: RpcInstanceSchema, reboot_type: z.enum(["soft", "hard", "full"]), shutdown_timeout: z.number() }),
    z.null(),
    300,
  ),
  /** Change the memory of a running instance (runtime_mem / balloon). */
  instance_balloon_memory: call(z.object({ instance: RpcInstanceSchema, memory: z.number().int() }), z.null(), 60),
  /**
   * Source side: what the target needs to start the very machine that runs
   * here (Ganeti's migration_info; opaque to the master). The target's
   * machine must match the source's, not the instance's current beparams:
   * those may have changed since the source started (a new maxmem waits for
   * the next start).
   */
  migration_info: call(z.object({ instance: RpcInstanceSchema }), z.string(), 30),
  /** Target side: get ready to receive a migrating instance. */
  accept_instance: call(
    z.object({
      instance: RpcInstanceSchema,
      target: z.string(),
      /** Beyond Ganeti: also export the (new, empty) local disks over NBD for the source to mirror into. */
      export_disks: z.boolean().optional(),
      /** The source's migration_info. */
      info: z.string().default(""),
    }),
    z.null(),
    120,
  ),
  /** Source side (beyond Ganeti): start copying the local disks into the target's NBD exports. */
  instance_mirror_disks: call(z.object({ instance: RpcInstanceSchema, target_address: z.string() }), z.null(), 120),
  /** Source side: how far the disk copy started by instance_mirror_disks is. */
  instance_mirror_status: call(z.object({ instance: RpcInstanceSchema }), DiskMirrorStatusSchema, 30),
  /** Source side: migrate the running instance to the target node (by address). */
  instance_migrate: call(
    z.object({ instance: RpcInstanceSchema, target: z.string(), target_address: z.string(), live: z.boolean() }),
    z.null(),
    600,
  ),
  /** Source side: where the migration started by instance_migrate stands. */
  instance_get_migration_status: call(z.object({ instance: RpcInstanceSchema }), MigrationStatusSchema, 30),
  /** Target side: finish (success=true) or abort an incoming migration. */
  finalize_migration_dst: call(z.object({ instance: RpcInstanceSchema, success: z.boolean() }), z.null(), 120),
  /** Source side: drop the migrated-away instance's runtime state (or keep it on failure). */
  finalize_migration_src: call(z.object({ instance: RpcInstanceSchema, success: z.boolean(), live: z.boolean() }), z.null(), 120),
  /** Create the backing storage of a disk; returns the device path. */
  blockdev_create: call(z.object({ disk: RpcDiskSchema, owner: z.string(), on_primary: z.boolean() }), z.string(), 600),
  blockdev_remove: call(z.object({ disk: RpcDiskSchema }), z.null(), 120),
  /** Grow by `amount` MiB (dryrun: only check space). */
  /**
   * Copy one disk's data into another of any template on this node (Ganeti's
   * blockdev_convert, for disk template conversion); both are assembled here.
   */
  blockdev_convert: call(z.object({ src: RpcDiskSchema, dst: RpcDiskSchema }), z.null(), 3600),
  blockdev_grow: call(z.object({ disk: RpcDiskSchema, amount: z.number().int(), dryrun: z.boolean() }), z.null(), 600),
  /** Rename the backing storage: new logical_id. */
  blockdev_rename: call(z.object({ disk: RpcDiskSchema, new_logical_id: z.array(z.unknown()) }), z.null(), 120),
  /** Sizes in MiB (null for a missing disk). */
  blockdev_getsizes: call(z.object({ disks: z.array(RpcDiskSchema) }), z.array(z.number().int().nullable()), 60),
  /** Make disks usable; returns device paths. */
  blockdev_assemble: call(z.object({ disk: RpcDiskSchema, instance: z.string(), on_primary: z.boolean() }), z.string(), 120),
  blockdev_shutdown: call(z.object({ disk: RpcDiskSchema }), z.null(), 120),
  /** State of assembled disks, in order; null for a disk not assembled here. */
  blockdev_getmirrorstatus: call(z.object({ disks: z.array(RpcDiskSchema) }), z.array(BlockDevStatusSchema.nullable()), 60),
  /** One disk's state; null when it does not exist on this node. */
  blockdev_find: call(z.object({ disk: RpcDiskSchema }), BlockDevStatusSchema.nullable(), 60),
  /** drbd: stop replicating (standalone); the local data stays usable. */
  drbd_disconnect_net: call(z.object({ disks: z.array(RpcDiskSchema) }), z.null(), 120),
  /**
   * drbd: (re)connect to the peer with the roles in each disk's
   * dynamic_params, resyncing what the peer missed. multimaster: both nodes
   * may hold a running instance's disk (live migration's switch-over).
   */
  drbd_attach_net: call(z.object({ disks: z.array(RpcDiskSchema), instance_name: z.string(), multimaster: z.boolean() }), z.null(), 120),
  /** drbd: where the resync stands: all disks in sync, and the lowest sync percent (100 when done). */
  drbd_wait_sync: call(z.object({ disks: z.array(RpcDiskSchema) }), z.object({ alldone: z.boolean(), min_resync: z.number() }), 120),
  /** drbd (replace-disks on the same nodes): attach new local storage (children) to an assembled disk and resync it. */
  blockdev_addchildren: call(z.object({ parent: RpcDiskSchema, children: z.array(RpcDiskSchema) }), z.null(), 600),
  /** drbd: detach local storage (children) from an assembled disk. */
  blockdev_removechildren: call(z.object({ parent: RpcDiskSchema, children: z.array(RpcDiskSchema) }), z.null(), 120),
  file_storage_dir_create: call(z.object({ path: z.string() }), z.null(), 60),
  file_storage_dir_remove: call(z.object({ path: z.string() }), z.null(), 60),
  file_storage_dir_rename: call(z.object({ old_path: z.string(), new_path: z.string() }), z.null(), 60),
  /** Whether this node allows the directory for file storage: null, or why not (its file-storage-paths). */
  file_storage_path_check: call(z.object({ path: z.string() }), z.string().nullable(), 30),
  /** Storage units for OP_NODE_QUERY_STORAGE: rows of the requested fields. */
  storage_list: call(
    z.object({ su_name: z.string(), su_args: z.array(z.unknown()), name: z.string().nullable(), fields: z.array(z.string()) }),
    z.array(z.array(z.unknown())),
    60,
  ),
  /** Every volume of the node's volume groups (Ganeti's node_volumes, gnt node volumes): size in MiB, dev its physical volume. */
  node_volumes: call(z.object({}), z.array(z.object({ name: z.string(), size: z.number(), dev: z.string(), vg: z.string() })), 60),
  storage_modify: call(z.object({ su_name: z.string(), name: z.string(), changes: Params }), z.null(), 60),
  storage_execute: call(z.object({ su_name: z.string(), name: z.string(), op: z.string() }), z.unknown(), 60),
  /** Every OS definition found in the search path. */
  os_diagnose: call(z.object({ search_path: z.array(z.string()) }), z.array(OsInfoSchema), 120),
  /** Validate an OS (and its parameters) on the node. Throws if invalid. */
  os_validate: call(
    z.object({ required: z.boolean(), name: z.string(), checks: z.array(z.string()), osparams: Params, search_path: z.array(z.string()) }),
    z.boolean(),
    120,
  ),
  /** Run the OS create script (reinstall: same with INSTANCE_REINSTALL=1). Returns the log file path. */
  instance_os_add: call(
    z.object({
      instance: RpcInstanceSchema,
      reinstall: z.boolean(),
      debug: z.number().int(),
      search_path: z.array(z.string()),
      /** Secret OS parameters of this run only (never in the config): OSP_* like the others. */
      osparams_secret: Params.optional(),
    }),
    z.string(),
    3600,
  ),
  /** Run the OS rename script. */
  instance_run_rename: call(
    z.object({ instance: RpcInstanceSchema, old_name: z.string(), debug: z.number().int(), search_path: z.array(z.string()) }),
    z.null(),
    600,
  ),
  /** Ganeti's ValidateHVParams: the node checks filled hvparams (files exist...). Throws if invalid. */
  hypervisor_validate_params: call(z.object({ hypervisor: z.string(), hvparams: Params }), z.null(), 60),
  /** Ganeti's HotplugSupported: fails when the instance's hypervisor cannot hotplug now. */
  hotplug_supported: call(z.object({ instance: RpcInstanceSchema }), z.null(), 30),
  /** Ganeti's HotplugDevice: add, remove or modify a disk or NIC of a running instance. */
  hotplug_device: call(
    z.object({
      instance: RpcInstanceSchema,
      action: z.enum(["hotadd", "hotdel", "hotmod"]),
      dev_type: z.enum(["disk", "nic"]),
      disk: RpcDiskSchema.nullable().default(null),
      nic: RpcNicSchema.nullable().default(null),
      /** Where the disk was assembled on the node (hotadd of a disk). */
      disk_path: z.string().nullable().default(null),
      seq: z.number().int(),
    }),
    z.string(),
    120,
  ),
  /** Ganeti's ResizeDisk: tell the running instance's hypervisor a disk grew (bytes). */
  resize_disk: call(z.object({ instance: RpcInstanceSchema, disk: RpcDiskSchema, new_size: z.number().int() }), z.null(), 60),
  /** Console information for a running instance. */
  /** Fails with "Missing bridges a, b" unless every named bridge exists (Ganeti's bridges_exist). */
  bridges_exist: call(z.object({ bridges: z.array(z.string()) }), z.null(), 30),
  instance_console_info: call(z.object({ instance: RpcInstanceSchema }), ConsoleInfoSchema, 30),
  /** Power-cycle the node (fake: recorded, not performed). */
  node_powercycle: call(z.object({ hypervisor: z.string(), hvparams: Params }), z.string(), 30),
  /** Cluster leaves this node: stop instances' runtime bookkeeping, forget the cluster. */
  node_leave_cluster: call(z.object({ modify_ssh_setup: z.boolean() }), z.null(), 60),
  /**
   * ganeti-ts's own (clusters on the etcd store): take or give up the master
   * candidate role on this machine: the standby master daemon and, when the
   * candidates run the etcd members, this node's member (joining the etcd
   * cluster, or leaving it before it stops). `master_settings` (the active
   * master's settings, JSON), `rapi_cert` and `rapi_users` are what a
   * standby needs to serve once it takes over (empty when giving up the
   * role). Answers whether anything was started or stopped.
   */
  master_candidate_role: call(
    z.object({
      candidate: z.boolean(),
      /** The node's primary address (its etcd member listens there). */
      address: z.string(),
      master_settings: z.string(),
      rapi_cert: z.string(),
      rapi_users: z.string(),
    }),
    z.boolean(),
    300,
  ),
  /** Test helper: sleep on the node (OP_TEST_DELAY on_nodes). */
  test_delay: call(z.object({ duration: z.number() }), z.null(), 3600),
} as const;

export type RpcCallName = keyof typeof RPC_CALLS;
export type RpcArgs<N extends RpcCallName> = z.input<(typeof RPC_CALLS)[N]["args"]>;
export type RpcResultOf<N extends RpcCallName> = z.output<(typeof RPC_CALLS)[N]["result"]>;

/** The wire envelope of every answer. */
export const RpcReplySchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

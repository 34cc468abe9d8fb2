// The configuration of a freshly initialised cluster (gnt cluster init), and
// the same for test fixtures: one default group holding the master node.
import { randomUUID } from "node:crypto";
import type { ConfigData, NodeObject } from "@ganeti-ts/schema";
import {
  CONFIG_VERSION,
  DEFAULT_BEPARAMS,
  DEFAULT_DATA_COLLECTORS,
  DEFAULT_DATA_COLLECTOR_INTERVAL,
  DEFAULT_DISKPARAMS,
  DEFAULT_HVPARAMS,
  DEFAULT_IPOLICY,
  DEFAULT_NDPARAMS,
  DEFAULT_NICPARAMS,
} from "./defaults.js";
import { FIRST_DRBD_PORT } from "./drbd.js";

interface InitialConfigOptions {
  clusterName: string;
  master: { name: string; ip: string; rpcPort: number; rpcAddress?: string };
  enabledHypervisors?: string[];
  enabledDiskTemplates?: string[];
  fileStorageDir: string;
  sharedFileStorageDir: string;
  osSearchPath: string[];
  macPrefix?: string;
  /** Ganeti's default is hail; "" means none. */
  defaultIallocator?: string;
  defaultIallocatorParams?: Record<string, unknown>;
  vcpuRatio?: number;
  now?: number;
}

export function newNodeObject(opts: {
  name: string;
  ip: string;
  secondaryIp?: string;
  group: string;
  rpcAddress: string;
  rpcPort: number;
  masterCandidate: boolean;
  now: number;
}): NodeObject {
  return {
    uuid: randomUUID(),
    name: opts.name,
    primary_ip: opts.ip,
    secondary_ip: opts.secondaryIp ?? opts.ip,
    group: opts.group,
    master_candidate: opts.masterCandidate,
    offline: false,
    drained: false,
    master_capable: true,
    vm_capable: true,
    powered: true,
    ndparams: {},
    hv_state_static: {},
    disk_state_static: {},
    rpc_address: opts.rpcAddress,
    rpc_port: opts.rpcPort,
    serial_no: 1,
    ctime: opts.now,
    mtime: opts.now,
    tags: [],
  };
}

export function buildInitialConfig(o: InitialConfigOptions): ConfigData {
  const now = o.now ?? Date.now() / 1000;
  const groupUuid = randomUUID();
  const master = newNodeObject({
    name: o.master.name,
    ip: o.master.ip,
    group: groupUuid,
    rpcAddress: o.master.rpcAddress ?? o.master.ip,
    rpcPort: o.master.rpcPort,
    masterCandidate: true,
    now,
  });
  const hvs = o.enabledHypervisors ?? ["fake"];
  const hvparams: Record<string, Record<string, unknown>> = {};
  for (const [hv, p] of Object.entries(DEFAULT_HVPARAMS)) hvparams[hv] = { ...p };
  return {
    version: CONFIG_VERSION,
    serial_no: 1,
    ctime: now,
    mtime: now,
    cluster: {
      uuid: randomUUID(),
      serial_no: 1,
      ctime: now,
      mtime: now,
      tags: [],
      cluster_name: o.clusterName,
      master_node: master.uuid,
      enabled_hypervisors: hvs,
      hvparams,
      os_hvp: {},
      beparams: { default: { ...DEFAULT_BEPARAMS } },
      osparams: {},
      osparams_private_cluster: {},
      nicparams: { default: { ...DEFAULT_NICPARAMS } },
      ndparams: { ...DEFAULT_NDPARAMS },
      diskparams: structuredClone(DEFAULT_DISKPARAMS) as Record<string, Record<string, unknown>>,
      ipolicy: {
        ...(structuredClone(DEFAULT_IPOLICY) as unknown as ConfigData["cluster"]["ipolicy"]),
        // Ganeti's init allows exactly the enabled templates in the policy.
        "disk-templates": [...(o.enabledDiskTemplates ?? ["file", "sharedfile", "diskless"])],
        "vcpu-ratio": o.vcpuRatio ?? DEFAULT_IPOLICY["vcpu-ratio"],
      },
      enabled_disk_templates: o.enabledDiskTemplates ?? ["file", "sharedfile", "diskless"],
      candidate_pool_size: 10,
      max_running_jobs: 20,
      max_tracked_jobs: 25,
      mac_prefix: o.macPrefix ?? "aa:00:00",
      master_netdev: "lo",
      master_netmask: 32,
      master_ip: o.master.ip,
      use_external_mip_script: false,
      volume_group_name: null,
      drbd_usermode_helper: null,
      file_storage_dir: o.fileStorageDir,
      shared_file_storage_dir: o.sharedFileStorageDir,
      gluster_storage_dir: "/var/run/ganeti/gluster",
      maintain_node_health: false,
      uid_pool: [],
      default_iallocator: o.defaultIallocator ?? "hail",
      default_iallocator_params: o.defaultIallocatorParams ?? {},
      reserved_lvs: [],
      primary_ip_family: 4,
      prealloc_wipe_disks: false,
      hidden_os: [],
      blacklisted_os: [],
      install_image: "",
      zeroing_image: "",
      instance_communication_network: "",
      compression_tools: ["gzip", "gzip-fast", "gzip-slow"],
      enabled_user_shutdown: false,
      modify_etc_hosts: false,
      enabled_data_collectors: { ...DEFAULT_DATA_COLLECTORS },
      data_collector_interval: { ...DEFAULT_DATA_COLLECTOR_INTERVAL },
      os_search_path: o.osSearchPath,
      tcpudp_port_pool: [],
      // Ganeti's bootstrap: the first port handed out is FIRST_DRBD_PORT.
      highest_used_port: FIRST_DRBD_PORT - 1,
    },
    nodes: { [master.uuid]: master },
    nodegroups: {
      [groupUuid]: {
        uuid: groupUuid,
        name: "default",
        alloc_policy: "preferred",
        ndparams: {},
        diskparams: {},
        ipolicy: {},
        hv_state_static: {},
        disk_state_static: {},
        networks: {},
        serial_no: 1,
        ctime: 0,
        mtime: now,
        tags: [],
      },
    },
    instances: {},
    disks: {},
    networks: {},
    filters: {},
  };
}

// The cluster information dict (Ganeti's QueryClusterInfo, LUClusterQuery):
// served by GET /2/info and returned by OP_CLUSTER_QUERY.
import type { ConfigData } from "@ganeti-ts/schema";
import { CONFIG_VERSION, OS_API_VERSION, PROTOCOL_VERSION, SOFTWARE_VERSION, VCS_VERSION } from "../defaults.js";

/** The master's `[bits, machine]` as Python's (platform.architecture()[0], platform.machine()). */
export function hostArchitecture(arch: string = process.arch): [string, string] {
  return [arch.endsWith("64") ? "64bits" : "32bits", arch === "x64" ? "x86_64" : arch];
}

/**
 * LUXI QueryClusterInfo / OP_CLUSTER_QUERY's result as Ganeti 3.0 gives it.
 * Pure: a deep copy of the config's values; the host architecture is passed in.
 */
export function clusterInfo(data: ConfigData, architecture: [string, string] = hostArchitecture()): Record<string, unknown> {
  const c = structuredClone(data.cluster);
  const master = data.nodes[c.master_node];
  return {
    software_version: SOFTWARE_VERSION,
    protocol_version: PROTOCOL_VERSION,
    config_version: CONFIG_VERSION,
    os_api_version: OS_API_VERSION,
    export_version: 0,
    vcs_version: VCS_VERSION,
    architecture: [...architecture],
    name: c.cluster_name,
    master: master?.name ?? c.master_node,
    default_hypervisor: c.enabled_hypervisors[0] ?? null,
    enabled_hypervisors: c.enabled_hypervisors,
    hvparams: c.hvparams,
    os_hvp: c.os_hvp,
    beparams: c.beparams,
    osparams: c.osparams,
    ipolicy: c.ipolicy,
    nicparams: c.nicparams,
    ndparams: c.ndparams,
    diskparams: c.diskparams,
    candidate_pool_size: c.candidate_pool_size,
    max_running_jobs: c.max_running_jobs,
    max_tracked_jobs: c.max_tracked_jobs,
    mac_prefix: c.mac_prefix,
    master_netdev: c.master_netdev,
    master_netmask: c.master_netmask,
    use_external_mip_script: c.use_external_mip_script,
    volume_group_name: c.volume_group_name,
    drbd_usermode_helper: c.drbd_usermode_helper,
    file_storage_dir: c.file_storage_dir,
    shared_file_storage_dir: c.shared_file_storage_dir,
    gluster_storage_dir: c.gluster_storage_dir,
    maintain_node_health: c.maintain_node_health,
    ctime: c.ctime,
    mtime: c.mtime,
    uuid: c.uuid,
    tags: c.tags,
    uid_pool: c.uid_pool,
    default_iallocator: c.default_iallocator,
    default_iallocator_params: c.default_iallocator_params,
    reserved_lvs: c.reserved_lvs,
    primary_ip_version: c.primary_ip_family,
    prealloc_wipe_disks: c.prealloc_wipe_disks,
    hidden_os: c.hidden_os,
    blacklisted_os: c.blacklisted_os,
    enabled_disk_templates: c.enabled_disk_templates,
    install_image: c.install_image,
    instance_communication_network: c.instance_communication_network,
    zeroing_image: c.zeroing_image,
    compression_tools: c.compression_tools,
    enabled_user_shutdown: c.enabled_user_shutdown,
    enabled_data_collectors: c.enabled_data_collectors,
    data_collector_interval: c.data_collector_interval,
    modify_ssh_setup: false,
    ssh_key_type: "rsa",
    ssh_key_bits: 2048,
  };
}

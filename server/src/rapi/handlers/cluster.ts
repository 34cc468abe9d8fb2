// /, /2, /version, /2/info, /2/features, /2/os.
import { RAPI_FEATURES } from "@ganeti-ts/schema";
import { CONFIG_VERSION, OS_API_VERSION, PROTOCOL_VERSION, SOFTWARE_VERSION, VCS_VERSION } from "../../config/defaults.js";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { RapiHttpError } from "../errors.js";
import type { Handler } from "../context.js";

/** LUXI QueryClusterInfo as Ganeti 3.0 answers it, plus RAPI's aliases. */
export function clusterInfo(config: ClusterConfig): Record<string, unknown> {
  const c = structuredClone(config.data.cluster);
  const master = config.data.nodes[c.master_node];
  const arch = process.arch === "x64" ? "x86_64" : process.arch;
  return {
    software_version: SOFTWARE_VERSION,
    protocol_version: PROTOCOL_VERSION,
    config_version: CONFIG_VERSION,
    os_api_version: OS_API_VERSION,
    export_version: 0,
    vcs_version: VCS_VERSION,
    architecture: [process.arch.endsWith("64") ? "64bits" : "32bits", arch],
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
    // GET_ALIASES of R_2_info.
    vg_name: c.volume_group_name,
    drbd_helper: c.drbd_usermode_helper,
  };
}

/** cli.CalculateOSNames: `name` alone without variants, else `name+variant` each. */
export function osNames(rows: unknown): string[] {
  if (!Array.isArray(rows)) throw new RapiHttpError(502, "Can't get OS list");
  const out: string[] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) throw new RapiHttpError(502, "Can't get OS list");
    const [name, variants] = row as [string, unknown];
    if (Array.isArray(variants) && variants.length > 0) for (const v of variants) out.push(`${name}+${String(v)}`);
    else out.push(name);
  }
  return out;
}

const FINAL = new Set(["success", "error", "canceled"]);

export const clusterHandlers: Record<string, Handler> = {
  "cluster.root": () => null,
  "cluster.version": () => 2,
  "cluster.features": () => [...RAPI_FEATURES],
  "cluster.info": (_req, svc) => clusterInfo(svc.config),
  "cluster.os": async (req, svc) => {
    const id = await svc.queue.submit([{ OP_ID: "OP_OS_DIAGNOSE", output_fields: ["name", "variants"], names: [] }]);
    // cli.PollJob: wait until the job is final (or the client went away).
    let prev: unknown[] | null = null;
    for (;;) {
      if (req.signal.aborted) throw new RapiHttpError(500, "Client disconnected");
      const r = await svc.queue.waitForChange(id, ["status"], prev, null, svc.waitTimeoutMs, req.signal);
      if (!r) throw new RapiHttpError(500, "Can't load job file");
      prev = r.job_info;
      if (FINAL.has(String(r.job_info[0]))) break;
    }
    const job = await svc.queue.getJob(id);
    const [status, result] = job ? (svc.queue.jobFields(job, ["status", "opresult"]) as [string, unknown[]]) : ["error", []];
    if (status !== "success") {
      const err = Array.isArray(result) ? result[0] : null;
      const msg = Array.isArray(err) && Array.isArray(err[1]) ? String(err[1][0]) : "OS diagnose failed";
      throw new RapiHttpError(500, msg);
    }
    return osNames(Array.isArray(result) ? result[0] : null);
  },
};

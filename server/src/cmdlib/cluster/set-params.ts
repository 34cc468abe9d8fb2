// OP_CLUSTER_SET_PARAMS: change cluster-wide parameters, following Ganeti's
// LUClusterSetParams checks and messages. Parameters whose effect lives on
// the node side in Ganeti (vg_name, drbd_helper, master_netdev/netmask) are
// stored; cluster-level hv_state/disk_state overrides are refused (the
// cluster object has no place for them). Result: null, or {"jobs": [...]}
// when the instance communication network needs creating/connecting.
import { checkOsName, diskTemplateInfo, forceParamTypes, HVS_PARAMETER_TYPES, type OpClusterSetParams } from "@ganeti-ts/schema";
import { fillDict, own } from "../../config/cluster-config.js";
import { DEFAULT_DISKPARAMS, DEFAULT_HVPARAMS, DEFAULT_NDPARAMS } from "../../config/defaults.js";
import { OpPrereqError, TypeEnforcementError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type OpcodeInput, type SubmitResult } from "../base.js";
import { checkHvParamsOnNodes } from "../common/node-checks.js";
import { checkMemoryRange, forceBeparams, upgradeBeparams } from "../common/instance-params.js";
import { checkHvParams, ganetiCheck } from "../common/params.js";
import {
  adjustCandidatePool,
  commaJoin,
  forceDictType,
  getUpdatedParams,
  logWarning,
  ND_PARAM_TYPES,
  verifyDiskparams,
} from "../common/node.js";
import { connectInstanceCommunicationOp } from "../group/add.js";
import { checkChangedDiskTemplates, getUpdatedIpolicy } from "../group/ipolicy.js";
import { normalizeMacPrefix } from "../network/common.js";

type Dict = Record<string, unknown>;
/** Ganeti's INSTANCE_COMMUNICATION_* defaults for the network it creates. */
const ICN_NETWORK4 = "169.254.0.0/16";
const ICN_MAC_PREFIX = "52:54:00";

/** Ganeti's uidpool.CheckUidPool. */
function checkUidPool(pool: Array<[number, number]>): void {
  for (const [lo, hi] of pool)
    if (lo > hi)
      throw new OpPrereqError(`Lower user-id range boundary value (${lo}) is larger than the higher boundary value (${hi})`, "wrong_input");
}

/** Ganeti's CheckImageValidity: an absolute path or a URL. */
function checkImage(image: string, msg: string): void {
  if (image && !image.startsWith("/") && !/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) throw new OpPrereqError(msg, "wrong_input");
}

export class LUClusterSetParams extends LogicalUnit<OpClusterSetParams> {
  private macPrefix: string | null = null;
  private newBeparams?: Dict;
  private newNdparams?: Dict;
  private newNicparams?: Dict;
  private newIpolicy?: Dict;
  private newHvparams: Record<string, Dict> = {};
  private newOsHvp: Record<string, Record<string, Dict>> = {};
  private newOsparams: Record<string, Dict> = {};
  private newOsparamsPrivate: Record<string, Dict> = {};
  private newDiskparams: Record<string, Dict> = {};

  override checkArguments(): void {
    const op = this.op;
    if (op.uid_pool) checkUidPool(op.uid_pool);
    if (op.add_uids) checkUidPool(op.add_uids);
    if (op.remove_uids) checkUidPool(op.remove_uids);
    if (op.mac_prefix) this.macPrefix = normalizeMacPrefix(op.mac_prefix);
    if (op.master_netmask !== null && (op.master_netmask < 0 || op.master_netmask > 32))
      throw new OpPrereqError(`CIDR netmask (${op.master_netmask}) not valid for IPv4 address`, "wrong_input");
    if (op.diskparams) verifyDiskparams(op.diskparams, DEFAULT_DISKPARAMS);
    if (op.install_image !== null) checkImage(op.install_image, "Install image must be an absolute path or a URL");
    if (op.hv_state || op.disk_state)
      throw new OpPrereqError("Cluster-level hv_state/disk_state overrides are not supported; set them per node or group", "wrong_input");
  }

  expandNames(): LockDecl {
    return {
      nodegroup: { names: "all", shared: true },
      instance: { names: "all", shared: true },
      node: { names: "all", shared: true },
    };
  }

  async checkPrereq(): Promise<void> {
    const op = this.op;
    const cluster = this.data.cluster;
    const oldTemplates = cluster.enabled_disk_templates;
    const enabled = op.enabled_disk_templates && op.enabled_disk_templates.length ? op.enabled_disk_templates : oldTemplates;
    const newlyEnabled = enabled.filter((t) => !oldTemplates.includes(t));
    const disabled = oldTemplates.filter((t) => !enabled.includes(t));

    // Disk templates still in use cannot be disabled.
    for (const t of disabled) {
      const disks = Object.values(this.data.disks).filter((d) => d.dev_type === t);
      if (disks.length) {
        const desc = disks.map((d) => {
          const inst = d.instance ? this.data.instances[d.instance] : undefined;
          return `${d.iv_name} (${inst ? `on ${inst.name}` : "detached"})`;
        });
        throw new OpPrereqError(
          `Cannot disable disk template '${t}', because there is at least one disk using it:\n * ${desc.join("\n * ")}`,
          "wrong_state",
        );
      }
    }
    if (disabled.includes("diskless")) {
      const inst = this.cfg.instances().find((i) => i.disks.length === 0);
      if (inst)
        throw new OpPrereqError(
          `Cannot disable disk template 'diskless', because there is at least one instance using it:\n * ${inst.name}`,
          "wrong_state",
        );
    }

    // Volume group (Ganeti's _CheckVgName, without the node-side VG check).
    const lvmEnabled = enabled.some((t) => diskTemplateInfo(t)?.lvm);
    if (op.vg_name === "" && lvmEnabled)
      throw new OpPrereqError("Cannot unset volume group if lvm-based disk templates are or get enabled.", "wrong_input");
    if (op.vg_name === null && cluster.volume_group_name === null && lvmEnabled)
      throw new OpPrereqError("Please specify a volume group when enabling lvm-based disk-templates.", "wrong_input");
    if (op.vg_name === "" && Object.values(this.data.disks).some((d) => d.dev_type === "plain"))
      throw new OpPrereqError("Cannot disable lvm storage while lvm-based instances exist", "wrong_input");

    // DRBD usermode helper (without the node-side check).
    const drbdEnabled = enabled.includes("drbd");
    if (op.drbd_helper === "") {
      if (drbdEnabled) throw new OpPrereqError("Cannot disable drbd helper while DRBD is enabled.", "wrong_state");
    } else if (newlyEnabled.includes("drbd") && op.drbd_helper === null && cluster.drbd_usermode_helper === null) {
      throw new OpPrereqError("Cannot enable DRBD without a DRBD usermode helper set.", "wrong_state");
    }
    if (op.diskparams && "drbd" in op.diskparams) {
      logWarning(this.ctx, "Changing DRBD parameters only affects devices created in the future, not existing ones");
      logWarning(this.ctx, "You need to shutdown and start (not reboot!) existing instances to adopt the changes");
      logWarning(
        this.ctx,
        "Alternatively you can swap the secondary node by running `gnt-instance replace-disks --new-secondary $instance`",
      );
    }

    if (op.beparams) {
      const be = forceBeparams(upgradeBeparams(op.beparams));
      this.newBeparams = fillDict(cluster.beparams["default"], be);
      checkMemoryRange(this.newBeparams);
    }
    if (op.ndparams) {
      const nd = forceDictType(op.ndparams, ND_PARAM_TYPES);
      this.newNdparams = fillDict(DEFAULT_NDPARAMS, cluster.ndparams, nd);
      if (this.newNdparams["oob_program"] === "") this.newNdparams["oob_program"] = DEFAULT_NDPARAMS.oob_program;
    }

    if (op.ipolicy) {
      this.newIpolicy = getUpdatedIpolicy(cluster.ipolicy, op.ipolicy, false);
      checkChangedDiskTemplates(op.ipolicy, enabled);
    }
    if (disabled.length && !(op.ipolicy && "disk-templates" in op.ipolicy)) {
      // Ganeti checks the whole policy; only the templates this change disables
      // are checked so that a policy listing every template stays usable.
      const allowed = cluster.ipolicy["disk-templates"];
      const clash = disabled.filter((t) => allowed.includes(t));
      if (clash.length)
        throw new OpPrereqError(
          `The following disk templates are allowed by the ipolicy, but not enabled on the cluster: ${commaJoin(clash)}`,
          "wrong_input",
        );
    }

    if (op.nicparams) {
      const nic = Object.fromEntries(Object.entries(op.nicparams).filter(([, v]) => v !== null && v !== undefined));
      for (const k of Object.keys(nic))
        if (!["mode", "link", "vlan"].includes(k)) throw new TypeEnforcementError(`Unknown parameter '${k}'`);
      this.newNicparams = fillDict(cluster.nicparams["default"], nic);
      const mode = String(this.newNicparams["mode"]);
      if (!["bridged", "routed", "openvswitch"].includes(mode)) throw new OpPrereqError(`Invalid NIC mode '${mode}'`, "wrong_input");
      if (mode === "bridged" && !this.newNicparams["link"]) throw new OpPrereqError("Missing bridged NIC link", "wrong_input");
      const errors: string[] = [];
      for (const inst of this.cfg.instances())
        inst.nics.forEach((n, idx) => {
          const filled = fillDict(this.newNicparams, n.nicparams);
          if (filled["mode"] === "routed" && !n.ip) errors.push(`Instance ${inst.name}, nic/${idx}: routed NIC with no ip address`);
        });
      if (errors.length) throw new OpPrereqError(`Cannot apply the change, errors:\n${errors.join("\n")}`, "wrong_input");
    }

    // Hypervisor parameters: merged per hypervisor; unknown keys refused.
    this.newHvparams = structuredClone(cluster.hvparams);
    const hvDefaults = DEFAULT_HVPARAMS as Record<string, Dict>;
    const changedHvs = new Set<string>();
    for (const [hv, params] of Object.entries(op.hvparams ?? {})) {
      if (!Object.hasOwn(hvDefaults, hv)) throw new OpPrereqError(`Unknown hypervisor '${hv}'`, "wrong_input");
      // Ganeti's ForceDictType over every hypervisor's types (converted values are stored).
      const typed = ganetiCheck(() => forceParamTypes(params, HVS_PARAMETER_TYPES));
      this.newHvparams[hv] = { ...(own(this.newHvparams, hv) ?? {}), ...typed };
      changedHvs.add(hv);
    }
    for (const hv of op.enabled_hypervisors ?? []) {
      if (!Object.hasOwn(hvDefaults, hv)) continue;
      this.newHvparams[hv] = fillDict(hvDefaults[hv], own(this.newHvparams, hv));
      changedHvs.add(hv);
    }
    // Ganeti's CheckParameterSyntax of each changed hypervisor's filled parameters.
    for (const hv of changedHvs) checkHvParams(hv, fillDict(hvDefaults[hv], this.newHvparams[hv]), { partial: false });
    // Ganeti's _CheckHVParams: changed parameters of enabled hypervisors are
    // validated by every node (kvm: the kernel and qemu named exist there).
    const enabledHvs = op.enabled_hypervisors ?? cluster.enabled_hypervisors;
    const nodes = Object.values(this.data.nodes);
    for (const hv of Object.keys(op.hvparams ?? {})) {
      if (!enabledHvs.includes(hv)) continue;
      await checkHvParamsOnNodes(this.ctx, nodes, hv, fillDict(hvDefaults[hv], this.newHvparams[hv]));
    }

    this.newOsHvp = structuredClone(cluster.os_hvp);
    for (const [os, hvs] of Object.entries(op.os_hvp ?? {})) {
      ganetiCheck(() => checkOsName(os));
      const cur = own(this.newOsHvp, os) ?? (this.newOsHvp[os] = {});
      for (const [hv, params] of Object.entries(hvs)) {
        if (params === null) delete cur[hv];
        else {
          if (!Object.hasOwn(hvDefaults, hv)) throw new OpPrereqError(`Unknown hypervisor '${hv}'`, "wrong_input");
          cur[hv] = { ...(own(cur, hv) ?? {}), ...ganetiCheck(() => forceParamTypes(params as Dict, HVS_PARAMETER_TYPES)) };
          checkHvParams(hv, fillDict(hvDefaults[hv], own(this.newHvparams, hv), cur[hv]), { partial: false });
        }
      }
      if (Object.keys(cur).length === 0) delete this.newOsHvp[os];
    }

    const updOs = (source: Record<string, Dict>, upd: Record<string, Dict> | null) => {
      if (!upd) return source;
      const out = structuredClone(source);
      for (const [os, params] of Object.entries(upd)) {
        ganetiCheck(() => checkOsName(os));
        out[os] = getUpdatedParams(own(out, os) ?? {}, params, { useNone: true });
        if (Object.keys(out[os]!).length === 0) delete out[os];
      }
      return out;
    };
    this.newOsparams = updOs(cluster.osparams, op.osparams);
    this.newOsparamsPrivate = updOs(cluster.osparams_private_cluster, op.osparams_private_cluster);

    this.newDiskparams = structuredClone(cluster.diskparams);
    for (const [dt, params] of Object.entries(op.diskparams ?? {}))
      this.newDiskparams[dt] = { ...(this.newDiskparams[dt] ?? {}), ...(params as Dict) };

    // Checked here, before exec touches the live config (Ganeti checks some in exec).
    for (const r of op.remove_uids ?? [])
      if (!cluster.uid_pool.some(([a, b]) => a === r[0] && b === r[1]))
        throw new OpPrereqError(`User-id range to be removed is not found in the current user-id pool: (${r[0]}, ${r[1]})`, "wrong_input");
    for (const [action] of [...(op.hidden_os ?? []), ...(op.blacklisted_os ?? [])])
      if (action !== "add" && action !== "remove") throw new OpPrereqError(`Invalid modification '${action}'`, "wrong_input");
    if (op.zeroing_image !== null) checkImage(op.zeroing_image, "Zeroing image must be an absolute path or a URL");

    if (op.default_iallocator && op.default_iallocator !== "hail")
      throw new OpPrereqError(`Invalid default iallocator script '${op.default_iallocator}' specified`, "wrong_input");

    for (const name of Object.keys({ ...(op.enabled_data_collectors ?? {}), ...(op.data_collector_interval ?? {}) }))
      if (!(name in cluster.enabled_data_collectors)) throw new OpPrereqError(`Unknown data collector '${name}'`, "wrong_input");

    if (op.instance_communication_network) {
      const net = this.cfg.findNetwork(op.instance_communication_network);
      if (net && net.name === op.instance_communication_network) {
        const warn = (what: string, val: unknown, def: unknown) => {
          if (val !== def)
            logWarning(
              this.ctx,
              `Supplied instance communication network '${net.name}' ${what} '${String(val)}', this might pose a security risk (default is '${String(def)}').`,
            );
        };
        warn("has an IPv4 gateway", net.gateway, null);
        warn("has a non-standard IPv4 network address", net.network, ICN_NETWORK4);
        warn("has an IPv6 gateway", net.gateway6, null);
        warn("has a non-standard MAC prefix", net.mac_prefix, ICN_MAC_PREFIX);
      }
    }
  }

  /**
   * The nodes decide which directories file storage may use (their
   * file-storage-paths, not settable through the RAPI): a new cluster-wide
   * directory must be allowed by every online node that can host instances.
   * Asked after the synchronous prerequisites, before anything changes.
   */
  private async checkFileStoragePaths(): Promise<void> {
    const nodes = this.cfg.nodes().filter((n) => !n.offline && n.vm_capable);
    for (const dir of [this.op.file_storage_dir, this.op.shared_file_storage_dir]) {
      if (dir === null || dir === undefined || dir === "") continue;
      const res = await this.ctx.rpc.callMany(nodes, "file_storage_path_check", { path: dir });
      for (const node of nodes) {
        const r = res.get(node.uuid);
        if (!r) continue;
        if (!r.ok) {
          logWarning(this.ctx, `Could not check the file storage path on node ${node.name}: ${r.error}`);
          continue;
        }
        if (r.result !== null) throw new OpPrereqError(r.result, "wrong_input");
      }
    }
  }

  async exec(): Promise<null | { jobs: SubmitResult[] }> {
    await this.checkFileStoragePaths();
    const op = this.op;
    const feedback = (msg: string) => this.ctx.log(msg);
    let icnJobs: OpcodeInput[] | null = null;
    await this.cfg.mutate((d) => {
      const c = d.cluster;
      if (op.enabled_disk_templates && op.enabled_disk_templates.length) c.enabled_disk_templates = [...op.enabled_disk_templates];
      if (op.vg_name !== null) {
        const vg = op.vg_name || null;
        if (vg !== c.volume_group_name) c.volume_group_name = vg;
        else feedback("Cluster LVM configuration already in desired state, not changing");
      }
      if (op.file_storage_dir !== null) {
        if (c.file_storage_dir === op.file_storage_dir) feedback(`Global file storage dir already set to value '${c.file_storage_dir}'`);
        else c.file_storage_dir = op.file_storage_dir;
      }
      if (op.shared_file_storage_dir !== null) {
        if (c.shared_file_storage_dir === op.shared_file_storage_dir)
          feedback(`Global shared file storage dir already set to value '${c.shared_file_storage_dir}'`);
        else c.shared_file_storage_dir = op.shared_file_storage_dir;
      }
      if (op.gluster_storage_dir !== null) c.gluster_storage_dir = op.gluster_storage_dir;
      if (op.drbd_helper !== null) {
        if (!c.enabled_disk_templates.includes("drbd"))
          feedback("Note that you specified a drbd user helper, but did not enable the drbd disk template.");
        const helper = op.drbd_helper || null;
        if (helper !== c.drbd_usermode_helper) c.drbd_usermode_helper = helper;
        else feedback("Cluster DRBD helper already in desired state, not changing");
      }
      for (const [name, val] of Object.entries(op.enabled_data_collectors ?? {})) c.enabled_data_collectors[name] = val;
      for (const [name, val] of Object.entries(op.data_collector_interval ?? {})) c.data_collector_interval[name] = Math.trunc(val);
      if (op.hvparams) c.hvparams = this.newHvparams;
      if (op.os_hvp) c.os_hvp = this.newOsHvp;
      if (op.enabled_hypervisors !== null) {
        c.hvparams = this.newHvparams;
        c.enabled_hypervisors = [...op.enabled_hypervisors];
      }
      if (this.newBeparams) c.beparams["default"] = this.newBeparams;
      if (this.newNicparams) c.nicparams["default"] = this.newNicparams;
      if (this.newIpolicy) c.ipolicy = this.newIpolicy as typeof c.ipolicy;
      if (op.osparams) c.osparams = this.newOsparams;
      if (op.osparams_private_cluster) c.osparams_private_cluster = this.newOsparamsPrivate;
      if (this.newNdparams) c.ndparams = this.newNdparams;
      if (op.diskparams) c.diskparams = this.newDiskparams;
      if (op.candidate_pool_size !== null) {
        c.candidate_pool_size = op.candidate_pool_size;
        adjustCandidatePool(this.ctx, d, []);
      }
      if (op.max_running_jobs !== null) c.max_running_jobs = op.max_running_jobs;
      if (op.max_tracked_jobs !== null) c.max_tracked_jobs = op.max_tracked_jobs;
      if (op.maintain_node_health !== null) c.maintain_node_health = op.maintain_node_health;
      if (op.modify_etc_hosts !== null) c.modify_etc_hosts = op.modify_etc_hosts;
      if (op.prealloc_wipe_disks !== null) c.prealloc_wipe_disks = op.prealloc_wipe_disks;
      if (op.add_uids) {
        for (const r of op.add_uids) if (!c.uid_pool.some(([a, b]) => a === r[0] && b === r[1])) c.uid_pool.push([r[0], r[1]]);
        c.uid_pool.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      }
      if (op.remove_uids) {
        for (const r of op.remove_uids) {
          const i = c.uid_pool.findIndex(([a, b]) => a === r[0] && b === r[1]);
          if (i >= 0) c.uid_pool.splice(i, 1);
        }
      }
      if (op.uid_pool !== null) c.uid_pool = op.uid_pool.map(([a, b]) => [a, b] as [number, number]);
      if (op.default_iallocator !== null) c.default_iallocator = op.default_iallocator;
      if (op.default_iallocator_params !== null) c.default_iallocator_params = op.default_iallocator_params;
      if (op.reserved_lvs !== null) c.reserved_lvs = [...op.reserved_lvs];
      if (op.use_external_mip_script !== null) c.use_external_mip_script = op.use_external_mip_script;
      if (op.enabled_user_shutdown !== null) c.enabled_user_shutdown = op.enabled_user_shutdown;
      const osList = (list: string[], mods: Array<[string, string]>, desc: string) => {
        for (const [action, os] of mods) {
          if (action === "add") {
            if (list.includes(os)) feedback(`OS ${os} already in ${desc} OS list, ignoring`);
            else list.push(os);
          } else if (action === "remove") {
            const i = list.indexOf(os);
            if (i >= 0) list.splice(i, 1);
            else feedback(`OS ${os} not found in ${desc} OS list, ignoring`);
          }
        }
      };
      if (op.hidden_os) osList(c.hidden_os, op.hidden_os, "hidden");
      if (op.blacklisted_os) osList(c.blacklisted_os, op.blacklisted_os, "blacklisted");
      if (this.macPrefix) c.mac_prefix = this.macPrefix;
      if (op.master_netdev) {
        feedback(`Changing master_netdev from ${c.master_netdev} to ${op.master_netdev}`);
        c.master_netdev = op.master_netdev;
      }
      if (op.master_netmask) {
        feedback(`Changing master IP netmask to ${op.master_netmask}`);
        c.master_netmask = op.master_netmask;
      }
      if (op.install_image) c.install_image = op.install_image;
      if (op.zeroing_image !== null) c.zeroing_image = op.zeroing_image;
      if (op.compression_tools !== null) c.compression_tools = [...op.compression_tools];
      if (op.instance_communication_network !== null) icnJobs = this.instanceCommunication(d, feedback);
      this.cfg.touch(c);
    });
    if (icnJobs && (icnJobs as OpcodeInput[]).length) return { jobs: await this.ctx.submitJobs([icnJobs]) };
    return null;
  }

  /** Ganeti's _ModifyInstanceCommunicationNetwork: one job creating/connecting the network. */
  private instanceCommunication(d: typeof this.data, feedback: (m: string) => void): OpcodeInput[] | null {
    const name = this.op.instance_communication_network ?? "";
    const current = d.cluster.instance_communication_network;
    if (name === current) {
      feedback(`Instance communication network already is '${name}', nothing to do.`);
      return null;
    }
    if (current && this.cfg.findNetwork(current))
      feedback(`Previous instance communication network '${current}' should be removed manually.`);
    feedback(
      name
        ? `Changing instance communication network to '${name}', only new instances will be affected.`
        : "Disabling instance communication network, only new instances will be affected.",
    );
    d.cluster.instance_communication_network = name;
    if (!name) return null;
    const net = this.cfg.findNetwork(name);
    const exists = net !== undefined && net.name === name;
    const ops: OpcodeInput[] = [];
    if (!exists)
      ops.push({
        OP_ID: "OP_NETWORK_ADD",
        network_name: name,
        network: ICN_NETWORK4,
        mac_prefix: ICN_MAC_PREFIX,
        conflicts_check: true,
        tags: [],
      });
    for (const g of this.cfg.groups()) if (!exists || !(net!.uuid in g.networks)) ops.push(connectInstanceCommunicationOp(g.name, name));
    return ops;
  }
}

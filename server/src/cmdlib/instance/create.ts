// OP_INSTANCE_CREATE (Ganeti's LUInstanceCreate), mode "create" with the
// diskless, file and sharedfile templates: nodes from pnode or an allocator,
// OS validated on the primary, disks created (and rolled back on failure),
// OS create script, start. Result: node names (dry run: node uuids).
import {
  checkOsName,
  templateMirror,
  forceParamTypes,
  HVS_PARAMETER_TYPES,
  normalizeHostname,
  type DiskObject,
  type InstanceObject,
  type NodeObject,
  type OpInstanceCreate,
} from "@ganeti-ts/schema";
import { fillDict } from "../../config/cluster-config.js";
import { DEFAULT_HVPARAMS, DEFAULT_NICPARAMS } from "../../config/defaults.js";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";
import {
  checkHvparamsNotGlobal,
  checkMemoryRange,
  checkOsParams,
  filledBeparams,
  forceBeparams,
  osSearchPath,
  resolveHostname,
  rpcInstance,
  upgradeBeparams,
} from "../common/instance-params.js";
import {
  checkNicsBridgesExist,
  computeNics,
  materializeNics,
  releaseNicIps,
  reserveNicIps,
  resolveNicNetworks,
  type NicInput,
  type NicPlan,
} from "../common/nics.js";
import {
  checkHvParamsOnNodes,
  checkNodeFreeMemory,
  checkNodeNotDrained,
  checkNodeOnline,
  checkNodeVmCapable,
} from "../common/node-checks.js";
import { computeDiskSpecs, type DiskSpec } from "../common/disk-specs.js";
import { createDisks, generateDisks, removeDisks, shutdownInstanceDisks, startInstanceDisks, waitForDiskSync } from "../common/disks.js";
import { errText, formatUnit, logInfo, logWarning } from "../common/messages.js";
import { releaseInstancePorts } from "../common/instance-removal.js";
import { releaseDrbdDisk } from "../../config/drbd.js";
import { SUPPORTED_TEMPLATES } from "../disk-templates/registry.js";
import { validateTag } from "../misc/tags-common.js";
import { checkHvParams, checkBeRanges, ganetiCheck } from "../common/params.js";
import { checkInstanceSpecPolicy } from "../group/ipolicy.js";
import { allocateRequest, allocatorName, requiredNodes, resultNodes, runAllocator } from "../iallocator.js";

/** Hypervisors that need a console/VNC port (Ganeti's HTS_REQ_PORT). */
const HTS_REQ_PORT = ["xen-hvm", "kvm"];

/** Ganeti's disk-template resolution: default = first enabled; must be enabled. */
function checkDiskTemplate(enabled: string[], template: string | null | undefined): string {
  const t = template ?? enabled[0];
  if (!t) throw new OpPrereqError("No disk template specified and no default disk template enabled in the cluster", "wrong_input");
  if (!enabled.includes(t))
    throw new OpPrereqError(`Disk template '${t}' is not enabled in cluster. Enabled disk templates are: ${enabled.join(",")}`);
  if (!SUPPORTED_TEMPLATES.includes(t))
    throw new OpPrereqError(`Disk template '${t}' is not supported by this cluster implementation`, "wrong_input");
  return t;
}

export class LUInstanceCreate extends LogicalUnit<OpInstanceCreate> {
  private name = "";
  private template = "";
  private hypervisor = "";
  private be: Record<string, unknown> = {};
  private hv: Record<string, unknown> = {};
  private diskSpecs: DiskSpec[] = [];
  private nics: NicPlan[] = [];
  private pnodeUuid: string | null = null;
  /** Internally mirrored templates (drbd): the secondary node. */
  private snodeUuid: string | null = null;
  private allocator: string | null = null;
  private start = true;

  override checkArguments(): void {
    const op = this.op;
    if (op.mode !== "create")
      throw new OpPrereqError(`Instance creation mode '${op.mode}' is not supported by this cluster implementation`, "wrong_input");
    if (op.forthcoming || op.commit)
      throw new OpPrereqError("Forthcoming instances are not supported by this cluster implementation", "wrong_input");
    this.start = op.start;
    // Ganeti's Hostname.GetNormalizedName: lower case, hostname characters.
    this.name = ganetiCheck(() => normalizeHostname(op.instance_name));
    if (op.os_type) ganetiCheck(() => checkOsName(op.os_type!));
    for (const tag of op.tags) validateTag(tag);
    if (op.no_install && op.start) {
      logInfo(this.ctx, "No-installation mode selected, disabling startup");
      this.start = false;
    }
    if (op.ip_check && !op.name_check) throw new OpPrereqError("Cannot do IP address check without a name check", "wrong_input");
    if (!op.os_type && !op.no_install) throw new OpPrereqError("No guest OS or OS image specified", "wrong_input");
    this.be = forceBeparams(upgradeBeparams(op.beparams ?? {}));
    this.diskSpecs = computeDiskSpecs(op.disks as Array<Record<string, unknown>>);
  }

  expandNames(): LockDecl {
    const cfg = this.cfg;
    const op = this.op;
    if (cfg.instances().some((i) => i.name === this.name))
      throw new OpPrereqError(`Instance '${this.name}' is already in the cluster`, "already_exists");
    this.template = checkDiskTemplate(cfg.cluster.enabled_disk_templates, op.disk_template);
    this.hypervisor = op.hypervisor ?? cfg.cluster.enabled_hypervisors[0] ?? "fake";
    if (!cfg.cluster.enabled_hypervisors.includes(this.hypervisor))
      throw new OpPrereqError(
        `Selected hypervisor (${this.hypervisor}) not enabled in the cluster (${cfg.cluster.enabled_hypervisors.join(",")})`,
        "wrong_state",
      );
    // Ganeti's ForceDictType over every hypervisor's types, then the chosen
    // hypervisor's syntax check of the filled parameters.
    this.hv = ganetiCheck(() => forceParamTypes(op.hvparams ?? {}, HVS_PARAMETER_TYPES));
    checkHvParams(this.hypervisor, cfg.filledHvparams({ hypervisor: this.hypervisor, os: op.os_type ?? "", hvparams: this.hv }), {
      partial: false,
    });
    checkHvparamsNotGlobal(op.hvparams ?? {}, this.hypervisor);
    const pnode = op.pnode ?? op.pnode_uuid;
    if (pnode && op.iallocator) throw new OpPrereqError("Do not specify both, iallocator and node", "wrong_input");
    if (!pnode || op.iallocator === ".") {
      const name = allocatorName(cfg, op.iallocator);
      if (!name)
        throw new OpPrereqError(
          "No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator",
          "wrong_input",
        );
      this.allocator = name;
    } else {
      this.pnodeUuid = cfg.expandNode(pnode).uuid;
    }
    const snode = op.snode ?? op.snode_uuid;
    if (templateMirror(this.template) === "internal") {
      if (this.pnodeUuid && !snode) throw new OpPrereqError("The networked disk templates need a mirror node", "wrong_input");
      if (this.pnodeUuid && snode) this.snodeUuid = cfg.expandNode(snode).uuid;
    } else if (snode) logWarning(this.ctx, "Secondary node will be ignored on non-mirrored disk template");
    const nodes = [this.pnodeUuid!, ...(this.snodeUuid ? [this.snodeUuid] : [])];
    return {
      // The name itself: two creations of one name exclude each other.
      instance: { names: [this.name], shared: false },
      node: { names: this.allocator ? "all" : nodes, shared: false },
    };
  }

  override declareLocks(_level: LockLevel): LockSet | undefined {
    return undefined;
  }

  private get pnode(): NodeObject {
    return this.cfg.node(this.pnodeUuid!);
  }

  async checkPrereq(): Promise<void> {
    const cfg = this.cfg;
    const op = this.op;
    let defaultIp: string | null = null;
    if (op.name_check) {
      const host = await resolveHostname(this.name);
      defaultIp = host.ip;
    }
    // ip_check would ping the instance address; this implementation never probes non-loopback hosts.
    this.nics = computeNics(cfg, op.nics as NicInput[], { nameCheck: op.name_check, defaultIp });
    const full = filledBeparams(this.be, cfg);
    checkMemoryRange(full);

    if (this.allocator) {
      const res = await runAllocator(
        this.ctx,
        this.allocator,
        allocateRequest({
          name: this.name,
          disk_template: this.template,
          tags: op.tags,
          os: op.os_type ?? "",
          vcpus: Number(full["vcpus"]),
          memory: Number(full["maxmem"]),
          spindle_use: Number(full["spindle_use"]),
          disks: this.diskSpecs.map((d) => ({ size: d.size, mode: d.mode, spindles: d.spindles })),
          nics: this.nics.map((n) => ({
            mac: n.mac,
            ip: n.ip,
            mode: n.nicparams["mode"] ?? null,
            link: n.nicparams["link"] ?? null,
            network: n.network,
          })),
          hypervisor: this.hypervisor,
          group_name: op.group_name,
        }),
        { hypervisor: this.hypervisor },
      );
      const nodes = resultNodes(cfg, this.allocator, res, requiredNodes(this.template));
      this.pnodeUuid = nodes[0]!.uuid;
      this.snodeUuid = nodes[1]?.uuid ?? null;
      logInfo(
        this.ctx,
        `Selected nodes for instance ${this.name} via iallocator ${this.allocator}: ${nodes.map((n) => n.name).join(", ")}`,
      );
    }
    const pnode = this.pnode;
    if (pnode.offline) throw new OpPrereqError(`Cannot use offline primary node '${pnode.name}'`, "wrong_state");
    if (pnode.drained) throw new OpPrereqError(`Cannot use drained primary node '${pnode.name}'`, "wrong_state");
    if (!pnode.vm_capable) throw new OpPrereqError(`Cannot use non-vm_capable primary node '${pnode.name}'`, "wrong_state");

    // Ganeti's mirror node verification.
    const snode = this.snodeUuid ? cfg.node(this.snodeUuid) : null;
    if (snode) {
      if (snode.uuid === pnode.uuid) throw new OpPrereqError("The secondary node cannot be the primary node", "wrong_input");
      checkNodeOnline(snode);
      checkNodeNotDrained(snode);
      checkNodeVmCapable(snode);
      if (snode.group !== pnode.group)
        logWarning(
          this.ctx,
          "The primary and secondary nodes are in two different node groups; the disk parameters from the first disk's node group will be used",
        );
    }
    const instNodes = snode ? [pnode, snode] : [pnode];

    const group = cfg.group(pnode.group);
    checkInstanceSpecPolicy(
      cfg.filledIpolicy(group),
      group,
      [
        {
          memory: Number(full["maxmem"]),
          cpus: Number(full["vcpus"]),
          nics: this.nics.length,
          spindles: Number(full["spindle_use"]),
          diskSizes: this.diskSpecs.map((d) => d.size),
          diskTypes: this.diskSpecs.map(() => this.template),
        },
      ],
      op.ignore_ipolicy,
    );
    checkBeRanges(full);

    resolveNicNetworks(this.ctx, this.nics, pnode.group, pnode.name, { conflictsCheck: op.conflicts_check });
    await checkHvParamsOnNodes(
      this.ctx,
      instNodes,
      this.hypervisor,
      fillDict(
        fillDict((DEFAULT_HVPARAMS as Record<string, Record<string, unknown>>)[this.hypervisor], cfg.cluster.hvparams[this.hypervisor]),
        op.hvparams ?? {},
      ),
    );
    if (op.os_type) {
      const osparams = fillDict(cfg.filledOsparams({ os: op.os_type, osparams: {} }), op.osparams ?? {}, op.osparams_private ?? {});
      await checkOsParams(this.ctx, instNodes, op.os_type, osparams);
    }
    await checkNicsBridgesExist(this.ctx, this.nics, pnode);
    if (this.start) await checkNodeFreeMemory(this.ctx, pnode, `creating instance ${this.name}`, Number(full["maxmem"]), this.hypervisor);
  }

  override dryRunResult(): unknown {
    return this.snodeUuid ? [this.pnodeUuid, this.snodeUuid] : [this.pnodeUuid];
  }

  /** Ganeti's identify_defaults: drop values equal to the cluster's. */
  private stripDefaults(inst: InstanceObject): void {
    const cfg = this.cfg;
    const clusterBe = filledBeparams({}, cfg);
    for (const [k, v] of Object.entries(inst.beparams)) if (clusterBe[k] === v) delete inst.beparams[k];
    const clusterHv = fillDict(
      (DEFAULT_HVPARAMS as Record<string, Record<string, unknown>>)[inst.hypervisor],
      cfg.cluster.hvparams[inst.hypervisor],
    );
    for (const [k, v] of Object.entries(inst.hvparams)) if (clusterHv[k] === v) delete inst.hvparams[k];
    const clusterNic = fillDict(DEFAULT_NICPARAMS, cfg.cluster.nicparams["default"]);
    for (const nic of inst.nics) {
      if (nic.network) continue;
      for (const [k, v] of Object.entries(nic.nicparams)) if (clusterNic[k] === v) delete nic.nicparams[k];
    }
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const op = this.op;
    const pnode = this.pnode;
    const now = cfg.now();
    const uuid = cfg.newUuid();
    const nics = materializeNics(cfg, this.nics);
    const disks: DiskObject[] = generateDisks(cfg, this.template, {
      instanceName: this.name,
      instanceUuid: uuid,
      primary: pnode.uuid,
      secondaries: this.snodeUuid ? [this.snodeUuid] : [],
      specs: this.diskSpecs,
      fileDriver: op.file_driver,
      storageSubdir: op.file_storage_dir,
    });
    const inst: InstanceObject = {
      uuid,
      serial_no: 1,
      ctime: now,
      mtime: now,
      tags: [...op.tags],
      name: this.name,
      primary_node: pnode.uuid,
      secondary_nodes: this.snodeUuid ? [this.snodeUuid] : [],
      os: op.os_type ?? "",
      hypervisor: this.hypervisor,
      hvparams: { ...this.hv },
      beparams: { ...this.be },
      osparams: { ...(op.osparams ?? {}) },
      osparams_private: { ...(op.osparams_private ?? {}) },
      // Marked up only right before the start (Ganeti's order): a create
      // interrupted earlier leaves an instance that is down and says so.
      admin_state: "down",
      admin_state_source: "admin",
      nics,
      disks: disks.map((d) => d.uuid),
      disk_template: this.template,
      disks_active: disks.length > 0,
      network_port: HTS_REQ_PORT.includes(this.hypervisor) ? cfg.allocatePort() : null,
    };
    if (op.identify_defaults) this.stripDefaults(inst);

    disks.forEach((d, i) => this.ctx.log(`* disk ${i}, size ${formatUnit(d.size)}`));
    this.ctx.log("* creating instance disks...");
    try {
      await createDisks(this.ctx, inst, disks, pnode);
    } catch (err) {
      // The generated disks never reach the config: their ports and minors go back.
      for (const d of disks) releaseDrbdDisk(cfg, d);
      throw err;
    }

    this.ctx.log(`adding instance ${inst.name} to cluster config`);
    try {
      await cfg.mutate((data) => {
        if (Object.values(data.instances).some((i) => i.name === inst.name))
          throw new OpExecError(`Instance '${inst.name}' is already in the cluster`);
        reserveNicIps(cfg, nics);
        data.instances[inst.uuid] = inst;
        for (const d of disks) data.disks[d.uuid] = d;
      });
    } catch (err) {
      await removeDisks(this.ctx, inst, disks);
      for (const d of disks) releaseDrbdDisk(cfg, d);
      throw err;
    } finally {
      cfg.releaseMacs(nics.map((n) => n.mac));
    }
    this.ctx.log("adding disks to cluster config");

    if (disks.length) {
      // Ganeti's _RemoveDegradedDisks: wait for the mirrors (or, without
      // wait_for_sync, look once that none is degraded; syncing is fine).
      let degraded = false;
      if (op.wait_for_sync) degraded = !(await waitForDiskSync(this.ctx, inst));
      else if (templateMirror(this.template) === "internal") {
        this.ctx.log("* checking mirrors status");
        degraded = !(await waitForDiskSync(this.ctx, inst, undefined, { oneshot: true }));
      }
      if (degraded) {
        await this.rollback(inst);
        throw new OpExecError("There are some degraded disks for this instance");
      }
      if (!op.no_install) {
        if (op.wait_for_sync) await waitForDiskSync(this.ctx, inst);
        this.ctx.log("* running the instance OS create scripts...");
        try {
          await startInstanceDisks(this.ctx, inst, null);
          await this.ctx.rpc.call(pnode, "instance_os_add", {
            instance: rpcInstance(cfg, inst),
            reinstall: false,
            debug: op.debug_level ?? 0,
            search_path: osSearchPath(cfg),
            ...(op.osparams_secret ? { osparams_secret: op.osparams_secret } : {}),
          });
        } catch (err) {
          await this.rollback(inst);
          throw new OpExecError(`Could not add os for instance ${inst.name} on node ${pnode.name}: ${errText(err)}`, { cause: err });
        }
      }
    }

    if (this.start) {
      await cfg.mutate(() => {
        inst.admin_state = "up";
        cfg.touch(inst);
      });
      this.ctx.log("* starting instance...");
      try {
        if (disks.length) await startInstanceDisks(this.ctx, inst, null);
        await this.ctx.rpc.call(pnode, "instance_start", { instance: rpcInstance(cfg, inst), startup_paused: false });
      } catch (err) {
        throw new OpExecError(`Could not start instance: ${errText(err)}`, { cause: err });
      }
    } else if (disks.length) {
      await shutdownInstanceDisks(this.ctx, inst);
    }
    return this.snodeUuid ? [pnode.name, cfg.node(this.snodeUuid).name] : [pnode.name];
  }

  /** Undo a half-created instance: disks on the node, then the config entries. */
  private async rollback(inst: InstanceObject): Promise<void> {
    const cfg = this.cfg;
    const disks = cfg.instanceDisks(inst);
    await removeDisks(this.ctx, inst, disks);
    await cfg.mutate((data) => {
      releaseNicIps(cfg, inst.nics);
      releaseInstancePorts(cfg, inst);
      for (const d of inst.disks) delete data.disks[d];
      delete data.instances[inst.uuid];
    });
  }
}

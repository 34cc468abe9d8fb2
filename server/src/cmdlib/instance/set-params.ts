// OP_INSTANCE_SET_PARAMS (Ganeti's LUInstanceSetParams): be/hv/os params,
// OS name, offline flag, runtime memory, primary node of a stopped instance,
// disk and NIC modification lists. Result: Ganeti's [name, value] change list.
import {
  checkOsName,
  diskTemplateInfo,
  forceParamTypes,
  HVS_PARAMETER_TYPES,
  templateMirror,
  type DiskObject,
  type NicObject,
  type OpInstanceSetParams,
  type RpcDisk,
  type RpcNic,
} from "@ganeti-ts/schema";
import { fillDict } from "../../config/cluster-config.js";
import { releaseDrbdDisk } from "../../config/drbd.js";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import type { LockDecl, LockLevel, LockSet } from "../base.js";
import { checkHvParamsOnNodes, checkNodeNotDrained, checkNodeOnline, checkNodeVmCapable, nodeFreeMemory } from "../common/node-checks.js";
import {
  checkHvparamsNotGlobal,
  checkMemoryRange,
  checkOsParams,
  filledBeparams,
  forceBeparams,
  rpcInstance,
  upgradeBeparams,
} from "../common/instance-params.js";
import { checkInstanceState, INSTANCE_DOWN, INSTANCE_NOT_RUNNING } from "../common/instance-state.js";
import { computeDiskSpecs } from "../common/disk-specs.js";
import {
  computeNics,
  materializeNics,
  nicDescription,
  normalizeMac,
  releaseNicIps,
  reserveNicIps,
  resolveNicNetworks,
  type NicInput,
  type NicPlan,
} from "../common/nics.js";
import { createDisks, generateDisks, nodeRpcDisk, removeDisks, waitForDiskSync } from "../common/disks.js";
import { checkTargetNodeIpolicy } from "../common/instance-policy.js";
import { hasDiskStrategy } from "../disk-templates/registry.js";
import { errText, formatUnit, logInfo, logWarning } from "../common/messages.js";
import { getUpdatedParams } from "../common/node.js";
import { checkBeRanges, checkHvParams, ganetiCheck } from "../common/params.js";
import { checkInstanceSpecPolicy } from "../group/ipolicy.js";
import { allocateSecondaryRequest, runAllocatorOutcome } from "../iallocator.js";
import { InstanceLU } from "./instance-lu.js";

type Params = Record<string, unknown>;
type Action = "add" | "attach" | "remove" | "detach" | "modify";
interface Mod {
  action: Action;
  ident: number | string;
  params: Params;
}

/** Ganeti's PrepareContainerMods: both list forms → [action, identifier, params]. */
function normalizeMods(mods: unknown[]): Mod[] {
  return mods.map((m) => {
    const item = m as unknown[];
    if (item.length === 3) return { action: item[0] as Action, ident: item[1] as number | string, params: (item[2] ?? {}) as Params };
    const [op, params] = item as [string | number, Params];
    if (typeof op === "number") return { action: "modify", ident: op, params: params ?? {} };
    return { action: op as Action, ident: -1, params: params ?? {} };
  });
}

/** Ganeti's GetItemFromContainer. */
function findItem<T extends { uuid: string; name: string | null }>(kind: string, ident: number | string, items: T[]): number {
  if (typeof ident === "number" || /^-?\d+$/.test(String(ident))) {
    const idx = Number(ident);
    if (idx === -1) {
      if (items.length === 0) throw new OpPrereqError(`Got ${kind} index -1, but there are only 0`, "wrong_input");
      return items.length - 1;
    }
    if (idx < 0) throw new OpPrereqError("Not accepting negative indices other than -1", "wrong_input");
    if (idx >= items.length) throw new OpPrereqError(`Got ${kind} index ${idx}, but there are only ${items.length}`, "wrong_input");
    return idx;
  }
  const i = items.findIndex((it) => it.uuid === ident || it.name === ident);
  if (i < 0) throw new OpPrereqError(`Cannot find ${kind} with identifier ${ident}`, "unknown_entity");
  return i;
}

function addIndex(kind: string, ident: number | string, len: number): number {
  const idx = Number(ident);
  if (!Number.isInteger(idx)) throw new OpPrereqError(`Invalid ${kind} index '${String(ident)}'`, "wrong_input");
  if (idx === -1) return len;
  if (idx < 0) throw new OpPrereqError("Not accepting negative indices other than -1", "wrong_input");
  if (idx > len) throw new OpPrereqError(`Got ${kind} index ${idx}, but there are only ${len}`, "wrong_input");
  return idx;
}

const DISK_MODIFIABLE = ["mode", "name"];

export class LUInstanceSetParams extends InstanceLU<OpInstanceSetParams> {
  private diskMods: Mod[] = [];
  private nicMods: Mod[] = [];
  private beForced: Params = {};
  /** The instance's own hvparams after the change, typed (null: unchanged). */
  private hvInst: Params | null = null;
  /** Disk sizes after the disk modifications (null: unchanged). */
  private newDiskSizes: number[] | null = null;
  private newPnode: string | null = null;
  private changes: Array<[string, unknown]> = [];
  // Planned state, computed in checkPrereq and applied in exec.
  private newNics: Array<NicObject | NicPlan> | null = null;
  private nicChanges: Array<[string, unknown]> = [];
  private releasedIps: NicObject[] = [];
  /** op.hotplug, cleared when the instance is not up or its node cannot hotplug (Ganeti's _CheckHotplug). */
  private hotplug = false;
  /** NIC hotplug actions, by the change key their message follows. */
  private nicHot: Array<{ key: string; action: "hotadd" | "hotdel" | "hotmod"; uuid: string }> = [];
  /** NICs added or modified by this opcode (their bridges are checked). */
  private touchedNics: Array<NicObject | NicPlan> = [];
  private bridgeWarnings: string[] = [];
  /** Converting to an internally mirrored template: the new secondary. */
  private convSnode: string | null = null;
  /** ... or the iallocator that chooses it (in exec, as Ganeti does). */
  private convAllocator: string | null = null;

  override checkArguments(): void {
    const op = this.op;
    const hasChanges =
      op.nics.length ||
      op.disks.length ||
      op.disk_template ||
      Object.keys(op.hvparams).length ||
      Object.keys(op.beparams).length ||
      op.os_name ||
      Object.keys(op.osparams).length ||
      (op.offline !== null && op.offline !== undefined) ||
      op.runtime_mem ||
      op.pnode ||
      op.pnode_uuid ||
      (op.osparams_private && Object.keys(op.osparams_private).length) ||
      (op.instance_communication !== null && op.instance_communication !== undefined);
    if (!hasChanges) throw new OpPrereqError("No changes submitted", "wrong_input");
    if (op.disk_template) {
      if (op.disks.length)
        throw new OpPrereqError("Disk template conversion and other disk changes not supported at the same time", "wrong_input");
      const remote = op.remote_node ?? op.remote_node_uuid;
      if (templateMirror(op.disk_template) === "internal") {
        // Ganeti's CheckIAllocatorOrNode: a new secondary or an iallocator choosing one (else the cluster's default).
        if (remote && op.iallocator) throw new OpPrereqError("Do not specify both, iallocator and node", "wrong_input");
        if ((!remote && !op.iallocator) || op.iallocator === ".") {
          const def = this.cfg.cluster.default_iallocator;
          if (!def)
            throw new OpPrereqError(
              "No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator",
              "wrong_input",
            );
          this.convAllocator = def;
        } else if (!remote) this.convAllocator = op.iallocator;
      } else if (remote) logWarning(this.ctx, "Changing the disk template to a non-mirrored one, the secondary node will be ignored");
    }
    if (Object.keys(op.hvparams).length) checkHvparamsNotGlobal(op.hvparams);
    if (op.os_name) ganetiCheck(() => checkOsName(op.os_name!));
    // Ganeti types the upgraded dict ("memory" reported as maxmem).
    forceBeparams(upgradeBeparams(op.beparams), { allowDefault: true });
    this.beForced = forceBeparams(op.beparams, { allowDefault: true });
    this.diskMods = normalizeMods(op.disks as unknown[]);
    this.nicMods = normalizeMods(op.nics as unknown[]);
    for (const m of this.diskMods) {
      if (m.action === "add") {
        if (m.params["size"] === undefined) throw new OpPrereqError("Required disk parameter 'size' missing", "wrong_input");
        computeDiskSpecs([m.params]);
      } else if (m.action === "modify") {
        if ("size" in m.params) throw new OpPrereqError("Disk size change not possible, use grow-disk", "wrong_input");
        const bad = Object.keys(m.params).filter((k) => !DISK_MODIFIABLE.includes(k));
        if (bad.length)
          throw new OpPrereqError(`Disk modification doesn't support additional arbitrary parameters: ${bad.join(", ")}`, "wrong_input");
        if (m.params["mode"] !== undefined && m.params["mode"] !== "rw" && m.params["mode"] !== "ro")
          throw new OpPrereqError(`Invalid disk access mode '${String(m.params["mode"])}'`, "wrong_input");
      }
    }
    for (const m of this.nicMods) {
      const mac = m.params["mac"];
      if (typeof mac === "string" && mac !== "auto" && mac !== "generate") normalizeMac(mac);
      if (m.action === "modify" && mac === "auto")
        throw new OpPrereqError("'auto' is not a valid MAC address when modifying an existing NIC", "wrong_input");
      if (m.action === "add" && typeof m.params["ip"] === "string" && m.params["ip"].toLowerCase() === "pool" && !m.params["network"])
        throw new OpPrereqError("If ip=pool, parameter network must be passed too", "wrong_input");
    }
  }

  override expandNames(): LockDecl {
    const decl = super.expandNames();
    const p = this.op.pnode ?? this.op.pnode_uuid;
    if (p) this.newPnode = this.cfg.expandNode(p).uuid;
    const remote = this.op.remote_node ?? this.op.remote_node_uuid;
    if (this.op.disk_template && remote && templateMirror(this.op.disk_template) === "internal")
      this.convSnode = this.cfg.expandNode(remote).uuid;
    return decl;
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    const base = super.declareLocks(level);
    // An iallocator choosing the new secondary: the primary's whole node group (Ganeti's GetNodeGroupMembersByNodes).
    if (level === "node" && this.convAllocator && base && base.names !== "all") {
      const groups = new Set(base.names.map((u) => this.cfg.node(u).group));
      const members = this.cfg
        .nodes()
        .filter((n) => groups.has(n.group))
        .map((n) => n.uuid);
      return { ...base, names: [...new Set([...base.names, ...members])] };
    }
    const extra = [this.newPnode, this.convSnode].filter((u): u is string => !!u);
    if (level === "node" && extra.length && base && base.names !== "all")
      return { ...base, names: [...new Set([...base.names, ...extra])] };
    return base;
  }

  /** Ganeti's _PreCheckDiskTemplate, for the conversions this implementation performs (a node copies the data). */
  private async checkConversion(to: string): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const disks = cfg.instanceDisks(inst);
    const from = disks.find((d) => !diskTemplateInfo(d.dev_type)?.convertibleFrom);
    if (from) throw new OpPrereqError(`Conversion from the '${inst.disk_template}' disk template is not supported`, "wrong_input");
    if (!diskTemplateInfo(to)?.convertibleTo)
      throw new OpPrereqError(`Conversion to the '${to}' disk template is not supported`, "wrong_input");
    if (!disks.length || !hasDiskStrategy(to) || !hasDiskStrategy(inst.disk_template))
      throw new OpPrereqError(`Unsupported disk template conversion from ${inst.disk_template} to ${to}`, "wrong_input");
    if (diskTemplateInfo(to)?.lvm && !cfg.cluster.volume_group_name)
      throw new OpPrereqError("Disk template conversions to lvm-based instances are not supported by the cluster", "wrong_state");
    await checkInstanceState(this.ctx, inst, INSTANCE_DOWN, "cannot change disk template");
    const pnode = this.pnode;
    if (this.convSnode) {
      const snode = cfg.node(this.convSnode);
      if (snode.uuid === pnode.uuid)
        throw new OpPrereqError(`Given new secondary node ${snode.name} is the same as the primary node of the instance`, "wrong_state");
      checkNodeOnline(snode);
      checkNodeNotDrained(snode);
      checkNodeVmCapable(snode);
      checkTargetNodeIpolicy(this.ctx, inst, snode, this.op.ignore_ipolicy);
      if (snode.group !== pnode.group)
        logWarning(
          this.ctx,
          "The primary and secondary nodes are in two different node groups; the disk parameters from the first disk's node group will be used",
        );
    }
    const allowed = (cfg.filledIpolicy(cfg.group(pnode.group))["disk-templates"] ?? []) as string[];
    if (!allowed.includes(to))
      throw new OpPrereqError(`Disk template '${to}' in not allowed (allowed templates: ${allowed.join(", ")})`, "wrong_state");
  }

  /**
   * Ganeti's _ConvertInstanceDisks: new empty disks of the new template, the
   * primary copies each old disk's data into its new one (blockdev_convert;
   * a drbd disk is read from its data volume), the config switches to the new
   * disks, the old ones are removed. A failed copy removes the new disks and
   * leaves the instance as it was.
   */
  private async convertDisks(to: string): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const old = inst.disk_template;
    const log = (m: string) => this.ctx.log(m);
    const pnode = this.pnode;
    const oldDisks = cfg.instanceDisks(inst);
    log(`Converting disk template from '${old}' to '${to}'`);
    if (this.convAllocator && !this.convSnode) {
      // Ganeti's _ConvertPlainToDrbd: the iallocator's allocate-secondary request.
      const name = this.convAllocator;
      log(`Using ${name} to choose new secondary`);
      const out = await runAllocatorOutcome(this.ctx, allocateSecondaryRequest(inst.name));
      if (!out.success)
        throw new OpPrereqError(`Can's find secondary node using iallocator ${name}: ${out.info}`, "insufficient_resources");
      const chosen = cfg.findNode(String(out.result));
      if (!chosen) throw new OpExecError(`iallocator ${name} returned an unknown node '${String(out.result)}'`);
      log(`${name} choose ${chosen.name} as new secondary`);
      this.convSnode = chosen.uuid;
    }
    log(`Generating new '${to}' disk template...`);
    const newDisks = generateDisks(cfg, to, {
      instanceName: inst.name,
      instanceUuid: inst.uuid,
      primary: pnode.uuid,
      secondaries: this.convSnode ? [this.convSnode] : [],
      specs: oldDisks.map((d) => ({ size: d.size, mode: d.mode, name: d.name, spindles: d.spindles })),
      fileDriver: this.op.file_driver,
      storageSubdir: this.op.file_storage_dir,
    });
    const release = () => newDisks.forEach((d) => releaseDrbdDisk(cfg, d));
    log(`Creating new empty disks of type '${to}'...`);
    try {
      await createDisks(this.ctx, inst, newDisks);
    } catch (err) {
      logWarning(this.ctx, "Device creation failed");
      release();
      throw err;
    }
    log(`Populating the new empty disks of type '${to}'...`);
    for (const [idx, [o, n]] of oldDisks.map((d, i) => [d, newDisks[i]!] as const).entries()) {
      log(` - copying data from disk ${idx} (${o.dev_type}), size ${formatUnit(n.size)}`);
      const srcChild = o.dev_type === "drbd" ? o.children?.[0] : undefined;
      const src = srcChild ? { ...cfg.rpcDisk(o, pnode.uuid).children![0]!, size: srcChild.size } : nodeRpcDisk(cfg, inst, o, pnode);
      try {
        await this.ctx.rpc.call(pnode, "blockdev_convert", { src, dst: nodeRpcDisk(cfg, inst, n, pnode) });
      } catch (err) {
        log(` - ERROR: Could not copy disk '${String(src.logical_id[1])}' to '${String(n.logical_id[1])}'`);
        logInfo(this.ctx, "Some disks failed to copy");
        logInfo(this.ctx, "The instance will not be affected, aborting operation");
        logInfo(this.ctx, `Removing newly created disks of type '${to}'...`);
        try {
          await removeDisks(this.ctx, inst, newDisks);
          logInfo(this.ctx, "Newly created disks removed successfully");
        } finally {
          release();
        }
        throw new OpExecError(`Error while converting the instance's template: ${errText(err)}`, { cause: err });
      }
    }
    log(`Detaching old disks (${old}) from the instance and removing them from cluster config`);
    log(`Adding new disks (${to}) to cluster config and attaching them to the instance`);
    const oldInst = structuredClone(inst);
    await cfg.mutate((data) => {
      for (const d of oldDisks) {
        releaseDrbdDisk(cfg, d);
        delete data.disks[d.uuid];
      }
      for (const d of newDisks) data.disks[d.uuid] = d;
      inst.disks = newDisks.map((d) => d.uuid);
      inst.disk_template = to;
      inst.secondary_nodes = this.convSnode ? [this.convSnode] : [];
      cfg.touch(inst);
    });
    if (!(await waitForDiskSync(this.ctx, inst, undefined, { oneshot: !this.op.wait_for_sync })))
      throw new OpExecError("There are some degraded disks for this instance, please cleanup manually");
    log(`Removing old block devices of type '${old}'...`);
    await removeDisks(this.ctx, oldInst, oldDisks);
  }

  async checkPrereq(): Promise<void> {
    const cfg = this.cfg;
    const op = this.op;
    const inst = this.instance;
    const pnode = this.pnode;
    if (Object.keys(op.hvparams).length) {
      checkHvparamsNotGlobal(op.hvparams, inst.hypervisor);
      // Ganeti's _ProcessHVParams: ForceDictType on the updated dict, then the
      // hypervisor's syntax check of the filled one, then CheckHVParams on the
      // instance's nodes.
      const typed = ganetiCheck(() => forceParamTypes(getUpdatedParams(inst.hvparams, op.hvparams), HVS_PARAMETER_TYPES));
      const filled = cfg.filledHvparams({ hypervisor: inst.hypervisor, os: op.os_name ?? inst.os, hvparams: typed });
      checkHvParams(inst.hypervisor, filled, { partial: false });
      this.hvInst = typed;
      await checkHvParamsOnNodes(
        this.ctx,
        cfg.instanceNodes(inst).map((u) => cfg.node(u)),
        inst.hypervisor,
        filled,
      );
    }

    if (this.newPnode && this.newPnode !== inst.primary_node) {
      if (templateMirror(inst.disk_template) === "internal")
        throw new OpPrereqError(`Instance's disk layout '${inst.disk_template}' does not allow changing the primary node`, "wrong_input");
      await checkInstanceState(this.ctx, inst, INSTANCE_NOT_RUNNING, "cannot change primary node");
      const n = cfg.node(this.newPnode);
      checkNodeOnline(n);
      checkNodeVmCapable(n);
    }

    if (op.disk_template) {
      if (inst.disk_template === op.disk_template)
        throw new OpPrereqError(`Instance already has disk template ${inst.disk_template}`, "wrong_input");
      if (!cfg.cluster.enabled_disk_templates.includes(op.disk_template))
        throw new OpPrereqError(
          `Disk template '${op.disk_template}' is not enabled for this cluster. Enabled disk templates are: ${cfg.cluster.enabled_disk_templates.join(", ")}`,
          "wrong_state",
        );
      await this.checkConversion(op.disk_template);
    }

    if (Object.keys(this.beForced).length) {
      const beNew = getUpdatedParams(inst.beparams, upgradeBeparams(this.beForced));
      const full = filledBeparams(beNew, cfg);
      checkMemoryRange(full);
      const oldMax = Number(filledBeparams(inst.beparams, cfg)["maxmem"]);
      const newMax = Number(full["maxmem"]);
      if (!op.force && newMax > oldMax && inst.admin_state === "up" && !pnode.offline) {
        const info = await this.ctx.rpc.call(pnode, "instance_info", { instance: inst.name, hypervisor: inst.hypervisor });
        const free = await nodeFreeMemory(this.ctx, pnode, inst.hypervisor);
        const missing = newMax - (info?.memory ?? 0) - free;
        if (missing > 0)
          throw new OpPrereqError(
            `This change will prevent the instance from starting, due to ${missing} MB of memory missing on its primary node`,
            "insufficient_resources",
          );
      }
    }

    if (op.runtime_mem) {
      const info = pnode.offline
        ? null
        : await this.ctx.rpc.call(pnode, "instance_info", { instance: inst.name, hypervisor: inst.hypervisor });
      if (!info) throw new OpPrereqError(`Instance ${inst.name} is not running`, "wrong_state");
      // The range is the proposed one: a job may raise maxmem and balloon up to it at once (Ganeti's be_proposed).
      const proposed = Object.keys(this.beForced).length ? getUpdatedParams(inst.beparams, upgradeBeparams(this.beForced)) : inst.beparams;
      const be = filledBeparams(proposed, cfg);
      const min = Number(be["minmem"]);
      const max = Number(be["maxmem"]);
      if (!op.force && (op.runtime_mem < min || op.runtime_mem > max))
        throw new OpPrereqError(
          `Instance ${inst.name} must have memory between ${min} and ${max} of memory unless --force is given`,
          "wrong_input",
        );
      if (op.runtime_mem > info.memory) {
        const free = await nodeFreeMemory(this.ctx, pnode, inst.hypervisor);
        if (op.runtime_mem - info.memory > free)
          throw new OpPrereqError(
            `Not enough memory on node ${pnode.name} for increasing memory of instance ${inst.name}: needed ${op.runtime_mem - info.memory} MiB, available ${free} MiB`,
            "insufficient_resources",
          );
      }
    }

    // Private parameters are parameters of the OS too: checked the same way.
    const privUpdate = op.osparams_private ?? {};
    const priv = getUpdatedParams(inst.osparams_private, privUpdate);
    if (op.os_name && op.os_name !== inst.os) {
      const osparams = fillDict(cfg.filledOsparams({ os: op.os_name, osparams: inst.osparams }), op.osparams, priv);
      await checkOsParams(this.ctx, [pnode], op.os_name, osparams);
    } else if (Object.keys(op.osparams).length || Object.keys(privUpdate).length) {
      const osparams = fillDict(cfg.filledOsparams(inst), getUpdatedParams(inst.osparams, op.osparams), priv);
      await checkOsParams(this.ctx, [pnode], inst.os, osparams);
    }

    if (op.offline === true) await checkInstanceState(this.ctx, inst, ["down", "offline"], "cannot change instance state to offline");
    else if (op.offline === false) await checkInstanceState(this.ctx, inst, ["down", "offline"], "cannot change instance state to online");

    this.hotplug = false;
    if (inst.admin_state === "up" && op.hotplug) {
      try {
        await this.ctx.rpc.call(pnode, "hotplug_supported", { instance: rpcInstance(cfg, inst) });
        this.hotplug = true;
      } catch (err) {
        logWarning(this.ctx, errText(err));
        logInfo(this.ctx, "Modification will take place without hotplugging.");
      }
    }

    if (this.diskMods.length) await this.checkDiskMods();
    if (this.nicMods.length) {
      this.planNics();
      await this.checkNicBridges();
    }
    if (Object.keys(this.beForced).length || this.diskMods.length || this.nicMods.length) this.checkPolicy();
    // After the policy check, so that Ganeti's policy message wins where it applies.
    if (Object.keys(this.beForced).length)
      checkBeRanges(filledBeparams(getUpdatedParams(inst.beparams, upgradeBeparams(this.beForced)), cfg));
  }

  /** Ganeti's check of the changed instance against its group's policy (max and min memory). */
  private checkPolicy(): void {
    const cfg = this.cfg;
    const inst = this.instance;
    const be = filledBeparams(getUpdatedParams(inst.beparams, upgradeBeparams(this.beForced)), cfg);
    const disks = cfg.instanceDisks(inst);
    const sizes = this.newDiskSizes ?? disks.map((d) => d.size);
    const types = sizes.map((_, i) => disks[i]?.dev_type ?? inst.disk_template);
    const base = {
      cpus: Number(be["vcpus"]),
      spindles: Number(be["spindle_use"]),
      nics: this.newNics ? this.newNics.length : inst.nics.length,
      diskSizes: sizes,
      diskTypes: types,
    };
    const group = cfg.group(this.pnode.group);
    checkInstanceSpecPolicy(
      cfg.filledIpolicy(group),
      group,
      [
        { ...base, memory: Number(be["maxmem"]) },
        { ...base, memory: Number(be["minmem"]) },
      ],
      this.op.ignore_ipolicy,
    );
  }

  /** Ganeti's _PrepareNicModification bridge check: an added or modified bridged NIC's bridge must exist on the primary. */
  private async checkNicBridges(): Promise<void> {
    const pnode = this.pnode;
    if (pnode.offline) return;
    for (const nic of this.touchedNics) {
      const p = this.cfg.filledNicparams(nic, pnode.group);
      if (p["mode"] !== "bridged") continue;
      try {
        await this.ctx.rpc.call(pnode, "bridges_exist", { bridges: [String(p["link"])] });
      } catch (err) {
        const msg = `Error checking bridges on node '${pnode.name}': ${errText(err)}`;
        if (this.op.force) this.bridgeWarnings.push(msg);
        else throw new OpPrereqError(msg, "environment_error", { cause: err });
      }
    }
  }

  private async checkDiskMods(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    if (inst.disk_template === "diskless") throw new OpPrereqError("Disk operations not supported for diskless instances", "wrong_input");
    const removing = this.diskMods.some((m) => m.action === "remove" || m.action === "detach");
    if (removing && !this.op.hotplug) await checkInstanceState(this.ctx, inst, INSTANCE_DOWN, "cannot remove disks");
    // Validate identifiers against a simulated container.
    const sim: Array<{ uuid: string; name: string | null; size: number }> = cfg
      .instanceDisks(inst)
      .map((d) => ({ uuid: d.uuid, name: d.name, size: d.size }));
    for (const m of this.diskMods) {
      if (m.action === "add")
        sim.splice(addIndex("disk", m.ident, sim.length), 0, {
          uuid: `new-${sim.length}`,
          name: null,
          size: computeDiskSpecs([m.params])[0]!.size,
        });
      else if (m.action === "attach") {
        const key = String(m.params["uuid"] ?? m.params["name"] ?? "");
        const d = Object.values(cfg.data.disks).find((x) => x.instance === null && (x.uuid === key || x.name === key));
        if (!d) throw new OpPrereqError(`Disk '${key}' not found or already attached`, "unknown_entity");
        if (d.dev_type !== inst.disk_template)
          throw new OpPrereqError(
            `Disk template of disk '${key}' (${d.dev_type}) does not match the instance's (${inst.disk_template})`,
            "wrong_input",
          );
        sim.splice(addIndex("disk", m.ident, sim.length), 0, { uuid: d.uuid, name: d.name, size: d.size });
      } else {
        const i = findItem("disk", m.ident, sim);
        if (m.action !== "modify") sim.splice(i, 1);
      }
    }
    if (sim.length > 16) throw new OpPrereqError("Instance has too many disks (16), cannot add more", "wrong_input");
    this.newDiskSizes = sim.map((d) => d.size);
  }

  /** NIC changes and their descriptions (Ganeti computes both in CheckPrereq). */
  private planNics(): void {
    const cfg = this.cfg;
    const inst = this.instance;
    const group = this.pnode.group;
    const nics: Array<NicObject | NicPlan> = inst.nics.map((n) => ({ ...n, nicparams: { ...n.nicparams } }));
    const changes: Array<[string, unknown]> = [];
    const released: NicObject[] = [];
    const hot: typeof this.nicHot = [];
    const taken = new Map<string, Set<string>>();
    for (const m of this.nicMods) {
      if (m.action === "add") {
        const idx = addIndex("NIC", m.ident, nics.length);
        const [plan] = computeNics(cfg, [m.params as NicInput], { nameCheck: false, defaultIp: null });
        resolveNicNetworks(this.ctx, [plan!], group, this.pnode.name, { conflictsCheck: this.op.conflicts_check, indexBase: idx, taken });
        nics.splice(idx, 0, plan!);
        this.touchedNics.push(plan!);
        changes.push([`nic.${idx}`, plan!]);
        hot.push({ key: `nic.${idx}`, action: "hotadd", uuid: plan!.uuid });
      } else if (m.action === "remove") {
        const idx = findItem("NIC", m.ident, nics as NicObject[]);
        const [old] = nics.splice(idx, 1);
        if (old && "mac" in old) released.push(old as NicObject);
        changes.push([`NIC/${idx}`, "remove"]);
        hot.push({ key: `NIC/${idx}`, action: "hotdel", uuid: old!.uuid });
      } else if (m.action === "modify") {
        const idx = findItem("NIC", m.ident, nics as NicObject[]);
        const cur = nics[idx]!;
        const p = m.params as NicInput;
        const next: NicPlan = { ...(cur as NicPlan), nicparams: { ...cur.nicparams } };
        if (p.mac !== undefined && p.mac !== null) {
          next.mac = p.mac === "generate" ? "generate" : normalizeMac(p.mac);
          changes.push([`nic.mac/${idx}`, p.mac === "generate" ? "generate" : next.mac]);
        }
        if (p.name !== undefined) {
          next.name = p.name && p.name.toLowerCase() !== "none" ? p.name : null;
          changes.push([`nic.name/${idx}`, next.name]);
        }
        if (p.network !== undefined) {
          const netName = p.network && p.network.toLowerCase() !== "none" ? p.network : null;
          const net = netName ? cfg.findNetwork(netName) : null;
          if (netName && !net) throw new OpPrereqError(`Network '${netName}' not found`, "unknown_entity");
          if (net && (p.mode || p.link))
            throw new OpPrereqError("If network is given, no mode or link is allowed to be passed", "wrong_input");
          if ((cur as NicObject).ip && cur.network) released.push({ ...(cur as NicObject) });
          next.network = net?.uuid ?? null;
          if (!net) next.nicparams = {};
          changes.push([`nic.network/${idx}`, net?.name ?? null]);
        }
        if (p.ip !== undefined) {
          const raw = p.ip;
          next.ip = raw === null || raw.toLowerCase() === "none" ? null : raw.toLowerCase() === "pool" ? "pool" : raw;
          if (next.ip && next.ip !== "pool" && !/^\d+\.\d+\.\d+\.\d+$/.test(next.ip))
            throw new OpPrereqError(`Invalid IP address '${raw}'`, "wrong_input");
          if (cur.ip && cur.network && p.network === undefined) released.push({ ...(cur as NicObject) });
        }
        for (const k of ["mode", "link", "vlan"] as const) {
          const v = p[k];
          if (v === undefined) continue;
          if (v === null || v === "default") delete next.nicparams[k];
          else next.nicparams[k] = v;
          changes.push([`nic.${k}/${idx}`, v]);
        }
        if (p.bridge !== undefined && p.bridge !== null) {
          next.nicparams["link"] = p.bridge;
          changes.push([`nic.link/${idx}`, p.bridge]);
        }
        if (next.network && (p.network !== undefined || p.ip !== undefined)) {
          if (next.ip === null && p.network !== undefined) next.ip = cur.network === next.network ? cur.ip : null;
          resolveNicNetworks(this.ctx, [next], group, this.pnode.name, { conflictsCheck: this.op.conflicts_check, indexBase: idx, taken });
        }
        if (p.ip !== undefined) changes.push([`nic.ip/${idx}`, next.ip]);
        nics[idx] = next;
        hot.push({ key: `nic/${idx}`, action: "hotmod", uuid: next.uuid });
        this.touchedNics.push(next);
      } else {
        throw new OpPrereqError(`Unsupported NIC operation '${m.action}'`, "wrong_input");
      }
    }
    this.newNics = nics;
    this.nicHot = hot;
    this.nicChanges = changes;
    this.releasedIps = released;
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const op = this.op;
    const inst = this.instance;
    const result: Array<[string, unknown]> = [];
    for (const w of this.bridgeWarnings) logWarning(this.ctx, w);

    if (this.newPnode && this.newPnode !== inst.primary_node) {
      const target = this.newPnode;
      await cfg.mutate(() => {
        inst.primary_node = target;
        for (const d of cfg.instanceDisks(inst)) {
          d.nodes = [target];
          cfg.touch(d);
        }
        cfg.touch(inst);
      });
    }

    if (op.runtime_mem) {
      try {
        await this.ctx.rpc.call(this.pnode, "instance_balloon_memory", { instance: rpcInstance(cfg, inst), memory: op.runtime_mem });
      } catch (err) {
        throw new OpExecError(`Cannot modify instance runtime memory: ${errText(err)}`, { cause: err });
      }
      result.push(["runtime_memory", op.runtime_mem]);
    }

    if (op.disk_template && op.disk_template !== inst.disk_template) {
      await this.convertDisks(op.disk_template);
      result.push(["disk_template", op.disk_template]);
    }

    if (this.diskMods.length) result.push(...(await this.applyDiskMods()));

    if (this.newNics) {
      const before = rpcInstance(cfg, inst);
      const group = this.pnode.group;
      const planned = this.newNics;
      const changes = this.nicChanges;
      const released = this.releasedIps;
      await cfg.mutate(() => {
        releaseNicIps(cfg, released);
        const objs: NicObject[] = planned.map((n) => {
          if (n.mac === "auto" || n.mac === "generate") return materializeNics(cfg, [n as NicPlan])[0]!;
          return { uuid: n.uuid, name: n.name, mac: n.mac, ip: n.ip, network: n.network, nicparams: n.nicparams };
        });
        const before = new Map(inst.nics.map((n) => [n.uuid, n]));
        reserveNicIps(
          cfg,
          objs.filter((n) => {
            const b = before.get(n.uuid);
            return !b || b.ip !== n.ip || b.network !== n.network || released.some((r) => r.uuid === n.uuid);
          }),
        );
        inst.nics = objs;
        cfg.touch(inst);
        for (const [k, v] of changes) {
          if (typeof v === "object" && v !== null && "uuid" in v) {
            const nic = objs.find((o) => o.uuid === (v as NicPlan).uuid)!;
            result.push([k, `add:${nicDescription(cfg, nic, group)}`]);
          } else if (k.startsWith("nic.mac/") && v === "generate") {
            const idx = Number(k.split("/")[1]);
            result.push([k, objs[idx]?.mac]);
          } else result.push([k, v]);
        }
      });
      cfg.releaseMacs(inst.nics.map((n) => n.mac));
      if (this.hotplug) {
        const after = rpcInstance(cfg, inst);
        for (const h of this.nicHot) {
          const nic = (h.action === "hotdel" ? before : after).nics.find((n) => n.uuid === h.uuid);
          if (!nic) continue;
          const seq = (h.action === "hotdel" ? before : after).nics.indexOf(nic);
          const msg = await this.hotplugDevice(h.action, "nic", { nic }, seq);
          // Ganeti appends the hotplug outcome right after the change it concerns.
          let at = -1;
          result.forEach(([k], i) => (k === h.key ? (at = i) : undefined));
          if (at < 0) result.push([h.key, msg]);
          else result.splice(at + 1, 0, [h.key, msg]);
        }
      }
    }

    await cfg.mutate(() => {
      if (this.hvInst) {
        inst.hvparams = this.hvInst;
        for (const [k, v] of Object.entries(op.hvparams)) result.push([`hv/${k}`, v]);
      }
      if (Object.keys(this.beForced).length) {
        inst.beparams = getUpdatedParams(inst.beparams, upgradeBeparams(this.beForced));
        // Ganeti reports the keys as given (stored upgraded): {"memory": 192} gives
        // [["be/memory", 192]] in captures/ job 21 and captures-3node/ job 432.
        for (const [k, v] of Object.entries(this.beForced)) result.push([`be/${k}`, v]);
      }
      if (op.os_name) inst.os = op.os_name;
      if (Object.keys(op.osparams).length) {
        inst.osparams = getUpdatedParams(inst.osparams, op.osparams);
        for (const [k, v] of Object.entries(op.osparams)) result.push([`os/${k}`, v]);
      }
      if (op.osparams_private && Object.keys(op.osparams_private).length) {
        inst.osparams_private = getUpdatedParams(inst.osparams_private, op.osparams_private);
        for (const [k] of Object.entries(op.osparams_private)) result.push([`os_private/${k}`, "<redacted>"]);
      }
      if (op.offline === true) {
        inst.admin_state = "offline";
        result.push(["admin_state", "offline"]);
      } else if (op.offline === false) {
        inst.admin_state = "down";
        result.push(["admin_state", "down"]);
      }
      cfg.touch(inst);
    });
    return result;
  }

  /** Ganeti's _HotplugDevice: a failure is a warning; returns "hotplug:done" or "hotplug:failed". */
  private async hotplugDevice(
    action: "hotadd" | "hotdel" | "hotmod",
    devType: "disk" | "nic",
    device: { disk?: RpcDisk; nic?: RpcNic; diskPath?: string },
    seq: number,
  ): Promise<string> {
    logInfo(this.ctx, "Trying to hotplug device...");
    try {
      await this.ctx.rpc.call(this.pnode, "hotplug_device", {
        instance: rpcInstance(this.cfg, this.instance),
        action,
        dev_type: devType,
        disk: device.disk ?? null,
        nic: device.nic ?? null,
        disk_path: device.diskPath ?? null,
        seq,
      });
    } catch (err) {
      logWarning(this.ctx, `Could not hotplug device: ${errText(err)}`);
      logInfo(this.ctx, "Continuing execution..");
      return "hotplug:failed";
    }
    logInfo(this.ctx, "Hotplug done.");
    return "hotplug:done";
  }

  private async applyDiskMods(): Promise<Array<[string, unknown]>> {
    const cfg = this.cfg;
    const inst = this.instance;
    const out: Array<[string, unknown]> = [];
    const running = inst.admin_state === "up";
    for (const m of this.diskMods) {
      const disks = cfg.instanceDisks(inst);
      if (m.action === "add") {
        const idx = addIndex("disk", m.ident, disks.length);
        const [spec] = computeDiskSpecs([m.params]);
        const [disk] = generateDisks(cfg, inst.disk_template, {
          instanceName: inst.name,
          instanceUuid: inst.uuid,
          primary: inst.primary_node,
          secondaries: inst.secondary_nodes,
          specs: [spec!],
          baseIndex: idx,
          existing: disks,
        });
        await createDisks(this.ctx, inst, [disk!]);
        await cfg.mutate((data) => {
          data.disks[disk!.uuid] = disk!;
          inst.disks.splice(idx, 0, disk!.uuid);
          this.renumber(inst.disks);
          cfg.touch(inst);
        });
        out.push([`disk/${idx}`, `add:size=${disk!.size},mode=${disk!.mode}`]);
        if (this.hotplug) {
          let devPath: string | null = null;
          try {
            devPath = await this.ctx.rpc.call(this.pnode, "blockdev_assemble", {
              disk: cfg.rpcDisk(disk!),
              instance: inst.name,
              on_primary: true,
            });
          } catch (err) {
            out.push([`disk/${idx}`, "assemble:failed"]);
            logWarning(this.ctx, `Can't assemble newly created disk ${idx}: ${errText(err)}`);
          }
          if (devPath !== null)
            out.push([`disk/${idx}`, await this.hotplugDevice("hotadd", "disk", { disk: cfg.rpcDisk(disk!), diskPath: devPath }, idx)]);
        } else if (running) logWarning(this.ctx, "The new disk will be visible to the instance after its next restart");
      } else if (m.action === "attach") {
        const idx = addIndex("disk", m.ident, disks.length);
        const key = String(m.params["uuid"] ?? m.params["name"] ?? "");
        const disk = Object.values(cfg.data.disks).find((x) => x.instance === null && (x.uuid === key || x.name === key))!;
        await cfg.mutate(() => {
          disk.instance = inst.uuid;
          disk.nodes = [inst.primary_node];
          inst.disks.splice(idx, 0, disk.uuid);
          this.renumber(inst.disks);
          cfg.touch(disk);
          cfg.touch(inst);
        });
        out.push([`disk/${idx}`, `attach:size=${disk.size},mode=${disk.mode}`]);
      } else if (m.action === "remove" || m.action === "detach") {
        const idx = findItem("disk", m.ident, disks);
        const disk = disks[idx]!;
        const hotmsg = this.hotplug ? await this.hotplugDevice("hotdel", "disk", { disk: cfg.rpcDisk(disk) }, idx) : null;
        if (m.action === "remove") {
          for (const nu of disk.nodes) {
            const node = cfg.data.nodes[nu];
            if (!node) continue;
            try {
              await this.ctx.rpc.call(node, "blockdev_remove", { disk: cfg.rpcDisk(disk) });
            } catch (err) {
              logWarning(this.ctx, `Could not remove disk/${idx} on node ${node.name}: ${errText(err)}, continuing anyway`);
            }
          }
        } else {
          for (const nu of disk.nodes) {
            const node = cfg.data.nodes[nu];
            if (!node || node.offline) continue;
            try {
              await this.ctx.rpc.call(node, "blockdev_shutdown", { disk: cfg.rpcDisk(disk) });
            } catch (err) {
              logWarning(this.ctx, `Could not shutdown disk/${idx} on node ${node.name}: ${errText(err)}`);
            }
          }
        }
        await cfg.mutate((data) => {
          inst.disks.splice(idx, 1);
          if (m.action === "remove") {
            releaseDrbdDisk(cfg, disk);
            delete data.disks[disk.uuid];
          } else {
            disk.instance = null;
            cfg.touch(disk);
          }
          this.renumber(inst.disks);
          cfg.touch(inst);
        });
        out.push([`disk/${idx}`, m.action]);
        if (hotmsg) out.push([`disk/${idx}`, hotmsg]);
      } else {
        const idx = findItem("disk", m.ident, disks);
        const disk: DiskObject = disks[idx]!;
        await cfg.mutate(() => {
          if (m.params["mode"] !== undefined) {
            disk.mode = m.params["mode"] as "rw" | "ro";
            out.push([`disk.mode/${idx}`, disk.mode]);
          }
          if (m.params["name"] !== undefined) {
            const n = m.params["name"];
            disk.name = n === null || n === "none" ? null : String(n);
            out.push([`disk.name/${idx}`, disk.name]);
          }
          cfg.touch(disk);
        });
      }
    }
    return out;
  }

  private renumber(uuids: string[]): void {
    uuids.forEach((u, i) => {
      const d = this.cfg.data.disks[u];
      if (d) d.iv_name = `disk/${i}`;
    });
  }
}

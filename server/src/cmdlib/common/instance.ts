// Helpers shared by the instance logical units (and importable by node/group
// LUs): name expansion and locks, state checks, node checks, free memory,
// beparams/hvparams checks, disk objects and their node-side lifecycle, NIC
// building with network address pools. Messages and ECODEs are Ganeti's
// (lib/cmdlib/common.py, instance_utils.py, instance_storage.py).
import { randomUUID } from "node:crypto";
import { promises as dns } from "node:dns";
import {
  parseUnitSize,
  UnitParseError,
  type DiskObject,
  type InstanceObject,
  type NetworkObject,
  type NicObject,
  type NodeObject,
  type RpcInstance,
} from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { fillDict } from "../../config/cluster-config.js";
import { DEFAULT_BEPARAMS, DEFAULT_NICPARAMS, HV_GLOBALS } from "../../config/defaults.js";
import { releaseDrbdDisk, releasePort } from "../../config/drbd.js";
import { GanetiError, OpExecError, OpPrereqError, RpcError } from "../../lib/errors.js";
import type { LockSet, LuContext } from "../base.js";
import { AddressPool, AddressPoolError } from "../network/address-pool.js";
import { checkParamsNotGlobal, logInfo, logWarning, parseIPv4 } from "./node.js";
import { checkBeParamTypes } from "./params.js";
import { computeIpolicySpecViolation, type InstanceSpec } from "../group/ipolicy.js";

export { logInfo, logWarning };

type Params = Record<string, unknown>;

// ---- admin states --------------------------------------------------------------

export const INSTANCE_ONLINE = ["up", "down"] as const;
export const INSTANCE_DOWN = ["down"] as const;
export const INSTANCE_NOT_RUNNING = ["down", "offline"] as const;
type AdminState = InstanceObject["admin_state"];

/** Disk templates whose data is reachable from every node (migrate/failover anywhere). */
export const EXTERNALLY_MIRRORED: readonly string[] = ["diskless", "sharedfile", "blockdev", "rbd", "ext", "gluster"];
export const INTERNALLY_MIRRORED: readonly string[] = ["drbd"];
export const FILE_BASED: readonly string[] = ["file", "sharedfile", "gluster"];
/** Templates this implementation can create disks for. */
export const SUPPORTED_TEMPLATES: readonly string[] = ["diskless", "file", "sharedfile"];

// ---- expansion and locks -------------------------------------------------------------

/** Ganeti's ExpandInstanceUuidAndName: by name (or unique short name), checked against the uuid if given. */
export function expandInstance(cfg: ClusterConfig, name: string, uuid?: string | null): InstanceObject {
  const inst = cfg.findInstance(name);
  if (!inst || (uuid && inst.uuid !== uuid)) throw new OpPrereqError(`Instance '${name}' not known`, "unknown_entity");
  return inst;
}

/** Ganeti's _LockInstancesNodes: the primary (and secondaries unless primaryOnly) of the instances. */
export function instanceNodeLocks(
  cfg: ClusterConfig,
  instanceUuids: string[],
  opts: { primaryOnly?: boolean; shared?: boolean; extra?: string[] } = {},
): LockSet {
  const names = new Set<string>(opts.extra ?? []);
  for (const u of instanceUuids) {
    const inst = cfg.data.instances[u];
    if (!inst) continue;
    names.add(inst.primary_node);
    if (!opts.primaryOnly) for (const s of inst.secondary_nodes) names.add(s);
    for (const d of inst.disks) for (const n of cfg.data.disks[d]?.nodes ?? []) if (!opts.primaryOnly) names.add(n);
  }
  return { names: [...names], shared: opts.shared ?? false };
}

// ---- state checks ----------------------------------------------------------------

/** Is the instance running on its primary node (hypervisor view)? Offline node → false. */
export async function instanceRunningOn(ctx: LuContext, inst: InstanceObject, node?: NodeObject): Promise<boolean> {
  const n = node ?? ctx.config.node(inst.primary_node);
  if (n.offline) return false;
  const info = await ctx.rpc.call(n, "instance_info", { instance: inst.name, hypervisor: inst.hypervisor });
  return info !== null;
}

/**
 * Ganeti's CheckInstanceState: the admin state must be one of `req`; when "up"
 * is not allowed the instance must also not be running on its primary.
 */
export async function checkInstanceState(ctx: LuContext, inst: InstanceObject, req: readonly AdminState[], msg?: string): Promise<void> {
  const why = msg ?? `can't use instance from outside ${req.join(", ")} states`;
  if (!req.includes(inst.admin_state))
    throw new OpPrereqError(`Instance '${inst.name}' is marked to be ${inst.admin_state}, ${why}`, "wrong_state");
  if (!req.includes("up")) {
    const pnode = ctx.config.node(inst.primary_node);
    if (pnode.offline) return;
    let running: boolean;
    try {
      running = await instanceRunningOn(ctx, inst, pnode);
    } catch (err) {
      throw new OpPrereqError(`Can't contact node ${pnode.name} for instance information`, "environment_error", {
        cause: err,
      });
    }
    if (running) throw new OpPrereqError(`Instance '${inst.name}' is running, ${why}`, "wrong_state");
  }
}

export function checkNodeOnline(node: NodeObject, msg?: string): void {
  if (node.offline) throw new OpPrereqError(`${msg ?? "Can't use offline node"} ${node.name}`, "wrong_state");
}
export function checkNodeNotDrained(node: NodeObject): void {
  if (node.drained) throw new OpPrereqError(`Can't use drained node ${node.name}`, "wrong_state");
}
export function checkNodeVmCapable(node: NodeObject): void {
  if (!node.vm_capable) throw new OpPrereqError(`Can't use non-vm_capable node ${node.name}`, "wrong_state");
}

/**
 * Ganeti's CheckHVParams: the vm-capable nodes validate the filled hvparams
 * (kvm: the kernel, initrd, qemu binary exist there). Offline nodes are
 * skipped; a refusal is Ganeti's OpExecError.
 */
export async function checkHvParamsOnNodes(ctx: LuContext, nodes: NodeObject[], hypervisor: string, filled: Params): Promise<void> {
  const targets = nodes.filter((n) => n.vm_capable && !n.offline);
  if (!targets.length) return;
  const res = await ctx.rpc.callMany(targets, "hypervisor_validate_params", { hypervisor, hvparams: filled });
  for (const n of targets) {
    const r = res.get(n.uuid);
    if (r && !r.ok && !r.offline) throw new OpExecError(`Hypervisor parameter validation failed on node ${n.name}: ${r.error}`);
  }
}

/** Free memory for instances on a node as its hypervisor reports it (node_info). */
export async function nodeFreeMemory(ctx: LuContext, node: NodeObject, hypervisor: string): Promise<number> {
  const cfg = ctx.config;
  const info = await ctx.rpc.call(node, "node_info", {
    storage_units: [],
    hypervisor,
    hvparams: cfg.cluster.hvparams[hypervisor] ?? {},
  });
  return info.memory_free;
}

/** Ganeti's CheckNodeFreeMemory. */
export async function checkNodeFreeMemory(
  ctx: LuContext,
  node: NodeObject,
  reason: string,
  requested: number,
  hypervisor: string,
): Promise<number> {
  let free: number;
  try {
    free = await nodeFreeMemory(ctx, node, hypervisor);
  } catch (err) {
    throw new OpPrereqError(`Can't get data from node ${node.name}`, "environment_error", { cause: err });
  }
  if (requested > free)
    throw new OpPrereqError(
      `Not enough memory on node ${node.name} for ${reason}: needed ${requested} MiB, available ${free} MiB`,
      "insufficient_resources",
    );
  return free;
}

// ---- instance policy ---------------------------------------------------------------

/** An instance's specs as its group's policy sees them (Ganeti's ComputeIPolicyInstanceViolation). */
export function instanceSpec(cfg: ClusterConfig, inst: InstanceObject): InstanceSpec {
  const be = cfg.filledBeparams(inst);
  const disks = cfg.instanceDisks(inst);
  return {
    memory: Number(be["maxmem"]),
    cpus: Number(be["vcpus"]),
    spindles: Number(be["spindle_use"]),
    nics: inst.nics.length,
    diskSizes: disks.map((d) => d.size),
    diskTypes: disks.map((d) => d.dev_type),
  };
}

/**
 * Ganeti's CheckTargetNodeIPolicy: moving to a node of another group, the
 * instance must meet that group's policy (a warning when ignored).
 */
export function checkTargetNodeIpolicy(ctx: LuContext, inst: InstanceObject, target: NodeObject, ignore: boolean): void {
  const cfg = ctx.config;
  const current = cfg.node(inst.primary_node).group;
  if (current === target.group) return;
  const group = cfg.group(target.group);
  const res = computeIpolicySpecViolation(cfg.filledIpolicy(group), instanceSpec(cfg, inst));
  if (!res.length) return;
  const msg = `Instance does not meet target node group's (${target.group}) instance policy: ${res.join(", ")}`;
  if (ignore) logWarning(ctx, msg);
  else throw new OpPrereqError(msg, "wrong_input");
}

// ---- parameters --------------------------------------------------------------

/** Ganeti's BES_PARAMETER_TYPES (plus the legacy "memory"), from the schema's parameter tables. */
export { BE_PARAMETER_TYPES as BE_PARAM_TYPES } from "@ganeti-ts/schema";

/** Ganeti's UpgradeBeParams: "memory" → maxmem and minmem (in place on a copy). */
export function upgradeBeparams(be: Params): Params {
  const out: Params = { ...be };
  if (Object.hasOwn(out, "memory")) {
    const mem = out["memory"];
    delete out["memory"];
    out["maxmem"] = mem;
    out["minmem"] = mem;
  }
  return out;
}

/**
 * Ganeti's ForceDictType over beparams: TypeEnforcementError with Ganeti's
 * texts. Sizes go through ParseUnit as in Ganeti (so -1 is not a valid size,
 * and 130 becomes 132).
 */
export function forceBeparams(be: Params, opts: { allowDefault?: boolean } = {}): Params {
  return checkBeParamTypes(be, opts);
}

/** Ganeti's check that minmem ≤ maxmem on filled beparams. */
export function checkMemoryRange(be: Params): void {
  const min = Number(be["minmem"]);
  const max = Number(be["maxmem"]);
  if (min > max)
    throw new OpPrereqError(`Minimum memory size (${min}) must be less than or equal to maximum memory size (${max})`, "wrong_input");
}

export function filledBeparams(be: Params, cfg: ClusterConfig): Params {
  return fillDict(DEFAULT_BEPARAMS, cfg.cluster.beparams["default"], be);
}

/** Instance-level hvparams may not contain the hypervisor's global ones. */
export function checkHvparamsNotGlobal(hvparams: Params, hypervisor?: string): void {
  // Without a hypervisor: Ganeti's HVC_GLOBALS, the union over all hypervisors.
  const globals = hypervisor ? [...(HV_GLOBALS[hypervisor] ?? [])] : [...new Set(Object.values(HV_GLOBALS).flat())];
  checkParamsNotGlobal(hvparams, globals, "hypervisor", "instance", "cluster");
}

/** Ganeti's utils.FormatUnit(value, "h"). */
export function formatUnit(mib: number): string {
  if (mib < 1024) return `${Math.round(mib)}M`;
  if (mib < 1024 * 1024) return `${(mib / 1024).toFixed(1)}G`;
  return `${(mib / (1024 * 1024)).toFixed(1)}T`;
}

/** An instance as the node sees it, with optional one-off hv/be overrides (startup). */
export function rpcInstance(cfg: ClusterConfig, inst: InstanceObject, over: { hvparams?: Params; beparams?: Params } = {}): RpcInstance {
  const r = cfg.rpcInstance(inst);
  if (over.hvparams && Object.keys(over.hvparams).length) r.hvparams = { ...r.hvparams, ...over.hvparams };
  if (over.beparams && Object.keys(over.beparams).length) r.beparams = { ...r.beparams, ...upgradeBeparams(over.beparams) };
  return r;
}

/** The search path and debug level the OS RPCs need. */
export function osSearchPath(cfg: ClusterConfig): string[] {
  return cfg.cluster.os_search_path;
}

/** Validate an OS (and parameters) on nodes; Ganeti raises OpExecError here. */
export async function checkOsParams(
  ctx: LuContext,
  nodes: NodeObject[],
  osName: string,
  osparams: Params,
  opts: { required?: boolean } = {},
): Promise<void> {
  for (const node of nodes) {
    if (node.offline) continue;
    try {
      await ctx.rpc.call(node, "os_validate", {
        required: opts.required ?? true,
        name: osName,
        checks: ["parameters"],
        osparams,
        search_path: osSearchPath(ctx.config),
      });
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      throw new OpExecError(`OS Parameters validation failed on node ${node.name}: ${err.message}`, { cause: err });
    }
  }
}

/** Ganeti's name check: resolve with the system resolver. */
export async function resolveHostname(name: string): Promise<{ name: string; ip: string }> {
  let res: { address: string };
  try {
    res = await dns.lookup(name, { family: 4 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const text =
      code === "ENOTFOUND"
        ? "Name or service not known"
        : code === "EAI_AGAIN"
          ? "Temporary failure in name resolution"
          : String(code ?? err);
    throw new OpPrereqError(`The given name (${name}) does not resolve: ${text}`, "resolver_error", { cause: err });
  }
  return { name, ip: res.address };
}

// ---- disks -----------------------------------------------------------------

export interface DiskSpec {
  size: number;
  mode: "rw" | "ro";
  name: string | null;
  spindles: number | null;
}

/** Ganeti's _ComputeDisks: sizes parsed, modes checked. */
export function computeDiskSpecs(disks: Array<Record<string, unknown>>): DiskSpec[] {
  return disks.map((d) => {
    const mode = (d["mode"] ?? "rw") as string;
    if (mode !== "rw" && mode !== "ro") throw new OpPrereqError(`Invalid disk access mode '${mode}'`, "wrong_input");
    const raw = d["size"];
    if (raw === undefined || raw === null) throw new OpPrereqError("Missing disk size", "wrong_input");
    let size: number;
    try {
      size = typeof raw === "number" && Number.isInteger(raw) ? raw : parseUnitSize(raw as string);
    } catch (err) {
      if (!(err instanceof UnitParseError)) throw err;
      throw new OpPrereqError(`Invalid disk size '${String(raw)}'`, "wrong_input", { cause: err });
    }
    const name = d["name"] === undefined || d["name"] === null || d["name"] === "none" ? null : String(d["name"]);
    const sp = d["spindles"];
    return { size, mode, name, spindles: sp === undefined || sp === null ? null : Number(sp) };
  });
}

/** Directory holding an instance's file-based disks (Ganeti's _CalculateFileStorageDir). */
export function instanceStorageDir(cfg: ClusterConfig, template: string, instanceName: string, subdir?: string | null): string {
  const base = template === "sharedfile" ? cfg.cluster.shared_file_storage_dir : cfg.cluster.file_storage_dir;
  return [base, subdir ?? "", instanceName]
    .filter((p) => p !== "")
    .join("/")
    .replace(/\/+/g, "/");
}

/** Build disk objects for a template (Ganeti's GenerateDiskTemplate) — not yet in the config. */
export function generateDisks(
  cfg: ClusterConfig,
  template: string,
  instanceName: string,
  instanceUuid: string,
  pnodeUuid: string,
  specs: DiskSpec[],
  opts: { baseIndex?: number; fileDriver?: string | null; storageSubdir?: string | null; dir?: string } = {},
): DiskObject[] {
  if (template === "diskless") return [];
  if (!SUPPORTED_TEMPLATES.includes(template))
    throw new OpPrereqError(`Disk template '${template}' is not supported by this cluster implementation`, "wrong_input");
  const base = opts.baseIndex ?? 0;
  const dir = opts.dir ?? instanceStorageDir(cfg, template, instanceName, opts.storageSubdir);
  const now = cfg.now();
  return specs.map((s, i) => ({
    uuid: cfg.newUuid(),
    serial_no: 1,
    ctime: now,
    mtime: now,
    name: s.name,
    dev_type: template,
    size: s.size,
    mode: s.mode,
    spindles: s.spindles,
    logical_id: [opts.fileDriver ?? "loop", `${dir}/${randomUUID()}.${template}.disk${base + i}`],
    nodes: [pnodeUuid],
    iv_name: `disk/${base + i}`,
    params: {},
    instance: instanceUuid,
  }));
}

/** Directory of an instance's file-based disks (from its first disk), null otherwise. */
export function diskDir(disk: DiskObject | undefined): string | null {
  if (!disk || !FILE_BASED.includes(disk.dev_type)) return null;
  const p = String(disk.logical_id[1] ?? "");
  const i = p.lastIndexOf("/");
  return i > 0 ? p.slice(0, i) : null;
}

/**
 * Ganeti's CreateDisks: the storage directory, then each disk on its nodes.
 * On failure everything created so far is removed and OpExecError raised.
 */
export async function createDisks(ctx: LuContext, inst: InstanceObject, disks: DiskObject[], node?: NodeObject): Promise<void> {
  const cfg = ctx.config;
  const pnode = node ?? cfg.node(inst.primary_node);
  const created: DiskObject[] = [];
  const dir = diskDir(disks[0]);
  if (dir) {
    try {
      await ctx.rpc.call(pnode, "file_storage_dir_create", { path: dir });
    } catch (err) {
      throw new OpExecError(`Failed to create directory '${dir}' on node ${pnode.name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  try {
    for (const d of disks) {
      await ctx.rpc.call(pnode, "blockdev_create", { disk: cfg.rpcDisk(d), owner: inst.name, on_primary: true });
      created.push(d);
    }
  } catch (err) {
    for (const d of created) {
      try {
        await ctx.rpc.call(pnode, "blockdev_remove", { disk: cfg.rpcDisk(d) });
      } catch (undoErr) {
        logWarning(ctx, `Failed to remove newly-created disk ${d.iv_name} on node ${pnode.name}: ${(undoErr as Error).message}`);
      }
    }
    throw new OpExecError(
      `Can't create block device ${disks[created.length]?.iv_name ?? ""} on node ${pnode.name} for instance ${inst.name}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Ganeti's RemoveDisks: returns false if anything failed (warnings logged). */
export async function removeDisks(
  ctx: LuContext,
  inst: InstanceObject,
  disks: DiskObject[],
  opts: { removeDir?: boolean } = {},
): Promise<boolean> {
  const cfg = ctx.config;
  let ok = true;
  for (const d of disks) {
    for (const nu of d.nodes) {
      const node = cfg.data.nodes[nu];
      if (!node) continue;
      try {
        await ctx.rpc.call(node, "blockdev_remove", { disk: cfg.rpcDisk(d) });
      } catch (err) {
        logWarning(ctx, `Could not remove disk ${d.iv_name} on node ${node.name}: ${(err as Error).message}, continuing anyway`);
        ok = false;
      }
    }
  }
  const dir = diskDir(disks[0]);
  if (dir && (opts.removeDir ?? true)) {
    const pnode = cfg.node(inst.primary_node);
    try {
      await ctx.rpc.call(pnode, "file_storage_dir_remove", { path: dir });
    } catch (err) {
      logWarning(ctx, `Could not remove directory '${dir}' on node ${pnode.name}: ${(err as Error).message}`);
      ok = false;
    }
  }
  return ok;
}

/** Ganeti's AssembleInstanceDisks on the primary; returns [node, iv_name, path] rows. */
export async function assembleInstanceDisks(
  ctx: LuContext,
  inst: InstanceObject,
  opts: { ignoreSize?: boolean } = {},
): Promise<{ ok: boolean; info: Array<[string, string, string | null]> }> {
  const cfg = ctx.config;
  const pnode = cfg.node(inst.primary_node);
  const info: Array<[string, string, string | null]> = [];
  let ok = true;
  for (const d of cfg.instanceDisks(inst)) {
    try {
      const path = await ctx.rpc.call(pnode, "blockdev_assemble", { disk: cfg.rpcDisk(d), instance: inst.name, on_primary: true });
      info.push([pnode.name, d.iv_name, path]);
    } catch (err) {
      logWarning(
        ctx,
        `Could not prepare block device ${d.iv_name} on node ${pnode.name} (is_primary=True, pass=2): ${(err as Error).message}`,
      );
      info.push([pnode.name, d.iv_name, null]);
      ok = false;
    }
  }
  void opts;
  return { ok, info };
}

export async function markDisksActive(cfg: ClusterConfig, inst: InstanceObject, active: boolean): Promise<void> {
  if (inst.disks_active === active) return;
  await cfg.mutate(
    () => {
      inst.disks_active = active;
      cfg.touch(inst);
    },
    { declared: true },
  );
}

/** Ganeti's StartInstanceDisks. */
export async function startInstanceDisks(
  ctx: LuContext,
  inst: InstanceObject,
  force?: boolean | null,
): Promise<Array<[string, string, string | null]>> {
  await markDisksActive(ctx.config, inst, true);
  const { ok, info } = await assembleInstanceDisks(ctx, inst);
  if (!ok) {
    await shutdownInstanceDisks(ctx, inst);
    if (force === false) logWarning(ctx, "If the message above refers to a secondary node, you can retry the operation using '--force'");
    throw new OpExecError("Disk consistency error");
  }
  return info;
}

/** Ganeti's ShutdownInstanceDisks: returns false on errors (warnings logged). */
export async function shutdownInstanceDisks(
  ctx: LuContext,
  inst: InstanceObject,
  opts: { ignorePrimary?: boolean } = {},
): Promise<boolean> {
  const cfg = ctx.config;
  await markDisksActive(cfg, inst, false);
  let ok = true;
  for (const d of cfg.instanceDisks(inst)) {
    for (const nu of d.nodes) {
      const node = cfg.data.nodes[nu];
      if (!node || node.offline) continue;
      try {
        await ctx.rpc.call(node, "blockdev_shutdown", { disk: cfg.rpcDisk(d) });
      } catch (err) {
        logWarning(ctx, `Could not shutdown block device ${d.iv_name} on node ${node.name}: ${(err as Error).message}`);
        if (!(nu === inst.primary_node && opts.ignorePrimary)) ok = false;
      }
    }
  }
  return ok;
}

/** Ganeti's _SafeShutdownInstanceDisks: refuse when the instance runs. */
export async function safeShutdownInstanceDisks(ctx: LuContext, inst: InstanceObject): Promise<void> {
  await checkInstanceState(ctx, inst, INSTANCE_DOWN, "cannot shutdown disks");
  await shutdownInstanceDisks(ctx, inst);
}

/** The "waiting for sync" feedback Ganeti prints for disks (file disks are always in sync). */
export function logDiskSync(ctx: LuContext, inst: InstanceObject): void {
  logInfo(ctx, `Waiting for instance ${inst.name} to sync disks`);
  logInfo(ctx, `Instance ${inst.name}'s disks are in sync`);
}

// ---- NICs -------------------------------------------------------------------

export interface NicInput {
  ip?: string | null;
  mac?: string | null;
  mode?: string | null;
  link?: string | null;
  vlan?: string | null;
  network?: string | null;
  name?: string | null;
  bridge?: string | null;
}

const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** Ganeti's NormalizeAndValidateMac. */
export function normalizeMac(mac: string): string {
  const m = mac.toLowerCase().replace(/-/g, ":");
  if (!MAC_RE.test(m)) throw new OpPrereqError(`Invalid MAC address '${mac}'`, "wrong_input");
  return m;
}

/** A NIC after argument checks, before the network and address pool are consulted. */
export interface NicPlan {
  uuid: string;
  name: string | null;
  /** "auto"/"generate" → generated at exec; else normalized. */
  mac: string;
  /** null, an address, or "pool" (resolved in resolveNicNetworks). */
  ip: string | null;
  network: string | null; // uuid
  nicparams: Params;
}

/**
 * Ganeti's _ComputeNics (argument part): modes, IPs, MACs, network exclusivity.
 * `defaultIp` is the resolved instance address (name check), for ip="auto".
 */
export function computeNics(cfg: ClusterConfig, nics: NicInput[], opts: { nameCheck: boolean; defaultIp: string | null }): NicPlan[] {
  const used = cfg.usedMacs();
  return nics.map((nic) => {
    let mode = nic.mode ?? null;
    if (mode === "none") mode = null;
    const netName = nic.network && nic.network.toLowerCase() !== "none" ? nic.network : null;
    let link = nic.link ?? null;
    if (nic.bridge) {
      if (link && link !== nic.bridge) throw new OpPrereqError("Cannot pass 'bridge' and 'link' at the same time", "wrong_input");
      link = nic.bridge;
    }
    if (netName && (mode || link)) throw new OpPrereqError("If network is given, no mode or link is allowed to be passed", "wrong_input");
    const clusterMode = String(cfg.cluster.nicparams["default"]?.["mode"] ?? DEFAULT_NICPARAMS.mode);
    const effMode = mode ?? clusterMode;

    let ip: string | null;
    const rawIp = nic.ip ?? null;
    if (rawIp === null || rawIp.toLowerCase() === "none") ip = null;
    else if (rawIp.toLowerCase() === "auto") {
      if (!opts.nameCheck) throw new OpPrereqError("IP address set to auto but name checks have been skipped", "wrong_input");
      ip = opts.defaultIp;
    } else if (rawIp.toLowerCase() === "pool") {
      if (!netName) throw new OpPrereqError("if ip=pool, parameter network must be passed too", "wrong_input");
      ip = "pool";
    } else {
      if (parseIPv4(rawIp) === null) throw new OpPrereqError(`Invalid IP address '${rawIp}'`, "wrong_input");
      ip = rawIp;
    }
    if (effMode === "routed" && !ip && !netName) throw new OpPrereqError("Routed nic mode requires an ip address", "wrong_input");

    let mac = nic.mac ?? "auto";
    if (mac !== "auto" && mac !== "generate") {
      mac = normalizeMac(mac);
      if (used.has(mac)) throw new OpPrereqError(`MAC address ${mac} already in use in cluster`, "resource_not_unique");
    }

    let network: string | null = null;
    if (netName) {
      const net = cfg.findNetwork(netName);
      if (!net) throw new OpPrereqError(`Network '${netName}' not found`, "unknown_entity");
      network = net.uuid;
    }
    const nicparams: Params = {};
    if (mode) nicparams["mode"] = mode;
    if (link) nicparams["link"] = link;
    if (nic.vlan !== undefined && nic.vlan !== null && nic.vlan !== "") nicparams["vlan"] = nic.vlan;
    const name = nic.name && nic.name.toLowerCase() !== "none" ? nic.name : null;
    return { uuid: cfg.newUuid(), name, mac, ip, network, nicparams };
  });
}

/**
 * CheckPrereq part: NICs on a network take the group's connection parameters
 * and an address from the pool ("pool") or check a given one. Does not reserve.
 */
export function resolveNicNetworks(
  ctx: LuContext,
  nics: NicPlan[],
  groupUuid: string,
  pnodeName: string,
  opts: { conflictsCheck: boolean; indexBase?: number; taken?: Map<string, Set<string>> },
): void {
  const cfg = ctx.config;
  const taken = opts.taken ?? new Map<string, Set<string>>();
  nics.forEach((nic, i) => {
    const idx = (opts.indexBase ?? 0) + i;
    if (nic.network) {
      const net = cfg.network(nic.network);
      const conn = cfg.data.nodegroups[groupUuid]?.networks[nic.network];
      if (!conn)
        throw new OpPrereqError(
          `No netparams found for network ${net.name}. Probably not connected to node's ${pnodeName} nodegroup`,
          "wrong_input",
        );
      nic.nicparams = { mode: conn.mode, link: conn.link, vlan: conn.vlan };
      if (nic.ip === null) return;
      const pool = new AddressPool(structuredClone(net));
      const mine = taken.get(net.uuid) ?? new Set<string>();
      taken.set(net.uuid, mine);
      for (const a of mine) pool.reserve(a);
      if (nic.ip.toLowerCase() === "pool") {
        try {
          nic.ip = pool.generateFree();
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          throw new OpPrereqError(`Unable to get a free IP for NIC ${idx} from the address pool`, "wrong_state", { cause: err });
        }
        logInfo(ctx, `Chose IP ${nic.ip} from network ${net.name}`);
      } else if (!pool.contains(nic.ip) || (opts.conflictsCheck && (pool.isReserved(nic.ip) || pool.isReserved(nic.ip, true)))) {
        throw new OpPrereqError(`IP address ${nic.ip} already in use or does not belong to network ${net.name}`, "resource_not_unique");
      }
      mine.add(nic.ip);
    } else if (nic.ip && opts.conflictsCheck) {
      checkForConflictingIp(cfg, nic.ip, groupUuid);
    }
  });
}

/** Ganeti's _CheckForConflictingIp: an address of a network connected to the group needs that network. */
function checkForConflictingIp(cfg: ClusterConfig, ip: string, groupUuid: string): void {
  const group = cfg.data.nodegroups[groupUuid];
  if (!group) return;
  for (const netUuid of Object.keys(group.networks)) {
    const net = cfg.data.networks[netUuid];
    if (!net) continue;
    const pool = new AddressPool(structuredClone(net));
    if (pool.contains(ip))
      throw new OpPrereqError(
        `The requested IP address (${ip}) belongs to network ${net.name}, but the target NIC does not.`,
        "wrong_state",
      );
  }
}

/** Exec part: generate MACs and reserve pool addresses (call inside mutate). */
export function materializeNics(cfg: ClusterConfig, nics: NicPlan[]): NicObject[] {
  return nics.map((n) => {
    let mac = n.mac;
    if (mac === "auto" || mac === "generate") {
      const prefix = n.network ? cfg.data.networks[n.network]?.mac_prefix : null;
      mac = cfg.generateMac(prefix);
    }
    return { uuid: n.uuid, name: n.name, mac, ip: n.ip, network: n.network, nicparams: n.nicparams };
  });
}

/** Reserve the addresses of network NICs (inside mutate); a lost race is an OpExecError. */
export function reserveNicIps(cfg: ClusterConfig, nics: NicObject[]): void {
  for (const nic of nics) {
    if (!nic.network || !nic.ip) continue;
    const net = cfg.data.networks[nic.network];
    if (!net) continue;
    const pool = new AddressPool(net);
    if (!pool.contains(nic.ip)) continue;
    if (pool.isReserved(nic.ip)) throw new OpExecError(`IP ${nic.ip} is already used by an instance`);
    pool.reserve(nic.ip);
  }
}

/** Give back the addresses of network NICs (inside mutate). */
export function releaseNicIps(cfg: ClusterConfig, nics: NicObject[]): void {
  for (const nic of nics) {
    if (!nic.network || !nic.ip) continue;
    const net: NetworkObject | undefined = cfg.data.networks[nic.network];
    if (!net) continue;
    const pool = new AddressPool(net);
    if (pool.contains(nic.ip) && pool.isReserved(nic.ip)) pool.release(nic.ip);
  }
}

/** Ganeti's NIC description in change lists: "mac=...,ip=...,mode=...,link=...,network=...". */
export function nicDescription(cfg: ClusterConfig, nic: NicObject, groupUuid: string): string {
  const p = cfg.filledNicparams(nic, groupUuid);
  const net = nic.network ? (cfg.data.networks[nic.network]?.name ?? nic.network) : "None";
  return `mac=${nic.mac},ip=${nic.ip ?? "None"},mode=${String(p["mode"])},link=${String(p["link"])},network=${net}`;
}

// ---- removal ------------------------------------------------------------------

/** Ganeti's RemoveInstance: disks, then the config entries (instance, disks, addresses). */
export async function removeInstance(ctx: LuContext, inst: InstanceObject, ignoreFailures: boolean): Promise<void> {
  const cfg = ctx.config;
  const disks = cfg.instanceDisks(inst);
  if (!(await removeDisks(ctx, inst, disks))) {
    if (!ignoreFailures) throw new OpExecError("Can't remove instance's disks");
    ctx.log("Warning: can't remove instance's disks");
  }
  await cfg.mutate((data) => {
    releaseNicIps(cfg, inst.nics);
    releaseInstancePorts(cfg, inst);
    for (const d of inst.disks) delete data.disks[d];
    delete data.instances[inst.uuid];
  });
}

/** Ganeti's RemoveInstance and RemoveDisks: the network port and drbd disks' ports go back to the cluster's pool (inside the mutation). */
export function releaseInstancePorts(cfg: ClusterConfig, inst: InstanceObject): void {
  if (inst.network_port !== null) releasePort(cfg.data.cluster, inst.network_port);
  for (const u of inst.disks) {
    const d = cfg.data.disks[u];
    if (d) releaseDrbdDisk(cfg, d);
  }
}

/** Turn any error into its message (for warnings). */
export function errText(err: unknown): string {
  return err instanceof GanetiError || err instanceof Error ? err.message : String(err);
}

// ---- bridges -----------------------------------------------------------------

/**
 * Ganeti's CheckNicsBridgesExist: every bridged NIC's link must be a bridge on
 * the node (asked through bridges_exist), whatever the hypervisor.
 */
export async function checkNicsBridgesExist(
  ctx: LuContext,
  nics: ReadonlyArray<{ nicparams: Params; network: string | null }>,
  node: NodeObject,
): Promise<void> {
  const cfg = ctx.config;
  const bridges = nics
    .map((n) => cfg.filledNicparams(n, node.group))
    .filter((p) => p["mode"] === "bridged")
    .map((p) => String(p["link"]));
  if (!bridges.length) return;
  try {
    await ctx.rpc.call(node, "bridges_exist", { bridges });
  } catch (err) {
    throw new OpPrereqError(`Error checking bridges on destination node '${node.name}': ${errText(err)}`, "environment_error", {
      cause: err,
    });
  }
}

/** Ganeti's CheckInstanceBridgesExist: on `node`, by default the primary. */
export async function checkInstanceBridgesExist(ctx: LuContext, inst: InstanceObject, node?: NodeObject): Promise<void> {
  await checkNicsBridgesExist(ctx, inst.nics, node ?? ctx.config.node(inst.primary_node));
}

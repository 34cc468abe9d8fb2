// Ganeti IAllocator requests (lib/masterd/iallocator.py; protocol in
// docs/htools-internals.md, IAllocator protocol): the cluster description built from the config plus live
// node_info / all_instances_info, and the five request types. LUs run them
// through ctx.allocator and get Ganeti's OpPrereqError on failure.
import { diskSpaceNeeded, diskTemplateInfo, type InstanceObject, type NodeObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../config/cluster-config.js";
import { OpPrereqError } from "../lib/errors.js";
import type { LuContext } from "./base.js";

type Json = Record<string, unknown>;

const IALLOCATOR_VERSION = 2;

/** Name used in messages when the op gives none: the cluster default. */
export function allocatorName(cfg: ClusterConfig, requested?: string | null): string {
  return requested && requested !== "." ? requested : cfg.cluster.default_iallocator;
}

/** Ganeti's ComputeDiskSize (MiB the template needs on a node); an unknown template counts its sizes. */
function diskSpaceTotal(template: string, disks: Array<{ size: number }>): number {
  return diskTemplateInfo(template) ? diskSpaceNeeded(template, disks) : disks.reduce((a, d) => a + d.size, 0);
}

/** Nodes an instance of the template is placed on (primary, + secondary when internally mirrored). */
export function requiredNodes(template: string): number {
  return diskTemplateInfo(template)?.nodes ?? 1;
}

function instanceData(cfg: ClusterConfig, inst: InstanceObject): Json {
  const be = cfg.filledBeparams(inst);
  const disks = cfg.instanceDisks(inst);
  const pnode = cfg.data.nodes[inst.primary_node];
  return {
    tags: inst.tags,
    admin_state: inst.admin_state,
    vcpus: be["vcpus"],
    memory: be["maxmem"],
    spindle_use: be["spindle_use"],
    os: inst.os,
    nodes: [inst.primary_node, ...inst.secondary_nodes].map((u) => cfg.data.nodes[u]?.name ?? u),
    nics: inst.nics.map((n) => {
      const p = cfg.filledNicparams(n, pnode?.group);
      return { mac: n.mac, ip: n.ip, mode: p["mode"], link: p["link"], network: n.network };
    }),
    disks: disks.map((d) => ({ size: d.size, mode: d.mode, spindles: d.spindles })),
    disk_template: inst.disk_template,
    disk_space_total: diskSpaceTotal(inst.disk_template, disks),
    hypervisor: inst.hypervisor,
  };
}

/**
 * The common part of every request (Ganeti's _ComputeClusterData): groups,
 * nodes with live memory/disk/cpu (free memory reduced by what stopped-but-up
 * instances may claim back), instances.
 */
async function buildClusterData(ctx: LuContext, hypervisor?: string, diskTemplate?: string | null): Promise<Json> {
  const cfg = ctx.config;
  const cluster = cfg.cluster;
  const hv = hypervisor ?? cluster.enabled_hypervisors[0] ?? "fake";
  const nodes = cfg.nodes();
  const live = nodes.filter((n) => !n.offline && n.vm_capable);
  // The disk space of the request's template (Ganeti's _ComputeClusterData):
  // lvm-based templates (plain, drbd) report their volume group.
  const template = diskTemplate ?? cluster.enabled_disk_templates[0];
  const storageUnits =
    (template === "plain" || template === "drbd") && cluster.volume_group_name
      ? [{ type: "lvm-vg", name: cluster.volume_group_name }]
      : [{ type: "file", name: cluster.file_storage_dir }];
  const [infos, running] = await Promise.all([
    ctx.rpc.callMany(live, "node_info", { storage_units: storageUnits, hypervisor: hv, hvparams: cluster.hvparams[hv] ?? {} }),
    ctx.rpc.callMany(live, "all_instances_info", { hypervisors: cluster.enabled_hypervisors }),
  ]);

  const nodegroups: Json = {};
  for (const g of cfg.groups())
    nodegroups[g.uuid] = {
      name: g.name,
      alloc_policy: g.alloc_policy,
      networks: Object.keys(g.networks),
      ipolicy: cfg.filledIpolicy(g),
      tags: g.tags,
    };

  const nodeData: Json = {};
  for (const n of nodes) {
    const nd = cfg.filledNdparams(n);
    const entry: Json = {
      tags: n.tags,
      primary_ip: n.primary_ip,
      secondary_ip: n.secondary_ip,
      offline: n.offline,
      drained: n.drained,
      master_candidate: n.master_candidate,
      group: n.group,
      master_capable: n.master_capable,
      vm_capable: n.vm_capable,
      ndparams: { exclusive_storage: nd["exclusive_storage"] ?? false, spindle_count: nd["spindle_count"] ?? 1 },
    };
    const info = infos.get(n.uuid);
    if (!n.offline && n.vm_capable && info) {
      if (!info.ok) throw new OpPrereqError(`Can't get data for node ${n.name}: ${info.error}`, "environment_error");
      const r = info.result;
      const runMap = running.get(n.uuid);
      const runInfo = runMap && runMap.ok ? runMap.result : {};
      let free = r.memory_free;
      let pri = 0;
      let priUp = 0;
      for (const inst of cfg.primaryInstances(n.uuid)) {
        const be = cfg.filledBeparams(inst);
        const maxmem = Number(be["maxmem"]);
        pri += maxmem;
        const used = runInfo[inst.name]?.memory ?? 0;
        // An instance marked up but not (fully) running may claim its memory back.
        if (inst.admin_state === "up") {
          priUp += maxmem;
          free -= Math.max(0, maxmem - used);
        }
      }
      const st = r.storage[0];
      entry["total_memory"] = r.memory_total;
      entry["reserved_memory"] = r.memory_dom0;
      entry["free_memory"] = free;
      entry["total_disk"] = st?.storage_size ?? 0;
      entry["free_disk"] = st?.storage_free ?? 0;
      entry["total_cpus"] = r.cpu_total;
      entry["reserved_cpus"] = r.cpu_dom0;
      entry["total_spindles"] = nd["spindle_count"] ?? 1;
      entry["free_spindles"] = nd["spindle_count"] ?? 1;
      entry["i_pri_memory"] = pri;
      entry["i_pri_up_memory"] = priUp;
    }
    nodeData[n.name] = entry;
  }

  const instances: Json = {};
  for (const inst of cfg.instances()) instances[inst.name] = instanceData(cfg, inst);

  return {
    version: IALLOCATOR_VERSION,
    cluster_name: cluster.cluster_name,
    cluster_tags: cluster.tags,
    enabled_hypervisors: cluster.enabled_hypervisors,
    ipolicy: cluster.ipolicy,
    nodegroups,
    nodes: nodeData,
    instances,
  };
}

export interface AllocateSpec {
  name: string;
  disk_template: string;
  tags: string[];
  os: string;
  vcpus: number;
  memory: number;
  spindle_use: number;
  disks: Array<{ size: number; mode: string; spindles: number | null }>;
  nics: Array<{ mac: string; ip: string | null; mode: unknown; link: unknown; network: string | null }>;
  hypervisor: string;
  group_name?: string | null;
}

/** Ganeti's IAReqInstanceAlloc. */
export function allocateRequest(spec: AllocateSpec): Json {
  const req: Json = {
    type: "allocate",
    name: spec.name,
    disk_template: spec.disk_template,
    tags: spec.tags,
    os: spec.os,
    vcpus: spec.vcpus,
    memory: spec.memory,
    spindle_use: spec.spindle_use,
    disks: spec.disks,
    disk_space_total: diskSpaceTotal(spec.disk_template, spec.disks),
    nics: spec.nics,
    required_nodes: requiredNodes(spec.disk_template),
    hypervisor: spec.hypervisor,
  };
  if (spec.group_name) req["group_name"] = spec.group_name;
  return req;
}

/** Ganeti's IAReqRelocate. */
export function relocateRequest(cfg: ClusterConfig, inst: InstanceObject, relocateFrom: NodeObject[]): Json {
  return {
    type: "relocate",
    name: inst.name,
    disk_space_total: diskSpaceTotal(inst.disk_template, cfg.instanceDisks(inst)),
    required_nodes: 1,
    relocate_from: relocateFrom.map((n) => n.name),
  };
}

/** Ganeti's IAReqNodeEvac. */
export function nodeEvacuateRequest(instances: InstanceObject[], evacMode: string): Json {
  return { type: "node-evacuate", instances: instances.map((i) => i.name), evac_mode: evacMode };
}

/** Ganeti's IAReqInstanceAllocateSecondary: a secondary for an instance converted to drbd. */
export function allocateSecondaryRequest(name: string): Json {
  return { type: "allocate-secondary", name };
}

/** Ganeti's IAReqMultiInstanceAlloc. */
export function multiAllocateRequest(specs: AllocateSpec[]): Json {
  return { type: "multi-allocate", instances: specs.map(allocateRequest) };
}

export interface AllocatorOutcome {
  success: boolean;
  info: string;
  result: unknown;
}

/** Run without interpreting failure (multi-alloc reports failures itself). */
async function runAllocatorRaw(ctx: LuContext, request: Json, hypervisor?: string): Promise<AllocatorOutcome> {
  // Ganeti's _BuildInputData: the request's disk template, or a relocated instance's (else the cluster's first).
  const fromRequest: string | null = typeof request["disk_template"] === "string" ? request["disk_template"] : null;
  const template =
    fromRequest ?? (request["type"] === "relocate" ? (ctx.config.findInstance(String(request["name"]))?.disk_template ?? null) : null);
  const input = { ...(await buildClusterData(ctx, hypervisor, template)), request };
  const out = await ctx.allocator.run(input);
  return { success: out["success"] === true, info: String(out["info"] ?? ""), result: out["result"] };
}

/** Run a request, the LU words its own failure (success, info, result). */
export function runAllocatorOutcome(ctx: LuContext, request: Json): Promise<AllocatorOutcome> {
  return runAllocatorRaw(ctx, request);
}

/**
 * Run a request; failure → OpPrereqError("<prefix> '<name>': <info>",
 * insufficient_resources) as Ganeti's LUs report it.
 */
export async function runAllocator(
  ctx: LuContext,
  name: string,
  request: Json,
  opts: { hypervisor?: string; prefix?: string } = {},
): Promise<unknown> {
  const out = await runAllocatorRaw(ctx, request, opts.hypervisor);
  if (!out.success)
    throw new OpPrereqError(`${opts.prefix ?? "Can't compute nodes using iallocator"} '${name}': ${out.info}`, "insufficient_resources");
  return out.result;
}

/** Allocate/relocate result: node names, checked against the config and the required count. */
export function resultNodes(cfg: ClusterConfig, name: string, result: unknown, required: number): NodeObject[] {
  if (!Array.isArray(result) || result.length !== required)
    throw new OpPrereqError(
      `iallocator '${name}' returned invalid number of nodes (${Array.isArray(result) ? result.length : 0}), required ${required}`,
      "wrong_input",
    );
  return result.map((n) => cfg.expandNode(String(n)));
}

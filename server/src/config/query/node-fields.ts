// Ganeti's node query fields (as GET /2/query/node/fields answers them).
import type { NodeObject, QueryValue } from "@ganeti-ts/schema";
import type { NodeInfoResult } from "@ganeti-ts/schema";
import { NODATA, OFFLINE, UNAVAIL, commonFields, f, fieldTable, ndparamFields, normal, type QueryContext } from "./types.js";

type N = NodeObject;

export function nodeRole(ctx: QueryContext, n: N): "M" | "C" | "R" | "D" | "O" {
  if (ctx.data.cluster.master_node === n.uuid) return "M";
  if (n.master_candidate) return "C";
  if (n.drained) return "D";
  if (n.offline) return "O";
  return "R";
}

function live(ctx: QueryContext, n: N, pick: (i: NodeInfoResult) => unknown): QueryValue {
  if (n.offline) return OFFLINE;
  const l = ctx.live?.nodes.get(n.uuid);
  if (!l || l.status === "offline") return OFFLINE;
  if (l.status === "error" || !l.info) return NODATA;
  const v = pick(l.info);
  return v === null || v === undefined ? NODATA : normal(v);
}

/** The unit dtotal/dfree report (Ganeti's getStorageInfoForDefault: the first that is not spindles). */
const defaultUnit = (i: NodeInfoResult) => i.storage.find((s) => s.type !== "lvm-pv");

function spindles(ctx: QueryContext, n: N, key: "storage_free" | "storage_size"): QueryValue {
  if (n.offline) return OFFLINE;
  if (!ctx.data.cluster.volume_group_name) return UNAVAIL;
  return live(ctx, n, (i) => i.storage.find((s) => s.type === "lvm-pv")?.[key]);
}

const pinst = (ctx: QueryContext, n: N) =>
  Object.values(ctx.data.instances)
    .filter((i) => i.primary_node === n.uuid)
    .map((i) => i.name)
    .sort();
const sinst = (ctx: QueryContext, n: N) =>
  Object.values(ctx.data.instances)
    .filter((i) => i.secondary_nodes.includes(n.uuid))
    .map((i) => i.name)
    .sort();

export const NODE_FIELDS = fieldTable<N>([
  f(
    "bootid",
    "BootID",
    "text",
    "Random UUID renewed for each system reboot, can be used for detecting reboots by tracking changes",
    (n, c) => live(c, n, (i) => i.bootid),
    { live: true },
  ),
  f("cnodes", "CNodes", "number", "Number of NUMA domains on node (if exported by hypervisor)", (n, c) => live(c, n, (i) => i.cpu_nodes), {
    live: true,
  }),
  f("cnos", "CNOs", "number", "Number of logical processors used by the node OS (dom0 for Xen)", (n, c) => live(c, n, (i) => i.cpu_dom0), {
    live: true,
  }),
  f(
    "csockets",
    "CSockets",
    "number",
    "Number of physical CPU sockets (if exported by hypervisor)",
    (n, c) => live(c, n, (i) => i.cpu_sockets),
    { live: true },
  ),
  f("ctotal", "CTotal", "number", "Number of logical processors", (n, c) => live(c, n, (i) => i.cpu_total), { live: true }),
  f("custom_ndparams", "CustomNodeParameters", "other", "Custom node parameters", (n) => normal({ ...n.ndparams })),
  f("dfree", "DFree", "unit", "Available storage space on storage unit", (n, c) => live(c, n, (i) => defaultUnit(i)?.storage_free), {
    live: true,
  }),
  f("disk_state", "DiskState", "other", "Disk state", (n) => normal({ ...n.disk_state_static })),
  f("drained", "Drained", "bool", "Whether node is drained", (n) => normal(n.drained)),
  f(
    "dtotal",
    "DTotal",
    "unit",
    "Total storage space on storage unit for instance disk allocation",
    (n, c) => live(c, n, (i) => defaultUnit(i)?.storage_size),
    { live: true },
  ),
  f("group", "Group", "text", "Node group", (n, c) => normal(c.data.nodegroups[n.group]?.name ?? n.group)),
  f("group.uuid", "GroupUUID", "text", "UUID of node group", (n) => normal(n.group)),
  f("hv_state", "HypervisorState", "other", "Hypervisor state", (n) => normal({ ...n.hv_state_static })),
  f("master", "IsMaster", "bool", "Whether node is master", (n, c) => normal(c.data.cluster.master_node === n.uuid)),
  f("master_candidate", "MasterC", "bool", "Whether node is a master candidate", (n) => normal(n.master_candidate)),
  f("master_capable", "MasterCapable", "bool", "Whether node can become a master candidate", (n) => normal(n.master_capable)),
  f("mfree", "MFree", "unit", "Memory available for instance allocations", (n, c) => live(c, n, (i) => i.memory_free), { live: true }),
  f("mnode", "MNode", "unit", "Amount of memory used by node (dom0 for Xen)", (n, c) => live(c, n, (i) => i.memory_dom0), { live: true }),
  f("mtotal", "MTotal", "unit", "Total amount of memory of physical machine", (n, c) => live(c, n, (i) => i.memory_total), { live: true }),
  f("name", "Node", "text", "Node name", (n) => normal(n.name), { hostname: true }),
  ...ndparamFields<N>((n, c) => c.config.filledNdparams(n)),
  f("ndparams", "NodeParameters", "other", "Merged node parameters", (n, c) => normal(c.config.filledNdparams(n))),
  f("offline", "Offline", "bool", "Whether node is marked offline", (n) => normal(n.offline)),
  f("pinst_cnt", "Pinst", "number", "Number of instances with this node as primary", (n, c) => normal(pinst(c, n).length)),
  f("pinst_list", "PriInstances", "other", "List of instances with this node as primary", (n, c) => normal(pinst(c, n))),
  f("pip", "PrimaryIP", "text", "Primary IP address", (n) => normal(n.primary_ip)),
  // unavailable for nodes without out-of-band support (Ganeti's _GetNodePower); gnt cluster epo relies on it
  f("powered", "Powered", "bool", "Whether node is thought to be powered on", (n, c) =>
    c.config.filledNdparams(n)["oob_program"] ? normal(n.powered) : UNAVAIL,
  ),
  f(
    "role",
    "Role",
    "text",
    'Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline',
    (n, c) => normal(nodeRole(c, n)),
  ),
  f("sinst_cnt", "Sinst", "number", "Number of instances with this node as secondary", (n, c) => normal(sinst(c, n).length)),
  f("sinst_list", "SecInstances", "other", "List of instances with this node as secondary", (n, c) => normal(sinst(c, n))),
  f("sip", "SecondaryIP", "text", "Secondary IP address", (n) => normal(n.secondary_ip)),
  // Spindles come from the volume group's lvm-pv unit (0 without exclusive storage, as Ganeti); no volume group: none.
  f("spfree", "SpFree", "number", "Available spindles in volume group (exclusive storage only)", (n, c) => spindles(c, n, "storage_free"), {
    live: true,
  }),
  f("sptotal", "SpTotal", "number", "Total spindles in volume group (exclusive storage only)", (n, c) => spindles(c, n, "storage_size"), {
    live: true,
  }),
  ...commonFields<N>("Node"),
  f("vm_capable", "VMCapable", "bool", "Whether node can host instances", (n) => normal(n.vm_capable)),
]);

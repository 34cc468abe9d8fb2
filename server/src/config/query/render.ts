// The object shapes of RAPI's list/get resources (Ganeti's doc/rapi.rst): the
// field lists rlib2 requests (I_FIELDS, N_FIELDS, ...) in Ganeti's order.
const COMMON = ["ctime", "mtime", "uuid", "serial_no", "tags"] as const;

export const I_FIELDS = [
  "name",
  "admin_state",
  "os",
  "pnode",
  "snodes",
  "disk_template",
  "nic.ips",
  "nic.macs",
  "nic.modes",
  "nic.uuids",
  "nic.names",
  "nic.links",
  "nic.networks",
  "nic.networks.names",
  "nic.bridges",
  "network_port",
  "disk.sizes",
  "disk.spindles",
  "disk_usage",
  "disk.uuids",
  "disk.names",
  "beparams",
  "hvparams",
  "oper_state",
  "oper_ram",
  "oper_vcpus",
  "status",
  "custom_hvparams",
  "custom_beparams",
  "custom_nicparams",
  ...COMMON,
] as const;

export const N_FIELDS = [
  "name",
  "offline",
  "master_candidate",
  "drained",
  "dtotal",
  "dfree",
  "sptotal",
  "spfree",
  "mtotal",
  "mnode",
  "mfree",
  "pinst_cnt",
  "sinst_cnt",
  "ctotal",
  "cnos",
  "cnodes",
  "csockets",
  "pip",
  "sip",
  "role",
  "pinst_list",
  "sinst_list",
  "master_capable",
  "vm_capable",
  "ndparams",
  "group.uuid",
  ...COMMON,
] as const;

export const NET_FIELDS = [
  "name",
  "network",
  "gateway",
  "network6",
  "gateway6",
  "mac_prefix",
  "free_count",
  "reserved_count",
  "map",
  "group_list",
  "inst_list",
  "external_reservations",
  ...COMMON,
] as const;

export const G_FIELDS = [
  "alloc_policy",
  "name",
  "node_cnt",
  "node_list",
  "ipolicy",
  "custom_ipolicy",
  "diskparams",
  "custom_diskparams",
  "ndparams",
  "custom_ndparams",
  ...COMMON,
] as const;

export const FILTER_RULE_FIELDS = ["watermark", "priority", "predicates", "action", "reason_trail", "uuid"] as const;

export const J_FIELDS_BULK = ["id", "ops", "status", "summary", "opstatus", "received_ts", "start_ts", "end_ts"] as const;
export const J_FIELDS = [...J_FIELDS_BULK, "oplog", "opresult"] as const;

/** rlib2's _UpdateBeparams: `beparams.memory` mirrors `maxmem`. */
export function addMemoryBeparam(inst: Record<string, unknown>): Record<string, unknown> {
  memoryBeparam("beparams", inst["beparams"]);
  return inst;
}

/** addMemoryBeparam as a per-field map for QueryEngine.objectsJson (changes the filled dict in place). */
export function memoryBeparam(field: string, value: unknown): unknown {
  if (field === "beparams" && value && typeof value === "object") {
    (value as Record<string, unknown>)["memory"] = (value as Record<string, unknown>)["maxmem"];
  }
  return value;
}

// Ganeti's query filter language (qlang) as typed builder functions. Each
// returns the list form the RAPI expects, e.g. q.eq("name", "x") →
// ["==", "name", "x"] (Ganeti's query filter language, doc/design-query2.rst).

/** A qlang filter in list form. */
export type Filter =
  | readonly ["&", ...Filter[]]
  | readonly ["|", ...Filter[]]
  | readonly ["!", Filter]
  | readonly ["?", string]
  | readonly ["==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "=[]", string, FilterValue];
export type FilterValue = string | number | boolean | null;

/** Known field names per query resource (for completion; any string is accepted). */
export interface QueryFieldMap {
  instance:
    | "name"
    | "status"
    | "admin_state"
    | "oper_state"
    | "oper_ram"
    | "oper_vcpus"
    | "os"
    | "pnode"
    | "snodes"
    | "disk_template"
    | "be/memory"
    | "be/maxmem"
    | "be/minmem"
    | "be/vcpus"
    | "hypervisor"
    | "tags"
    | "uuid"
    | "disk.sizes"
    | "disk_usage"
    | "nic.ips"
    | "nic.macs"
    | "network_port"
    | "ctime"
    | "mtime"
    | "serial_no";
  node:
    | "name"
    | "role"
    | "offline"
    | "drained"
    | "master_candidate"
    | "master_capable"
    | "vm_capable"
    | "pip"
    | "sip"
    | "dtotal"
    | "dfree"
    | "mtotal"
    | "mnode"
    | "mfree"
    | "ctotal"
    | "pinst_cnt"
    | "sinst_cnt"
    | "pinst_list"
    | "sinst_list"
    | "group"
    | "group.uuid"
    | "tags"
    | "uuid";
  group: "name" | "alloc_policy" | "node_cnt" | "node_list" | "pinst_cnt" | "pinst_list" | "tags" | "uuid" | "ipolicy";
  network:
    | "name"
    | "network"
    | "gateway"
    | "network6"
    | "gateway6"
    | "mac_prefix"
    | "free_count"
    | "reserved_count"
    | "group_list"
    | "inst_list"
    | "tags"
    | "uuid";
  job:
    | "id"
    | "status"
    | "summary"
    | "ops"
    | "opstatus"
    | "opresult"
    | "oplog"
    | "priority"
    | "received_ts"
    | "start_ts"
    | "end_ts"
    | "archived";
  lock: "name" | "mode" | "owner" | "pending";
  export: "node" | "export";
  filter: "uuid" | "watermark" | "priority" | "predicates" | "action" | "reason_trail";
}
export type QueryResourceName = keyof QueryFieldMap;
export type FieldOf<R extends QueryResourceName> = QueryFieldMap[R] | (string & {});

const bin =
  <Op extends "==" | "!=" | "<" | "<=" | ">" | ">=" | "=[]">(op: Op) =>
  (field: string, value: FilterValue): readonly [Op, string, FilterValue] =>
    [op, field, value] as const;

export const q = {
  and: (...filters: Filter[]): Filter => ["&", ...filters],
  or: (...filters: Filter[]): Filter => ["|", ...filters],
  not: (filter: Filter): Filter => ["!", filter],
  /** Field is truthy (bool fields true; others non-empty). */
  truthy: (field: string): Filter => ["?", field],
  eq: bin("=="),
  ne: bin("!="),
  lt: bin("<"),
  le: bin("<="),
  gt: bin(">"),
  ge: bin(">="),
  /** List field contains the value (`=[]`). */
  contains: bin("=[]"),
  /** Regular-expression search (Python `re.search`); a JS RegExp's `i` flag becomes `(?i)`. */
  regex: (field: string, re: string | RegExp): Filter => {
    if (typeof re === "string") return ["=~", field, re];
    const flags = (re.flags.includes("i") ? "i" : "") + (re.flags.includes("s") ? "s" : "");
    return ["=~", field, flags ? `(?${flags})${re.source}` : re.source];
  },
  /** Field equals one of the values (an OR of equalities). */
  oneOf: (field: string, values: FilterValue[]): Filter => ["|", ...values.map((v) => ["==", field, v] as const)],
};

// The `info` views of Ganeti's gnt-instance, gnt-node and gnt-job: its
// PrintGenericInfo layout (a YAML-like tree: "key: value", nested keys
// indented by two spaces, list items with "- ", aligned groups of keys),
// times as local dates, sizes with units.
import { formatJobError } from "./errors.js";
import { formatUnit } from "./output.js";

/** An ordered mapping: [key, value] or [key, value, alignment group]. */
export class Ordered {
  constructor(readonly entries: ([string, Info] | [string, Info, string])[]) {}
}
/** A tuple of scalars, printed inline as "[a, b, c]". */
export class Inline {
  constructor(readonly items: (string | number | boolean | null)[]) {}
}
export type Info = string | number | boolean | null | undefined | Info[] | Ordered | Inline | { [key: string]: Info };

/** Python's str() of a scalar, as Ganeti prints values. */
function scalar(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (Array.isArray(v)) return v.map(scalar).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function serialize(buf: string[], data: Info, level: number, afterKey: boolean): void {
  const ind = "  ";
  const keyed = (entries: ([string, Info] | [string, Info, string])[]) => {
    if (entries.length === 0) {
      buf.push("\n");
      return;
    }
    const widths = new Map<string, number>();
    for (const e of entries) if (e[2] !== undefined) widths.set(e[2], Math.max(widths.get(e[2]) ?? 0, e[0].length));
    let indent = afterKey;
    if (afterKey) buf.push("\n");
    for (const [key, value, group] of entries) {
      if (indent) buf.push(ind.repeat(level));
      indent = true;
      buf.push(`${key}: `);
      if (group !== undefined) buf.push(" ".repeat((widths.get(group) ?? 0) - key.length));
      serialize(buf, value, level + 1, true);
    }
  };
  if (data instanceof Ordered) keyed(data.entries);
  else if (data instanceof Inline) buf.push(`[${data.items.map(scalar).join(", ")}]\n`);
  else if (Array.isArray(data)) {
    if (data.length === 0) {
      buf.push("\n");
      return;
    }
    let indent = afterKey;
    if (afterKey) buf.push("\n");
    for (const item of data) {
      if (indent) buf.push(ind.repeat(level));
      indent = true;
      buf.push("- ");
      serialize(buf, item, level + 1, false);
    }
  } else if (data !== null && typeof data === "object") {
    keyed(
      Object.keys(data)
        .sort()
        .map((k) => [k, data[k]] as [string, Info]),
    );
  } else buf.push(`${scalar(data)}\n`);
}

/** Ganeti's PrintGenericInfo. */
export function genericInfo(data: Info): string {
  const buf: string[] = [];
  serialize(buf, data, 0, false);
  return buf.join("").replace(/\n+$/, "");
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Ganeti's FormatTime: "2026-11-25 03:49:41" (local time), with ".usec" when given; "N/A" without a time. */
export function formatTime(sec: unknown, usec?: number): string {
  if (typeof sec !== "number") return "N/A";
  const d = new Date(Math.floor(sec) * 1000);
  const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return usec === undefined ? s : `${s}.${pad(usec, 6)}`;
}

/** A [seconds, microseconds] timestamp. */
function ts(v: unknown): string {
  return Array.isArray(v) && v.length === 2 ? formatTime(v[0], Number(v[1])) : "?";
}

const delta = (from: unknown, to: unknown): number | null =>
  Array.isArray(from) && Array.isArray(to) ? Number(to[0]) - Number(from[0]) + (Number(to[1]) - Number(from[1])) / 1e6 : null;

/** Parameters that are sizes in MiB: shown with units. */
const SIZE_PARAMS = new Set(["maxmem", "minmem", "memory", "size", "runtime_mem"]);

function paramValue(key: string, v: unknown): string {
  return SIZE_PARAMS.has(key) && typeof v === "number" ? formatUnit(v) : scalar(v);
}

/** Ganeti's FormatParamsDictInfo: own values as they are, inherited ones as "default (value)". */
export function paramsInfo(own: Record<string, unknown> | null | undefined, actual: Record<string, unknown> | null | undefined): Info {
  const out: Record<string, Info> = {};
  for (const [k, v] of Object.entries(actual ?? {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) {
      out[k] = paramsInfo((own?.[k] as Record<string, unknown>) ?? {}, v as Record<string, unknown>);
    } else out[k] = own && k in own ? paramValue(k, own[k]) : `default (${paramValue(k, v)})`;
  }
  return out;
}

type Rec = Record<string, unknown>;
const str = (v: unknown) => scalar(v);

/** Ganeti's _FormatDiskDetails: drbd's two nodes and port, plain's vg/volume, else the logical_id. */
function diskDetails(d: Rec): Array<[string, Info]> {
  const lid = d.logical_id;
  const drbd = d.drbd_info as Rec | null | undefined;
  if (d.dev_type === "drbd" && drbd) {
    return [
      ["nodeA", `${str(drbd.primary_node)}, minor=${str(drbd.primary_minor)}`],
      ["nodeB", `${str(drbd.secondary_node)}, minor=${str(drbd.secondary_minor)}`],
      ["port", str(drbd.port)],
    ];
  }
  if (d.dev_type === "plain" && Array.isArray(lid) && lid.length === 2) return [["logical_id", `${str(lid[0])}/${str(lid[1])}`]];
  return [["logical_id", `[${(Array.isArray(lid) ? lid : [lid]).map(str).join(", ")}]`]];
}

/**
 * One node's view of a disk (Ganeti's blockdev_find tuple) as gnt-instance
 * info prints it: path (major:minor); for drbd the sync state and whether the
 * mirror is degraded, for plain a failed volume.
 */
export function blockDevStatus(devType: unknown, s: unknown): string {
  if (!Array.isArray(s) || s.length === 0) return "not active";
  const [p, major, minor, syncp, estt, degraded, ldisk] = s as unknown[];
  let txt = `${str(p)} (${major === null ? "N/A" : str(major)}:${minor === null ? "N/A" : str(minor)})`;
  if (devType === "drbd") {
    let sync = "in sync";
    if (typeof syncp === "number") sync = `*RECOVERING* ${syncp.toFixed(2).padStart(5)}%, ${estt ? `ETA ${str(estt)}s` : "ETA unknown"}`;
    // Ganeti 3.0's LDS_*: 4 faulty, 3 unknown (2 syncing and 1 okay say nothing more).
    const ldiskText = ldisk === 4 ? " *MISSING DISK*" : ldisk === 3 ? " *UNCERTAIN STATE*" : "";
    txt += ` ${sync}, status ${degraded ? "*DEGRADED*" : "ok"}${ldiskText}`;
  } else if (devType === "plain" && ldisk === 4) txt += " *FAILED* (failed drive?)";
  return txt;
}

function diskInfo(idx: number, d: Rec, top: boolean): Info {
  const head = top ? (typeof d.iv_name === "string" ? d.iv_name : `disk ${idx}`) : `child ${idx}`;
  const size = typeof d.size === "number" ? formatUnit(d.size) : str(d.size);
  const out: ([string, Info] | [string, Info, string])[] = [[head, `${str(d.dev_type)}, size ${size}`]];
  if (top) {
    if (d.spindles !== null && d.spindles !== undefined) out.push(["spindles", str(d.spindles)]);
    out.push(["access mode", str(d.mode)]);
  }
  if (d.logical_id !== null && d.logical_id !== undefined) out.push(...diskDetails(d));
  if (d.pstatus) out.push(["on primary", blockDevStatus(d.dev_type, d.pstatus)]);
  if (d.sstatus) out.push(["on secondary", blockDevStatus(d.dev_type, d.sstatus)]);
  out.push(["name", str(d.name)]);
  out.push(["UUID", str(d.uuid)]);
  const children = (d.children as Rec[] | undefined) ?? [];
  if (children.length) out.push(["child devices", children.map((c, i) => diskInfo(i, c, false))]);
  return new Ordered(out);
}

/** gnt-instance info of one instance (OP_INSTANCE_QUERY_DATA's result). */
export function instanceInfo(i: Rec): Info {
  let state = `configured to be ${str(i.config_state)}`;
  if (i.run_state) state += `, actual state is ${str(i.run_state)}`;
  const snodes = (i.snodes as string[] | undefined) ?? [];
  const sgroups = (i.snodes_group_names as unknown[] | undefined) ?? [];
  const suuids = (i.snodes_group_uuids as unknown[] | undefined) ?? [];
  const secs = snodes.map((n, k) => `${n} (group ${str(sgroups[k])}, group UUID ${str(suuids[k])})`).join(", ");
  const nics = ((i.nics as unknown[][] | undefined) ?? []).map((nic, idx) => {
    const [name, uuid, ip, mac, mode, link, vlan, , netinfo] = nic;
    const network = netinfo && typeof netinfo === "object" ? (netinfo as Rec).name : netinfo;
    return new Ordered([
      [`nic/${idx}`, ""],
      ["MAC", str(mac)],
      ["IP", str(ip)],
      ["mode", str(mode)],
      ["link", str(link)],
      ["vlan", str(vlan)],
      ["network", str(network)],
      ["UUID", str(uuid)],
      ["name", str(name)],
    ]);
  });
  const beActual = { ...((i.be_actual as Rec | undefined) ?? {}) };
  if ("maxmem" in beActual) beActual.memory = beActual.maxmem;
  const out: ([string, Info] | [string, Info, string])[] = [
    ["Instance name", str(i.name)],
    ["UUID", str(i.uuid)],
    ["Serial number", str(i.serial_no)],
    ["Creation time", formatTime(i.ctime)],
    ["Modification time", formatTime(i.mtime)],
    ["State", state],
    [
      "Nodes",
      [
        new Ordered([
          ["primary", str(i.pnode)],
          ["group", `${str(i.pnode_group_name)} (UUID ${str(i.pnode_group_uuid)})`],
        ]),
        new Ordered([["secondaries", secs]]),
      ],
    ],
    ["Operating system", str(i.os)],
    ["Operating system parameters", paramsInfo(i.os_instance as Rec, i.os_actual as Rec)],
  ];
  if ("network_port" in i) out.push(["Allocated network port", str(i.network_port)]);
  out.push(["Hypervisor", str(i.hypervisor)]);
  // A running kvm instance: the accelerator its qemu really uses (kvm or tcg).
  if (typeof i.hv_accel === "string") out.push(["hv_accel", i.hv_accel]);
  out.push(
    ["Hypervisor parameters", paramsInfo(i.hv_instance as Rec, i.hv_actual as Rec)],
    ["Back-end parameters", paramsInfo(i.be_instance as Rec, beActual)],
    ["NICs", nics],
    ["Disk template", str(i.disk_template)],
    ["Disks", ((i.disks as Rec[] | undefined) ?? []).map((d, idx) => diskInfo(idx, d, true))],
  );
  return new Ordered(out);
}

const niceSort = (a: string[]) => [...a].sort((x, y) => x.localeCompare(y, "en", { numeric: true }));

/** gnt-node info of one node, from the query fields Ganeti reads (NODE_INFO_FIELDS order). */
export const NODE_INFO_FIELDS = [
  "name",
  "pip",
  "sip",
  "pinst_list",
  "sinst_list",
  "master_candidate",
  "drained",
  "offline",
  "master_capable",
  "vm_capable",
  "powered",
  "ndparams",
  "custom_ndparams",
] as const;

export function nodeInfo(n: Record<(typeof NODE_INFO_FIELDS)[number], unknown>): Info {
  const out: ([string, Info] | [string, Info, string])[] = [
    ["Node name", str(n.name)],
    ["primary ip", str(n.pip)],
    ["secondary ip", str(n.sip)],
    ["master candidate", str(n.master_candidate)],
    ["drained", str(n.drained)],
    ["offline", str(n.offline)],
  ];
  if (n.powered !== null && n.powered !== undefined) out.push(["powered", str(n.powered)]);
  out.push(["master_capable", str(n.master_capable)], ["vm_capable", str(n.vm_capable)]);
  if (n.vm_capable) {
    out.push(["primary for instances", niceSort((n.pinst_list as string[]) ?? [])]);
    out.push(["secondary for instances", niceSort((n.sinst_list as string[]) ?? [])]);
  }
  out.push(["node parameters", paramsInfo(n.custom_ndparams as Rec, n.ndparams as Rec)]);
  return new Ordered(out);
}

/** The query fields of gnt-job info. */
export const JOB_INFO_FIELDS = [
  "id",
  "status",
  "ops",
  "opresult",
  "opstatus",
  "oplog",
  "opstart",
  "opexec",
  "opend",
  "received_ts",
  "start_ts",
  "end_ts",
] as const;

/** A job's opcode result for people: errors worded, not as tuples. */
function resultInfo(status: unknown, result: unknown): Info {
  if (status === "error") return formatJobError(result);
  return toInfo(result);
}

/** Plain JSON data as an info tree (objects by sorted key, lists as items). */
export function toInfo(v: unknown): Info {
  if (v === null || v === undefined || typeof v !== "object") return v as Info;
  if (Array.isArray(v)) return v.map(toInfo);
  return Object.fromEntries(Object.entries(v as Rec).map(([k, x]) => [k, toInfo(x)]));
}

/** gnt-job info of one job (`null` fields: the job is unknown). */
export function jobInfo(j: Record<(typeof JOB_INFO_FIELDS)[number], unknown>): Info {
  if (j.status === null || j.status === undefined) return `Job ID ${str(j.id)} not found`;
  const stamp = (name: string, t: unknown, prior?: unknown): [string, Info, string] => {
    if (!Array.isArray(t)) return [name, `unknown (${str(t)})`, "job"];
    const d = prior !== undefined ? delta(prior, t) : null;
    return [name, `${ts(t)}${d !== null ? ` (delta ${d.toFixed(6)}s)` : ""}`, "job"];
  };
  const total = delta(j.received_ts, j.end_ts);
  const ops = (j.ops as Rec[] | null) ?? [];
  const at = (field: unknown, i: number) => (Array.isArray(field) ? (field[i] as unknown) : undefined);
  const opcodes = ops.map((op, i) => {
    const opTs = (name: string, t: unknown): [string, Info, string] => [name, Array.isArray(t) ? ts(t) : "N/A", "op"];
    const log = ((at(j.oplog, i) as unknown[][] | undefined) ?? []).map(
      ([serial, time, type, message]) =>
        new Ordered([
          ["Time", ts(time)],
          ["Content", new Inline([serial as number, type as string, typeof message === "string" ? message : JSON.stringify(message)])],
        ]),
    );
    return new Ordered([
      ["Opcode", str(op.OP_ID)],
      ["Status", str(at(j.opstatus, i))],
      opTs("Processing start", at(j.opstart, i)),
      opTs("Execution start", at(j.opexec, i)),
      opTs("Processing end", at(j.opend, i)),
      ["Input fields", toInfo(op)],
      ["Result", resultInfo(at(j.opstatus, i), at(j.opresult, i))],
      ["Execution log", log],
    ]);
  });
  return new Ordered([
    ["Job ID", str(j.id)],
    ["Status", str(j.status)],
    stamp("Received", j.received_ts),
    stamp("Processing start", j.start_ts, j.received_ts),
    stamp("Processing end", j.end_ts, j.start_ts),
    ["Total processing time", total !== null && Array.isArray(j.end_ts) ? `${total.toFixed(6)} seconds` : "N/A"],
    ["Opcodes", opcodes],
  ]);
}

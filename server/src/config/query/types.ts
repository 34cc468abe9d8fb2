// Query engine building blocks: Ganeti's field definitions (name, title,
// kind, doc) with a getter per field returning [status, value].
import type { ConfigData, QueryFieldKind, QueryValue } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../cluster-config.js";
import type { LiveData } from "./live.js";

/** Result status codes (Ganeti's RS_*). */
export const RS_NORMAL = 0;
export const RS_UNKNOWN = 1;
const RS_NODATA = 2;
const RS_UNAVAIL = 3;
const RS_OFFLINE = 4;

export const normal = (v: unknown): QueryValue => [RS_NORMAL, v];
export const NODATA: QueryValue = [RS_NODATA, null];
export const UNAVAIL: QueryValue = [RS_UNAVAIL, null];
export const OFFLINE: QueryValue = [RS_OFFLINE, null];
/** Value that may be absent: null/undefined is "unavailable". */
export const maybe = (v: unknown): QueryValue => (v === null || v === undefined ? UNAVAIL : normal(v));

export interface QueryContext {
  config: ClusterConfig;
  data: ConfigData;
  /** Live node data; present when a requested field needs it. */
  live: LiveData | null;
}

export interface FieldDef<T> {
  name: string;
  title: string;
  kind: QueryFieldKind;
  doc: string;
  /** Needs live node data (RPC). */
  live?: boolean;
  /** Name-like field: `==` also matches unique short host names (Ganeti's QffHostname). */
  hostname?: boolean;
  get(item: T, ctx: QueryContext): QueryValue;
}

export type FieldTable<T> = Map<string, FieldDef<T>>;

export function fieldTable<T>(defs: FieldDef<T>[], aliases: Array<[string, string]> = []): FieldTable<T> {
  const m = new Map<string, FieldDef<T>>();
  for (const d of defs) m.set(d.name, d);
  for (const [alias, target] of aliases) {
    const t = m.get(target);
    if (t) m.set(alias, { ...t, name: alias });
  }
  return m;
}

export const f = <T>(
  name: string,
  title: string,
  kind: QueryFieldKind,
  doc: string,
  get: FieldDef<T>["get"],
  extra: Partial<Pick<FieldDef<T>, "live" | "hostname">> = {},
): FieldDef<T> => ({ name, title, kind, doc, get, ...extra });

interface Common {
  uuid: string;
  serial_no: number;
  ctime: number | null;
  mtime: number | null;
  tags: string[];
}

/** ctime, mtime, uuid, serial_no, tags as every config object has them. */
export function commonFields<T extends Common>(what: string): FieldDef<T>[] {
  return [
    f("ctime", "CTime", "timestamp", "Creation timestamp", (o) => normal(o.ctime)),
    f("mtime", "MTime", "timestamp", "Modification timestamp", (o) => normal(o.mtime)),
    f("uuid", "UUID", "text", `${what} UUID`, (o) => normal(o.uuid)),
    f("serial_no", "SerialNo", "number", `${what} object serial number, incremented on each modification`, (o) => normal(o.serial_no)),
    f("tags", "Tags", "other", "Tags", (o) => normal([...o.tags])),
  ];
}

/** Ganeti's vTypeToQFT, from the type of a default value. */
export function kindOfValue(v: unknown): QueryFieldKind {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "number" : "float";
  if (typeof v === "string") return "text";
  return "other";
}

const NDPARAM_TITLES: Record<string, string> = {
  exclusive_storage: "ExclusiveStorage",
  oob_program: "OutOfBandProgram",
  ovs: "OpenvSwitch",
  ovs_link: "OpenvSwitchLink",
  ovs_name: "OpenvSwitchName",
  spindle_count: "SpindleCount",
};
/** Node parameter kinds as Ganeti types them (strings that may be empty are "other"). */
const NDPARAM_KINDS: Record<string, QueryFieldKind> = {
  cpu_speed: "float",
  exclusive_storage: "bool",
  oob_program: "other",
  ovs: "bool",
  ovs_link: "other",
  ovs_name: "other",
  spindle_count: "number",
  ssh_port: "number",
};

export function ndparamFields<T>(getParams: (o: T, ctx: QueryContext) => Record<string, unknown>): FieldDef<T>[] {
  return Object.keys(NDPARAM_KINDS)
    .sort()
    .map((p) =>
      f<T>(`ndp/${p}`, NDPARAM_TITLES[p] ?? `ndp/${p}`, NDPARAM_KINDS[p] ?? "other", `The "${p}" node parameter`, (o, ctx) => {
        const v = getParams(o, ctx)[p];
        return v === undefined ? NODATA : normal(v);
      }),
    );
}

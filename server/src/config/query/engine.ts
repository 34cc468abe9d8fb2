// The query engine behind /2/query and every list/get RAPI resource: items
// of a resource, their field values ([status, value]) and qlang filtering.
import type { ConfigData, JobRecord, QueryFieldDefinition, QueryValue } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import type { ClusterConfig } from "../cluster-config.js";
import { GROUP_FIELDS } from "./group-fields.js";
import { INSTANCE_FIELDS } from "./instance-fields.js";
import type { LiveData, LiveDataCache, LiveNeeds } from "./live.js";
import { EXPORT_FIELDS, FILTER_FIELDS, JOB_FIELDS, LOCK_FIELDS, type JobRow } from "./misc-fields.js";
import { NETWORK_FIELDS } from "./network-fields.js";
import { NODE_FIELDS } from "./node-fields.js";
import {
  QueryParseError,
  checkFilterFields,
  evaluateFilter,
  filterFields,
  parseFilter,
  pyJson,
  requestedNames,
  type FilterNode,
} from "./qlang.js";
import { RS_NORMAL, RS_UNKNOWN, type FieldDef, type FieldTable, type QueryContext } from "./types.js";

export const QUERY_RESOURCE_NAMES = ["instance", "node", "group", "network", "job", "lock", "export", "filter"] as const;
export type QueryResourceName = (typeof QUERY_RESOURCE_NAMES)[number];

/** What the engine needs of the job queue (a subset of JobQueueApi). */
interface JobSource {
  listJobIds(): number[];
  getJob(id: number): Promise<JobRecord | null>;
  jobFields(job: JobRecord, fields: string[]): unknown[];
}

interface QueryEngineDeps {
  config: ClusterConfig;
  live: LiveDataCache | null;
  jobs: JobSource | null;
}

interface QueryResultData {
  fields: QueryFieldDefinition[];
  data: QueryValue[][];
}

// Tables are generic over their item type; the engine only moves items between getters.
type AnyTable = FieldTable<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TABLES: Record<QueryResourceName, AnyTable> = {
  instance: INSTANCE_FIELDS,
  node: NODE_FIELDS,
  group: GROUP_FIELDS,
  network: NETWORK_FIELDS,
  job: JOB_FIELDS,
  lock: LOCK_FIELDS,
  export: EXPORT_FIELDS,
  filter: FILTER_FIELDS,
};

const NAME_KIND: Partial<Record<QueryResourceName, string>> = { instance: "Instance", node: "Node", group: "Group", network: "Network" };

function isQueryResource(r: string): r is QueryResourceName {
  return (QUERY_RESOURCE_NAMES as readonly string[]).includes(r);
}

/** Ganeti's niceSort: digit runs compare numerically ("inst2" < "inst10"). */
function niceCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function fieldDef(d: FieldDef<unknown>): QueryFieldDefinition {
  return { name: d.name, title: d.title, kind: d.kind, doc: d.doc };
}
const unknownDef = (name: string): QueryFieldDefinition => ({ name, title: name, kind: "unknown", doc: `Unknown field '${name}'` });

type JsonMap = (field: string, value: unknown) => unknown;
interface JsonField {
  name: string;
  def: FieldDef<unknown> | undefined;
}
/** Consecutive fields that all need live data, or all do not. */
interface JsonRun {
  live: boolean;
  fields: JsonField[];
}
interface JsonPlan {
  map: JsonMap | undefined;
  runs: JsonRun[];
  /** The config the cached texts were rendered from. */
  data: ConfigData;
  generation: number;
  /** item → UTF-8 text of each non-live run (empty for live runs and for runs without keys). */
  items: WeakMap<object, Buffer[]>;
  /** The last answer, its items (the kept sorted list) and the live texts it was built with. */
  last: { items: readonly unknown[]; live: string[]; bytes: Buffer } | null;
}

function sameStrings(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const EMPTY = Buffer.alloc(0);
const JSON_OPEN_LIST = Buffer.from("[");
const JSON_CLOSE_LIST = Buffer.from("]");
const JSON_OPEN = Buffer.from("{");
const JSON_OPEN_NEXT = Buffer.from(",{");
const JSON_COMMA = Buffer.from(",");
const JSON_CLOSE = Buffer.from("}");

/**
 * `{"a":1,"b":2}` for one run of fields, as JSON.stringify renders them in
 * objects()' dicts (keys whose value is undefined are left out). One
 * stringify per run, not per value: far fewer calls and pieces.
 */
function renderRun(fields: JsonField[], item: unknown, ctx: QueryContext, map: JsonMap | undefined): string {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    let v: unknown = null;
    if (f.def) {
      const r = f.def.get(item, ctx);
      if (r[0] === RS_NORMAL) v = r[1];
    }
    o[f.name] = map ? map(f.name, v) : v;
  }
  return JSON.stringify(o);
}

/** A run's text as UTF-8 without its braces (`"a":1,"b":2`; empty when it has no keys). */
function runBytes(text: string): Buffer {
  const b = Buffer.from(text);
  return b.subarray(1, b.length - 1);
}

export class QueryEngine {
  private readonly plans = new Map<string, JsonPlan>();
  private sorted: { data: ConfigData | null; generation: number; lists: Map<string, Array<{ name: string; uuid: string }>> } = {
    data: null,
    generation: -1,
    lists: new Map(),
  };

  constructor(private readonly deps: QueryEngineDeps) {}

  table(resource: QueryResourceName): AnyTable {
    return TABLES[resource];
  }

  /** `GET /2/query/RES/fields`: all definitions sorted by name, or the requested ones in order. */
  fields(resource: string, names: string[] | null): { fields: QueryFieldDefinition[] } {
    const res = this.resource(resource, names ?? [], null);
    const table = TABLES[res];
    if (names === null) {
      const defs = [...table.values()].filter((d) => table.get(d.name) === d || d.name === d.name);
      const uniq = new Map(defs.map((d) => [d.name, d]));
      return { fields: [...uniq.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(fieldDef) };
    }
    return {
      fields: names.map((n) => {
        const d = table.get(n);
        return d ? fieldDef(d) : unknownDef(n);
      }),
    };
  }

  /** `GET|PUT /2/query/RES`. */
  async query(resource: string, fields: string[], rawFilter: unknown): Promise<QueryResultData> {
    const res = this.resource(resource, fields, rawFilter ?? null);
    let filter: FilterNode | null;
    try {
      filter = parseFilter(rawFilter ?? null);
    } catch (err) {
      if (err instanceof QueryParseError) throw this.parseError(resource, fields, rawFilter ?? null, err.message);
      throw err;
    }
    const table = TABLES[res];
    checkFilterFields(filter, table);
    const { items, ctx } = await this.items(res, [...fields, ...filterFields(filter)], filter);
    const defs = fields.map((n) => table.get(n));
    const data: QueryValue[][] = [];
    for (const item of items) {
      if (filter && evaluateFilter(filter, table, item, ctx) !== true) continue;
      data.push(defs.map((d) => (d ? d.get(item, ctx) : [RS_UNKNOWN, null])));
    }
    return {
      fields: fields.map((n, i) => {
        const d = defs[i];
        return d ? fieldDef(d) : unknownDef(n);
      }),
      data,
    };
  }

  /**
   * Objects as RAPI's bulk GETs render them (MapBulkFields): one dict per
   * item with the given keys; values without a normal status become null.
   * `names`: only these items (in that order); a missing one is reported by
   * returning null in its place.
   */
  async objects(resource: QueryResourceName, fields: readonly string[], names?: string[]): Promise<Array<Record<string, unknown> | null>> {
    const table = TABLES[resource];
    const { items, ctx } = await this.items(resource, [...fields], null, names);
    const defs = fields.map((n) => [n, table.get(n)] as const);
    return items.map((item) => {
      if (item === null) return null;
      const o: Record<string, unknown> = {};
      for (const [n, d] of defs) {
        const v = d ? d.get(item, ctx) : [RS_UNKNOWN, null];
        o[n] = v[0] === RS_NORMAL ? v[1] : null;
      }
      return o;
    });
  }

  /**
   * All items of a resource as objects() renders them, as UTF-8 JSON: the
   * same text as JSON.stringify(objects(...)), without one dict per item.
   * The text of the fields that need no live data is kept per item until the
   * config changes (ClusterConfig.generation), so a repeated bulk list only
   * renders the live fields; when those render as last time too, the last
   * answer is returned again. `map` may replace a field's value before it is
   * serialized; it must depend on its arguments only. Do not modify the
   * returned buffer.
   */
  async objectsJson(resource: "instance" | "node" | "group" | "network", fields: readonly string[], map?: JsonMap): Promise<Buffer> {
    const names = [...new Set(fields)];
    const { items, ctx } = await this.items(resource, names, null);
    // From here on synchronous: the config cannot change under the cached texts.
    const plan = this.jsonPlan(resource, names, map);
    const runs = plan.runs;
    // The live fields, rendered now from this request's live data.
    const liveRuns = runs.filter((r) => r.live);
    const live: string[] = new Array<string>(items.length * liveRuns.length);
    let n = 0;
    for (const item of items) for (const r of liveRuns) live[n++] = renderRun(r.fields, item, ctx, map);
    // Same items (the config did not change) and the same live texts: the same bytes as last time.
    const last = plan.last;
    if (last && last.items === items && sameStrings(last.live, live)) return last.bytes;

    const cached = plan.items;
    const chunks: Buffer[] = [JSON_OPEN_LIST];
    const liveBytes = new Map<string, Buffer>();
    n = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as object;
      let fixed = cached.get(item);
      if (!fixed) {
        // Buffers, not strings: the response is one Buffer.concat, no string to flatten and encode again.
        fixed = runs.map((r) => (r.live ? EMPTY : runBytes(renderRun(r.fields, item, ctx, map))));
        cached.set(item, fixed);
      }
      chunks.push(i === 0 ? JSON_OPEN : JSON_OPEN_NEXT);
      let first = true;
      for (let k = 0; k < runs.length; k++) {
        let part: Buffer;
        if ((runs[k] as JsonRun).live) {
          // Live texts repeat (most instances are "ADMIN_down" or plainly running): encode each once.
          const text = live[n++] as string;
          let b = liveBytes.get(text);
          if (!b) liveBytes.set(text, (b = runBytes(text)));
          part = b;
        } else part = fixed[k] as Buffer;
        if (part.length === 0) continue;
        if (!first) chunks.push(JSON_COMMA);
        chunks.push(part);
        first = false;
      }
      chunks.push(JSON_CLOSE);
    }
    chunks.push(JSON_CLOSE_LIST);
    const bytes = Buffer.concat(chunks);
    plan.last = { items, live, bytes };
    return bytes;
  }

  /** The field runs of an objectsJson call and its per-item text cache for the current config. */
  private jsonPlan(resource: QueryResourceName, names: string[], map: JsonMap | undefined): JsonPlan {
    const config = this.deps.config;
    const key = `${resource}\0${names.join("\0")}`;
    let plan = this.plans.get(key);
    if (!plan || plan.map !== map) {
      const table = TABLES[resource];
      const runs: JsonRun[] = [];
      for (const name of names) {
        const def = table.get(name);
        const live = def?.live === true;
        const field: JsonField = { name, def };
        const last = runs[runs.length - 1];
        if (last && last.live === live) last.fields.push(field);
        else runs.push({ live, fields: [field] });
      }
      plan = { map, runs, data: config.data, generation: config.generation, items: new WeakMap(), last: null };
      this.plans.set(key, plan);
    }
    if (plan.data !== config.data || plan.generation !== config.generation) {
      plan.data = config.data;
      plan.generation = config.generation;
      plan.items = new WeakMap();
      plan.last = null;
    }
    return plan;
  }

  /** Sorted item names/ids of a resource (for the non-bulk index lists). */
  names(resource: "instance" | "node" | "group" | "network"): string[] {
    return this.configItems(resource).map((i) => i.name);
  }

  /** Live data for a resource's live fields (null without an RPC runner). */
  async liveFor(res: "instance" | "node"): Promise<LiveData | null> {
    if (!this.deps.live) return null;
    return this.deps.live.get(this.deps.config.data, { nodeInfo: res === "node", instances: res === "instance" });
  }

  // ---- internals ---------------------------------------------------------------

  private resource(resource: string, fields: string[], filter: unknown): QueryResourceName {
    if (isQueryResource(resource)) return resource;
    throw this.parseError(resource, fields, filter, `Can't parse value '${resource}' as neitherQueryTypeLuxi nor QueryTypeOp`);
  }

  private parseError(resource: string, fields: string[], filter: unknown, detail: string): QueryParseError {
    return new QueryParseError(`Cannot convert value '${pyJson([resource, fields, filter])}', error: ${detail}`);
  }

  /** Items in niceSort order; the order is kept until the config changes. Callers must not modify the array. */
  private configItems(resource: "instance" | "node" | "group" | "network"): ReadonlyArray<{ name: string; uuid: string }> {
    const config = this.deps.config;
    const d = config.data;
    if (this.sorted.data !== d || this.sorted.generation !== config.generation) {
      this.sorted = { data: d, generation: config.generation, lists: new Map() };
    }
    let list = this.sorted.lists.get(resource);
    if (!list) {
      const src = resource === "instance" ? d.instances : resource === "node" ? d.nodes : resource === "group" ? d.nodegroups : d.networks;
      list = Object.values(src).sort((a, b) => niceCompare(a.name, b.name));
      this.sorted.lists.set(resource, list);
    }
    return list;
  }

  private async items(
    res: QueryResourceName,
    fieldNames: string[],
    filter: FilterNode | null,
    names?: string[],
  ): Promise<{ items: readonly unknown[]; ctx: QueryContext }> {
    const config = this.deps.config;
    const table = TABLES[res];
    const needsLive = fieldNames.some((n) => table.get(n)?.live);
    const ctx: QueryContext = { config, data: config.data, live: null };
    if (needsLive && this.deps.live && (res === "instance" || res === "node")) {
      const needs: LiveNeeds = { nodeInfo: res === "node", instances: res === "instance" };
      ctx.live = await this.deps.live.get(config.data, needs);
      ctx.data = config.data;
    }
    if (res === "instance" || res === "node" || res === "group" || res === "network") {
      const all = this.configItems(res);
      const wanted = names ?? requestedNames(filter, "name");
      if (wanted) {
        const out: unknown[] = [];
        for (const n of wanted) {
          const found = this.findNamed(res, n);
          if (!found) {
            if (names) out.push(null);
            else throw new OpPrereqError(`${NAME_KIND[res]} name ${n} not found`, "unknown_entity");
          } else out.push(found);
        }
        return { items: names ? out : dedupe(out), ctx };
      }
      return { items: all, ctx };
    }
    if (res === "job") {
      const src = this.deps.jobs;
      if (!src) return { items: [], ctx };
      const ids = names ? names.map(Number) : src.listJobIds();
      const rows: JobRow[] = [];
      for (const id of ids) {
        const job = await src.getJob(id);
        if (job) rows.push({ job, values: (fields) => src.jobFields(job, fields) });
      }
      rows.sort((a, b) => a.job.id - b.job.id);
      return { items: rows, ctx };
    }
    if (res === "filter") {
      return { items: Object.values(config.data.filters).sort((a, b) => (a.uuid < b.uuid ? -1 : 1)), ctx };
    }
    return { items: [], ctx };
  }

  private findNamed(res: "instance" | "node" | "group" | "network", name: string): unknown {
    const c = this.deps.config;
    if (res === "instance") return c.findInstance(name);
    if (res === "node") return c.findNode(name);
    if (res === "group") return c.findGroup(name);
    return c.findNetwork(name);
  }
}

function dedupe(items: unknown[]): unknown[] {
  return [...new Set(items)];
}

// The query engine behind /2/query and every list/get RAPI resource: items
// of a resource, their field values ([status, value]) and qlang filtering.
import type { JobRecord, QueryFieldDefinition, QueryValue } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import type { ClusterConfig } from "../cluster-config.js";
import { GROUP_FIELDS } from "./group-fields.js";
import { INSTANCE_FIELDS } from "./instance-fields.js";
import type { LiveData, LiveDataCache, LiveNeeds } from "./live.js";
import { EXPORT_FIELDS, FILTER_FIELDS, JOB_FIELDS, LOCK_FIELDS, type JobRow } from "./misc-fields.js";
import { NETWORK_FIELDS } from "./network-fields.js";
import { NODE_FIELDS } from "./node-fields.js";
import { QueryParseError, checkFilterFields, evaluateFilter, filterFields, parseFilter, pyJson, requestedNames, type FilterNode } from "./qlang.js";
import { RS_NORMAL, RS_UNKNOWN, type FieldDef, type FieldTable, type QueryContext } from "./types.js";

export const QUERY_RESOURCE_NAMES = ["instance", "node", "group", "network", "job", "lock", "export", "filter"] as const;
export type QueryResourceName = (typeof QUERY_RESOURCE_NAMES)[number];

/** What the engine needs of the job queue (a subset of JobQueueApi). */
export interface JobSource {
  listJobIds(): number[];
  getJob(id: number): Promise<JobRecord | null>;
  jobFields(job: JobRecord, fields: string[]): unknown[];
}

export interface QueryEngineDeps {
  config: ClusterConfig;
  live: LiveDataCache | null;
  jobs: JobSource | null;
}

export interface QueryResultData {
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

export function isQueryResource(r: string): r is QueryResourceName {
  return (QUERY_RESOURCE_NAMES as readonly string[]).includes(r);
}

/** Ganeti's niceSort: digit runs compare numerically ("inst2" < "inst10"). */
export function niceCompare(a: string, b: string): number {
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

export class QueryEngine {
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
    return { fields: names.map((n) => { const d = table.get(n); return d ? fieldDef(d) : unknownDef(n); }) };
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
    return { fields: fields.map((n, i) => { const d = defs[i]; return d ? fieldDef(d) : unknownDef(n); }), data };
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

  private configItems(resource: "instance" | "node" | "group" | "network"): Array<{ name: string; uuid: string }> {
    const d = this.deps.config.data;
    const src = resource === "instance" ? d.instances : resource === "node" ? d.nodes : resource === "group" ? d.nodegroups : d.networks;
    return Object.values(src).sort((a, b) => niceCompare(a.name, b.name));
  }

  private async items(
    res: QueryResourceName,
    fieldNames: string[],
    filter: FilterNode | null,
    names?: string[],
  ): Promise<{ items: unknown[]; ctx: QueryContext }> {
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

// /2/jobs (LUXI job calls), /2/query and /2/filters.
import { randomUUID } from "node:crypto";
import { isUuid, type FilterRuleObject } from "@ganeti-ts/schema";
import { parseFilter, QueryParseError } from "../../config/query/qlang.js";
import { FILTER_RULE_FIELDS, J_FIELDS, J_FIELDS_BULK } from "../../config/query/render.js";
import { RapiHttpError, badRequest, checkType, notFound, pyTypeName } from "../errors.js";
import { flagArg, stringArg, type Handler, type RapiRequest, type RapiServices } from "../context.js";

const jobId = (req: RapiRequest) => Number(req.params["job_id"]);
const splitFields = (s: string) => s.split(",").map((x) => x.trim());

/** baserlib.CheckParameter on a body that may be null (3.0 then fails with a TypeError → 500). */
function bodyParam(body: unknown, name: string, def?: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    if (typeof body === "string" || Array.isArray(body)) throw new RapiHttpError(500, "list indices must be integers or slices, not str");
    throw new RapiHttpError(500, "'NoneType' object is not subscriptable");
  }
  const o = body as Record<string, unknown>;
  if (name in o) return o[name];
  if (def !== undefined) return def;
  throw badRequest(`Required parameter '${name}' is missing`);
}

function filterParams(data: unknown): { priority: number; predicates: unknown[]; action: unknown; reason: unknown[] } {
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw badRequest("Invalid body contents, not a dictionary");
  const o = data as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!["priority", "predicates", "action", "reason"].includes(k)) {
      throw badRequest(`Invalid body parameters: filter rule doesn't support the parameter '${k}'`);
    }
  }
  const typed = (name: string, def: unknown, expected: "int" | "list") => {
    const v = name in o ? o[name] : def;
    const t = pyTypeName(v);
    // Python's isinstance(True, int) holds.
    if (!(t === expected || (expected === "int" && t === "bool")))
      throw badRequest(`'${name}' parameter: Type is '${t}', but '${expected}' is expected`);
    return v;
  };
  return {
    priority: Number(typed("priority", 0, "int")),
    predicates: typed("predicates", [], "list") as unknown[],
    action: "action" in o ? o["action"] : "CONTINUE",
    reason: typed("reason", [], "list") as unknown[],
  };
}

const ACTIONS = new Set(["ACCEPT", "PAUSE", "REJECT", "CONTINUE"]);
function checkFilterRule(p: ReturnType<typeof filterParams>): void {
  const a = p.action;
  const ok =
    (typeof a === "string" && ACTIONS.has(a)) || (Array.isArray(a) && a.length === 2 && a[0] === "RATE_LIMIT" && Number.isInteger(a[1]));
  if (!ok || p.priority < 0) throw new RapiHttpError(500, `Invalid filter rule: action ${JSON.stringify(a)}, priority ${p.priority}`);
  for (const pred of p.predicates) {
    if (!Array.isArray(pred) || !["jobid", "opcode", "reason"].includes(String(pred[0]))) {
      throw new RapiHttpError(500, `Invalid filter predicate ${JSON.stringify(pred)}`);
    }
    // The scheduler evaluates the predicate's query-language filter: it must parse.
    try {
      parseFilter(pred[1]);
    } catch (err) {
      if (err instanceof QueryParseError) {
        throw Object.assign(new RapiHttpError(500, `Invalid filter predicate ${JSON.stringify(pred)}: ${err.message}`), { cause: err });
      }
      throw err;
    }
  }
}

async function replaceFilter(svc: RapiServices, uuid: string | null, body: unknown, req: RapiRequest): Promise<string> {
  const p = filterParams(body);
  checkFilterRule(p);
  // Ganeti's luxid refuses an id that is not a UUID; keys like "__proto__"
  // would also never survive as keys of the config's filter table.
  if (uuid !== null && !isUuid(uuid)) throw new RapiHttpError(500, "Unable to parse UUID");
  const id = uuid ?? randomUUID();
  const ids = svc.queue.listJobIds();
  const watermark = ids.length > 0 ? Math.max(...ids) : 0;
  const rule: FilterRuleObject = {
    uuid: id,
    watermark,
    priority: p.priority,
    predicates: p.predicates,
    action: p.action,
    reason_trail: [...p.reason, [`gnt:library:rlib2:${req.endpoint.name}`, "", Number(svc.nowNs())]],
  };
  await svc.config.mutate((d) => {
    d.filters[id] = rule;
  });
  svc.queue.filtersChanged?.();
  return id;
}

/** The stored rule with this id; never an inherited property ("constructor", "__proto__"). */
function ownFilter(svc: RapiServices, id: string): FilterRuleObject | undefined {
  const table = svc.config.data.filters;
  return Object.hasOwn(table, id) ? table[id] : undefined;
}

export const jobQueryFilterHandlers: Record<string, Handler> = {
  "jobs.list": async (req, svc) => {
    const ids = svc.queue.listJobIds();
    if (!flagArg(req, "bulk")) return ids.map((id) => ({ id, uri: `/2/jobs/${id}` }));
    const out: Array<Record<string, unknown>> = [];
    for (const id of ids) {
      const job = await svc.queue.getJob(id);
      if (!job) continue;
      const vals = svc.queue.jobFields(job, [...J_FIELDS_BULK]);
      out.push(Object.fromEntries(J_FIELDS_BULK.map((f, i) => [f, vals[i] ?? null])));
    }
    return out;
  },
  "jobs.get": async (req, svc) => {
    const id = jobId(req);
    const job = await svc.queue.getJob(id);
    if (!job) return Object.fromEntries(J_FIELDS.map((f) => [f, f === "id" ? id : null]));
    const vals = svc.queue.jobFields(job, [...J_FIELDS]);
    return Object.fromEntries(J_FIELDS.map((f, i) => [f, vals[i] ?? null]));
  },
  "jobs.cancel": (req, svc) => svc.queue.cancel(jobId(req)),
  "jobs.wait": async (req, svc) => {
    const fields = bodyParam(req.body, "fields");
    const prev = bodyParam(req.body, "previous_job_info", null);
    const serial = bodyParam(req.body, "previous_log_serial", null);
    if (!Array.isArray(fields)) throw badRequest("The 'fields' parameter should be a list");
    if (!(prev === null || Array.isArray(prev))) throw badRequest("The 'previous_job_info' parameter should be a list");
    if (!(serial === null || (typeof serial === "number" && Number.isInteger(serial)))) {
      throw badRequest("The 'previous_log_serial' parameter should be a number");
    }
    const r = await svc.queue.waitForChange(
      jobId(req),
      fields.map(String),
      prev as unknown[] | null,
      serial as number | null,
      svc.waitTimeoutMs,
      req.signal,
    );
    // 3.0 answers an unknown job with 500 "Can't load job file".
    if (!r) throw new RapiHttpError(500, "Can't load job file");
    return { job_info: r.job_info, log_entries: r.log_entries };
  },

  "query.get": (req, svc) => {
    const f = stringArg(req, "fields", null);
    if (f === null) throw badRequest("Missing 'fields' query argument");
    return svc.engine.query(req.params["resource"] ?? "", splitFields(f), null);
  },
  "query.put": (req, svc) => {
    checkType(req.body, "dict", "Body contents");
    const body = req.body as Record<string, unknown>;
    let fields: unknown = body["fields"];
    if (!("fields" in body)) {
      const f = stringArg(req, "fields", null);
      if (f === null) throw badRequest("Missing 'fields' query argument");
      fields = splitFields(f);
    }
    let qfilter = body["qfilter"] ?? null;
    if (qfilter === null) qfilter = body["filter"] ?? null;
    if (!Array.isArray(fields) || fields.some((x) => typeof x !== "string")) {
      throw new RapiHttpError(502, `Failed to parse request: Cannot convert value, error: fields must be a list of strings`);
    }
    return svc.engine.query(req.params["resource"] ?? "", fields as string[], qfilter);
  },
  "query.fields": (req, svc) => {
    const f = stringArg(req, "fields", null);
    return svc.engine.fields(req.params["resource"] ?? "", f === null ? null : splitFields(f));
  },

  "filters.list": async (req, svc) => {
    const rules = (await svc.engine.objects("filter", [...FILTER_RULE_FIELDS])) as Array<Record<string, unknown>>;
    if (flagArg(req, "bulk")) return rules;
    return rules.map((r) => ({ uuid: r["uuid"], uri: `/2/filters/${String(r["uuid"])}` }));
  },
  "filters.get": (req, svc) => {
    const r = ownFilter(svc, req.params["filter_uuid"] ?? "");
    if (!r) throw notFound();
    return Object.fromEntries(FILTER_RULE_FIELDS.map((f) => [f, structuredClone(r[f])]));
  },
  "filters.add": (req, svc) => replaceFilter(svc, null, req.body, req),
  "filters.replace": (req, svc) => replaceFilter(svc, req.params["filter_uuid"] ?? "", req.body, req),
  "filters.delete": async (req, svc) => {
    const id = req.params["filter_uuid"] ?? "";
    if (!ownFilter(svc, id)) throw new RapiHttpError(500, `Filter rule with UUID ${id} does not exist`);
    await svc.config.mutate((d) => {
      delete d.filters[id];
    });
    svc.queue.filtersChanged?.();
    return null;
  },
};

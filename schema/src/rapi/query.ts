// /2/query endpoints (generic query with fields and qlang filters).
import { z } from "zod";
import { QueryFieldsResultSchema, QueryResultSchema } from "../objects/query.js";
import { ANONYMOUS, READ, endpoint, type Endpoint } from "./define.js";

export const QueryBodySchema = z.object({
  fields: z.array(z.string()).optional(),
  qfilter: z.array(z.unknown()).nullable().optional(),
  filter: z.array(z.unknown()).nullable().optional(),
});
const fieldsParam = { kind: "string", description: "comma-separated field names" } as const;

export const QUERY_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "query",
    method: "GET",
    path: "/2/query/{resource}",
    access: READ,
    summary: "Query a resource (no filter)",
    query: { fields: { ...fieldsParam, required: true } },
    handler: "query.get",
    response: QueryResultSchema,
  }),
  endpoint({
    name: "query",
    method: "PUT",
    path: "/2/query/{resource}",
    access: READ,
    summary: "Query a resource with a filter",
    query: { fields: fieldsParam },
    body: QueryBodySchema,
    handler: "query.put",
    response: QueryResultSchema,
  }),
  endpoint({
    name: "query_fields",
    method: "GET",
    path: "/2/query/{resource}/fields",
    access: ANONYMOUS,
    summary: "Field definitions of a resource",
    query: { fields: fieldsParam },
    handler: "query.fields",
    response: QueryFieldsResultSchema,
  }),
];

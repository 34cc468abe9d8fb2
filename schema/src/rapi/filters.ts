// /2/filters endpoints (job filter rules; configuration changes, not jobs).
import { z } from "zod";
import { FilterInfoSchema, FilterListItemSchema } from "../objects/filter.js";
import { ANONYMOUS, Q, WRITE, endpoint, type Endpoint } from "./define.js";

export const FilterRuleBodySchema = z.object({
  priority: z.number().int().optional(),
  predicates: z.array(z.unknown()).optional(),
  action: z.unknown().optional(),
  reason: z.array(z.unknown()).optional(),
});

export const FILTER_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "filters",
    method: "GET",
    path: "/2/filters",
    access: ANONYMOUS,
    summary: "List filter rules",
    query: { bulk: Q.bulk },
    handler: "filters.list",
    response: z.union([z.array(FilterListItemSchema), z.array(FilterInfoSchema)]),
  }),
  endpoint({
    name: "filters",
    method: "POST",
    path: "/2/filters",
    access: WRITE,
    summary: "Add a filter rule",
    body: FilterRuleBodySchema,
    handler: "filters.add",
    response: z.string(),
  }),
  endpoint({
    name: "filters_uuid",
    method: "GET",
    path: "/2/filters/{filter_uuid}",
    access: ANONYMOUS,
    summary: "One filter rule",
    handler: "filters.get",
    response: FilterInfoSchema,
  }),
  endpoint({
    name: "filters_uuid",
    method: "PUT",
    path: "/2/filters/{filter_uuid}",
    access: WRITE,
    summary: "Replace (or create) a filter rule",
    body: FilterRuleBodySchema,
    handler: "filters.replace",
    response: z.string(),
  }),
  endpoint({
    name: "filters_uuid",
    method: "DELETE",
    path: "/2/filters/{filter_uuid}",
    access: WRITE,
    summary: "Delete a filter rule",
    handler: "filters.delete",
    response: z.null(),
  }),
];

import { z } from "zod";

export const QUERY_RESOURCES = ["instance", "node", "group", "network", "job", "lock", "export", "filter"] as const;
export const QueryResourceSchema = z.enum(QUERY_RESOURCES);
export type QueryResource = z.infer<typeof QueryResourceSchema>;

export const QueryFieldKindSchema = z.enum(["text", "bool", "number", "unit", "float", "timestamp", "other", "unknown"]);
export type QueryFieldKind = z.infer<typeof QueryFieldKindSchema>;

export const QueryFieldDefinitionSchema = z.looseObject({
  name: z.string(),
  title: z.string(),
  kind: QueryFieldKindSchema,
  doc: z.string(),
});
export type QueryFieldDefinition = z.infer<typeof QueryFieldDefinitionSchema>;

/** Per-value status: 0 normal, 1 unknown field, 2 no data, 3 unavailable, 4 offline. */
export const QueryValueSchema = z.tuple([z.number().int().min(0).max(4), z.unknown()]);
export type QueryValue = z.infer<typeof QueryValueSchema>;

/** `GET|PUT /2/query/RES` (§12.2). */
export const QueryResultSchema = z.looseObject({
  fields: z.array(QueryFieldDefinitionSchema),
  data: z.array(z.array(QueryValueSchema)),
});
export type QueryResult = z.infer<typeof QueryResultSchema>;

/** `GET /2/query/RES/fields`. */
export const QueryFieldsResultSchema = z.looseObject({ fields: z.array(QueryFieldDefinitionSchema) });
export type QueryFieldsResult = z.infer<typeof QueryFieldsResultSchema>;

/** A qlang filter: null or `[operator, operands...]` (§12.3). */
export type QueryFilter = null | readonly [string, ...unknown[]];
export const QueryFilterSchema: z.ZodType<QueryFilter> = z
  .union([z.null(), z.tuple([z.string()], z.unknown())])
  .readonly() as unknown as z.ZodType<QueryFilter>;

import { z } from "zod";

/** `ACCEPT` | `PAUSE` | `REJECT` | `CONTINUE` | `["RATE_LIMIT", n]`. */
export const FilterActionSchema = z.union([
  z.enum(["ACCEPT", "PAUSE", "REJECT", "CONTINUE"]),
  z.tuple([z.literal("RATE_LIMIT"), z.number().int()]),
]);
export type FilterAction = z.infer<typeof FilterActionSchema>;

/** `GET /2/filters?bulk=1` items and `GET /2/filters/UUID` (§6.9). */
export const FilterInfoSchema = z.looseObject({
  uuid: z.string(),
  watermark: z.number().int(),
  priority: z.number().int(),
  predicates: z.array(z.unknown()),
  action: FilterActionSchema,
  reason_trail: z.array(z.unknown()),
});
export type FilterInfo = z.infer<typeof FilterInfoSchema>;

export const FilterListItemSchema = z.looseObject({ uuid: z.string(), uri: z.string() });
export type FilterListItem = z.infer<typeof FilterListItemSchema>;

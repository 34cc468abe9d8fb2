// Generic query opcodes (RAPI /2/query answers them through LUXI directly,
// but they are valid opcodes and may appear in jobs).
import { z } from "zod";
import { NonEmptyStringSchema, OpQueryResourceSchema } from "../common.js";
import { defaultFalse, defineOpcode, optional, optionalNameList } from "./params.js";

export const OpQuerySchema = defineOpcode("OP_QUERY", {
  what: OpQueryResourceSchema,
  use_locking: defaultFalse(),
  fields: z.array(NonEmptyStringSchema),
  qfilter: optional(z.array(z.unknown())),
});
export type OpQuery = z.infer<typeof OpQuerySchema>;

export const OpQueryFieldsSchema = defineOpcode("OP_QUERY_FIELDS", {
  what: OpQueryResourceSchema,
  fields: optionalNameList(),
});
export type OpQueryFields = z.infer<typeof OpQueryFieldsSchema>;

// Tag opcodes. Opcodes check only "list of strings"; tag syntax (TagSchema)
// is enforced when the job runs.
import { z } from "zod";
import { TagKindSchema } from "../common.js";
import { defaultFalse, defineOpcode, optionalString } from "./params.js";

export const OpTagsDelSchema = defineOpcode("OP_TAGS_DEL", {
  kind: TagKindSchema,
  tags: z.array(z.string()),
  name: optionalString(),
});
export type OpTagsDel = z.infer<typeof OpTagsDelSchema>;

export const OpTagsGetSchema = defineOpcode("OP_TAGS_GET", {
  kind: TagKindSchema,
  use_locking: defaultFalse(),
  name: optionalString(),
});
export type OpTagsGet = z.infer<typeof OpTagsGetSchema>;

export const OpTagsSetSchema = defineOpcode("OP_TAGS_SET", {
  kind: TagKindSchema,
  tags: z.array(z.string()),
  name: optionalString(),
});
export type OpTagsSet = z.infer<typeof OpTagsSetSchema>;

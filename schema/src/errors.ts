// Ganeti's error classifications (second element of OpPrereqError args) and
// the RAPI error body.
import { z } from "zod";

export const ECODES = [
  "resolver_error",
  "insufficient_resources",
  "temp_insufficient_resources",
  "wrong_input",
  "wrong_state",
  "unknown_entity",
  "already_exists",
  "resource_not_unique",
  "internal_error",
  "environment_error",
] as const;
export const EcodeSchema = z.enum(ECODES);
export type Ecode = z.infer<typeof EcodeSchema>;

/** `{"code": 404, "message": "Not Found", "explain": "..."}` */
export const RapiErrorBodySchema = z.object({
  code: z.number().int(),
  message: z.string(),
  explain: z.string(),
});
export type RapiErrorBody = z.infer<typeof RapiErrorBodySchema>;

/** A failed opcode's result in a job: `[error_class, [message, ecode?]]`. */
export const EncodedJobErrorSchema = z.tuple([z.string(), z.array(z.unknown())]);
export type EncodedJobError = z.infer<typeof EncodedJobErrorSchema>;

// check(): parse inputs with zod (house rule 1: parse at the boundary).
// During a preview some inputs are unknown (outputs of resources not yet
// created): every leaf accepts Pulumi's unknown sentinel as well.
import { z } from "zod";
import { UNKNOWN } from "./diff.js";
import type { CheckFailure } from "./define-resource.js";

/** `schema` or the unknown sentinel. */
export function known<T extends z.ZodType>(schema: T) {
  return z.union([z.literal(UNKNOWN), schema]);
}

export function isUnknown(v: unknown): v is typeof UNKNOWN {
  return v === UNKNOWN;
}

/** Parse, or report failures with dotted property paths. */
export function parseInputs<T>(schema: z.ZodType<T>, news: Record<string, unknown>): { value?: T; failures: CheckFailure[] } {
  const { __provider: _ignored, ...rest } = news;
  const r = schema.safeParse(rest);
  if (r.success) return { value: r.data, failures: [] };
  return {
    failures: r.error.issues.map((i) => ({
      property: i.path.map(String).join("."),
      reason: i.message,
    })),
  };
}

export const TimeoutsSchema = z
  .object({
    create: known(z.union([z.string(), z.number().positive()])).optional(),
    update: known(z.union([z.string(), z.number().positive()])).optional(),
    delete: known(z.union([z.string(), z.number().positive()])).optional(),
  })
  .strict();

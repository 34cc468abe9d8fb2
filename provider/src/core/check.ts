// check(): parse inputs with zod (house rule 1: parse at the boundary).
// During a preview some inputs are unknown (outputs of resources not yet
// created): every leaf accepts Pulumi's unknown sentinel as well.
import { z } from "zod";
import { UNKNOWN } from "./diff.js";
import { parseDuration } from "./timeouts.js";
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

function validDuration(v: string | number): boolean {
  try {
    parseDuration(v);
    return true;
  } catch {
    return false; // reported by zod as the issue below
  }
}
const Duration = z.union([z.string(), z.number().positive()]).refine(validDuration, {
  message: 'invalid timeout (use e.g. "90s", "10m", "1h" or seconds)',
});

export const TimeoutsSchema = z
  .object({ create: known(Duration).optional(), update: known(Duration).optional(), delete: known(Duration).optional() })
  .strict();

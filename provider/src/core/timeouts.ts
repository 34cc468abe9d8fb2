// The `timeouts` input: how long each operation may wait for its jobs.
// The engine's customTimeouts are not passed to dynamic providers, so the
// resource carries its own.
import { ProviderError } from "./errors.js";

export interface Timeouts {
  create?: string | number;
  update?: string | number;
  delete?: string | number;
}
export type Operation = keyof Timeouts;

const DEFAULT_MS: Record<Operation, number> = { create: 30 * 60_000, update: 30 * 60_000, delete: 15 * 60_000 };
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "10m", "1h30m", "500ms" or a number of seconds → ms. */
export function parseDuration(v: string | number): number {
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v <= 0) throw new ProviderError(`invalid timeout ${v}`, "invalid_timeout");
    return v * 1000;
  }
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of v.trim().matchAll(re)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== v.trim().length || total <= 0) {
    throw new ProviderError(`invalid timeout "${v}" (use e.g. "90s", "10m", "1h")`, "invalid_timeout");
  }
  return total;
}

export function timeoutMs(t: Timeouts | undefined, op: Operation): number {
  const v = t?.[op];
  return v === undefined ? DEFAULT_MS[op] : parseDuration(v);
}

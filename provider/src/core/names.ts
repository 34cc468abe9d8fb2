// camelCase (Pulumi inputs) ↔ Ganeti wire names. Each resource keeps its
// own explicit map (one place per resource); these helpers apply one.

/** A bidirectional name map: camelCase input key → wire key. */
export type NameMap<K extends string = string> = Readonly<Record<K, string>>;

/** Rename the keys of `obj` that appear in `map`; others are dropped. */
export function toWire(obj: Record<string, unknown>, map: NameMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [camel, wire] of Object.entries(map)) {
    if (obj[camel] !== undefined) out[wire] = obj[camel];
  }
  return out;
}

/** Reverse of toWire. */
export function fromWire(obj: Record<string, unknown>, map: NameMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [camel, wire] of Object.entries(map)) {
    if (obj[wire] !== undefined) out[camel] = obj[wire];
  }
  return out;
}

/** `max_mem` style → `maxMem` style (for free-form dict keys shown in docs). */
export function camelCase(wire: string): string {
  return wire.replace(/[_-]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

// Path building: every dynamic segment is percent-encoded so a name can never
// change the route (Ganeti names are [\w._-]+, but we do not trust input).
export function seg(value: string | number): string {
  const s = String(value);
  if (s === "" || s === "." || s === "..") throw new TypeError(`Invalid path segment: ${JSON.stringify(s)}`);
  return encodeURIComponent(s);
}

/** Tagged template: path`/2/instances/${name}/startup` with encoded parameters. */
export function path(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += seg(v) + (strings[i + 1] ?? "");
  });
  return out;
}

export type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

/**
 * Ganeti's query string: repeated keys for lists (`tag=a&tag=b`), booleans as
 * 0/1, undefined/null dropped.
 */
export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) sp.append(k, String(item));
    else if (typeof v === "boolean") sp.append(k, v ? "1" : "0");
    else sp.append(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : "";
}

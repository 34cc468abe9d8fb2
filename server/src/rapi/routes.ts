// Endpoint table → path matchers (exact match, Ganeti's name/id patterns).
import { INT_PATH_PARAMS, RAPI_ENDPOINTS, type Endpoint } from "@ganeti-ts/schema";

export interface PathRoute {
  pattern: RegExp;
  params: string[];
  /** Methods of this path; the path string is shared by them. */
  methods: Map<string, Endpoint>;
}

export function buildRoutes(endpoints: readonly Endpoint[] = RAPI_ENDPOINTS): PathRoute[] {
  const byPath = new Map<string, PathRoute>();
  for (const e of endpoints) {
    let r = byPath.get(e.path);
    if (!r) {
      const params: string[] = [];
      const src = e.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_m, p: string) => {
        params.push(p);
        return INT_PATH_PARAMS.has(p) ? "(\\d+)" : "([\\w.-]+)";
      });
      r = { pattern: new RegExp(`^${src}$`), params, methods: new Map() };
      byPath.set(e.path, r);
    }
    if (r.methods.has(e.method)) throw new Error(`duplicate endpoint ${e.method} ${e.path}`);
    r.methods.set(e.method, e);
  }
  // Literal segments win over parameters (e.g. /2/instances-multi-alloc).
  return [...byPath.values()].sort((a, b) => a.params.length - b.params.length);
}

export function matchRoute(routes: PathRoute[], path: string): { route: PathRoute; params: Record<string, string> } | null {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.params.forEach((p, i) => (params[p] = decodeURIComponent(m[i + 1] ?? "")));
    // An id beyond what a job or filter id can be names nothing (404), like any other non-matching path.
    if (route.params.some((p) => INT_PATH_PARAMS.has(p) && !Number.isSafeInteger(Number(params[p])))) return null;
    return { route, params };
  }
  return null;
}

// Registry completeness for the SDK (house rule 4, see docs/architecture.md):
// every endpoint of schema/'s RAPI table is reachable through an SDK method.
// Every method of every namespace is called with placeholder arguments on a
// client whose transport only records the request, and the recorded
// (method, path) pairs must cover RAPI_ENDPOINTS.
import { RAPI_ENDPOINTS, type Endpoint } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import { GanetiClient } from "../src/index.js";

/** Endpoints with no SDK method, and why (keep this short). */
const NO_SDK_METHOD: Record<string, string> = {
  "GET /": "Ganeti's root resource answers null; nothing to expose",
  "GET /2": "Ganeti's /2 resource answers null; nothing to expose",
};

const TAG_KINDS = ["cluster", "node", "nodegroup", "network", "instance"] as const;

async function recordedRequests(): Promise<Set<string>> {
  const client = new GanetiClient({ baseUrl: "https://127.0.0.1:1", insecure: true });
  const seen = new Set<string>();
  const transport = Reflect.get(client, "transport") as { send: (o: { method: string; path: string }) => Promise<unknown> };
  transport.send = (o) => {
    // "/2/instances/name-x/tags" -> "/2/instances/{}/tags"
    seen.add(`${o.method} ${o.path.split("?")[0]!.replace(/\/(name-x|7)(?=\/|$)/g, "/{}")}`);
    return Promise.reject(new Error("recorded"));
  };
  const settle = async (v: unknown) => {
    if (v && typeof (v as AsyncGenerator).next === "function") v = (v as AsyncGenerator).next();
    if (v && typeof (v as Promise<unknown>).then === "function") await (v as Promise<unknown>).then(undefined, () => undefined);
  };
  for (const [ns, obj] of Object.entries(client)) {
    if (ns === "transport" || typeof obj !== "object" || obj === null) continue;
    const proto = Object.getPrototypeOf(obj) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = proto[name];
      if (name === "constructor" || typeof fn !== "function") continue;
      const calls: unknown[][] =
        ns === "tags"
          ? TAG_KINDS.map((k) => [k, k === "cluster" ? undefined : "name-x", ["t1"]])
          : [
              ["name-x", "name-x", "name-x"],
              [7, 7, 7],
              ["name-x", ["name"]],
              ["name-x", { storage_type: "file", output_fields: ["name"], name: "name-x" }],
            ];
      for (const args of calls) {
        try {
          await settle((fn as (...a: unknown[]) => unknown).apply(obj, args));
        } catch {
          // Argument checks may throw before sending; the other argument set covers the method.
        }
      }
    }
  }
  return seen;
}

describe("SDK registry completeness", () => {
  it("every RAPI endpoint of schema/ has an SDK method", async () => {
    const seen = await recordedRequests();
    const key = (e: Endpoint) => `${e.method} ${e.path}`;
    const missing = RAPI_ENDPOINTS.filter((e) => !NO_SDK_METHOD[key(e)])
      .filter((e) => !seen.has(`${e.method} ${e.path.replace(/\{\w+\}/g, "{}")}`))
      .map(key);
    expect(missing).toEqual([]);
  });

  it("the exemptions name real endpoints", () => {
    const all = new Set(RAPI_ENDPOINTS.map((e) => `${e.method} ${e.path}`));
    expect(Object.keys(NO_SDK_METHOD).filter((k) => !all.has(k))).toEqual([]);
  });
});

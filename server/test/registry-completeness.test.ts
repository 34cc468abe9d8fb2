// House rule 4: adding an endpoint, opcode or RPC call touches a fixed set of
// files, and these tests fail when one of them is missing. Checked here: every
// schema endpoint is routed to a handler, every opcode has a logical unit,
// every RPC call has a node-daemon handler. The SDK's and the CLI's coverage are
// checked in sdk/test/registry.test.ts and cli/test/registry.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { OPCODES, RAPI_ENDPOINTS, RPC_CALLS, type Endpoint } from "@ganeti-ts/schema";
import { afterAll, describe, expect, it } from "vitest";
import { LU_REGISTRY } from "../src/cmdlib/registry.js";
import { NodeBackend } from "../src/noded/backend/node-backend.js";
import { HANDLERS } from "../src/rapi/app.js";
import { buildRoutes, matchRoute } from "../src/rapi/routes.js";

const id = (e: Endpoint) => `${e.method} ${e.path}`;
/** A concrete path for the endpoint: integers for id parameters, a name otherwise. */
const concrete = (e: Endpoint) =>
  e.path.replace(/\{(\w+)\}/g, (_m, p: string) => (p === "job_id" || p === "disk_index" ? "1" : "name-x.example.com"));

describe("registry completeness", () => {
  it("every RAPI endpoint of the schema is routed to itself", () => {
    const routes = buildRoutes();
    const unrouted = RAPI_ENDPOINTS.filter((e) => matchRoute(routes, concrete(e))?.route.methods.get(e.method) !== e).map(id);
    expect(unrouted).toEqual([]);
  });

  it("every RAPI endpoint has exactly one of an opcode mapping and a registered special handler", () => {
    const bad = RAPI_ENDPOINTS.filter((e) => (e.opcode === undefined) === (e.handler === undefined)).map(id);
    expect(bad).toEqual([]);
    const noHandler = RAPI_ENDPOINTS.filter((e) => e.handler !== undefined && !HANDLERS[e.handler]).map((e) => `${id(e)} → ${e.handler}`);
    expect(noHandler).toEqual([]);
  });

  it("every opcode an endpoint submits is a known opcode with a logical unit", () => {
    const missing = RAPI_ENDPOINTS.filter((e) => e.opcode && (!(e.opcode.opId in OPCODES) || !LU_REGISTRY[e.opcode.opId])).map(
      (e) => `${id(e)} → ${e.opcode!.opId}`,
    );
    expect(missing).toEqual([]);
  });

  it("every opcode in OPCODES has a logical unit in LU_REGISTRY, and every LU an opcode", () => {
    expect(
      Object.keys(OPCODES)
        .filter((op) => !LU_REGISTRY[op])
        .sort(),
    ).toEqual([]);
    expect(
      Object.keys(LU_REGISTRY)
        .filter((op) => !(op in OPCODES))
        .sort(),
    ).toEqual([]);
  });

  describe("node daemon", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ganeti-ts-registry-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("every RPC call in RPC_CALLS has a noded handler", () => {
      const backend = new NodeBackend({ dataDir: dir, nodeName: "node1.example.com" });
      // The backend's dispatch table is private; read the very table handle() uses.
      const handlers = Reflect.get(backend, "handlers") as Record<string, unknown>;
      expect(
        Object.keys(RPC_CALLS)
          .filter((c) => typeof handlers[c] !== "function")
          .sort(),
      ).toEqual([]);
      expect(
        Object.keys(handlers)
          .filter((c) => !(c in RPC_CALLS))
          .sort(),
      ).toEqual([]);
    });
  });
});

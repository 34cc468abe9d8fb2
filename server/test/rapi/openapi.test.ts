import { readFileSync } from "node:fs";
import { RAPI_ENDPOINTS } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import { buildOpenApi, buildRapiDoc } from "../../../schema/scripts/gen-openapi.js";
import { HANDLERS } from "../../src/rapi/app.js";

const root = new URL("../../../", import.meta.url);

describe("endpoint table", () => {
  it("every endpoint has an opcode mapping or a registered handler", () => {
    for (const e of RAPI_ENDPOINTS) {
      expect(Boolean(e.opcode) !== Boolean(e.handler), `${e.method} ${e.path}`).toBe(true);
      if (e.handler) expect(HANDLERS[e.handler], e.handler).toBeTypeOf("function");
    }
  });
  it("generated OpenAPI and docs/rapi.md are up to date (npm run gen)", () => {
    expect(JSON.parse(readFileSync(new URL("schema/generated/openapi.json", root), "utf8"))).toEqual(buildOpenApi());
    expect(readFileSync(new URL("docs/rapi.md", root), "utf8")).toBe(buildRapiDoc());
  });
});

// Client-chosen keys never reach Object.prototype: filter ids must be UUIDs
// (Ganeti's luxid: "Unable to parse UUID"), and lookups use own keys only.
// Opcode dicts nested deeper than MAX_JSON_DEPTH are refused with 400.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, makeEnv, type Env } from "./harness.js";

let env: Env;
beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => env.close());

const req = (method: string, url: string, body?: unknown) =>
  env.app.inject({ method: method as "PUT", url, headers: ADMIN, payload: body === undefined ? "" : JSON.stringify(body) });
const rule = { priority: 1, predicates: [], action: "PAUSE" };

describe("/2/filters with client-chosen ids", () => {
  it("PUT /2/filters/__proto__ is refused and stores nothing", async () => {
    const r = await req("PUT", "/2/filters/__proto__", rule);
    expect(r.statusCode).toBe(500);
    expect(r.json()).toMatchObject({ code: 500, message: "Unable to parse UUID" });
    expect((await req("GET", "/2/filters")).json()).toEqual([]);
    expect(Object.keys(env.config.data.filters)).toEqual([]);
    expect(Object.getPrototypeOf(env.config.data.filters)).toBe(Object.prototype);
  });

  it("PUT with an upper-case or malformed UUID is refused; a lower-case UUID is stored", async () => {
    for (const id of ["constructor", "ABCDEF01-2345-6789-abcd-ef0123456789", "0123"]) {
      expect((await req("PUT", `/2/filters/${id}`, rule)).statusCode).toBe(500);
    }
    const id = "0123abcd-0000-4000-8000-0123456789ab";
    const ok = await req("PUT", `/2/filters/${id}`, rule);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toBe(id);
    expect((await req("GET", `/2/filters/${id}`)).json()).toMatchObject({ uuid: id, action: "PAUSE" });
  });

  it("GET /2/filters/constructor and /2/filters/__proto__ are 404; DELETE says the rule does not exist", async () => {
    for (const id of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect((await req("GET", `/2/filters/${id}`)).statusCode).toBe(404);
    }
    const d = await req("DELETE", "/2/filters/constructor");
    expect(d.statusCode).toBe(500);
    expect(d.json().message).toBe("Filter rule with UUID constructor does not exist");
  });
});

describe("body keys named like Object.prototype members", () => {
  it("are unknown parameters, not static ones", async () => {
    const r = await req("PUT", "/2/instances/inst1/shutdown", { constructor: 1 });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toBe("Invalid body parameters: Object OpInstanceShutdown doesn&#x27;t support the parameter &#x27;constructor&#x27;");
  });
});

describe("nesting bound on opcode dicts", () => {
  it("hvparams nested 50 levels deep (a body the parser accepts) are refused with 400, no job", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 50; i++) deep = { a: deep };
    const before = env.queue.submitted.length;
    const r = await req("PUT", "/2/instances/inst1/modify", { hvparams: { kernel_args: deep } });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toContain("OP_INSTANCE_SET_PARAMS.hvparams");
    expect(env.queue.submitted.length).toBe(before);
  });

  it("hvparams nested 1,000 levels deep are refused by the body parser with 400, no job", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 1000; i++) deep = { a: deep };
    const before = env.queue.submitted.length;
    const r = await req("PUT", "/2/instances/inst1/modify", { hvparams: { kernel_args: deep } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 400, message: "Unable to parse JSON data" });
    expect(env.queue.submitted.length).toBe(before);
  });
});

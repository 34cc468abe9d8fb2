import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, READER, basic, loadCapture, makeEnv, normalize, replay, type Env } from "./harness.js";

let env: Env;
beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => env.close());

describe("envelope and errors (captures)", () => {
  it.each([
    [361],
    [362],
    [363],
    [405],
    [406],
    [407],
    [401],
    [402],
    [403],
    [399],
    [400],
    [393],
    [404],
    [413],
    [415],
    [416],
    [417],
    [424],
    [360],
  ])("capture %i: same status and body", async (seq) => {
    const c = loadCapture(seq);
    const headers: Record<string, string> = {};
    if (seq === 403) headers["content-type"] = "text/plain";
    if (seq === 415) headers["authorization"] = basic("admin", "wrong");
    if (seq === 416) headers["authorization"] = basic("nobody", "x");
    let res;
    if (seq === 401) {
      res = await env.app.inject({ method: "POST", url: "/2/instances", headers: ADMIN, payload: "{not json" });
    } else if (seq === 403) {
      res = await env.app.inject({ method: "POST", url: "/2/instances", headers: { ...ADMIN, ...headers }, payload: "name=x" });
    } else {
      res = await replay(env, c, headers);
    }
    expect(res.statusCode).toBe(c.status);
    expect(normalize(res.json())).toEqual(normalize(c.response_body));
    expect(res.headers["server"]).toBe("Ganeti 3.0.2");
    expect(res.headers["content-type"]).toBe("application/json");
    if (c.status === 401) expect(res.headers["www-authenticate"]).toBe('Basic realm="Ganeti Remote API"');
  });

  it("answers scalars: /version, /, /2", async () => {
    expect((await env.app.inject({ url: "/version" })).body).toBe("2");
    expect((await env.app.inject({ url: "/" })).body).toBe("null");
    expect((await env.app.inject({ url: "/2" })).body).toBe("null");
  });

  it("checks 404 before 501 before auth before 415", async () => {
    expect((await env.app.inject({ method: "PATCH", url: "/2/nope" })).statusCode).toBe(404);
    expect((await env.app.inject({ method: "PATCH", url: "/2/info" })).statusCode).toBe(501);
    // Unauthenticated write with a bad content type: auth first.
    const r = await env.app.inject({ method: "PUT", url: "/2/tags", headers: { "content-type": "text/plain" }, payload: "x" });
    expect(r.statusCode).toBe(401);
    const r2 = await env.app.inject({
      method: "PUT",
      url: "/2/tags",
      headers: { ...ADMIN, "content-type": "application/json; charset=utf-8" },
      payload: "{}",
    });
    expect(r2.statusCode).toBe(415);
  });

  it("treats an empty body as null and reads bodies on GET", async () => {
    const id = await env.queue.submit([{ OP_ID: "OP_TEST_DELAY" }]);
    const r = await env.app.inject({
      method: "GET",
      url: `/2/jobs/${id}/wait`,
      headers: ADMIN,
      payload: JSON.stringify({ fields: ["status"] }),
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ job_info: ["queued"], log_entries: [] });
    const missing = await env.app.inject({ method: "GET", url: `/2/jobs/${id}/wait`, headers: ADMIN, payload: "{}" });
    expect(missing.json().message).toBe("Required parameter &#x27;fields&#x27; is missing");
    const notList = await env.app.inject({
      method: "GET",
      url: `/2/jobs/${id}/wait`,
      headers: ADMIN,
      payload: JSON.stringify({ fields: "status" }),
    });
    expect(notList.json().message).toBe("The &#x27;fields&#x27; parameter should be a list");
    const unknown = await env.app.inject({
      method: "GET",
      url: "/2/jobs/999/wait",
      headers: ADMIN,
      payload: JSON.stringify({ fields: ["status"] }),
    });
    expect(unknown.statusCode).toBe(500);
    expect(unknown.json().message).toBe("Can&#x27;t load job file");
  });

  it("503 when the queue refuses", async () => {
    env.queue.refuse = "Job queue is drained, cannot submit";
    const r = await env.app.inject({ method: "PUT", url: "/2/tags?tag=a", headers: ADMIN });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({
      code: 503,
      message: "Job queue is drained, cannot submit",
      explain: "The server cannot process the request due to a high load",
    });
  });
});

describe("auth matrix", () => {
  const cases: Array<[string, string, string, Record<string, string>, string, number]> = [
    ["anonymous GET", "GET", "/2/info", {}, "", 200],
    ["anonymous PUT", "PUT", "/2/tags?tag=a", {}, "", 401],
    ["anonymous wait", "GET", "/2/jobs/1/wait", {}, "", 401],
    ["anonymous storage", "GET", "/2/nodes/node1.ganeti.test/storage?output_fields=name&storage_type=file", {}, "", 401],
    ["anonymous query", "GET", "/2/query/node?fields=name", {}, "", 401],
    ["anonymous query fields", "GET", "/2/query/node/fields", {}, "", 200],
    ["reader GET", "GET", "/2/info", READER, "", 200],
    ["reader PUT", "PUT", "/2/tags?tag=a", READER, "", 403],
    ["reader wait", "GET", "/2/jobs/1/wait", READER, '{"fields":["id"]}', 403],
    ["reader storage", "GET", "/2/nodes/node1.ganeti.test/storage?output_fields=name", READER, "", 403],
    ["reader query", "GET", "/2/query/node?fields=name", READER, "", 200],
    ["reader query PUT", "PUT", "/2/query/node", READER, '{"fields":["name"]}', 200],
    ["writer PUT", "PUT", "/2/tags?tag=a", ADMIN, "", 200],
    ["writer query", "GET", "/2/query/node?fields=name", ADMIN, "", 200],
    ["writer storage", "GET", "/2/nodes/node1.ganeti.test/storage?output_fields=name", ADMIN, "", 200],
    ["no-option user on write", "PUT", "/2/tags?tag=a", { authorization: basic("jack", "abc123") }, "", 403],
    ["no-option user on anonymous GET", "GET", "/2/info", { authorization: basic("jack", "abc123") }, "", 200],
    ["bad password on anonymous GET", "GET", "/2/info", { authorization: basic("jack", "nope") }, "", 401],
    ["HA1 user", "PUT", "/2/tags?tag=a", { authorization: basic("ha1", "pw") }, "", 403],
    ["cleartext user writes", "PUT", "/2/tags?tag=a", { authorization: basic("clear", "foo555") }, "", 200],
    ["digest header", "GET", "/2/info", { authorization: "Digest username=x" }, "", 401],
    ["basic without colon", "PUT", "/2/tags", { authorization: `Basic ${Buffer.from("admin").toString("base64")}` }, "", 401],
  ];
  it.each(cases)("%s", async (_n, method, url, headers, payload, status) => {
    const r = await env.app.inject({ method: method as "GET", url, headers: { "content-type": "application/json", ...headers }, payload });
    expect(r.statusCode).toBe(status);
  });

  it("--require-authentication protects every GET", async () => {
    const e2 = await makeEnv({ requireAuthentication: true });
    try {
      expect((await e2.app.inject({ url: "/2/info" })).statusCode).toBe(401);
      expect((await e2.app.inject({ url: "/2/info", headers: { authorization: basic("jack", "abc123") } })).statusCode).toBe(200);
    } finally {
      await e2.close();
    }
  });

  it("re-reads the users file", async () => {
    const { writeFileSync } = await import("node:fs");
    const { buildRapiServer } = await import("../../src/rapi/app.js");
    writeFileSync(env.usersFile, "late pw write\n");
    const app = await buildRapiServer({ config: env.config, queue: env.queue, rpc: env.rpc, usersFile: env.usersFile, watchUsers: false });
    try {
      const r = await app.inject({ method: "PUT", url: "/2/tags?tag=a", headers: { authorization: basic("late", "pw") } });
      expect(r.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

// Hostile and careless requests (issue 15 items 3 and 7): every answer in
// Ganeti's error shape, credentials checked before the body, bounded bodies
// and JSON depth, anonymous readers cannot submit jobs when authentication
// is required.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, basic, makeEnv, type Env } from "./harness.js";
import { MAX_BODY_JSON_DEPTH, jsonTextDepthExceeds } from "../../src/rapi/app.js";

let env: Env;
beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => env.close());

const EXPLAIN: Record<number, string> = {
  400: "Bad request syntax or unsupported method",
  401: "No permission -- see authorization schemes",
  404: "Nothing matches the given URI",
  413: "Entity is too large",
  415: "Entity body in unsupported format",
  501: "Server does not support this operation",
};

function expectGanetiError(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  message?: string,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers["server"]).toBe("Ganeti 3.0.2");
  expect(res.headers["content-type"]).toBe("application/json");
  const body = res.json() as { code: number; message: string; explain: string };
  expect(Object.keys(body).sort()).toEqual(["code", "explain", "message"]);
  expect(body.code).toBe(status);
  expect(body.explain).toBe(EXPLAIN[status]);
  if (message !== undefined) expect(body.message).toBe(message);
}

describe("framework errors in Ganeti's shape", () => {
  it("unknown methods: 501 on a known path, 404 on an unknown one", async () => {
    for (const method of ["TRACE", "PROPFIND", "MKCOL"] as const) {
      expectGanetiError(
        await env.app.inject({ method: method as "GET", url: "/2/info" }),
        501,
        `Method ${method} is unsupported for path /2/info`,
      );
      expectGanetiError(await env.app.inject({ method: method as "GET", url: "/2/nope" }), 404, "Not Found");
    }
  });

  it("malformed paths and bad percent escapes: 404", async () => {
    for (const url of ["/2/instances/%zz", "/2/instances/%", "/2/info%00", "//2/info", "/2/instances/a%2Fb", "/2/jobs/-1"]) {
      expectGanetiError(await env.app.inject({ url, headers: ADMIN }), 404, "Not Found");
    }
  });

  it("a huge job id is not found (no internal path, no 500)", async () => {
    for (const url of ["/2/jobs/99999999999999999999999", "/2/jobs/9007199254740993", "/2/jobs/99999999999999999999999/wait"]) {
      const res = await env.app.inject({ url, headers: ADMIN });
      expectGanetiError(res, 404, "Not Found");
    }
  });

  it("JSON nested 2,000 levels: 400 before parsing", async () => {
    const deep = "[".repeat(2000) + "]".repeat(2000);
    const res = await env.app.inject({ method: "PUT", url: "/2/instances/x/modify", headers: ADMIN, payload: `{"hvparams": ${deep}}` });
    expectGanetiError(res, 400, "Unable to parse JSON data");
    expect(env.queue.submitted).toHaveLength(0);
    // Brackets inside strings do not count.
    expect(jsonTextDepthExceeds(JSON.stringify({ a: "[".repeat(5000) }), 100)).toBe(false);
    expect(jsonTextDepthExceeds(JSON.stringify({ a: '\\"[[[' }), 2)).toBe(false);
    expect(jsonTextDepthExceeds("[".repeat(101), 100)).toBe(true);
  });

  it("bodies nested just below the bound do not overflow the stack anywhere", async () => {
    const nest = (levels: number): unknown => {
      let v: unknown = ["=", "name", "x"];
      for (let i = 0; i < levels; i++) v = ["!", v];
      return v;
    };
    const deep = nest(MAX_BODY_JSON_DEPTH - 5);
    const cases: Array<[string, string, unknown]> = [
      ["PUT", "/2/query/instance", { fields: ["name"], qfilter: deep }],
      ["PUT", "/2/filters/00000000-0000-4000-8000-000000000000", { predicates: [["opcode", deep]], action: "ACCEPT" }],
      ["POST", "/2/filters", { predicates: [["jobid", deep]] }],
      ["PUT", "/2/instances/x/modify", { hvparams: { kernel_args: deep }, osparams: deep }],
      ["POST", "/2/instances", { __version__: 1, name: "x", mode: "create", disks: deep, nics: [], disk_template: "plain" }],
      ["POST", "/2/instances-multi-alloc", { instances: [deep] }],
      ["GET", "/2/jobs/1/wait", { fields: deep }],
      ["PUT", "/2/modify", { hvparams: deep }],
    ];
    for (const [method, url, body] of cases) {
      const res = await env.app.inject({ method: method as "PUT", url, headers: ADMIN, payload: JSON.stringify(body) });
      expect(res.headers["content-type"]).toBe("application/json");
      expect(res.body).not.toContain("call stack");
      expect(Object.keys(res.json() as object).length).toBeGreaterThan(0);
    }
  });

  it("empty or missing Content-Type: credentials first, then 415", async () => {
    const anon = await env.app.inject({ method: "PUT", url: "/2/tags?tag=a", headers: { "content-type": "" }, payload: "{}" });
    expectGanetiError(anon, 401, "Unauthorized");
    const authed = await env.app.inject({
      method: "PUT",
      url: "/2/tags?tag=a",
      headers: { authorization: ADMIN.authorization, "content-type": "" },
      payload: "{}",
    });
    expectGanetiError(authed, 415, "Unsupported Media Type");
    const none = await env.app.inject({
      method: "PUT",
      url: "/2/tags?tag=a",
      headers: { authorization: ADMIN.authorization },
      payload: "{}",
    });
    expectGanetiError(none, 415, "Unsupported Media Type");
  });

  it("qlang parse errors keep Ganeti's 502 (LUXI could not parse the request)", async () => {
    const res = await env.app.inject({
      method: "PUT",
      url: "/2/query/instance",
      headers: ADMIN,
      payload: JSON.stringify({ fields: ["name"], qfilter: ["=", "name"] }),
    });
    expect(res.statusCode).toBe(502);
    expect(Object.keys(res.json() as object).sort()).toEqual(["code", "explain", "message"]);
  });
});

describe("bodies", () => {
  it("refuses a body over the limit with 413 and closes the connection", async () => {
    const big = JSON.stringify({ tags: ["x".repeat(2 * 1024 * 1024)] });
    const res = await env.app.inject({ method: "PUT", url: "/2/tags?tag=a", headers: ADMIN, payload: big });
    expectGanetiError(res, 413);
    expect(res.headers["connection"]).toBe("close");
    expect(env.queue.submitted).toHaveLength(0);
  });

  it("checks credentials before the body: an anonymous oversized write is 401, not 413", async () => {
    const big = "x".repeat(2 * 1024 * 1024);
    const res = await env.app.inject({
      method: "PUT",
      url: "/2/tags?tag=a",
      headers: { "content-type": "application/json" },
      payload: big,
    });
    expectGanetiError(res, 401, "Unauthorized");
    expect(res.headers["connection"]).toBe("close");
  });

  it("the limit is configurable", async () => {
    const { buildRapiServer } = await import("../../src/rapi/app.js");
    const app = await buildRapiServer({
      config: env.config,
      queue: env.queue,
      rpc: env.rpc,
      usersFile: env.usersFile,
      watchUsers: false,
      maxBodyBytes: 10,
    });
    try {
      expectGanetiError(
        await app.inject({ method: "PUT", url: "/2/tags?tag=a", headers: ADMIN, payload: JSON.stringify({ a: "0123456789" }) }),
        413,
      );
      expect((await app.inject({ method: "PUT", url: "/2/tags?tag=a", headers: ADMIN, payload: "{}" })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe("anonymous readers", () => {
  it("with authentication required, GET /2/instances/X/info submits no job for them", async () => {
    const e2 = await makeEnv({ requireAuthentication: true });
    try {
      const anon = await e2.app.inject({ url: "/2/instances/inst1.ganeti.test/info" });
      expectGanetiError(anon, 401, "Unauthorized");
      expect(anon.headers["www-authenticate"]).toBe('Basic realm="Ganeti Remote API"');
      expect(e2.queue.submitted).toHaveLength(0);
      const wrong = await e2.app.inject({ url: "/2/instances/inst1.ganeti.test/info", headers: { authorization: basic("admin", "nope") } });
      expectGanetiError(wrong, 401, "Unauthorized");
      expect(e2.queue.submitted).toHaveLength(0);
    } finally {
      await e2.close();
    }
  });

  it("where anonymous reads are allowed, their jobs share a small budget; authenticated users are not limited by it", async () => {
    const { buildRapiServer } = await import("../../src/rapi/app.js");
    const app = await buildRapiServer({
      config: env.config,
      queue: env.queue,
      rpc: env.rpc,
      usersFile: env.usersFile,
      watchUsers: false,
      anonymousJobLimit: 2,
    });
    try {
      const name = "inst1.ganeti.test";
      const anon = () => app.inject({ url: `/2/instances/${name}/info` });
      expect((await anon()).statusCode).toBe(200);
      expect((await anon()).statusCode).toBe(200);
      const refused = await anon();
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toEqual({
        code: 503,
        message: "Too many unfinished jobs from anonymous clients, try again later or authenticate",
        explain: "The server cannot process the request due to a high load",
      });
      expect(env.queue.submitted).toHaveLength(2);
      // Authenticated readers still get their jobs.
      expect((await app.inject({ url: `/2/instances/${name}/info`, headers: { authorization: basic("jack", "abc123") } })).statusCode).toBe(
        200,
      );
      // Finished jobs free the budget.
      env.queue.finish(1, [{}]);
      expect((await anon()).statusCode).toBe(200);
      expect(env.queue.submitted).toHaveLength(4);
    } finally {
      await app.close();
    }
  });
});

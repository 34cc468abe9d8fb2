import nock from "nock";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  AuthError,
  BadGatewayError,
  BadRequestError,
  ConnectionError,
  GanetiError,
  InternalServerError,
  NotFoundError,
  NotImplementedError,
  PermissionError,
  RapiError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
  decodeJobError,
  jobFailedFromJob,
  unescapeHtml,
} from "../../src/index.js";
import { BASE, capture, mockCapture, testClient, useNock } from "../helpers/captures.js";

useNock();

const SECRET = "secret";
const BASIC = Buffer.from("admin:secret").toString("base64");

/** Everything an error exposes: message, stack, props and the cause chain. */
function dump(e: unknown): string {
  let out = "";
  let cur: unknown = e;
  for (let i = 0; cur && i < 10; i++) {
    out += inspect(cur, { depth: 8, showHidden: true }) + JSON.stringify(cur) + String((cur as Error).stack);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

describe("error tree from captured bodies", () => {
  // [capture, class, unescaped message, a call that hits the same method+path]
  type Call = (c: ReturnType<typeof testClient>) => PromiseLike<unknown>;
  const cases: [number, typeof RapiError, string, Call][] = [
    [402, BadRequestError, "Body contents: Type is 'list', but 'dict' is expected", (c) => c.instances.create([] as never)],
    [414, AuthError, "Unauthorized", (c) => c.instances.create({ mode: "create" } as never)],
    [417, PermissionError, "Forbidden", (c) => c.tags.add("cluster", undefined, ["x"])],
    [349, NotFoundError, "Not Found", (c) => c.instances.get("nosuchinstance.ganeti.test")],
    [403, UnsupportedMediaTypeError, "Unsupported Media Type", (c) => c.instances.create({ mode: "create" } as never)],
    [433, InternalServerError, "Can't load job file", (c) => c.jobs.waitForChange(999999, { fields: ["status"] })],
    [408, NotImplementedError, "Method PUT is unsupported for path /2/redistribute-config", (c) => c.cluster.redistributeConfig()],
    [
      348,
      BadGatewayError,
      "Failed to parse request: Cannot convert value '[\"nosuchresource\", [\"name\"], null]', error: Can't parse value 'nosuchresource' as neitherQueryTypeLuxi nor QueryTypeOp",
      (c) => c.query.run("nosuchresource" as never, ["name"]),
    ],
  ];
  for (const [seq, Cls, message, call] of cases) {
    const cap = capture(seq);
    it(`${seq}: ${Cls.name}`, async () => {
      // The captured status and body, on the method and path our call uses.
      const body =
        seq === 408
          ? { ...(capture(406).response_body as object), message: "Method PUT is unsupported for path /2/redistribute-config" }
          : cap.response_body;
      const status = seq === 408 ? 501 : cap.status;
      nock(BASE).intercept(cap.path, cap.method).query(true).reply(status, JSON.stringify(body));
      const err = (await call(testClient({ retry: false })).then(
        () => null,
        (e: unknown) => e,
      )) as RapiError;
      expect(err).toBeInstanceOf(Cls);
      expect(err).toBeInstanceOf(RapiError);
      expect(err).toBeInstanceOf(GanetiError);
      expect(err.status).toBe(status);
      expect(err.rapiMessage).toBe(message);
      expect(err.explain).toBe((body as { explain: string }).explain);
      expect(typeof err.code).toBe("string");
      expect(dump(err)).not.toContain(BASIC);
    });
  }

  it("403 PermissionError is an AuthError; 401 is not a PermissionError", () => {
    const p = new PermissionError({ status: 403, message: "Forbidden", explain: "", method: "GET", path: "/" });
    expect(p).toBeInstanceOf(AuthError);
    const a = new AuthError({ status: 401, message: "Unauthorized", explain: "", method: "GET", path: "/" });
    expect(a).not.toBeInstanceOf(PermissionError);
  });

  it("503 (job queue full, as Ganeti answers it) → ServiceUnavailableError", async () => {
    nock(BASE).put("/2/instances/i1/startup").reply(503, {
      code: 503,
      message: "Job queue is full, needs archiving",
      explain: "The server cannot process the request due to a high load",
    });
    const err = await testClient()
      .instances.startup("i1")
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as RapiError).code).toBe("service_unavailable");
  });

  it("a proxy's non-JSON 502 still maps to BadGatewayError", async () => {
    nock(BASE).get("/2/info").times(3).reply(502, "<html>bad gateway</html>");
    const err = await testClient()
      .cluster.info()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadGatewayError);
    expect((err as RapiError).rapiMessage).toContain("bad gateway");
  });

  it("unescapeHtml undoes Ganeti's escaping", () => {
    expect(unescapeHtml("doesn&#x27;t &quot;x&quot; &lt;a&gt; &amp; &#39;")).toBe(`doesn't "x" <a> & '`);
  });
});

describe("credentials never leak", () => {
  it("not in a 401 error, nor in a connection error and its cause chain, nor in log lines", async () => {
    mockCapture(capture(415), { auth: false });
    nock(BASE)
      .get("/2/info")
      .times(3)
      .replyWithError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5080"), { code: "ECONNREFUSED" }));
    const logs: string[] = [];
    const c = testClient({ password: SECRET, logger: (l) => logs.push(l) });
    const e1 = await c.instances.shutdown("inst1.ganeti.test").then(
      () => null,
      (e: unknown) => e,
    );
    expect(e1).toBeInstanceOf(AuthError);
    const e2 = await c.cluster.info().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(ConnectionError);
    expect((e2 as ConnectionError).code).toBe("ECONNREFUSED");
    for (const e of [e1, e2]) {
      const d = dump(e);
      expect(d).not.toContain(SECRET);
      expect(d).not.toContain(BASIC);
    }
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join("\n")).not.toContain(SECRET);
    expect(logs.join("\n")).not.toContain(BASIC);
  });

  it("credentials in the URL are refused", () => {
    expect(() => testClient({ baseUrl: "https://admin:secret@127.0.0.1:5080" })).toThrow(/not in the URL/);
  });
});

describe("job error decoding", () => {
  it("decodes OpPrereqError with ecode, TypeEnforcementError without, and plain strings", () => {
    expect(decodeJobError(["OpPrereqError", ["Instance 'x' not known", "unknown_entity"]])).toEqual({
      errorClass: "OpPrereqError",
      message: "Instance 'x' not known",
      ecode: "unknown_entity",
    });
    expect(decodeJobError(["TypeEnforcementError", ["'maxmem' (value lots) is not a valid size"]])).toEqual({
      errorClass: "TypeEnforcementError",
      message: "'maxmem' (value lots) is not a valid size",
      ecode: null,
    });
    expect(decodeJobError("Job canceled by request").message).toBe("Job canceled by request");
  });

  it("picks the first failed opcode of a multi-opcode job (reinstall: shutdown, reinstall, startup)", () => {
    const err = jobFailedFromJob({
      id: 9,
      ops: [{ OP_ID: "OP_INSTANCE_SHUTDOWN" }, { OP_ID: "OP_INSTANCE_REINSTALL" }, { OP_ID: "OP_INSTANCE_STARTUP" }],
      status: "error",
      summary: null,
      opstatus: ["success", "error", "error"],
      opresult: [null, ["OpPrereqError", ["Instance is running", "wrong_state"]], ["OpExecError", ["Preceding opcode failed"]]],
      oplog: null,
      received_ts: null,
      start_ts: null,
      end_ts: null,
    });
    expect(err.opIndex).toBe(1);
    expect(err.opId).toBe("OP_INSTANCE_REINSTALL");
    expect(err.ecode).toBe("wrong_state");
    expect(err.message).toBe("Job 9 failed in OP_INSTANCE_REINSTALL (opcode 1): OpPrereqError: Instance is running [wrong_state]");
  });
});

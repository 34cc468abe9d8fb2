import { describe, expect, it } from "vitest";
import { BadGatewayError, q } from "../../src/index.js";
import { capture, mock, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.query", () => {
  it("run() with a qlang filter sends qfilter and filter (like Ganeti's client)", async () => {
    mock("captures", 338);
    const fields = ["name", "status", "oper_state", "be/memory", "disk_template", "pnode", "tags"] as const;
    // The capture uses the legacy "=" spelling; build it raw to match byte for byte.
    const filter = ["|", ["=", "disk_template", "diskless"], ["=~", "name", "^inst2"]] as never;
    const r = await testClient().query.run("instance", fields, filter);
    expect(r.fields.map((f) => f.name)).toEqual(fields);
    expect(r.data.length).toBeGreaterThan(0);
  });

  it("builder: from().select().where().rows()", async () => {
    const c338 = capture(338);
    const body = c338.request_body as { fields: string[] };
    mock("captures", 339);
    const rows = await testClient()
      .query.from("instance")
      .select(...(capture(339).request_body as { fields: string[] }).fields)
      .rows();
    expect(rows.length).toBeGreaterThan(0);
    expect(Object.keys(rows[0] ?? {})).toEqual((capture(339).request_body as { fields: string[] }).fields);
    expect(body.fields.length).toBe(7);
  });

  it("get() (GET form) and fields()", async () => {
    mock("captures", 340, 344, 345);
    const c = testClient();
    const r = await c.query.get("instance", ["name", "status"]);
    expect(r.fields[1]?.name).toBe("status");
    const all = await c.query.fields("node");
    expect(all.fields.length).toBeGreaterThan(10);
    const two = await c.query.fields("instance", ["name", "status"]);
    expect(two.fields.map((f) => f.kind)).toEqual(["text", "text"]);
  });

  it("unknown field → kind unknown, value status 1 → null in rows", async () => {
    mock("captures", 346);
    const body = capture(346).request_body as { fields: string[] };
    const rows = await testClient()
      .query.from("instance")
      .select(...body.fields)
      .rows();
    const unknown = body.fields.find((f) => f !== "name")!;
    expect(rows.every((r) => (r as Record<string, unknown>)[unknown] === null)).toBe(true);
  });

  it("malformed filter → 502 BadGatewayError (a PUT: not retried)", async () => {
    mock("captures", 347);
    const err = await testClient()
      .query.run("instance", ["name"], ["=", "name"] as never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadGatewayError);
    expect((err as BadGatewayError).rapiMessage).toContain(`Cannot convert value '["instance", ["name"], ["=", "name"]]'`);
  });
});

describe("qlang builder", () => {
  it("produces Ganeti's list form", () => {
    expect(q.and(q.eq("status", "running"), q.gt("be/maxmem", 512))).toEqual(["&", ["==", "status", "running"], [">", "be/maxmem", 512]]);
    expect(q.or(q.eq("name", "a"), q.ne("name", "b"))).toEqual(["|", ["==", "name", "a"], ["!=", "name", "b"]]);
    expect(q.not(q.truthy("offline"))).toEqual(["!", ["?", "offline"]]);
    expect(q.contains("tags", "prod")).toEqual(["=[]", "tags", "prod"]);
    expect(q.regex("name", /^web/i)).toEqual(["=~", "name", "(?i)^web"]);
    expect(q.regex("name", "^db")).toEqual(["=~", "name", "^db"]);
    expect([q.lt("a", 1), q.le("a", 1), q.ge("a", 1)]).toEqual([
      ["<", "a", 1],
      ["<=", "a", 1],
      [">=", "a", 1],
    ]);
    expect(q.oneOf("name", ["a", "b"])).toEqual(["|", ["==", "name", "a"], ["==", "name", "b"]]);
  });

  it("builder toJSON combines where() with AND", () => {
    const b = testClient().query.from("node").select("name", "offline").where(q.truthy("offline")).where(q.eq("name", "n1"));
    expect(b.toJSON()).toEqual({ fields: ["name", "offline"], qfilter: ["&", ["?", "offline"], ["==", "name", "n1"]] });
  });
});

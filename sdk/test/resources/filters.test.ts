import nock from "nock";
import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../src/index.js";
import { BASE, mock, testClient, useNock } from "../helpers/captures.js";

useNock();

// Ganeti 3.0 captures only hold empty filter lists; the rest follows
// Ganeti's /2/filters (no real exchange recorded).
const RULE = {
  uuid: "7f0d7a9c-4f1c-4a53-9a44-0d5a2b1a0001",
  watermark: 61,
  priority: 0,
  predicates: [["opcode", ["=", "OP_ID", "OP_INSTANCE_CREATE"]]],
  action: "PAUSE",
  reason_trail: [["gnt:library:rlib2:filters", "", 1795578578954922752]],
};

describe("client.filters", () => {
  it("list() and list({bulk}) (captured: empty)", async () => {
    mock("captures", 20, 21);
    const c = testClient();
    expect(await c.filters.list()).toEqual([]);
    expect(await c.filters.list({ bulk: true })).toEqual([]);
  });

  it("add(), get(), replace(), remove()", async () => {
    const body = { priority: 0, predicates: RULE.predicates, action: "PAUSE" };
    const scope = nock(BASE)
      .post("/2/filters", body)
      .matchHeader("content-type", "application/json")
      .reply(200, JSON.stringify(RULE.uuid))
      .get(`/2/filters/${RULE.uuid}`)
      .reply(200, RULE)
      .put(`/2/filters/${RULE.uuid}`, { ...body, action: ["RATE_LIMIT", 2] })
      .reply(200, JSON.stringify(RULE.uuid))
      .delete(`/2/filters/${RULE.uuid}`)
      .reply(200, "null");
    const c = testClient();
    const uuid = await c.filters.add({ priority: 0, predicates: RULE.predicates, action: "PAUSE" });
    expect(uuid).toBe(RULE.uuid);
    expect((await c.filters.get(uuid)).action).toBe("PAUSE");
    expect(await c.filters.replace(uuid, { ...body, action: ["RATE_LIMIT", 2] })).toBe(uuid);
    await c.filters.remove(uuid);
    scope.done();
  });

  it("a bad rule → BadRequestError", async () => {
    nock(BASE).post("/2/filters", { bogus: 1 }).reply(400, {
      code: 400,
      message: "Invalid body parameters: filter rule doesn&#x27;t support the parameter &#x27;bogus&#x27;",
      explain: "Bad request syntax or unsupported method",
    });
    const err = await testClient()
      .filters.add({ bogus: 1 } as never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).rapiMessage).toBe("Invalid body parameters: filter rule doesn't support the parameter 'bogus'");
  });
});

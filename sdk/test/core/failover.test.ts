// Several RAPI URLs (the master candidates of an HA cluster): reads and job
// polling follow the master; a job submission is sent elsewhere only when it
// certainly was not sent, and one cut off after sending is reported as unknown.
import nock from "nock";
import { describe, expect, it } from "vitest";
import { ConnectionError, OutcomeUnknownError } from "../../src/index.js";
import { BASE, capture, testClient, useNock } from "../helpers/captures.js";

useNock();

const OTHER = "https://127.0.0.2:5080";
const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
const reset = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

describe("several RAPI URLs", () => {
  it("a read goes on at the next URL when the first refuses, and stays there", async () => {
    nock(BASE).get("/2/info").replyWithError(refused());
    const other = nock(OTHER)
      .get("/2/info")
      .times(2)
      .reply(200, capture(5).response_body as object);
    const c = testClient({ baseUrls: [OTHER] });
    expect((await c.cluster.info()).name).toBe("cluster.ganeti.test");
    expect((await c.cluster.info()).name).toBe("cluster.ganeti.test");
    expect(other.isDone()).toBe(true);
  });

  it("job polling moves on after a 503 (a master stepping down)", async () => {
    nock(BASE).get("/2/jobs/7").reply(503, { code: 503, message: "Job queue is shutting down", explain: "" });
    nock(OTHER)
      .get("/2/jobs/7")
      .reply(200, {
        id: 7,
        status: "success",
        ops: [],
        opresult: [true],
        opstatus: ["success"],
        oplog: [[]],
        summary: ["TEST_DELAY"],
        received_ts: null,
        start_ts: null,
        end_ts: null,
      });
    const c = testClient({ baseUrls: [OTHER] });
    const job = await c.jobs.get(7);
    expect(job.status).toBe("success");
  });

  it("a submission refused at connect goes to the next URL, once", async () => {
    let first = 0;
    let second = 0;
    nock(BASE)
      .put("/2/instances/i1/shutdown")
      .replyWithError(refused())
      .on("request", () => first++);
    nock(OTHER)
      .put("/2/instances/i1/shutdown")
      .reply(200, () => {
        second++;
        return "42";
      });
    const c = testClient({ baseUrls: [OTHER] });
    expect(await c.instances.shutdown("i1")).toBe(42);
    expect([first, second]).toEqual([1, 1]);
  });

  it("a submission cut off after sending is reported as unknown, never resent", async () => {
    let sent = 0;
    const scope = nock(BASE).persist();
    scope.on("request", () => sent++);
    scope.put("/2/instances/i1/shutdown").replyWithError(reset());
    const other = nock(OTHER).put("/2/instances/i1/shutdown").reply(200, "43");
    const err = await testClient({ baseUrls: [OTHER] })
      .instances.shutdown("i1")
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/may or may not have been submitted/);
    expect(sent).toBe(1);
    expect(other.isDone()).toBe(false);
    nock.cleanAll();
  });
});

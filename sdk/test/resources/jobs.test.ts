import { describe, expect, it } from "vitest";
import { JobNotFoundError, InternalServerError } from "../../src/index.js";
import { capture, mock, mockCapture, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.jobs", () => {
  it("list(), list({bulk}), get()", async () => {
    mock("captures", 22, 98, 38);
    const c = testClient();
    expect((await c.jobs.list())[0]).toEqual({ id: 1, uri: "/2/jobs/1" });
    expect((await c.jobs.list({ bulk: true }))[0]?.summary).toEqual(["CLUSTER_POST_INIT"]);
    const j = await c.jobs.get(6);
    expect(j.status).toBe("success");
    expect(j.ops?.[0]?.OP_ID).toBe("OP_INSTANCE_CREATE");
  });

  it("iterate() fetches details lazily", async () => {
    mockCapture({ ...capture(22), response_body: [{ id: 6, uri: "/2/jobs/6" }] });
    mock("captures", 38);
    const seen: number[] = [];
    for await (const j of testClient().jobs.iterate({ concurrency: 2 })) seen.push(j.id);
    expect(seen).toEqual([6]);
  });

  it("get() of an unknown job: 200 with nulls; wait() → JobNotFoundError after the 500", async () => {
    mock("captures", 360, 433);
    const c = testClient();
    const j = await c.jobs.get(999999);
    expect(j.status).toBeNull();
    // /wait answers 500 "Can't load job file" for an unknown job
    await expect(c.jobs.wait(999999)).rejects.toBeInstanceOf(InternalServerError);
    // polling mode sees the all-null job
    mockCapture({ ...capture(423), path: "/2/jobs/999999/wait" }, { auth: false });
    mock("captures", 360);
    await expect(c.jobs.wait(999999)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it("cancel() → [bool, message]", async () => {
    mock("captures", 426, 430);
    const c = testClient();
    expect(await c.jobs.cancel(62)).toEqual([false, "Job no longer waiting, can't cancel (informed it anyway)"]);
    expect(await c.jobs.cancel(62)).toEqual([false, "Job 62 not found in queue"]);
  });

  it("waitForChange() one round; handle(id).wait()", async () => {
    mock("captures", 432);
    mockCapture(
      { ...capture(432), request_body: { fields: ["status"], previous_job_info: null, previous_log_serial: null } },
      {
        response: { job_info: ["success"], log_entries: [] },
      },
    );
    mock("captures", 431);
    const c = testClient();
    const r = await c.jobs.waitForChange(62, { fields: ["status", "opresult"] });
    expect(r?.job_info).toEqual(["success", [null]]);
    expect(await c.jobs.handle(62).wait()).toEqual((capture(431).response_body as { opresult: unknown }).opresult);
  });
});

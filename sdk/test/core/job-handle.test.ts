import nock from "nock";
import { describe, expect, it } from "vitest";
import { AbortedError, JobCanceledError, JobFailedError, JobWaitTimeoutError, type JobLogLine } from "../../src/index.js";
import { BASE, capture, mockCapture, mockJob, testClient, useNock } from "../helpers/captures.js";

useNock();

const WAIT0 = { fields: ["status"], previous_job_info: null, previous_log_serial: null };
const job6 = capture(38).response_body as Record<string, unknown> & { oplog: unknown[][] };

describe("JobHandle", () => {
  it("is thenable to the job id and exposes .id and .info()", async () => {
    mockCapture(capture(99));
    mockCapture(capture(103));
    const h = testClient().instances.shutdown("inst1.ganeti.test");
    expect(await h).toBe(13);
    expect(await h.id).toBe(13);
    expect((await h.info()).status).toBe("success");
  });

  it("feeds back previous_job_info and previous_log_serial (replayed from the capture of job 6)", async () => {
    // mockJob matches each recorded /wait body exactly, so the order of the
    // fed-back values is asserted by the replay itself.
    mockJob("captures", 29);
    const logs: JobLogLine[] = [];
    await testClient()
      .instances.create(capture(29).request_body as never)
      .wait({ onLog: (l) => logs.push(l) });
    expect(logs.map((l) => l.serial)).toEqual([1, 2, 3, 4, 5]);
    expect(logs[0]).toMatchObject({ jobId: 6, type: "message", time: 1795578581745 });
  });

  it("a null /wait answer (nothing changed) just polls again", async () => {
    nock(BASE)
      .get("/2/jobs/6/wait", WAIT0)
      .reply(200, "null")
      .get("/2/jobs/6/wait", WAIT0)
      .reply(200, { job_info: ["success"], log_entries: [] })
      .get("/2/jobs/6")
      .reply(200, job6);
    expect(await testClient().jobs.wait(6)).toEqual([["node1.ganeti.test"]]);
  });

  it("falls back to polling GET /2/jobs/ID when /wait answers 403 (read-only user), with backoff", async () => {
    // Recorded: the reader user gets 403 on /wait.
    mockCapture({ ...capture(423), path: "/2/jobs/6/wait" });
    const running = {
      ...job6,
      status: "running",
      opstatus: ["running"],
      opresult: [null],
      oplog: [job6.oplog[0]!.slice(0, 2)],
      end_ts: null,
    };
    nock(BASE).get("/2/jobs/6").reply(200, running).get("/2/jobs/6").reply(200, running).get("/2/jobs/6").reply(200, job6);
    const sleeps: number[] = [];
    const c = testClient({ username: "reader", password: "reader", sleep: async (ms) => void sleeps.push(ms), random: () => 1 });
    const logs: number[] = [];
    const statuses: string[] = [];
    const res = await c.jobs.wait(6, { onLog: (l) => logs.push(l.serial), onStatus: (s) => statuses.push(s) });
    expect(res).toEqual([["node1.ganeti.test"]]);
    expect(logs).toEqual([1, 2, 3, 4, 5]); // each entry once, in order
    expect(statuses).toEqual(["running", "success"]);
    expect(sleeps).toEqual([250, 375]); // growing backoff
  });

  it("falls back on 401 too (anonymous)", async () => {
    mockCapture(
      { ...capture(423), status: 401, response_body: { code: 401, message: "Unauthorized", explain: "x" }, path: "/2/jobs/6/wait" },
      { auth: false },
    );
    nock(BASE).get("/2/jobs/6").reply(200, job6);
    expect(await testClient({ username: undefined }).jobs.wait(6)).toEqual([["node1.ganeti.test"]]);
  });

  it("times out (JobWaitTimeoutError) by the injected clock", async () => {
    let now = 0;
    nock(BASE)
      .get("/2/jobs/7/wait", WAIT0)
      .reply(200, () => {
        now += 600;
        return { job_info: ["running"], log_entries: [] };
      })
      .get("/2/jobs/7/wait", { ...WAIT0, previous_job_info: ["running"] })
      .reply(200, () => {
        now += 600;
        return { job_info: ["running"], log_entries: [] };
      });
    const err = await testClient({ now: () => now })
      .jobs.wait(7, { timeoutMs: 1000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobWaitTimeoutError);
    expect((err as JobWaitTimeoutError).jobId).toBe(7);
  });

  it("the caller's AbortSignal stops waiting", async () => {
    const ac = new AbortController();
    nock(BASE)
      .get("/2/jobs/7/wait", WAIT0)
      .reply(200, () => {
        ac.abort();
        return { job_info: ["running"], log_entries: [] };
      });
    await expect(testClient().jobs.wait(7, { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it("a canceled job → JobCanceledError", async () => {
    nock(BASE)
      .get("/2/jobs/8/wait", WAIT0)
      .reply(200, { job_info: ["canceled"], log_entries: [] })
      .get("/2/jobs/8")
      .reply(200, { ...job6, id: 8, status: "canceled", opstatus: ["canceled"], opresult: ["Job canceled by request"] });
    await expect(testClient().jobs.wait(8)).rejects.toBeInstanceOf(JobCanceledError);
  });

  it("a follow-up job that could not be submitted → JobFailedError", async () => {
    nock(BASE)
      .get("/2/jobs/9/wait", WAIT0)
      .reply(200, { job_info: ["success"], log_entries: [] })
      .get("/2/jobs/9")
      .reply(200, { ...job6, id: 9, ops: [{ OP_ID: "OP_NODE_EVACUATE" }], opresult: [{ jobs: [[false, "Instance x: no target"]] }] });
    const err = (await testClient()
      .jobs.wait(9)
      .catch((e: unknown) => e)) as JobFailedError;
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err.errorMessage).toBe("Instance x: no target");
    expect(err.opId).toBe("OP_NODE_EVACUATE");
  });

  it("a failed follow-up job rejects the parent's wait", async () => {
    nock(BASE)
      .get("/2/jobs/9/wait", WAIT0)
      .reply(200, { job_info: ["success"], log_entries: [] })
      .get("/2/jobs/9")
      .reply(200, { ...job6, id: 9, opresult: [{ jobs: [[true, 10]] }] })
      .get("/2/jobs/10/wait", WAIT0)
      .reply(200, { job_info: ["error"], log_entries: [] })
      .get("/2/jobs/10")
      .reply(200, {
        ...job6,
        id: 10,
        ops: [{ OP_ID: "OP_INSTANCE_MIGRATE" }],
        status: "error",
        opstatus: ["error"],
        opresult: [["OpPrereqError", ["Can't migrate, please use failover", "wrong_state"]]],
      });
    const err = (await testClient()
      .jobs.wait(9)
      .catch((e: unknown) => e)) as JobFailedError;
    expect(err.jobId).toBe(10);
    expect(err.ecode).toBe("wrong_state");
  });

  it("a response of the wrong shape → ResponseValidationError naming the path", async () => {
    nock(BASE)
      .get("/2/jobs/6/wait", WAIT0)
      .reply(200, { job_info: ["running"], log_entries: [["x"]] });
    await expect(testClient().jobs.wait(6)).rejects.toMatchObject({
      name: "ResponseValidationError",
      code: "invalid_response",
      path: "log_entries[0]",
    });
  });

  it("ResponseValidationError for an instance field with a dotted name", async () => {
    const inst = { ...(capture(84).response_body as object), "nic.ips": [5] };
    nock(BASE).get("/2/instances/inst1.ganeti.test").reply(200, inst);
    await expect(testClient().instances.get("inst1.ganeti.test")).rejects.toMatchObject({
      name: "ResponseValidationError",
      path: '["nic.ips"][0]',
    });
  });
});

import nock from "nock";
import { describe, expect, it } from "vitest";
import { AbortedError, BadGatewayError, ConnectionError, ServiceUnavailableError } from "../../src/index.js";
import { backoffDelay, DEFAULT_RETRY } from "../../src/core/retry.js";
import { BASE, capture, testClient, useNock } from "../helpers/captures.js";

useNock();

const UNAVAILABLE = { code: 503, message: "Job queue is drained, cannot submit", explain: "x" };

function counted(scope: nock.Interceptor, status: number, body: unknown): { count: () => number } {
  let n = 0;
  scope.reply(() => {
    n++;
    return [status, JSON.stringify(body)];
  });
  return { count: () => n };
}

describe("retries", () => {
  it("GET is retried on 503 and 502 with jittered backoff, then succeeds", async () => {
    nock(BASE)
      .get("/2/info")
      .reply(503, UNAVAILABLE)
      .get("/2/info")
      .reply(502, "{}")
      .get("/2/info")
      .reply(200, capture(5).response_body as object);
    const sleeps: number[] = [];
    const c = testClient({ sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
    expect((await c.cluster.info()).name).toBe("cluster.ganeti.test");
    expect(sleeps).toEqual([100, 200]); // 0.5 × 200·2^0, 0.5 × 200·2^1
  });

  it("GET is retried on connection errors (ECONNRESET) and gives up after `retries`", async () => {
    nock(BASE)
      .get("/2/nodes")
      .times(3)
      .replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const err = await testClient({ retry: { retries: 2 } })
      .nodes.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("ECONNRESET");
  });

  it("a job-submitting PUT/POST/DELETE is never retried (503, 502, connection reset)", async () => {
    const c = testClient();
    const put = counted(nock(BASE).persist().put("/2/instances/i1/shutdown"), 503, UNAVAILABLE);
    await expect(c.instances.shutdown("i1").then()).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(put.count()).toBe(1);

    const post = counted(nock(BASE).persist().post("/2/instances"), 502, {});
    await expect(c.instances.create({ mode: "create", disks: [], nics: [] }).then()).rejects.toBeInstanceOf(BadGatewayError);
    expect(post.count()).toBe(1);

    let resets = 0;
    const del = nock(BASE).persist();
    del.on("request", () => resets++);
    del.delete("/2/instances/i1").replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    await expect(c.instances.remove("i1").then()).rejects.toBeInstanceOf(ConnectionError);
    expect(resets).toBe(1);
    nock.cleanAll();
  });

  it("GETs that submit jobs (instance info, node storage) are not retried either", async () => {
    const c = testClient();
    const info = counted(nock(BASE).persist().get("/2/instances/i1/info"), 503, UNAVAILABLE);
    await expect(c.instances.info("i1").then()).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(info.count()).toBe(1);
    const st = counted(nock(BASE).persist().get("/2/nodes/n1/storage").query(true), 502, {});
    await expect(c.nodes.storage("n1", { storage_type: "file", output_fields: ["name"] }).then()).rejects.toBeInstanceOf(BadGatewayError);
    expect(st.count()).toBe(1);
    nock.cleanAll();
  });

  it("retry: false disables retries", async () => {
    nock(BASE).get("/2/info").reply(503, UNAVAILABLE);
    await expect(testClient({ retry: false }).cluster.info()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it("an aborted signal stops before sending", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(testClient().cluster.info({ signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it("backoff is full jitter, capped", () => {
    expect(backoffDelay(0, DEFAULT_RETRY, () => 1)).toBe(200);
    expect(backoffDelay(10, DEFAULT_RETRY, () => 1)).toBe(5000);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});

// The daemons' logs on a real cluster (gnt cluster init): structured lines,
// the request id on every line about a RAPI request, the job id on every line
// about a job, and rotation by rename + SIGHUP.
import { readFile, rename } from "node:fs/promises";
import path from "node:path";
import { GanetiClient } from "@ganeti-ts/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

let c: LocalCluster;
let client: GanetiClient;
beforeAll(async () => {
  c = await startLocalCluster();
  client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
});
afterAll(async () => {
  client?.close();
  await c?.destroy();
});

type Line = Record<string, unknown>;
const read = async (name: string): Promise<Line[]> =>
  (await readFile(path.join(c.dataDir, "log", name), "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

async function until(what: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out");
}

describe("daemon logs", () => {
  it("one JSON log per daemon, with request ids and job ids", async () => {
    const handle = client.tags.add("cluster", undefined, ["log-test"]);
    const jobId = await handle;
    await handle.wait();
    await until(async () => (await read("master.log")).some((l) => l["jobId"] === jobId && l["status"] === "success"));
    const master = await read("master.log");
    expect(master.filter((l) => !(l["daemon"] === "master" && typeof l["level"] === "number" && typeof l["time"] === "string"))).toEqual(
      [],
    );

    // Every line about a RAPI request carries its request id; the submitting request names its job.
    const requests = master.filter((l) => l["method"] !== undefined);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((l) => typeof l["reqId"] !== "string" || !/^[0-9a-f]{12}$/.test(l["reqId"]))).toEqual([]);
    const put = requests.find((l) => l["method"] === "PUT" && l["path"] === "/2/tags");
    expect(put).toMatchObject({ status: 200, jobId, user: c.user });
    const waits = requests.filter((l) => l["path"] === `/2/jobs/${jobId}/wait` || l["path"] === `/2/jobs/${jobId}`);
    expect(new Set(waits.map((l) => l["reqId"])).has(put!["reqId"])).toBe(false);

    // Every line about the job carries its id.
    const about = master.filter((l) => typeof l["msg"] === "string" && (l["msg"] as string).startsWith(`job ${jobId} `));
    expect(about.map((l) => l["msg"])).toEqual([`job ${jobId} submitted`, `job ${jobId} success`]);
    expect(about.every((l) => l["jobId"] === jobId)).toBe(true);
    // The submission happened during the request: that line carries its id; the job's run does not.
    expect(about[0]!["reqId"]).toBe(put!["reqId"]);
    expect(about[1]!["reqId"]).toBeUndefined();

    const noded = await read("noded.log");
    expect(noded.length).toBeGreaterThan(0);
    expect(noded.filter((l) => l["daemon"] !== "noded")).toEqual([]);
    await client.nodes.list({ bulk: true });
    await until(async () => (await read("noded.log")).some((l) => typeof l["call"] === "string" && typeof l["ms"] === "number"));
  });

  it("reopens its log file on SIGHUP after logrotate moved it", async () => {
    const rt = JSON.parse(await readFile(path.join(c.dataDir, "master.runtime.json"), "utf8")) as { pid: number };
    const file = path.join(c.dataDir, "log", "master.log");
    await rename(file, `${file}.1`);
    process.kill(rt.pid, "SIGHUP");
    await until(async () => (await read("master.log")).some((l) => l["msg"] === "log file reopened (SIGHUP)"));
    await client.cluster.info();
    await until(async () => (await read("master.log")).some((l) => l["path"] === "/2/info"));
    expect((await read("master.log.1")).some((l) => l["msg"] === "log file reopened (SIGHUP)")).toBe(false);
    // The daemon is still there (SIGHUP's default action would have ended it).
    expect(() => process.kill(rt.pid, 0)).not.toThrow();
  });
});

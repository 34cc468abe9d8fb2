import { describe, expect, it } from "vitest";
import { JobFailedError } from "../../src/index.js";
import { mock, mockJob, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.tags", () => {
  it("instance tags: add (repeated ?tag=), list, remove", async () => {
    mockJob("captures", 179);
    mock("captures", 184);
    mockJob("captures", 185);
    mock("captures", 190);
    const c = testClient();
    await c.tags.add("instance", "inst1.ganeti.test", ["env:oracle", "role:test"]).wait();
    expect((await c.tags.list("instance", "inst1.ganeti.test")).sort()).toEqual(["env:oracle", "role:test"]);
    await c.tags.remove("instance", "inst1.ganeti.test", ["role:test"]).wait();
    expect(await c.tags.list("instance", "inst1.ganeti.test")).toEqual(["env:oracle"]);
  });

  it("node, group, network and cluster tags", async () => {
    // Ganeti's Python client also sends the tag list as body for nodes; the
    // server ignores it, and so do we (tags travel in the query string).
    mockJob("captures", 191, { anyBody: true });
    mock("captures", 196);
    mockJob("captures", 197, { anyBody: true });
    mockJob("captures", 203);
    mock("captures", 208);
    mockJob("captures", 209);
    mockJob("captures", 300);
    mock("captures", 305);
    mock("captures", 19);
    mockJob("captures", 215);
    mockJob("captures", 221);
    mockJob("captures", 227);
    const c = testClient();
    await c.tags.add("node", "node1.ganeti.test", ["env:oracle", "role:test"]).wait();
    expect(await c.tags.list("node", "node1.ganeti.test")).toContain("role:test");
    await c.tags.remove("node", "node1.ganeti.test", ["role:test"]).wait();
    await c.tags.add("nodegroup", "default", ["env:oracle", "role:test"]).wait();
    expect(await c.tags.list("nodegroup", "default")).toContain("env:oracle");
    await c.tags.remove("nodegroup", "default", ["role:test"]).wait();
    await c.tags.add("network", "capnet", ["a:b"]).wait();
    expect(await c.tags.list("network", "capnet")).toContain("a:b");
    expect(await c.tags.list("cluster")).toEqual([]);
    await c.tags.add("cluster", undefined, ["env:oracle", "team:ganeti"]).wait();
    await c.tags.remove("cluster", undefined, ["team:ganeti"]).wait();
    await c.tags.add("cluster", undefined, ["dry:run"], { dryRun: true }).wait();
  });

  it("invalid tag → TagError in the job; removing a missing tag → unknown_entity", async () => {
    mockJob("captures", 232);
    mockJob("captures", 237);
    const c = testClient();
    const e1 = (await c.tags
      .add("instance", "inst1.ganeti.test", ["bad tag with spaces"])
      .wait()
      .catch((e: unknown) => e)) as JobFailedError;
    expect(e1.errorClass).toBe("TagError");
    expect(e1.errorMessage).toBe("Tag contains invalid characters");
    await expect(c.tags.remove("instance", "inst1.ganeti.test", ["never-set"]).wait()).rejects.toMatchObject({
      ecode: "unknown_entity",
    });
  });

  it("names are required for object tags", () => {
    expect(() => testClient().tags.list("node")).toThrow(TypeError);
  });
});

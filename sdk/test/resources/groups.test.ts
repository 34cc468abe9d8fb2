import { describe, expect, it } from "vitest";
import { BadRequestError, JobFailedError, NotFoundError } from "../../src/index.js";
import { capture, mock, mockCapture, mockJob, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.groups", () => {
  it("list(), list({bulk}), get(), iterate(); unknown → NotFoundError", async () => {
    mock("captures", 12, 13, 14, 267, 359);
    const c = testClient();
    expect(await c.groups.list()).toEqual([{ name: "default", uri: "/2/groups/default" }]);
    expect((await c.groups.list({ bulk: true }))[0]?.alloc_policy).toBe("preferred");
    expect((await c.groups.get("default")).node_list).toEqual(["node1.ganeti.test"]);
    const names: string[] = [];
    for await (const g of c.groups.iterate()) names.push(g.name);
    expect(names.length).toBe(2);
    await expect(c.groups.get("nosuchgroup")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("create(), duplicate create fails, modify(), bad modify → 400, rename(), remove()", async () => {
    mockJob("captures", 243);
    mockJob("captures", 249);
    mockJob("captures", 255);
    mock("captures", 261);
    mockJob("captures", 262);
    mockJob("captures", 268);
    mockJob("captures", 274);
    const c = testClient();
    await c.groups.create({ name: "capgrp", alloc_policy: "preferred" }).wait();
    await expect(c.groups.create({ name: "capgrp", alloc_policy: null }).wait()).rejects.toMatchObject({
      ecode: "already_exists",
    });
    await c.groups.modify("capgrp", { alloc_policy: "last_resort" }).wait();
    const bad = await c.groups.modify("capgrp", { alloc_policy: "sometimes" as never }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).rapiMessage).toBe(
      `Invalid body parameters: ("Parameter 'OP_GROUP_SET_PARAMS.alloc_policy' fails validation", 'wrong_input')`,
    );
    expect(await c.groups.rename("capgrp", "capgrp2").wait()).toEqual(["capgrp2"]);
    await c.groups.remove("capgrp2").wait();
    await expect(c.groups.remove("default").wait()).rejects.toBeInstanceOf(JobFailedError);
  });

  it("assignNodes() → PUT assign-nodes with force", async () => {
    mockCapture({
      ...capture(255),
      path: "/2/groups/g1/assign-nodes",
      query: [["force", 1]],
      request_body: { nodes: ["n1"] },
      response_body: 5,
    });
    expect(await testClient().groups.assignNodes("g1", ["n1"], { force: true })).toBe(5);
  });
});

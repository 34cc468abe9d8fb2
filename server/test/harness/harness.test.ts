// The harness itself: a job runs through the real queue, LUs and node backends.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "./cluster.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("testCluster", () => {
  it("runs OP_TEST_DELAY on the nodes and reports success", async () => {
    c = await testCluster({ nodes: 2 });
    expect(c.nodes.map((n) => n.name)).toEqual(["node1.example.com", "node2.example.com"]);
    const job = await c.runJob([{ OP_ID: "OP_TEST_DELAY", duration: 0.01, on_nodes: ["node1.example.com", "node2.example.com"] }]);
    expect(job.ops[0]!.status).toBe("success");
  });

  it("rejects with the job's OpPrereqError and its ecode", async () => {
    c = await testCluster();
    await expect(c.runOp({ OP_ID: "OP_TAGS_DEL", kind: "cluster", tags: ["never-set"] })).rejects.toMatchObject({
      errorClass: "OpPrereqError",
      code: "unknown_entity",
    });
  });
});

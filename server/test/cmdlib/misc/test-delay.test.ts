// OP_TEST_DELAY and OP_OS_DIAGNOSE.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runJob, runOp } from "./run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("OP_TEST_DELAY", () => {
  it("runs on master and nodes, repeats with log lines", async () => {
    c = await testCluster({ nodes: 2 });
    const job = await runJob(c!, [{ OP_ID: "OP_TEST_DELAY", duration: 0.001, on_nodes: ["node2.example.com"], repeat: 2 }]);
    expect(job.ops[0]!.status).toBe("success");
    expect(c.jobLog(job)).toEqual([" - INFO: Test delay iteration 0/1", " - INFO: Test delay iteration 1/1"]);
  });

  it("refuses a non-positive duration and unknown nodes", async () => {
    c = await testCluster();
    await expect(runOp(c!, { OP_ID: "OP_TEST_DELAY", duration: 0 })).rejects.toMatchObject({
      message: "Duration must be greater than zero",
    });
    await expect(runOp(c!, { OP_ID: "OP_TEST_DELAY", duration: 0.001, on_nodes: ["nosuch"] })).rejects.toMatchObject({
      code: "unknown_entity",
    });
  });

  it("fails with OpExecError when a node cannot be reached", async () => {
    c = await testCluster({ nodes: 2 });
    c.backends.delete(c.config.expandNode("node2").uuid);
    await expect(
      runOp(c!, { OP_ID: "OP_TEST_DELAY", duration: 0.001, on_master: false, on_nodes: ["node2.example.com"] }),
    ).rejects.toMatchObject({ errorClass: "OpExecError" });
  });
});

describe("OP_OS_DIAGNOSE", () => {
  it("lists valid OSes as [name, variants] rows, hiding hidden ones", async () => {
    c = await testCluster({ nodes: 2 });
    const rows = (await runOp(c!, { OP_ID: "OP_OS_DIAGNOSE", output_fields: ["name", "variants"], names: [] })) as unknown[][];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r).toHaveLength(2);
      expect(typeof r[0]).toBe("string");
      expect(Array.isArray(r[1])).toBe(true);
    }
    const first = rows[0]![0] as string;
    await runOp(c!, { OP_ID: "OP_CLUSTER_SET_PARAMS", hidden_os: [["add", first]] });
    const after = (await runOp(c!, { OP_ID: "OP_OS_DIAGNOSE", output_fields: ["name"], names: [] })) as unknown[][];
    expect(after.map((r) => r[0])).not.toContain(first);
    const withHidden = (await runOp(c!, {
      OP_ID: "OP_OS_DIAGNOSE",
      output_fields: ["name", "hidden", "valid"],
      names: [first],
    })) as unknown[][];
    expect(withHidden).toEqual([[first, true, true]]);
  });

  it("refuses unknown output fields", async () => {
    c = await testCluster();
    await expect(runOp(c!, { OP_ID: "OP_OS_DIAGNOSE", output_fields: ["name", "bogus"], names: [] })).rejects.toMatchObject({
      message: "Unknown output fields selected: bogus",
      code: "wrong_input",
    });
  });
});

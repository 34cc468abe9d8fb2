import { describe, expect, it } from "vitest";
import type { QueuedOpcode } from "@ganeti-ts/schema";
import { calcJobStatus, opSummary } from "../../src/jobs/job.js";

const op = (status: QueuedOpcode["status"]): QueuedOpcode => ({
  input: { OP_ID: "OP_TEST_DELAY" },
  status,
  result: null,
  log: [],
  priority: 0,
  start_timestamp: null,
  exec_timestamp: null,
  end_timestamp: null,
});

describe("calcJobStatus (Ganeti's CalcStatus)", () => {
  it.each([
    [["success", "success"], "success"],
    [["queued", "queued"], "queued"],
    [["success", "running", "queued"], "running"],
    [["success", "waiting", "queued"], "waiting"],
    [["success", "error", "error"], "error"],
    [["canceling", "queued"], "canceling"],
    [["canceled", "canceled"], "canceled"],
    [["running", "waiting"], "waiting"],
  ] as const)("%j → %s", (statuses, expected) => {
    expect(calcJobStatus(statuses.map(op))).toBe(expected);
  });
});

describe("opSummary", () => {
  it("formats OP_ID without OP_ and the descriptive field", () => {
    const field = (id: string) => (id === "OP_INSTANCE_STARTUP" ? "instance_name" : undefined);
    expect(opSummary({ OP_ID: "OP_INSTANCE_STARTUP", instance_name: "web1" }, field)).toBe("INSTANCE_STARTUP(web1)");
    expect(opSummary({ OP_ID: "OP_TAGS_SET", name: "x" }, field)).toBe("TAGS_SET");
  });
});

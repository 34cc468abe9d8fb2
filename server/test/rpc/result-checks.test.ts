// The quick result checks must never accept what the zod schema refuses, and
// must return exactly what the schema's parse returns (same keys, same order).
import { RPC_CALLS } from "@ganeti-ts/schema";
import { describe, expect, it, vi } from "vitest";
import { checkResult } from "../../src/rpc/result-checks.js";

const info = (name: string, over: Record<string, unknown> = {}) => ({ name, memory: 128, vcpus: 1, state: "running", time: 12.5, ...over });

function agree(name: "all_instances_info" | "instance_list", value: unknown): void {
  const ours = checkResult(name, value);
  const zod = RPC_CALLS[name].result.safeParse(value);
  expect(ours.success, JSON.stringify(value)).toBe(zod.success);
  if (ours.success && zod.success) {
    expect(JSON.stringify(ours.data)).toBe(JSON.stringify(zod.data));
    expect(ours.data).toStrictEqual(zod.data);
  } else if (!ours.success && !zod.success) {
    expect(ours.error.message).toBe(zod.error.message);
  }
}

describe("checkResult", () => {
  it("all_instances_info: same verdict and output as the schema", () => {
    const samples: unknown[] = [
      {},
      { a: info("a"), b: info("b", { state: "paused", time: 0 }) },
      { a: info("a", { extra: 1, other: { x: 1 } }) }, // unknown keys are dropped
      { a: { time: 3, state: "shutdown", vcpus: 2, memory: 64, name: "a" } }, // key order of the schema
      { a: info("a", { memory: 1.5 }) },
      { a: info("a", { memory: "128" }) },
      { a: info("a", { vcpus: null }) },
      { a: info("a", { memory: 2 ** 53 }) },
      { a: info("a", { memory: -4 }) },
      { a: info("a", { time: "1" }) },
      { a: info("a", { name: 1 }) },
      { a: info("a", { state: undefined }) },
      { a: { name: "a", memory: 1, vcpus: 1, state: "running" } },
      { a: null },
      { a: [] },
      { a: "x" },
      [],
      [info("a")],
      null,
      "x",
      42,
      JSON.parse(
        '{"__proto__": {"name": "p", "memory": 1, "vcpus": 1, "state": "running", "time": 1}, "a": {"name": "a", "memory": 1, "vcpus": 1, "state": "running", "time": 1}}',
      ),
      Object.assign(Object.create(null), { a: info("a") }),
    ];
    for (const s of samples) agree("all_instances_info", s);
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`i${i}`, info(`i${i}`, { memory: i })]));
    agree("all_instances_info", many);
  });

  it("a well-formed all_instances_info result does not go through zod", () => {
    const spy = vi.spyOn(RPC_CALLS.all_instances_info.result, "safeParse");
    try {
      expect(checkResult("all_instances_info", { a: info("a") }).success).toBe(true);
      expect(spy).not.toHaveBeenCalled();
      expect(checkResult("all_instances_info", { a: info("a", { memory: "1" }) }).success).toBe(false);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("instance_list: same verdict and output as the schema", () => {
    for (const s of [[], ["a", "b"], ["a", 1], [null], {}, null, "a", [["a"]]]) agree("instance_list", s);
  });

  it("calls without a quick check are the schema's parse", () => {
    const v = { protocol_version: 1, software_version: "x", extra: true };
    const ours = checkResult("version", v);
    expect(ours).toMatchObject({ success: true, data: { protocol_version: 1, software_version: "x" } });
    expect(checkResult("version", { protocol_version: "1" }).success).toBe(false);
  });
});

// OP_TAGS_SET / OP_TAGS_DEL / OP_TAGS_GET through the real job queue.
import { afterEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runJob, runOp } from "./run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("tags", () => {
  it("sets, reads and deletes tags on every kind, bumping serials", async () => {
    c = await testCluster();
    await runOp(c!, { OP_ID: "OP_GROUP_ADD", group_name: "g2" });
    await runOp(c!, { OP_ID: "OP_NETWORK_ADD", network_name: "net1", network: "10.1.0.0/24" });
    const targets: Array<[string, string | undefined, () => { tags: string[]; serial_no: number }]> = [
      ["cluster", undefined, () => c!.config.data.cluster],
      ["node", "node1.example.com", () => c!.config.masterNode],
      ["nodegroup", "g2", () => c!.config.expandGroup("g2")],
      ["network", "net1", () => c!.config.expandNetwork("net1")],
    ];
    for (const [kind, name, obj] of targets) {
      const serial = obj().serial_no;
      const res = await runOp(c!, { OP_ID: "OP_TAGS_SET", kind, name, tags: ["env:prod", "role:test"] });
      expect(res).toBeNull();
      expect(obj().tags).toEqual(["env:prod", "role:test"]);
      expect(obj().serial_no).toBe(serial + 1);
      // adding a present tag is a no-op
      await runOp(c!, { OP_ID: "OP_TAGS_SET", kind, name, tags: ["env:prod"] });
      expect(await runOp(c!, { OP_ID: "OP_TAGS_GET", kind, name })).toEqual(["env:prod", "role:test"]);
      await runOp(c!, { OP_ID: "OP_TAGS_DEL", kind, name, tags: ["role:test"] });
      expect(obj().tags).toEqual(["env:prod"]);
    }
  });

  it("refuses invalid tags with TagError and missing ones with unknown_entity", async () => {
    c = await testCluster();
    await expect(runOp(c!, { OP_ID: "OP_TAGS_SET", kind: "cluster", tags: ["bad tag with spaces"] })).rejects.toMatchObject({
      errorClass: "TagError",
      message: "Tag contains invalid characters",
    });
    await expect(runOp(c!, { OP_ID: "OP_TAGS_SET", kind: "cluster", tags: ["x".repeat(129)] })).rejects.toMatchObject({
      errorClass: "TagError",
      message: "Tag too long (>128 characters)",
    });
    await expect(runOp(c!, { OP_ID: "OP_TAGS_SET", kind: "cluster", tags: [""] })).rejects.toMatchObject({
      message: "Tags cannot be empty",
    });
    await expect(runOp(c!, { OP_ID: "OP_TAGS_DEL", kind: "cluster", tags: ["b", "a"] })).rejects.toMatchObject({
      errorClass: "OpPrereqError",
      message: "Tag(s) 'a', 'b' not found",
      code: "unknown_entity",
    });
    await expect(runOp(c!, { OP_ID: "OP_TAGS_SET", kind: "node", name: "nosuch", tags: ["a"] })).rejects.toMatchObject({
      message: "Node 'nosuch' not known",
      code: "unknown_entity",
    });
  });

  it("a dry run changes nothing", async () => {
    c = await testCluster();
    const job = await runJob(c!, [{ OP_ID: "OP_TAGS_SET", kind: "cluster", tags: ["dry:run"], dry_run: true }]);
    expect(job.ops[0]!.status).toBe("success");
    expect(job.ops[0]!.result).toBeNull();
    expect(c.config.data.cluster.tags).toEqual([]);
  });
});

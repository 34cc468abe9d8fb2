// Job filter rules: pure matching (jobs/filters.ts) and their effect in the
// queue's scheduler (test-only logical units, in-memory store).
import type { FilterRuleObject } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import { LogicalUnit, type LockDecl, type OpcodeInput } from "../../src/cmdlib/base.js";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { applyingRule, FilterPass, orderRules, predicateMatches, type FilterJob } from "../../src/jobs/filters.js";
import { JobQueue } from "../../src/jobs/queue.js";
import type { RpcRunner } from "../../src/rpc/runner.js";
import { MemoryStore } from "../../src/store/memory-store.js";

let uuidSeq = 0;
function rule(action: unknown, predicates: unknown[] = [], priority = 0, watermark = 0, uuid?: string): FilterRuleObject {
  return {
    uuid: uuid ?? `00000000-0000-0000-0000-${String(++uuidSeq).padStart(12, "0")}`,
    watermark,
    priority,
    predicates,
    action,
    reason_trail: [],
  };
}
const job = (id: number, ...ops: Array<Record<string, unknown>>): FilterJob => ({ id, ops });
const tagsSet = { OP_ID: "OP_TAGS_SET", kind: "cluster", tags: ["a", "b"], dry_run: false, beparams: { maxmem: 128 } };

describe("filter predicates", () => {
  it("jobid compares the id with numbers and the watermark; other forms never match", () => {
    expect(predicateMatches(["jobid", [">", "id", "watermark"]], job(11), 10)).toBe(true);
    expect(predicateMatches(["jobid", [">", "id", "watermark"]], job(10), 10)).toBe(false);
    expect(predicateMatches(["jobid", ["&", [">=", "id", 5], ["<", "id", 7]]], job(6), 0)).toBe(true);
    expect(predicateMatches(["jobid", ["!=", "id", 6]], job(6), 0)).toBe(false);
    expect(predicateMatches(["jobid", ["=", "id", "other"]], job(6), 0)).toBe(false);
    expect(predicateMatches(["jobid", ["=~", "id", "6"]], job(6), 0)).toBe(false);
    expect(predicateMatches(["jobid", ["=", "name", 6]], job(6), 0)).toBe(false);
    // An unusable leaf reached makes the whole predicate false, even under "!".
    expect(predicateMatches(["jobid", ["!", ["=", "name", 6]]], job(6), 0)).toBe(false);
    expect(predicateMatches(["jobid", null], job(6), 0)).toBe(true);
  });

  it("opcode fields are own keys only: 'constructor' or 'toString' are missing fields", () => {
    const j = job(3, tagsSet);
    expect(predicateMatches(["opcode", ["!", ["=", "constructor", "x"]]], j, 0)).toBe(false);
    expect(predicateMatches(["opcode", ["!", ["=", "beparams.toString", "x"]]], j, 0)).toBe(false);
    expect(predicateMatches(["opcode", ["!", ["=", "beparams.maxmem", 1]]], j, 0)).toBe(true);
  });

  it("opcode holds when some opcode satisfies the filter (dotted fields, regex, contains, truth)", () => {
    const j = job(3, { OP_ID: "OP_INSTANCE_STARTUP" }, tagsSet);
    expect(predicateMatches(["opcode", ["=", "OP_ID", "OP_TAGS_SET"]], j, 0)).toBe(true);
    expect(predicateMatches(["opcode", ["=~", "OP_ID", "^OP_INSTANCE_"]], j, 0)).toBe(true);
    expect(predicateMatches(["opcode", ["=", "OP_ID", "OP_INSTANCE_CREATE"]], j, 0)).toBe(false);
    expect(predicateMatches(["opcode", ["=[]", "tags", "b"]], j, 0)).toBe(true);
    expect(predicateMatches(["opcode", ["=", "beparams.maxmem", 128]], j, 0)).toBe(true);
    expect(predicateMatches(["opcode", ["!", ["?", "dry_run"]]], j, 0)).toBe(true);
    // A field missing from one opcode does not stop another from matching.
    expect(predicateMatches(["opcode", ["=", "kind", "cluster"]], j, 0)).toBe(true);
    expect(predicateMatches(["opcode", ["=", "nosuch", "x"]], j, 0)).toBe(false);
    expect(predicateMatches(["opcode", ["=~", "tags", "a"]], j, 0)).toBe(false);
  });

  it("reason matches any reason-trail entry of any opcode", () => {
    const j = job(4, { OP_ID: "OP_TEST", reason: [["gnt:client", "maintenance pink bunny", 1000]] });
    expect(predicateMatches(["reason", ["=~", "reason", "pink bunny"]], j, 0)).toBe(false); // comparisons only
    expect(predicateMatches(["reason", ["=", "reason", "maintenance pink bunny"]], j, 0)).toBe(true);
    expect(predicateMatches(["reason", ["&", ["=", "source", "gnt:client"], ["<", "timestamp", 2000]]], j, 0)).toBe(true);
    expect(predicateMatches(["reason", ["=", "source", "rapi"]], j, 0)).toBe(false);
    expect(predicateMatches(["reason", ["=", "source", "gnt:client"]], job(5, { OP_ID: "OP_TEST" }), 0)).toBe(false);
  });

  it("unknown predicate kinds and unparsable filters never match", () => {
    expect(predicateMatches(["nosuch", ["=", "id", 1]], job(1), 0)).toBe(false);
    expect(predicateMatches(["jobid", ["=", "id"]], job(1), 0)).toBe(false);
  });
});

describe("applying rule and scheduling decisions", () => {
  it("orders by priority, then watermark, then uuid", () => {
    const a = rule("ACCEPT", [], 1, 5, "b");
    const b = rule("ACCEPT", [], 1, 5, "a");
    const c = rule("ACCEPT", [], 1, 2, "z");
    const d = rule("ACCEPT", [], 0, 9, "y");
    expect(orderRules([a, b, c, d]).map((r) => r.uuid)).toEqual(["y", "z", "a", "b"]);
  });

  it("the first matching non-CONTINUE rule applies; all predicates must match", () => {
    const cont = rule("CONTINUE", [], 0);
    const partial = rule(
      "REJECT",
      [
        ["jobid", ["=", "id", 1]],
        ["opcode", ["=", "OP_ID", "OP_X"]],
      ],
      1,
    );
    const pause = rule("PAUSE", [["jobid", [">", "id", "watermark"]]], 2, 5);
    const ordered = orderRules([pause, partial, cont]);
    expect(applyingRule(ordered, job(1, { OP_ID: "OP_Y" }))).toBeNull();
    expect(applyingRule(ordered, job(1, { OP_ID: "OP_X" }))?.action).toBe("REJECT");
    expect(applyingRule(ordered, job(6, { OP_ID: "OP_Y" }))?.action).toBe("PAUSE");
  });

  it("decides run / hold / reject, with RATE_LIMIT slots taken by running jobs", () => {
    const limit = rule(["RATE_LIMIT", 2], [["opcode", ["=", "OP_ID", "OP_R"]]], 0);
    const rules = orderRules([
      limit,
      rule("PAUSE", [["opcode", ["=", "OP_ID", "OP_P"]]]),
      rule("REJECT", [["opcode", ["=", "OP_ID", "OP_J"]]]),
    ]);
    const pass = new FilterPass(rules, [job(1, { OP_ID: "OP_R" }), job(2, { OP_ID: "OP_OTHER" })]);
    expect(pass.rejects(job(9, { OP_ID: "OP_J" }))).toBe(true);
    expect(pass.decide(job(9, { OP_ID: "OP_J" }))).toBe("reject");
    expect(pass.decide(job(10, { OP_ID: "OP_P" }))).toBe("hold");
    expect(pass.decide(job(11, { OP_ID: "OP_OTHER" }))).toBe("run");
    expect(pass.decide(job(12, { OP_ID: "OP_R" }))).toBe("run");
    expect(pass.decide(job(13, { OP_ID: "OP_R" }))).toBe("hold");
    expect(new FilterPass([], []).decide(job(1, { OP_ID: "OP_P" }))).toBe("run");
  });
});

// ---- in the queue ----------------------------------------------------------------

class Gates {
  private readonly waiting = new Map<string, () => void>();
  readonly started: string[] = [];
  private readonly watchers = new Set<() => void>();
  wait(name: string): Promise<void> {
    this.started.push(name);
    for (const w of this.watchers) w();
    return new Promise((r) => this.waiting.set(name, r));
  }
  /** Resolves once `n` gated LUs have started. */
  startedCount(n: number): Promise<void> {
    if (this.started.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      const w = () => {
        if (this.started.length < n) return;
        this.watchers.delete(w);
        resolve();
      };
      this.watchers.add(w);
    });
  }
  open(name: string): void {
    this.waiting.get(name)?.();
    this.waiting.delete(name);
  }
}

async function makeQueue() {
  const gates = new Gates();
  class LUGate extends LogicalUnit<{ name: string }> {
    expandNames(): LockDecl {
      return {};
    }
    checkPrereq(): void {}
    async exec(): Promise<unknown> {
      await gates.wait(this.op.name);
      return this.op.name;
    }
  }
  const store = new MemoryStore();
  const config = await ClusterConfig.create(
    store,
    buildInitialConfig({
      clusterName: "c.test",
      master: { name: "n1.test", ip: "127.0.0.1", rpcPort: 1811 },
      fileStorageDir: "/tmp/f",
      sharedFileStorageDir: "/tmp/s",
      osSearchPath: [],
    }),
  );
  const queue = await JobQueue.open({
    store,
    config,
    rpc: {} as RpcRunner,
    allocator: { run: async () => ({}) },
    registry: { OP_T_GATE: LUGate, OP_T_OTHER: LUGate },
  });
  return { queue, gates, config };
}

const gate = (name: string, opId = "OP_T_GATE"): OpcodeInput => ({ OP_ID: opId, name });

describe("JobQueue with filter rules", () => {
  it("REJECT cancels the matching queued job (status canceled, empty result) and lets others run", async () => {
    const { queue, gates, config } = await makeQueue();
    const r = rule("REJECT", [["opcode", ["=", "OP_ID", "OP_T_OTHER"]]]);
    config.data.filters[r.uuid] = r;
    const rejected = await queue.submit([gate("x", "OP_T_OTHER"), gate("y")]);
    const ok = await queue.submit([gate("ok")]);
    const rec = (await queue.getJob(rejected))!;
    await queue.waitForChange(rejected, ["status"], ["queued"], null, 5000);
    expect(queue.jobFields(rec, ["status", "opstatus", "opresult"])).toEqual(["canceled", ["canceled", "canceled"], [null, null]]);
    expect(rec.end_timestamp).not.toBeNull();
    await gates.startedCount(1);
    gates.open("ok");
    await queue.whenIdle();
    expect(queue.jobFields((await queue.getJob(ok))!, ["status"])).toEqual(["success"]);
    expect(gates.started).toEqual(["ok"]);
  });

  it("PAUSE keeps a job queued until the rule goes; a higher-priority ACCEPT wins", async () => {
    const { queue, gates, config } = await makeQueue();
    const pause = rule("PAUSE", [["jobid", [">", "id", "watermark"]]], 10);
    config.data.filters[pause.uuid] = pause;
    const accept = rule("ACCEPT", [["opcode", ["=", "name", "vip"]]], 0);
    config.data.filters[accept.uuid] = accept;
    const paused = await queue.submit([gate("p")]);
    await queue.submit([gate("vip")]);
    await gates.startedCount(1);
    expect(gates.started).toEqual(["vip"]);
    expect(queue.jobFields((await queue.getJob(paused))!, ["status"])).toEqual(["queued"]);
    delete config.data.filters[pause.uuid];
    queue.filtersChanged();
    await gates.startedCount(2);
    gates.open("vip");
    gates.open("p");
    await queue.whenIdle();
    expect(queue.jobFields((await queue.getJob(paused))!, ["status"])).toEqual(["success"]);
  });

  it("RATE_LIMIT n runs at most n matching jobs at a time", async () => {
    const { queue, gates, config } = await makeQueue();
    const limit = rule(["RATE_LIMIT", 1], [["opcode", ["=", "OP_ID", "OP_T_GATE"]]]);
    config.data.filters[limit.uuid] = limit;
    await queue.submit([gate("a")]);
    await queue.submit([gate("b")]);
    await queue.submit([gate("other", "OP_T_OTHER")]);
    await gates.startedCount(2);
    expect(gates.started.sort()).toEqual(["a", "other"]);
    gates.open("a");
    await gates.startedCount(3);
    expect(gates.started[2]).toBe("b");
    gates.open("b");
    gates.open("other");
    await queue.whenIdle();
  });
});

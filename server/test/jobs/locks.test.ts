import { describe, expect, it } from "vitest";
import { LockManager } from "../../src/jobs/locks.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("LockManager", () => {
  it("lets disjoint exclusive locks run together and serialises conflicting ones", async () => {
    const lm = new LockManager();
    await lm.acquire("1", "instance", { names: ["a"], shared: false });
    await lm.acquire("2", "instance", { names: ["b"], shared: false });
    let got3 = false;
    const p3 = lm.acquire("3", "instance", { names: ["a", "c"], shared: false }).then(() => (got3 = true));
    await tick();
    expect(got3).toBe(false);
    expect(lm.held("3", "instance")).toEqual([]); // all-or-nothing: c not taken while a is busy
    lm.releaseAll("1");
    await p3;
    expect(lm.held("3", "instance")).toEqual(["a", "c"]);
  });

  it("shares shared locks and makes exclusive wait for all sharers", async () => {
    const lm = new LockManager();
    await lm.acquire("1", "node", { names: ["n1"], shared: true });
    await lm.acquire("2", "node", { names: ["n1"], shared: true });
    let ex = false;
    const p = lm.acquire("3", "node", { names: ["n1"], shared: false }).then(() => (ex = true));
    lm.releaseAll("1");
    await tick();
    expect(ex).toBe(false);
    lm.releaseAll("2");
    await p;
    expect(ex).toBe(true);
  });

  it("a whole-level lock conflicts with object locks", async () => {
    const lm = new LockManager();
    await lm.acquire("1", "node", { names: ["n1"], shared: false });
    let all = false;
    const p = lm.acquire("2", "node", { names: "all", shared: false }).then(() => (all = true));
    await tick();
    expect(all).toBe(false);
    lm.releaseAll("1");
    await p;
    let one = false;
    const q = lm.acquire("3", "node", { names: ["n2"], shared: true }).then(() => (one = true));
    await tick();
    expect(one).toBe(false);
    lm.releaseAll("2");
    await q;
    expect(one).toBe(true);
  });

  it("serves higher priority (lower value) waiters first", async () => {
    const lm = new LockManager();
    await lm.acquire("0", "instance", { names: ["x"], shared: false });
    const order: string[] = [];
    const low = lm.acquire("low", "instance", { names: ["x"], shared: false }, { priority: 10 }).then(() => {
      order.push("low");
      lm.releaseAll("low");
    });
    const high = lm.acquire("high", "instance", { names: ["x"], shared: false }, { priority: -10 }).then(() => {
      order.push("high");
      lm.releaseAll("high");
    });
    lm.releaseAll("0");
    await Promise.all([low, high]);
    expect(order).toEqual(["high", "low"]);
  });

  it("aborting a waiter rejects it and lets others go", async () => {
    const lm = new LockManager();
    await lm.acquire("1", "instance", { names: ["x"], shared: false });
    const ac = new AbortController();
    const p = lm.acquire("2", "instance", { names: ["x"], shared: false }, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toThrow(/canceled/);
    expect(lm.snapshot()).toEqual([{ name: "instance/x", mode: "exclusive", owners: ["1"] }]);
  });
});

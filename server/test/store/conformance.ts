// Behaviour every Store implementation must have.
import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";

export interface StoreUnderTest {
  store: Store;
  cleanup: () => Promise<void>;
  /** A second store on the same data, as after a restart (persistent stores). */
  reopen?: () => Promise<Store>;
}

export function storeConformance(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`Store conformance: ${name}`, () => {
    it("puts, gets, overwrites and deletes", async () => {
      const { store, cleanup } = await make();
      try {
        expect(await store.get("a")).toBeNull();
        await store.put("a", "one");
        expect((await store.get("a"))!.toString()).toBe("one");
        await store.put("a", Buffer.from("two"));
        expect((await store.get("a"))!.toString()).toBe("two");
        await store.delete("a");
        expect(await store.get("a")).toBeNull();
        await store.delete("a"); // deleting a missing key is fine
      } finally {
        await cleanup();
      }
    });

    it("lists by prefix, sorted, across nested keys", async () => {
      const { store, cleanup } = await make();
      try {
        await store.put("queue/job-2", "b");
        await store.put("queue/job-10", "c");
        await store.put("queue/job-1", "a");
        await store.put("other", "x");
        expect(await store.list("queue/job-")).toEqual(["queue/job-1", "queue/job-10", "queue/job-2"]);
        expect(await store.list("nothing/")).toEqual([]);
      } finally {
        await cleanup();
      }
    });

    it("lists nested keys under a prefix", async () => {
      const { store, cleanup } = await make();
      try {
        await store.put("archive/0/job-7", "a");
        await store.put("archive/1/job-10001", "b");
        await store.put("archived", "c");
        expect(await store.list("archive/")).toEqual(["archive/0/job-7", "archive/1/job-10001"]);
        expect(await store.list("arch")).toEqual(["archive/0/job-7", "archive/1/job-10001", "archived"]);
      } finally {
        await cleanup();
      }
    });

    it("commits several puts and deletes at once, visible to get, list and scan", async () => {
      const { store, cleanup } = await make();
      try {
        await store.put("cfg/old", "gone soon");
        await store.commit([
          { op: "put", key: "cfg/a", value: "A" },
          { op: "put", key: "cfg/b", value: Buffer.from("B") },
          { op: "delete", key: "cfg/old" },
          { op: "delete", key: "cfg/never-there" },
        ]);
        expect(await store.list("cfg/")).toEqual(["cfg/a", "cfg/b"]);
        expect((await store.get("cfg/a"))!.toString()).toBe("A");
        expect(await store.get("cfg/old")).toBeNull();
        await store.commit([{ op: "put", key: "cfg/a", value: "A2" }]);
        // plain writes of a committed key stay in order with commits
        await store.put("cfg/b", "B2");
        await store.delete("cfg/a");
        const scanned = (await store.scan("cfg/")).map(([k, v]) => [k, v.toString()]);
        expect(scanned).toEqual([["cfg/b", "B2"]]);
        await store.commit([]);
      } finally {
        await cleanup();
      }
    });

    it("commits nothing when a key is invalid", async () => {
      const { store, cleanup } = await make();
      try {
        await expect(
          store.commit([
            { op: "put", key: "ok", value: "1" },
            { op: "put", key: "../bad", value: "2" },
          ]),
        ).rejects.toThrow(/invalid store key/);
        expect(await store.get("ok")).toBeNull();
      } finally {
        await cleanup();
      }
    });

    it("keeps committed values across a reopen", async () => {
      const { store, cleanup, reopen } = await make();
      try {
        await store.commit([
          { op: "put", key: "cfg/x", value: "1" },
          { op: "put", key: "cfg/y", value: "2" },
        ]);
        await store.commit([{ op: "delete", key: "cfg/x" }]);
        await store.rename("cfg/y", "cfg/z");
        const again = reopen ? await reopen() : store;
        expect(await again.list("cfg/")).toEqual(["cfg/z"]);
        expect((await again.get("cfg/z"))!.toString()).toBe("2");
      } finally {
        await cleanup();
      }
    });

    it("renames atomically into another folder", async () => {
      const { store, cleanup } = await make();
      try {
        await store.put("queue/job-7", "seven");
        await store.rename("queue/job-7", "archive/0/job-7");
        expect(await store.get("queue/job-7")).toBeNull();
        expect((await store.get("archive/0/job-7"))!.toString()).toBe("seven");
      } finally {
        await cleanup();
      }
    });

    it("rejects keys that could escape the store", async () => {
      const { store, cleanup } = await make();
      try {
        await expect(store.put("../x", "no")).rejects.toThrow(/invalid store key/);
        await expect(store.put("a//b", "no")).rejects.toThrow(/invalid store key/);
        await expect(store.get("/etc/passwd")).rejects.toThrow(/invalid store key/);
      } finally {
        await cleanup();
      }
    });

    it("keeps concurrent writes of different keys", async () => {
      const { store, cleanup } = await make();
      try {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`k/${i}`, String(i))));
        expect((await store.list("k/")).length).toBe(50);
      } finally {
        await cleanup();
      }
    });
  });
}

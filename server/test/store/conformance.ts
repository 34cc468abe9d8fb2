// Behaviour every Store implementation must have.
import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";

export function storeConformance(name: string, make: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
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

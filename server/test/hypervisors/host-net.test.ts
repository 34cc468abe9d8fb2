import { describe, expect, it } from "vitest";
import { HostNetwork } from "../../src/hypervisors/host-net.js";

describe("HostNetwork.bridges", () => {
  it("shares one read among concurrent callers and never answers from a read that started before the call", async () => {
    const net = new HostNetwork(null);
    let reads = 0;
    let release: (() => void) | null = null;
    // Stand-in for the kernel listing: each read blocks until released.
    (net as unknown as { readBridges: () => Promise<Set<string>> }).readBridges = async () => {
      const n = ++reads;
      await new Promise<void>((r) => (release = r));
      return new Set([`br${n}`]);
    };
    const first = net.bridges();
    await Promise.resolve();
    // Arrive while the first read is in flight: all share the next one.
    const waiting = [net.bridges(), net.bridges(), net.bridges()];
    expect(reads).toBe(1);
    release!();
    expect([...(await first)]).toEqual(["br1"]);
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(2);
    release!();
    for (const w of await Promise.all(waiting)) expect([...w]).toEqual(["br2"]);
    // Idle again: the next call reads afresh.
    const later = net.bridges();
    await Promise.resolve();
    expect(reads).toBe(3);
    release!();
    expect([...(await later)]).toEqual(["br3"]);
  });
});

// The runtime's engine watch, driven by hand (no timers, sockets or processes).
import { describe, expect, it } from "vitest";
import { engineAddressOf, watchEngine, type EngineWatchDeps } from "../../src/core/engine-watch.js";

function fakeDeps(ppids: number[], probes: boolean[]) {
  const exits: string[] = [];
  const probed: string[] = [];
  let tick: (() => void) | undefined;
  let stopped = false;
  const deps: EngineWatchDeps = {
    ppid: () => (ppids.length > 1 ? ppids.shift()! : ppids[0]!),
    probe: async (host, port) => {
      probed.push(`${host}:${port}`);
      return probes.length ? probes.shift()! : true;
    },
    exit: (reason) => void exits.push(reason),
    every: (_ms, fn) => {
      tick = fn;
      return { stop: () => void (stopped = true) };
    },
  };
  const step = async () => {
    tick!();
    await new Promise((r) => setImmediate(r));
  };
  return { deps, exits, probed, step, isStopped: () => stopped };
}

describe("engineAddressOf", () => {
  it("finds the engine address only in Pulumi's dynamic-provider host", () => {
    const host = "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider";
    expect(engineAddressOf(["node", `${host}/index.js`, "127.0.0.1:40123"])).toEqual({ host: "127.0.0.1", port: 40123 });
    expect(engineAddressOf(["node", host, "[::1]:5"])).toEqual({ host: "::1", port: 5 });
    expect(engineAddressOf(["node", "/p/node_modules/vitest/vitest.mjs", "127.0.0.1:40123"])).toBeUndefined();
    expect(engineAddressOf(["node", `${host}/index.js`])).toBeUndefined();
  });
});

describe("watchEngine", () => {
  it("keeps running while the engine answers; exits after two refusals in a row", async () => {
    const f = fakeDeps([100], [true, false, true, false, false]);
    watchEngine({ host: "127.0.0.1", port: 7 }, f.deps);
    for (let i = 0; i < 4; i++) await f.step();
    expect(f.exits).toEqual([]);
    await f.step();
    expect(f.exits).toEqual(["the Pulumi engine at 127.0.0.1:7 is gone"]);
    expect(f.isStopped()).toBe(true);
    expect(f.probed).toHaveLength(5);
  });

  it("exits at once when the process is reparented (the engine died)", async () => {
    const f = fakeDeps([100, 100, 1], []);
    watchEngine({ host: "127.0.0.1", port: 7 }, f.deps);
    await f.step();
    expect(f.exits).toEqual([]);
    await f.step();
    expect(f.exits).toEqual(["the Pulumi engine (pid 100) is gone"]);
    await f.step();
    expect(f.exits).toHaveLength(1);
  });

  it("stop() ends the watch", async () => {
    const f = fakeDeps([100], [false, false]);
    const w = watchEngine({ host: "127.0.0.1", port: 7 }, f.deps);
    w.stop();
    await f.step();
    await f.step();
    expect(f.exits).toEqual([]);
  });
});

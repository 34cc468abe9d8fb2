import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeHypervisor } from "../../src/hypervisors/fake/fake-hypervisor.js";
import type { HvNodeInfo } from "../../src/hypervisors/hypervisor.js";
import { HypervisorError } from "../../src/lib/errors.js";
import { rpcInstance, tempDir } from "../noded/fixtures.js";

const host: HvNodeInfo = {
  memory_total: 4096,
  memory_dom0: 1024,
  memory_free: 3072,
  cpu_total: 4,
  cpu_nodes: 1,
  cpu_sockets: 1,
  cpu_dom0: 4,
};

describe("FakeHypervisor", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let now: number;
  let hv: FakeHypervisor;
  const make = () => new FakeHypervisor({ stateDir: path.join(dir, "fake"), host: async () => host, clock: () => now });

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    now = 1_700_000_000_000;
    hv = make();
  });
  afterEach(() => cleanup());

  it("starts, lists, reports and stops an instance", async () => {
    const inst = rpcInstance();
    await hv.start(inst, [], false);
    expect(await hv.listInstances()).toEqual([inst.name]);
    now += 42_000;
    expect(await hv.instanceInfo(inst.name)).toEqual({ name: inst.name, memory: 512, vcpus: 2, state: "running", time: 42 });
    await hv.stop(inst, { force: false, timeout: 10 });
    expect(await hv.listInstances()).toEqual([]);
    expect(await hv.instanceInfo(inst.name)).toBeNull();
  });

  it("refuses to start a running instance and to stop a stopped one (as hv_fake)", async () => {
    const inst = rpcInstance();
    await hv.start(inst, [], false);
    await expect(hv.start(inst, [], false)).rejects.toThrow(/already running/);
    await hv.stop(inst, { force: false, timeout: 1 });
    await expect(hv.stop(inst, { force: false, timeout: 1 })).rejects.toBeInstanceOf(HypervisorError);
  });

  it("keeps state on disk: a new object (daemon restart) sees running instances", async () => {
    await hv.start(rpcInstance({ name: "a" }), [{ uuid: "d0", path: "/x/d0", mode: "rw" }], true);
    const again = make();
    expect(await again.listInstances()).toEqual(["a"]);
    expect((await again.instanceInfo("a"))?.state).toBe("paused");
    const files = await readdir(path.join(dir, "fake"));
    expect(files).toEqual(["a.json"]);
    const st = JSON.parse(await readFile(path.join(dir, "fake", "a.json"), "utf8"));
    expect(st.disks).toEqual([{ uuid: "d0", path: "/x/d0", mode: "rw" }]);
  });

  it("subtracts running instances from free memory and starts with what fits", async () => {
    await hv.start(rpcInstance({ name: "a", beparams: { maxmem: 2048, minmem: 1024, vcpus: 1 } }), [], false);
    expect((await hv.nodeInfo(host)).memory_free).toBe(1024);
    // maxmem 2048 does not fit in 1024 free: started ballooned down to the free memory.
    await hv.start(rpcInstance({ name: "b", beparams: { maxmem: 2048, minmem: 512, vcpus: 1 } }), [], false);
    expect((await hv.instanceInfo("b"))?.memory).toBe(1024);
    expect((await hv.nodeInfo(host)).memory_free).toBe(0);
    await expect(hv.start(rpcInstance({ name: "c", beparams: { maxmem: 256, minmem: 128, vcpus: 1 } }), [], false)).rejects.toThrow(
      /Not enough memory to start instance c: needed 128 MiB, available 0 MiB/,
    );
    expect(await hv.listInstances()).toEqual(["a", "b"]);
  });

  it("balloons a running instance only", async () => {
    const inst = rpcInstance();
    await expect(hv.balloon(inst, 300)).rejects.toThrow(/not running/);
    await hv.start(inst, [], false);
    await hv.balloon(inst, 300);
    expect((await hv.instanceInfo(inst.name))?.memory).toBe(300);
  });

  it("migrates: accept refuses a running instance; finalize moves the runtime state", async () => {
    const src = hv;
    const dst = new FakeHypervisor({ stateDir: path.join(dir, "fake-dst"), host: async () => host, clock: () => now });
    const inst = rpcInstance();
    await src.start(inst, [], false);
    await expect(src.acceptInstance(inst)).rejects.toThrow(/already running/);
    await dst.acceptInstance(inst);
    await src.migrate(inst);
    await dst.finalizeMigrationDst(inst, true);
    await src.finalizeMigrationSrc(inst, true);
    expect(await src.listInstances()).toEqual([]);
    expect(await dst.listInstances()).toEqual([inst.name]);
    // A failed migration leaves the source running and the target clean.
    await dst.finalizeMigrationDst(inst, false);
    expect(await dst.listInstances()).toEqual([]);
  });

  it("rejects instance names that could escape the state dir", async () => {
    await expect(hv.start(rpcInstance({ name: "../evil" }), [], false)).rejects.toThrow(/Invalid instance name/);
  });

  it("answers console info with a message", () => {
    expect(hv.console(rpcInstance())).toEqual({
      instance: "inst1.example.com",
      kind: "msg",
      message: "Console not available for fake hypervisor",
    });
  });

  it("serialises concurrent starts of the same instance", async () => {
    const inst = rpcInstance();
    const results = await Promise.allSettled([hv.start(inst, [], false), hv.start(inst, [], false)]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
  });
});

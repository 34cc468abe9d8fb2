import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RpcError } from "../../src/lib/errors.js";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { InMemoryRpcRunner } from "../../src/rpc/in-memory-runner.js";
import { nodeObject, rpcInstance, tempDir } from "../noded/fixtures.js";

describe("InMemoryRpcRunner", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let runner: InMemoryRpcRunner;
  const n1 = nodeObject({ uuid: "u1", name: "node1" });
  const n2 = nodeObject({ uuid: "u2", name: "node2" });
  const off = nodeObject({ uuid: "u3", name: "node3", offline: true });
  const gone = nodeObject({ uuid: "u4", name: "node4" });

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    runner = new InMemoryRpcRunner(
      new Map([
        ["u1", new NodeBackend({ dataDir: path.join(dir, "n1"), nodeName: "node1", overrides: { memoryTotal: 4096 } })],
        ["u2", new NodeBackend({ dataDir: path.join(dir, "n2"), nodeName: "node2", overrides: { memoryTotal: 1024 } })],
        ["u3", new NodeBackend({ dataDir: path.join(dir, "n3"), nodeName: "node3" })],
      ]),
    );
  });
  afterEach(() => cleanup());

  it("calls a node and returns the parsed result", async () => {
    expect(await runner.call(n1, "version", {})).toEqual({ protocol_version: 3000000, software_version: "3.0.2" });
    await runner.call(n1, "instance_start", { instance: rpcInstance(), startup_paused: false });
    expect(await runner.call(n1, "instance_list", { hypervisors: ["fake"] })).toEqual(["inst1.example.com"]);
  });

  it("maps node failures to RpcError(node, call, message)", async () => {
    const err = await runner
      .call(n2, "instance_start", { instance: rpcInstance({ beparams: { maxmem: 2048, minmem: 2048, vcpus: 1 } }), startup_paused: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ node: "node2", call: "instance_start" });
    expect((err as Error).message).toMatch(/^Hypervisor error: Not enough memory/);
  });

  it("never contacts offline nodes; unknown nodes are unreachable", async () => {
    await expect(runner.call(off, "version", {})).rejects.toThrow("Node is marked offline");
    await expect(runner.call(gone, "version", {})).rejects.toThrow(/not reachable/);
    const res = await runner.callMany([n1, n2, off, gone], "node_info", { storage_units: [], hypervisor: "fake", hvparams: {} });
    expect(res.get("u1")).toMatchObject({ ok: true, result: { name: "node1", memory_total: 4096 } });
    expect(res.get("u2")).toMatchObject({ ok: true, result: { name: "node2", memory_total: 1024 } });
    expect(res.get("u3")).toEqual({ ok: false, error: "Node is marked offline", offline: true });
    expect(res.get("u4")).toMatchObject({ ok: false, offline: false });
  });

  it("passes arguments through JSON like the wire does", async () => {
    // undefined fields vanish on the wire; the backend's schema then rejects them.
    await expect(runner.call(n1, "test_delay", { duration: undefined as unknown as number })).rejects.toThrow(
      /Invalid arguments for test_delay/,
    );
  });
});

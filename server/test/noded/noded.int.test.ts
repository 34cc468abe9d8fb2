// Two real node daemons on 127.0.0.1, called over HTTPS with the cluster
// certificate; strangers (no certificate, another certificate) are refused.
import { readFile, stat, writeFile, mkdir } from "node:fs/promises";
import https from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeObject } from "@ganeti-ts/schema";
import { generateClusterCert, parseCertPem, writeCert, type ClusterCert } from "../../src/lib/certs.js";
import { RpcError } from "../../src/lib/errors.js";
import { startNodeDaemon, type NodeDaemon } from "../../src/noded/main.js";
import { HttpsRpcRunner } from "../../src/rpc/https-runner.js";
import { fileDisk, nodeObject, rpcInstance, tempDir } from "./fixtures.js";

const MiB = 1024 * 1024;

async function prepareDataDir(dir: string, cert: ClusterCert, memoryTotal: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeCert(path.join(dir, "server.pem"), cert.pem);
  await writeFile(path.join(dir, "noded.json"), JSON.stringify({ memory_total: memoryTotal, cpu_total: 4 }));
}

/** A raw HTTPS POST with the given client identity (or none). */
function rawPost(port: number, call: string, opts: { cert?: string; key?: string; ca: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: `/${call}`,
        method: "POST",
        ca: [opts.ca],
        cert: opts.cert,
        key: opts.key,
        checkServerIdentity: () => undefined,
        agent: false,
      },
      (res) => {
        let data = "";
        res.on("data", (c) => (data += c));
        res.on("end", () => resolve(data));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

describe("node daemon over HTTPS", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let cert: ClusterCert;
  let stranger: ClusterCert;
  const daemons: NodeDaemon[] = [];
  let runner: HttpsRpcRunner;
  let node1: NodeObject;
  let node2: NodeObject;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    [cert, stranger] = await Promise.all([generateClusterCert("cluster.example.com"), generateClusterCert("cluster.example.com")]);
    await prepareDataDir(path.join(dir, "n1"), cert, 4096);
    await prepareDataDir(path.join(dir, "n2"), cert, 2048);
    daemons.push(await startNodeDaemon({ dataDir: path.join(dir, "n1"), address: "127.0.0.1", port: 0, nodeName: "node1" }));
    daemons.push(await startNodeDaemon({ dataDir: path.join(dir, "n2"), address: "127.0.0.1", port: 0, nodeName: "node2" }));
    node1 = nodeObject({ uuid: "u1", name: "node1", rpc_port: daemons[0]!.port });
    node2 = nodeObject({ uuid: "u2", name: "node2", rpc_port: daemons[1]!.port });
    runner = new HttpsRpcRunner({ certPem: cert.pem });
  });

  afterAll(async () => {
    await runner?.close();
    for (const d of daemons) await d.close();
    await cleanup();
  });

  it("answers version and node_info on both nodes", async () => {
    const res = await runner.callMany([node1, node2], "version", {});
    expect(res.get("u1")).toEqual({ ok: true, result: { protocol_version: 3000000, software_version: "3.0.2" } });
    expect(res.get("u2")?.ok).toBe(true);
    const info = await runner.call(node2, "node_info", {
      storage_units: [{ type: "file", name: path.join(dir, "n2", "file-storage") }],
      hypervisor: "fake",
      hvparams: {},
    });
    expect(info).toMatchObject({ name: "node2", memory_total: 2048, memory_free: 2048, cpu_total: 4 });
    expect(info.storage[0]!.storage_size).toBeGreaterThan(0);
  });

  it("writes a pid file and a log", async () => {
    expect((await readFile(path.join(dir, "n1", "noded.pid"), "utf8")).trim()).toBe(String(process.pid));
    await runner.call(node1, "version", {});
    expect(await readFile(path.join(dir, "n1", "log", "noded.log"), "utf8")).toMatch(/POST \/version 200 \d+ms ok/);
  });

  it("starts, lists and stops a fake instance", async () => {
    const inst = rpcInstance({ name: "web1", beparams: { maxmem: 1024, minmem: 1024, vcpus: 1 } });
    await runner.call(node1, "instance_start", { instance: inst, startup_paused: false });
    expect(await runner.call(node1, "instance_list", { hypervisors: ["fake"] })).toEqual(["web1"]);
    expect(await runner.call(node2, "instance_list", { hypervisors: ["fake"] })).toEqual([]);
    const info = await runner.call(node1, "node_info", { storage_units: [], hypervisor: "fake", hvparams: {} });
    expect(info.memory_free).toBe(3072);
    await runner.call(node1, "instance_shutdown", { instance: inst, timeout: 10 });
    expect(await runner.call(node1, "instance_list", { hypervisors: ["fake"] })).toEqual([]);
  });

  it("creates, grows and removes real sparse files", async () => {
    const file = path.join(dir, "n2", "file-storage", "web1", "disk0");
    const disk = fileDisk(file, 128);
    expect(await runner.call(node2, "blockdev_create", { disk, owner: "web1", on_primary: true })).toBe(file);
    expect((await stat(file)).size).toBe(128 * MiB);
    await runner.call(node2, "blockdev_grow", { disk, amount: 128, dryrun: false });
    expect(await runner.call(node2, "blockdev_getsizes", { disks: [disk] })).toEqual([256]);
    await runner.call(node2, "blockdev_remove", { disk });
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it("turns node failures into RpcError with the node's message", async () => {
    const err = await runner
      .call(node1, "instance_reboot", { instance: rpcInstance({ name: "ghost" }), reboot_type: "soft", shutdown_timeout: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ node: "node1", call: "instance_reboot", message: "Cannot reboot instance ghost that is not running" });
  });

  it("does not contact offline nodes and reports unreachable ones", async () => {
    const offline = { ...node1, uuid: "u3", offline: true };
    const dead = nodeObject({ uuid: "u4", name: "node4", rpc_port: 1 });
    await expect(runner.call(offline, "version", {})).rejects.toThrow("Node is marked offline");
    const res = await runner.callMany([node1, offline, dead], "version", {});
    expect(res.get("u1")?.ok).toBe(true);
    expect(res.get("u3")).toEqual({ ok: false, error: "Node is marked offline", offline: true });
    expect(res.get("u4")).toMatchObject({ ok: false, offline: false });
    expect((res.get("u4") as { error: string }).error).toMatch(/Error while contacting node node4 \(127\.0\.0\.1:1\)/);
  });

  it("gives up on a call after its (scaled) timeout", async () => {
    // test_delay's table timeout is 3600 s; scaled down it expires long before the 5 s delay ends.
    const impatient = new HttpsRpcRunner({ certPem: cert.pem, timeoutScale: 0.0001 });
    try {
      const err = await impatient.call(node1, "test_delay", { duration: 5 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect((err as Error).message).toMatch(/Error while contacting node node1 .*timeout/i);
    } finally {
      await impatient.close();
    }
  });

  it("rejects a client without the cluster certificate", async () => {
    const { cert: c } = parseCertPem(cert.pem);
    await expect(rawPost(daemons[0]!.port, "version", { ca: c })).rejects.toThrow(/certificate required|ECONNRESET|socket hang up/i);
    const good = await rawPost(daemons[0]!.port, "version", { ca: c, ...parseCertPem(cert.pem) });
    expect(JSON.parse(good)).toMatchObject({ ok: true });
  });

  it("rejects a client with another self-signed certificate", async () => {
    const { cert: c } = parseCertPem(cert.pem);
    await expect(rawPost(daemons[0]!.port, "version", { ca: c, ...parseCertPem(stranger.pem) })).rejects.toThrow();
    // A master holding another cluster's certificate cannot talk to these nodes either.
    const foreign = new HttpsRpcRunner({ certPem: stranger.pem });
    try {
      await expect(foreign.call(node1, "version", {})).rejects.toBeInstanceOf(RpcError);
    } finally {
      await foreign.close();
    }
  });

  it("keeps fake instances across a daemon restart", async () => {
    const inst = rpcInstance({ name: "db1", beparams: { maxmem: 512, minmem: 512, vcpus: 2 } });
    await runner.call(node2, "instance_start", { instance: inst, startup_paused: false });
    await daemons[1]!.close();
    await expect(stat(path.join(dir, "n2", "noded.pid"))).rejects.toThrow(/ENOENT/);
    const again = await startNodeDaemon({ dataDir: path.join(dir, "n2"), address: "127.0.0.1", port: 0, nodeName: "node2" });
    daemons[1] = again;
    const restarted = { ...node2, rpc_port: again.port };
    expect(await runner.call(restarted, "instance_list", { hypervisors: ["fake"] })).toEqual(["db1"]);
    expect(await runner.call(restarted, "instance_info", { instance: "db1", hypervisor: "fake" })).toMatchObject({
      memory: 512,
      vcpus: 2,
      state: "running",
    });
    expect(await readFile(path.join(dir, "n2", "log", "noded.log"), "utf8")).toMatch(/reattached to 1 running instance\(s\): db1/);
  });

  it("refuses a second daemon on the same data directory", async () => {
    await expect(startNodeDaemon({ dataDir: path.join(dir, "n1"), address: "127.0.0.1", port: 0 })).rejects.toThrow(
      /already runs for this data directory/,
    );
  });
});

// The node daemon as a separate process (cli-entry.ts): SIGKILL in the middle
// of a call loses nothing that was acknowledged; SIGTERM stops it cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, stat, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateClusterCert, writeCert } from "../../src/lib/certs.js";
import { RpcError } from "../../src/lib/errors.js";
import { HttpsRpcRunner } from "../../src/rpc/https-runner.js";
import { fileDisk, nodeObject, rpcInstance, tempDir } from "./fixtures.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const ENTRY = path.join(REPO_ROOT, "server/src/noded/cli-entry.ts");

interface Child {
  proc: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startChild(dataDir: string): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", ENTRY, "--data-dir", dataDir, "--address", "127.0.0.1", "--port", "0", "--node-name", "node1"],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let stderr = "";
  proc.stderr!.on("data", (c) => (stderr += c));
  const lines = createInterface({ input: proc.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    void exited.then((e) => reject(new Error(`node daemon exited early (${e.code ?? e.signal}): ${stderr}`)));
  });
  return { proc, port, exited };
}

/** Wait until `cond` holds, checking every 20 ms (no timing assumptions: bounded only by the test timeout). */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await delay(20);
}

describe("node daemon process", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let certPem: string;
  let runner: HttpsRpcRunner;
  const children: Child[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    certPem = (await generateClusterCert("cluster.example.com")).pem;
    await mkdir(dir, { recursive: true });
    await writeCert(path.join(dir, "server.pem"), certPem);
    await writeFile(path.join(dir, "noded.json"), JSON.stringify({ memory_total: 4096 }));
    // The node's file storage allow-list: its disks live in <dir>/storage.
    await writeFile(path.join(dir, "file-storage-paths"), `${path.join(dir, "storage")}\n`);
    runner = new HttpsRpcRunner({ certPem });
  });

  afterAll(async () => {
    await runner?.close();
    for (const c of children) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill("SIGKILL");
        await c.exited;
      }
    }
    await cleanup();
  });

  it("survives SIGKILL during a call with instance and disk state intact", async () => {
    const first = await startChild(dir);
    children.push(first);
    const node = nodeObject({ uuid: "u1", name: "node1", rpc_port: first.port });
    expect((await readFile(path.join(dir, "noded.pid"), "utf8")).trim()).toBe(String(first.proc.pid));

    const disk = fileDisk(path.join(dir, "storage", "vm1", "disk0"), 256);
    await runner.call(node, "blockdev_create", { disk, owner: "vm1", on_primary: true });
    const inst = rpcInstance({ name: "vm1", disks: [disk], disk_template: "file", beparams: { maxmem: 1024, minmem: 1024, vcpus: 2 } });
    await runner.call(node, "instance_start", { instance: inst, startup_paused: false });

    const delayed = runner.call(node, "test_delay", { duration: 600 }).then(
      () => new Error("test_delay should not complete"),
      (e: unknown) => e,
    );
    const log = path.join(dir, "log", "noded.log");
    await waitFor(async () => (await readFile(log, "utf8").catch(() => "")).includes("POST /test_delay begin"));
    first.proc.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const err = await delayed;
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ node: "node1", call: "test_delay" });

    // The stale pid file names a dead process: the restart takes over.
    const second = await startChild(dir);
    children.push(second);
    const node2 = { ...node, rpc_port: second.port };
    expect((await readFile(path.join(dir, "noded.pid"), "utf8")).trim()).toBe(String(second.proc.pid));
    expect(await runner.call(node2, "instance_list", { hypervisors: ["fake"] })).toEqual(["vm1"]);
    expect(await runner.call(node2, "instance_info", { instance: "vm1", hypervisor: "fake" })).toMatchObject({
      memory: 1024,
      vcpus: 2,
      state: "running",
    });
    expect(await runner.call(node2, "blockdev_getsizes", { disks: [disk] })).toEqual([256]);
    const info = await runner.call(node2, "node_info", { storage_units: [], hypervisor: "fake", hvparams: {} });
    expect(info.memory_free).toBe(3072);

    // SIGTERM: graceful stop, pid file removed, exit code 0.
    second.proc.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await expect(stat(path.join(dir, "noded.pid"))).rejects.toThrow(/ENOENT/);
    expect(await readFile(log, "utf8")).toMatch(/received SIGTERM, shutting down[\s\S]*node daemon stopped/);
  });
});

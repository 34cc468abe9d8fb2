import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RPC_CALLS } from "@ganeti-ts/schema";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { RpcArgsError, UnknownRpcCallError } from "../../src/noded/backend/errors.js";
import { fileDisk, rpcInstance, tempDir } from "./fixtures.js";

const MiB = 1024 * 1024;

describe("NodeBackend", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let now: number;
  let slept: number[];
  let backend: NodeBackend;
  const make = (extra: Partial<ConstructorParameters<typeof NodeBackend>[0]> = {}) =>
    new NodeBackend({
      dataDir: dir,
      nodeName: "node1.example.com",
      overrides: { memoryTotal: 8192, memoryDom0: 1024, cpuTotal: 4 },
      clock: () => now,
      sleep: async (ms) => void slept.push(ms),
      // The file disks of these tests live in the temp dir.
      fileStoragePaths: [dir],
      ...extra,
    });

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    now = 1_700_000_000_000;
    slept = [];
    backend = make();
  });
  afterEach(() => cleanup());

  it("answers version", async () => {
    expect(await backend.handle("version", {})).toEqual({ protocol_version: 3000000, software_version: "3.0.2" });
  });

  it("rejects unknown calls and bad arguments with typed errors", async () => {
    await expect(backend.handle("no_such_call", {})).rejects.toBeInstanceOf(UnknownRpcCallError);
    await expect(backend.handle("instance_start", { instance: {} })).rejects.toBeInstanceOf(RpcArgsError);
    await expect(backend.handle("test_delay", { duration: "soon" })).rejects.toThrow(/Invalid arguments for test_delay/);
  });

  it("reports overridden memory/CPUs, minus running fake instances, and file storage", async () => {
    const storageDir = path.join(dir, "file-storage");
    const info = async () =>
      (await backend.handle("node_info", {
        storage_units: [
          { type: "file", name: storageDir },
          { type: "diskless", name: "" },
        ],
        hypervisor: "fake",
        hvparams: {},
      })) as Record<string, unknown>;
    const before = await info();
    expect(before).toMatchObject({
      name: "node1.example.com",
      memory_total: 8192,
      memory_dom0: 1024,
      memory_free: 7168,
      cpu_total: 4,
      cpu_nodes: 1,
      cpu_sockets: 1,
      cpu_dom0: 4,
    });
    expect(typeof before["bootid"]).toBe("string");
    const storage = before["storage"] as { type: string; storage_size: number | null; storage_free: number | null }[];
    expect(storage[0]!.storage_size).toBeGreaterThan(0);
    expect(storage[1]).toEqual({ type: "diskless", name: "", storage_size: null, storage_free: null });
    await backend.handle("instance_start", {
      instance: rpcInstance({ beparams: { maxmem: 2048, minmem: 2048, vcpus: 1 } }),
      startup_paused: false,
    });
    expect((await info())["memory_free"]).toBe(5120);
  });

  it("reads <dataDir>/noded.json; options win", async () => {
    await writeFile(
      path.join(dir, "noded.json"),
      JSON.stringify({ memory_total: 4096, cpu_total: 2, storage_size: { file: 10240 }, bootid: "boot-1" }),
    );
    const b = new NodeBackend({ dataDir: dir, nodeName: "n", overrides: { cpuTotal: 8 } });
    const info = (await b.handle("node_info", {
      storage_units: [{ type: "file", name: path.join(dir, "fs") }],
      hypervisor: "fake",
      hvparams: {},
    })) as Record<string, unknown>;
    expect(info).toMatchObject({
      memory_total: 4096,
      memory_dom0: 0,
      memory_free: 4096,
      cpu_total: 8,
      bootid: "boot-1",
      storage: [{ type: "file", name: path.join(dir, "fs"), storage_size: 10240, storage_free: 10240 }],
    });
  });

  it("rejects a malformed settings file", async () => {
    await writeFile(path.join(dir, "noded.json"), JSON.stringify({ memory_totl: 1 }));
    const b = new NodeBackend({ dataDir: dir, nodeName: "n" });
    await expect(b.handle("node_info", { storage_units: [], hypervisor: "fake", hvparams: {} })).rejects.toThrow(/Invalid node settings/);
  });

  it("reports the real machine without overrides", async () => {
    const b = new NodeBackend({ dataDir: dir, nodeName: "n" });
    const info = (await b.handle("node_info", { storage_units: [], hypervisor: "fake", hvparams: {} })) as Record<string, number>;
    expect(info["memory_total"]).toBeGreaterThan(0);
    expect(info["memory_total"]).toBe(info["memory_dom0"]! + info["memory_free"]!);
    expect(info["cpu_total"]).toBeGreaterThan(0);
  });

  it("starts idempotently, lists, reports, reboots and shuts down instances", async () => {
    const inst = rpcInstance();
    await backend.handle("instance_start", { instance: inst, startup_paused: false });
    await backend.handle("instance_start", { instance: inst, startup_paused: false }); // no-op, as Ganeti
    expect(await backend.handle("instance_list", { hypervisors: ["fake"] })).toEqual([inst.name]);
    now += 5000;
    expect(await backend.handle("instance_info", { instance: inst.name, hypervisor: "fake" })).toEqual({
      name: inst.name,
      memory: 512,
      vcpus: 2,
      state: "running",
      time: 5,
    });
    await backend.handle("instance_reboot", { instance: inst, reboot_type: "soft", shutdown_timeout: 10 });
    await backend.handle("instance_reboot", { instance: inst, reboot_type: "hard", shutdown_timeout: 10 });
    expect((await backend.handle("all_instances_info", { hypervisors: ["fake"] })) as object).toEqual({
      [inst.name]: { name: inst.name, memory: 512, vcpus: 2, state: "running", time: 0 },
    });
    await backend.handle("instance_balloon_memory", { instance: inst, memory: 300 });
    expect(((await backend.handle("instance_info", { instance: inst.name, hypervisor: "fake" })) as { memory: number }).memory).toBe(300);
    await backend.handle("instance_shutdown", { instance: inst, timeout: 10 });
    await backend.handle("instance_shutdown", { instance: inst, timeout: 10 }); // no-op
    expect(await backend.handle("instance_list", { hypervisors: ["fake"] })).toEqual([]);
    await expect(backend.handle("instance_reboot", { instance: inst, reboot_type: "soft", shutdown_timeout: 1 })).rejects.toThrow(
      `Cannot reboot instance ${inst.name} that is not running`,
    );
    await backend.handle("instance_balloon_memory", { instance: inst, memory: 300 }); // not running: ignored
  });

  it("fails start on a missing disk, or not enough memory, naming the layer", async () => {
    const disk = fileDisk(path.join(dir, "nope", "disk0"), 1);
    await expect(
      backend.handle("instance_start", { instance: rpcInstance({ disks: [disk], disk_template: "file" }), startup_paused: false }),
    ).rejects.toThrow(/^Block device error: .*No such file/);
    await expect(
      backend.handle("instance_start", {
        instance: rpcInstance({ beparams: { maxmem: 9000, minmem: 9000, vcpus: 1 } }),
        startup_paused: false,
      }),
    ).rejects.toThrow(/^Hypervisor error: Not enough memory/);
    await expect(
      backend.handle("instance_start", { instance: rpcInstance({ hypervisor: "xen-pvm" }), startup_paused: false }),
    ).rejects.toThrow(/Unknown hypervisor 'xen-pvm'/);
  });

  it("migrates between two nodes", async () => {
    const other = new NodeBackend({ dataDir: path.join(dir, "node2"), nodeName: "node2", overrides: { memoryTotal: 4096 } });
    const inst = rpcInstance();
    await backend.handle("instance_start", { instance: inst, startup_paused: false });
    await other.handle("accept_instance", { instance: inst, target: "127.0.0.2" });
    await backend.handle("instance_migrate", { instance: inst, target: "node2", target_address: "127.0.0.2", live: true });
    await other.handle("finalize_migration_dst", { instance: inst, success: true });
    await backend.handle("finalize_migration_src", { instance: inst, success: true, live: true });
    expect(await backend.handle("instance_list", { hypervisors: ["fake"] })).toEqual([]);
    expect(await other.handle("instance_list", { hypervisors: ["fake"] })).toEqual([inst.name]);
    await expect(other.handle("accept_instance", { instance: inst, target: "x" })).rejects.toThrow(
      "Failed to accept instance: Can't accept instance, already running",
    );
  });

  it("manages file disks with real sparse files", async () => {
    const file = path.join(dir, "storage", "inst1", "disk0");
    const disk = fileDisk(file, 64);
    expect(await backend.handle("blockdev_create", { disk, owner: "inst1", on_primary: true })).toBe(file);
    expect((await stat(file)).size).toBe(64 * MiB);
    await backend.handle("blockdev_grow", { disk, amount: 32, dryrun: false });
    expect(await backend.handle("blockdev_getsizes", { disks: [disk, fileDisk(path.join(dir, "x"), 1)] })).toEqual([96, null]);
    expect(await backend.handle("blockdev_assemble", { disk, instance: "inst1", on_primary: true })).toBe(file);
    await backend.handle("blockdev_shutdown", { disk });
    const renamed = path.join(dir, "storage", "inst1", "disk0-new");
    await backend.handle("blockdev_rename", { disk, new_logical_id: ["loop", renamed] });
    await backend.handle("blockdev_remove", { disk: fileDisk(renamed, 96) });
    await expect(backend.handle("blockdev_grow", { disk, amount: 1, dryrun: true })).rejects.toThrow(
      /^Failed to grow block device: .*No such file/,
    );
    await expect(backend.handle("blockdev_create", { disk: { ...disk, dev_type: "rbd" }, owner: "i", on_primary: true })).rejects.toThrow(
      "Can't create block device: Unsupported disk type 'rbd' on this node",
    );
  });

  it("handles file storage dirs and storage_list", async () => {
    const d = path.join(dir, "fs", "inst1");
    await backend.handle("file_storage_dir_create", { path: d });
    await backend.handle("file_storage_dir_rename", { old_path: d, new_path: d + "-x" });
    await backend.handle("file_storage_dir_remove", { path: d + "-x" });
    const rows = await backend.handle("storage_list", {
      su_name: "file",
      su_args: [[path.join(dir, "fs")]],
      name: null,
      fields: ["name", "size", "allocatable"],
    });
    expect(rows).toEqual([[path.join(dir, "fs"), 0, true]]);
    // Volume groups are directories (none here yet); types the node cannot list are refused.
    expect(await backend.handle("storage_list", { su_name: "lvm-vg", su_args: [], name: null, fields: ["name"] })).toEqual([]);
    await expect(backend.handle("storage_list", { su_name: "gluster", su_args: [], name: null, fields: ["name"] })).rejects.toThrow(
      /cannot be listed/,
    );
    await expect(backend.handle("storage_modify", { su_name: "file", name: "x", changes: {} })).rejects.toThrow(/cannot be modified/);
  });

  it("console, test_delay (injected sleep), powercycle and leaving the cluster", async () => {
    const inst = rpcInstance();
    expect(await backend.handle("instance_console_info", { instance: inst })).toMatchObject({ kind: "msg" });
    await backend.handle("test_delay", { duration: 2.5 });
    expect(slept).toEqual([2500]);
    expect(await backend.handle("node_powercycle", { hypervisor: "fake", hvparams: {} })).toMatch(/recorded/);
    let left = 0;
    const b = make({ onLeaveCluster: () => left++ });
    await writeFile(path.join(dir, "server.pem"), "x");
    await b.handle("instance_start", { instance: inst, startup_paused: false });
    await b.handle("node_leave_cluster", { modify_ssh_setup: false });
    expect(left).toBe(1);
    expect(await b.handle("instance_list", { hypervisors: ["fake"] })).toEqual([]);
    await expect(readFile(path.join(dir, "server.pem"))).rejects.toThrow(/ENOENT/);
  });

  it("has a handler for every call in the table", () => {
    // The Handlers type enforces it at compile time; this guards the runtime table.
    const handlers = (backend as unknown as { handlers: Record<string, unknown> }).handlers;
    expect(Object.keys(handlers).sort()).toEqual(Object.keys(RPC_CALLS).sort());
  });
});

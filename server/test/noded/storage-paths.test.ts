// The node confines every file storage path to the directories it allows
// (issue 15 item 2): checked by the node itself, '..' and symlinks
// resolved, Ganeti's forbidden system prefixes refused; OS names cannot
// leave the search path.
import { existsSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { clusterFilePath, localFilePath } from "../../src/noded/backend/storage-paths.js";
import { writeOs } from "../os/os-helpers.js";
import { fileDisk, rpcInstance, tempDir } from "./fixtures.js";

let dir: string;
let cleanup: () => Promise<void>;
let dataDir: string;
let allowed: string;
let outside: string;
let victim: string;
let backend: NodeBackend;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  dataDir = path.join(dir, "data");
  allowed = path.join(dir, "allowed");
  outside = path.join(dir, "outside");
  victim = path.join(outside, "victim");
  await mkdir(dataDir, { recursive: true });
  await mkdir(allowed, { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(victim, "precious");
  await writeFile(path.join(dataDir, "file-storage-paths"), `# test\n\n${allowed}\nrelative/ignored\n`);
  backend = new NodeBackend({ dataDir, nodeName: "node1" });
});
afterEach(() => cleanup());

const notAcceptable = (p: string) => new RegExp(`Path '${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}' is not acceptable for file storage`);

describe("file storage paths on the node", () => {
  it("refuses to remove, grow, rename or assemble disks outside the allowed directories", async () => {
    const disk = fileDisk(victim, 1);
    await expect(backend.handle("blockdev_remove", { disk })).rejects.toThrow(notAcceptable(victim));
    await expect(backend.handle("blockdev_grow", { disk, amount: 1, dryrun: false })).rejects.toThrow(notAcceptable(victim));
    await expect(backend.handle("blockdev_assemble", { disk, instance: "i", on_primary: true })).rejects.toThrow(notAcceptable(victim));
    await expect(backend.handle("blockdev_getsizes", { disks: [disk] })).rejects.toThrow(notAcceptable(victim));
    await expect(
      backend.handle("instance_start", { instance: rpcInstance({ disks: [disk], disk_template: "file" }), startup_paused: false }),
    ).rejects.toThrow(notAcceptable(victim));
    expect(existsSync(victim)).toBe(true);

    // Creating inside is fine; renaming it out is not.
    const inside = fileDisk(path.join(allowed, "inst1", "disk0"), 1);
    await backend.handle("blockdev_create", { disk: inside, owner: "inst1", on_primary: true });
    const target = path.join(outside, "stolen");
    await expect(backend.handle("blockdev_rename", { disk: inside, new_logical_id: ["loop", target] })).rejects.toThrow(
      notAcceptable(target),
    );
    expect(existsSync(target)).toBe(false);
    await backend.handle("blockdev_remove", { disk: inside });
    expect(existsSync(path.join(allowed, "inst1", "disk0"))).toBe(false);
  });

  it("resolves '..' and symlinks before deciding", async () => {
    const dotdot = `${allowed}/../outside/victim`;
    await expect(backend.handle("blockdev_remove", { disk: fileDisk(dotdot, 1) })).rejects.toThrow(/not acceptable|normalised/);
    await symlink(outside, path.join(allowed, "link"));
    const viaLink = path.join(allowed, "link", "victim");
    await expect(backend.handle("blockdev_remove", { disk: fileDisk(viaLink, 1) })).rejects.toThrow(notAcceptable(viaLink));
    await expect(backend.handle("file_storage_dir_remove", { path: path.join(allowed, "link") })).rejects.toThrow(/not acceptable/);
    expect(existsSync(victim)).toBe(true);
  });

  it("confines file storage directories: create, remove, rename, storage_list", async () => {
    const empty = path.join(outside, "empty");
    await mkdir(empty);
    await expect(backend.handle("file_storage_dir_remove", { path: empty })).rejects.toThrow(notAcceptable(empty));
    expect(existsSync(empty)).toBe(true);
    await expect(backend.handle("file_storage_dir_create", { path: path.join(outside, "new") })).rejects.toThrow(/not acceptable/);
    expect(existsSync(path.join(outside, "new"))).toBe(false);

    await backend.handle("file_storage_dir_create", { path: path.join(allowed, "a") });
    await expect(
      backend.handle("file_storage_dir_rename", { old_path: path.join(allowed, "a"), new_path: path.join(outside, "a") }),
    ).rejects.toThrow(/not acceptable/);
    await expect(backend.handle("file_storage_dir_rename", { old_path: outside, new_path: path.join(allowed, "b") })).rejects.toThrow(
      notAcceptable(outside),
    );
    expect(existsSync(path.join(allowed, "a"))).toBe(true);
    await expect(
      backend.handle("storage_list", { su_name: "file", su_args: [[outside]], name: null, fields: ["name", "size"] }),
    ).rejects.toThrow(notAcceptable(outside));
    // The allowed directory itself may be used as a storage directory.
    expect(await backend.handle("storage_list", { su_name: "file", su_args: [[allowed]], name: null, fields: ["name"] })).toEqual([
      [allowed],
    ]);
  });

  it("refuses Ganeti's forbidden prefixes even when the file lists them, and relative paths", async () => {
    await writeFile(path.join(dataDir, "file-storage-paths"), "/etc\n/usr/lib\n");
    expect(await backend.handle("file_storage_path_check", { path: "/etc/ganeti-disks" })).toBe(
      "Path '/etc/ganeti-disks' uses a forbidden prefix",
    );
    expect(await backend.handle("file_storage_path_check", { path: "/usr/lib/x" })).toBe("Path '/usr/lib/x' uses a forbidden prefix");
    expect(await backend.handle("file_storage_path_check", { path: "disks" })).toBe("File storage path must be absolute, got 'disks'");
  });

  it("re-reads the allow-list; without the file only <dataDir>/file-storage and shared-file-storage are allowed", async () => {
    expect(await backend.handle("file_storage_path_check", { path: allowed })).toBeNull();
    expect(await backend.handle("file_storage_path_check", { path: outside })).toBe(`Path '${outside}' is not acceptable for file storage`);
    await writeFile(path.join(dataDir, "file-storage-paths"), `${outside}\n`);
    expect(await backend.handle("file_storage_path_check", { path: outside })).toBeNull();
    await writeFile(path.join(dataDir, "file-storage-paths"), "# nothing\n");
    expect(await backend.handle("file_storage_path_check", { path: outside })).toBe(
      `No paths are valid or path file '${path.join(dataDir, "file-storage-paths")}' was not accessible.`,
    );
    const fresh = new NodeBackend({ dataDir: path.join(dir, "fresh"), nodeName: "node2" });
    expect(await fresh.handle("file_storage_path_check", { path: path.join(dir, "fresh", "file-storage") })).toBeNull();
    expect(await fresh.handle("file_storage_path_check", { path: path.join(dir, "fresh", "shared-file-storage", "x") })).toBeNull();
    expect(await fresh.handle("file_storage_path_check", { path: path.join(dir, "fresh") })).not.toBeNull();
  });
});

describe("OS names on the node", () => {
  it("refuses '.', '..', names with '/' and other non-plain names: no script outside the search path runs", async () => {
    const searchDir = path.join(dir, "os");
    const marker = path.join(dir, "ran");
    // An OS definition in the search dir's parent: '..' would find it.
    await writeOs(path.dirname(searchDir), path.basename(searchDir), { scripts: { create: `touch '${marker}'` } });
    await writeOs(searchDir, "good", {});
    await writeOs(path.join(dir, "elsewhere"), "evil", { scripts: { create: `touch '${marker}'` } });
    for (const name of ["..", ".", "../elsewhere/evil", "good/../..", "", "go od"]) {
      await expect(
        backend.handle("instance_os_add", { instance: rpcInstance({ os: name }), reinstall: false, debug: 0, search_path: [searchDir] }),
      ).rejects.toThrow(/not found in search path/);
      await expect(
        backend.handle("os_validate", { required: true, name, checks: [], osparams: {}, search_path: [searchDir] }),
      ).rejects.toThrow(/not found in search path/);
    }
    expect(existsSync(marker)).toBe(false);
    // A relative search path entry is ignored.
    await expect(
      backend.handle("os_validate", {
        required: true,
        name: "good",
        checks: [],
        osparams: {},
        search_path: [path.relative(process.cwd(), searchDir)],
      }),
    ).rejects.toThrow(/not found in search path/);
    expect(await backend.handle("os_validate", { required: true, name: "good", checks: [], osparams: {}, search_path: [searchDir] })).toBe(
      true,
    );
  });
});

describe("PUT /2/modify with file storage directories (the nodes decide)", () => {
  it("refuses a directory a node does not allow, with the node's error; accepts an allowed one", { timeout: 30_000 }, async () => {
    const { testCluster } = await import("../harness/cluster.js");
    const { buildRapiServer } = await import("../../src/rapi/app.js");
    const { isFinal } = await import("../../src/jobs/job.js");
    const c = await testCluster({ nodes: 2 });
    await writeFile(path.join(c.root, "users"), "admin secret write\n");
    const app = await buildRapiServer({
      config: c.config,
      queue: c.queue,
      rpc: c.rpc,
      usersFile: path.join(c.root, "users"),
      watchUsers: false,
    });
    const headers = { authorization: `Basic ${Buffer.from("admin:secret").toString("base64")}`, "content-type": "application/json" };
    const modify = async (body: Record<string, unknown>) => {
      const res = await app.inject({ method: "PUT", url: "/2/modify", headers, payload: JSON.stringify(body) });
      expect(res.statusCode).toBe(200);
      const id = res.json() as number;
      for (;;) {
        const job = (await c.queue.getJob(id))!;
        if (isFinal(job)) return job.ops[0]!;
        await c.queue.waitForChange(id, ["status"], c.queue.jobFields(job, ["status"]), 1 << 30, 1000);
      }
    };
    try {
      const before = c.config.cluster.file_storage_dir;
      for (const [key, dir] of [
        ["file_storage_dir", "/srv/elsewhere"],
        ["shared_file_storage_dir", "/"],
        ["file_storage_dir", "/etc/ganeti"],
      ] as const) {
        const op = await modify({ [key]: dir });
        expect(op.status).toBe("error");
        const msg = dir === "/etc/ganeti" ? `Path '${dir}' uses a forbidden prefix` : `Path '${dir}' is not acceptable for file storage`;
        expect(op.result).toEqual(["OpPrereqError", [msg, "wrong_input"]]);
      }
      expect(c.config.cluster.file_storage_dir).toBe(before);
      const sub = path.join(c.root, "file-storage", "sub");
      expect((await modify({ file_storage_dir: sub })).status).toBe("success");
      expect(c.config.cluster.file_storage_dir).toBe(sub);
    } finally {
      await app.close();
      await c.cleanup();
    }
  });
});

describe("node-local file storage (file_storage_map)", () => {
  const map = { "/srv/ganeti/file-storage": "/data/node1/file-storage" };

  it("maps paths below a cluster directory under the node's own, and back", () => {
    expect(localFilePath("/srv/ganeti/file-storage/inst1/disk0", map)).toBe("/data/node1/file-storage/inst1/disk0");
    expect(localFilePath("/srv/ganeti/file-storage", map)).toBe("/data/node1/file-storage");
    expect(clusterFilePath("/data/node1/file-storage/inst1/disk0", map)).toBe("/srv/ganeti/file-storage/inst1/disk0");
  });

  it("leaves other paths (shared file storage, look-alike prefixes) and unmapped nodes alone", () => {
    expect(localFilePath("/srv/ganeti/shared-file-storage/inst1/disk0", map)).toBe("/srv/ganeti/shared-file-storage/inst1/disk0");
    expect(localFilePath("/srv/ganeti/file-storage2/x", map)).toBe("/srv/ganeti/file-storage2/x");
    expect(localFilePath("/srv/ganeti/file-storage/inst1/disk0", undefined)).toBe("/srv/ganeti/file-storage/inst1/disk0");
  });

  it("keeps a node's file images in its own directory; logical_ids and checks stay the cluster's", async () => {
    const local = path.join(dir, "node1-local");
    const node = new NodeBackend({ dataDir, nodeName: "node1", overrides: { fileStorageMap: { [allowed]: local } } });
    const disk = fileDisk(path.join(allowed, "inst1", "disk0"), 1);
    expect(await node.handle("blockdev_create", { disk, owner: "inst1", on_primary: true })).toBe(path.join(local, "inst1", "disk0"));
    expect(existsSync(path.join(local, "inst1", "disk0"))).toBe(true);
    expect(existsSync(path.join(allowed, "inst1", "disk0"))).toBe(false);
    expect(await node.handle("blockdev_getsizes", { disks: [disk] })).toEqual([1]);
    // Still checked against the allowed (cluster) directories.
    await expect(node.handle("blockdev_remove", { disk: fileDisk(victim, 1) })).rejects.toThrow(notAcceptable(victim));
    await node.handle("blockdev_remove", { disk });
    expect(existsSync(path.join(local, "inst1", "disk0"))).toBe(false);
  });
});

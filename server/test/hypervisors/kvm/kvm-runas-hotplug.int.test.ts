// Real guests whose qemu cannot open a disk image by its path after its
// start: one running as an unprivileged user (kvm security_model=user,
// -runas), the images in directories only root may enter (the node's data
// directory is 0700), and one chrooted (use_chroot), where the path does
// not exist. A `file` and a `plain` disk hotplugged into them: the node
// opens each image and hands qemu the open file (as Ganeti passes qemu a
// file descriptor), so qemu gets that disk and nothing else. Real qemu
// (TCG), one guest at a time.
import { promises as fs } from "node:fs";
import path from "node:path";
import type { RpcDisk } from "@ganeti-ts/schema";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KvmHypervisor } from "../../../src/hypervisors/kvm/kvm-hypervisor.js";
import { lookupUser } from "../../../src/lib/users.js";
import { NodeBackend } from "../../../src/noded/backend/node-backend.js";
import { fileDisk, guestAssets, guestInstance, killGuestsUnder, uuid, waitForConsole, type GuestAssets } from "../../harness/kvm-guest.js";
import { tempDir } from "../../noded/fixtures.js";

let assets: GuestAssets;
beforeAll(async () => {
  assets = await guestAssets();
}, 600_000);

describe("hotplugging local disks into a guest whose qemu cannot open them itself", () => {
  let root: string;
  let rm: () => Promise<void>;
  let node: NodeBackend;
  beforeEach(async () => {
    ({ dir: root, cleanup: rm } = await tempDir("gts-runas-"));
    const dataDir = path.join(root, "data");
    await fs.mkdir(dataDir, { mode: 0o700 });
    node = new NodeBackend({ dataDir, nodeName: "node1.example.com", fileStoragePaths: [path.join(root, "files")] });
  });
  afterEach(async () => {
    await killGuestsUnder(root);
    await rm();
  });

  it("hotplugs a file disk and a plain disk the user could not open itself, and removes them again", async () => {
    const nobody = await lookupUser("nobody");
    expect(nobody).not.toBeNull();
    // The file disk's directory is root's alone too.
    await fs.mkdir(path.join(root, "files"), { mode: 0o700 });
    const file = fileDisk(path.join(root, "files", "disk1"), 16);
    const plain: RpcDisk = {
      uuid: uuid(),
      dev_type: "plain",
      size: 8,
      mode: "rw",
      name: null,
      logical_id: ["xenvg", "runas.disk2_data"],
      params: {},
    };
    const owner = "guest.example.com";
    const inst = guestInstance(assets, { hvparams: { kernel_args: "quiet", security_model: "user", security_domain: "nobody" } });
    const kvm = node.hypervisors.get("kvm") as KvmHypervisor;
    const log = kvm.dirs.serialLog(inst.name);
    await node.handle("instance_start", { instance: inst, startup_paused: false });
    await waitForConsole(log, /GTS-DISKS\s*\r?\n/, { timeoutMs: 180_000 });
    const qemuPid = Number((await fs.readFile(kvm.dirs.pidFile(inst.name), "utf8")).trim());
    const ids = (await fs.readFile(`/proc/${qemuPid}/status`, "utf8")).match(/^Uid:\s+(\d+)\s+(\d+)/m);
    expect(ids?.slice(1, 3).map(Number)).toEqual([nobody!.uid, nobody!.uid]);

    let seq = 0;
    const hotadd = async (disk: RpcDisk, seen: RegExp) => {
      const diskPath = (await node.handle("blockdev_create", { disk, owner, on_primary: true })) as string;
      const from = (await fs.stat(log)).size;
      await node.handle("hotplug_device", { instance: inst, action: "hotadd", dev_type: "disk", disk, disk_path: diskPath, seq: ++seq });
      await waitForConsole(log, seen, { from, timeoutMs: 120_000 });
    };
    await hotadd(file, /GTS-DISKS vda=32768\s*\r?\n/);
    await hotadd(plain, /GTS-DISKS vda=32768 vdb=16384\s*\r?\n/);
    expect(await fs.readFile(log, "latin1")).not.toMatch(/I\/O error/);

    // Removal: the guest loses the disk, qemu keeps no handle on its image.
    const from = (await fs.stat(log)).size;
    await node.handle("hotplug_device", { instance: inst, action: "hotdel", dev_type: "disk", disk: file, disk_path: null, seq: ++seq });
    await waitForConsole(log, /GTS-DISKS vdb=16384\s*\r?\n/, { from, timeoutMs: 120_000 });
    const held = await Promise.all(
      (await fs.readdir(`/proc/${qemuPid}/fd`)).map((fd) => fs.readlink(`/proc/${qemuPid}/fd/${fd}`).catch(() => "")),
    );
    expect(held).not.toContain(file.logical_id[1]);
    expect(held.filter((f) => f.endsWith("runas.disk2_data"))).toHaveLength(1);
    await node.handle("instance_shutdown", { instance: { ...inst, disks: [plain] }, timeout: 0 });
  }, 600_000);

  it("hotplugs a file disk into a guest whose qemu runs chrooted (use_chroot), where the image's path does not exist", async () => {
    await fs.mkdir(path.join(root, "files"), { mode: 0o700 });
    const file = fileDisk(path.join(root, "files", "disk1"), 16);
    const inst = guestInstance(assets, { hvparams: { kernel_args: "quiet", use_chroot: true } });
    const kvm = node.hypervisors.get("kvm") as KvmHypervisor;
    const log = kvm.dirs.serialLog(inst.name);
    await node.handle("instance_start", { instance: inst, startup_paused: false });
    await waitForConsole(log, /GTS-DISKS\s*\r?\n/, { timeoutMs: 180_000 });
    const qemuPid = Number((await fs.readFile(kvm.dirs.pidFile(inst.name), "utf8")).trim());
    expect(await fs.readlink(`/proc/${qemuPid}/root`)).toBe(kvm.dirs.chrootDir(inst.name));
    const diskPath = (await node.handle("blockdev_create", { disk: file, owner: "guest.example.com", on_primary: true })) as string;
    const from = (await fs.stat(log)).size;
    await node.handle("hotplug_device", { instance: inst, action: "hotadd", dev_type: "disk", disk: file, disk_path: diskPath, seq: 1 });
    await waitForConsole(log, /GTS-DISKS vda=32768\s*\r?\n/, { from, timeoutMs: 120_000 });
    await node.handle("instance_shutdown", { instance: { ...inst, disks: [file] }, timeout: 0 });
  }, 600_000);
});

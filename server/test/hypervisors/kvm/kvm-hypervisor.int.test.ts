// The kvm hypervisor on real qemu guests (TCG, 96-128 MiB, the tiny busybox
// guest): boot to the console marker, info, balloon, grow-disk seen by the
// guest, disk and NIC hotplug, reboot, rediscovery by a fresh hypervisor
// object (a node daemon restart), ACPI and forced shutdown, kill -9.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvmHypervisor } from "../../../src/hypervisors/kvm/kvm-hypervisor.js";
import { qemuAlive } from "../../../src/hypervisors/kvm/runtime.js";
import { FileBlockDevice } from "../../../src/storage/file.js";
import {
  fileDisk,
  fileSize,
  GUEST_MARKER,
  guestAssets,
  guestInstance,
  killGuestsUnder,
  nic,
  Semaphore,
  waitForConsole,
  type GuestAssets,
  testHost,
} from "../../harness/kvm-guest.js";

let root: string;
let a: GuestAssets;
const boots = new Semaphore(2);
const hvAt = (dir: string) => new KvmHypervisor({ baseDir: dir, host: testHost });

beforeAll(async () => {
  a = await guestAssets();
  root = await fs.mkdtemp(path.join(os.tmpdir(), "gts-kvm-"));
}, 300_000);

afterAll(async () => {
  await killGuestsUnder(root);
  await fs.rm(root, { recursive: true, force: true });
});

async function pidOf(hv: KvmHypervisor, name: string): Promise<number> {
  return Number((await fs.readFile(hv.dirs.pidFile(name), "utf8")).trim());
}

describe("kvm hypervisor with a real guest", () => {
  it("boots from disk images, balloons, grows and hotplugs disks and NICs, reboots, is found again and powers down by ACPI", async () => {
    const base = path.join(root, "a");
    const hv = hvAt(base);
    const files = new FileBlockDevice();
    const d0 = fileDisk(path.join(root, "a-disk0"), 64);
    await files.create(d0);
    const inst = guestInstance(a, { memory: 128, minmem: 96, disks: [d0], hvparams: { kernel_args: `quiet gts.counter=/dev/vda` } });
    const log = hv.dirs.serialLog(inst.name);

    await boots.run(async () => {
      await hv.start(inst, [{ uuid: d0.uuid, path: await files.assemble(d0), mode: "rw" }], false);
      await waitForConsole(log, new RegExp(GUEST_MARKER));
    });
    expect(await hv.listInstances()).toEqual([inst.name]);
    const info = await hv.instanceInfo(inst.name);
    expect(info).toMatchObject({ name: inst.name, vcpus: 1, state: "running" });
    expect(info!.memory).toBe(128);
    await waitForConsole(log, /GTS-DISKS vda=131072/);
    const rt = await hv.runtime(inst.name);
    expect(rt?.accel).toBe("tcg");
    expect(rt?.argv).toContain("-daemonize");

    // Balloon: the guest gives memory back and QMP reports it.
    await hv.balloon(inst, 100);
    await expect.poll(async () => (await hv.instanceInfo(inst.name))!.memory, { timeout: 20_000, interval: 500 }).toBe(100);
    await expect(hv.balloon(inst, 256)).rejects.toThrow(/above its maximum/);

    // grow-disk: the image grows, block_resize tells the guest.
    await files.grow(d0, 32, false);
    await hv.resizeDisk(inst, d0, 96 * 1024 * 1024);
    await waitForConsole(log, /GTS-DISKS vda=196608/);

    // Disk hotplug: a second image appears as vdb and goes away again.
    const d1 = fileDisk(path.join(root, "a-disk1"), 16);
    await files.create(d1);
    await hv.hotplugSupported(inst);
    await hv.hotplugDevice(inst, "hotadd", "disk", { disk: d1, diskPath: await files.assemble(d1) });
    await waitForConsole(log, /GTS-DISKS vda=196608 vdb=32768/);
    const mark = await fileSize(log);
    await hv.hotplugDevice(inst, "hotdel", "disk", { disk: d1 });
    await waitForConsole(log, /GTS-DISKS vda=196608\r?\n/, { from: mark });
    expect((await hv.runtime(inst.name))!.disks.map((d) => d.uuid)).toEqual([d0.uuid]);

    // NIC hotplug (no network backend): the guest sees the card with its MAC.
    const n0 = nic("aa:00:00:12:34:56");
    await hv.hotplugDevice(inst, "hotadd", "nic", { nic: n0 });
    await waitForConsole(log, /GTS-NICS eth0=aa:00:00:12:34:56/);
    const mark2 = await fileSize(log);
    await hv.hotplugDevice(inst, "hotdel", "nic", { nic: n0 });
    await waitForConsole(log, /GTS-NICS\r?\n/, { from: mark2 });

    // The counter the guest writes to its disk keeps increasing.
    const counter = async () => Number((await fs.readFile(path.join(root, "a-disk0"))).subarray(0, 32).toString().split("\n")[0]);
    const c1 = await counter();
    await expect.poll(counter, { timeout: 10_000, interval: 300 }).toBeGreaterThan(c1);

    // Soft reboot (Ganeti's kvm: the saved runtime is executed again).
    const pid1 = await pidOf(hv, inst.name);
    const mark3 = await fileSize(log);
    await boots.run(async () => {
      await hv.reboot(inst);
      await waitForConsole(log, new RegExp(GUEST_MARKER), { from: mark3 });
    });
    expect(await pidOf(hv, inst.name)).not.toBe(pid1);
    // The counter continues from what is on the disk.
    await expect.poll(counter, { timeout: 10_000, interval: 300 }).toBeGreaterThan(c1);

    // A node daemon restart: a fresh hypervisor object on the same directory.
    const hv2 = hvAt(base);
    expect(await hv2.listInstances()).toEqual([inst.name]);
    expect((await hv2.instanceInfo(inst.name))?.state).toBe("running");

    // ACPI shutdown: the guest's acpid powers it off.
    const pid2 = await pidOf(hv2, inst.name);
    await hv2.stop(inst, { force: false, timeout: 60 });
    await waitForConsole(log, /GTS-POWERDOWN/, { from: mark3 });
    expect(await hv2.listInstances()).toEqual([]);
    expect(await hv2.instanceInfo(inst.name)).toBeNull();
    expect(await qemuAlive(pid2, inst.name)).toBe(false);
    await expect(hv2.stop(inst, { force: false, timeout: 1 })).rejects.toThrow(/not running/);
  }, 240_000);

  it("forces a shutdown without waiting, and reports a qemu killed with -9 as not running", async () => {
    const hv = hvAt(path.join(root, "b"));
    const forced = guestInstance(a, { hvparams: { root_path: "none" } });
    const killed = guestInstance(a, { hvparams: { root_path: "none" } });
    await Promise.all(
      [forced, killed].map((i) =>
        boots.run(async () => {
          await hv.start(i, [], false);
          await waitForConsole(hv.dirs.serialLog(i.name), new RegExp(GUEST_MARKER));
        }),
      ),
    );
    expect(await hv.listInstances()).toEqual([forced.name, killed.name].sort());

    // Forced: no powerdown request, the process is killed.
    const log = hv.dirs.serialLog(forced.name);
    await hv.stop(forced, { force: true, timeout: 60 });
    expect(await fs.readFile(log, "utf8")).not.toMatch(/GTS-POWERDOWN/);
    expect(await hv.listInstances()).toEqual([killed.name]);

    // kill -9: gone from the list; its runtime file stays until a stop/start.
    process.kill(await pidOf(hv, killed.name), "SIGKILL");
    await expect.poll(() => hv.listInstances(), { timeout: 10_000 }).toEqual([]);
    expect(await hv.instanceInfo(killed.name)).toBeNull();
    // It starts again over the stale state.
    await boots.run(async () => {
      const mark = await fileSize(hv.dirs.serialLog(killed.name));
      await hv.start(killed, [], false);
      await waitForConsole(hv.dirs.serialLog(killed.name), new RegExp(GUEST_MARKER), { from: mark });
    });
    await hv.stop(killed, { force: false, timeout: 0 });
    expect(await hv.listInstances()).toEqual([]);
  }, 180_000);

  it("refuses to start with a missing kernel, and cleans up", async () => {
    const hv = hvAt(path.join(root, "c"));
    const inst = guestInstance(a, { hvparams: { kernel_path: "/nonexistent/vmlinux" } });
    await expect(hv.start(inst, [], false)).rejects.toThrow(
      "Parameter 'kernel_path' fails validation: not found or not a file (current value: '/nonexistent/vmlinux')",
    );
    expect(await hv.listInstances()).toEqual([]);
    expect(await hv.dirs.runtimeNames()).toEqual([]);
  });
});

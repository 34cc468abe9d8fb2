// Real kvm guests on a one-node ganeti-ts cluster, through the CLI and the
// RAPI (SDK): `gnt cluster init --enabled-hypervisors kvm`, `gnt instance
// add -o busybox` installs a bootable system on a file disk and the VM boots
// from it to the console marker; runtime memory (balloon), grow-disk seen by
// the guest, disk hotplug, reboot, a node daemon restart that finds the
// guest again, ACPI shutdown, kill -9 reported as ERROR_down, removal.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvmFile } from "../helpers/kvm-guest.js";
import { GanetiClient } from "@ganeti-ts/sdk";
import { launchDaemon, readRuntime, stopDaemon } from "@ganeti-ts/server/master/launcher";
import { fileSize, GUEST_MARKER, guestAssets, killGuestsUnder, waitForConsole } from "../../server/test/harness/kvm-guest.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

let c: LocalCluster;
let client: GanetiClient;
const NAME = "kvm1.example.com";

beforeAll(async () => {
  const a = await guestAssets();
  c = await startLocalCluster({ initArgs: ["--enabled-hypervisors", "kvm"] });
  client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
  // The guest kernel and initramfs as cluster-wide kvm parameters (Ganeti's
  // defaults name a kernel that no Debian host has).
  await c.gnt(["cluster", "modify", "-H", `kvm:kernel_path=${a.kernel},initrd_path=${a.initrd},kernel_args=quiet,serial_speed=115200`]);
}, 600_000);

afterAll(async () => {
  client?.close();
  if (c) {
    await killGuestsUnder(path.dirname(c.dataDir));
    await c.destroy();
  }
});

const serialLog = () => kvmFile(c.dataDir, "log", NAME);
const pidFile = () => kvmFile(c.dataDir, "pid", NAME);
const status = async () => (await client.instances.get(NAME)).status;

describe("kvm instances on a one-node cluster", () => {
  it("refuses kvm parameters the node cannot use, before creating anything (Ganeti's CheckHVParams)", async () => {
    const err = await client.instances
      .create({
        mode: "create",
        instance_name: "bad.example.com",
        disk_template: "file",
        disks: [{ size: 1024 }],
        nics: [{}],
        os_type: "busybox",
        pnode: c.nodes[0]!,
        hypervisor: "kvm",
        hvparams: { kernel_path: "/nonexistent/vmlinux" },
        beparams: { memory: 128 },
        name_check: false,
        ip_check: false,
      })
      .wait()
      .catch((e: unknown) => e as Error);
    expect(String(err)).toContain(
      "Hypervisor parameter validation failed on node node1.example.com: Parameter 'kernel_path' fails validation: not found or not a file (current value: '/nonexistent/vmlinux')",
    );
    await expect(client.instances.get("bad.example.com")).rejects.toThrow();
    // Cluster-wide parameters too.
    const modify = await c.gnt(["cluster", "modify", "-H", "kvm:initrd_path=/nonexistent/initrd"]).catch((e: { stderr: string }) => e);
    expect(modify.stderr).toContain(
      "Parameter 'initrd_path' fails validation: not found or not a file (current value: '/nonexistent/initrd')",
    );
  });

  it("installs the busybox OS on a file disk and boots from it; memory, grow, hotplug, reboot, restart, shutdown, kill -9", async () => {
    // Create + install + start through the CLI.
    const add = await c.gnt([
      "instance",
      "add",
      "-t",
      "file",
      "-o",
      "busybox",
      "-H",
      "kvm",
      "-B",
      "maxmem=160,minmem=128,vcpus=1",
      "--disk",
      "0:size=1024",
      "-n",
      c.nodes[0]!,
      "--no-name-check",
      "--no-ip-check",
      NAME,
    ]);
    expect(add.stderr).toContain("starting instance");
    await waitForConsole(serialLog(), new RegExp(`${GUEST_MARKER} root=disk`), { timeoutMs: 120_000 });
    const list = await c.gnt(["instance", "list", "--no-headers", "-o", "name,hypervisor,status"]);
    expect(list.stdout).toMatch(new RegExp(`^${NAME.replace(/\./g, "\\.")}\\s+kvm\\s+running$`, "m"));
    const info = await client.instances.get(NAME);
    expect(info.oper_ram).toBe(160);
    // The accelerator of the running qemu, in its runtime data (RAPI /info) and `gnt instance info`.
    const [details] = await client.instances.info(NAME).wait();
    expect(details[NAME]!["hv_accel"]).toMatch(/^(kvm|tcg)$/);
    const cliInfo = await c.gnt(["instance", "info", NAME]);
    expect(cliInfo.stdout).toContain(`hv_accel: ${String(details[NAME]!["hv_accel"])}`);
    await waitForConsole(serialLog(), /GTS-DISKS vda=2097152/);

    // Runtime memory through the balloon.
    await client.instances.modify(NAME, { runtime_mem: 128 }).wait();
    await expect.poll(async () => (await client.instances.get(NAME)).oper_ram, { timeout: 30_000, interval: 1000 }).toBe(128);

    // grow-disk: the running guest sees the new size.
    const growLog: string[] = [];
    await client.instances.growDisk(NAME, 0, { amount: 32 }).wait({ onLog: (l) => growLog.push(l.message) });
    expect(growLog).toContain("Try to notify the Hypervisor about the disk change");
    await waitForConsole(serialLog(), /GTS-DISKS vda=2162688/);

    // Disk hotplug: add a second disk to the running guest, then remove it.
    const [added] = await client.instances.modify(NAME, { disks: [["add", { size: 1024 }]], hotplug: true }).wait();
    expect(added).toEqual([
      ["disk/1", "add:size=1024,mode=rw"],
      ["disk/1", "hotplug:done"],
    ]);
    await waitForConsole(serialLog(), /GTS-DISKS vda=2162688 vdb=2097152/);
    const mark = await fileSize(serialLog());
    const [removed] = await client.instances.modify(NAME, { disks: [["remove", 1, {}]], hotplug: true }).wait();
    expect(removed).toEqual([
      ["disk/1", "remove"],
      ["disk/1", "hotplug:done"],
    ]);
    await waitForConsole(serialLog(), /GTS-DISKS vda=2162688\r?\n/, { from: mark });

    // Reboot through the CLI: a new qemu process boots from the disk again.
    const pid1 = (await fs.readFile(pidFile(), "utf8")).trim();
    const mark2 = await fileSize(serialLog());
    await c.gnt(["instance", "reboot", NAME]);
    await waitForConsole(serialLog(), new RegExp(`${GUEST_MARKER} root=disk`), { from: mark2, timeoutMs: 120_000 });
    expect((await fs.readFile(pidFile(), "utf8")).trim()).not.toBe(pid1);

    // A node daemon restart leaves the guest running and finds it again.
    const pid2 = (await fs.readFile(pidFile(), "utf8")).trim();
    // (It listened on a random port: the restarted one takes the same, as a
    // daemon on its fixed port would.)
    const rt = await readRuntime(c.dataDir, "node");
    const addrFile = path.join(c.dataDir, "noded-address.json");
    const addr = JSON.parse(await fs.readFile(addrFile, "utf8")) as Record<string, unknown>;
    await fs.writeFile(addrFile, JSON.stringify({ ...addr, port: rt?.["port"] }));
    await stopDaemon(c.dataDir, "node");
    await launchDaemon("node", c.dataDir);
    expect(await status()).toBe("running");
    expect((await fs.readFile(pidFile(), "utf8")).trim()).toBe(pid2);

    // ACPI shutdown through the RAPI: the guest powers itself off.
    const mark3 = await fileSize(serialLog());
    await client.instances.shutdown(NAME).wait();
    await waitForConsole(serialLog(), /GTS-POWERDOWN/, { from: mark3 });
    expect(await status()).toBe("ADMIN_down");

    // kill -9 of a running guest's qemu: ERROR_down, as Ganeti reports it.
    const mark4 = await fileSize(serialLog());
    await client.instances.startup(NAME).wait();
    await waitForConsole(serialLog(), new RegExp(GUEST_MARKER), { from: mark4, timeoutMs: 120_000 });
    process.kill(Number((await fs.readFile(pidFile(), "utf8")).trim()), "SIGKILL");
    await expect.poll(status, { timeout: 20_000, interval: 500 }).toBe("ERROR_down");

    // Start again over the dead one's leftovers, then remove.
    await client.instances.startup(NAME).wait();
    expect(await status()).toBe("running");
    await c.gnt(["instance", "remove", "-f", NAME]);
    await expect(fs.stat(pidFile())).rejects.toThrow();
  }, 600_000);
});

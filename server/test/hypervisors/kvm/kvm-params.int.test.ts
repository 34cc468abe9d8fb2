// kvm parameters that act after qemu is up, on a real guest (TCG, the tiny
// busybox guest): cpu_mask pins qemu's threads, vnc_password_file sets the
// VNC password over QMP, use_guest_agent gives the guest agent's socket, and
// user_shutdown turns a guest that powered itself off into the "shutdown"
// state (not running) until the instance is started again.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvmHypervisor } from "../../../src/hypervisors/kvm/kvm-hypervisor.js";
import { withQmp } from "../../../src/hypervisors/kvm/qmp.js";
import {
  GUEST_MARKER,
  guestAssets,
  guestInstance,
  killGuestsUnder,
  waitForConsole,
  type GuestAssets,
  testHost,
  typeOn,
} from "../../harness/kvm-guest.js";

const run = promisify(execFile);

let root: string;
let a: GuestAssets;
beforeAll(async () => {
  a = await guestAssets();
  root = await fs.mkdtemp(path.join(os.tmpdir(), "gts-kvmp-"));
}, 300_000);
afterAll(async () => {
  await killGuestsUnder(root);
  await fs.rm(root, { recursive: true, force: true });
});

describe("kvm parameters applied to a running qemu", () => {
  it("cpu_mask, vnc_password_file, use_guest_agent, user_shutdown", async () => {
    const hv = new KvmHypervisor({ baseDir: path.join(root, "kvm"), host: testHost });
    const pw = path.join(root, "vnc-password");
    await fs.writeFile(pw, "s3cret\n");
    const inst = guestInstance(a, {
      hvparams: {
        cpu_mask: "0",
        vnc_bind_address: path.join(root, "vnc.sock"),
        vnc_password_file: pw,
        use_guest_agent: true,
        user_shutdown: true,
      },
    });
    const log = hv.dirs.serialLog(inst.name);
    await hv.start(inst, [], false);
    await waitForConsole(log, new RegExp(GUEST_MARKER), { timeoutMs: 180_000 });
    const pid = Number((await fs.readFile(hv.dirs.pidFile(inst.name), "utf8")).trim());

    // Every qemu thread runs on CPU 0 only.
    const { stdout } = await run("taskset", ["-a", "-p", "-c", String(pid)]);
    const lists = stdout
      .trim()
      .split("\n")
      .map((l) => l.split(":").pop()!.trim());
    expect(lists.length).toBeGreaterThan(0);
    expect(new Set(lists)).toEqual(new Set(["0"]));
    // VNC asks for the password the file holds; the guest agent's socket is there.
    const vnc = (await withQmp(hv.dirs.qmpSocket(inst.name), (q) => q.execute("query-vnc"))) as { auth?: string };
    expect(vnc.auth).toBe("vnc");
    expect((await fs.stat(hv.dirs.qgaSocket(inst.name))).isSocket()).toBe(true);

    // The guest powers itself off: qemu stays (-no-shutdown) until the node notices, then the
    // instance is in state shutdown, no longer listed as running, its qemu gone.
    await typeOn(hv.dirs.serialSocket(inst.name), "poweroff -f\n");
    await expect.poll(async () => (await hv.instanceInfo(inst.name))?.state, { timeout: 60_000, interval: 500 }).toBe("shutdown");
    expect(await hv.listInstances()).toEqual([]);
    expect((await hv.allInstancesInfo()).map((i) => [i.name, i.state])).toEqual([[inst.name, "shutdown"]]);
    await expect
      .poll(
        async () =>
          fs.stat(`/proc/${pid}`).then(
            () => true,
            () => false,
          ),
        { timeout: 30_000 },
      )
      .toBe(false);

    // Started again, it runs; the shutdown is forgotten.
    const from = (await fs.stat(log)).size;
    await hv.start(inst, [], false);
    await waitForConsole(log, new RegExp(GUEST_MARKER), { from, timeoutMs: 180_000 });
    expect((await hv.instanceInfo(inst.name))?.state).toBe("running");
    await hv.stop(inst, { force: true, timeout: 0 });
    expect(await hv.instanceInfo(inst.name)).toBeNull();
  }, 600_000);
});

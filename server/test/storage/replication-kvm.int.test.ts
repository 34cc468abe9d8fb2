// A real guest on a replicated (drbd) disk: its qemu attaches the primary's
// storage daemon export through its unix socket; the guest writes and fsyncs a counter;
// after kill -9 of the primary's qemu and storage daemon, the secondary's
// replica holds the last write the guest saw acknowledged, and a guest booted
// from it continues from there. Real qemu (TCG), one guest at a time.
import { promises as fs } from "node:fs";
import path from "node:path";
import type { RpcDisk, RpcInstance } from "@ganeti-ts/schema";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KvmHypervisor } from "../../src/hypervisors/kvm/kvm-hypervisor.js";
import { withQmp } from "../../src/hypervisors/kvm/qmp.js";
import {
  counter,
  GUEST_MARKER,
  guestAssets,
  guestInstance,
  killGuestsUnder,
  waitForConsole,
  type GuestAssets,
} from "../harness/kvm-guest.js";
import { replicationExportDir } from "../../src/storage/replication/engine.js";
import { lookupUser } from "../../src/lib/users.js";
import { createDrbdPair, freePort, killDaemon, newDrbdPair, twoNodes, waitSynced, type TestNode } from "./replication-fixture.js";
import { poller } from "../harness/poll.js";

let assets: GuestAssets;
beforeAll(async () => {
  assets = await guestAssets();
}, 600_000);

const until = poller({ timeoutMs: 120_000, intervalMs: 250 });

describe("a kvm guest on a replicated disk", () => {
  let env: Awaited<ReturnType<typeof twoNodes>>;
  let a: TestNode;
  let b: TestNode;
  beforeEach(async () => {
    env = await twoNodes();
    ({ a, b } = env);
  });
  afterEach(async () => {
    await killGuestsUnder(env.root);
    await env.cleanup();
  });

  /** A 16 MiB drbd disk, primary on a, created on both nodes and in sync. */
  async function syncedDisk() {
    const d = await newDrbdPair(a, b, 16);
    await createDrbdPair(d, "g");
    await waitSynced(a, d.onA, until);
    return d;
  }

  /** Hotplugs a second (8 MiB) replicated disk into the guest on a, until its console shows `seen`; the disk. */
  async function hotplugSecond(inst: RpcInstance, seen: RegExp) {
    const pair = await newDrbdPair(a, b, 8);
    const path2 = await createDrbdPair(pair, "g");
    const log = kvm(a).dirs.serialLog(inst.name);
    const from = (await fs.stat(log)).size;
    await a.backend.handle("hotplug_device", {
      instance: inst,
      action: "hotadd",
      dev_type: "disk",
      disk: pair.onA,
      disk_path: path2,
      seq: 1,
    });
    await waitForConsole(log, seen, { from, timeoutMs: 120_000 });
    return pair;
  }

  const kvm = (n: TestNode) => n.backend.hypervisors.get("kvm") as KvmHypervisor;
  const dataFile = (n: TestNode, uuid: string) => path.join(n.dataDir, "volumes", "xenvg", `${uuid}.disk0_data`);

  it("hotplugs a second replicated disk, survives growing the disk while the guest writes, and keeps the last acknowledged counter on the secondary when the primary's qemu and storage daemon are killed", async () => {
    const { onA, onB, uuid } = await syncedDisk();

    const withDisk = (disk: RpcDisk) => ({
      ...guestInstance(assets, {
        name: `drbd-${uuid}.example.com`,
        disks: [disk],
        hvparams: { kernel_args: "quiet gts.counter=/dev/vda" },
      }),
      disk_template: "drbd",
    });
    const inst = withDisk(onA);
    await a.backend.handle("instance_start", { instance: inst, startup_paused: false });
    await waitForConsole(kvm(a).dirs.serialLog(inst.name), new RegExp(GUEST_MARKER), { timeoutMs: 180_000 });
    // The guest's writes reach the replica.
    await until("the counter on the replica", async () => (await counter(dataFile(b, uuid))) >= 5);

    // Hotplug a second replicated disk: the guest sees it.
    await hotplugSecond(inst, /GTS-DISKS vda=\d+ vdb=16384/);

    // Grow on both sides (secondary first) while the guest writes: the
    // storage daemons restart, the guest's disk waits for them and goes on.
    await b.backend.handle("blockdev_grow", { disk: onB, amount: 8, dryrun: false });
    await a.backend.handle("blockdev_grow", { disk: onA, amount: 8, dryrun: false });
    await until(
      "the resync after growing",
      async () => ((await a.backend.handle("drbd_wait_sync", { disks: [onA] })) as { alldone: boolean }).alldone,
    );
    const grown = await counter(dataFile(b, uuid));
    await until("the counter to go on after growing", async () => (await counter(dataFile(b, uuid))) > grown + 2);
    expect(await b.backend.handle("blockdev_getsizes", { disks: [onB] })).toEqual([24]);
    // Its requests waited for the restarted daemon: the guest saw no I/O error.
    expect(await fs.readFile(kvm(a).dirs.serialLog(inst.name), "latin1")).not.toMatch(/I\/O error/);

    // The primary node dies: its qemu and its storage daemon, at once.
    const qemuPid = Number((await fs.readFile(kvm(a).dirs.pidFile(inst.name), "utf8")).trim());
    process.kill(qemuPid, "SIGKILL");
    await killDaemon(path.join(a.dataDir, "replication", uuid));
    const onPrimary = await counter(dataFile(a, uuid));
    const onReplica = await counter(dataFile(b, uuid));
    // The guest writes one value at a time and waits for it: at most the
    // write in flight was on the primary only, and it was not acknowledged.
    expect(onReplica).toBeGreaterThanOrEqual(onPrimary - 1);
    expect(onReplica).toBeGreaterThanOrEqual(5);

    // Fail over: the secondary becomes the primary (its peer is gone, so it
    // runs degraded) and a guest boots from the replica.
    const promoted: RpcDisk = { ...onB, dynamic_params: { ...onB.dynamic_params!, primary: true } };
    const status = (await b.backend.handle("blockdev_getmirrorstatus", { disks: [promoted] })) as unknown[];
    expect(status[0]).toMatchObject({ ldisk_status: 1 });
    const instB = { ...withDisk(promoted), name: inst.name };
    await b.backend.handle("instance_start", { instance: instB, startup_paused: false });
    await waitForConsole(kvm(b).dirs.serialLog(instB.name), new RegExp(GUEST_MARKER), { timeoutMs: 180_000 });
    // The new guest read the replica's counter and continues from it (a guest
    // that saw anything else would start again from 1).
    const next = await until("the counter to move on the new primary", async () => {
      const n = await counter(dataFile(b, uuid));
      return n !== onReplica ? n : undefined;
    });
    expect(next).toBeGreaterThan(onReplica);
    const after = (await b.backend.handle("blockdev_getmirrorstatus", { disks: [promoted] })) as unknown[];
    expect(after[0]).toMatchObject({ is_degraded: true });
  }, 600_000);

  it("a guest whose qemu runs as an unprivileged user (security_model=user) reconnects to its disk after a grow and hotplugs a replicated disk", async () => {
    const { onA, onB, uuid } = await syncedDisk();
    // An idle guest: after the grow its disk's NBD client reconnects only when the hypervisor reads through it.
    const inst = {
      ...guestInstance(assets, {
        name: `drbd-${uuid}.example.com`,
        disks: [onA],
        hvparams: { kernel_args: "quiet", security_model: "user", security_domain: "nobody" },
      }),
      disk_template: "drbd",
    };
    const log = kvm(a).dirs.serialLog(inst.name);
    await a.backend.handle("instance_start", { instance: inst, startup_paused: false });
    await waitForConsole(log, /GTS-DISKS vda=32768\b/, { timeoutMs: 180_000 });
    const qemuPid = Number((await fs.readFile(kvm(a).dirs.pidFile(inst.name), "utf8")).trim());
    const uid = (await fs.readFile(`/proc/${qemuPid}/status`, "utf8")).match(/^Uid:\s+(\d+)\s+(\d+)/m);
    const nobody = (await lookupUser("nobody"))!.uid;
    expect(uid?.slice(1, 3).map(Number)).toEqual([nobody, nobody]);

    // Grow: both storage daemons restart; the qemu, no longer root, must reconnect to its disk's export.
    await b.backend.handle("blockdev_grow", { disk: onB, amount: 8, dryrun: false });
    await a.backend.handle("blockdev_grow", { disk: onA, amount: 8, dryrun: false });
    const grown = { ...onA, size: 24 };
    const from = (await fs.stat(log)).size;
    await a.backend.handle("resize_disk", { instance: { ...inst, disks: [grown] }, disk: grown, new_size: 24 * 1024 * 1024 });
    await waitForConsole(log, /GTS-DISKS vda=49152\b/, { from, timeoutMs: 120_000 });

    // Hotplug: the unprivileged qemu opens the new disk's export itself.
    const pair2 = await hotplugSecond(inst, /GTS-DISKS vda=49152 vdb=16384/);
    const second = pair2.onA;
    expect(await fs.readFile(log, "latin1")).not.toMatch(/I\/O error/);

    // Only that user is admitted, to these two sockets; the disks' state stays root's alone.
    const socketOf = (uuid: string) => path.join(replicationExportDir(a.dataDir), uuid);
    const owner = async (file: string) => {
      const st = await fs.stat(file);
      return [st.uid, st.mode & 0o777];
    };
    for (const u of [uuid, pair2.uuid]) {
      expect(await owner(socketOf(u))).toEqual([nobody, 0o600]);
      expect(await owner(path.join(a.dataDir, "replication", u))).toEqual([process.getuid!(), 0o700]);
    }
    expect(await owner(replicationExportDir(a.dataDir))).toEqual([process.getuid!(), 0o711]);
    // Stopped: root's alone again.
    await a.backend.handle("instance_shutdown", { instance: { ...inst, disks: [grown, second] }, timeout: 0 });
    for (const u of [uuid, pair2.uuid]) expect(await owner(socketOf(u))).toEqual([process.getuid!(), 0o600]);
  }, 600_000);

  it("live-migrates with the roles swapped: no disk copy, the target writes only once it mirrors back, nothing acknowledged is lost", async () => {
    const { onA, onB, uuid } = await syncedDisk();
    const migrationPort = await freePort([b.ip]);
    const base = guestInstance(assets, {
      name: `drbd-${uuid}.example.com`,
      disks: [onA],
      hvparams: { kernel_args: "quiet gts.counter=/dev/vda", migration_port: migrationPort },
    });
    const instOn = (disk: RpcDisk) => ({ ...base, disks: [disk], disk_template: "drbd" });
    await a.backend.handle("instance_start", { instance: instOn(onA), startup_paused: false });
    await waitForConsole(kvm(a).dirs.serialLog(base.name), new RegExp(GUEST_MARKER), { timeoutMs: 180_000 });
    await until("the counter on the replica", async () => (await counter(dataFile(b, uuid))) >= 3);

    // Ganeti's sequence: both nodes serve the disk, the target accepts, the source migrates.
    await a.backend.handle("drbd_attach_net", { disks: [onA], instance_name: base.name, multimaster: true });
    await b.backend.handle("drbd_attach_net", { disks: [onB], instance_name: base.name, multimaster: true });
    const info = (await a.backend.handle("migration_info", { instance: instOn(onA) })) as string;
    await b.backend.handle("accept_instance", { instance: instOn(onB), target: b.ip, info });
    await a.backend.handle("instance_migrate", { instance: instOn(onA), target: b.name, target_address: b.ip, live: true });
    const final = await until("the migration", async () => {
      const st = (await a.backend.handle("instance_get_migration_status", { instance: instOn(onA) })) as { status: string };
      return st.status === "active" ? undefined : st;
    });
    expect(final.status).toBe("completed");
    // Until finalize the target's guest is held: nothing it writes can miss
    // the old primary. (On TCG the source also pauses for the transfer, so
    // the hold itself is pinned by the unit test of accept in migrate.test.ts.)
    const held = (await withQmp(kvm(b).dirs.qmpSocket(base.name), (q) => q.execute("query-status"))) as {
      status: string;
      running: boolean;
    };
    expect(held.running).toBe(false);
    const atSwitch = await counter(dataFile(b, uuid));
    expect(await counter(dataFile(a, uuid))).toBe(atSwitch);
    await b.backend.handle("finalize_migration_dst", { instance: instOn(onB), success: true });
    await a.backend.handle("finalize_migration_src", { instance: instOn(onA), success: true, live: true });
    const swappedA: RpcDisk = { ...onA, dynamic_params: { ...onA.dynamic_params!, primary: false } };
    const swappedB: RpcDisk = { ...onB, dynamic_params: { ...onB.dynamic_params!, primary: true } };
    await a.backend.handle("drbd_attach_net", { disks: [swappedA], instance_name: base.name, multimaster: false });
    await b.backend.handle("drbd_attach_net", { disks: [swappedB], instance_name: base.name, multimaster: false });
    expect(await b.backend.handle("blockdev_getmirrorstatus", { disks: [swappedB] })).toMatchObject([{ is_degraded: false }]);

    // The guest continues on the new primary and every write reaches the old one.
    await until("the counter to continue on the old primary's replica", async () => (await counter(dataFile(a, uuid))) > atSwitch + 3);
    const qemuPid = Number((await fs.readFile(kvm(b).dirs.pidFile(base.name), "utf8")).trim());
    process.kill(qemuPid, "SIGKILL");
    await killDaemon(path.join(b.dataDir, "replication", uuid));
    expect(await counter(dataFile(a, uuid))).toBeGreaterThanOrEqual((await counter(dataFile(b, uuid))) - 1);
  }, 600_000);
});

// The replication engine with real qemu-storage-daemons: two node backends
// on random loopback addresses, a drbd disk between them.
import path from "node:path";
import type { BlockDevStatus, RpcDisk } from "@ganeti-ts/schema";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open, readFile, stat, writeFile } from "node:fs/promises";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { drbdDiskOf, replicationExportDir } from "../../src/storage/replication/engine.js";
import { StorageDaemon } from "../../src/storage/replication/daemon.js";
import { guestInstance } from "../harness/kvm-guest.js";
import { parseReplicaUri } from "../../src/lib/replica-uri.js";
import { REPLICATION_TLS_NAME } from "../../src/storage/replication/tls.js";
import { generateClusterCert } from "../../src/lib/certs.js";
import { ensureReplicationTls } from "../../src/storage/replication/tls.js";
import { writeCert } from "../../src/lib/certs.js";
import { createDrbdPair, killDaemon, newDrbdPair, qemuIo, readAt, twoNodes, waitSynced, type TestNode } from "./replication-fixture.js";
import { poller } from "../harness/poll.js";

const MiB = 1024 * 1024;

const until = poller({ timeoutMs: 90_000 });

describe("replicated disks on qemu-storage-daemon", () => {
  let env: Awaited<ReturnType<typeof twoNodes>>;
  let a: TestNode;
  let b: TestNode;
  beforeEach(async () => {
    env = await twoNodes();
    ({ a, b } = env);
  });
  afterEach(async () => {
    await env.cleanup();
  });

  async function setup(sizeMiB = 16) {
    const d = await newDrbdPair(a, b, sizeMiB);
    return { ...d, devPath: await createDrbdPair(d, "inst1") };
  }

  /** A disk (setup) in sync, 0x44 written at 5 MiB through the primary's local export; that export. */
  async function syncedWithData() {
    const d = await setup();
    await waitSynced(a, d.onA);
    const target = parseReplicaUri(d.devPath)!;
    expect((await qemuIo(target, [`write -P 0x44 ${5 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    return { d, target };
  }

  /** Whether the 4 KiB of `file` at `offset` hold `byte` throughout. */
  const holds = async (file: string, offset: number, byte: number) => (await readAt(file, offset, 4096)).every((x) => x === byte);
  const dataFile = (n: TestNode, uuid: string) => path.join(n.dataDir, "volumes", "xenvg", `${uuid}.disk0_data`);
  const status = async (n: TestNode, disk: unknown) =>
    ((await n.backend.handle("blockdev_getmirrorstatus", { disks: [disk] })) as (BlockDevStatus | null)[])[0];

  it("mirrors every write synchronously to the secondary; the secondary keeps the last acknowledged write when the primary's daemon is killed", async () => {
    const d = await setup();
    const uri = parseReplicaUri(d.devPath);
    // The node's own guests reach the local export through the daemon's unix socket (no TLS), root's alone.
    expect(uri).toEqual({ socket: path.join(replicationExportDir(a.dataDir), d.uuid), export: d.uuid });
    const st = await stat(path.join(replicationExportDir(a.dataDir), d.uuid));
    expect([st.mode & 0o777, st.uid]).toEqual([0o600, process.getuid!()]);
    expect((await stat(replicationExportDir(a.dataDir))).mode & 0o777).toBe(0o711);
    await waitSynced(a, d.onA);
    await waitSynced(b, d.onB);
    expect(await status(a, d.onA)).toMatchObject({ is_degraded: false, sync_percent: null, ldisk_status: 1, minor: 0 });
    expect(await status(b, d.onB)).toMatchObject({ is_degraded: false, ldisk_status: 1, minor: 1 });

    for (let i = 1; i <= 5; i++) {
      const w = await qemuIo(uri!, [`write -P ${0x10 + i} ${i * MiB} 4096`, "flush"]);
      expect(w.out).toContain("wrote 4096/4096");
      // Acknowledged: the replica already holds it.
      expect(await holds(dataFile(b, d.uuid), i * MiB, 0x10 + i)).toBe(true);
    }
    await killDaemon(path.join(a.dataDir, "replication", d.uuid));
    for (let i = 1; i <= 5; i++) expect(await holds(dataFile(b, d.uuid), i * MiB, 0x10 + i)).toBe(true);
    // The primary's daemon is gone: the disk is no longer assembled there.
    expect(await status(a, d.onA)).toBeNull();
  });

  it("reports a degraded mirror while the peer is down and resyncs it fully when it returns", async () => {
    const d = await setup();
    await waitSynced(a, d.onA);
    await killDaemon(path.join(b.dataDir, "replication", d.uuid));
    const degraded = await status(a, d.onA);
    expect(degraded).toMatchObject({ is_degraded: true, sync_percent: null, ldisk_status: 1 });
    expect((await a.backend.handle("drbd_wait_sync", { disks: [d.onA] })) as object).toEqual({ alldone: false, min_resync: 0 });

    // The primary keeps serving writes alone.
    const target = parseReplicaUri(d.devPath)!;
    expect((await qemuIo(target, [`write -P 0x5a ${3 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    expect(await holds(dataFile(b, d.uuid), 3 * MiB, 0)).toBe(true);

    // The secondary returns (assembled again): the primary reconnects by
    // itself, copies everything and marks the replica consistent, with
    // nobody asking the primary anything.
    await b.backend.handle("blockdev_assemble", { disk: d.onB, instance: "inst1", on_primary: false });
    await until("the primary's lone write on the secondary", () => holds(dataFile(b, d.uuid), 3 * MiB, 0x5a));
    await until(
      "the secondary consistent again",
      async () => (await b.backend.storage.replication.localHeader(drbdDiskOf(d.onB)))?.consistent,
    );
    await waitSynced(a, d.onA);
    await waitSynced(b, d.onB);
    expect(await holds(dataFile(b, d.uuid), 3 * MiB, 0x5a)).toBe(true);
    expect(await status(a, d.onA)).toMatchObject({ is_degraded: false, ldisk_status: 1 });
  });

  it("serves the replica only over TLS to holders of a certificate signed by the cluster key, and only under the secret", async () => {
    const d = await setup();
    const plainClient = await qemuIo({ host: b.ip, port: d.port, export: d.secret }, ["read 0 512"]);
    expect(plainClient.ok).toBe(false);
    expect(plainClient.out).toMatch(/TLS/);
    // Another cluster's certificate (its own CA) is refused.
    const other = await generateClusterCert("other.example.com");
    const otherPem = path.join(env.root, "other", "server.pem");
    await writeCert(otherPem, other.pem);
    const otherTls = await ensureReplicationTls(otherPem, path.join(env.root, "other", "tls"));
    const foreign = await qemuIo({ host: b.ip, port: d.port, export: d.secret, tlsDir: otherTls, tlsHostname: REPLICATION_TLS_NAME }, [
      "read 0 512",
    ]);
    expect(foreign.ok).toBe(false);
    // The right certificate but a wrong export name: no such export.
    const aTls = path.join(a.dataDir, "replication", "tls");
    const wrong = await qemuIo({ host: b.ip, port: d.port, export: "guess", tlsDir: aTls, tlsHostname: REPLICATION_TLS_NAME }, [
      "read 0 512",
    ]);
    expect(wrong.ok).toBe(false);
    expect(wrong.out).toMatch(/not present|not available/);
    const right = await qemuIo({ host: b.ip, port: d.port, export: d.secret, tlsDir: aTls, tlsHostname: REPLICATION_TLS_NAME }, [
      "read 0 512",
    ]);
    expect(right.out).toContain("read 512/512");
    // The local export (the guests' attachment) is not on the network at all:
    // only root reaches its unix socket, in the disk's state directory.
    const local = await qemuIo({ host: b.ip, port: d.port, export: d.uuid, tlsDir: aTls, tlsHostname: REPLICATION_TLS_NAME }, [
      "read 0 512",
    ]);
    expect(local.ok).toBe(false);
    expect(local.out).toMatch(/not present|not available/);
    expect((await stat(path.join(b.dataDir, "replication", d.uuid))).mode & 0o777).toBe(0o700);
  });

  it("a restarted node daemon finds its storage daemons again; disconnect and attach resync; grow and remove on both sides", async () => {
    const d = await setup();
    await waitSynced(a, d.onA);
    const pidFile = path.join(a.dataDir, "replication", d.uuid, "pid");
    const pid = await readFile(pidFile, "utf8");
    a.backend.storage.replication.close();
    const restarted: TestNode = { ...a, backend: new NodeBackend({ dataDir: a.dataDir, nodeName: a.name }) };
    expect(await status(restarted, d.onA)).toMatchObject({ is_degraded: false });
    expect(await readFile(pidFile, "utf8")).toBe(pid);

    await restarted.backend.handle("drbd_disconnect_net", { disks: [d.onA] });
    await b.backend.handle("drbd_disconnect_net", { disks: [d.onB] });
    await restarted.backend.handle("drbd_attach_net", { disks: [d.onA], instance_name: "inst1", multimaster: false });
    await b.backend.handle("drbd_attach_net", { disks: [d.onB], instance_name: "inst1", multimaster: false });
    await waitSynced(restarted, d.onA);

    // Ganeti grows the secondary first, then the primary.
    await b.backend.handle("blockdev_grow", { disk: d.onB, amount: 8, dryrun: false });
    await restarted.backend.handle("blockdev_grow", { disk: d.onA, amount: 8, dryrun: false });
    expect(await restarted.backend.handle("blockdev_getsizes", { disks: [d.onA] })).toEqual([24]);
    expect(await b.backend.handle("blockdev_getsizes", { disks: [d.onB] })).toEqual([24]);
    await waitSynced(restarted, d.onA);

    await restarted.backend.handle("blockdev_remove", { disk: d.onA });
    await b.backend.handle("blockdev_remove", { disk: d.onB });
    expect(await restarted.backend.handle("blockdev_getsizes", { disks: [d.onA] })).toEqual([null]);
    expect(await status(b, d.onB)).toBeNull();
    restarted.backend.storage.replication.close();
  });

  it("a daemon started before the sockets left the state directory keeps its socket there, across a grow, until the disk is shut down", async () => {
    const d = await setup();
    await waitSynced(a, d.onA);
    const assemble = async () =>
      parseReplicaUri((await a.backend.handle("blockdev_assemble", { disk: d.onA, instance: "inst1", on_primary: true })) as string);
    // As a daemon of the earlier layout left it: the socket in the disk's state directory.
    await a.backend.handle("blockdev_shutdown", { disk: d.onA });
    const legacy = path.join(a.dataDir, "replication", d.uuid, "nbd");
    await writeFile(legacy, "");
    const uri = await assemble();
    expect(uri).toEqual({ socket: legacy, export: d.uuid });
    expect((await qemuIo(uri!, ["read 0 4096"])).out).toContain("read 4096/4096");
    // A grow restarts the daemon: its guests reconnect to the same socket.
    await b.backend.handle("blockdev_grow", { disk: d.onB, amount: 8, dryrun: false });
    await a.backend.handle("blockdev_grow", { disk: d.onA, amount: 8, dryrun: false });
    expect(await assemble()).toEqual(uri);
    expect((await qemuIo(uri!, ["read 0 4096"])).out).toContain("read 4096/4096");
    // Shut down: the disk's next daemon serves from the export directory.
    await a.backend.handle("blockdev_shutdown", { disk: d.onA });
    await expect(stat(legacy)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await assemble()).toEqual({ socket: path.join(replicationExportDir(a.dataDir), d.uuid), export: d.uuid });
  });

  it("a disk still on the single storage daemon of the earlier layout keeps being served; its instance's next start moves it to the two daemons", async () => {
    const d = await setup();
    await waitSynced(a, d.onA);
    // The primary's disk as an earlier version left it running: one daemon
    // with the peer exports and the local one, over TLS on the disk's port.
    await a.backend.handle("blockdev_shutdown", { disk: d.onA });
    const state = path.join(a.dataDir, "replication", d.uuid);
    const volume = (kind: string) => path.join(a.dataDir, "volumes", "xenvg", `${d.uuid}.disk0_${kind}`);
    const tls = path.join(a.dataDir, "replication", "tls");
    await writeFile(path.join(state, "hdr-out"), Buffer.alloc(4096));
    await writeFile(path.join(state, "hdr-in"), Buffer.alloc(4096));
    const single = new StorageDaemon(state);
    await single.start([
      "--object",
      `tls-creds-x509,id=tls-server,dir=${tls},endpoint=server,verify-peer=on`,
      "--object",
      `tls-creds-x509,id=tls-client,dir=${tls},endpoint=client`,
      "--blockdev",
      `driver=file,node-name=data-file,filename=${volume("data")}`,
      "--blockdev",
      "driver=raw,node-name=peer,file=data-file",
      "--blockdev",
      "driver=raw,node-name=local,file=data-file",
      "--blockdev",
      `driver=file,node-name=meta-file,filename=${volume("meta")}`,
      "--blockdev",
      "driver=raw,node-name=meta,file=meta-file,offset=0,size=4096",
      "--blockdev",
      `driver=file,node-name=hdr-out-file,filename=${path.join(state, "hdr-out")}`,
      "--blockdev",
      "driver=raw,node-name=hdr-out,file=hdr-out-file",
      "--blockdev",
      `driver=file,node-name=hdr-in-file,filename=${path.join(state, "hdr-in")}`,
      "--blockdev",
      "driver=raw,node-name=hdr-in,file=hdr-in-file",
      "--nbd-server",
      `addr.type=inet,addr.host=${a.ip},addr.port=${d.port},tls-creds=tls-server`,
      "--export",
      `type=nbd,id=peer,node-name=peer,name=${d.secret},writable=on`,
      "--export",
      `type=nbd,id=peer-meta,node-name=meta,name=${d.secret}.meta,writable=on`,
      "--export",
      `type=nbd,id=local,node-name=local,name=${d.uuid},writable=on`,
    ]);
    const singlePid = await single.pid();
    const peerPid = () => new StorageDaemon(path.join(state, "peer")).pid();
    // Activate-disks (a guest may be attached to it): it goes on serving, mirroring to the secondary;
    // no peer-facing daemon beside it (its port is taken).
    const served = parseReplicaUri(
      (await a.backend.handle("blockdev_assemble", { disk: d.onA, instance: "inst1", on_primary: true })) as string,
    );
    await waitSynced(a, d.onA);
    expect(await single.pid()).toBe(singlePid);
    expect(await peerPid()).toBeNull();
    // Its device path is where its guests are attached: the local export over TLS on the disk's port.
    expect(served).toEqual({ host: a.ip, port: d.port, export: d.uuid, tlsCredsDir: tls, tlsHostname: REPLICATION_TLS_NAME });
    const local = { host: a.ip, port: d.port, export: d.uuid, tlsDir: tls, tlsHostname: REPLICATION_TLS_NAME };
    const w = await qemuIo(local, [`write -P 0x5a ${MiB} 4096`, "flush"]);
    expect(w.out).toContain("wrote 4096/4096");
    expect(await holds(dataFile(b, d.uuid), MiB, 0x5a)).toBe(true);
    // Growing it would restart it in the new layout under its guests: refused.
    await expect(a.backend.handle("blockdev_grow", { disk: d.onA, amount: 8, dryrun: true })).rejects.toThrow(
      /still served by the single storage daemon of an earlier version/,
    );
    // Its instance starts on this node (no guest of it here): the disk moves to the two daemons.
    const instance = {
      ...guestInstance({ kernel: "", initrd: "", busybox: "", qemu: "" }, { disks: [d.onA] }),
      hypervisor: "fake",
      disk_template: "drbd",
    };
    await a.backend.handle("instance_start", { instance, startup_paused: false });
    expect(await single.pid()).not.toBe(singlePid);
    expect(await peerPid()).not.toBeNull();
    const uri = parseReplicaUri(
      (await a.backend.handle("blockdev_assemble", { disk: d.onA, instance: "inst1", on_primary: true })) as string,
    );
    expect(uri).toEqual({ socket: path.join(replicationExportDir(a.dataDir), d.uuid), export: d.uuid });
    await waitSynced(a, d.onA);
    expect((await qemuIo(uri!, [`read -P 0x5a ${MiB} 4096`])).out).toContain("read 4096/4096");
    await a.backend.handle("instance_shutdown", { instance, timeout: 0 });
  });

  it("opens a replicated disk as a file for the OS scripts; what they write is mirrored", async () => {
    const d = await setup();
    await waitSynced(a, d.onA);
    const dev = await a.backend.storage.replication.scriptDevice(drbdDiskOf(d.onA));
    try {
      const fh = await open(dev.path, "r+");
      try {
        expect((await fh.stat()).size).toBe(16 * MiB);
        await fh.write(Buffer.alloc(4096, 0x6b), 0, 4096, 2 * MiB);
        await fh.sync();
      } finally {
        await fh.close();
      }
      expect(await holds(dataFile(b, d.uuid), 2 * MiB, 0x6b)).toBe(true);
    } finally {
      await dev.close();
    }
    expect((await readFile("/proc/self/mounts", "utf8")).includes(dev.path)).toBe(false);
  });

  it("a primary restarted during the initial sync still marks the secondary consistent when asked for its status", async () => {
    const d = await setup();
    // The node daemon goes away before its watcher looked at the copy.
    a.backend.storage.replication.close();
    const restarted = new NodeBackend({ dataDir: a.dataDir, nodeName: a.name });
    try {
      expect(await b.backend.storage.replication.localHeader(drbdDiskOf(d.onB))).toMatchObject({ consistent: false });
      await until(
        "the primary in sync",
        async () => ((await restarted.handle("drbd_wait_sync", { disks: [d.onA] })) as { alldone: boolean }).alldone,
      );
      expect(await b.backend.storage.replication.localHeader(drbdDiskOf(d.onB))).toMatchObject({ consistent: true });
      await waitSynced(b, d.onB);
    } finally {
      restarted.storage.replication.close();
    }
  });

  it("reports a resync's progress and time left on the primary, and an inconsistent replica on the secondary (resync-rate limits the copy)", async () => {
    const d = await setup();
    await waitSynced(a, d.onA);
    // Fill the disk while the nodes are apart, then reconnect them at 2 MiB/s.
    await a.backend.handle("drbd_disconnect_net", { disks: [d.onA] });
    await b.backend.handle("drbd_disconnect_net", { disks: [d.onB] });
    const target = parseReplicaUri(d.devPath)!;
    expect((await qemuIo(target, ["write -P 0x33 0 16M"])).out).toContain("wrote 16777216/16777216");
    const slowA = { ...d.onA, params: { "resync-rate": 2048 } };
    await b.backend.handle("drbd_attach_net", { disks: [d.onB], instance_name: "inst1", multimaster: false });
    await a.backend.handle("drbd_attach_net", { disks: [slowA], instance_name: "inst1", multimaster: false });
    const during = await until("a resync with progress", async () => {
      const st = await status(a, slowA);
      return st?.sync_percent !== null && st?.estimated_time !== null ? st : undefined;
    });
    expect(during).toMatchObject({ is_degraded: true, ldisk_status: 1 });
    expect(during!.sync_percent!).toBeGreaterThanOrEqual(0);
    expect(during!.sync_percent!).toBeLessThan(100);
    expect(await status(b, d.onB)).toMatchObject({ is_degraded: true, ldisk_status: 2, sync_percent: null });
    const ws = (await a.backend.handle("drbd_wait_sync", { disks: [slowA] })) as { alldone: boolean; min_resync: number };
    expect(ws.alldone).toBe(false);
    await waitSynced(a, slowA);
    await waitSynced(b, d.onB);
    expect(await holds(dataFile(b, d.uuid), 15 * MiB, 0x33)).toBe(true);
  });

  it("creates a standalone replica (no port, as replace-disks -n does) as volumes only; attach starts replicating to it", async () => {
    const { onA, onB, secret, uuid } = await newDrbdPair(a, b, 16);
    const alone = { ...onB, logical_id: [a.name, b.name, null, 0, 1, secret] };
    expect(await b.backend.handle("blockdev_create", { disk: alone, owner: "inst1", on_primary: false })).toBe(dataFile(b, uuid));
    expect(await status(b, onB)).toBeNull();
    await a.backend.handle("blockdev_create", { disk: onA, owner: "inst1", on_primary: true });
    await b.backend.handle("drbd_attach_net", { disks: [onB], instance_name: "inst1", multimaster: false });
    await a.backend.handle("drbd_attach_net", { disks: [onA], instance_name: "inst1", multimaster: false });
    await waitSynced(a, onA);
    await waitSynced(b, onB);
  });

  it("replaces the secondary's volumes (remove/add children): the new ones are filled from the primary", async () => {
    const { d } = await syncedWithData();
    const fresh = await createNewVolumes(b, d.onB);
    await b.backend.handle("blockdev_removechildren", { parent: d.onB, children: d.onB.children! });
    await b.backend.handle("blockdev_addchildren", { parent: d.onB, children: fresh });
    const replaced = { ...d.onB, children: fresh };
    const newData = path.join(b.dataDir, "volumes", "xenvg", `${d.uuid}.disk0_data.new`);
    // As the master does after replacing: wait for the primary's sync.
    await waitSynced(a, d.onA);
    await waitSynced(b, replaced);
    expect(await holds(newData, 5 * MiB, 0x44)).toBe(true);
  });

  /** New volumes (".new") beside each of the disk's children on `n`, created there; the new children. */
  async function createNewVolumes(n: TestNode, disk: RpcDisk): Promise<RpcDisk[]> {
    const fresh = disk.children!.map((c): RpcDisk => ({
      ...c,
      uuid: `${c.uuid}-new`,
      logical_id: ["xenvg", `${String(c.logical_id[1])}.new`],
    }));
    for (const c of fresh) await n.backend.handle("blockdev_create", { disk: c, owner: "inst1", on_primary: false });
    return fresh;
  }

  /** Ganeti's replace-disks -p, its renames on the primary a: the old volumes aside, the new (`fresh`) to the old names. */
  async function renameOnPrimary(d: Awaited<ReturnType<typeof setup>>, fresh: RpcDisk[]) {
    const aside = d.onA.children!.map((c): RpcDisk => ({ ...c, logical_id: ["xenvg", `${String(c.logical_id[1])}_replaced-1`] }));
    for (const [i, c] of d.onA.children!.entries())
      await a.backend.handle("blockdev_rename", { disk: c, new_logical_id: aside[i]!.logical_id });
    const renamed = fresh.map((c, i): RpcDisk => ({ ...c, logical_id: d.onA.children![i]!.logical_id }));
    for (const [i, c] of fresh.entries()) await a.backend.handle("blockdev_rename", { disk: c, new_logical_id: renamed[i]!.logical_id });
    return { replaced: { ...d.onA, children: renamed }, aside };
  }

  /** Ganeti's replace-disks -p on the primary a: new volumes, detach, rename old aside and new to the old names (attaching is the caller's). */
  async function replaceOnPrimary(d: Awaited<ReturnType<typeof setup>>) {
    const fresh = await createNewVolumes(a, d.onA);
    await a.backend.handle("blockdev_removechildren", { parent: d.onA, children: d.onA.children! });
    return renameOnPrimary(d, fresh);
  }

  it("replaces the primary's volumes under a connected client: it reads and writes the secondary's replica meanwhile, the new volumes are filled from there, every write reaches both nodes", async () => {
    const { d, target } = await syncedWithData();
    // A client connected across the whole replacement, as the guest's qemu is.
    const held = qemuIo(target, [
      `write -P 0x33 ${4 * MiB} 4096`,
      "sleep 4000",
      `read -P 0x33 ${4 * MiB} 4096`,
      `write -P 0x34 ${4 * MiB} 4096`,
    ]);

    const fresh = await createNewVolumes(a, d.onA);
    await a.backend.handle("blockdev_removechildren", { parent: d.onA, children: d.onA.children! });
    // Without local storage: a write lands on the secondary, not on the old volume.
    expect((await qemuIo(target, [`write -P 0x55 ${6 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    expect(await holds(dataFile(b, d.uuid), 6 * MiB, 0x55)).toBe(true);
    expect(await holds(dataFile(a, d.uuid), 6 * MiB, 0)).toBe(true);
    expect((await qemuIo(target, [`read -P 0x44 ${5 * MiB} 4096`])).out).toContain("read 4096/4096");

    const { replaced, aside } = await renameOnPrimary(d, fresh);
    await a.backend.handle("blockdev_addchildren", { parent: d.onA, children: replaced.children });
    expect((await qemuIo(target, [`write -P 0x66 ${7 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    await waitSynced(a, replaced);
    expect(await status(a, replaced)).toMatchObject({ is_degraded: false, ldisk_status: 1, sync_percent: null });
    expect(await status(b, d.onB)).toMatchObject({ is_degraded: false, ldisk_status: 1 });
    expect((await qemuIo(target, [`write -P 0x77 ${8 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    const held2 = await held;
    expect(held2.out).toContain("read 4096/4096");
    expect(held2.out).not.toMatch(/error|fail/i);

    // The new volume (under the old name) and the secondary hold every write; the old one was left behind.
    for (const n of [a, b]) {
      for (const [off, byte] of [
        [4, 0x34],
        [5, 0x44],
        [6, 0x55],
        [7, 0x66],
        [8, 0x77],
      ] as const)
        expect({ node: n.name, off, ok: await holds(dataFile(n, d.uuid), off * MiB, byte) }).toEqual({
          node: n.name,
          off,
          ok: true,
        });
    }
    const oldData = path.join(a.dataDir, "volumes", "xenvg", `${d.uuid}.disk0_data_replaced-1`);
    expect(await holds(oldData, 8 * MiB, 0)).toBe(true);
    expect(await a.backend.storage.replication.localHeader(drbdDiskOf(replaced))).toMatchObject({ consistent: true });
    // The peer-facing export (what b writes into once it is the primary) serves the new volume too.
    const viaPeer = await qemuIo(
      { host: a.ip, port: d.port, export: d.secret, tlsDir: path.join(b.dataDir, "replication", "tls"), tlsHostname: REPLICATION_TLS_NAME },
      [`read -P 0x77 ${8 * MiB} 4096`],
    );
    expect(viaPeer.out).toContain("read 4096/4096");
    for (const c of aside) await a.backend.handle("blockdev_remove", { disk: c });
  });

  it("a primary whose storage daemon dies while its new volumes are filled resumes filling them from the secondary, never the other way round", async () => {
    const d = await setup(48);
    await waitSynced(a, d.onA);
    const target = parseReplicaUri(d.devPath)!;
    // Data everywhere, so that a slow copy (resync-rate) has something to copy.
    expect((await qemuIo(target, [`write -P 0x11 0 ${48 * MiB}`])).out).toContain("wrote");
    const { replaced, aside } = await replaceOnPrimary(d);
    await a.backend.handle("blockdev_addchildren", {
      parent: { ...d.onA, params: { "resync-rate": "1024" } },
      children: replaced.children,
    });
    const mid = await until("the copy under way", async () => {
      const st = await status(a, replaced);
      return st && st.sync_percent !== null && st.sync_percent < 90 ? st : undefined;
    });
    expect(mid).toMatchObject({ is_degraded: true, ldisk_status: 2 });
    // Both of its daemons: the node's own and the peer-facing one.
    await killDaemon(path.join(a.dataDir, "replication", d.uuid));
    // The node assembles the disk again (activate-disks, the watcher).
    await a.backend.handle("blockdev_assemble", { disk: replaced, instance: "inst1", on_primary: true });
    await waitSynced(a, replaced);
    expect((await qemuIo(target, [`write -P 0x22 ${9 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    for (const n of [a, b]) {
      const buf = await readAt(dataFile(n, d.uuid), 0, 48 * MiB);
      const expected = Buffer.alloc(48 * MiB, 0x11);
      expected.fill(0x22, 9 * MiB, 9 * MiB + 4096);
      expect({ node: n.name, same: buf.equals(expected) }).toEqual({ node: n.name, same: true });
    }
    expect(await status(b, d.onB)).toMatchObject({ is_degraded: false, ldisk_status: 1 });
    for (const c of aside) await a.backend.handle("blockdev_remove", { disk: c });
  });

  it("a primary whose storage daemon dies between giving up its volumes and getting the new ones keeps reading the secondary's replica, then fills the new ones", async () => {
    const { d, target } = await syncedWithData();
    await a.backend.handle("blockdev_removechildren", { parent: d.onA, children: d.onA.children! });
    // Both of its daemons: the node's own and the peer-facing one.
    await killDaemon(path.join(a.dataDir, "replication", d.uuid));
    await a.backend.handle("blockdev_assemble", { disk: d.onA, instance: "inst1", on_primary: true });
    // Still without local storage: writes land on the secondary, not on the old volume.
    expect((await qemuIo(target, [`write -P 0x55 ${6 * MiB} 4096`])).out).toContain("wrote 4096/4096");
    expect(await holds(dataFile(b, d.uuid), 6 * MiB, 0x55)).toBe(true);
    expect(await holds(dataFile(a, d.uuid), 6 * MiB, 0)).toBe(true);
    expect(await status(b, d.onB)).toMatchObject({ is_degraded: false, ldisk_status: 1 });

    const fresh = await createNewVolumes(a, d.onA);
    await a.backend.handle("blockdev_addchildren", { parent: d.onA, children: fresh });
    await waitSynced(a, { ...d.onA, children: fresh });
    const newData = path.join(a.dataDir, "volumes", "xenvg", `${d.uuid}.disk0_data.new`);
    expect(await holds(newData, 5 * MiB, 0x44)).toBe(true);
    expect(await holds(newData, 6 * MiB, 0x55)).toBe(true);
    expect(await holds(dataFile(b, d.uuid), 5 * MiB, 0x44)).toBe(true);
  });
});

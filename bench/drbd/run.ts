// Replicated (drbd) disk benchmark (a measurement, not a test): what the
// user-space replication engine costs a guest, against a `file` disk on the
// same machine, measured inside a real tiny guest in one interleaved run.
//
// Two node backends on random loopback addresses (the node side of two
// nodes on this machine: each with its own storage daemons, TLS between
// them), the kvm hypervisor of the first one starting the guest:
//  io:       per round, a guest on a fresh drbd disk (primary on node A,
//            synchronous mirror to node B) and a guest on a fresh file disk,
//            in turn (A B A B …, so that load drifts hit both). The guest runs
//            a script (gts.script on a second, small disk) that times with
//            /proc/uptime: a sequential write of SEQ MiB (1 MiB blocks,
//            O_DIRECT, fsync at the end), RAND random 4 KiB O_DIRECT writes
//            (one dd each), FSYNC 4 KiB writes each followed by fsync (one
//            dd each), and the same dd loop to /dev/null, whose time is taken
//            off the two per-operation figures (busybox has no way to issue
//            many small writes from one process).
//  sync:     the initial sync of a fresh SYNC MiB drbd disk (create on both
//            nodes until drbd_wait_sync says done), and the resync of the
//            same disk after the secondary's storage daemon was killed and
//            every MiB written on the primary alone (blockdev_assemble on
//            the secondary, drbd_attach_net on the primary, until in sync).
//  failover: a guest writing its counter on a drbd disk; kill -9 of the
//            primary's qemu and storage daemon; on the secondary the disk
//            assembled as primary and the guest started, until its console
//            marker (the node-side steps of `gnt instance failover
//            --ignore-consistency`, without the master's job overhead).
//
// Run: npx tsx bench/drbd/run.ts [--rounds 3] [--seq 32] [--rand 200] [--fsync 100] [--sync 256]
// Prints a table; docs/benchmarks.md ("Replicated disks") holds the numbers.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import type { RpcDisk, RpcInstance } from "@ganeti-ts/schema";
import type { KvmHypervisor } from "@ganeti-ts/server/hypervisors/kvm/kvm-hypervisor";
import { parseReplicaUri } from "@ganeti-ts/server/lib/replica-uri";
import { REPLICATION_TLS_NAME } from "@ganeti-ts/server/storage/replication/tls";
import {
  GUEST_MARKER,
  fileDisk,
  guestAssets,
  guestInstance,
  killGuestsUnder,
  waitForConsole,
  type GuestAssets,
} from "../../server/test/harness/kvm-guest.js";
import {
  createDrbdPair,
  killDaemon,
  newDrbdPair,
  qemuIo,
  twoNodes,
  waitSynced,
  type TestNode,
} from "../../server/test/storage/replication-fixture.js";
import { poller } from "../../server/test/harness/poll.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seq: { type: "string", default: "32" },
    rand: { type: "string", default: "200" },
    fsync: { type: "string", default: "100" },
    sync: { type: "string", default: "256" },
    qd1: { type: "string", default: "1000" },
  },
});
const ROUNDS = Number(values.rounds);
const SEQ = Number(values.seq);
const RAND = Number(values.rand);
const FSYNC = Number(values.fsync);
const SYNC = Number(values.sync);
const QD1 = Number(values.qd1);
const DISK_MIB = Math.max(64, SEQ * 2);
const MiB = 1024 * 1024;

const now = () => performance.now();

function stats(xs: number[]): { min: number; med: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, med: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

const until = poller({ timeoutMs: 600_000, intervalMs: 50 });

/** The guest's script: every figure as "GTS-BENCH key=seconds", then GTS-BENCH-DONE. */
function guestScript(): string {
  const blocks = (DISK_MIB * MiB) / 4096;
  return `
t() { cut -d' ' -f1 /proc/uptime; }
d() { awk "BEGIN{printf \\"%.2f\\", $2-$1}"; }
D=/dev/vda
dd if=/dev/urandom of=/tmp/buf bs=1M count=${SEQ} 2>/dev/null
sync
t0=$(t); dd if=/tmp/buf of=$D bs=1M count=${SEQ} oflag=direct conv=fsync,notrunc 2>/dev/null; t1=$(t)
echo "GTS-BENCH seq=$(d $t0 $t1)"
t0=$(t); dd if=/tmp/buf of=$D bs=1M count=${SEQ} seek=${SEQ} conv=fsync,notrunc 2>/dev/null; t1=$(t)
echo "GTS-BENCH seqbuf=$(d $t0 $t1)"
t0=$(t); dd if=/tmp/buf of=$D bs=4k count=${QD1} seek=${blocks / 2} oflag=direct conv=notrunc 2>/dev/null; t1=$(t)
echo "GTS-BENCH qd1=$(d $t0 $t1)"
i=0; t0=$(t)
while [ $i -lt ${RAND} ]; do dd if=/tmp/buf of=$D bs=4k count=1 seek=$(((RANDOM * 32768 + RANDOM) % ${blocks})) oflag=direct conv=notrunc 2>/dev/null; i=$((i+1)); done
t1=$(t); echo "GTS-BENCH rand=$(d $t0 $t1)"
i=0; t0=$(t)
while [ $i -lt ${FSYNC} ]; do dd if=/tmp/buf of=$D bs=4k count=1 seek=$i conv=fsync,notrunc 2>/dev/null; i=$((i+1)); done
t1=$(t); echo "GTS-BENCH fsync=$(d $t0 $t1)"
i=0; t0=$(t)
while [ $i -lt ${RAND} ]; do dd if=/tmp/buf of=/dev/null bs=4k count=1 skip=$((RANDOM % 64)) 2>/dev/null; i=$((i+1)); done
t1=$(t); echo "GTS-BENCH null=$(d $t0 $t1)"
echo GTS-BENCH-DONE
`;
}

interface IoSample {
  boot: number;
  seqMBs: number;
  /** The same write through the guest's page cache (no O_DIRECT), fsync at the end: writeback keeps several writes in flight. */
  seqBufMBs: number;
  /** 4 KiB O_DIRECT writes one after the other from one process (queue depth 1). */
  qd1Iops: number;
  /** Random 4 KiB O_DIRECT writes, one dd process each: ms per write, the process start included. */
  randMs: number;
  /** 4 KiB write + fsync, one dd process each: ms per operation, the process start included. */
  fsyncMs: number;
  /** The same dd loop to /dev/null: ms per process start. */
  nullMs: number;
}

class Bench {
  private seq = 0;
  constructor(
    private readonly a: TestNode,
    private readonly b: TestNode,
    private readonly assets: GuestAssets,
  ) {}

  /** Where the node accepts file disks (its default file storage directory). */
  get fileDir(): string {
    return path.join(this.a.dataDir, "file-storage");
  }

  kvm(n: TestNode): KvmHypervisor {
    return n.backend.hypervisors.get("kvm") as KvmHypervisor;
  }

  async newDrbd(sizeMiB: number) {
    const d = await newDrbdPair(this.a, this.b, sizeMiB);
    const t0 = now();
    const devPath = await createDrbdPair(d, "bench");
    await waitSynced(this.a, d.onA, until);
    return { ...d, devPath, syncMs: now() - t0 };
  }

  async removeDrbd(d: { onA: RpcDisk; onB: RpcDisk }): Promise<void> {
    await this.a.backend.handle("blockdev_remove", { disk: d.onA });
    await this.b.backend.handle("blockdev_remove", { disk: d.onB });
  }

  instance(n: TestNode, disks: RpcDisk[], kernelArgs: string, template: string): RpcInstance {
    return {
      ...guestInstance(this.assets, {
        name: `bench${++this.seq}-${process.pid}.example.com`,
        memory: 160,
        disks,
        hvparams: { kernel_args: kernelArgs },
      }),
      disk_template: template,
      primary_node: n.name,
    };
  }

  async stop(n: TestNode, inst: RpcInstance): Promise<void> {
    await n.backend.handle("instance_shutdown", { instance: inst, timeout: 0 });
  }

  /** One guest running the script on `disk` (vda); boot time and the figures. */
  async io(disk: RpcDisk, template: string): Promise<IoSample> {
    const scriptFile = path.join(this.fileDir, `script-${this.seq + 1}.img`);
    const body = Buffer.alloc(MiB);
    body.write(guestScript());
    await fs.writeFile(scriptFile, body);
    const inst = this.instance(this.a, [disk, fileDisk(scriptFile, 1)], "quiet gts.script=/dev/vdb", template);
    const serial = this.kvm(this.a).dirs.serialLog(inst.name);
    const t0 = now();
    await this.a.backend.handle("instance_start", { instance: inst, startup_paused: false });
    await waitForConsole(serial, new RegExp(GUEST_MARKER), { timeoutMs: 600_000 });
    const boot = now() - t0;
    await waitForConsole(serial, /GTS-BENCH-DONE/, { timeoutMs: 1_200_000 });
    const text = await fs.readFile(serial, "utf8");
    const fig = (k: string) => {
      const m = new RegExp(`GTS-BENCH ${k}=([0-9.]+)`).exec(text);
      if (!m) throw new Error(`no ${k} figure in the guest's console: ${text.slice(-500)}`);
      return Number(m[1]);
    };
    await this.stop(this.a, inst);
    await fs.rm(scriptFile, { force: true });
    return {
      boot,
      seqMBs: SEQ / Math.max(fig("seq"), 0.01),
      seqBufMBs: SEQ / Math.max(fig("seqbuf"), 0.01),
      qd1Iops: QD1 / Math.max(fig("qd1"), 0.01),
      randMs: (fig("rand") / RAND) * 1000,
      fsyncMs: (fig("fsync") / FSYNC) * 1000,
      nullMs: (fig("null") / RAND) * 1000,
    };
  }

  async ioRound(): Promise<{ drbd: IoSample; file: IoSample }> {
    const d = await this.newDrbd(DISK_MIB);
    const drbd = await this.io(d.onA, "drbd");
    await this.removeDrbd(d);
    const file = path.join(this.fileDir, `file-${this.seq + 1}.img`);
    await fs.writeFile(file, "");
    await fs.truncate(file, DISK_MIB * MiB);
    const f = await this.io(fileDisk(file, DISK_MIB), "file");
    await fs.rm(file, { force: true });
    return { drbd, file: f };
  }

  /**
   * Host side, no guest: SEQ writes of 1 MiB from one qemu-io (the time of
   * the writes as qemu-io measures each, so neither its start nor the TLS
   * handshake counts) to a raw file (O_DIRECT), to the secondary's replica
   * export (NBD over TLS, no mirror: the peer hop alone) and to the
   * primary's local export (NBD on its unix socket, then the synchronous
   * mirror over TLS to the secondary: what a drbd disk is): where the time goes.
   * MB/s each.
   */
  async breakdown(): Promise<{ file: number; nbd: number; mirror: number }> {
    const cmds = Array.from({ length: SEQ }, (_, i) => `write -P 0x33 ${i}M 1M`);
    const seconds = (out: string) => {
      const rates = [...out.matchAll(/and ([0-9.]+) ops\/sec/g)].map((m) => Number(m[1]));
      if (rates.length !== SEQ) throw new Error(`qemu-io: ${out.slice(-400)}`);
      return rates.reduce((acc, r) => acc + 1 / r, 0);
    };
    const file = path.join(this.fileDir, "breakdown.img");
    await fs.writeFile(file, "");
    await fs.truncate(file, DISK_MIB * MiB);
    const fileOut = await new Promise<string>((resolve, reject) =>
      execFile("qemu-io", ["-n", "-f", "raw", ...cmds.flatMap((c) => ["-c", c]), file], { maxBuffer: 16 << 20 }, (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    await fs.rm(file, { force: true });
    const d = await this.newDrbd(DISK_MIB);
    const tls = { tlsDir: path.join(this.a.dataDir, "replication", "tls"), tlsHostname: REPLICATION_TLS_NAME };
    const nbd = await qemuIo({ host: this.b.ip, port: d.port, export: d.secret, ...tls }, cmds);
    const mirror = await qemuIo(parseReplicaUri(d.devPath)!, cmds);
    await this.removeDrbd(d);
    const mbs = (sec: number) => SEQ / sec;
    return { file: mbs(seconds(fileOut)), nbd: mbs(seconds(nbd.out)), mirror: mbs(seconds(mirror.out)) };
  }

  /** Initial sync of a fresh disk; resync after every MiB changed on the primary alone. */
  async sync(): Promise<{ initialMs: number; resyncMs: number }> {
    const d = await this.newDrbd(SYNC);
    await killDaemon(path.join(this.b.dataDir, "replication", d.uuid));
    const w = await qemuIo(parseReplicaUri(d.devPath)!, [`write -P 0x5a 0 ${SYNC}M`, "flush"]);
    if (!w.out.includes("wrote")) throw new Error(`qemu-io: ${w.out}`);
    const t0 = now();
    await this.b.backend.handle("blockdev_assemble", { disk: d.onB, instance: "bench", on_primary: false });
    await this.a.backend.handle("drbd_attach_net", { disks: [d.onA], instance_name: "bench", multimaster: false });
    await waitSynced(this.a, d.onA, until);
    const resyncMs = now() - t0;
    await this.removeDrbd(d);
    return { initialMs: d.syncMs, resyncMs };
  }

  /** kill -9 of the primary's qemu and storage daemon → the guest's marker on the secondary. */
  async failover(): Promise<number> {
    const d = await this.newDrbd(64);
    const inst = this.instance(this.a, [d.onA], "quiet gts.counter=/dev/vda", "drbd");
    await this.a.backend.handle("instance_start", { instance: inst, startup_paused: false });
    await waitForConsole(this.kvm(this.a).dirs.serialLog(inst.name), /GTS-COUNTER \d+/, { timeoutMs: 600_000 });
    const qemuPid = Number((await fs.readFile(this.kvm(this.a).dirs.pidFile(inst.name), "utf8")).trim());
    const t0 = now();
    process.kill(qemuPid, "SIGKILL");
    await killDaemon(path.join(this.a.dataDir, "replication", d.uuid));
    const promoted: RpcDisk = { ...d.onB, dynamic_params: { ...d.onB.dynamic_params!, primary: true } };
    await this.b.backend.handle("blockdev_assemble", { disk: promoted, instance: inst.name, on_primary: true });
    const instB = { ...inst, disks: [promoted], primary_node: this.b.name };
    await this.b.backend.handle("instance_start", { instance: instB, startup_paused: false });
    await waitForConsole(this.kvm(this.b).dirs.serialLog(inst.name), new RegExp(GUEST_MARKER), { timeoutMs: 600_000 });
    const ms = now() - t0;
    await this.stop(this.b, instB);
    await this.a.backend.handle("instance_shutdown", { instance: inst, timeout: 0 }).catch(() => null);
    await this.b.backend.handle("blockdev_remove", { disk: promoted });
    await this.a.backend.handle("blockdev_remove", { disk: d.onA }).catch(() => null);
    return ms;
  }
}

async function main(): Promise<void> {
  const assets = await guestAssets();
  const env = await twoNodes();
  const bench = new Bench(env.a, env.b, assets);
  await fs.mkdir(bench.fileDir, { recursive: true });
  const loads: number[] = [os.loadavg()[0]!];
  try {
    const io: { drbd: IoSample; file: IoSample }[] = [];
    const parts: { file: number; nbd: number; mirror: number }[] = [];
    const syncs: { initialMs: number; resyncMs: number }[] = [];
    const failovers: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const s = await bench.ioRound();
      io.push(s);
      parts.push(await bench.breakdown());
      loads.push(os.loadavg()[0]!);
      console.error(
        `io round ${r + 1}/${ROUNDS}: seq ${s.drbd.seqMBs.toFixed(1)} vs ${s.file.seqMBs.toFixed(1)} MB/s, buffered ${s.drbd.seqBufMBs.toFixed(1)} vs ${s.file.seqBufMBs.toFixed(1)} MB/s, qd1 ${s.drbd.qd1Iops.toFixed(0)} vs ${s.file.qd1Iops.toFixed(0)} IOPS, rand ${s.drbd.randMs.toFixed(1)} vs ${s.file.randMs.toFixed(1)} ms, fsync ${s.drbd.fsyncMs.toFixed(1)} vs ${s.file.fsyncMs.toFixed(1)} ms (drbd vs file)`,
      );
    }
    for (let r = 0; r < ROUNDS; r++) {
      syncs.push(await bench.sync());
      failovers.push(await bench.failover());
      loads.push(os.loadavg()[0]!);
      console.error(
        `sync round ${r + 1}/${ROUNDS}: initial ${syncs[r]!.initialMs.toFixed(0)} ms, resync ${syncs[r]!.resyncMs.toFixed(0)} ms, failover ${failovers[r]!.toFixed(0)} ms`,
      );
    }
    const f1 = (s: { min: number; med: number; max: number }, d = 1) => `${s.min.toFixed(d)} / ${s.med.toFixed(d)} / ${s.max.toFixed(d)}`;
    const table = new Table({
      head: ["figure", "drbd (min / median / max)", "file (min / median / max)", "drbd/file per round (min / median / max)"],
    });
    const row = (name: string, pick: (s: IoSample) => number, d = 1) => {
      const dr = stats(io.map((s) => pick(s.drbd)));
      const fi = stats(io.map((s) => pick(s.file)));
      const ratio = stats(io.map((s) => pick(s.drbd) / pick(s.file)));
      table.push([name, f1(dr, d), f1(fi, d), f1(ratio, 2)]);
    };
    row(`sequential write ${SEQ} MiB (1 MiB O_DIRECT writes, fsync), MB/s`, (s) => s.seqMBs);
    row(`sequential write ${SEQ} MiB through the page cache, fsync, MB/s`, (s) => s.seqBufMBs);
    row(`4 KiB O_DIRECT writes, queue depth 1 (${QD1}, one dd), IOPS`, (s) => s.qd1Iops, 0);
    row(`random 4 KiB O_DIRECT write (${RAND}, one dd each), ms each incl. dd start`, (s) => s.randMs, 2);
    row(`4 KiB write + fsync (${FSYNC}, one dd each), ms each incl. dd start`, (s) => s.fsyncMs, 2);
    row(`dd start alone (${RAND} to /dev/null), ms each`, (s) => s.nullMs, 2);
    row("guest boot to console marker, ms", (s) => s.boot, 0);
    console.log(table.toString());
    const t2 = new Table({ head: ["figure", "min / median / max"] });
    const rate = (ms: number) => SYNC / (ms / 1000);
    t2.push([`initial sync of a fresh ${SYNC} MiB disk, MiB/s`, f1(stats(syncs.map((s) => rate(s.initialMs))))]);
    t2.push([`resync of ${SYNC} MiB written while the secondary was down, MiB/s`, f1(stats(syncs.map((s) => rate(s.resyncMs))))]);
    t2.push(["failover: kill -9 of the primary to the guest's marker on the secondary, ms", f1(stats(failovers), 0)]);
    const t3 = new Table({
      head: [`host side: ${SEQ} writes of 1 MiB from qemu-io, MB/s`, "min / median / max", "÷ file, per round (median)"],
    });
    const part = (name: string, pick: (x: { file: number; nbd: number; mirror: number }) => number) =>
      t3.push([name, f1(stats(parts.map(pick))), stats(parts.map((x) => pick(x) / x.file)).med.toFixed(2)]);
    part("raw file, O_DIRECT", (x) => x.file);
    part("NBD over TLS to the peer's replica, no mirror (the peer hop)", (x) => x.nbd);
    part("NBD on the local unix socket + synchronous mirror over TLS (a drbd disk)", (x) => x.mirror);
    console.log(t2.toString());
    console.log(t3.toString());
    console.log(
      `rounds: ${ROUNDS} (io interleaved drbd, file); load average (1 min) during the run: ${loads.map((l) => l.toFixed(1)).join(", ")} on ${os.cpus().length} CPUs`,
    );
  } finally {
    await killGuestsUnder(env.root);
    await env.cleanup();
  }
}

await main();

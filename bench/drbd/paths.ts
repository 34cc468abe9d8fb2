// Data-path probe for replicated disks (a measurement, not a test): which
// arrangement of qemu's own building blocks could bring a drbd disk's
// sequential write inside a guest to half a file disk's. Each variant is
// built by hand from qemu-storage-daemon and qemu, without the engine, so
// that designs can be compared before one is built:
//   file          virtio-blk on a raw file in the guest's qemu (the reference);
//   nbd           the guest's qemu → NBD on a unix socket → a storage daemon
//                 writing the raw file (the engine's local hop, no mirror);
//   vub           the same daemon serving the guest over vhost-user-blk
//                 (shared guest memory, no NBD hop);
//   nbd+mirror    nbd, plus a write-blocking mirror in the daemon to a peer
//                 daemon over NBD with TLS (what the engine runs);
//   nbd+mirror-tcp the same without TLS;
//   vub+mirror    vub with that mirror (and vub+mirror-tcp without TLS);
//   nbd+quorum    nbd, the daemon writing the local file and the peer (TLS)
//                 at once through qemu's quorum driver (vote-threshold 1);
//   vub+quorum    vub with that quorum;
//   own+quorum    no storage daemon on the guest's node: the guest's own qemu
//                 writes the local file and the peer (TLS) at once (quorum).
// Per round every variant runs once, in turn; the guest writes SEQ MiB in
// 1 MiB O_DIRECT writes with fsync, three times, and the median of its
// three times is the round's figure. Prints MB/s per variant and the
// ratio to `file` of the same round.
//
// Run: npx tsx bench/drbd/paths.ts [--rounds 3] [--seq 32] [--only REGEX]
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { z } from "zod";
import { withQmp } from "@ganeti-ts/server/hypervisors/kvm/qmp";
import { generateClusterCert, writeCert } from "@ganeti-ts/server/lib/certs";
import { ensureReplicationTls, REPLICATION_TLS_NAME } from "@ganeti-ts/server/storage/replication/tls";
import { guestAssets, type GuestAssets } from "../../server/test/harness/kvm-guest.js";
import { freePort } from "../../server/test/storage/replication-fixture.js";
import { poller } from "../../server/test/harness/poll.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seq: { type: "string", default: "32" },
    only: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const SEQ = Number(values.seq);
const DISK_MIB = Math.max(64, SEQ * 2);
const MARK = "GTS-PATHS";

type Guest = "file" | "nbd" | "vub" | "own";
type Peer = "none" | "mirror" | "mirror-tcp" | "quorum";
interface Variant {
  name: string;
  guest: Guest;
  peer: Peer;
}
const VARIANTS: Variant[] = (
  [
    ["file", "file", "none"],
    ["nbd", "nbd", "none"],
    ["vub", "vub", "none"],
    ["nbd+mirror", "nbd", "mirror"],
    ["nbd+mirror-tcp", "nbd", "mirror-tcp"],
    ["vub+mirror", "vub", "mirror"],
    ["vub+mirror-tcp", "vub", "mirror-tcp"],
    ["nbd+quorum", "nbd", "quorum"],
    ["own+quorum", "own", "quorum"],
    ["vub+quorum", "vub", "quorum"],
  ] as const
)
  .map(([name, guest, peer]) => ({ name, guest, peer }))
  .filter((v) => !values.only || new RegExp(values.only).test(v.name));

function guestScript(): string {
  return `
t() { cut -d' ' -f1 /proc/uptime; }
dd if=/dev/urandom of=/tmp/buf bs=1M count=${SEQ} 2>/dev/null
sync
for r in 1 2 3; do
  t0=$(t); dd if=/tmp/buf of=/dev/vda bs=1M count=${SEQ} oflag=direct conv=fsync,notrunc 2>/dev/null; t1=$(t)
  echo "${MARK} seq=$(awk "BEGIN{printf \\"%.3f\\", $t1-$t0}")"
done
echo ${MARK}-DONE
poweroff -f
`;
}

const children: ChildProcess[] = [];
function start(cmd: string, args: string[], log: string): ChildProcess {
  const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  p.stderr!.on("data", (b: Buffer) => void fs.appendFile(log, b));
  children.push(p);
  return p;
}
async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once("exit", r));
  p.kill("SIGKILL");
  await done;
}
const until = poller({ timeoutMs: 120_000, intervalMs: 50 });
const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect({ host: "127.0.0.1", port }, () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
const exists = (f: string) =>
  fs.access(f).then(
    () => true,
    () => false,
  );

async function round(a: GuestAssets, dir: string, tls: string, v: Variant): Promise<number> {
  const disk = path.join(dir, "disk.img");
  const peerDisk = path.join(dir, "peer.img");
  const serial = path.join(dir, "serial.log");
  for (const f of [disk, peerDisk, serial]) await fs.rm(f, { force: true });
  for (const f of [disk, peerDisk]) await fs.writeFile(f, "").then(() => fs.truncate(f, DISK_MIB << 20));
  const started: ChildProcess[] = [];
  try {
    const port = await freePort(["127.0.0.1"]);
    if (v.peer !== "none") {
      const tlsOpt = v.peer === "mirror-tcp" ? "" : ",tls-creds=tls";
      started.push(
        start(
          "qemu-storage-daemon",
          [
            ...["--object", `tls-creds-x509,id=tls,dir=${tls},endpoint=server`],
            ...["--blockdev", `driver=file,node-name=f,filename=${peerDisk}`, "--blockdev", "driver=raw,node-name=r,file=f"],
            ...["--nbd-server", `addr.type=inet,addr.host=127.0.0.1,addr.port=${port}${tlsOpt}`],
            ...["--export", "type=nbd,id=e,node-name=r,name=peer,writable=on"],
          ],
          path.join(dir, "peer.log"),
        ),
      );
    }
    let dev: string[] = [];
    if (v.guest === "file") {
      dev = ["-drive", `file=${disk},format=raw,if=none,id=d,aio=threads`, "-device", "virtio-blk-pci,drive=d,addr=0x5"];
    } else if (v.guest === "own") {
      await until("peer storage daemon", () => portOpen(port));
      dev = [
        ...["-object", `tls-creds-x509,id=tls,dir=${tls},endpoint=client`, "-object", "iothread,id=io0"],
        ...["-blockdev", `driver=file,node-name=lf,filename=${disk},aio=threads`, "-blockdev", "driver=raw,node-name=lr,file=lf"],
        "-blockdev",
        `driver=nbd,node-name=remote,server.type=inet,server.host=127.0.0.1,server.port=${port},export=peer,tls-creds=tls,tls-hostname=${REPLICATION_TLS_NAME}`,
        ...["-blockdev", "driver=quorum,node-name=q,vote-threshold=1,children.0=lr,children.1=remote"],
        ...["-device", "virtio-blk-pci,drive=q,addr=0x5,iothread=io0"],
      ];
    } else {
      const qmp = path.join(dir, "qmp.sock");
      const sock = path.join(dir, "disk.sock");
      for (const f of [qmp, sock]) await fs.rm(f, { force: true });
      started.push(
        start(
          "qemu-storage-daemon",
          [
            ...["--object", `tls-creds-x509,id=tls,dir=${tls},endpoint=client`],
            ...["--blockdev", `driver=file,node-name=f,filename=${disk}`, "--blockdev", "driver=raw,node-name=r,file=f"],
            ...["--chardev", `socket,id=m,path=${qmp},server=on,wait=off`, "--monitor", "chardev=m"],
          ],
          path.join(dir, "local.log"),
        ),
      );
      await until("local storage daemon's monitor", () => exists(qmp));
      await withQmp(qmp, async (c) => {
        let exported = "r";
        if (v.peer !== "none") {
          const tlsArgs = v.peer === "mirror-tcp" ? {} : { "tls-creds": "tls", "tls-hostname": REPLICATION_TLS_NAME };
          const server = { type: "inet", host: "127.0.0.1", port: String(port) };
          await until("peer storage daemon", async () => {
            try {
              await c.execute("blockdev-add", { driver: "nbd", "node-name": "remote", server, export: "peer", ...tlsArgs });
              return true;
            } catch {
              return false;
            }
          });
          if (v.peer === "quorum") {
            await c.execute("blockdev-add", { driver: "quorum", "node-name": "q", "vote-threshold": 1, children: ["r", "remote"] });
            exported = "q";
          }
        }
        if (v.guest === "nbd") {
          await c.execute("nbd-server-start", { addr: { type: "unix", data: { path: sock } } });
          await c.execute("block-export-add", { type: "nbd", id: "e", "node-name": exported, name: "x", writable: true });
        } else {
          const addr = { type: "unix", path: sock };
          await c.execute("block-export-add", { type: "vhost-user-blk", id: "e", "node-name": exported, addr, writable: true });
        }
        // After the export: the mirror's filter takes the place of the
        // node under the parents it has when it starts.
        if (v.peer === "mirror" || v.peer === "mirror-tcp") {
          await c.execute("blockdev-mirror", { "job-id": "m", device: "r", target: "remote", sync: "none", "copy-mode": "write-blocking" });
          // Writes are mirrored synchronously once the job is ready.
          await until("mirror ready", async () => {
            const jobs = z.array(z.object({ ready: z.boolean() })).parse(await c.execute("query-block-jobs"));
            return jobs[0]?.ready === true;
          });
        }
      });
      dev =
        v.guest === "nbd"
          ? [
              ...["-object", "iothread,id=io0"],
              ...["-drive", `file.driver=nbd,file.server.type=unix,file.server.path=${sock},file.export=x,format=raw,if=none,id=d`],
              ...["-device", "virtio-blk-pci,drive=d,addr=0x5,iothread=io0"],
            ]
          : [
              // vhost-user needs the guest's RAM shareable with the daemon.
              ...["-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-machine", "memory-backend=mem"],
              ...["-chardev", `socket,id=c0,path=${sock}`, "-device", "vhost-user-blk-pci,chardev=c0,addr=0x5"],
            ];
    }
    const script = path.join(dir, "script.img");
    const text = Buffer.from(guestScript());
    await fs.writeFile(script, Buffer.concat([text, Buffer.alloc((1 << 20) - text.length)]));
    const qemu = start(
      a.qemu,
      [
        ...["-machine", "pc,accel=tcg", "-m", "256", "-nographic", "-nodefaults", "-serial", `file:${serial}`],
        ...["-kernel", a.kernel, "-initrd", a.initrd, "-append", "console=ttyS0 quiet gts.script=/dev/vdb"],
        ...["-drive", `file=${script},format=raw,if=none,id=s`, "-device", "virtio-blk-pci,drive=s,addr=0x6"],
        ...dev,
      ],
      path.join(dir, "qemu.log"),
    );
    started.push(qemu);
    const out = await until(`guest of ${v.name}`, async () => {
      const s = await fs.readFile(serial, "utf8").catch(() => "");
      return s.includes(`${MARK}-DONE`) ? s : null;
    });
    const times = [...out.matchAll(new RegExp(`${MARK} seq=([0-9.]+)`, "g"))].map((m) => Number(m[1])).sort((x, y) => x - y);
    if (v.peer !== "none") {
      // The mirror or quorum must have put every byte on the peer too.
      const [x, y] = await Promise.all([fs.readFile(disk), fs.readFile(peerDisk)]);
      if (!x.subarray(0, SEQ << 20).equals(y.subarray(0, SEQ << 20))) throw new Error(`${v.name}: the peer's copy differs`);
    }
    return SEQ / 1.048576 / times[1]!;
  } finally {
    for (const p of started) await stop(p);
  }
}

async function main(): Promise<void> {
  const a = await guestAssets();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "gts-paths-"));
  try {
    const cert = await generateClusterCert("paths.example.com");
    await writeCert(path.join(dir, "server.pem"), cert.pem);
    const tls = await ensureReplicationTls(path.join(dir, "server.pem"), path.join(dir, "tls"));
    const mbs = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
    const ratio = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const got = new Map<string, number>();
      for (const v of VARIANTS) got.set(v.name, await round(a, dir, tls, v));
      for (const [k, x] of got) {
        mbs.get(k)!.push(x);
        if (got.has("file")) ratio.get(k)!.push(x / got.get("file")!);
      }
      console.error(
        `round ${r + 1}/${ROUNDS}: ${[...got].map(([k, x]) => `${k} ${x.toFixed(0)}`).join(", ")} MB/s (load ${os.loadavg()[0]!.toFixed(2)})`,
      );
    }
    const mmm = (xs: number[], d: number) => {
      const s = [...xs].sort((x, y) => x - y);
      return s.length ? `${s[0]!.toFixed(d)} / ${s[Math.floor(s.length / 2)]!.toFixed(d)} / ${s[s.length - 1]!.toFixed(d)}` : "";
    };
    const t = new Table({ style: { head: [], border: [] }, head: ["variant", "MB/s (min / median / max)", "÷ file, per round"] });
    for (const v of VARIANTS) t.push([v.name, mmm(mbs.get(v.name)!, 0), mmm(ratio.get(v.name)!, 2)]);
    console.log(`${SEQ} MiB in 1 MiB O_DIRECT writes + fsync, median of 3 per guest; ${ROUNDS} rounds`);
    console.log(t.toString());
  } finally {
    for (const p of children) await stop(p);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();

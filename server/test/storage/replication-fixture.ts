// Two node backends with replicated disks between them on random loopback
// addresses and a random port, real qemu-storage-daemons; cleanup kills
// every storage daemon the test started.
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { RpcDisk } from "@ganeti-ts/schema";
import { generateClusterCert, writeCert } from "../../src/lib/certs.js";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { isPidAlive } from "../../src/storage/replication/daemon.js";
import { removeExportDir } from "../../src/storage/replication/engine.js";
import { kvmSocketDirOutside } from "../../src/hypervisors/kvm/runtime.js";
import { poller } from "../harness/poll.js";
import { tempDir } from "../noded/fixtures.js";

export interface TestNode {
  name: string;
  ip: string;
  dataDir: string;
  backend: NodeBackend;
}

/** A random 127.a.b.c address pair (never 127.0.0.x, which other tests use). */
export function randomLoopbackPair(): [string, string] {
  const a = 16 + Math.floor(Math.random() * 200);
  const b = Math.floor(Math.random() * 250);
  const c = 2 + Math.floor(Math.random() * 100);
  return [`127.${a}.${b}.${c}`, `127.${a}.${b}.${c + 1}`];
}

/** A port free on both addresses right now. */
export async function freePort(ips: string[]): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const ok = await Promise.all(
      ips.map(
        (host) =>
          new Promise<boolean>((resolve) => {
            const srv = net.createServer();
            srv.once("error", () => resolve(false));
            srv.listen({ host, port }, () => srv.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
}

/** Two node backends; `runDir` instead of /run/ganeti-ts for their export sockets. */
export async function twoNodes(
  opts: { runDir?: string } = {},
): Promise<{ a: TestNode; b: TestNode; root: string; cleanup: () => Promise<void> }> {
  const { dir: root, cleanup: rmRoot } = await tempDir("gts-repl-");
  const cert = await generateClusterCert("cluster.example.com");
  const [ipA, ipB] = randomLoopbackPair();
  const mk = async (name: string, ip: string): Promise<TestNode> => {
    const dataDir = path.join(root, name);
    await fs.mkdir(dataDir, { recursive: true });
    await writeCert(path.join(dataDir, "server.pem"), cert.pem);
    return { name, ip, dataDir, backend: new NodeBackend({ dataDir, nodeName: name, runDir: opts.runDir }) };
  };
  const a = await mk("a", ipA);
  const b = await mk("b", ipB);
  const cleanup = async () => {
    for (const n of [a, b]) {
      n.backend.storage.replication.close();
      await killDaemons(n.dataDir);
      // A guest's sockets live under /tmp when the data directory is deep.
      const sockets = kvmSocketDirOutside(n.dataDir);
      if (sockets) await fs.rm(sockets, { recursive: true, force: true });
      await removeExportDir(n.dataDir, opts.runDir);
    }
    await rmRoot();
  };
  return { a, b, root, cleanup };
}

/** SIGKILL every storage daemon below a node's data dir. */
export async function killDaemons(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, "replication");
  let entries: string[] = [];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    await killDaemon(path.join(dir, e, "scripts"));
    await killDaemon(path.join(dir, e));
  }
}

/** SIGKILL the storage daemon whose state is in stateDir, then a disk's peer-facing daemon below it. */
export async function killDaemon(stateDir: string): Promise<void> {
  await killOne(stateDir);
  await killOne(path.join(stateDir, "peer"));
}

async function killOne(stateDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await fs.readFile(path.join(stateDir, "pid"), "utf8"), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isPidAlive(pid)) return;
  try {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes(stateDir)) return;
  } catch {
    return;
  }
  process.kill(pid, "SIGKILL");
  for (let i = 0; i < 200 && isPidAlive(pid); i++) await new Promise((r) => setTimeout(r, 25));
}

/** The drbd disk as the master sends it to `self` (primary or not). */
export function drbdDisk(
  opts: { uuid: string; port: number; secret: string; sizeMiB: number; primaryNode: TestNode; secondaryNode: TestNode },
  self: TestNode,
): RpcDisk {
  const isPrimary = self === opts.primaryNode;
  const peer = isPrimary ? opts.secondaryNode : opts.primaryNode;
  const child = (kind: string, size: number): RpcDisk => ({
    uuid: `${opts.uuid}-${kind}`,
    dev_type: "plain",
    size,
    mode: "rw",
    name: null,
    logical_id: ["xenvg", `${opts.uuid}.disk0_${kind}`],
    params: {},
  });
  return {
    uuid: opts.uuid,
    dev_type: "drbd",
    size: opts.sizeMiB,
    mode: "rw",
    name: null,
    logical_id: [opts.primaryNode.name, opts.secondaryNode.name, opts.port, 0, 1, opts.secret],
    params: {},
    children: [child("data", opts.sizeMiB), child("meta", 128)],
    dynamic_params: {
      local_ip: self.ip,
      remote_ip: peer.ip,
      local_minor: isPrimary ? 0 : 1,
      remote_minor: isPrimary ? 1 : 0,
      primary: isPrimary,
    },
  };
}

export function newDiskIds(): { uuid: string; secret: string } {
  return { uuid: randomUUID().slice(0, 8), secret: randomBytes(10).toString("hex") };
}

/** A new drbd disk of `sizeMiB` with its primary on `a` and its secondary on `b` (a free port, new ids): as each node is sent it. */
export async function newDrbdPair(a: TestNode, b: TestNode, sizeMiB: number) {
  const ids = newDiskIds();
  const port = await freePort([a.ip, b.ip]);
  const spec = { ...ids, port, sizeMiB, primaryNode: a, secondaryNode: b };
  return { ...ids, port, spec, onA: drbdDisk(spec, a), onB: drbdDisk(spec, b) };
}

export type DrbdPair = Awaited<ReturnType<typeof newDrbdPair>>;

/** blockdev_create on both nodes in Ganeti's order (the secondary first, then the primary); the primary's device path. */
export async function createDrbdPair(d: DrbdPair, owner: string): Promise<string> {
  await d.spec.secondaryNode.backend.handle("blockdev_create", { disk: d.onB, owner, on_primary: false });
  return (await d.spec.primaryNode.backend.handle("blockdev_create", { disk: d.onA, owner, on_primary: true })) as string;
}

/** Polls drbd_wait_sync on `n` until the disk is in sync there; its last answer. */
export function waitSynced(
  n: TestNode,
  disk: unknown,
  until = poller({ timeoutMs: 90_000 }),
): Promise<{ alldone: boolean; min_resync: number }> {
  return until(`${n.name} in sync`, async () => {
    const r = (await n.backend.handle("drbd_wait_sync", { disks: [disk] })) as { alldone: boolean; min_resync: number };
    return r.alldone ? r : undefined;
  });
}

/** Run qemu-io with the given commands against an NBD export: a unix socket, or TCP (TLS with the creds in `tlsDir` when given). */
export function qemuIo(
  target: { host: string; port: number; export: string; tlsDir?: string; tlsHostname?: string } | { socket: string; export: string },
  commands: string[],
): Promise<{ ok: boolean; out: string }> {
  const opts =
    "socket" in target
      ? [`driver=nbd`, `server.type=unix`, `server.path=${target.socket}`, `export=${target.export}`]
      : [`driver=nbd`, `server.type=inet`, `server.host=${target.host}`, `server.port=${target.port}`, `export=${target.export}`];
  const args: string[] = [];
  if (!("socket" in target) && target.tlsDir) {
    args.push("--object", `tls-creds-x509,id=tls0,dir=${target.tlsDir},endpoint=client`);
    opts.push("tls-creds=tls0");
    if (target.tlsHostname) opts.push(`tls-hostname=${target.tlsHostname}`);
  }
  for (const c of commands) args.push("-c", c);
  args.push("--image-opts", opts.join(","));
  return new Promise((resolve) => {
    execFile("qemu-io", args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}` }));
  });
}

export async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

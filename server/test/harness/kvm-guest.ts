// The tiny kvm guest for tests: scripts/ensure-kvm-assets.sh installs qemu
// and busybox when missing and builds (cached) the uncompressed cloud kernel
// and the guest initramfs, whose /init (server/os/busybox/guest-init) prints
// GANETI-TS-GUEST-UP on the serial console, powers off on the ACPI button,
// reports its disks ("GTS-DISKS vda=<sectors>") and NICs ("GTS-NICS
// eth0=<mac>") whenever they change, and with gts.counter=/dev/vdX keeps
// writing a counter to that disk with fsync.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { RpcDisk, RpcInstance, RpcNic } from "@ganeti-ts/schema";
import { DEFAULT_HVPARAMS } from "../../src/config/defaults.js";
import type { HvNodeInfo } from "../../src/hypervisors/hypervisor.js";
import { KvmDirs } from "../../src/hypervisors/kvm/runtime.js";

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
export const GUEST_MARKER = "GANETI-TS-GUEST-UP";

export interface GuestAssets {
  kernel: string;
  initrd: string;
  busybox: string;
  qemu: string;
}

let assets: Promise<GuestAssets> | null = null;

/** Install/build the guest assets once per test process. */
export function guestAssets(): Promise<GuestAssets> {
  assets ??= (async () => {
    const { stdout } = await run("bash", [path.join(REPO, "scripts", "ensure-kvm-assets.sh")], { maxBuffer: 16 << 20 });
    const kv = Object.fromEntries(
      stdout
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    ) as Record<string, string>;
    return { kernel: kv["GUEST_KERNEL"]!, initrd: kv["GUEST_INITRD"]!, busybox: kv["BUSYBOX"]!, qemu: kv["QEMU"]! };
  })();
  return assets;
}

/** kvm hvparams (Ganeti's defaults) for the tiny guest: direct kernel boot, 96 MiB, TCG. */
export function guestHvparams(a: GuestAssets, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...DEFAULT_HVPARAMS.kvm,
    kvm_path: a.qemu,
    kernel_path: a.kernel,
    initrd_path: a.initrd,
    root_path: "/dev/vda1",
    kernel_args: "quiet",
    serial_speed: 115200,
    ...over,
  };
}

let seq = 0;
export function uuid(): string {
  const h = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `${h(8)}-${h(4)}-4${h(3)}-a${h(3)}-${h(12)}`;
}

export function guestInstance(
  a: GuestAssets,
  o: { name?: string; memory?: number; minmem?: number; hvparams?: Record<string, unknown>; disks?: RpcDisk[]; nics?: RpcNic[] } = {},
): RpcInstance {
  const memory = o.memory ?? 96;
  return {
    name: o.name ?? `guest${++seq}-${process.pid}.example.com`,
    uuid: uuid(),
    hypervisor: "kvm",
    os: "busybox",
    hvparams: guestHvparams(a, o.hvparams),
    beparams: { maxmem: memory, minmem: o.minmem ?? memory, vcpus: 1, auto_balance: true, always_failover: false, spindle_use: 1 },
    osparams: {},
    osparams_private: {},
    nics: o.nics ?? [],
    disks: o.disks ?? [],
    disk_template: o.disks?.length ? "file" : "diskless",
    primary_node: "node1.example.com",
    secondary_nodes: [],
    tags: [],
  };
}

export function fileDisk(file: string, size: number): RpcDisk {
  return { uuid: uuid(), dev_type: "file", size, mode: "rw", name: null, logical_id: ["loop", file], params: {} };
}

export function nic(mac: string): RpcNic {
  return { uuid: uuid(), name: null, mac, ip: null, mode: "bridged", link: "", vlan: "", network: null, network_name: null };
}

/** Wait until `file` contains a line matching `re` after byte `from`; returns the match. */
export async function waitForConsole(
  file: string,
  re: RegExp,
  opts: { from?: number; timeoutMs?: number } = {},
): Promise<RegExpMatchArray> {
  const end = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    const m = text.slice(opts.from ?? 0).match(re);
    if (m) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re} in ${file}; tail: ${text.slice(-400)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function fileSize(file: string): Promise<number> {
  return fs.stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

/** At most `n` guests booting at once in one test file (boots are CPU bound). */
export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/** Kill every qemu whose pid file is under `dir` (test cleanup, even after failures). */
export async function killGuestsUnder(dir: string): Promise<number> {
  let killed = 0;
  const kvmDirs: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name === "kvm" && path.basename(d) === "hypervisors") kvmDirs.push(p);
        await walk(p);
      } else if (e.name.endsWith(".pid")) {
        const pid = Number((await fs.readFile(p, "utf8").catch(() => "")).trim());
        if (!Number.isInteger(pid) || pid <= 1) continue;
        const cmd = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
        if (!cmd.includes("qemu") && !cmd.includes("kvm")) continue;
        try {
          process.kill(pid, "SIGKILL");
          killed++;
        } catch {
          // already gone
        }
      }
    }
  };
  await walk(dir);
  // A deep data directory keeps its guests' sockets in a directory of its
  // own under /tmp (KvmDirs), which removing `dir` would leave behind.
  for (const k of kvmDirs) {
    const ctrl = new KvmDirs(k).ctrlDir;
    if (path.relative(dir, ctrl).startsWith("..")) await fs.rm(ctrl, { recursive: true, force: true });
  }
  return killed;
}

/** A host for a KvmHypervisor built outside a node daemon: 8 GiB, 2 CPUs, nothing used. */
export const testHost = async (): Promise<HvNodeInfo> => ({
  memory_total: 8192,
  memory_dom0: 0,
  memory_free: 8192,
  cpu_total: 2,
  cpu_nodes: 1,
  cpu_sockets: 1,
  cpu_dom0: 2,
});

/** Types `text` on a guest's serial console socket (the guest runs a shell there), after waking it with a newline. */
export async function typeOn(socket: string, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.createConnection({ path: socket }, () => {
      s.write("\n");
      setTimeout(() => s.end(text, () => resolve()), 300);
    });
    s.on("error", reject);
  });
}

/** The counter the guest writes to the first sector of its disk. */
export async function counter(file: string): Promise<number> {
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(512);
    await fh.read(buf, 0, 512, 0);
    return Number(/^\d+/.exec(buf.toString("latin1"))?.[0] ?? 0);
  } finally {
    await fh.close();
  }
}

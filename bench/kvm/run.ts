// kvm benchmark (a measurement, not a test): what ganeti-ts adds on top of
// qemu itself, measured in one interleaved run on the same machine.
//
//  start: `PUT /2/instances/X/startup` of a stopped kvm instance (the busybox
//         OS installed on its file disk) until the guest's marker appears on
//         its serial console, against the same qemu command line run by hand
//         (the argv ganeti-ts recorded in the instance's runtime file, with
//         its pid file and sockets moved to a scratch directory) until the
//         same marker. Rounds alternate A B A B so that load drifts hit both.
//  migrate (--migrate, needs two nodes): a live migration of a running
//         sharedfile instance through `PUT /2/instances/X/migrate` (job
//         submitted until the job ends; downtime as the job log reports it),
//         against plain qemu: the same argv started twice (the destination
//         with -incoming), `migrate` over QMP and query-migrate polled until
//         completed (total time and downtime as qemu reports them). A TCG
//         guest is paused for the transfer on both sides (see pausedTransfer
//         in server/src/hypervisors/kvm/migrate.ts).
//
// Run: npx tsx bench/kvm/run.ts [--rounds 5] [--migrate]
// Prints a table; docs/benchmarks.md ("kvm") holds the numbers.
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { GanetiClient } from "@ganeti-ts/sdk";
import { KvmDirs, KvmRuntimeSchema } from "@ganeti-ts/server/hypervisors/kvm/runtime";
import { withQmp } from "@ganeti-ts/server/hypervisors/kvm/qmp";
import { pausedTransfer } from "@ganeti-ts/server/hypervisors/kvm/migrate";
import { guestAssets, killGuestsUnder } from "../../server/test/harness/kvm-guest.js";
import { startLocalCluster, type LocalCluster } from "../../test/helpers/cluster.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    migrate: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(values.rounds);
const MARKER = "GANETI-TS-GUEST-UP root=disk";
const NAME = "bench1.example.com";

const now = () => performance.now();

/** Poll `file` every 10 ms until it holds `text` after byte `from`; ms since t0. */
async function waitMarker(file: string, from: number, t0: number, timeoutMs = 180_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const buf = await fs.readFile(file).catch(() => Buffer.alloc(0));
    if (buf.subarray(from).includes(MARKER)) return now() - t0;
    if (Date.now() > end) throw new Error(`no "${MARKER}" in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const size = (f: string) =>
  fs.stat(f).then(
    (s) => s.size,
    () => 0,
  );

function stats(xs: number[]): { min: number; med: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, med: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
}

async function exec(cmd: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

/** The recorded argv with the instance's pid file, sockets and logs moved under `dir` (suffix: two copies side by side). */
function plainArgv(argv: string[], dirs: KvmDirs, dir: string, suffix = ""): string[] {
  const swaps: [string, string][] = [
    [dirs.pidDir, path.join(dir, `pid${suffix}`)],
    [dirs.ctrlDir, path.join(dir, `ctrl${suffix}`)],
    [dirs.logDir, path.join(dir, `log${suffix}`)],
  ];
  return argv.map((a) => swaps.reduce((s, [from, to]) => s.split(from).join(to), a));
}

async function plainDirs(dir: string, suffix = ""): Promise<void> {
  for (const d of ["pid", "ctrl", "log"]) await fs.mkdir(path.join(dir, `${d}${suffix}`), { recursive: true });
}

async function killPid(pidFile: string): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, "utf8").catch(() => "")).trim());
  if (pid > 1) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
    while (
      await fs.access(`/proc/${pid}`).then(
        () => true,
        () => false,
      )
    )
      await new Promise((r) => setTimeout(r, 10));
  }
  await fs.rm(pidFile, { force: true });
}

async function benchStart(c: LocalCluster, client: GanetiClient, scratch: string): Promise<{ ours: number[]; plain: number[] }> {
  const dirs = new KvmDirs(path.join(c.dataDir, "hypervisors", "kvm"));
  const serial = dirs.serialLog(NAME);
  const ours: number[] = [];
  const plain: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // ganeti-ts: startup job → marker.
    const from = await size(serial);
    const t0 = now();
    const job = client.instances.startup(NAME);
    const ms = await waitMarker(serial, from, t0);
    await job.wait();
    ours.push(ms);
    const rt = KvmRuntimeSchema.parse(JSON.parse(await fs.readFile(dirs.runtimeFile(NAME), "utf8")));
    await client.instances.shutdown(NAME, { timeout: 0 }).wait();

    // Plain qemu: the same command line → marker.
    const dir = path.join(scratch, `plain-${r}`);
    await plainDirs(dir);
    const argv = plainArgv(rt.argv, dirs, dir);
    const log = path.join(dir, "log", path.basename(serial));
    const t1 = now();
    await exec(argv[0]!, argv.slice(1));
    plain.push(await waitMarker(log, 0, t1));
    await killPid(path.join(dir, "pid", path.basename(dirs.pidFile(NAME))));
    console.error(`start round ${r + 1}/${ROUNDS}: ganeti-ts ${ours[r]!.toFixed(0)} ms, plain qemu ${plain[r]!.toFixed(0)} ms`);
  }
  return { ours, plain };
}

/** A busybox VM on the first node: 64 MiB disk, 128 MiB RAM, no NIC (below the default policy: a measurement, not a config). */
async function addBusyboxVm(c: LocalCluster, name: string, template: string, extra: string[] = []): Promise<void> {
  await c.gnt([
    ...["instance", "add", "-t", template, "-o", "busybox", "-H", "kvm", "-B", "maxmem=128,minmem=96,vcpus=1"],
    ...["--disk", "0:size=64", "--no-nics", "-n", c.nodes[0]!, "--no-name-check", "--no-ip-check", "--ignore-ipolicy"],
    ...extra,
    name,
  ]);
}

interface MigrationSample {
  total: number;
  downtime: number;
}

async function benchMigrate(
  c: LocalCluster,
  client: GanetiClient,
  scratch: string,
): Promise<{ ours: MigrationSample[]; plain: MigrationSample[] }> {
  const ours: MigrationSample[] = [];
  const plain: MigrationSample[] = [];
  const name = "mig1.example.com";
  await addBusyboxVm(c, name, "sharedfile");
  const dirs = new KvmDirs(path.join(c.dataDir, "hypervisors", "kvm"));
  await waitMarker(dirs.serialLog(name), 0, now());
  for (let r = 0; r < ROUNDS; r++) {
    const log: string[] = [];
    const t0 = now();
    await client.instances.migrate(name, { mode: "live" }).wait({ onLog: (l) => log.push(l.message) });
    const total = now() - t0;
    const m = log.join("\n").match(/migration downtime (\d+) ms/);
    ours.push({ total, downtime: m ? Number(m[1]) : NaN });
  }
  // The runtime file of wherever the instance now runs holds the argv.
  const info = await client.instances.get(name);
  const nodeDir = info.pnode === c.nodes[0] ? c.dataDir : path.join(path.dirname(c.dataDir), `node${c.nodes.indexOf(info.pnode) + 1}`);
  const ndirs = new KvmDirs(path.join(nodeDir, "hypervisors", "kvm"));
  const rt = KvmRuntimeSchema.parse(JSON.parse(await fs.readFile(ndirs.runtimeFile(name), "utf8")));
  // A migration target's recorded argv waits for the incoming state: start it as a fresh boot.
  const inc = rt.argv.indexOf("-incoming");
  if (inc >= 0) rt.argv.splice(inc, 2);
  await client.instances.shutdown(name, { timeout: 0 }).wait();
  for (let r = 0; r < ROUNDS; r++) {
    const dir = path.join(scratch, `mig-${r}`);
    await plainDirs(dir, "-src");
    await plainDirs(dir, "-dst");
    const src = plainArgv(rt.argv, ndirs, dir, "-src");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const dst = [...plainArgv(rt.argv, ndirs, dir, "-dst"), "-incoming", `tcp:127.0.0.12:${port}`];
    await exec(src[0]!, src.slice(1));
    await waitMarker(path.join(dir, "log-src", path.basename(ndirs.serialLog(name))), 0, now());
    await exec(dst[0]!, dst.slice(1));
    const qmpSrc = path.join(dir, "ctrl-src", path.basename(ndirs.qmpSocket(name)));
    const t0 = now();
    const res = await withQmp(qmpSrc, async (q) => {
      await q.execute("migrate-set-parameters", {
        "downtime-limit": Number(rt.instance.hvparams["migration_downtime"] ?? 30),
        "max-bandwidth": Number(rt.instance.hvparams["migration_bandwidth"] ?? 32) * 1024 * 1024,
      });
      // The same procedure as ours: a TCG guest is paused for the transfer (pausedTransfer).
      if (pausedTransfer(rt.accel)) await q.execute("stop");
      await q.execute("migrate", { uri: `tcp:127.0.0.12:${port}` });
      for (;;) {
        const st = (await q.execute("query-migrate")) as { status?: string; downtime?: number; "total-time"?: number };
        if (st.status === "completed") return st;
        if (st.status === "failed" || st.status === "cancelled") throw new Error(`plain migration ${st.status}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    // As ours reports it: a guest paused for the transfer was down for all of it.
    plain.push({ total: now() - t0, downtime: (pausedTransfer(rt.accel) ? res["total-time"] : res.downtime) ?? NaN });
    await killPid(path.join(dir, "pid-src", path.basename(ndirs.pidFile(name))));
    await killPid(path.join(dir, "pid-dst", path.basename(ndirs.pidFile(name))));
  }
  return { ours, plain };
}

async function main(): Promise<void> {
  const a = await guestAssets();
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "gts-kvm-bench-"));
  const c = await startLocalCluster({
    nodes: values.migrate ? 2 : 1,
    initArgs: ["--enabled-hypervisors", "kvm"],
    diskTemplates: ["file", "sharedfile"],
  });
  const client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
  try {
    await c.gnt(["cluster", "modify", "-H", `kvm:kernel_path=${a.kernel},initrd_path=${a.initrd},kernel_args=quiet,serial_speed=115200`]);
    await addBusyboxVm(c, NAME, "file", ["--no-start"]);
    const load0 = os.loadavg()[0]!;
    const start = await benchStart(c, client, scratch);
    const table = new Table({ head: ["case", "ganeti-ts (min / median / max)", "plain qemu (min / median / max)", "ratio of medians"] });
    const fmt = (s: { min: number; med: number; max: number }) => `${s.min.toFixed(0)} / ${s.med.toFixed(0)} / ${s.max.toFixed(0)} ms`;
    const so = stats(start.ours);
    const sp = stats(start.plain);
    table.push([`start to console marker (${ROUNDS} rounds)`, fmt(so), fmt(sp), (so.med / sp.med).toFixed(2)]);
    if (values.migrate) {
      const mig = await benchMigrate(c, client, scratch);
      const mo = stats(mig.ours.map((s) => s.total));
      const mp = stats(mig.plain.map((s) => s.total));
      table.push([`live migration, sharedfile, total (${ROUNDS} rounds)`, fmt(mo), fmt(mp), (mo.med / mp.med).toFixed(2)]);
      const dowo = stats(mig.ours.map((s) => s.downtime));
      const dowp = stats(mig.plain.map((s) => s.downtime));
      table.push(["live migration downtime (as the job log reports it)", fmt(dowo), fmt(dowp), (dowo.med / dowp.med).toFixed(2)]);
    }
    console.log(table.toString());
    console.log(
      `load average: ${load0.toFixed(2)} before, ${os.loadavg()[0]!.toFixed(2)} after; accelerator: see the runtime file (tcg without vmx/svm)`,
    );
  } finally {
    client.close();
    await killGuestsUnder(path.dirname(c.dataDir));
    await killGuestsUnder(scratch);
    await c.destroy();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

await main();

// Acceptance of replicated (drbd) disks with real guests on a three-node
// local cluster (master, node daemons and storage daemons as separate
// processes). A guest writes and fsyncs a counter to its drbd disk and
// prints each value once acknowledged (GTS-COUNTER N on its console); the
// primary node's processes (node daemon, qemu, storage daemons) are killed
// with SIGKILL at a random moment; `failover --ignore-consistency` boots the
// instance on the secondary, whose guest reads the counter from the replica
// and continues from it: the first value it prints, minus one, is what the
// replica held, and it is at least the last value acknowledged before the
// kill. Then: live migration back and forth, replace-disks to the third node
// while the guest writes, a returning secondary resynced. One guest at a time.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_IPOLICY } from "@ganeti-ts/server/config/defaults";
import { isAlive, launchDaemon, readRuntime } from "@ganeti-ts/server/master/launcher";
import type { GanetiClient } from "@ganeti-ts/sdk";
import { fileSize } from "../../server/test/harness/kvm-guest.js";
import { killDaemons } from "../../server/test/storage/replication-fixture.js";
import type { LocalCluster } from "../helpers/cluster.js";
import { degraded, DrbdGuests, inSync } from "./drbd-guests.js";
import { poller } from "../../server/test/harness/poll.js";

let c: LocalCluster;
let client: GanetiClient;
let g: DrbdGuests;

beforeAll(async () => {
  // qemu runs in the cluster's namespace and reaches its storage daemon
  // through a unix socket; these guests need no NIC.
  const minmax = [{ min: { ...DEFAULT_IPOLICY.minmax[0].min, "nic-count": 0 }, max: DEFAULT_IPOLICY.minmax[0].max }];
  g = await DrbdGuests.start(3, { ipolicy: { minmax } });
  ({ c, client } = g);
}, 600_000);

afterAll(() => g?.stop(), 120_000);

const until = poller({ timeoutMs: 300_000, intervalMs: 250 });

/**
 * SIGKILL at once: the node daemon, the instance's qemu and every storage
 * daemon of `node`. Returns the last counter the guest had acknowledged.
 */
async function killNode(node: string, name: string): Promise<number> {
  const dir = c.nodeDir(node);
  const rt = await readRuntime(dir, "node");
  const noded = typeof rt?.["pid"] === "number" ? rt["pid"] : 0;
  const qemu = Number((await fs.readFile(g.pidFile(node, name), "utf8")).trim());
  const before = await g.counters(node, name);
  expect(noded).toBeGreaterThan(1);
  expect(qemu).toBeGreaterThan(1);
  process.kill(noded, "SIGKILL");
  process.kill(qemu, "SIGKILL");
  await killDaemons(dir);
  await until("the node's processes gone", async () => !isAlive(noded) && !isAlive(qemu), 30_000);
  // Anything the guest printed is acknowledged (printed after its fsync returned).
  const all = await g.counters(node, name);
  expect(all.length).toBeGreaterThanOrEqual(before.length);
  return all[all.length - 1]!;
}

/** Start a node daemon again on its old address and port (the master knows it there), and mark the node online. */
async function restartNode(node: string): Promise<void> {
  const dir = c.nodeDir(node);
  const rt = await readRuntime(dir, "node");
  const addrFile = path.join(dir, "noded-address.json");
  const addr = JSON.parse(await fs.readFile(addrFile, "utf8")) as Record<string, unknown>;
  await fs.writeFile(addrFile, JSON.stringify({ ...addr, port: rt?.["port"] }));
  await launchDaemon("node", dir);
  await c.gnt(["node", "modify", "-O", "no", node]);
}

/**
 * At a random moment, SIGKILL of the primary `p` (killNode); the dead node
 * is marked offline (its daemon does not answer), then failover ignoring
 * consistency to `s`. The last counter acknowledged before the kill, the new
 * guest's counters, and where they start in its console log.
 */
async function killAndFailover(name: string, p: string, s: string): Promise<{ acked: number; after: number[]; from: number }> {
  await randomDelay();
  const acked = await killNode(p, name);
  await c.gnt(["node", "modify", "-O", "yes", p]);
  const from = await fileSize(g.serialLog(s, name));
  await client.instances.failover(name, { ignore_consistency: true }).wait();
  const after = await g.counterAtLeast(s, name, acked + 1, from);
  // The new guest read the replica and went on from there: its first value is the replica's + 1.
  expect(after[0]! - 1).toBeGreaterThanOrEqual(acked);
  return { acked, after, from };
}

/** The instance's first disk's volumes (data, meta) as VG/NAME, from its static info. */
async function dataVolumes(name: string): Promise<string[]> {
  const [res] = await client.instances.info(name, { static: true }).wait();
  const disk = (res[name] as { disks: { children?: { logical_id: unknown[] }[] }[] }).disks[0]!;
  const out = (disk.children ?? []).map((ch) => `${String(ch.logical_id[0])}/${String(ch.logical_id[1])}`);
  expect(out).toHaveLength(2);
  return out;
}

/**
 * Live migration to the secondary `to` (from `from`): the roles swap, the
 * guest's counter goes on on `to` to 3 past `last`, the mirror gets in sync
 * (`what` names that wait). The counters the guest printed on `to`.
 */
async function migrateTo(name: string, to: string, from: string, last: number, what: string): Promise<number[]> {
  const mark = await fileSize(g.serialLog(to, name));
  await client.instances.migrate(name, { mode: "live" }).wait();
  const st = await g.diskStatus(name);
  expect(st.pnode).toBe(to);
  expect(st.snodes).toEqual([from]);
  // After migration the target's console log holds only what the guest prints from now on.
  const v = await g.counterAtLeast(to, name, last + 3, mark);
  await g.inSync(name, what);
  return v;
}

/** A volume's file (VG/NAME) on `node`. */
const volumeFile = (node: string, volume: string) => path.join(c.nodeDir(node), "volumes", volume);

const exists = (f: string) =>
  fs.access(f).then(
    () => true,
    () => false,
  );

const randomDelay = () => new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3000)));

describe("drbd instances with real guests on three node daemons", () => {
  it("the last acknowledged counter survives SIGKILL of the primary node; failover --ignore-consistency boots it on the secondary; the returning node is resynced", async () => {
    const name = "drbd-kill.example.com";
    const [, p, s] = c.nodes as [string, string, string];
    await g.create(name, p, s);
    await g.counterAtLeast(p, name, 3);
    const st0 = await g.diskStatus(name);
    expect(st0.pnode).toBe(p);
    expect(st0.snodes).toEqual([s]);
    expect(inSync(st0)).toBe(true);

    const { acked, after, from } = await killAndFailover(name, p, s);
    expect(acked).toBeGreaterThanOrEqual(3);
    const st1 = await g.diskStatus(name);
    expect(st1.pnode).toBe(s);
    expect(st1.snodes).toEqual([p]);
    // Its peer is gone: degraded, and the offline secondary is not asked.
    expect(degraded(st1.pstatus)).toBe(true);
    expect(st1.sstatus).toBeNull();

    // The node comes back: online again, its disks activated, a full resync.
    await restartNode(p);
    await client.instances.activateDisks(name).wait();
    const healthy = await g.inSync(name, "the mirror in sync again");
    expect(healthy.pnode).toBe(s);
    const cli = await c.gnt(["instance", "info", name]);
    expect(cli.stdout).toContain("in sync, status ok");
    expect(cli.stdout).not.toContain("*DEGRADED*");
    // And the guest keeps writing on the new primary.
    const last = after[after.length - 1]!;
    await g.counterAtLeast(s, name, last + 3, from);
    await client.instances.remove(name, { shutdown_timeout: 0 }).wait();
  }, 900_000);

  it("live migration back and forth keeps the counter going with the roles swapped and the mirror in sync; then a kill of the primary loses nothing", async () => {
    const name = "drbd-mig.example.com";
    const [, p, s] = c.nodes as [string, string, string];
    await g.create(name, p, s);
    const v0 = await g.counterAtLeast(p, name, 3);

    const v1 = await migrateTo(name, s, p, v0[v0.length - 1]!, "in sync after the first migration");
    const v2 = await migrateTo(name, p, s, v1[v1.length - 1]!, "in sync after the second migration");
    // One guest all along: the counter never went back.
    expect(v2[0]!).toBeGreaterThan(v1[0]!);

    await killAndFailover(name, p, s);
    await restartNode(p);
    await client.instances.remove(name, { shutdown_timeout: 0 }).wait();
  }, 900_000);

  it("replace-disks to the third node while the guest writes; the new secondary holds every acknowledged write when the primary dies", async () => {
    const name = "drbd-repl.example.com";
    const [n1, p, s] = c.nodes as [string, string, string];
    await g.create(name, p, s);
    await g.counterAtLeast(p, name, 3);

    const volumes = await dataVolumes(name);
    expect(await exists(volumeFile(s, volumes[0]!))).toBe(true);
    await client.instances.replaceDisks(name, { mode: "replace_new_secondary", remote_node: n1 }).wait();
    const st = await g.inSync(name, "in sync with the new secondary");
    expect(st.pnode).toBe(p);
    expect(st.snodes).toEqual([n1]);
    // The old secondary keeps no replica of it; the new one has its volumes.
    for (const v of volumes) expect(await exists(volumeFile(s, v))).toBe(false);
    for (const v of await dataVolumes(name)) expect(await exists(volumeFile(n1, v))).toBe(true);

    await killAndFailover(name, p, n1);
    await restartNode(p);
    await client.instances.remove(name, { shutdown_timeout: 0 }).wait();
  }, 900_000);

  it("replace-disks -p while the guest writes: new volumes on the primary filled from the secondary, the guest never notices, and the secondary still holds every acknowledged write", async () => {
    const name = "drbd-repp.example.com";
    const [, p, s] = c.nodes as [string, string, string];
    await g.create(name, p, s);
    await g.counterAtLeast(p, name, 3);
    await g.inSync(name, "in sync");

    const [data] = await dataVolumes(name);
    const dataFile = volumeFile(p, data!);
    const inodeBefore = (await fs.stat(dataFile)).ino;
    const mark = await fileSize(g.serialLog(p, name));
    const res = await c.gnt(["instance", "replace-disks", "-p", name]);
    for (const step of [
      "STEP 2/6 Check peer consistency",
      "STEP 4/6 Changing drbd configuration",
      "STEP 5/6 Sync devices",
      "STEP 6/6 Removing old storage",
    ])
      expect(res.stdout + res.stderr).toContain(step);
    const st = await g.inSync(name, "in sync on the new volumes");
    expect(st.pnode).toBe(p);
    expect(st.snodes).toEqual([s]);
    // New volumes under the old names; the old ones are gone.
    expect(await dataVolumes(name)).toContain(data);
    expect((await fs.stat(dataFile)).ino).not.toBe(inodeBefore);
    const left = await fs.readdir(path.dirname(dataFile));
    expect(left.filter((f) => f.includes("_replaced-"))).toEqual([]);
    // The same guest went on writing through it all, without an I/O error.
    const during = await g.counters(p, name, mark);
    expect(during.length).toBeGreaterThan(0);
    const v = await g.counterAtLeast(p, name, during[during.length - 1]! + 3, mark);
    for (let k = 1; k < v.length; k++) expect(v[k]).toBe(v[k - 1]! + 1);
    const text = (await fs.readFile(g.serialLog(p, name), "utf8")).slice(mark);
    expect(text).not.toMatch(/I\/O error|GTS-COUNTER-FAIL/);

    // Every write after the switch reached the secondary too.
    await killAndFailover(name, p, s);
    await restartNode(p);
    await client.instances.remove(name, { shutdown_timeout: 0 }).wait();
  }, 900_000);

  it("grow-disk on a running guest that does not touch its disk: both replicas grow, the guest sees the new size", async () => {
    const name = "drbd-grow.example.com";
    const [, p, s] = c.nodes as [string, string, string];
    // An idle disk: its NBD client reconnects to the restarted storage daemon only when asked.
    await g.create(name, p, s, { kernelArgs: "quiet" });
    await until("the guest up", async () =>
      /GTS-DISKS vda=2097152\b/.test(await fs.readFile(g.serialLog(p, name), "utf8").catch(() => "")),
    );
    await g.inSync(name, "in sync");
    const mark = await fileSize(g.serialLog(p, name));
    const res = await c.gnt(["instance", "grow-disk", name, "0", "256M"]);
    expect(res.stdout + res.stderr).not.toContain("Disk resize in hypervisor failed");
    // 1280 MiB in 512-byte sectors, as the guest's kernel reports it.
    await until("the guest to see the new size", async () =>
      /GTS-DISKS vda=2621440\b/.test((await fs.readFile(g.serialLog(p, name), "utf8")).slice(mark)),
    );
    const [data] = await dataVolumes(name);
    for (const n of [p, s]) expect((await fs.stat(volumeFile(n, data!))).size).toBe(1280 * 1024 * 1024);
    await g.inSync(name, "in sync after growing");
    await client.instances.remove(name, { shutdown_timeout: 0 }).wait();
  }, 900_000);
});

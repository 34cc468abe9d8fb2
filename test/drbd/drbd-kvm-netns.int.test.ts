// Replicated (drbd) disks and NICs together, with real guests on a local
// cluster whose hypervisors run in the cluster's network namespace (the
// default of the test clusters): the guest's qemu runs inside the namespace
// with its tap on the namespace's bridge, while the storage daemons run on
// the host (replication over the host's loopback); the guest reaches its
// disk through the local export's unix socket, which no network namespace
// hides. A guest fsyncing a counter answers pings on the bridge, keeps both
// after a live migration with the roles swapped, and the mirror is in sync.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GanetiClient } from "@ganeti-ts/sdk";
import { fileSize } from "../../server/test/harness/kvm-guest.js";
import { DrbdGuests } from "./drbd-guests.js";
import { poller } from "../../server/test/harness/poll.js";
import type { LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
const until = poller({ timeoutMs: 300_000, intervalMs: 250 });

let c: LocalCluster;
let client: GanetiClient;
let g: DrbdGuests;
let busybox = "";

beforeAll(async () => {
  g = await DrbdGuests.start(2);
  ({ c, client } = g);
  busybox = g.assets.busybox;
  // The namespace's side of the guests' bridge, to ping them from.
  await c.netns.ip(["addr", "add", "10.79.0.1/24", "dev", "xen-br0"]);
}, 600_000);

afterAll(() => g?.stop(), 120_000);

/** Pings from the namespace (where the bridge is) to the guest (busybox's ping: the host may have none). */
const pings = (ip: string) =>
  run("ip", ["netns", "exec", c.netns.name, busybox, "ping", "-c", "2", "-W", "3", ip]).then(
    () => true,
    () => false,
  );

describe("drbd disks and NICs with real guests in a namespaced cluster", () => {
  it("a guest on a drbd disk with a bridged NIC answers pings and fsyncs its counter, before and after a live migration", async () => {
    const name = "drbd-nic.example.com";
    const [p, s] = c.nodes as [string, string];
    await g.create(name, p, s, { nics: [{ link: "xen-br0" }], kernelArgs: "quiet gts.counter=/dev/vda gts.ip=10.79.0.5/24" });
    const v0 = await g.counterAtLeast(p, name, 3);
    const mac = (await client.instances.get(name))["nic.macs"][0]!;
    expect(await fs.readFile(g.serialLog(p, name), "utf8")).toContain(`GTS-NICS eth0=${mac}`);
    await until("the guest answering pings", () => pings("10.79.0.5"));
    // Its tap is in the namespace, on the bridge.
    const links = JSON.parse(await c.netns.ip(["-j", "link", "show", "master", "xen-br0"])) as { ifname: string }[];
    expect(links.length).toBeGreaterThan(0);
    await g.inSync(name, "the mirror in sync");

    const fromS = await fileSize(g.serialLog(s, name));
    await client.instances.migrate(name, { mode: "live" }).wait();
    const [res] = await client.instances.info(name).wait();
    expect((res[name] as { pnode: string }).pnode).toBe(s);
    await g.counterAtLeast(s, name, v0[v0.length - 1]! + 3, fromS);
    await until("the migrated guest answering pings", () => pings("10.79.0.5"));
    await g.inSync(name, "the mirror in sync after the migration");
    await client.instances.remove(name, { shutdown_timeout: 0 }).wait();
  }, 900_000);
});

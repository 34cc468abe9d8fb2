// kvm instances through the LUs on two node backends sharing a scratch
// network namespace (one L2 segment, bridge xen-br0): live migration of a
// sharedfile instance while its guest keeps writing a counter to its disk,
// failover of the same, two guests pinging each other across the bridge,
// and the bridge check for kvm. Real qemu (TCG), at most two guests at once.
import { promises as fs } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KvmHypervisor } from "../../../src/hypervisors/kvm/kvm-hypervisor.js";
import { withQmp } from "../../../src/hypervisors/kvm/qmp.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { GUEST_MARKER, guestAssets, waitForConsole, type GuestAssets, typeOn } from "../../harness/kvm-guest.js";
import { inst, runJob, runOp } from "./helpers.js";
import { counter, counterPasses as counterAbove, holdPort, kvmCreateOp, kvmOn, runningOn } from "./kvm-helpers.js";

let c: TestCluster | undefined;
let a: GuestAssets;
beforeAll(async () => {
  a = await guestAssets();
}, 600_000);
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});
const [N1, N2] = ["node1.example.com", "node2.example.com"];

const kvmOf = (node: string): KvmHypervisor => kvmOn(c!, node);
const running = (node: string) => runningOn(c!, node);
const kvmCreate = (name: string, kernelArgs: string, over: Record<string, unknown> = {}) => kvmCreateOp(a, name, kernelArgs, over);
const counterPasses = (file: string, above: number) => counterAbove(file, above, { timeoutMs: 60_000, diagnose });

async function diagnose(): Promise<string> {
  const out: string[] = [];
  for (const node of [N1, N2]) {
    const k = kvmOf(node);
    for (const name of await running(node)) {
      const st = await withQmp(k.dirs.qmpSocket(name), async (q) => ({
        status: await q.execute("query-status"),
        block: await q.execute("query-block"),
        mig: await q.execute("query-migrate"),
      })).catch((e: unknown) => String(e));
      const log = await fs.readFile(k.dirs.serialLog(name), "latin1").catch(() => "");
      out.push(
        `${node} ${name}: ${JSON.stringify(st)}\n--- serial tail ---\n${log.slice(Math.max(0, log.search(/BUG|Oops|general protection|panic|invalid opcode/) - 1500)).slice(0, 5000)}`,
      );
    }
  }
  return out.join("\n");
}

function diskFile(name: string): string {
  const d = c!.config.instanceDisks(inst(c!, name))[0]!;
  return String(d.logical_id[1]);
}

describe("kvm instances between two nodes", () => {
  it("live-migrates a sharedfile instance: the guest's counter keeps increasing, the job log has the downtime", async () => {
    c = await testCluster({ nodes: 2, hypervisors: ["kvm", "fake"] });
    const name = "mig1.example.com";
    await runOp(c, kvmCreate(name, "gts.counter=/dev/vda", { disk_template: "sharedfile", disks: [{ size: 16 }] }));
    await waitForConsole(kvmOf(N1).dirs.serialLog(name), new RegExp(GUEST_MARKER), { timeoutMs: 120_000 });
    const file = diskFile(name);
    const before = await counterPasses(file, 0);
    const srcTap = (await kvmOf(N1).runtime(name))!.nics[0]!.backend["tap"] as string;

    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: name, target_node: N2, mode: "live" }]);
    const log = c.jobLog(job);
    expect(job.ops[0]!.status, log.join("\n")).toBe("success");
    expect(log).toContain("* memory transfer complete");
    const times = log.map((l) => /^\* migration downtime (\d+) ms, total time (\d+) ms$/.exec(l)).find((m) => m !== null);
    expect(times, log.join("\n")).toBeDefined();
    // A TCG guest is paused for the whole transfer (pausedTransfer): its downtime is the total time.
    if ((await kvmOf(N2).runtime(name))!.accel === "tcg") expect(times![1]).toBe(times![2]);
    expect(inst(c, name).primary_node).toBe(c.config.findNode(N2)!.uuid);
    expect(await running(N1)).toEqual([]);
    expect(await running(N2)).toEqual([name]);
    // The guest goes on counting on node2, from where it was.
    const after = await counterPasses(file, (await counter(file)) + 2);
    expect(after).toBeGreaterThan(before);
    // Its taps: the source's is gone, the target's is on the bridge.
    const links = await c.netns.ip(["-j", "link", "show"]);
    expect(links).not.toContain(srcTap);
    const dstTap = (await kvmOf(N2).runtime(name))!.nics[0]!.backend["tap"] as string;
    expect(JSON.parse(await c.netns.ip(["-j", "link", "show", "dev", dstTap]))[0].master).toBe("xen-br0");

    // Failover back: the guest is shut down on node2 and started on node1, its disk (and counter) kept.
    const n = await counter(file);
    const fo = await runJob(c, [{ OP_ID: "OP_INSTANCE_FAILOVER", instance_name: name, target_node: N1, shutdown_timeout: 0 }]);
    expect(fo.ops[0]!.status, c.jobLog(fo).join("\n")).toBe("success");
    expect(await running(N2)).toEqual([]);
    expect(await running(N1)).toEqual([name]);
    expect(await counterPasses(file, n + 2)).toBeGreaterThan(n);

    await runOp(c, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: name, shutdown_timeout: 0 });
    expect(await running(N1)).toEqual([]);
  }, 600_000);

  it("a failed migration is aborted and the instance keeps running on its primary; cleanup confirms it; a changed maxmem still migrates", async () => {
    c = await testCluster({ nodes: 2, hypervisors: ["kvm", "fake"] });
    const name = "mig2.example.com";
    await runOp(c, kvmCreate(name, "", { disk_template: "sharedfile", disks: [{ size: 16 }] }));
    await waitForConsole(kvmOf(N1).dirs.serialLog(name), new RegExp(GUEST_MARKER), { timeoutMs: 120_000 });
    // The target cannot listen on the migration port: something else holds it there.
    const port = Number(c.config.cluster.hvparams["kvm"]!["migration_port"]);
    const blocker = await holdPort(c.netns.name, "127.0.0.12", port);
    try {
      const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: name, target_node: N2 }]);
      expect(job.ops[0]!.status).toBe("error");
      expect(JSON.stringify(job.ops[0]!.result)).toMatch(/Could not pre-migrate instance mig2\.example\.com: .*Address already in use/);
      expect(c.jobLog(job)).toContain("Pre-migration failed, aborting");
    } finally {
      blocker.kill();
    }
    expect(inst(c, name).primary_node).toBe(c.config.findNode(N1)!.uuid);
    expect(await running(N1)).toEqual([name]);
    expect(await running(N2)).toEqual([]);
    const cl = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: name, cleanup: true, target_node: N2 }]);
    expect(cl.ops[0]!.status).toBe("success");
    expect(c.jobLog(cl)).toContain(`* instance confirmed to be running on its primary node (${N1})`);

    // A new maximum memory waits for the next start; meanwhile the guest
    // still migrates: the target starts the machine the source runs (96 MiB),
    // not one of the new size, which qemu would refuse to load the state into.
    await runOp(c, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: name, beparams: { maxmem: 128 }, ignore_ipolicy: true });
    expect((await kvmOf(N1).runtime(name))!.maxmem).toBe(96);
    const job = await runJob(c, [{ OP_ID: "OP_INSTANCE_MIGRATE", instance_name: name, target_node: N2 }]);
    expect(job.ops[0]!.status, c.jobLog(job).join("\n")).toBe("success");
    expect(await running(N2)).toEqual([name]);
    expect((await kvmOf(N2).runtime(name))!.maxmem).toBe(96);
    await runOp(c, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: name, shutdown_timeout: 0 });
  }, 600_000);

  it("two guests on one bridge ping each other; a NIC on a missing bridge is refused with Ganeti's message", async () => {
    c = await testCluster({ nodes: 2, hypervisors: ["kvm", "fake"] });
    await expect(runOp(c, kvmCreate("nobr.example.com", "", { nics: [{ link: "br-none" }] }))).rejects.toMatchObject({
      message: `Error checking bridges on destination node '${N1}': Missing bridges br-none`,
      code: "environment_error",
    });
    await Promise.all([
      runOp(c, kvmCreate("p1.example.com", "gts.ip=10.77.0.1/24")),
      runOp(c, kvmCreate("p2.example.com", "gts.ip=10.77.0.2/24", { pnode: N2 })),
    ]);
    const log1 = kvmOf(N1).dirs.serialLog("p1.example.com");
    await waitForConsole(log1, new RegExp(GUEST_MARKER), { timeoutMs: 120_000 });
    await waitForConsole(kvmOf(N2).dirs.serialLog("p2.example.com"), new RegExp(GUEST_MARKER), { timeoutMs: 120_000 });
    // Type on p1's serial console (the guest runs a shell there).
    const from = (await fs.stat(log1)).size;
    await typeOn(kvmOf(N1).dirs.serialSocket("p1.example.com"), "ping -c 3 -W 5 10.77.0.2 && echo PING-OK\n");
    await waitForConsole(log1, /PING-OK/, { from, timeoutMs: 60_000 });
  }, 600_000);
});

// drbd instances through the LUs on the in-memory cluster (fake hypervisor,
// a replication engine without storage daemons): create with the sync's
// progress, stop/start, activate/deactivate disks, grow, live migration and
// failover with the roles swapped, failover onto the secondary when the
// primary is gone, removal. Checked: the node calls in order, the job log,
// the config after.
import { promises as fs } from "node:fs";
import type { OpcodeInput } from "../../../src/cmdlib/base.js";
import { afterEach, describe, expect, it } from "vitest";
import { fakeReplication, type FakeMirrorNet } from "../../harness/fake-replication.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { createOp, inst, runOp, runningOn } from "./helpers.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

interface Drbd {
  cl: TestCluster;
  net: FakeMirrorNet;
  /** "call@node" of every RPC since the last reset. */
  calls: string[];
  n1: string;
  n2: string;
  n3: string;
}

async function drbdCluster(): Promise<Drbd> {
  const cl = await testCluster({ nodes: 3, diskTemplates: ["drbd", "plain", "file", "diskless"], sleep: async () => {} });
  c = cl;
  await cl.config.mutate((d) => void (d.cluster.volume_group_name = "xenvg"));
  const net = fakeReplication(cl.backends.values());
  const calls: string[] = [];
  const call = cl.rpc.call.bind(cl.rpc);
  cl.rpc.call = (async (node, name, args) => {
    calls.push(`${name}@${node.name.replace(".example.com", "")}`);
    return call(node, name, args);
  }) as typeof cl.rpc.call;
  const [n1, n2, n3] = cl.nodes.map((n) => n.uuid) as [string, string, string];
  return { cl, net, calls, n1, n2, n3 };
}

/** A drbd cluster with the instance d1 (drbdOp) on node1 and node2, the calls and the mirror log since then. */
async function drbdWithD1(over: Record<string, unknown> = {}): Promise<Drbd> {
  const d = await drbdCluster();
  await runOp(d.cl, drbdOp("d1.example.com", over));
  d.calls.length = 0;
  d.net.log.length = 0;
  return d;
}

const drbdOp = (name: string, over: Record<string, unknown> = {}): OpcodeInput =>
  createOp(name, { disk_template: "drbd", disks: [{ size: 64 }], snode: "node2.example.com", ...over });

/** The calls of the given names, in order. */
const only = (calls: string[], ...names: string[]) => calls.filter((x) => names.includes(x.split("@")[0]!));

async function logOf(cl: TestCluster, op: OpcodeInput): Promise<string[]> {
  const job = await cl.runJob([op]);
  const o = job.ops[0]!;
  if (o.status !== "success") throw new Error(`job failed: ${JSON.stringify(o.result)}`);
  return cl.jobLog(job);
}

/** The job log's lines from step `n`'s header up to the next step's. */
function stepLines(log: string[], n: number): string[] {
  const from = log.findIndex((l) => l.startsWith(`STEP ${n}/`));
  const to = log.findIndex((l) => l.startsWith(`STEP ${n + 1}/`));
  if (from < 0 || to < 0) throw new Error(`no step ${n} in the job log`);
  return log.slice(from, to);
}

/** The node daemon's RPC handlers on `node`, to make one fail or stub it. */
const handlersOf = (cl: TestCluster, node: string) =>
  (cl.backendOf(node) as unknown as { handlers: Record<string, (a: unknown) => Promise<unknown>> }).handlers;

/** replace-disks of d1 in `mode`. */
const replaceOp = (mode: string, over: Record<string, unknown> = {}): OpcodeInput => ({
  OP_ID: "OP_INSTANCE_REPLACE_DISKS",
  instance_name: "d1.example.com",
  mode,
  ...over,
});

/** Ganeti's six steps of replace-disks -p and -s. */
const REPLACE_STEPS = [
  "STEP 1/6 Check device existence",
  "STEP 2/6 Check peer consistency",
  "STEP 3/6 Allocate new storage",
  "STEP 4/6 Changing drbd configuration",
  "STEP 5/6 Sync devices",
  "STEP 6/6 Removing old storage",
];

/** The calls that replace a node's volumes under a drbd disk (-p, -s), and their order there: two new volumes, detached, old and new renamed (two each), attached, the old ones removed. */
const VOLUME_CALLS = ["blockdev_create", "blockdev_removechildren", "blockdev_rename", "blockdev_addchildren", "blockdev_remove"];
const volumeReplacement = (node: string) => [
  `blockdev_create@${node}`,
  `blockdev_create@${node}`,
  `blockdev_removechildren@${node}`,
  ...Array<string>(4).fill(`blockdev_rename@${node}`),
  `blockdev_addchildren@${node}`,
  `blockdev_remove@${node}`,
  `blockdev_remove@${node}`,
];

describe("drbd instance creation", () => {
  it("creates the disks on the secondary then the primary, logs the initial sync as Ganeti, and starts on the primary", async () => {
    const { cl, calls, n1, n2 } = await drbdCluster();
    const log = await logOf(cl, drbdOp("d1.example.com"));
    expect(only(calls, "blockdev_create")).toEqual(["blockdev_create@node2", "blockdev_create@node1"]);
    expect(log).toContain(" - INFO: Waiting for instance d1.example.com to sync disks");
    expect(log).toContain(" - INFO: - device disk/0: 45.20% done, 12s remaining (estimated)");
    expect(log).toContain(" - INFO: Instance d1.example.com's disks are in sync");
    const i = inst(cl, "d1.example.com");
    expect(i.primary_node).toBe(n1);
    expect(i.secondary_nodes).toEqual([n2]);
    const disk = cl.config.disk(i.disks[0]!);
    expect(disk.dev_type).toBe("drbd");
    expect(disk.logical_id.slice(0, 2)).toEqual([n1, n2]);
    expect(disk.children).toHaveLength(2);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["d1.example.com"]);
    // Started: the secondary assembled as secondary before the primary as primary.
    const assembles = only(calls, "blockdev_assemble");
    expect(assembles.slice(-2)).toEqual(["blockdev_assemble@node2", "blockdev_assemble@node1"]);
  });

  it("with an iallocator, hail picks the primary and the secondary", async () => {
    const { cl } = await drbdCluster();
    // hail applies the group's instance policy (disks of at least 1 GiB).
    const log = await logOf(cl, drbdOp("d1.example.com", { pnode: null, snode: null, iallocator: "hail", disks: [{ size: 1024 }] }));
    const i = inst(cl, "d1.example.com");
    expect(i.secondary_nodes).toHaveLength(1);
    expect(i.secondary_nodes[0]).not.toBe(i.primary_node);
    const names = [i.primary_node, i.secondary_nodes[0]!].map((u) => cl.config.node(u).name);
    expect(log).toContain(` - INFO: Selected nodes for instance d1.example.com via iallocator hail: ${names.join(", ")}`);
  });

  it("wait_for_sync false looks once at the mirrors instead of waiting", async () => {
    const { cl } = await drbdCluster();
    const log = await logOf(cl, drbdOp("d1.example.com", { wait_for_sync: false }));
    expect(log).toContain("* checking mirrors status");
    expect(log).not.toContain(" - INFO: Waiting for instance d1.example.com to sync disks");
    expect(log).toContain(" - INFO: - device disk/0: 45.20% done, 12s remaining (estimated)");
  });

  it("refuses a drbd instance without a secondary, or with the primary as secondary", async () => {
    const { cl } = await drbdCluster();
    await expect(runOp(cl, drbdOp("x.example.com", { snode: null }))).rejects.toMatchObject({
      message: "The networked disk templates need a mirror node",
      code: "wrong_input",
    });
    await expect(runOp(cl, drbdOp("x.example.com", { snode: "node1.example.com" }))).rejects.toMatchObject({
      message: "The secondary node cannot be the primary node",
      code: "wrong_input",
    });
  });

  it("a creation failing on the primary leaves nothing behind: disks removed, port back in the pool", async () => {
    const { cl, calls } = await drbdCluster();
    const handlers = handlersOf(cl, "node1.example.com");
    handlers["blockdev_create"] = async () => {
      throw new Error("no space left on device");
    };
    await expect(runOp(cl, drbdOp("d1.example.com"))).rejects.toMatchObject({
      message: expect.stringMatching(/^Can't create block device disk\/0 on node node1\.example\.com for instance d1\.example\.com: /),
    });
    expect(only(calls, "blockdev_create", "blockdev_remove")).toEqual([
      "blockdev_create@node2",
      "blockdev_create@node1",
      "blockdev_remove@node2",
    ]);
    expect(cl.config.findInstance("d1.example.com")).toBeUndefined();
    expect(Object.values(cl.config.data.disks)).toHaveLength(0);
    expect(cl.config.cluster.tcpudp_port_pool?.length).toBe(1);
  });
});

describe("drbd instance operations", () => {
  it("stops and starts on both nodes, activates and deactivates disks, grows both sides", async () => {
    const { cl, calls } = await drbdWithD1();
    await runOp(cl, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "d1.example.com" });
    expect(only(calls, "blockdev_shutdown").sort()).toEqual(["blockdev_shutdown@node1", "blockdev_shutdown@node2"]);
    calls.length = 0;
    const rows = await runOp(cl, { OP_ID: "OP_INSTANCE_ACTIVATE_DISKS", instance_name: "d1.example.com", wait_for_sync: true });
    expect(rows).toEqual([["node1.example.com", "disk/0", expect.stringMatching(/^nbds:\/\//)]]);
    expect(only(calls, "blockdev_assemble")).toEqual(["blockdev_assemble@node2", "blockdev_assemble@node1"]);
    expect(only(calls, "blockdev_getmirrorstatus").length).toBeGreaterThan(0);
    calls.length = 0;
    await runOp(cl, { OP_ID: "OP_INSTANCE_DEACTIVATE_DISKS", instance_name: "d1.example.com" });
    expect(only(calls, "blockdev_shutdown").sort()).toEqual(["blockdev_shutdown@node1", "blockdev_shutdown@node2"]);
    calls.length = 0;
    await runOp(cl, {
      OP_ID: "OP_INSTANCE_GROW_DISK",
      instance_name: "d1.example.com",
      disk: 0,
      amount: 32,
      wait_for_sync: true,
      ignore_ipolicy: true,
    });
    expect(only(calls, "blockdev_grow")).toEqual([
      "blockdev_grow@node2",
      "blockdev_grow@node1",
      "blockdev_grow@node2",
      "blockdev_grow@node1",
    ]);
    expect(cl.config.disk(inst(cl, "d1.example.com").disks[0]!).size).toBe(96);
    calls.length = 0;
    await runOp(cl, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "d1.example.com" });
    expect(only(calls, "blockdev_assemble")).toEqual(["blockdev_assemble@node2", "blockdev_assemble@node1"]);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["d1.example.com"]);
  });

  it("starting with the secondary unreachable needs --force, which runs the instance degraded", async () => {
    const { cl, n2 } = await drbdWithD1({ start: false });
    cl.rpc.backends.delete(n2);
    await expect(runOp(cl, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "d1.example.com" })).rejects.toMatchObject({
      message: "Disk consistency error",
    });
    await runOp(cl, { OP_ID: "OP_INSTANCE_STARTUP", instance_name: "d1.example.com", force: true });
    expect(await runningOn(cl, "node1.example.com")).toEqual(["d1.example.com"]);
  });

  it("live-migrates onto the secondary in Ganeti's order, the roles swapping in the config and on the nodes", async () => {
    const { cl, calls, net, n1, n2 } = await drbdWithD1();
    const disk = cl.config.disk(inst(cl, "d1.example.com").disks[0]!);
    const [, , port, pminor, sminor, secret] = disk.logical_id;
    const log = await logOf(cl, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d1.example.com" });
    expect(
      only(
        calls,
        "blockdev_find",
        "migration_info",
        "drbd_attach_net",
        "accept_instance",
        "instance_migrate",
        "finalize_migration_src",
        "finalize_migration_dst",
      ),
    ).toEqual([
      "blockdev_find@node2",
      "migration_info@node1",
      "drbd_attach_net@node2",
      "drbd_attach_net@node1",
      "accept_instance@node2",
      "instance_migrate@node1",
      "finalize_migration_src@node1",
      "finalize_migration_dst@node2",
      "drbd_attach_net@node1",
      "drbd_attach_net@node2",
    ]);
    expect(log).toEqual(
      expect.arrayContaining([
        "* checking disk consistency between source and target",
        "* changing disks into dual-master mode",
        "* wait until resync is done",
        "* changing disks into single-master mode",
        "* done",
      ]),
    );
    const i = inst(cl, "d1.example.com");
    expect(i.primary_node).toBe(n2);
    expect(i.secondary_nodes).toEqual([n1]);
    expect(disk.logical_id).toEqual([n2, n1, port, sminor, pminor, secret]);
    expect(await runningOn(cl, "node2.example.com")).toEqual(["d1.example.com"]);
    // On the nodes: the target took over as writer, then the old primary became the secondary.
    const ip1 = cl.config.node(n1).secondary_ip;
    const ip2 = cl.config.node(n2).secondary_ip;
    expect(net.log.filter((l) => /^(takeOver|attach) /.test(l))).toEqual([
      `takeOver ${disk.uuid}@${ip2} secondary`,
      `attach ${disk.uuid}@${ip1} secondary`,
      `attach ${disk.uuid}@${ip2} primary`,
    ]);

    // And back.
    await runOp(cl, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d1.example.com" });
    expect(inst(cl, "d1.example.com").primary_node).toBe(n1);
    expect(disk.logical_id).toEqual([n1, n2, port, pminor, sminor, secret]);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["d1.example.com"]);
  });

  it("a migration the target refuses puts the old roles back and leaves the config alone", async () => {
    const { cl, calls, n1 } = await drbdWithD1();
    const handlers = handlersOf(cl, "node2.example.com");
    handlers["accept_instance"] = async () => {
      throw new Error("no room");
    };
    await expect(runOp(cl, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d1.example.com" })).rejects.toMatchObject({
      message: "Could not pre-migrate instance d1.example.com: no room",
    });
    expect(only(calls, "drbd_attach_net").slice(-2)).toEqual(["drbd_attach_net@node2", "drbd_attach_net@node1"]);
    expect(inst(cl, "d1.example.com").primary_node).toBe(n1);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["d1.example.com"]);
  });

  it("refuses a target other than the secondary, and an iallocator", async () => {
    const { cl } = await drbdWithD1();
    await expect(
      runOp(cl, { OP_ID: "OP_INSTANCE_MIGRATE", instance_name: "d1.example.com", target_node: "node3.example.com" }),
    ).rejects.toMatchObject({
      message:
        "Instances with disk types drbd cannot be migrated to arbitrary nodes (neither an iallocator nor a target node can be passed)",
      code: "wrong_input",
    });
    await expect(runOp(cl, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "d1.example.com", iallocator: "hail" })).rejects.toMatchObject({
      message:
        "Instances with disk types drbd cannot be failed over to arbitrary nodes (neither an iallocator nor a target node can be passed)",
    });
  });

  it("fails over onto the secondary: stopped on the primary, disks shut down, roles swapped, started on the secondary", async () => {
    const { cl, calls, n2 } = await drbdWithD1();
    const log = await logOf(cl, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "d1.example.com" });
    expect(only(calls, "blockdev_find", "instance_shutdown", "blockdev_shutdown", "blockdev_assemble", "instance_start")).toEqual([
      "blockdev_find@node2",
      "instance_shutdown@node1",
      "blockdev_shutdown@node1",
      "blockdev_shutdown@node2",
      "blockdev_assemble@node1",
      "blockdev_assemble@node2",
      "instance_start@node2",
    ]);
    expect(log).toContain("* checking disk consistency between source and target");
    expect(inst(cl, "d1.example.com").primary_node).toBe(n2);
    expect(await runningOn(cl, "node2.example.com")).toEqual(["d1.example.com"]);
    expect(await runningOn(cl, "node1.example.com")).toEqual([]);
  });

  it("with the primary dead, failover --ignore-consistency boots the instance on the secondary's replica as is", async () => {
    const { cl, net, n1, n2 } = await drbdWithD1();
    // node1 dies: its daemon and its storage daemons are gone (not marked offline).
    net.kill(cl.config.node(n1).secondary_ip);
    cl.rpc.backends.delete(n1);
    // Without --ignore-consistency the failover stops at the shutdown, nothing changed.
    await expect(runOp(cl, { OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "d1.example.com" })).rejects.toMatchObject({
      message: expect.stringMatching(/^Could not shutdown instance d1\.example\.com on node node1\.example\.com: /),
    });
    expect(inst(cl, "d1.example.com").primary_node).toBe(n1);
    const log = await logOf(cl, {
      OP_ID: "OP_INSTANCE_FAILOVER",
      instance_name: "d1.example.com",
      ignore_consistency: true,
    });
    expect(
      log.some((l) => l.startsWith(" - WARNING: Could not shutdown instance d1.example.com on node node1.example.com, proceeding anyway")),
    ).toBe(true);
    expect(
      log.some((l) =>
        l.startsWith(" - WARNING: Could not prepare block device disk/0 on node node1.example.com (is_primary=False, pass=1)"),
      ),
    ).toBe(true);
    const i = inst(cl, "d1.example.com");
    expect(i.primary_node).toBe(n2);
    expect(i.secondary_nodes).toEqual([n1]);
    expect(await runningOn(cl, "node2.example.com")).toEqual(["d1.example.com"]);
  });

  it("removes the disks on both nodes and gives the port back", async () => {
    const { cl, calls } = await drbdWithD1();
    const port = cl.config.disk(inst(cl, "d1.example.com").disks[0]!).logical_id[2];
    await runOp(cl, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "d1.example.com", ignore_failures: false });
    expect(only(calls, "blockdev_remove").sort()).toEqual(["blockdev_remove@node1", "blockdev_remove@node2"]);
    expect(cl.config.findInstance("d1.example.com")).toBeUndefined();
    expect(cl.config.cluster.tcpudp_port_pool).toContain(port);
  });
});

describe("drbd disk add and remove", () => {
  it("adds a disk replicated on both nodes (its own port and minors) and removes one from both", async () => {
    const { cl, calls, n1, n2 } = await drbdWithD1({ start: false });
    await runOp(cl, {
      OP_ID: "OP_INSTANCE_SET_PARAMS",
      instance_name: "d1.example.com",
      disks: [["add", -1, { size: 32 }]],
      ignore_ipolicy: true,
    });
    expect(only(calls, "blockdev_create")).toEqual(["blockdev_create@node2", "blockdev_create@node1"]);
    const [d0, d1] = cl.config.instanceDisks(inst(cl, "d1.example.com"));
    expect(d1!.iv_name).toBe("disk/1");
    expect(d1!.logical_id.slice(0, 2)).toEqual([n1, n2]);
    expect(d1!.logical_id[2]).not.toBe(d0!.logical_id[2]);
    expect(d1!.logical_id.slice(3, 5)).toEqual([1, 1]);
    const port = d1!.logical_id[2];
    calls.length = 0;
    await runOp(cl, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "d1.example.com", disks: [["remove", 1, {}]], ignore_ipolicy: true });
    expect(only(calls, "blockdev_remove").sort()).toEqual(["blockdev_remove@node1", "blockdev_remove@node2"]);
    expect(cl.config.instanceDisks(inst(cl, "d1.example.com"))).toHaveLength(1);
    expect(cl.config.cluster.tcpudp_port_pool).toContain(port);
  });
});

describe("drbd replace-disks", () => {
  it("-s: new volumes on the secondary, the replica moved onto them, resynced, the old ones removed", async () => {
    const { cl, calls } = await drbdWithD1();
    const disk = cl.config.disk(inst(cl, "d1.example.com").disks[0]!);
    const old = disk.children!.map((c) => c.logical_id[1]);
    const moved: Array<[string, unknown, unknown]> = [];
    const call = cl.rpc.call.bind(cl.rpc);
    cl.rpc.call = (async (node, name, args) => {
      const a = args as { disk?: { logical_id: unknown[] }; new_logical_id?: unknown[] };
      if (name === "blockdev_rename") moved.push([name, a.disk!.logical_id[1], a.new_logical_id![1]]);
      if (name === "blockdev_remove") moved.push([name, a.disk!.logical_id[1], null]);
      return call(node, name, args);
    }) as typeof cl.rpc.call;
    const log = await logOf(cl, replaceOp("replace_on_secondary"));
    expect(log.filter((l) => l.startsWith("STEP "))).toEqual(REPLACE_STEPS);
    expect(log.slice(0, 3)).toEqual([
      "Replacing disk(s) 0 for instance 'd1.example.com'",
      "Current primary node: node1.example.com",
      "Current secondary node: node2.example.com",
    ]);
    // Ganeti's step 1: the disk on the other node, then the target, then the volume groups.
    expect(stepLines(log, 1)).toEqual([
      "STEP 1/6 Check device existence",
      " - INFO: Checking disk/0 on node1.example.com",
      " - INFO: Checking disk/0 on node2.example.com",
      " - INFO: Checking volume groups",
    ]);
    expect(only(calls, ...VOLUME_CALLS)).toEqual(volumeReplacement("node2"));
    // Ganeti's step 4 lines: the old volumes renamed, then the new ones.
    expect(stepLines(log, 4)).toEqual([
      "STEP 4/6 Changing drbd configuration",
      " - INFO: Detaching disk/0 drbd from local storage",
      " - INFO: Renaming the old LVs on the target node",
      " - INFO: Renaming the new LVs on the target node",
      " - INFO: Adding new mirror component on node2.example.com",
    ]);
    // As Ganeti: the old volumes are renamed aside, the new ones take their
    // names (so both nodes' volumes keep the names the config's one list of
    // children gives), and the renamed old ones are removed.
    const aside = old.map((n) => expect.stringMatching(new RegExp(`^${String(n).replace(".", "\\.")}_replaced-\\d+$`)));
    const renames = moved.filter((m) => m[0] === "blockdev_rename");
    expect(renames.slice(0, 2).map((m) => [m[1], m[2]])).toEqual([
      [old[0], aside[0]],
      [old[1], aside[1]],
    ]);
    expect(renames.slice(2).map((m) => m[2])).toEqual(old);
    expect(moved.filter((m) => m[0] === "blockdev_remove").map((m) => m[1])).toEqual(aside);
    expect(cl.config.disk(disk.uuid).children!.map((c) => c.logical_id[1])).toEqual(old);
  });

  it("-p on a running instance: new volumes on the primary filled from the secondary, the old ones renamed aside and removed, as Ganeti's steps", async () => {
    const { cl, calls, net } = await drbdWithD1();
    const disk = cl.config.disk(inst(cl, "d1.example.com").disks[0]!);
    const old = disk.children!.map((c) => c.logical_id[1]);
    const oldUuids = disk.children!.map((c) => c.uuid);
    const log = await logOf(cl, replaceOp("replace_on_primary"));
    expect(log.filter((l) => l.startsWith("STEP "))).toEqual(REPLACE_STEPS);
    expect(stepLines(log, 1)).toEqual([
      "STEP 1/6 Check device existence",
      " - INFO: Checking disk/0 on node2.example.com",
      " - INFO: Checking disk/0 on node1.example.com",
      " - INFO: Checking volume groups",
    ]);
    expect(log).toContain(" - INFO: Checking disk/0 consistency on node node2.example.com");
    expect(log).toContain(" - INFO: Adding storage on node1.example.com for disk/0");
    expect(stepLines(log, 4)).toEqual([
      "STEP 4/6 Changing drbd configuration",
      " - INFO: Detaching disk/0 drbd from local storage",
      " - INFO: Renaming the old LVs on the target node",
      " - INFO: Renaming the new LVs on the target node",
      " - INFO: Adding new mirror component on node1.example.com",
    ]);
    // The copy into the new volumes is the resync Ganeti waits for.
    expect(log).toContain(" - INFO: - device disk/0: 45.20% done, 12s remaining (estimated)");
    expect(only(calls, ...VOLUME_CALLS)).toEqual(volumeReplacement("node1"));
    expect(net.log.filter((l) => /^(detachLocal|attachLocal)/.test(l)).map((l) => l.replace(/ .*@\S+/, ""))).toEqual([
      "detachLocal primary",
      "attachLocal primary",
    ]);
    const now = cl.config.disk(disk.uuid).children!;
    expect(now.map((c) => c.logical_id[1])).toEqual(old);
    expect(now.map((c) => c.uuid)).not.toEqual(oldUuids);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["d1.example.com"]);
  });

  it("-p on a stopped instance: the disks are activated and in sync before the peer is checked, and shut down after", async () => {
    const { cl, calls } = await drbdWithD1({ start: false });
    const log = await logOf(cl, replaceOp("replace_on_primary"));
    const synced = log.indexOf(" - INFO: Instance d1.example.com's disks are in sync");
    expect(synced).toBeGreaterThanOrEqual(0);
    expect(synced).toBeLessThan(log.indexOf("STEP 2/6 Check peer consistency"));
    expect(log).toContain("STEP 6/6 Removing old storage");
    expect(calls[0]).toMatch(/^blockdev_assemble@/);
    expect(only(calls, "blockdev_shutdown").sort()).toEqual(["blockdev_shutdown@node1", "blockdev_shutdown@node2"]);
    expect(inst(cl, "d1.example.com").disks_active).toBe(false);
  });

  it("-p is refused while the mirror to the secondary is not in sync (its replica would be the source)", async () => {
    const { cl, net } = await drbdWithD1();
    const disk = cl.config.disk(inst(cl, "d1.example.com").disks[0]!);
    // The primary reconnected: a full copy to the peer is under way.
    for (const side of net.sides(disk.uuid).values()) if (side.role === "primary") side.syncPolls = 1000;
    await expect(runOp(cl, replaceOp("replace_on_primary"))).rejects.toMatchObject({
      message: expect.stringMatching(/Can't detach drbd from local storage on node node1\.example\.com.*not in sync/),
    });
  });

  it("-n NODE: the replica moves to the new node, the config follows, the old secondary's replica is removed", async () => {
    const { cl, calls, n1, n2, n3 } = await drbdWithD1();
    const disk = cl.config.disk(inst(cl, "d1.example.com").disks[0]!);
    const [, , port, pminor, , secret] = disk.logical_id;
    const log = await logOf(cl, replaceOp("replace_new_secondary", { remote_node: "node3.example.com" }));
    // Ganeti's step 1 when changing the secondary: only the primary's disks, then the volume groups.
    expect(stepLines(log, 1)).toEqual([
      "STEP 1/6 Check device existence",
      " - INFO: Checking disk/0 on node1.example.com",
      " - INFO: Checking volume groups",
    ]);
    expect(only(calls, "blockdev_create", "blockdev_shutdown", "drbd_disconnect_net", "drbd_attach_net", "blockdev_remove")).toEqual([
      "blockdev_create@node3",
      "blockdev_shutdown@node2",
      "drbd_disconnect_net@node1",
      "drbd_attach_net@node3",
      "drbd_attach_net@node1",
      "blockdev_remove@node2",
    ]);
    const i = inst(cl, "d1.example.com");
    expect(i.secondary_nodes).toEqual([n3]);
    expect(disk.logical_id).toEqual([n1, n3, port, pminor, 0, secret]);
    expect(disk.nodes).toEqual([n1, n3]);
    expect(i.primary_node).toBe(n1);
    expect(disk.nodes).not.toContain(n2);
    await expect(runOp(cl, replaceOp("replace_new_secondary", { remote_node: "node3.example.com" }))).rejects.toMatchObject({
      message: "The specified node is already the secondary node of the instance",
      code: "wrong_input",
    });
    await expect(runOp(cl, replaceOp("replace_new_secondary", { remote_node: "node1.example.com" }))).rejects.toMatchObject({
      message: "The specified node is the primary node of the instance",
      code: "wrong_input",
    });
  });

  it("a failed rename of the new volumes fails the job with Ganeti's message, after the old ones went aside", async () => {
    const { cl } = await drbdWithD1();
    const handlers = handlersOf(cl, "node2.example.com");
    const rename = handlers["blockdev_rename"]!;
    let n = 0;
    handlers["blockdev_rename"] = async (a) => {
      if (++n === 3) throw new Error("no such volume");
      return rename(a);
    };
    const job = await cl.runJob([replaceOp("replace_on_secondary")]);
    expect(job.ops[0]!.status).toBe("error");
    expect(JSON.stringify(job.ops[0]!.result)).toMatch(/Can't rename new LVs on node node2\.example\.com: .*no such volume/);
    expect(cl.jobLog(job).slice(-2)).toEqual([
      " - INFO: Renaming the old LVs on the target node",
      " - INFO: Renaming the new LVs on the target node",
    ]);
  });

  it("-n NODE: a failed attach on the new secondary still attaches the primary, then fails the job as Ganeti", async () => {
    const { cl, calls } = await drbdWithD1();
    const handlers = handlersOf(cl, "node3.example.com");
    handlers["drbd_attach_net"] = async () => {
      throw new Error("peer unreachable");
    };
    await expect(runOp(cl, replaceOp("replace_new_secondary", { remote_node: "node3.example.com" }))).rejects.toMatchObject({
      message:
        "Can't attach drbd disks on node node3.example.com: peer unreachable (please do a gnt-instance info d1.example.com to see the status of disks)",
    });
    expect(only(calls, "drbd_attach_net").slice(-2)).toEqual(["drbd_attach_net@node3", "drbd_attach_net@node1"]);
  });

  it("-I hail: the allocator picks the new secondary", async () => {
    const { cl, n3 } = await drbdWithD1();
    const log = await logOf(cl, replaceOp("replace_new_secondary", { iallocator: "hail" }));
    expect(log).toContain(" - INFO: Selected new secondary for instance 'd1.example.com': node3.example.com");
    expect(stepLines(log, 1)).toEqual([
      "STEP 1/6 Check device existence",
      " - INFO: Checking disk/0 on node1.example.com",
      " - INFO: Checking volume groups",
    ]);
    expect(inst(cl, "d1.example.com").secondary_nodes).toEqual([n3]);
  });

  it("-a: nothing to do while healthy; a secondary that lost its volume gets new ones", async () => {
    const { cl, calls } = await drbdWithD1();
    const log = await logOf(cl, replaceOp("replace_auto"));
    expect(log).toContain("No disks need replacement for instance 'd1.example.com'");
    const disk = cl.config.disk(inst(cl, "d1.example.com").disks[0]!);
    const b2 = cl.backendOf("node2.example.com");
    const lost = await b2.storage.plain.pathOf(disk.children![0]!);
    await fs.rm(lost);
    const oldId = [...disk.children![0]!.logical_id];
    calls.length = 0;
    await runOp(cl, replaceOp("replace_auto"));
    expect(only(calls, "blockdev_addchildren")).toEqual(["blockdev_addchildren@node2"]);
    // Only the meta volume still existed to be renamed aside; the new data volume took the lost one's name.
    expect(only(calls, "blockdev_rename")).toEqual(["blockdev_rename@node2", "blockdev_rename@node2", "blockdev_rename@node2"]);
    expect(cl.config.disk(disk.uuid).children![0]!.logical_id).toEqual(oldId);
    expect((await fs.stat(lost)).size).toBe(64 * 1024 * 1024);
  });
});

describe("plain instances", () => {
  it("are created as volumes in the cluster's volume group on the primary, run, and are removed", async () => {
    const { cl, calls } = await drbdCluster();
    await runOp(cl, createOp("p1.example.com", { disk_template: "plain", disks: [{ size: 32 }] }));
    const disk = cl.config.disk(inst(cl, "p1.example.com").disks[0]!);
    expect(disk.logical_id[0]).toBe("xenvg");
    const file = await cl.backendOf("node1.example.com").storage.plain.pathOf(disk);
    expect((await fs.stat(file)).size).toBe(32 * 1024 * 1024);
    expect(await runningOn(cl, "node1.example.com")).toEqual(["p1.example.com"]);
    expect(only(calls, "blockdev_create")).toEqual(["blockdev_create@node1"]);
    await runOp(cl, { OP_ID: "OP_INSTANCE_REMOVE", instance_name: "p1.example.com", ignore_failures: false });
    await expect(fs.stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("disk template conversion", () => {
  function stubConvert(cl: TestCluster, seen: Array<{ src: string; dst: string }>): void {
    const handlers = handlersOf(cl, "node1.example.com");
    handlers["blockdev_convert"] = async (a) => {
      const { src, dst } = a as { src: { dev_type: string }; dst: { dev_type: string } };
      seen.push({ src: src.dev_type, dst: dst.dev_type });
      return null;
    };
  }

  it("file to drbd and back: new disks made, the primary copies the data, the old disks removed", async () => {
    const { cl, calls, n1, n2 } = await drbdCluster();
    await runOp(cl, createOp("c1.example.com", { disk_template: "file", disks: [{ size: 32 }], start: false }));
    const seen: Array<{ src: string; dst: string }> = [];
    stubConvert(cl, seen);
    const fileDisk = cl.config.disk(inst(cl, "c1.example.com").disks[0]!);
    calls.length = 0;
    const job = await cl.runJob([
      { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "drbd", remote_node: "node2.example.com" },
    ]);
    expect(job.ops[0]!.status, JSON.stringify(job.ops[0]!.result)).toBe("success");
    expect(job.ops[0]!.result).toEqual([["disk_template", "drbd"]]);
    expect(cl.jobLog(job)).toEqual(
      expect.arrayContaining([
        "Converting disk template from 'file' to 'drbd'",
        "Creating new empty disks of type 'drbd'...",
        " - copying data from disk 0 (file), size 32M",
        "Removing old block devices of type 'file'...",
      ]),
    );
    expect(only(calls, "blockdev_create", "blockdev_convert", "blockdev_remove")).toEqual([
      "blockdev_create@node2",
      "blockdev_create@node1",
      "blockdev_convert@node1",
      "blockdev_remove@node1",
    ]);
    expect(seen).toEqual([{ src: "file", dst: "drbd" }]);
    const i = inst(cl, "c1.example.com");
    expect(i.disk_template).toBe("drbd");
    expect(i.secondary_nodes).toEqual([n2]);
    expect(cl.config.data.disks[fileDisk.uuid]).toBeUndefined();
    const drbd = cl.config.disk(i.disks[0]!);
    expect(drbd.logical_id.slice(0, 2)).toEqual([n1, n2]);

    calls.length = 0;
    await runOp(cl, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "file" });
    // Read from the drbd disk's data volume; the replica goes from both nodes, its port back to the pool.
    expect(seen[1]).toEqual({ src: "plain", dst: "file" });
    expect(only(calls, "blockdev_remove").sort()).toEqual(["blockdev_remove@node1", "blockdev_remove@node2"]);
    expect(inst(cl, "c1.example.com").disk_template).toBe("file");
    expect(inst(cl, "c1.example.com").secondary_nodes).toEqual([]);
    expect(cl.config.cluster.tcpudp_port_pool).toContain(drbd.logical_id[2]);
  });

  it("with an iallocator (given, or the cluster's default), the allocator chooses the new secondary and the log says which", async () => {
    const { cl, n1, n3 } = await drbdCluster();
    stubConvert(cl, []);
    // hail applies the group's instance policy (disks of at least 1 GiB).
    await runOp(cl, createOp("c1.example.com", { disk_template: "file", disks: [{ size: 1024 }], start: false }));
    // node2 is busy (a drbd instance's secondary): hail prefers node3.
    await runOp(cl, drbdOp("busy.example.com", { disks: [{ size: 1024 }], beparams: { memory: 2048 } }));
    const job = await cl.runJob([
      { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "drbd", iallocator: "hail" },
    ]);
    expect(job.ops[0]!.status, JSON.stringify(job.ops[0]!.result)).toBe("success");
    const log = cl.jobLog(job);
    expect(log.slice(0, 4)).toEqual([
      "Converting disk template from 'file' to 'drbd'",
      "Using hail to choose new secondary",
      "hail choose node3.example.com as new secondary",
      "Generating new 'drbd' disk template...",
    ]);
    expect(inst(cl, "c1.example.com").secondary_nodes).toEqual([n3]);
    expect(cl.config.disk(inst(cl, "c1.example.com").disks[0]!).logical_id.slice(0, 2)).toEqual([n1, n3]);

    // Neither a node nor an iallocator: the cluster's default one (Ganeti's CheckIAllocatorOrNode).
    await runOp(cl, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "file" });
    const job2 = await cl.runJob([{ OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "drbd" }]);
    expect(job2.ops[0]!.status, JSON.stringify(job2.ops[0]!.result)).toBe("success");
    expect(cl.jobLog(job2)).toContain(`Using ${cl.config.cluster.default_iallocator} to choose new secondary`);
    expect(inst(cl, "c1.example.com").secondary_nodes).toEqual([n3]);
  });

  it("refuses without a secondary, a running instance, and a failed copy leaves the instance as it was", async () => {
    const { cl } = await drbdCluster();
    await runOp(cl, createOp("c1.example.com", { disk_template: "file", disks: [{ size: 32 }] }));
    await expect(
      runOp(cl, {
        OP_ID: "OP_INSTANCE_SET_PARAMS",
        instance_name: "c1.example.com",
        disk_template: "drbd",
        remote_node: "node2.example.com",
        iallocator: "hail",
      }),
    ).rejects.toMatchObject({ message: "Do not specify both, iallocator and node", code: "wrong_input" });
    await cl.config.mutate((d) => void (d.cluster.default_iallocator = ""));
    await expect(
      runOp(cl, { OP_ID: "OP_INSTANCE_SET_PARAMS", instance_name: "c1.example.com", disk_template: "drbd" }),
    ).rejects.toMatchObject({
      message:
        "No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator",
      code: "wrong_input",
    });
    await expect(
      runOp(cl, {
        OP_ID: "OP_INSTANCE_SET_PARAMS",
        instance_name: "c1.example.com",
        disk_template: "drbd",
        remote_node: "node2.example.com",
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining("cannot change disk template"), code: "wrong_state" });
    await runOp(cl, { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "c1.example.com" });
    const handlers = handlersOf(cl, "node1.example.com");
    handlers["blockdev_convert"] = async () => {
      throw new Error("read error");
    };
    const before = inst(cl, "c1.example.com").disks[0];
    await expect(
      runOp(cl, {
        OP_ID: "OP_INSTANCE_SET_PARAMS",
        instance_name: "c1.example.com",
        disk_template: "drbd",
        remote_node: "node2.example.com",
      }),
    ).rejects.toMatchObject({ message: "Error while converting the instance's template: read error" });
    const i = inst(cl, "c1.example.com");
    expect(i.disk_template).toBe("file");
    expect(i.disks).toEqual([before]);
    expect(Object.values(cl.config.data.disks).filter((d) => d.dev_type === "drbd")).toHaveLength(0);
  });
});

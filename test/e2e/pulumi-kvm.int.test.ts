// examples/pulumi-kvm through the real Pulumi engine against a live two-node
// ganeti-ts cluster with kvm enabled (node daemons in a scratch network
// namespace that has the program's bridge): `up` boots a real guest from its
// own disk (its serial console shows the busybox marker), a memory change is
// an in-place update that resizes the running guest through the balloon, a
// primaryNode change is an in-place update that live-migrates it, and
// `destroy` leaves no qemu. The console output (Ganeti's shape) is used to
// talk to the guest's shell. One guest (two qemu processes only during the
// migration). Steps run in order and depend on each other.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { GanetiClient } from "@ganeti-ts/sdk";
import { GUEST_MARKER, guestAssets, killGuestsUnder, waitForConsole } from "../../server/test/harness/kvm-guest.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { typeIntoConsole } from "../helpers/console-pty.js";
import { engineProcessesAfterRun, recorder, REPO, startEngine, type Engine } from "./engine.js";

// Engine runs take 5-60 s on two loaded cores; a guest boots in 5-60 s under TCG.
const RUN = 300_000;
const VM = "kvm-vm-0.example.com";

let cluster: LocalCluster;
let engine: Engine;
let client: GanetiClient;
let stack: Stack | undefined;
let root = "";

type Row = Record<string, any>;

/** Each node daemon's data dir: node1 is the master's, the others were added next to it. */
const nodeDir = (i: number) => (i === 0 ? cluster.dataDir : path.join(root, `node${i + 1}`));
const kvmFile = (i: number, kind: "log" | "pid", suffix: string) => path.join(nodeDir(i), "hypervisors", "kvm", kind, `${VM}${suffix}`);

async function alive(pidFile: string): Promise<boolean> {
  const pid = Number((await fs.readFile(pidFile, "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const cmd = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmd.includes("qemu");
}

/** qemu processes of this cluster (their command lines name files under its root). */
async function qemus(): Promise<number[]> {
  const out: number[] = [];
  for (const e of await fs.readdir("/proc")) {
    const cmd = await fs.readFile(`/proc/${e}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes("qemu") && cmd.includes(root)) out.push(Number(e));
  }
  return out;
}

function changes(summary: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && n > 0));
}

async function machine(): Promise<Row> {
  const out = await stack!.outputs();
  return (out.machines?.value as Row[])[0]!;
}

beforeAll(async () => {
  const a = await guestAssets();
  cluster = await startLocalCluster({ nodes: 2, initArgs: ["--enabled-hypervisors", "kvm"] });
  root = path.dirname(cluster.dataDir);
  client = new GanetiClient({ baseUrl: cluster.url, username: cluster.user, password: cluster.password, caFile: cluster.caFile });
  engine = await startEngine();
  stack = await engine.stack(path.join(REPO, "examples/pulumi-kvm"), "kvm", cluster);
  await stack.setAllConfig({
    kernel: { value: a.kernel },
    initrd: { value: a.initrd },
    qemu: { value: a.qemu },
    node: { value: cluster.nodes[0]! },
    memory: { value: "192" },
  });
}, 600_000);

afterAll(async () => {
  const errors: unknown[] = [];
  if (stack) {
    await stack.destroy().catch((e: unknown) => errors.push(e));
    await stack.workspace.removeStack(stack.name).catch((e: unknown) => errors.push(e));
  }
  client?.close();
  await engine?.cleanup().catch((e: unknown) => errors.push(e));
  if (cluster) {
    await killGuestsUnder(root);
    await cluster.destroy().catch((e: unknown) => errors.push(e));
  }
  if (errors.length) throw new AggregateError(errors, "e2e cleanup failed");
}, 600_000);

describe("examples/pulumi-kvm through the Pulumi engine (real kvm guests)", () => {
  let uuid = "";
  let ctime = 0;

  it(
    "up creates the VM, which boots the busybox system from its disk; outputs say where it runs and how to reach its console",
    async () => {
      const up = await stack!.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ create: 2 }); // the stack and the VM
      await waitForConsole(kvmFile(0, "log", ".serial.log"), new RegExp(`${GUEST_MARKER} root=disk`), { timeoutMs: 180_000 });

      const i = (await client.instances.get(VM)) as Row;
      expect(i).toMatchObject({
        disk_template: "sharedfile",
        os: "busybox",
        pnode: cluster.nodes[0],
        status: "running",
        "disk.sizes": [1024],
        "nic.modes": ["bridged"],
        "nic.links": ["br0"],
      });
      expect(i.beparams).toMatchObject({ maxmem: 192, minmem: 192 });
      expect(i.oper_ram).toBe(192);
      uuid = i.uuid;
      ctime = i.ctime;
      expect(await alive(kvmFile(0, "pid", ".pid"))).toBe(true);
      expect(await qemus()).toHaveLength(1);

      const m = await machine();
      expect(m).toMatchObject({ name: VM, uuid, node: cluster.nodes[0], status: "running", memory: 192, runtimeMemory: 192 });
      expect(m.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      // Ganeti's console shape for kvm's serial console: a command to run on the node.
      expect(m.console).toMatchObject({ instance: VM, kind: "ssh", host: cluster.nodes[0], user: "root" });
      expect(m.console.command[0]).toBe("socat");
      expect(m.console.command.at(-1)).toMatch(new RegExp(`^UNIX-CONNECT:.*${VM.replace(/\./g, "\\.")}\\.serial$`));
      expect(m.consoleCommand).toBe(`gnt instance console ${VM}`);

      // The node is this machine: the output's command really reaches the guest's shell.
      expect(await typeIntoConsole((m.console.command as string[]).join(" "), "echo $((6*7))XYZ", "42XYZ")).toContain("42XYZ");
    },
    RUN + 180_000,
  );

  it(
    "a memory change previews as an update and resizes the running guest through the balloon, without recreating it",
    async () => {
      await stack!.setConfig("memory", { value: "128" });
      const rec = recorder();
      const p = await stack!.preview({ onEvent: rec.onEvent });
      expect(changes(p.changeSummary)).toEqual({ update: 1 });
      const step = rec.events.find((e) => e.phase === "pre" && e.name === "kvm-vm-0");
      expect(step?.op).toBe("update");
      expect(step?.changedInputs).toEqual(["maxMemory", "minMemory"]);

      const up = await stack!.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ update: 1 });
      const i = (await client.instances.get(VM)) as Row;
      expect(i).toMatchObject({ uuid, ctime, status: "running", pnode: cluster.nodes[0] });
      expect(i.beparams).toMatchObject({ maxmem: 128, minmem: 128 });
      // The guest was not restarted: its memory changed at run time.
      await expect.poll(async () => ((await client.instances.get(VM)) as Row).oper_ram, { timeout: 60_000, interval: 1000 }).toBe(128);
      expect(await alive(kvmFile(0, "pid", ".pid"))).toBe(true);
      expect((await machine()).memory).toBe(128);
    },
    2 * RUN,
  );

  it(
    "a primaryNode change previews as an update and live-migrates the guest (sharedfile) to the other node",
    async () => {
      const pid = (await fs.readFile(kvmFile(0, "pid", ".pid"), "utf8")).trim();
      await stack!.setConfig("node", { value: cluster.nodes[1]! });
      const rec = recorder();
      const p = await stack!.preview({ onEvent: rec.onEvent });
      expect(changes(p.changeSummary)).toEqual({ update: 1 });
      const step = rec.events.find((e) => e.phase === "pre" && e.name === "kvm-vm-0");
      expect(step?.op).toBe("update");
      expect(step?.changedInputs).toEqual(["primaryNode"]);

      const before = new Set(((await client.jobs.list({ bulk: true })) as Row[]).map((j) => j.id));
      const up = await stack!.up();
      expect(changes(up.summary.resourceChanges)).toEqual({ update: 1 });

      // One live migration job, nothing recreated.
      const jobs = ((await client.jobs.list({ bulk: true })) as Row[]).filter((j) => !before.has(j.id));
      expect(jobs.map((j) => [j.summary, j.status])).toEqual([[[`INSTANCE_MIGRATE(${VM})`], "success"]]);
      const i = (await client.instances.get(VM)) as Row;
      expect(i).toMatchObject({ uuid, ctime, status: "running", pnode: cluster.nodes[1], oper_ram: 128 });
      expect(await alive(kvmFile(1, "pid", ".pid"))).toBe(true);
      expect(await alive(kvmFile(0, "pid", ".pid"))).toBe(false);
      expect(await qemus()).not.toContain(Number(pid));

      const m = await machine();
      expect(m).toMatchObject({ node: cluster.nodes[1], status: "running", runtimeMemory: 128 });
      expect(m.console).toMatchObject({ kind: "ssh", host: cluster.nodes[1] });
      // An unchanged program is no change on the new node.
      expect(changes((await stack!.preview()).changeSummary)).toEqual({});
    },
    2 * RUN,
  );

  it(
    "destroy removes the VM: no qemu and no plugin process left",
    async () => {
      const d = await stack!.destroy();
      expect(changes(d.summary.resourceChanges)).toEqual({ delete: 2 });
      expect((await client.instances.list()).map((x) => x.id)).toEqual([]);
      expect(await qemus()).toEqual([]);
      expect(await engineProcessesAfterRun(engine)).toEqual([]);
    },
    RUN,
  );
});

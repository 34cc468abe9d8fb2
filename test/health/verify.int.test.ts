// Break a real two-node cluster (master + node daemons as processes, fake
// hypervisor) on purpose and see `gnt cluster verify --error-codes` report
// each problem with Ganeti's code, on the master (control socket) and from
// elsewhere (the /2/ganeti-ts/verify RAPI extension).
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { launchDaemon, readRuntime, stopDaemon } from "@ganeti-ts/server/master/launcher";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { masterUrl } from "../durability/helpers.js";
import { GNT, REPO, startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
let c: LocalCluster;
let node2Dir: string;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 2 });
  node2Dir = path.join(path.dirname(c.dataDir), "node2");
}, 240_000);

afterAll(async () => {
  await c?.destroy();
}, 120_000);

/** gnt with the cluster's environment; never throws: stdout, stderr and the exit code. */
async function gnt(args: string[], env: Record<string, string | undefined> = {}): Promise<{ out: string; err: string; code: number }> {
  // The master restarts in one test: its RAPI port changes with it.
  const full: Record<string, string | undefined> = { ...process.env, ...c.env(), GANETI_RAPI_URL: await masterUrl(c.dataDir), ...env };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  try {
    const r = await run(process.execPath, [GNT, ...args], { cwd: REPO, env: full as NodeJS.ProcessEnv, maxBuffer: 16 << 20 });
    return { out: r.stdout, err: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { out: e.stdout ?? "", err: e.stderr ?? "", code: typeof e.code === "number" ? e.code : -1 };
  }
}

const verify = () => gnt(["cluster", "verify", "--error-codes"]);
const problems = (out: string) =>
  out
    .split("\n")
    .filter((l) => / {2}- (ERROR|WARNING):/.test(l))
    .map((l) => l.replace(/^.* {2}- /, ""));
const fakeState = (dir: string, name: string) => path.join(dir, "hypervisors", "fake", `${name}.json`);

async function addInstance(name: string, node: string, extra: string[] = []): Promise<void> {
  const r = await gnt(["instance", "add", "-t", "diskless", "-o", "noop", "-n", node, "--no-name-check", "--no-ip-check", ...extra, name]);
  expect(r.code, r.err).toBe(0);
}

describe("gnt cluster verify on a broken cluster", () => {
  it("a healthy cluster verifies clean and prints Ganeti's progress", async () => {
    await addInstance("web1.example.com", c.nodes[0]!);
    const r = await verify();
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^Submitted jobs \d+, \d+$/m);
    expect(r.out).toMatch(/^Waiting for job \d+ \.\.\.$/m);
    expect(r.out).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \* Verifying cluster config$/m);
    expect(r.out).toContain("* Verifying group 'default'");
    expect(problems(r.out)).toEqual([]);
  }, 120_000);

  it("an instance whose process died: EINSTANCEDOWN, exit 1", async () => {
    await fs.rm(fakeState(c.dataDir, "web1.example.com"));
    const r = await verify();
    expect(r.code).toBe(1);
    expect(problems(r.out)).toContain(
      "ERROR:EINSTANCEDOWN:instance:web1.example.com:instance not running on its primary node node1.example.com",
    );
    // Without --error-codes, Ganeti's plain format.
    const plain = await gnt(["cluster", "verify"]);
    expect(plain.out).toContain("  - ERROR: instance web1.example.com: instance not running on its primary node node1.example.com");
  }, 120_000);

  it("an instance started behind the master's back: EINSTANCEWRONGNODE; an unknown one ENODEORPHANINSTANCE", async () => {
    const state = JSON.stringify({
      name: "web1.example.com",
      uuid: "x",
      memory: 128,
      vcpus: 1,
      state: "running",
      started_at: 0,
      disks: [],
    });
    await fs.mkdir(path.dirname(fakeState(node2Dir, "x")), { recursive: true });
    await fs.writeFile(fakeState(node2Dir, "web1.example.com"), state);
    await fs.writeFile(fakeState(node2Dir, "stray.example.com"), state.replace("web1.example.com", "stray.example.com"));
    const r = await verify();
    expect(r.code).toBe(1);
    const p = problems(r.out);
    expect(p).toContain("ERROR:EINSTANCEWRONGNODE:instance:web1.example.com:instance should not run on node node2.example.com");
    expect(p).toContain("ERROR:ENODEORPHANINSTANCE:node:node2.example.com:node is running unknown instance stray.example.com");
    await fs.rm(fakeState(node2Dir, "web1.example.com"));
    await fs.rm(fakeState(node2Dir, "stray.example.com"));
  }, 120_000);

  it("a stopped node daemon: ENODERPC; back on its port, the node verifies again", async () => {
    const rt = (await readRuntime(node2Dir, "node"))!;
    await stopDaemon(node2Dir, "node");
    const r = await verify();
    expect(r.code).toBe(1);
    expect(problems(r.out).some((l) => l.startsWith("ERROR:ENODERPC:node:node2.example.com:while contacting node: "))).toBe(true);
    const addrFile = path.join(node2Dir, "noded-address.json");
    const addr = JSON.parse(await fs.readFile(addrFile, "utf8")) as Record<string, unknown>;
    await fs.writeFile(addrFile, JSON.stringify({ ...addr, port: rt["port"] }));
    await launchDaemon("node", node2Dir);
    const again = await verify();
    expect(problems(again.out).filter((l) => l.includes("node2"))).toEqual([]);
  }, 180_000);

  it("an overcommitted node: ENODEN1; --no-nplusone-mem skips the check", async () => {
    for (const n of ["big1.example.com", "big2.example.com"])
      await addInstance(n, c.nodes[0]!, ["--no-start", "-B", "minmem=32768,maxmem=32768"]);
    const r = await verify();
    expect(r.code).toBe(1);
    expect(
      problems(r.out).some((l) =>
        /^ERROR:ENODEN1:node:node2\.example\.com:not enough memory to accomodate instance failovers should node node1\.example\.com fail \(65664MiB needed, \d+MiB available\)$/.test(
          l,
        ),
      ),
      problems(r.out).join("\n"),
    ).toBe(true);
    const skipped = await gnt(["cluster", "verify", "--error-codes", "--no-nplusone-mem"]);
    expect(problems(skipped.out).filter((l) => l.includes("ENODEN1"))).toEqual([]);
    for (const n of ["big1.example.com", "big2.example.com"]) expect((await gnt(["instance", "remove", "-f", n])).code).toBe(0);
  }, 240_000);

  it("the RAPI extension reaches the same verify from a machine that is not the master", async () => {
    const url = await masterUrl(c.dataDir);
    const r = await gnt(["cluster", "verify", "--error-codes"], { GANETI_DATA_DIR: undefined, GANETI_RAPI_URL: url });
    expect(r.code).toBe(1);
    expect(problems(r.out)).toContain(
      "ERROR:EINSTANCEDOWN:instance:web1.example.com:instance not running on its primary node node1.example.com",
    );
    const disks = await gnt(["cluster", "verify-disks"], { GANETI_DATA_DIR: undefined, GANETI_RAPI_URL: url });
    expect(disks.code, disks.out + disks.err).toBe(0);
    expect(disks.out).toContain("No disks need to be activated.");
  }, 120_000);

  it("the watcher restarts what should run (not while paused) and verify is clean again", async () => {
    const paused = await gnt(["cluster", "watcher", "pause", "1h"]);
    expect(paused.out).toMatch(/^The watcher is paused until \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\.$/m);
    expect((await gnt(["cluster", "watcher", "info"])).out).toContain("The watcher is paused until");
    const idle = await gnt(["watcher"]);
    expect(idle.out).toContain("INFO: Pause has been set, exiting");
    expect((await gnt(["cluster", "watcher", "continue"])).out).toBe("The watcher is no longer paused.\n");
    expect((await gnt(["cluster", "watcher", "info"])).out).toBe("The watcher is not paused.\n");

    const pass = await gnt(["watcher"]);
    expect(pass.code, pass.err).toBe(0);
    expect(pass.out).toContain("INFO: Restarting instance 'web1.example.com' (attempt #1)");
    const r = await verify();
    expect(problems(r.out)).toEqual([]);
    expect(r.code).toBe(0);
    // Not on the master: the watcher refuses, as Ganeti's does.
    const remote = await gnt(["watcher"], { GANETI_DATA_DIR: undefined });
    expect(remote.code).toBe(1);
    expect(remote.err).toContain("This is not the master node");
  }, 180_000);

  it("the repair workflow: power a node off and on through its oob_program, and verify clean afterwards", async () => {
    const oob = path.join(path.dirname(c.dataDir), "oob.sh");
    await fs.writeFile(
      oob,
      `#!/bin/sh
state="$(dirname "$0")/$2.power"
case "$1" in
  power-on) echo on > "$state" ;;
  power-off) echo off > "$state" ;;
  power-cycle) ;;
  power-status) if [ "$(cat "$state" 2>/dev/null)" = off ]; then echo '{"powered": false}'; else echo '{"powered": true}'; fi ;;
  health) echo '[["disk0", "OK"], ["psu1", "CRITICAL"]]' ;;
esac
`,
      { mode: 0o755 },
    );
    const n2 = "node2.example.com";
    expect((await gnt(["node", "modify", "--node-parameters", `oob_program=${oob}`, n2])).code).toBe(0);
    const status = await gnt(["node", "power", "status"]);
    expect(status.out).toBe("Node              Status\nnode1.example.com (unavail)\nnode2.example.com powered\n");
    expect(status.code).toBe(1); // node1 has no oob_program: an error, as in Ganeti
    const health = await gnt(["node", "health", n2]);
    expect(health.out).toBe("Node              Status\nnode2.example.com disk0=OK\n                  psu1=CRITICAL\n");

    const off = await gnt(["node", "power", "off", n2]);
    expect(off.out, off.err).toBe("Node              Status\nnode2.example.com invoked\n");
    const list = await gnt(["node", "list", "-o", "name,offline,powered", "--no-headers", "--separator", "|"]);
    expect(list.out).toContain("node2.example.com|Y|N");
    expect((await gnt(["node", "power", "status", n2])).out).toContain("node2.example.com unpowered");
    const on = await gnt(["node", "power", "on", n2]);
    expect(on.code, on.err).toBe(0);
    expect((await gnt(["node", "modify", "--offline", "no", n2])).code).toBe(0);
    const r = await verify();
    expect(problems(r.out)).toEqual([]);
    expect(r.code).toBe(0);
  }, 240_000);
});

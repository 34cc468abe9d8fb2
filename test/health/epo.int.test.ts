// `gnt cluster epo` on a real two-node cluster (master + node daemon as
// processes, fake hypervisor); a script the test writes is node2's
// oob_program and stands in for IPMI. The master (node1) has none.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GNT, REPO, startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
let c: LocalCluster;
const N1 = "node1.example.com";
const N2 = "node2.example.com";

async function gnt(args: string[]): Promise<{ out: string; err: string; code: number }> {
  try {
    const r = await run(process.execPath, [GNT, ...args], { cwd: REPO, env: { ...process.env, ...c.env() }, maxBuffer: 16 << 20 });
    return { out: r.stdout, err: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { out: e.stdout ?? "", err: e.stderr ?? "", code: typeof e.code === "number" ? e.code : -1 };
  }
}

const states = async (): Promise<string> =>
  (await gnt(["instance", "list", "-o", "name,admin_state,oper_state", "--no-headers", "--separator", "|"])).out;
const power = async (): Promise<string> => (await gnt(["node", "power", "status", N2])).out;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 2 });
  const oob = path.join(path.dirname(c.dataDir), "oob.sh");
  await fs.writeFile(
    oob,
    `#!/bin/sh
state="$(dirname "$0")/$2.power"
echo "$1 $2" >> "$(dirname "$0")/oob.log"
case "$1" in
  power-on) echo on > "$state" ;;
  power-off) echo off > "$state" ;;
  power-status) if [ "$(cat "$state" 2>/dev/null)" = off ]; then echo '{"powered": false}'; else echo '{"powered": true}'; fi ;;
esac
`,
    { mode: 0o755 },
  );
  expect((await gnt(["node", "modify", "--node-parameters", `oob_program=${oob}`, N2])).code).toBe(0);
  for (const [name, node] of [
    ["web1.example.com", N2],
    ["web2.example.com", N1],
  ] as const) {
    const r = await gnt(["instance", "add", "-t", "diskless", "-o", "noop", "-n", node, "--no-name-check", "--no-ip-check", name]);
    expect(r.code, r.err).toBe(0);
  }
}, 240_000);

afterAll(async () => {
  await c?.destroy();
}, 120_000);

const oobLog = async (): Promise<string[]> =>
  (await fs.readFile(path.join(path.dirname(c.dataDir), "oob.log"), "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => l && !l.startsWith("power-status"));

describe("gnt cluster epo", () => {
  it("refuses Ganeti's invalid combinations and the master without --all", async () => {
    let r = await gnt(["cluster", "epo", "--groups", "--all", "-f"]);
    expect([r.code, r.err]).toEqual([1, "Only one of --groups or --all are allowed\n"]);
    r = await gnt(["cluster", "epo", "--all", "-f", N2]);
    expect([r.code, r.err]).toEqual([1, "Arguments in combination with --all are not allowed\n"]);
    r = await gnt(["cluster", "epo", "-f", N1]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `${N1} is the master node, please do a master-failover to another node not affected by the EPO or use --all if you intend to shutdown the whole cluster\n`,
    );
    // a group holding the master is the same
    r = await gnt(["cluster", "epo", "-f", "--groups", "default"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("is the master node");
    r = await gnt(["cluster", "epo", "-f", "nosuch.example.com"]);
    expect(r.code).toBe(1);
    // without --force and no terminal to ask on: nothing happens
    r = await gnt(["cluster", "epo", N2]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("The epo will operate on 1 nodes.");
    expect(await states()).toBe("web1.example.com|up|Y\nweb2.example.com|up|Y\n");
    expect(await oobLog()).toEqual([]);
  }, 120_000);

  it("stops the node's instances (remembering them as up), then powers it off; --on powers it on and restarts them", async () => {
    let r = await gnt(["cluster", "epo", "-f", N2]);
    expect(r.code, r.out + r.err).toBe(0);
    const out = r.out.split("\n");
    expect(out[0]).toBe("Submit shutdown of instance web1.example.com");
    expect(out).toContain("All instances have been stopped successfully");
    expect(await states()).toBe("web1.example.com|up|N\nweb2.example.com|up|Y\n");
    expect(await power()).toContain(`${N2} unpowered`);
    expect(await oobLog()).toEqual([`power-off ${N2}`]);

    // already off: skipped (its instances are stopped again, which changes nothing)
    r = await gnt(["cluster", "epo", "-f", N2]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`Node ${N2} is already in desired power state, skipping`);
    expect(await oobLog()).toEqual([`power-off ${N2}`]);

    r = await gnt(["cluster", "epo", "--on", "-f", N2]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain("Waiting until all nodes are available again\n");
    expect(r.out).toContain(`Node ${N2} became available\n`);
    expect(r.out).toContain("Submit startup of instance web1.example.com\n");
    expect(r.out).toContain("All instances have been started successfully\n");
    expect(await oobLog()).toEqual([`power-off ${N2}`, `power-on ${N2}`]);
    expect(await power()).toContain(`${N2} powered`);
    expect(await states()).toBe("web1.example.com|up|Y\nweb2.example.com|up|Y\n");
  }, 180_000);

  it("--all: every instance stopped, nodes without out-of-band support left to the operator; --on --all brings all back", async () => {
    let r = await gnt(["cluster", "epo", "--all", "-f"]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`Node ${N1} does not support out-of-band handling, it can not be handled in a fully automated manner\n`);
    expect(r.out).toContain("Submit shutdown of instance web1.example.com\n");
    expect(r.out).toContain("Submit shutdown of instance web2.example.com\n");
    expect(await states()).toBe("web1.example.com|up|N\nweb2.example.com|up|N\n");
    expect((await oobLog()).slice(-1)).toEqual([`power-off ${N2}`]);

    r = await gnt(["cluster", "epo", "--all", "--on", "-f"]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(await states()).toBe("web1.example.com|up|Y\nweb2.example.com|up|Y\n");
    expect((await oobLog()).slice(-1)).toEqual([`power-on ${N2}`]);
    const v = await gnt(["cluster", "verify", "--error-codes"]);
    expect(v.code, v.out).toBe(0);
  }, 240_000);
});

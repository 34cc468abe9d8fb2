import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { HostNetwork } from "../../src/hypervisors/host-net.js";
import { createScratchNetns, type ScratchNetns } from "../../src/lib/scratch-netns.js";

const run = promisify(execFile);

/** Pids of this process's `ip -batch` helpers running in namespace `ns`. */
function batchHelpers(ns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, "utf8"))?.[1]);
      if (ppid === process.pid && argv.includes("-batch") && argv.includes(ns)) pids.push(Number(d));
    } catch {
      // exited while listed
    }
  }
  return pids;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
}

describe("HostNetwork.bridges in a named namespace", () => {
  let ns: ScratchNetns | null = null;
  const plain: string[] = [];
  afterEach(async () => {
    await ns?.dispose();
    ns = null;
    for (const n of plain.splice(0)) await run("ip", ["netns", "del", n]).catch(() => undefined);
  });

  it("answers every read from the kernel's current state through one long-lived helper", async () => {
    ns = await createScratchNetns({ prefix: "hn", bridges: ["br-a"] });
    const net = new HostNetwork(ns.name);
    expect([...(await net.bridges())]).toEqual(["br-a"]);
    const helpers = batchHelpers(ns.name);
    expect(helpers).toHaveLength(1);
    await ns.addBridge("br-b");
    expect([...(await net.bridges())].sort()).toEqual(["br-a", "br-b"]);
    await ns.delLink("br-a");
    expect(await net.missingBridges(["br-a", "br-b"])).toEqual(["br-a"]);
    // A tap is not a bridge.
    await ns.ip(["tuntap", "add", "dev", "tap-x", "mode", "tap"]);
    expect([...(await new HostNetwork(ns.name).bridges())]).toEqual(["br-b"]);
    expect(batchHelpers(ns.name)).toEqual(helpers);
  });

  it("follows a namespace deleted and created again under the same name, and replaces a helper that died", async () => {
    const name = `gts-hn-${randomBytes(4).toString("hex")}`;
    plain.push(name);
    await run("ip", ["netns", "add", name]);
    await run("ip", ["-n", name, "link", "add", "br-old", "type", "bridge"]);
    const net = new HostNetwork(name);
    expect([...(await net.bridges())]).toEqual(["br-old"]);
    await run("ip", ["netns", "del", name]);
    await run("ip", ["netns", "add", name]);
    await run("ip", ["-n", name, "link", "add", "br-new", "type", "bridge"]);
    expect([...(await net.bridges())]).toEqual(["br-new"]);

    for (const pid of batchHelpers(name)) process.kill(pid, "SIGKILL");
    expect([...(await net.bridges())]).toEqual(["br-new"]);
    await run("ip", ["-n", name, "link", "add", "br-2", "type", "bridge"]);
    expect([...(await net.bridges())].sort()).toEqual(["br-2", "br-new"]);
  });

  it("lets an idle helper exit (it would keep a deleted namespace alive) and reports a missing namespace", async () => {
    ns = await createScratchNetns({ prefix: "hn", bridges: ["br-a"] });
    const net = new HostNetwork(ns.name);
    await net.bridges();
    expect(batchHelpers(ns.name)).toHaveLength(1);
    await until(() => batchHelpers(ns!.name).length === 0);
    expect(batchHelpers(ns.name)).toEqual([]);
    const name = ns.name;
    await ns.dispose();
    ns = null;
    await expect(net.bridges()).rejects.toThrow(`Cannot open network namespace "${name}"`);
  });
});

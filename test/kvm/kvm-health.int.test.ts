// Issue #16's acceptance with a real qemu guest: its process killed with
// SIGKILL, `gnt cluster verify` reports EINSTANCEDOWN, one watcher pass
// restarts it (the guest boots again to its console marker), and verify is
// clean again. One diskless kvm guest on a one-node local cluster.
import { existsSync, promises as fs } from "node:fs";
import { kvmSocketDirOutside } from "@ganeti-ts/server/hypervisors/kvm/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDisklessGuestArgs, kvmFile } from "../helpers/kvm-guest.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { fileSize, GUEST_MARKER, guestAssets, killGuestsUnder, waitForConsole } from "../../server/test/harness/kvm-guest.js";

let c: LocalCluster;
const NAME = "heal1.example.com";

beforeAll(async () => {
  c = await startLocalCluster({ initArgs: ["--enabled-hypervisors", "kvm,fake"] });
}, 600_000);

let destroyed = false;

afterAll(async () => {
  if (!c || destroyed) return;
  await killGuestsUnder(c.dataDir);
  await c.destroy();
});

/** gnt with the cluster's environment (on the master: its control socket); never throws. */
async function gnt(args: string[]): Promise<{ out: string; code: number }> {
  try {
    return { out: (await c.gnt(args)).stdout, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { out: (e.stdout ?? "") + (e.stderr ?? ""), code: typeof e.code === "number" ? e.code : -1 };
  }
}

const problems = (out: string): string[] =>
  out
    .split("\n")
    .filter((l) => / {2}- (ERROR|WARNING):/.test(l))
    .map((l) => l.replace(/^.* {2}- /, ""));

describe("a killed kvm guest: verify reports it, the watcher restarts it", () => {
  it("SIGKILL of qemu -> EINSTANCEDOWN -> watcher restart -> verify clean", async () => {
    const a = await guestAssets();
    const add = await gnt(addDisklessGuestArgs(a, NAME, c.nodes[0]!));
    expect(add.code, add.out).toBe(0);
    const serialLog = kvmFile(c.dataDir, "log", NAME);
    const pidFile = kvmFile(c.dataDir, "pid", NAME);
    await waitForConsole(serialLog, new RegExp(GUEST_MARKER), { timeoutMs: 180_000 });
    let v = await gnt(["cluster", "verify", "--error-codes"]);
    expect(problems(v.out)).toEqual([]);
    expect(v.code).toBe(0);

    const pid = Number((await fs.readFile(pidFile, "utf8")).trim());
    process.kill(pid, "SIGKILL");
    // the process is gone before verify looks (a zombie is reaped by its parent, the node daemon)
    await expect
      .poll(
        () =>
          fs.readFile(`/proc/${pid}/stat`, "utf8").then(
            (s) => s.split(" ")[2] === "Z",
            () => true,
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    v = await gnt(["cluster", "verify", "--error-codes"]);
    expect(v.code).toBe(1);
    expect(problems(v.out)).toContain(`ERROR:EINSTANCEDOWN:instance:${NAME}:instance not running on its primary node ${c.nodes[0]}`);

    const mark = await fileSize(serialLog);
    const w = await gnt(["watcher"]);
    expect(w.code, w.out).toBe(0);
    expect(w.out).toContain(`INFO: Restarting instance '${NAME}' (attempt #1)`);
    await waitForConsole(serialLog, new RegExp(GUEST_MARKER), { from: mark, timeoutMs: 180_000 });
    expect(Number((await fs.readFile(pidFile, "utf8")).trim())).not.toBe(pid);

    v = await gnt(["cluster", "verify", "--error-codes"]);
    expect(problems(v.out)).toEqual([]);
    expect(v.code).toBe(0);
    const list = await gnt(["instance", "list", "--no-headers", "-o", "name,status"]);
    expect(list.out).toMatch(new RegExp(`^${NAME.replace(/\./g, "\\.")}\\s+running$`, "m"));

    // Destroying the cluster also removes the node's kvm sockets, which a
    // deep data directory keeps under /tmp (they used to be left behind).
    const sockets = kvmSocketDirOutside(c.dataDir);
    expect(sockets).not.toBeNull();
    expect(existsSync(sockets!)).toBe(true);
    await killGuestsUnder(c.dataDir);
    destroyed = true;
    await c.destroy();
    expect(existsSync(sockets!)).toBe(false);
  }, 900_000);
});

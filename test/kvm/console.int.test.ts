// The console of a real kvm guest through the RAPI and the CLI, on a local
// cluster (master and node daemon processes, kvm enabled): Ganeti's console
// shape, `gnt instance console --show-cmd`, and a real connection (under a
// pseudo-terminal, as a person's shell gives one) that types a command into
// the guest's shell and reads its answer; and the kvm SDK example.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDisklessGuestArgs, kvmFile } from "../helpers/kvm-guest.js";
import { GNT, startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { typeIntoConsole } from "../helpers/console-pty.js";
import { main as kvmExample } from "../../examples/sdk-scripts/kvm-vm.js";
import { GUEST_MARKER, guestAssets, killGuestsUnder, waitForConsole, type GuestAssets } from "../../server/test/harness/kvm-guest.js";

let c: LocalCluster;
let a: GuestAssets;
const NAME = "con1.example.com";

beforeAll(async () => {
  a = await guestAssets();
  c = await startLocalCluster({ initArgs: ["--enabled-hypervisors", "kvm,fake"] });
}, 600_000);

afterAll(async () => {
  if (!c) return;
  await killGuestsUnder(c.dataDir);
  await c.destroy();
});

describe("kvm console", () => {
  it("answers in Ganeti's shape, shows its command and really connects to the guest's shell", async () => {
    await c.gnt(addDisklessGuestArgs(a, NAME, c.nodes[0]!));
    const serialLog = kvmFile(c.dataDir, "log", NAME);
    await waitForConsole(serialLog, new RegExp(GUEST_MARKER), { timeoutMs: 180_000 });

    const res = await fetch(`${c.url}/2/instances/${NAME}/console`, {
      headers: { Authorization: `Basic ${Buffer.from(`${c.user}:${c.password}`).toString("base64")}` },
      // @ts-expect-error undici's dispatcher option is not in the DOM types
      dispatcher: new (await import("undici")).Agent({ connect: { rejectUnauthorized: false } }),
    });
    const con = (await res.json()) as { kind: string; host: string; port: number; user: string; command: string[]; instance: string };
    expect(con).toMatchObject({ instance: NAME, kind: "ssh", host: c.nodes[0], port: 22, user: "root" });
    expect(con.command[0]).toBe("socat");
    expect(con.command.at(-1)).toMatch(/^UNIX-CONNECT:\/.*\.serial$/);

    // The node is this machine (its address is local): the command runs here.
    const shown = await c.gnt(["instance", "console", NAME, "--show-cmd"]);
    expect(shown.stdout.trim()).toBe(con.command.join(" "));

    const out = await typeIntoConsole(`${process.execPath} ${GNT} instance console ${NAME}`, "echo $((6*7))XYZ", "42XYZ", {
      ...process.env,
      ...c.env(),
    });
    expect(out).toContain("42XYZ");

    await c.gnt(["instance", "remove", "-f", NAME, "--shutdown-timeout", "0"]);
  }, 600_000);

  it("examples/sdk-scripts/kvm-vm.ts creates a real VM, shows its console and removes it", async () => {
    const lines: string[] = [];
    await kvmExample(["--kernel", a.kernel, "--initrd", a.initrd, "--qemu", a.qemu, "--name", "sdk-kvm.example.com"], c.env(), {
      print: (l) => lines.push(l),
    });
    expect(lines).toContain(`sdk-kvm.example.com: running on ${c.nodes[0]}, 128 MiB`);
    expect(lines.some((l) => l.startsWith(`console: on ${c.nodes[0]}: socat `))).toBe(true);
    expect(lines).toContain("skipping the migration (needs a second node)");
    expect(lines.at(-1)).toBe("done");
    expect((await c.gnt(["instance", "list", "--no-headers", "-o", "name"])).stdout.trim()).toBe("");
  }, 600_000);
});

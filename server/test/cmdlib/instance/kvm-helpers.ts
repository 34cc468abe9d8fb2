// Shared pieces of the kvm LU tests with real guests (migration of file and
// sharedfile instances): the create opcode for a test guest, node-side probes
// and the counter the guest writes to the first sector of its disk.
import { spawn } from "node:child_process";
import type { OpcodeInput } from "../../../src/cmdlib/base.js";
import type { KvmHypervisor } from "../../../src/hypervisors/kvm/kvm-hypervisor.js";
import type { TestCluster } from "../../harness/cluster.js";
import { counter, type GuestAssets } from "../../harness/kvm-guest.js";

export { counter };
import { createOp } from "./helpers.js";

export const kvmOn = (c: TestCluster, node: string): KvmHypervisor => c.backendOf(node).hypervisors.get("kvm") as KvmHypervisor;

/** The kvm instances a node runs. */
export const runningOn = async (c: TestCluster, node: string): Promise<string[]> =>
  (await c.backendOf(node).handle("instance_list", { hypervisors: ["kvm"] })) as string[];

/** OP_INSTANCE_CREATE of a small test guest on node1 (`over` replaces whole fields; `hv` adds hvparams). */
export function kvmCreateOp(
  a: GuestAssets,
  name: string,
  kernelArgs: string,
  over: Record<string, unknown> = {},
  hv: Record<string, unknown> = {},
): OpcodeInput {
  return createOp(name, {
    hypervisor: "kvm",
    os_type: "noop",
    hvparams: {
      kvm_path: a.qemu,
      kernel_path: a.kernel,
      initrd_path: a.initrd,
      root_path: "/dev/vda1",
      kernel_args: `quiet ${kernelArgs}`,
      serial_speed: 115200,
      ...hv,
    },
    beparams: { memory: 96 },
    ...over,
  });
}

/**
 * Waits (generously: the machine is loaded) until the counter in `file` is
 * above `above`; on timeout the error carries what `diagnose` says.
 */
export async function counterPasses(
  file: string,
  above: number,
  { timeoutMs = 120_000, diagnose }: { timeoutMs?: number; diagnose?: () => Promise<string> } = {},
): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const n = await counter(file);
    if (n > above) return n;
    if (Date.now() > end) throw new Error(`counter stuck at ${n} in ${file} (wanted > ${above})${diagnose ? `\n${await diagnose()}` : ""}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A listener on address:port inside the namespace (blocks qemu's -incoming there). */
export async function holdPort(netns: string, address: string, port: number) {
  const child = spawn("ip", ["netns", "exec", netns, "socat", `TCP-LISTEN:${port},bind=${address},reuseaddr,fork`, "/dev/null"], {
    stdio: "ignore",
  });
  // Wait until it really listens (a loaded machine starts processes slowly).
  const end = Date.now() + 30_000;
  for (;;) {
    const out = await new Promise<string>((resolve) => {
      const ss = spawn("ip", ["netns", "exec", netns, "ss", "-Hltn", `sport = :${port}`]);
      let text = "";
      ss.stdout.on("data", (d: Buffer) => (text += d.toString()));
      ss.on("close", () => resolve(text));
    });
    if (out.trim()) return child;
    if (Date.now() > end) throw new Error(`nothing listens on ${address}:${port} in ${netns}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Shared by the live htools tests: running our CLIs, and a cluster whose
// instances all start on its first node.
import { execFile } from "node:child_process";
import path from "node:path";
import type { GanetiClient } from "@ganeti-ts/sdk";
import { REPO } from "../helpers/cluster.js";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run one of our htools CLIs (server/bin, through tsx); never rejects on a non-zero exit. */
export function tool(name: "hbal" | "hspace" | "hinfo" | "hcheck", args: string[], env: Record<string, string> = {}): Promise<Run> {
  // No RAPI settings leak in from the caller's environment: each test says what it passes.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GANETI_"))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO, "server", "bin", `${name}.js`), ...args],
      { env: { ...base, ...env }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

export interface LiveInstance {
  name: string;
  template: "sharedfile" | "diskless";
  memory: number;
  stopped?: boolean;
}

/** Create the instances on `node` (fake hypervisor, noop OS), one job at a time. */
export async function createInstancesOn(client: GanetiClient, node: string, instances: readonly LiveInstance[]): Promise<void> {
  for (const i of instances) {
    await client.instances
      .create({
        mode: "create",
        instance_name: i.name,
        disk_template: i.template,
        disks: i.template === "diskless" ? [] : [{ size: 1024 }],
        nics: [{}],
        os_type: "noop",
        pnode: node,
        hypervisor: "fake",
        beparams: { memory: i.memory, vcpus: 1 },
        name_check: false,
        ip_check: false,
        start: !i.stopped,
      })
      .wait();
  }
}

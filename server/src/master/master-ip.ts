// Activating and deactivating the master IP when a master daemon becomes
// (or stops being) the active master, through Ganeti's master IP setup
// script interface: the script gets "start" or "stop" as its argument and
// MASTER_NETDEV, MASTER_IP, MASTER_NETMASK and CLUSTER_IP_VERSION in its
// environment. Without the cluster's use_external_mip_script, the built-in
// default does what Ganeti's default script does: add or remove the address
// on master_netdev with `ip address`.
import { execFile } from "node:child_process";
import net from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface MasterIpParams {
  ip: string;
  netmask: number;
  netdev: string;
  /** Ganeti's use_external_mip_script: run `script` instead of the default. */
  external: boolean;
  script: string;
}

export function masterIpEnv(p: MasterIpParams): Record<string, string> {
  return {
    MASTER_NETDEV: p.netdev,
    MASTER_IP: p.ip,
    MASTER_NETMASK: String(p.netmask),
    CLUSTER_IP_VERSION: net.isIPv6(p.ip) ? "6" : "4",
  };
}

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/** Run the setup for `action`; resolves with what was done, for the log. */
export async function setupMasterIp(action: "start" | "stop", p: MasterIpParams): Promise<string> {
  const env = masterIpEnv(p);
  if (p.external) {
    await run(p.script, [action], { env: { ...process.env, ...env }, timeout: 60_000 });
    return `${p.script} ${action}`;
  }
  // A loopback master IP is reachable on this machine whoever is master (one-machine clusters, tests).
  if (isLoopback(p.ip)) return `master IP ${p.ip} is a loopback address: nothing to ${action}`;
  const family = net.isIPv6(p.ip) ? "-6" : "-4";
  const { stdout } = await run("ip", [family, "-o", "address", "show", "dev", p.netdev]);
  const present = stdout.split("\n").some((l) => l.includes(` ${p.ip}/`));
  if (action === "start" && !present) await run("ip", [family, "address", "add", `${p.ip}/${p.netmask}`, "dev", p.netdev]);
  if (action === "stop" && present) await run("ip", [family, "address", "del", `${p.ip}/${p.netmask}`, "dev", p.netdev]);
  return `ip address ${action === "start" ? "add" : "del"} ${p.ip}/${p.netmask} dev ${p.netdev}${(action === "start") === present ? " (already so)" : ""}`;
}

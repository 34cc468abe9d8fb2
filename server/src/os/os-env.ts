// The environment of OS scripts, variable for variable as Ganeti's
// OSCoreEnv/OSEnvironment (backend.py) and man ganeti-os-interface. Scripts
// get this and nothing of the daemon's own environment.
import type { RpcInstance } from "@ganeti-ts/schema";
import { OS_API_V15, OS_API_VERSIONS, splitOsName, type OsDefinition } from "./os-definition.js";

/** Ganeti's HOOKS_PATH: a sane PATH for scripts started with a clean environment. */
const OS_SCRIPT_PATH = "/sbin:/bin:/usr/sbin:/usr/bin";

export type Env = Record<string, string>;

function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  // Ganeti passes Python's str(); booleans and numbers read the same way.
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function osCoreEnv(fullOsName: string, os: OsDefinition, osparams: Record<string, unknown>, debug: number): Env {
  const api = Math.max(...os.apiVersions.filter((v) => (OS_API_VERSIONS as readonly number[]).includes(v)));
  const env: Env = {
    OS_API_VERSION: String(api),
    OS_NAME: os.name,
    DEBUG_LEVEL: String(debug),
  };
  let variant = "";
  if (api >= OS_API_V15 && os.variants.length > 0) variant = splitOsName(fullOsName).variant || os.variants[0]!;
  env["OS_VARIANT"] = variant;
  for (const [k, v] of Object.entries(osparams)) env[`OSP_${k.toUpperCase().replace(/-/g, "_")}`] = str(v);
  env["PATH"] = OS_SCRIPT_PATH;
  return env;
}

/** Per-disk facts only the node knows: where the device is and how it is backed. */
export interface OsDiskEnv {
  path: string | null;
  backendType: string | null;
}

export function osEnvironment(
  instance: RpcInstance,
  os: OsDefinition,
  debug: number,
  disks: OsDiskEnv[],
  secret: Record<string, unknown> = {},
): Env {
  const env = osCoreEnv(instance.os, os, { ...instance.osparams, ...instance.osparams_private, ...secret }, debug);
  env["INSTANCE_NAME"] = instance.name;
  env["INSTANCE_OS"] = instance.os;
  env["INSTANCE_UUID"] = instance.uuid;
  env["INSTANCE_PRIMARY_NODE"] = instance.primary_node;
  env["INSTANCE_SECONDARY_NODES"] = instance.secondary_nodes.join(" ");
  env["HYPERVISOR"] = instance.hypervisor;
  env["DISK_COUNT"] = String(instance.disks.length);
  env["NIC_COUNT"] = String(instance.nics.length);

  const diskType = instance.hvparams["disk_type"];
  instance.disks.forEach((disk, i) => {
    const d = disks[i];
    env[`DISK_${i}_ACCESS`] = disk.mode;
    env[`DISK_${i}_UUID`] = disk.uuid;
    env[`DISK_${i}_SIZE`] = String(disk.size);
    if (d?.path) env[`DISK_${i}_PATH`] = d.path;
    if (disk.name) env[`DISK_${i}_NAME`] = disk.name;
    if (diskType !== undefined) env[`DISK_${i}_FRONTEND_TYPE`] = str(diskType);
    if (d?.backendType) env[`DISK_${i}_BACKEND_TYPE`] = d.backendType;
  });

  const nicType = instance.hvparams["nic_type"];
  instance.nics.forEach((nic, i) => {
    env[`NIC_${i}_MAC`] = nic.mac;
    env[`NIC_${i}_UUID`] = nic.uuid;
    if (nic.name) env[`NIC_${i}_NAME`] = nic.name;
    if (nic.ip) env[`NIC_${i}_IP`] = nic.ip;
    env[`NIC_${i}_MODE`] = nic.mode;
    if (nic.mode === "bridged") env[`NIC_${i}_BRIDGE`] = nic.link;
    if (nic.link) env[`NIC_${i}_LINK`] = nic.link;
    if (nic.vlan) env[`NIC_${i}_VLAN`] = nic.vlan;
    if (nic.network) env[`NIC_${i}_NETWORK_UUID`] = nic.network;
    if (nic.network_name) env[`NIC_${i}_NETWORK_NAME`] = nic.network_name;
    if (nicType !== undefined) env[`NIC_${i}_FRONTEND_TYPE`] = str(nicType);
  });

  for (const [k, v] of Object.entries(instance.beparams)) env[`INSTANCE_BE_${k}`] = str(v);
  for (const [k, v] of Object.entries(instance.hvparams)) env[`INSTANCE_HV_${k}`] = str(v);
  return env;
}

// Instance NICs: argument checks (modes, MACs, IPs), network address pools,
// MAC generation and address reservation, change-list descriptions, and the
// bridges a node must have. Messages and ECODEs are Ganeti's
// (lib/cmdlib/instance_utils.py, instance_create.py).
import type { InstanceObject, NetworkObject, NicObject, NodeObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { DEFAULT_NICPARAMS } from "../../config/defaults.js";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { AddressPool, AddressPoolError } from "../network/address-pool.js";
import { errText } from "./messages.js";
import { logInfo, parseIPv4 } from "./node.js";

type Params = Record<string, unknown>;

export interface NicInput {
  ip?: string | null;
  mac?: string | null;
  mode?: string | null;
  link?: string | null;
  vlan?: string | null;
  network?: string | null;
  name?: string | null;
  bridge?: string | null;
}

const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** Ganeti's NormalizeAndValidateMac. */
export function normalizeMac(mac: string): string {
  const m = mac.toLowerCase().replace(/-/g, ":");
  if (!MAC_RE.test(m)) throw new OpPrereqError(`Invalid MAC address '${mac}'`, "wrong_input");
  return m;
}

/** A NIC after argument checks, before the network and address pool are consulted. */
export interface NicPlan {
  uuid: string;
  name: string | null;
  /** "auto"/"generate" → generated at exec; else normalized. */
  mac: string;
  /** null, an address, or "pool" (resolved in resolveNicNetworks). */
  ip: string | null;
  network: string | null; // uuid
  nicparams: Params;
}

/**
 * Ganeti's _ComputeNics (argument part): modes, IPs, MACs, network exclusivity.
 * `defaultIp` is the resolved instance address (name check), for ip="auto".
 */
export function computeNics(cfg: ClusterConfig, nics: NicInput[], opts: { nameCheck: boolean; defaultIp: string | null }): NicPlan[] {
  const used = cfg.usedMacs();
  return nics.map((nic) => {
    let mode = nic.mode ?? null;
    if (mode === "none") mode = null;
    const netName = nic.network && nic.network.toLowerCase() !== "none" ? nic.network : null;
    let link = nic.link ?? null;
    if (nic.bridge) {
      if (link && link !== nic.bridge) throw new OpPrereqError("Cannot pass 'bridge' and 'link' at the same time", "wrong_input");
      link = nic.bridge;
    }
    if (netName && (mode || link)) throw new OpPrereqError("If network is given, no mode or link is allowed to be passed", "wrong_input");
    const clusterMode = String(cfg.cluster.nicparams["default"]?.["mode"] ?? DEFAULT_NICPARAMS.mode);
    const effMode = mode ?? clusterMode;

    let ip: string | null;
    const rawIp = nic.ip ?? null;
    if (rawIp === null || rawIp.toLowerCase() === "none") ip = null;
    else if (rawIp.toLowerCase() === "auto") {
      if (!opts.nameCheck) throw new OpPrereqError("IP address set to auto but name checks have been skipped", "wrong_input");
      ip = opts.defaultIp;
    } else if (rawIp.toLowerCase() === "pool") {
      if (!netName) throw new OpPrereqError("if ip=pool, parameter network must be passed too", "wrong_input");
      ip = "pool";
    } else {
      if (parseIPv4(rawIp) === null) throw new OpPrereqError(`Invalid IP address '${rawIp}'`, "wrong_input");
      ip = rawIp;
    }
    if (effMode === "routed" && !ip && !netName) throw new OpPrereqError("Routed nic mode requires an ip address", "wrong_input");

    let mac = nic.mac ?? "auto";
    if (mac !== "auto" && mac !== "generate") {
      mac = normalizeMac(mac);
      if (used.has(mac)) throw new OpPrereqError(`MAC address ${mac} already in use in cluster`, "resource_not_unique");
    }

    let network: string | null = null;
    if (netName) {
      const net = cfg.findNetwork(netName);
      if (!net) throw new OpPrereqError(`Network '${netName}' not found`, "unknown_entity");
      network = net.uuid;
    }
    const nicparams: Params = {};
    if (mode) nicparams["mode"] = mode;
    if (link) nicparams["link"] = link;
    if (nic.vlan !== undefined && nic.vlan !== null && nic.vlan !== "") nicparams["vlan"] = nic.vlan;
    const name = nic.name && nic.name.toLowerCase() !== "none" ? nic.name : null;
    return { uuid: cfg.newUuid(), name, mac, ip, network, nicparams };
  });
}

/**
 * CheckPrereq part: NICs on a network take the group's connection parameters
 * and an address from the pool ("pool") or check a given one. Does not reserve.
 */
export function resolveNicNetworks(
  ctx: LuContext,
  nics: NicPlan[],
  groupUuid: string,
  pnodeName: string,
  opts: { conflictsCheck: boolean; indexBase?: number; taken?: Map<string, Set<string>> },
): void {
  const cfg = ctx.config;
  const taken = opts.taken ?? new Map<string, Set<string>>();
  nics.forEach((nic, i) => {
    const idx = (opts.indexBase ?? 0) + i;
    if (nic.network) {
      const net = cfg.network(nic.network);
      const conn = cfg.data.nodegroups[groupUuid]?.networks[nic.network];
      if (!conn)
        throw new OpPrereqError(
          `No netparams found for network ${net.name}. Probably not connected to node's ${pnodeName} nodegroup`,
          "wrong_input",
        );
      nic.nicparams = { mode: conn.mode, link: conn.link, vlan: conn.vlan };
      if (nic.ip === null) return;
      const pool = new AddressPool(structuredClone(net));
      const mine = taken.get(net.uuid) ?? new Set<string>();
      taken.set(net.uuid, mine);
      for (const a of mine) pool.reserve(a);
      if (nic.ip.toLowerCase() === "pool") {
        try {
          nic.ip = pool.generateFree();
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          throw new OpPrereqError(`Unable to get a free IP for NIC ${idx} from the address pool`, "wrong_state", { cause: err });
        }
        logInfo(ctx, `Chose IP ${nic.ip} from network ${net.name}`);
      } else if (!pool.contains(nic.ip) || (opts.conflictsCheck && (pool.isReserved(nic.ip) || pool.isReserved(nic.ip, true)))) {
        throw new OpPrereqError(`IP address ${nic.ip} already in use or does not belong to network ${net.name}`, "resource_not_unique");
      }
      mine.add(nic.ip);
    } else if (nic.ip && opts.conflictsCheck) {
      checkForConflictingIp(cfg, nic.ip, groupUuid);
    }
  });
}

/** Ganeti's _CheckForConflictingIp: an address of a network connected to the group needs that network. */
function checkForConflictingIp(cfg: ClusterConfig, ip: string, groupUuid: string): void {
  const group = cfg.data.nodegroups[groupUuid];
  if (!group) return;
  for (const netUuid of Object.keys(group.networks)) {
    const net = cfg.data.networks[netUuid];
    if (!net) continue;
    const pool = new AddressPool(structuredClone(net));
    if (pool.contains(ip))
      throw new OpPrereqError(
        `The requested IP address (${ip}) belongs to network ${net.name}, but the target NIC does not.`,
        "wrong_state",
      );
  }
}

/** Exec part: generate MACs and reserve pool addresses (call inside mutate). */
export function materializeNics(cfg: ClusterConfig, nics: NicPlan[]): NicObject[] {
  return nics.map((n) => {
    let mac = n.mac;
    if (mac === "auto" || mac === "generate") {
      const prefix = n.network ? cfg.data.networks[n.network]?.mac_prefix : null;
      mac = cfg.generateMac(prefix);
    }
    return { uuid: n.uuid, name: n.name, mac, ip: n.ip, network: n.network, nicparams: n.nicparams };
  });
}

/** Reserve the addresses of network NICs (inside mutate); a lost race is an OpExecError. */
export function reserveNicIps(cfg: ClusterConfig, nics: NicObject[]): void {
  for (const nic of nics) {
    if (!nic.network || !nic.ip) continue;
    const net = cfg.data.networks[nic.network];
    if (!net) continue;
    const pool = new AddressPool(net);
    if (!pool.contains(nic.ip)) continue;
    if (pool.isReserved(nic.ip)) throw new OpExecError(`IP ${nic.ip} is already used by an instance`);
    pool.reserve(nic.ip);
  }
}

/** Give back the addresses of network NICs (inside mutate). */
export function releaseNicIps(cfg: ClusterConfig, nics: NicObject[]): void {
  for (const nic of nics) {
    if (!nic.network || !nic.ip) continue;
    const net: NetworkObject | undefined = cfg.data.networks[nic.network];
    if (!net) continue;
    const pool = new AddressPool(net);
    if (pool.contains(nic.ip) && pool.isReserved(nic.ip)) pool.release(nic.ip);
  }
}

/** Ganeti's NIC description in change lists: "mac=...,ip=...,mode=...,link=...,network=...". */
export function nicDescription(cfg: ClusterConfig, nic: NicObject, groupUuid: string): string {
  const p = cfg.filledNicparams(nic, groupUuid);
  const net = nic.network ? (cfg.data.networks[nic.network]?.name ?? nic.network) : "None";
  return `mac=${nic.mac},ip=${nic.ip ?? "None"},mode=${String(p["mode"])},link=${String(p["link"])},network=${net}`;
}

/**
 * Ganeti's CheckNicsBridgesExist: every bridged NIC's link must be a bridge on
 * the node (asked through bridges_exist), whatever the hypervisor.
 */
export async function checkNicsBridgesExist(
  ctx: LuContext,
  nics: ReadonlyArray<{ nicparams: Params; network: string | null }>,
  node: NodeObject,
): Promise<void> {
  const cfg = ctx.config;
  const bridges = nics
    .map((n) => cfg.filledNicparams(n, node.group))
    .filter((p) => p["mode"] === "bridged")
    .map((p) => String(p["link"]));
  if (!bridges.length) return;
  try {
    await ctx.rpc.call(node, "bridges_exist", { bridges });
  } catch (err) {
    throw new OpPrereqError(`Error checking bridges on destination node '${node.name}': ${errText(err)}`, "environment_error", {
      cause: err,
    });
  }
}

/** Ganeti's CheckInstanceBridgesExist: on `node`, by default the primary. */
export async function checkInstanceBridgesExist(ctx: LuContext, inst: InstanceObject, node?: NodeObject): Promise<void> {
  await checkNicsBridgesExist(ctx, inst.nics, node ?? ctx.config.node(inst.primary_node));
}

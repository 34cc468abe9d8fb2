// Ganeti's network query fields (src/Ganeti/Query/Network.hs).
import type { NetworkObject } from "@ganeti-ts/schema";
import { commonFields, f, fieldTable, maybe, normal, type QueryContext } from "./types.js";

type Net = NetworkObject;

/** One char per address: "X" reserved (by an instance or externally), "." free. */
function networkMap(n: Net): string {
  let out = "";
  for (let i = 0; i < n.reservations.length; i++) out += n.reservations[i] === "1" || n.ext_reservations[i] === "1" ? "X" : ".";
  return out;
}

function ipAt(n: Net, idx: number): string {
  const [base] = n.network.split("/");
  const parts = (base ?? "0.0.0.0").split(".").map(Number);
  const v = (((parts[0] ?? 0) << 24) >>> 0) + ((parts[1] ?? 0) << 16) + ((parts[2] ?? 0) << 8) + (parts[3] ?? 0) + idx;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

function externalReservations(n: Net): string {
  const out: string[] = [];
  for (let i = 0; i < n.ext_reservations.length; i++) if (n.ext_reservations[i] === "1") out.push(ipAt(n, i));
  return out.join(", ");
}

const groupList = (c: QueryContext, n: Net) =>
  Object.values(c.data.nodegroups)
    .filter((g) => g.networks[n.uuid])
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((g) => {
      const conn = g.networks[n.uuid];
      return [g.name, conn?.mode ?? "", conn?.link ?? "", conn?.vlan ?? ""];
    });
const instList = (c: QueryContext, n: Net) =>
  Object.values(c.data.instances)
    .filter((i) => i.nics.some((nic) => nic.network === n.uuid))
    .map((i) => i.name)
    .sort();

export const NETWORK_FIELDS = fieldTable<Net>([
  f("name", "Network", "text", "Name", (n) => normal(n.name)),
  f("network", "Subnet", "text", "IPv4 subnet", (n) => normal(n.network)),
  f("gateway", "Gateway", "other", "IPv4 gateway", (n) => maybe(n.gateway)),
  f("network6", "IPv6Subnet", "other", "IPv6 subnet", (n) => maybe(n.network6)),
  f("gateway6", "IPv6Gateway", "other", "IPv6 gateway", (n) => maybe(n.gateway6)),
  f("mac_prefix", "MacPrefix", "other", "MAC address prefix", (n) => maybe(n.mac_prefix)),
  f("free_count", "FreeCount", "number", "Number of available addresses", (n) =>
    normal([...networkMap(n)].filter((ch) => ch === ".").length),
  ),
  f("map", "Map", "text", "Actual mapping", (n) => normal(networkMap(n))),
  f("reserved_count", "ReservedCount", "number", "Number of reserved addresses", (n) =>
    normal([...networkMap(n)].filter((ch) => ch === "X").length),
  ),
  f("group_list", "GroupList", "other", "List of nodegroups (group name, NIC mode, NIC link)", (n, c) => normal(groupList(c, n))),
  f("group_cnt", "NodeGroups", "number", "Number of nodegroups", (n, c) => normal(groupList(c, n).length)),
  f("inst_list", "InstanceList", "other", "List of instances", (n, c) => normal(instList(c, n))),
  f("inst_cnt", "Instances", "number", "Number of instances", (n, c) => normal(instList(c, n).length)),
  f("external_reservations", "ExternalReservations", "text", "External reservations", (n) => normal(externalReservations(n))),
  ...commonFields<Net>("Network"),
]);

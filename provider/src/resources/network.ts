// Network: operations table.
import { z } from "zod";
import { NetworkNameSchema, TagSchema, type NetworkInfo } from "@ganeti-ts/schema";
import { NotFoundError, type GanetiClient } from "@ganeti-ts/sdk";
import { known, isUnknown, parseInputs, TimeoutsSchema } from "../core/check.js";
import type { CheckFailure, ResourceOperations } from "../core/define-resource.js";
import { compact, normalizeTags, stableEqual, type DiffTable, type FieldChange } from "../core/diff.js";
import { Deadline, runJob } from "../core/jobs.js";
import { timeoutMs, type Timeouts } from "../core/timeouts.js";

const Str = known(z.string().min(1));
/** Ganeti's value for "clear this setting" in OP_NETWORK_SET_PARAMS. */
const VALUE_NONE = "none";
const Ipv4 = known(z.ipv4());
const Cidr4 = known(z.cidrv4());

const ConnectionSchema = z
  .object({
    group: Str,
    mode: known(z.enum(["bridged", "routed", "openvswitch"])),
    link: Str,
    vlan: known(z.string()).optional(),
  })
  .strict();

export const NetworkInputSchema = z
  .object({
    name: known(NetworkNameSchema),
    subnet: Cidr4,
    gateway: Ipv4.optional(),
    subnet6: known(z.cidrv6()).optional(),
    gateway6: known(z.ipv6()).optional(),
    macPrefix: known(z.string().regex(/^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$/)).optional(),
    reservedIps: known(z.array(Ipv4)).optional(),
    connections: known(z.array(ConnectionSchema)).optional(),
    tags: known(z.array(known(TagSchema))).optional(),
    adopt: z.boolean().optional(),
    timeouts: TimeoutsSchema.optional(),
  })
  .strict();

export interface NetworkConnection {
  group: string;
  mode: "bridged" | "routed" | "openvswitch";
  link: string;
  vlan?: string;
}

export interface NetworkInputs extends Record<string, unknown> {
  name: string;
  subnet: string;
  gateway?: string;
  subnet6?: string;
  gateway6?: string;
  macPrefix?: string;
  reservedIps: string[];
  connections: NetworkConnection[];
  tags: string[];
  adopt?: boolean;
  timeouts?: Timeouts;
}

export interface NetworkOutputs extends NetworkInputs {
  uuid: string;
  freeCount: number;
  reservedCount: number;
  instances: string[];
  ctime: number | null;
  mtime: number | null;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}
/** Network and broadcast addresses, which Ganeti reserves itself. */
function implicitReservations(cidr: string): string[] {
  const [ip, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const base = Math.floor(ipToInt(ip ?? "0.0.0.0") / size) * size;
  return [intToIp(base), intToIp(base + size - 1)];
}

function sortConnections(cs: NetworkConnection[]): NetworkConnection[] {
  return [...cs].map((c) => compact({ ...c })).sort((a, b) => a.group.localeCompare(b.group));
}

export function checkNetwork(news: Record<string, unknown>): { inputs: NetworkInputs; failures: CheckFailure[] } {
  const { value, failures } = parseInputs(NetworkInputSchema, news);
  if (!value) return { inputs: news as NetworkInputs, failures };
  const reservedIps = isUnknown(value.reservedIps) ? value.reservedIps : [...new Set(value.reservedIps ?? [])].sort();
  const connections = isUnknown(value.connections) ? value.connections : sortConnections((value.connections ?? []) as NetworkConnection[]);
  const tags = isUnknown(value.tags) ? value.tags : normalizeTags(value.tags as string[] | undefined);
  const f: CheckFailure[] = [];
  if (Array.isArray(connections)) {
    const groups = connections.map((c) => c.group);
    if (new Set(groups).size !== groups.length) f.push({ property: "connections", reason: "a group is listed twice" });
  }
  return { inputs: compact({ ...value, reservedIps, connections, tags }) as unknown as NetworkInputs, failures: f };
}

export const networkDiffTable: DiffTable = {
  name: { apply: "replace" }, // Ganeti cannot rename a network
  subnet: { apply: "replace" },
  gateway: { apply: "update" },
  subnet6: { apply: "update" },
  gateway6: { apply: "update" },
  macPrefix: { apply: "update" },
  reservedIps: { apply: "update", set: true },
  connections: { apply: "update" },
  tags: { apply: "update", set: true },
  timeouts: { apply: "update" },
};

export function networkFromInfo(n: NetworkInfo, ref: Partial<NetworkInputs>): { inputs: NetworkInputs; outputs: NetworkOutputs } {
  const implicit = new Set([...implicitReservations(n.network), ...(n.gateway ? [n.gateway] : [])]);
  const external = n.external_reservations
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && !implicit.has(s));
  const refConns = new Map((Array.isArray(ref.connections) ? ref.connections : []).map((c) => [c.group, c]));
  const connections = sortConnections(
    n.group_list.map(([group = "", mode = "", link = "", vlan = ""]) =>
      compact({
        group,
        mode: mode as NetworkConnection["mode"],
        link,
        vlan: refConns.get(group)?.vlan !== undefined || vlan !== "" ? vlan : undefined,
      }),
    ),
  );
  const inputs = compact({
    name: n.name,
    subnet: n.network,
    gateway: n.gateway ?? undefined,
    subnet6: n.network6 ?? undefined,
    gateway6: n.gateway6 ?? undefined,
    macPrefix: n.mac_prefix ?? undefined,
    reservedIps: [...new Set(external)].sort(),
    connections,
    tags: normalizeTags(n.tags),
    adopt: ref.adopt,
    timeouts: ref.timeouts,
  }) as NetworkInputs;
  return {
    inputs,
    outputs: {
      ...inputs,
      uuid: n.uuid,
      freeCount: n.free_count,
      reservedCount: n.reserved_count,
      instances: n.inst_list,
      ctime: n.ctime,
      mtime: n.mtime,
    },
  };
}

async function connect(c: GanetiClient, name: string, conns: NetworkConnection[], dl: Deadline): Promise<void> {
  for (const cn of conns) {
    await runJob(
      `connecting ${name} to group ${cn.group}`,
      c.networks.connect(name, compact({ group_name: cn.group, network_mode: cn.mode, network_link: cn.link, network_vlan: cn.vlan })),
      dl,
    );
  }
}

async function updateNetwork(
  c: GanetiClient,
  olds: NetworkOutputs,
  news: NetworkInputs,
  changes: FieldChange[],
  ms: number,
): Promise<void> {
  const dl = new Deadline(ms);
  const changed = new Set(changes.map((ch) => ch.field));
  const name = olds.name;
  // Ganeti reads an empty value as "no change": "none" is what clears a setting.
  const modify: Record<string, unknown> = {};
  if (changed.has("gateway")) modify.gateway = news.gateway ?? VALUE_NONE;
  if (changed.has("subnet6")) modify.network6 = news.subnet6 ?? VALUE_NONE;
  if (changed.has("gateway6")) modify.gateway6 = news.gateway6 ?? VALUE_NONE;
  if (changed.has("macPrefix")) modify.mac_prefix = news.macPrefix ?? VALUE_NONE;
  // Ganeti refuses a gateway and reserved IPs in one modify: reservations go in a second job.
  const reserve: Record<string, unknown> = {};
  if (changed.has("reservedIps")) {
    const add = news.reservedIps.filter((ip) => !olds.reservedIps.includes(ip));
    const remove = olds.reservedIps.filter((ip) => !news.reservedIps.includes(ip));
    if (add.length) reserve.add_reserved_ips = add;
    if (remove.length) reserve.remove_reserved_ips = remove;
  }
  if (modify.gateway === undefined) Object.assign(modify, reserve);
  if (Object.keys(modify).length) await runJob(`modifying network ${name}`, c.networks.modify(name, modify), dl);
  if (modify.gateway !== undefined && Object.keys(reserve).length) {
    await runJob(`changing reserved IPs of network ${name}`, c.networks.modify(name, reserve), dl);
  }
  if (changed.has("connections")) {
    const oldBy = new Map(olds.connections.map((cn) => [cn.group, cn]));
    const newBy = new Map(news.connections.map((cn) => [cn.group, cn]));
    // A connection whose mode/link changed is re-made: disconnect, then connect.
    for (const [group, cn] of oldBy) {
      const n = newBy.get(group);
      if (!n || !stableEqual(n, cn)) await runJob(`disconnecting ${name} from group ${group}`, c.networks.disconnect(name, group), dl);
    }
    const toConnect = news.connections.filter((cn) => !stableEqual(oldBy.get(cn.group), cn));
    await connect(c, name, toConnect, dl);
  }
  if (changed.has("tags")) {
    const add = news.tags.filter((t) => !olds.tags.includes(t));
    const remove = olds.tags.filter((t) => !news.tags.includes(t));
    if (add.length) await runJob("adding tags", c.tags.add("network", name, add), dl);
    if (remove.length) await runJob("removing tags", c.tags.remove("network", name, remove), dl);
  }
}

export const networkOperations: ResourceOperations<NetworkInputs, NetworkOutputs> = {
  kind: "Network",
  check: checkNetwork,
  diffTable: networkDiffTable,
  nameOf: (i) => i.name,
  async exists(c, name) {
    try {
      await c.networks.get(name);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  },
  async create(c, i, ms) {
    const dl = new Deadline(ms);
    await runJob(
      `creating network ${i.name}`,
      c.networks.create(
        compact({
          network_name: i.name,
          network: i.subnet,
          gateway: i.gateway,
          network6: i.subnet6,
          gateway6: i.gateway6,
          mac_prefix: i.macPrefix,
          add_reserved_ips: i.reservedIps.length ? i.reservedIps : undefined,
          tags: i.tags,
        }),
      ),
      dl,
    );
    await connect(c, i.name, i.connections, dl);
  },
  async read(c, name, ref) {
    try {
      return networkFromInfo(await c.networks.get(name), ref);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  },
  update: updateNetwork,
  async delete(c, props, ms) {
    const dl = new Deadline(ms);
    // Ganeti refuses to remove a connected network: disconnect whatever is connected now.
    const current = await c.networks.get(props.name);
    for (const [group] of current.group_list) {
      if (group) await runJob(`disconnecting ${props.name} from group ${group}`, c.networks.disconnect(props.name, group), dl);
    }
    await runJob(`removing network ${props.name}`, c.networks.remove(props.name), dl);
  },
  timeoutMs: (i, op) => timeoutMs(i.timeouts, op),
};

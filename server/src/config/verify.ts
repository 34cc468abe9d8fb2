// Consistency of the configuration itself (Ganeti's ConfigWriter.VerifyConfig):
// references between objects, duplicate MACs/ports/IPs, node roles. Pure: a
// snapshot in, problem messages (Ganeti's texts) out. Reported by
// OP_CLUSTER_VERIFY_CONFIG as ECLUSTERCFG.
import { ConfigDataSchema, type ConfigData } from "@ganeti-ts/schema";
import { drbdMinorConflicts, parseDrbdLogicalId } from "./drbd.js";

const UUID_RE = /^[a-f\d]{8}-[a-f\d]{4}-[a-f\d]{4}-[a-f\d]{4}-[a-f\d]{12}$/;

export function verifyConfigData(data: ConfigData): string[] {
  const result: string[] = [];
  const cluster = data.cluster;

  const seenMacs = new Set<string>();
  const ports = new Map<number, string[]>();
  for (const [uuid, inst] of Object.entries(data.instances)) {
    if (inst.uuid !== uuid) result.push(`instance '${inst.name}' is indexed by wrong UUID '${uuid}'`);
    if (!data.nodes[inst.primary_node]) result.push(`instance '${inst.name}' has invalid primary node '${inst.primary_node}'`);
    for (const snode of inst.secondary_nodes) {
      if (!data.nodes[snode]) result.push(`instance '${inst.name}' has invalid secondary node '${snode}'`);
    }
    inst.nics.forEach((nic, idx) => {
      if (seenMacs.has(nic.mac)) result.push(`instance '${inst.name}' has NIC ${idx} mac ${nic.mac} duplicate`);
      else seenMacs.add(nic.mac);
      if (nic.network !== null && !data.networks[nic.network])
        result.push(`instance '${inst.name}' has NIC ${idx} connected to invalid network '${nic.network}'`);
    });
    for (const diskUuid of inst.disks) {
      if (!data.disks[diskUuid]) result.push(`Instance '${inst.name}' has invalid disk '${diskUuid}'`);
    }
    const wrong = inst.disks
      .map((u, idx) => [idx, data.disks[u]] as const)
      .filter(([idx, d]) => d !== undefined && d.iv_name !== `disk/${idx}`)
      .map(([idx, d]) => `name of disk ${idx} should be 'disk/${idx}', but is '${d!.iv_name}'`);
    if (wrong.length) result.push(`Instance '${inst.name}' has wrongly named disks: ${wrong.join("; ")}`);
    const addPort = (port: number, owner: string) => ports.set(port, [...(ports.get(port) ?? []), owner]);
    inst.disks.forEach((u, idx) => {
      const d = data.disks[u];
      if (d?.dev_type !== "drbd") return;
      const port = d.logical_id[2];
      if (typeof port === "number") addPort(port, `${inst.name}/drbd disk ${idx}`);
    });
    if (inst.network_port !== null) addPort(inst.network_port, `${inst.name}/network port`);
  }
  for (const port of cluster.tcpudp_port_pool ?? []) ports.set(port, [...(ports.get(port) ?? []), "cluster/port marked as free"]);
  const portNumbers = [...ports.keys()].sort((a, b) => a - b);
  for (const port of portNumbers) {
    const owners = ports.get(port)!;
    if (owners.length > 1) result.push(`tcp/udp port ${port} has duplicates: ${owners.join(", ")}`);
  }
  const highest = portNumbers[portNumbers.length - 1];
  if (cluster.highest_used_port !== undefined && highest !== undefined && highest > cluster.highest_used_port)
    result.push(`Highest used port mismatch, saved ${cluster.highest_used_port}, computed ${highest}`);
  result.push(...verifyDrbdDisks(data));

  for (const [uuid, disk] of Object.entries(data.disks)) {
    if (disk.uuid !== uuid) result.push(`disk '${disk.uuid}' is indexed by wrong UUID '${uuid}'`);
    if (disk.instance !== null && !data.instances[disk.instance])
      result.push(`disk '${disk.uuid}' is attached to invalid instance '${disk.instance}'`);
  }

  const master = data.nodes[cluster.master_node];
  if (!master) result.push(`Master node '${cluster.master_node}' is not a known node`);
  else if (!master.master_candidate) result.push("Master node is not a master candidate");
  const nodes = Object.values(data.nodes);
  const mcNow = nodes.filter((n) => n.master_candidate).length;
  const mcPossible = nodes.filter((n) => n.master_capable && !n.offline && !n.drained).length;
  const mcMax = Math.min(cluster.candidate_pool_size, mcPossible);
  if (mcNow < mcMax) result.push(`Not enough master candidates: actual ${mcNow}, target ${mcMax}`);

  for (const [uuid, node] of Object.entries(data.nodes)) {
    if (node.uuid !== uuid) result.push(`Node '${node.name}' is indexed by wrong UUID '${uuid}'`);
    if ([node.master_candidate, node.drained, node.offline].filter(Boolean).length > 1) {
      result.push(
        `Node ${node.name} state is invalid: master_candidate=${py(node.master_candidate)}, drain=${py(node.drained)}, offline=${py(node.offline)}`,
      );
    }
    if (!data.nodegroups[node.group]) result.push(`Node '${node.name}' has invalid group '${node.group}'`);
  }

  const groupNames = new Set<string>();
  for (const [uuid, group] of Object.entries(data.nodegroups)) {
    if (group.uuid !== uuid) result.push(`node group '${group.name}' (uuid: '${group.uuid}') indexed by wrong uuid '${uuid}'`);
    if (UUID_RE.test(group.name.toLowerCase())) result.push(`node group '${group.name}' (uuid: '${group.uuid}') has uuid-like name`);
    if (groupNames.has(group.name)) result.push(`duplicate node group name '${group.name}'`);
    groupNames.add(group.name);
  }

  // IP addresses: node primary/secondary, and instance NIC IPs per link/network.
  const ips = new Map<string, string[]>();
  const addIp = (ip: string, owner: string) => ips.set(ip, [...(ips.get(ip) ?? []), owner]);
  for (const node of nodes) {
    addIp(node.primary_ip, `node:${node.name}/primary`);
    if (node.secondary_ip !== node.primary_ip) addIp(node.secondary_ip, `node:${node.name}/secondary`);
  }
  for (const inst of Object.values(data.instances)) {
    inst.nics.forEach((nic, idx) => {
      if (nic.ip === null) return;
      const filled = { ...(cluster.nicparams["default"] ?? {}), ...nic.nicparams };
      const mode = String(filled["mode"] ?? "bridged");
      const link = String(filled["link"] ?? "");
      const kind = mode === "routed" ? "route" : mode === "openvswitch" ? "ovs" : "bridge";
      addIp(`${kind}:${link}/${nic.ip}/${nic.network ?? "None"}`, `instance:${inst.name}/nic:${idx}`);
    });
  }
  for (const [ip, owners] of [...ips.entries()].sort()) {
    if (owners.length > 1) result.push(`IP address ${ip} is used by multiple owners: ${owners.join(", ")}`);
  }
  return result;
}

/**
 * drbd disks: a well-formed logical_id naming two distinct known nodes (the
 * disk's nodes, the owner's primary and secondary), two children, and per
 * node minors used by one disk only (Ganeti checks the last in
 * ComputeDRBDMap, which refuses duplicates).
 */
function verifyDrbdDisks(data: ConfigData): string[] {
  const out: string[] = [];
  for (const disk of Object.values(data.disks)) {
    if (disk.dev_type !== "drbd") continue;
    let id;
    try {
      id = parseDrbdLogicalId(disk);
    } catch (err) {
      out.push((err as Error).message);
      continue;
    }
    for (const n of [id.pnode, id.snode]) if (!data.nodes[n]) out.push(`drbd disk ${disk.uuid} refers to unknown node '${n}'`);
    if (id.pnode === id.snode) out.push(`drbd disk ${disk.uuid} has the same node '${id.pnode}' as primary and secondary`);
    if (disk.nodes.length !== 2 || disk.nodes[0] !== id.pnode || disk.nodes[1] !== id.snode)
      out.push(`drbd disk ${disk.uuid} lists nodes ${JSON.stringify(disk.nodes)}, its logical_id ${JSON.stringify([id.pnode, id.snode])}`);
    if ((disk.children ?? []).length !== 2)
      out.push(`drbd disk ${disk.uuid} has ${(disk.children ?? []).length} children, not 2 (data, meta)`);
    const inst = disk.instance === null ? undefined : data.instances[disk.instance];
    if (inst && (inst.primary_node !== id.pnode || inst.secondary_nodes.length !== 1 || inst.secondary_nodes[0] !== id.snode))
      out.push(`drbd disk ${disk.uuid} of instance '${inst.name}' is on nodes ${id.pnode}/${id.snode}, not the instance's`);
  }
  for (const c of drbdMinorConflicts(data)) out.push(`drbd minor used twice: ${c}`);
  return out;
}

/** Python's str() of a bool. */
function py(b: boolean): string {
  return b ? "True" : "False";
}

/** Characters no name in the configuration may hold (they break paths, URLs or terminals). */
const BAD_NAME = /[\s/\\\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u;

/**
 * A stored document checked whole: its shape, Ganeti's consistency checks
 * (verifyConfigData), and what a damaged or badly validated document shows
 * besides: invalid or duplicate names, disks whose owner does not list them,
 * out-of-range beparams, malformed reservation maps. Empty when consistent.
 * Crash and fuzz tests run it on what the master persisted.
 */
export function verifyConfig(raw: unknown): string[] {
  const parsed = ConfigDataSchema.safeParse(raw);
  if (!parsed.success) return parsed.error.issues.map((i) => `schema: ${i.path.join(".") || "(top)"}: ${i.message}`);
  const d = parsed.data;
  const out = verifyConfigData(d);
  const names = (kind: string, table: Record<string, { name: string }>, unique: boolean) => {
    const seen = new Map<string, string>();
    for (const [key, obj] of Object.entries(table)) {
      const name = obj.name;
      if (name === "" || name.length > 255 || BAD_NAME.test(name))
        out.push(`${kind} ${key}: invalid name ${JSON.stringify(name.slice(0, 80))}`);
      const other = seen.get(name.toLowerCase());
      if (unique && other !== undefined) out.push(`${kind} name ${JSON.stringify(name)} used by ${other} and ${key}`);
      seen.set(name.toLowerCase(), key);
    }
  };
  names("node", d.nodes, true);
  names("group", d.nodegroups, false); // duplicates: verifyConfigData
  names("instance", d.instances, true);
  names("network", d.networks, true);
  for (const [u, i] of Object.entries(d.instances)) {
    if (!d.cluster.enabled_hypervisors.includes(i.hypervisor)) out.push(`instance ${i.name}: hypervisor ${i.hypervisor} is not enabled`);
    for (const du of i.disks) {
      const disk = d.disks[du];
      if (disk && disk.instance !== u) out.push(`disk ${du}: belongs to ${String(disk.instance)}, listed by instance ${i.name}`);
    }
    for (const key of ["maxmem", "minmem", "memory", "vcpus", "spindle_use"] as const) {
      const v = i.beparams[key];
      if (v === undefined) continue;
      if (typeof v !== "number" || !Number.isInteger(v) || v < (key === "spindle_use" ? 0 : 1))
        out.push(`instance ${i.name}: beparams.${key} = ${JSON.stringify(v)} is not a valid value`);
    }
  }
  for (const [du, disk] of Object.entries(d.disks)) {
    const owner = disk.instance === null ? undefined : d.instances[disk.instance];
    if (owner && !owner.disks.includes(du)) out.push(`disk ${du}: owner ${owner.name} does not list it`);
    for (const n of disk.nodes) if (!d.nodes[n]) out.push(`disk ${du}: node ${n} does not exist`);
  }
  for (const [nu, net] of Object.entries(d.networks)) {
    if (net.reservations.length !== net.ext_reservations.length) out.push(`network ${net.name} (${nu}): reservation maps differ in length`);
    if (/[^01]/.test(net.reservations + net.ext_reservations))
      out.push(`network ${net.name} (${nu}): reservation maps hold other than 0/1`);
  }
  return out;
}

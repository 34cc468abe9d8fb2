// Consistency of a configuration document (Ganeti's ConfigWriter.VerifyConfig,
// the part that needs no node): the shape, every reference between objects,
// unique names and uuids, sane numbers. Returns the problems found, empty
// when the document is consistent. Used after crash and fuzz tests, and by
// anything that wants to check a config file by hand.
import { ConfigDataSchema, type ConfigData } from "@ganeti-ts/schema";

/** Characters no name in the configuration may hold (they break paths, URLs or terminals). */
const BAD_NAME = /[\s/\\\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u;

export function verifyConfig(raw: unknown): string[] {
  const parsed = ConfigDataSchema.safeParse(raw);
  if (!parsed.success) return parsed.error.issues.map((i) => `schema: ${i.path.join(".") || "(top)"}: ${i.message}`);
  const d: ConfigData = parsed.data;
  const out: string[] = [];
  const has = (table: Record<string, unknown>, key: string) => Object.hasOwn(table, key);

  const checkTable = (kind: string, table: Record<string, { uuid: string; name?: string | null }>, named: boolean) => {
    const names = new Map<string, string>();
    for (const [key, obj] of Object.entries(table)) {
      if (obj.uuid !== key) out.push(`${kind} ${key}: stored under a key that is not its uuid (${obj.uuid})`);
      if (!named) continue;
      const name = obj.name ?? "";
      if (name === "" || name.length > 255 || BAD_NAME.test(name)) out.push(`${kind} ${key}: invalid name ${JSON.stringify(name.slice(0, 80))}`);
      const other = names.get(name);
      if (other !== undefined) out.push(`${kind} name ${JSON.stringify(name)} used by ${other} and ${key}`);
      names.set(name, key);
    }
  };
  checkTable("node", d.nodes, true);
  checkTable("group", d.nodegroups, true);
  checkTable("instance", d.instances, true);
  checkTable("network", d.networks, true);
  checkTable("disk", d.disks, false);
  checkTable("filter", d.filters, false);

  if (!has(d.nodes, d.cluster.master_node)) out.push(`cluster: master node ${d.cluster.master_node} does not exist`);
  if (Object.keys(d.nodegroups).length === 0) out.push("cluster: no node group");

  for (const [u, n] of Object.entries(d.nodes)) {
    if (!has(d.nodegroups, n.group)) out.push(`node ${n.name}: group ${n.group} does not exist`);
    if (!Number.isInteger(n.rpc_port) || n.rpc_port < 1 || n.rpc_port > 65535) out.push(`node ${n.name} (${u}): invalid rpc port ${n.rpc_port}`);
  }
  for (const g of Object.values(d.nodegroups)) {
    for (const net of Object.keys(g.networks)) if (!has(d.networks, net)) out.push(`group ${g.name}: connected to missing network ${net}`);
  }

  const diskOwners = new Map<string, string>();
  const macs = new Map<string, string>();
  for (const [u, i] of Object.entries(d.instances)) {
    if (!has(d.nodes, i.primary_node)) out.push(`instance ${i.name}: primary node ${i.primary_node} does not exist`);
    for (const s of i.secondary_nodes) if (!has(d.nodes, s)) out.push(`instance ${i.name}: secondary node ${s} does not exist`);
    if (i.secondary_nodes.includes(i.primary_node)) out.push(`instance ${i.name}: primary node is also a secondary`);
    if (!d.cluster.enabled_hypervisors.includes(i.hypervisor)) out.push(`instance ${i.name}: hypervisor ${i.hypervisor} is not enabled`);
    for (const du of i.disks) {
      const disk = d.disks[du];
      if (!has(d.disks, du) || !disk) {
        out.push(`instance ${i.name}: disk ${du} does not exist`);
        continue;
      }
      const prev = diskOwners.get(du);
      if (prev !== undefined) out.push(`disk ${du}: attached to instances ${prev} and ${u}`);
      diskOwners.set(du, u);
      if (disk.instance !== u) out.push(`disk ${du}: belongs to ${String(disk.instance)}, listed by instance ${i.name}`);
    }
    for (const nic of i.nics) {
      if (nic.network !== null && !has(d.networks, nic.network)) out.push(`instance ${i.name}: NIC on missing network ${nic.network}`);
      const other = macs.get(nic.mac.toLowerCase());
      if (other !== undefined) out.push(`MAC ${nic.mac} used by instances ${other} and ${i.name}`);
      macs.set(nic.mac.toLowerCase(), i.name);
    }
    for (const key of ["maxmem", "minmem", "memory", "vcpus", "spindle_use"] as const) {
      const v = i.beparams[key];
      if (v === undefined) continue;
      if (typeof v !== "number" || !Number.isInteger(v) || v < (key === "spindle_use" ? 0 : 1))
        out.push(`instance ${i.name}: beparams.${key} = ${JSON.stringify(v)} is not a valid value`);
    }
  }
  for (const [du, disk] of Object.entries(d.disks)) {
    if (disk.instance !== null && !has(d.instances, disk.instance)) out.push(`disk ${du}: owner instance ${disk.instance} does not exist`);
    if (disk.instance !== null && !diskOwners.has(du)) out.push(`disk ${du}: owner ${disk.instance} does not list it`);
    for (const n of disk.nodes) if (!has(d.nodes, n)) out.push(`disk ${du}: node ${n} does not exist`);
    if (!Number.isInteger(disk.size) || disk.size < 0) out.push(`disk ${du}: invalid size ${disk.size}`);
  }
  for (const [nu, net] of Object.entries(d.networks)) {
    if (net.reservations.length !== net.ext_reservations.length) out.push(`network ${net.name} (${nu}): reservation maps differ in length`);
    if (/[^01]/.test(net.reservations + net.ext_reservations)) out.push(`network ${net.name} (${nu}): reservation maps hold other than 0/1`);
  }
  return out;
}

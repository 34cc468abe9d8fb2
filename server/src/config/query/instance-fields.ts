// Ganeti's instance query fields (src/Ganeti/Query/Instance.hs): names,
// titles, kinds and docs are part of the wire contract.
import { diskTemplateInfo, type InstanceObject, type QueryValue } from "@ganeti-ts/schema";
import { DEFAULT_BEPARAMS, DEFAULT_HVPARAMS, HV_GLOBALS } from "../defaults.js";
import {
  NODATA,
  OFFLINE,
  UNAVAIL,
  commonFields,
  f,
  fieldTable,
  kindOfValue,
  maybe,
  normal,
  type FieldDef,
  type QueryContext,
} from "./types.js";

type I = InstanceObject;
const MAX_DISKS = 16;
const MAX_NICS = 8;

const STATUS_DOC =
  'Instance status; "running" if instance is set to be running and actually is, "ADMIN_down" if instance is stopped and is not running, "ERROR_wrongnode" if instance running, but not on its designated primary node, "ERROR_up" if instance should be stopped, but is actually running, "ERROR_down" if instance should run, but doesn\'t, "ERROR_nodedown" if instance\'s primary node is down, "ERROR_nodeoffline" if instance\'s primary node is marked offline, "ADMIN_offline" if instance is offline and does not use dynamic resources';

const nodeName = (ctx: QueryContext, uuid: string) => ctx.data.nodes[uuid]?.name ?? uuid;
const disks = (ctx: QueryContext, i: I) => i.disks.map((u) => ctx.data.disks[u]).filter((d) => d !== undefined);
const nicParams = (ctx: QueryContext, i: I) => {
  const group = ctx.data.nodes[i.primary_node]?.group;
  return i.nics.map((n) => ctx.config.filledNicparams(n, group));
};

function filledInstanceHvparams(ctx: QueryContext, i: I): Record<string, unknown> {
  const p = ctx.config.filledHvparams(i);
  const globals = HV_GLOBALS[i.hypervisor];
  if (!globals || !globals.some((g) => Object.hasOwn(p, g))) return p;
  // A copy without them rather than `delete`, which turns the dict into a slow (hash table) object.
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(p)) if (!globals.includes(k)) out[k] = p[k];
  return out;
}

/** Where the hypervisors report the instance, and the primary node's live state. */
type Run =
  | { kind: "offline" }
  | { kind: "nodedown" }
  | { kind: "running"; memory: number; vcpus: number; state: string }
  | { kind: "wrongnode" }
  | { kind: "stopped"; userDown: boolean };

export function runState(ctx: QueryContext, i: I): Run {
  const live = ctx.live;
  const pnode = ctx.data.nodes[i.primary_node];
  if (!live || !pnode) return { kind: "nodedown" };
  if (pnode.offline) return { kind: "offline" };
  const nl = live.nodes.get(pnode.uuid);
  if (!nl || nl.status === "offline") return { kind: "offline" };
  if (nl.status === "error" || !nl.instances) return { kind: "nodedown" };
  const onP = nl.instances[i.name];
  if (onP) {
    if (onP.state === "shutdown") return { kind: "stopped", userDown: true };
    return { kind: "running", memory: onP.memory, vcpus: onP.vcpus, state: onP.state };
  }
  const elsewhere = (live.runningOn.get(i.name) ?? []).some((r) => r.node !== pnode.uuid && r.info.state !== "shutdown");
  return elsewhere ? { kind: "wrongnode" } : { kind: "stopped", userDown: false };
}

export function instanceStatus(ctx: QueryContext, i: I): string {
  const r = runState(ctx, i);
  if (i.admin_state === "offline" && r.kind !== "running" && r.kind !== "wrongnode") return "ADMIN_offline";
  switch (r.kind) {
    case "offline":
      return "ERROR_nodeoffline";
    case "nodedown":
      return "ERROR_nodedown";
    case "wrongnode":
      return "ERROR_wrongnode";
    case "running":
      return i.admin_state === "up" ? "running" : "ERROR_up";
    case "stopped":
      if (r.userDown && ctx.data.cluster.enabled_user_shutdown) return "USER_down";
      return i.admin_state === "up" ? "ERROR_down" : "ADMIN_down";
  }
}

function liveValue(ctx: QueryContext, i: I, pick: (r: Extract<Run, { kind: "running" }>) => unknown): QueryValue {
  const r = runState(ctx, i);
  if (r.kind === "offline") return OFFLINE;
  if (r.kind === "nodedown") return NODATA;
  if (r.kind === "running") return normal(pick(r));
  return UNAVAIL;
}

function diskUsage(ctx: QueryContext, i: I): number {
  return disks(ctx, i).reduce((sum, d) => {
    const info = diskTemplateInfo(d.dev_type);
    if (!info) return sum + d.size;
    return info.usesSpace ? sum + d.size + info.metaPerDisk : sum;
  }, 0);
}

const ordinal = (n: number) => {
  const k = n + 1;
  const sfx = k % 10 === 1 && k % 100 !== 11 ? "st" : k % 10 === 2 && k % 100 !== 12 ? "nd" : k % 10 === 3 && k % 100 !== 13 ? "rd" : "th";
  return `${k}${sfx}`;
};

function indexed(): FieldDef<I>[] {
  const out: FieldDef<I>[] = [];
  for (let n = 0; n < MAX_DISKS; n++) {
    const at = (ctx: QueryContext, i: I) => disks(ctx, i)[n];
    const nth = ordinal(n);
    out.push(
      f(`disk.size/${n}`, `Disk/${n}`, "unit", `Disk size of ${nth} disk`, (i, ctx) => maybe(at(ctx, i)?.size)),
      f(`disk.spindles/${n}`, `DiskSpindles/${n}`, "number", `Spindles of ${nth} disk`, (i, ctx) => maybe(at(ctx, i)?.spindles)),
      f(`disk.name/${n}`, `DiskName/${n}`, "text", `Name of ${nth} disk`, (i, ctx) => maybe(at(ctx, i)?.name)),
      f(`disk.uuid/${n}`, `DiskUUID/${n}`, "text", `UUID of ${nth} disk`, (i, ctx) => maybe(at(ctx, i)?.uuid)),
    );
  }
  for (let n = 0; n < MAX_NICS; n++) {
    const sfx = ` of ${ordinal(n)} network interface`;
    const nic = (i: I) => i.nics[n];
    const p = (ctx: QueryContext, i: I) => (nic(i) ? nicParams(ctx, i)[n] : undefined);
    out.push(
      f(`nic.ip/${n}`, `NicIP/${n}`, "text", `IP address${sfx}`, (i) => maybe(nic(i)?.ip)),
      f(`nic.uuid/${n}`, `NicUUID/${n}`, "text", `UUID address${sfx}`, (i) => maybe(nic(i)?.uuid)),
      f(`nic.mac/${n}`, `NicMAC/${n}`, "text", `MAC address${sfx}`, (i) => maybe(nic(i)?.mac)),
      f(`nic.name/${n}`, `NicName/${n}`, "text", `Name address${sfx}`, (i) => maybe(nic(i)?.name)),
      f(`nic.network/${n}`, `NicNetwork/${n}`, "text", `Network${sfx}`, (i) => maybe(nic(i)?.network)),
      f(`nic.mode/${n}`, `NicMode/${n}`, "text", `Mode${sfx}`, (i, ctx) => maybe(p(ctx, i)?.["mode"])),
      f(`nic.link/${n}`, `NicLink/${n}`, "text", `Link${sfx}`, (i, ctx) => maybe(p(ctx, i)?.["link"])),
      f(`nic.vlan/${n}`, `NicVLAN/${n}`, "text", `VLAN${sfx}`, (i, ctx) => {
        const q = p(ctx, i);
        return q && q["mode"] === "openvswitch" ? normal(q["vlan"]) : UNAVAIL;
      }),
      f(`nic.network.name/${n}`, `NicNetworkName/${n}`, "text", `Network name${sfx}`, (i, ctx) => {
        const net = nic(i)?.network;
        return maybe(net ? ctx.data.networks[net]?.name : null);
      }),
      f(`nic.bridge/${n}`, `NicBridge/${n}`, "text", `Bridge${sfx}`, (i, ctx) => {
        const q = p(ctx, i);
        return q && q["mode"] === "bridged" ? normal(q["link"]) : UNAVAIL;
      }),
    );
  }
  return out;
}

const BE_TITLES: Record<string, string> = {
  auto_balance: "Auto_balance",
  minmem: "ConfigMinMem",
  vcpus: "ConfigVCPUs",
  maxmem: "ConfigMaxMem",
};
const BE_KINDS: Record<string, "bool" | "unit" | "number"> = {
  always_failover: "bool",
  auto_balance: "bool",
  maxmem: "unit",
  minmem: "unit",
  spindle_use: "number",
  vcpus: "number",
};
const HV_TITLES: Record<string, string> = {
  acpi: "ACPI",
  boot_order: "Boot_order",
  cdrom_image_path: "CDROM_image_path",
  cpu_type: "cpu_type",
  disk_type: "Disk_type",
  initrd_path: "Initrd_path",
  kernel_path: "Kernel_path",
  nic_type: "NIC_type",
  pae: "PAE",
  pci_pass: "pci_pass",
  vnc_bind_address: "VNC_bind_address",
};

function paramFields(): FieldDef<I>[] {
  const out: FieldDef<I>[] = [];
  for (const p of Object.keys(DEFAULT_BEPARAMS).sort()) {
    out.push(
      f(`be/${p}`, BE_TITLES[p] ?? `be/${p}`, BE_KINDS[p] ?? "other", `The "${p}" backend parameter`, (i, ctx) => {
        const v = ctx.config.filledBeparams(i)[p];
        return v === undefined ? NODATA : normal(v);
      }),
    );
  }
  const globals = new Set(Object.values(HV_GLOBALS).flat());
  const hvKinds = new Map<string, ReturnType<typeof kindOfValue>>();
  for (const params of Object.values(DEFAULT_HVPARAMS) as Array<Record<string, unknown>>) {
    for (const [k, v] of Object.entries(params)) if (!hvKinds.has(k)) hvKinds.set(k, kindOfValue(v));
  }
  for (const p of [...hvKinds.keys()].filter((k) => !globals.has(k)).sort()) {
    out.push(
      f(`hv/${p}`, HV_TITLES[p] ?? `hv/${p}`, hvKinds.get(p) ?? "other", `The "${p}" hypervisor parameter`, (i, ctx) => {
        const v = filledInstanceHvparams(ctx, i)[p];
        return v === undefined ? UNAVAIL : normal(v);
      }),
    );
  }
  return out;
}

const NIC_AGG = "List containing each network interface's ";

export const INSTANCE_FIELDS = fieldTable<I>(
  [
    f("admin_state", "InstanceState", "text", "Desired state of instance", (i) => normal(i.admin_state)),
    f("admin_state_source", "InstanceStateSource", "text", "Who last changed the desired state of the instance", (i) =>
      normal(i.admin_state_source),
    ),
    f("admin_up", "Autostart", "bool", "Desired state of instance", (i) => normal(i.admin_state === "up")),
    f("disks_active", "DisksActive", "bool", "Desired state of instance disks", (i) => normal(i.disks_active)),
    f("name", "Instance", "text", "Instance name", (i) => normal(i.name), { hostname: true }),
    f("hypervisor", "Hypervisor", "text", "Hypervisor name", (i) => normal(i.hypervisor)),
    f("network_port", "Network_port", "other", "Instance network port if available (e.g. for VNC console)", (i) => maybe(i.network_port)),
    f("os", "OS", "text", "Operating system", (i) => normal(i.os)),
    f("pnode", "Primary_node", "text", "Primary node", (i, ctx) => normal(nodeName(ctx, i.primary_node)), { hostname: true }),
    f("pnode.group", "PrimaryNodeGroup", "text", "Primary node's group", (i, ctx) =>
      maybe(ctx.data.nodegroups[ctx.data.nodes[i.primary_node]?.group ?? ""]?.name),
    ),
    f("pnode.group.uuid", "PrimaryNodeGroupUUID", "text", "Primary node's group UUID", (i, ctx) =>
      maybe(ctx.data.nodes[i.primary_node]?.group),
    ),
    f("snodes", "Secondary_Nodes", "other", "Secondary nodes; usually this will just be one node", (i, ctx) =>
      normal(i.secondary_nodes.map((u) => nodeName(ctx, u))),
    ),
    f("snodes.group", "SecondaryNodesGroups", "other", "Node groups of secondary nodes", (i, ctx) =>
      normal(i.secondary_nodes.map((u) => ctx.data.nodegroups[ctx.data.nodes[u]?.group ?? ""]?.name ?? null)),
    ),
    f("snodes.group.uuid", "SecondaryNodesGroupsUUID", "other", "Node group UUIDs of secondary nodes", (i, ctx) =>
      normal(i.secondary_nodes.map((u) => ctx.data.nodes[u]?.group ?? null)),
    ),
    f("hvparams", "HypervisorParameters", "other", "Hypervisor parameters (merged)", (i, ctx) => normal(filledInstanceHvparams(ctx, i))),
    f("beparams", "BackendParameters", "other", "Backend parameters (merged)", (i, ctx) => normal(ctx.config.filledBeparams(i))),
    f("osparams", "OpSysParameters", "other", "Operating system parameters (merged)", (i, ctx) => normal(ctx.config.filledOsparams(i))),
    f("custom_hvparams", "CustomHypervisorParameters", "other", "Custom hypervisor parameters", (i) => normal({ ...i.hvparams })),
    f("custom_beparams", "CustomBackendParameters", "other", "Custom backend parameters", (i) => normal({ ...i.beparams })),
    f("custom_osparams", "CustomOpSysParameters", "other", "Custom operating system parameters", (i) => normal({ ...i.osparams })),
    f("custom_nicparams", "CustomNicParameters", "other", "Custom network interface parameters", (i) =>
      normal(i.nics.map((n) => ({ ...n.nicparams }))),
    ),
    ...paramFields(),
    f(
      "disk_usage",
      "DiskUsage",
      "unit",
      "Total disk space used by instance on each of its nodes; this is not the disk size visible to the instance, but the usage on the node",
      (i, ctx) => normal(diskUsage(ctx, i)),
    ),
    f("disk.count", "Disks", "number", "Number of disks", (i) => normal(i.disks.length)),
    f("disk.sizes", "Disk_sizes", "other", "List of disk sizes", (i, ctx) => normal(disks(ctx, i).map((d) => d.size))),
    f("disk.spindles", "Disk_spindles", "other", "List of disk spindles", (i, ctx) => normal(disks(ctx, i).map((d) => d.spindles))),
    f("disk.names", "Disk_names", "other", "List of disk names", (i, ctx) => normal(disks(ctx, i).map((d) => d.name))),
    f("disk.uuids", "Disk_UUIDs", "other", "List of disk UUIDs", (i, ctx) => normal(disks(ctx, i).map((d) => d.uuid))),
    f("disk_template", "Disk_template", "text", "Instance disk template", (i) => normal(i.disk_template)),
    f("nic.count", "NICs", "number", "Number of network interfaces", (i) => normal(i.nics.length)),
    f("nic.macs", "NIC_MACs", "other", `${NIC_AGG}MAC address`, (i) => normal(i.nics.map((n) => n.mac))),
    f("nic.ips", "NIC_IPs", "other", `${NIC_AGG}IP address`, (i) => normal(i.nics.map((n) => n.ip))),
    f("nic.names", "NIC_Names", "other", `${NIC_AGG}name`, (i) => normal(i.nics.map((n) => n.name))),
    f("nic.uuids", "NIC_UUIDs", "other", `${NIC_AGG}UUID`, (i) => normal(i.nics.map((n) => n.uuid))),
    f("nic.modes", "NIC_modes", "other", `${NIC_AGG}mode`, (i, ctx) => normal(nicParams(ctx, i).map((p) => p["mode"]))),
    f("nic.vlans", "NIC_VLANs", "other", `${NIC_AGG}VLAN`, (i, ctx) =>
      normal(nicParams(ctx, i).map((p) => (p["mode"] === "openvswitch" ? p["vlan"] : null))),
    ),
    f("nic.bridges", "NIC_bridges", "other", `${NIC_AGG}bridge`, (i, ctx) =>
      normal(nicParams(ctx, i).map((p) => (p["mode"] === "bridged" ? p["link"] : null))),
    ),
    f("nic.links", "NIC_links", "other", `${NIC_AGG}link`, (i, ctx) => normal(nicParams(ctx, i).map((p) => p["link"]))),
    f("nic.networks", "NIC_networks", "other", "List containing each interface's network", (i) => normal(i.nics.map((n) => n.network))),
    f("nic.networks.names", "NIC_networks_names", "other", "List containing the name of each interface's network", (i, ctx) =>
      normal(i.nics.map((n) => (n.network ? (ctx.data.networks[n.network]?.name ?? null) : null))),
    ),
    ...indexed(),
    f("status", "Status", "text", STATUS_DOC, (i, ctx) => normal(instanceStatus(ctx, i)), { live: true }),
    f(
      "oper_state",
      "Running",
      "bool",
      "Actual state of instance",
      (i, ctx) => {
        const r = runState(ctx, i);
        if (r.kind === "offline") return OFFLINE;
        if (r.kind === "nodedown") return NODATA;
        return normal(r.kind === "running");
      },
      { live: true },
    ),
    f("console", "Console", "other", "Instance console information", () => UNAVAIL, { live: true }),
    f("oper_ram", "Memory", "unit", "Actual memory usage as seen by hypervisor", (i, ctx) => liveValue(ctx, i, (r) => r.memory), {
      live: true,
    }),
    f("oper_vcpus", "VCPUs", "number", "Actual number of VCPUs as seen by hypervisor", (i, ctx) => liveValue(ctx, i, (r) => r.vcpus), {
      live: true,
    }),
    ...commonFields<I>("Instance"),
    f("forthcoming", "Forthcoming", "bool", "whether the Instance is forthcoming", () => normal(false)),
  ],
  [
    ["vcpus", "be/vcpus"],
    ["be/memory", "be/maxmem"],
    ["sda_size", "disk.size/0"],
    ["sdb_size", "disk.size/1"],
    ["ip", "nic.ip/0"],
    ["mac", "nic.mac/0"],
    ["bridge", "nic.bridge/0"],
    ["nic_mode", "nic.mode/0"],
    ["nic_link", "nic.link/0"],
    ["nic_network", "nic.network/0"],
  ],
);

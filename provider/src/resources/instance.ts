// Instance: operations table. Inputs are camelCase; the mapping to Ganeti's
// wire names (beparams, hvparams, pnode, ...) is written here only.
import { z } from "zod";
import {
  DiskModeSchema,
  DiskTemplateSchema,
  HypervisorSchema,
  NormalizedHostnameSchema,
  TagSchema,
  UnitSizeSchema,
  parseUnitSize,
  type InstanceConsole,
  type InstanceInfo,
} from "@ganeti-ts/schema";
import { NotFoundError, type GanetiClient, type DeviceModification, type InstanceCreateParams } from "@ganeti-ts/sdk";
import { known, isUnknown, parseInputs, TimeoutsSchema } from "../core/check.js";
import type { CheckFailure, ResourceOperations } from "../core/define-resource.js";
import { compact, normalizeTags, stableEqual, type DiffTable, type FieldChange } from "../core/diff.js";
import { UpdateNotAllowedError } from "../core/errors.js";
import { Deadline, runJob } from "../core/jobs.js";
import { toWire } from "../core/names.js";
import { timeoutMs, type Timeouts } from "../core/timeouts.js";

const Str = known(z.string().min(1));
const Param = z.union([z.string(), z.number(), z.boolean()]);
const ParamDict = known(z.record(z.string(), known(Param)));

const DiskInputSchema = z
  .object({
    size: known(UnitSizeSchema),
    name: Str.optional(),
    mode: known(DiskModeSchema).optional(),
    spindles: known(z.number().int().positive()).optional(),
  })
  .strict();

const NicInputSchema = z
  .object({
    network: Str.optional(),
    link: Str.optional(),
    mode: known(z.enum(["bridged", "routed", "openvswitch"])).optional(),
    /** An address, "pool" (take one from the network), or unset. */
    ip: Str.optional(),
    /** "auto" (default) generates one. */
    mac: Str.optional(),
    name: Str.optional(),
    vlan: known(z.string()).optional(),
  })
  .strict();

export const InstanceInputSchema = z
  .object({
    name: known(NormalizedHostnameSchema),
    diskTemplate: known(DiskTemplateSchema),
    disks: known(z.array(DiskInputSchema)).default([]),
    nics: known(z.array(NicInputSchema)).default([]),
    os: Str,
    osParams: ParamDict.optional(),
    osParamsPrivate: ParamDict.optional(),
    hypervisor: known(HypervisorSchema).optional(),
    hvParams: ParamDict.optional(),
    memory: known(z.union([z.number().int().positive(), z.string()])).optional(),
    minMemory: known(z.union([z.number().int().positive(), z.string()])).optional(),
    maxMemory: known(z.union([z.number().int().positive(), z.string()])).optional(),
    vcpus: known(z.number().int().positive()).optional(),
    autoBalance: known(z.boolean()).optional(),
    alwaysFailover: known(z.boolean()).optional(),
    primaryNode: Str.optional(),
    secondaryNode: Str.optional(),
    iallocator: Str.optional(),
    group: Str.optional(),
    tags: known(z.array(known(TagSchema))).optional(),
    state: known(z.enum(["running", "stopped"])).default("running"),
    updatePolicy: z
      .object({
        allowReboot: z.boolean().optional(),
        moveMode: z.enum(["migrate", "failover"]).optional(),
        replaceOnOsChange: z.boolean().optional(),
      })
      .strict()
      .optional(),
    nameCheck: z.boolean().optional(),
    adopt: z.boolean().optional(),
    timeouts: TimeoutsSchema.optional(),
  })
  .strict();

export interface InstanceDisk {
  size: number;
  name?: string;
  mode?: "rw" | "ro";
  spindles?: number;
}
export interface InstanceNic {
  network?: string;
  link?: string;
  mode?: "bridged" | "routed" | "openvswitch";
  ip?: string;
  mac?: string;
  name?: string;
  vlan?: string;
}
export interface InstanceUpdatePolicy {
  /** Let an update stop and start a running instance when a change needs it (default false). */
  allowReboot?: boolean;
  /** How a primary-node change moves a running instance (default "migrate"). */
  moveMode?: "migrate" | "failover";
  /** Treat an OS change as reinstall-by-replacement (default false: record the new OS in place). */
  replaceOnOsChange?: boolean;
}

/** Checked inputs: defaults filled, sizes in MiB, `memory` expanded, tags sorted. */
export interface InstanceInputs extends Record<string, unknown> {
  name: string;
  diskTemplate: string;
  disks: InstanceDisk[];
  nics: InstanceNic[];
  os: string;
  osParams?: Record<string, string | number | boolean>;
  osParamsPrivate?: Record<string, string | number | boolean>;
  hypervisor?: string;
  hvParams?: Record<string, string | number | boolean>;
  minMemory?: number;
  maxMemory?: number;
  vcpus?: number;
  autoBalance?: boolean;
  alwaysFailover?: boolean;
  primaryNode?: string;
  secondaryNode?: string;
  iallocator?: string;
  group?: string;
  tags: string[];
  state: "running" | "stopped";
  updatePolicy?: InstanceUpdatePolicy;
  nameCheck?: boolean;
  adopt?: boolean;
  timeouts?: Timeouts;
}

/** Stored state: the inputs as the cluster has them, plus computed values. */
export interface InstanceOutputs extends InstanceInputs {
  uuid: string;
  secondaryNodes: string[];
  status: string;
  nicIps: (string | null)[];
  nicMacs: string[];
  nicUuids: string[];
  networkPort: number | null;
  diskUuids: string[];
  /** Memory the running instance has now (Ganeti's oper_ram: the balloon's size), null when stopped. */
  runtimeMemory: number | null;
  /** How to reach the console (Ganeti's `GET /2/instances/NAME/console`), null when not running. */
  console: InstanceConsole | null;
  ctime: number | null;
  mtime: number | null;
}

/** Outputs that hold secrets (additionalSecretOutputs). */
export const INSTANCE_SECRET_OUTPUTS = ["osParamsPrivate"] as const;

/** camelCase beparams → wire names. */
const BE_NAMES = {
  vcpus: "vcpus",
  maxMemory: "maxmem",
  minMemory: "minmem",
  autoBalance: "auto_balance",
  alwaysFailover: "always_failover",
} as const;

/** Templates whose disks the target node can reach (migrate/failover to any node). */
const EXT_MIRRORED = new Set(["diskless", "sharedfile", "blockdev", "rbd", "ext", "gluster"]);
/** Hypervisors whose running instances take a new memory size through the balloon (runtime_mem). */
const BALLOONING = new Set(["kvm", "xen-pvm", "xen-hvm", "lxc", "fake"]);
/** Conversions Ganeti performs in place (modify disk_template). */
const CONVERSIONS = new Set(["plain>drbd", "drbd>plain", "file>sharedfile", "sharedfile>file"].map((s) => s));

function mem(v: unknown): number | undefined {
  if (v === undefined || isUnknown(v)) return v as undefined;
  return parseUnitSize(v as string | number);
}

function normalizeNic(n: z.infer<typeof NicInputSchema>): InstanceNic {
  const mac = n.mac === undefined || n.mac === "generate" ? "auto" : n.mac.toLowerCase();
  return compact({ ...n, mac }) as InstanceNic;
}

export function checkInstance(news: Record<string, unknown>): { inputs: InstanceInputs; failures: CheckFailure[] } {
  const { value, failures } = parseInputs(InstanceInputSchema, news);
  if (!value) return { inputs: news as InstanceInputs, failures };
  const f: CheckFailure[] = [];
  let minMemory: number | undefined;
  let maxMemory: number | undefined;
  try {
    const memory = mem(value.memory);
    minMemory = mem(value.minMemory) ?? memory;
    maxMemory = mem(value.maxMemory) ?? memory;
  } catch (err) {
    f.push({ property: "memory", reason: err instanceof Error ? err.message : String(err) });
  }
  if (value.memory !== undefined && (value.minMemory !== undefined || value.maxMemory !== undefined)) {
    f.push({ property: "memory", reason: "set either memory or minMemory/maxMemory, not both" });
  }
  if (typeof minMemory === "number" && typeof maxMemory === "number" && minMemory > maxMemory) {
    f.push({ property: "minMemory", reason: `minMemory ${minMemory} is above maxMemory ${maxMemory}` });
  }
  if (value.primaryNode !== undefined && value.iallocator !== undefined) {
    f.push({ property: "iallocator", reason: "set primaryNode or iallocator, not both" });
  }
  if (value.diskTemplate === "diskless" && Array.isArray(value.disks) && value.disks.length > 0) {
    f.push({ property: "disks", reason: "a diskless instance has no disks" });
  }
  const disks = isUnknown(value.disks)
    ? value.disks
    : value.disks.map((d) => compact({ ...d, size: isUnknown(d.size) ? d.size : parseUnitSize(d.size), mode: d.mode ?? "rw" }));
  const nics = isUnknown(value.nics) ? value.nics : value.nics.map(normalizeNic);
  const tags = isUnknown(value.tags) ? value.tags : normalizeTags(value.tags as string[] | undefined);
  const { memory: _m, ...rest } = value;
  const inputs = compact({ ...rest, minMemory, maxMemory, disks, nics, tags }) as unknown as InstanceInputs;
  return { inputs, failures: f };
}

// ------------------------------------------------------------------ diff table

function diskApply(o: unknown, n: unknown): "update" | "replace" {
  const olds = (Array.isArray(o) ? o : []) as InstanceDisk[];
  const news = (Array.isArray(n) ? n : []) as InstanceDisk[];
  for (let i = 0; i < Math.min(olds.length, news.length); i++) {
    const a = olds[i] as InstanceDisk;
    const b = news[i] as InstanceDisk;
    if (typeof b.size !== "number" || b.size < a.size) return "replace"; // Ganeti cannot shrink a disk
    if (b.spindles !== undefined && b.spindles !== a.spindles) return "replace";
  }
  return "update";
}

export const instanceDiffTable: DiffTable = {
  name: { apply: "update" },
  diskTemplate: {
    apply: (o, n) => (CONVERSIONS.has(`${String(o)}>${String(n)}`) ? "update" : "replace"),
  },
  disks: { apply: diskApply },
  nics: { apply: "update" },
  os: {
    apply: (_o, _n, _olds, news) => ((news.updatePolicy as InstanceUpdatePolicy | undefined)?.replaceOnOsChange ? "replace" : "update"),
  },
  osParams: { apply: "update" },
  osParamsPrivate: { apply: "update" },
  hypervisor: { apply: "replace", optional: true },
  hvParams: { apply: "update" },
  minMemory: { apply: "update", optional: true },
  maxMemory: { apply: "update", optional: true },
  vcpus: { apply: "update", optional: true },
  autoBalance: { apply: "update", optional: true },
  alwaysFailover: { apply: "update", optional: true },
  primaryNode: { apply: "update", optional: true },
  secondaryNode: { apply: "update", optional: true },
  group: { apply: "replace", optional: true },
  tags: { apply: "update", set: true },
  state: { apply: "update" },
  updatePolicy: { apply: "update" },
  timeouts: { apply: "update" },
};

// ------------------------------------------------------------------ wire mapping

function bparams(i: InstanceInputs): Record<string, unknown> {
  return toWire(i, BE_NAMES);
}

function diskWire(d: InstanceDisk): Record<string, unknown> {
  return compact({ size: d.size, name: d.name, mode: d.mode, spindles: d.spindles });
}

function nicWire(n: InstanceNic): Record<string, unknown> {
  return compact({ ...n });
}

function createParams(i: InstanceInputs): InstanceCreateParams {
  return compact({
    mode: "create",
    instance_name: i.name,
    disk_template: i.diskTemplate as InstanceCreateParams["disk_template"],
    disks: i.disks.map(diskWire),
    nics: i.nics.map(nicWire),
    os_type: i.os,
    osparams: i.osParams,
    osparams_private: i.osParamsPrivate,
    hypervisor: i.hypervisor as InstanceCreateParams["hypervisor"],
    hvparams: i.hvParams,
    beparams: bparams(i),
    pnode: i.primaryNode,
    snode: i.secondaryNode,
    iallocator: i.iallocator,
    group_name: i.group,
    tags: i.tags,
    name_check: i.nameCheck ?? false,
    ip_check: i.nameCheck ?? false,
    start: i.state !== "stopped",
  }) as InstanceCreateParams;
}

// ------------------------------------------------------------------ read

function pick(all: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in all) out[k] = all[k];
  return out;
}

/** Build input-form state from the cluster's object; `ref` supplies what Ganeti does not report. */
export function instanceFromInfo(
  info: InstanceInfo,
  ref: Partial<InstanceInputs>,
  console: InstanceConsole | null = null,
): { inputs: InstanceInputs; outputs: InstanceOutputs } {
  const refDisks = Array.isArray(ref.disks) ? ref.disks : [];
  const refNics = Array.isArray(ref.nics) ? ref.nics : [];
  const disks: InstanceDisk[] = info["disk.sizes"].map((size, i) =>
    compact({
      size,
      name: info["disk.names"][i] ?? undefined,
      mode: refDisks[i]?.mode ?? "rw",
      spindles: refDisks[i]?.spindles !== undefined ? (info["disk.spindles"][i] ?? undefined) : undefined,
    }),
  );
  const nics: InstanceNic[] = info["nic.macs"].map((mac, i) => {
    const r: InstanceNic = refNics[i] ?? {};
    const ip = info["nic.ips"][i] ?? undefined;
    const network = info["nic.networks.names"][i] ?? undefined;
    return compact({
      network,
      // Mode and link come from the network's connection when a network is
      // set: report them only where the program sets them.
      link: r.link !== undefined ? info["nic.links"][i] : undefined,
      mode: r.mode !== undefined ? (info["nic.modes"][i] as InstanceNic["mode"]) : undefined,
      ip: r.ip === "pool" && ip !== undefined ? "pool" : ip,
      mac: r.mac === "auto" ? "auto" : mac,
      name: info["nic.names"][i] ?? undefined,
      vlan: r.vlan,
    });
  });
  const be = info.beparams;
  const osparams = (info.osparams ?? info.custom_osparams) as Record<string, unknown> | undefined;
  const inputs = compact({
    name: info.name,
    diskTemplate: info.disk_template,
    disks,
    nics,
    os: info.os ?? ref.os ?? "",
    osParams: ref.osParams && osparams ? pick(osparams, Object.keys(ref.osParams)) : ref.osParams,
    osParamsPrivate: ref.osParamsPrivate,
    hypervisor: (info.hypervisor as string | undefined) ?? ref.hypervisor,
    hvParams: ref.hvParams ? pick(info.hvparams, Object.keys(ref.hvParams)) : undefined,
    minMemory: be.minmem as number | undefined,
    maxMemory: be.maxmem as number | undefined,
    vcpus: be.vcpus as number | undefined,
    autoBalance: be.auto_balance as boolean | undefined,
    alwaysFailover: be.always_failover as boolean | undefined,
    primaryNode: info.pnode,
    secondaryNode: info.snodes[0],
    iallocator: ref.iallocator,
    group: ref.group,
    tags: normalizeTags(info.tags),
    state: info.admin_state === "up" ? "running" : "stopped",
    updatePolicy: ref.updatePolicy,
    nameCheck: ref.nameCheck,
    adopt: ref.adopt,
    timeouts: ref.timeouts,
  }) as InstanceInputs;
  const outputs: InstanceOutputs = {
    ...inputs,
    uuid: info.uuid,
    secondaryNodes: info.snodes,
    status: info.status,
    nicIps: info["nic.ips"],
    nicMacs: info["nic.macs"],
    nicUuids: info["nic.uuids"],
    networkPort: info.network_port,
    diskUuids: info["disk.uuids"],
    runtimeMemory: info.oper_ram,
    console,
    ctime: info.ctime,
    mtime: info.mtime,
  };
  return { inputs, outputs };
}

// ------------------------------------------------------------------ update

/** Disk and NIC modification lists (§9.1) from old → new lists, by position. */
function deviceMods<T extends object>(
  olds: T[],
  news: T[],
  wire: (d: T) => Record<string, unknown>,
  modifiable: (o: T, n: T) => Record<string, unknown>,
): { mods: DeviceModification[]; removes: number } {
  const mods: DeviceModification[] = [];
  for (let i = 0; i < Math.min(olds.length, news.length); i++) {
    const ch = modifiable(olds[i] as T, news[i] as T);
    if (Object.keys(ch).length) mods.push(["modify", i, ch]);
  }
  for (let i = olds.length; i < news.length; i++) mods.push(["add", -1, wire(news[i] as T)]);
  let removes = 0;
  for (let i = olds.length - 1; i >= news.length; i--) {
    mods.push(["remove", i, {}]);
    removes++;
  }
  return { mods, removes };
}

function changedKeys<T extends object>(o: T, n: T, keys: (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (!stableEqual(o[k], n[k]) && n[k] !== undefined) out[k as string] = n[k];
  return out;
}

/** Changed dict entries; keys dropped from the program go back to the cluster default. */
function paramDelta(o: Record<string, unknown> | undefined, n: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n ?? {})) if (!stableEqual(o?.[k], v)) out[k] = v;
  for (const k of Object.keys(o ?? {})) if (!(k in (n ?? {}))) out[k] = "default";
  return out;
}

async function updateInstance(
  c: GanetiClient,
  olds: InstanceOutputs,
  news: InstanceInputs,
  changes: FieldChange[],
  ms: number,
): Promise<void> {
  const dl = new Deadline(ms);
  const changed = new Set(changes.map((ch) => ch.field));
  const policy = news.updatePolicy ?? {};
  let name = olds.name;

  // Decide first whether the changes need the instance down, before touching anything.
  const diskPlan = deviceMods(olds.disks, news.disks, diskWire, (o, n) => changedKeys(o, n, ["name", "mode"]));
  const nicPlan = deviceMods(olds.nics, news.nics, nicWire, (o, n) => {
    const ch = changedKeys(o, n, ["network", "link", "mode", "ip", "mac", "name", "vlan"]);
    if (ch.mac === "auto" && o.mac !== "auto") ch.mac = "generate";
    return ch;
  });
  const templateChange = changed.has("diskTemplate") && news.diskTemplate !== olds.diskTemplate;
  const moving = changed.has("primaryNode") && news.primaryNode !== undefined && news.primaryNode !== olds.primaryNode;
  const offlineMove = moving && olds.diskTemplate !== "drbd" && !EXT_MIRRORED.has(olds.diskTemplate);
  // Ganeti renames only an instance that is marked down (OpInstanceRename: "cannot rename").
  const renaming = changed.has("name") && news.name !== olds.name;
  const needsDown = (changed.has("disks") && diskPlan.removes > 0) || templateChange || offlineMove || renaming;
  const running = olds.state === "running";
  if (needsDown && running && news.state === "running" && !policy.allowReboot) {
    const why = renaming
      ? "renaming"
      : templateChange
        ? "a disk template change"
        : offlineMove
          ? "moving a non-mirrored instance"
          : "removing a disk";
    throw new UpdateNotAllowedError(`instance ${name}: ${why} needs the instance stopped; set updatePolicy.allowReboot or state "stopped"`);
  }

  let isUp = running;
  if (isUp && (news.state === "stopped" || needsDown)) {
    await runJob("stopping", c.instances.shutdown(name, {}), dl);
    isUp = false;
  }

  if (renaming) {
    await runJob(
      `renaming to ${news.name}`,
      c.instances.rename(name, news.name, { name_check: news.nameCheck ?? false, ip_check: news.nameCheck ?? false }),
      dl,
    );
    name = news.name;
  }

  if (templateChange) {
    await runJob(
      `converting disks to ${news.diskTemplate}`,
      c.instances.modify(name, compact({ disk_template: news.diskTemplate as never, remote_node: news.secondaryNode })),
      dl,
    );
  }

  const modify: Record<string, unknown> = {};
  const be = paramDelta(bparams(olds), bparams(news));
  for (const k of Object.keys(be)) if (be[k] === "default") delete be[k]; // unset beparams keep the cluster's value
  if (Object.keys(be).length) modify.beparams = be;
  // A new maximum applies to a running instance only at its next start. A
  // smaller one can apply now, without a reboot: runtime_mem (the balloon),
  // which Ganeti checks against the beparams proposed by the same job. A
  // larger one waits for the next start: a balloon cannot grow a machine
  // beyond the memory it was started with.
  const current = olds.runtimeMemory ?? olds.maxMemory;
  if (
    be.maxmem !== undefined &&
    isUp &&
    news.state === "running" &&
    typeof news.maxMemory === "number" &&
    typeof current === "number" &&
    news.maxMemory < current
  ) {
    // Ganeti's instance info does not name the hypervisor: an instance created
    // without one runs the cluster's default.
    const hv = news.hypervisor ?? olds.hypervisor ?? (await c.cluster.info()).default_hypervisor;
    if (BALLOONING.has(String(hv))) modify.runtime_mem = news.maxMemory;
  }
  if (changed.has("hvParams")) modify.hvparams = paramDelta(olds.hvParams, news.hvParams);
  if (changed.has("osParams")) modify.osparams = paramDelta(olds.osParams, news.osParams);
  if (changed.has("osParamsPrivate")) modify.osparams_private = news.osParamsPrivate ?? {};
  if (changed.has("os")) modify.os_name = news.os;
  if (changed.has("disks") && diskPlan.mods.length) modify.disks = diskPlan.mods;
  if (changed.has("nics") && nicPlan.mods.length) modify.nics = nicPlan.mods;
  if (offlineMove) modify.pnode = news.primaryNode;
  if (Object.keys(modify).length) {
    if (modify.disks || modify.nics) modify.hotplug_if_possible = true;
    await runJob("modifying", c.instances.modify(name, modify), dl);
  }

  if (changed.has("disks")) {
    for (let i = 0; i < Math.min(olds.disks.length, news.disks.length); i++) {
      const o = olds.disks[i] as InstanceDisk;
      const n = news.disks[i] as InstanceDisk;
      if (n.size > o.size) {
        await runJob(`growing disk ${i} to ${n.size} MiB`, c.instances.growDisk(name, i, { amount: n.size, absolute: true }), dl);
      }
    }
  }

  if (moving && !offlineMove) {
    const target = olds.diskTemplate === "drbd" ? null : (news.primaryNode as string);
    if (isUp && (policy.moveMode ?? "migrate") === "migrate") {
      await runJob(`migrating to ${news.primaryNode}`, c.instances.migrate(name, compact({ target_node: target ?? undefined })), dl);
    } else {
      await runJob(`failing over to ${news.primaryNode}`, c.instances.failover(name, compact({ target_node: target ?? undefined })), dl);
    }
  }

  if (changed.has("secondaryNode") && news.secondaryNode !== undefined && news.secondaryNode !== olds.secondaryNode && !templateChange) {
    await runJob(
      `replacing secondary with ${news.secondaryNode}`,
      c.instances.replaceDisks(name, { mode: "replace_new_secondary", remote_node: news.secondaryNode }),
      dl,
    );
  }

  if (changed.has("tags")) {
    const add = news.tags.filter((t) => !olds.tags.includes(t));
    const remove = olds.tags.filter((t) => !news.tags.includes(t));
    if (add.length) await runJob("adding tags", c.tags.add("instance", name, add), dl);
    if (remove.length) await runJob("removing tags", c.tags.remove("instance", name, remove), dl);
  }

  if (!isUp && news.state === "running") await runJob("starting", c.instances.startup(name), dl);
}

// ------------------------------------------------------------------ table

export const instanceOperations: ResourceOperations<InstanceInputs, InstanceOutputs> = {
  kind: "Instance",
  check: checkInstance,
  diffTable: instanceDiffTable,
  nameOf: (i) => i.name,
  async exists(c, name) {
    try {
      await c.instances.get(name);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  },
  async create(c, inputs, ms) {
    await runJob(`creating instance ${inputs.name}`, c.instances.create(createParams(inputs)), new Deadline(ms));
  },
  async read(c, name, ref) {
    let info: InstanceInfo;
    try {
      info = await c.instances.get(name);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    // The console answers only for a running instance (503 otherwise).
    const con = info.status === "running" ? await c.instances.console(name) : null;
    return instanceFromInfo(info, ref, con);
  },
  update: updateInstance,
  async delete(c, props, ms) {
    await runJob(`removing instance ${props.name}`, c.instances.remove(props.name, {}), new Deadline(ms));
  },
  timeoutMs: (i, op) => timeoutMs(i.timeouts, op),
};

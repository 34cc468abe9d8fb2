// The cluster's state: one serial-numbered document, kept in memory and
// persisted through the Store as one key per object (config/meta,
// config/cluster, config/instances/UUID, ...): a mutation commits, in one
// atomic Store.commit, only the objects whose text changed. A mutation
// that declares its changes (mutate(fn, { declared: true }): it adds no
// object and every object it changes goes through touch() or markChanged())
// costs only what it changed: just those objects and the cluster object are
// serialised, nothing else of the config is looked at. Any other mutation (and, as a safety net, the
// first write after FULL_DIFF_SECS without one) compares the text of every object, which costs the size of the
// config in CPU but still writes only what changed. Tests check declared
// mutations against a full comparison (verifyChanges). Queries read `data`
// directly (JavaScript runs one thing at a time, so a synchronous read is a
// consistent snapshot); LUs change it only through mutate() (the query
// engine keeps rendered texts until `generation` moves).
import { randomBytes, randomUUID } from "node:crypto";
import {
  ConfigDataSchema,
  type ConfigData,
  type DiskObject,
  type GroupObject,
  type InstanceObject,
  type NetworkObject,
  type NodeObject,
  type RpcDisk,
  type RpcInstance,
  type RpcNic,
} from "@ganeti-ts/schema";
import { ConfigurationError, OpPrereqError } from "../lib/errors.js";
import type { Store, StoreOp } from "../store/store.js";
import { DEFAULT_BEPARAMS, DEFAULT_HVPARAMS, DEFAULT_NDPARAMS, DEFAULT_NICPARAMS } from "./defaults.js";
import { allocatePort, rpcDrbdDisk } from "./drbd.js";

/** Where configs written whole (before per-object keys) live; read once and migrated. */
export const LEGACY_CONFIG_KEY = "config.data";
export const CONFIG_PREFIX = "config/";
const META_KEY = "config/meta";
const CLUSTER_KEY = "config/cluster";
const COLLECTIONS = ["nodes", "nodegroups", "instances", "disks", "networks", "filters"] as const;
type Collection = (typeof COLLECTIONS)[number];
/**
 * A write that serialises every object, to catch changes made without
 * touch(), at most this often: by time, not by a count of writes, so that
 * its cost does not grow with the job rate times the config size.
 */
const FULL_DIFF_SECS = 60;

function metaText(data: ConfigData): string {
  return JSON.stringify({ version: data.version, serial_no: data.serial_no, ctime: data.ctime, mtime: data.mtime });
}

/** The config as store keys → JSON texts. */
function configKeys(data: ConfigData): Map<string, string> {
  const out = new Map<string, string>();
  out.set(META_KEY, metaText(data));
  out.set(CLUSTER_KEY, JSON.stringify(data.cluster));
  for (const c of COLLECTIONS) {
    const objs = data[c] as Record<string, unknown>;
    for (const uuid of Object.keys(objs)) out.set(`${CONFIG_PREFIX}${c}/${uuid}`, JSON.stringify(objs[uuid]));
  }
  return out;
}

/** Read the config's keys back into one document (null: no cluster here). */
export async function readConfigData(store: Store): Promise<{ data: ConfigData; texts: Map<string, string> } | null> {
  const entries = await store.scan(CONFIG_PREFIX);
  if (entries.length === 0) {
    const legacy = await store.get(LEGACY_CONFIG_KEY);
    if (!legacy) return null;
    return { data: parseConfigDoc(parseJson(LEGACY_CONFIG_KEY, legacy.toString("utf8"))), texts: new Map() };
  }
  const texts = new Map<string, string>();
  for (const [key, value] of entries) texts.set(key, value.toString("utf8"));
  return { data: configFromTexts(texts), texts };
}

/** The config document from its keys' JSON texts (as stored under CONFIG_PREFIX). */
export function configFromTexts(texts: Map<string, string>): ConfigData {
  const doc: Record<string, unknown> = Object.fromEntries(COLLECTIONS.map((c) => [c, {}]));
  for (const [key, text] of texts) {
    const obj = parseJson(key, text);
    if (key === META_KEY) Object.assign(doc, obj);
    else if (key === CLUSTER_KEY) doc["cluster"] = obj;
    else {
      const [coll, uuid] = key.slice(CONFIG_PREFIX.length).split("/");
      const c = doc[coll ?? ""] as Record<string, unknown> | undefined;
      if (!c || !uuid) throw new ConfigurationError(`unexpected config key ${key}`);
      c[uuid] = obj;
    }
  }
  return parseConfigDoc(doc);
}

/** JSON of one stored config key; a damaged one is named. */
function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError(`${key} is not valid JSON (${text.length} bytes): ${(err as Error).message}`, { cause: err });
  }
}

function parseConfigDoc(doc: unknown): ConfigData {
  const parsed = ConfigDataSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
  throw new ConfigurationError(`not a valid configuration: ${issues.join("; ")}${parsed.error.issues.length > 5 ? "; ..." : ""}`, {
    cause: parsed.error,
  });
}

/** The Store ops that turn the config last written (`before`) into `after`. */
function configDiff(before: Map<string, string>, after: Map<string, string>): StoreOp[] {
  const ops: StoreOp[] = [];
  for (const [key, text] of after) if (before.get(key) !== text) ops.push({ op: "put", key, value: text });
  for (const key of before.keys()) if (!after.has(key)) ops.push({ op: "delete", key });
  return ops;
}
type Params = Record<string, unknown>;

/** Shallow-merge parameter dicts; later ones win; "default" is not a value. */
export function fillDict(...layers: Array<Params | undefined>): Params {
  const out: Params = {};
  for (const layer of layers) {
    if (!layer) continue;
    // Object.keys, not entries: no [k, v] pair per key (bulk queries fill thousands of dicts).
    for (const k of Object.keys(layer)) out[k] = layer[k];
  }
  return out;
}

/**
 * `table[key]` for an own key only: the config's tables are plain objects
 * and keys may come from clients, so "constructor" or "__proto__" must not
 * find Object.prototype's members.
 */
export function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

interface Touchable {
  serial_no: number;
  mtime: number | null;
}

export class ClusterConfig {
  private writing: Promise<void> | null = null;
  private dirty = false;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private readonly reservedMacs = new Set<string>();
  private gen = 0;
  /** What the store holds: key → JSON text as last committed. */
  private written: Map<string, string>;
  /** Keys of objects touched since the last write was prepared. */
  private changed = new Set<string>();
  /** A mutation since the last write did not declare its changes: compare everything. */
  private needFull = false;
  private lastFullDiff = performance.now();
  /**
   * Tests: compare every object on every write of declared mutations and
   * fail the write when an object changed without touch()/markChanged().
   */
  static verifyChanges = false;

  private constructor(
    private readonly store: Store,
    public data: ConfigData,
    private readonly clock: () => number,
    written: Map<string, string>,
  ) {
    this.written = written;
  }

  static async load(store: Store, clock: () => number = () => Date.now() / 1000): Promise<ClusterConfig | null> {
    const read = await readConfigData(store);
    if (!read) return null;
    const cfg = new ClusterConfig(store, read.data, clock, read.texts);
    if (read.texts.size === 0) {
      // A config written whole by an older version: split it into keys, drop the old file, in one commit.
      const after = configKeys(cfg.data);
      await store.commit([...configDiff(new Map(), after), { op: "delete", key: LEGACY_CONFIG_KEY }]);
      cfg.written = after;
    }
    return cfg;
  }

  /**
   * A config from its keys' texts as the store holds them now (a standby
   * master's copy kept current by a watch; the caller has checked that it
   * is current).
   */
  static fromTexts(store: Store, texts: Map<string, string>, clock: () => number = () => Date.now() / 1000): ClusterConfig {
    return new ClusterConfig(store, configFromTexts(texts), clock, new Map(texts));
  }

  /** Write a brand-new config (cluster init). */
  static async create(store: Store, data: ConfigData, clock: () => number = () => Date.now() / 1000): Promise<ClusterConfig> {
    const parsed = ConfigDataSchema.parse(data);
    const old = await store.list(CONFIG_PREFIX);
    const after = configKeys(parsed);
    await store.commit([
      ...old.filter((k) => !after.has(k)).map((key): StoreOp => ({ op: "delete", key })),
      ...configDiff(new Map(), after),
    ]);
    return new ClusterConfig(store, parsed, clock, after);
  }

  now(): number {
    return this.clock();
  }

  /**
   * Changes on every mutate() (also one whose function throws half-way): a
   * key for caches of values derived from `data` (query rendering). Not
   * persisted; compare it together with the identity of `data`.
   */
  get generation(): number {
    return this.gen;
  }

  // ---- mutations -----------------------------------------------------------

  /**
   * Apply a synchronous change to the live document and persist it. Resolves
   * once a write that includes the change is durable. Concurrent mutations are
   * written together (group commit). `declared`: `fn` adds no object and
   * passes every object it changes or removes to touch() or markChanged(),
   * so the write needs to look at only those (tests check the claim).
   */
  async mutate<T>(fn: (data: ConfigData) => T, opts: { declared?: boolean } = {}): Promise<T> {
    let result: T;
    if (!opts.declared) this.needFull = true;
    try {
      result = fn(this.data);
    } finally {
      this.gen += 1;
    }
    this.data.serial_no += 1;
    this.data.mtime = this.clock();
    await this.flush();
    return result;
  }

  /** Bump an object's serial and mtime (call inside mutate). */
  touch(obj: Touchable): void {
    obj.serial_no += 1;
    obj.mtime = this.clock();
    this.markChanged(obj);
  }

  /** Record that `obj` (a config object) changed, without bumping its serial (call inside mutate). */
  markChanged(obj: object): void {
    const key = this.keyOf(obj);
    if (key) this.changed.add(key);
  }

  private keyOf(obj: object): string | null {
    if (obj === this.data.cluster) return CLUSTER_KEY;
    const uuid = (obj as { uuid?: unknown }).uuid;
    if (typeof uuid !== "string") return null;
    for (const c of COLLECTIONS) if ((this.data[c] as Record<string, unknown>)[uuid] === obj) return `${CONFIG_PREFIX}${c}/${uuid}`;
    return null;
  }

  /**
   * The writes that bring the store to `data`: the declared objects (a
   * declared one no longer in the config is deleted), the cluster object and
   * the meta key; or, on a full comparison, every object whose text changed.
   */
  private prepareWrite(full: boolean, changed: Set<string>): { ops: StoreOp[]; texts: Map<string, string> } {
    if (full) {
      const after = configKeys(this.data);
      return { ops: configDiff(this.written, after), texts: after };
    }
    const texts = new Map<string, string>();
    texts.set(META_KEY, metaText(this.data));
    texts.set(CLUSTER_KEY, JSON.stringify(this.data.cluster));
    const ops: StoreOp[] = [];
    // Only what was declared: no scan of the config (declared mutations add no objects; tests check it).
    for (const key of changed) {
      if (key === CLUSTER_KEY) continue;
      const [c, uuid] = key.slice(CONFIG_PREFIX.length).split("/") as [Collection, string];
      const obj = (this.data[c] as Record<string, unknown>)[uuid];
      if (obj !== undefined) texts.set(key, JSON.stringify(obj));
      else if (this.written.has(key)) ops.push({ op: "delete", key });
    }
    for (const [key, text] of texts) if (this.written.get(key) !== text) ops.push({ op: "put", key, value: text });
    return { ops, texts };
  }

  private flush(): Promise<void> {
    this.dirty = true;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.writing) this.writing = this.writeLoop();
    return p;
  }

  private async writeLoop(): Promise<void> {
    // Yield first: `this.writing` must be set before this loop can end (and reset it).
    await Promise.resolve();
    try {
      while (this.dirty) {
        this.dirty = false;
        const batch = this.waiters;
        this.waiters = [];
        const full = this.needFull || performance.now() - this.lastFullDiff >= FULL_DIFF_SECS * 1000;
        const changed = this.changed;
        this.changed = new Set();
        this.needFull = false;
        try {
          const { ops, texts } = this.prepareWrite(full, changed);
          if (ClusterConfig.verifyChanges && !full) {
            // Only declared mutations are in this write: did they declare everything?
            const all = configDiff(this.written, configKeys(this.data)).map((o) => o.key);
            const missed = all.filter((k) => !ops.some((o) => o.key === k));
            if (missed.length > 0) throw new Error(`config objects changed without touch()/markChanged(): ${missed.join(", ")}`);
          }
          await this.store.commit(ops);
          if (full) this.lastFullDiff = performance.now();
          if (full) this.written = texts;
          else {
            for (const o of ops) {
              if (o.op === "delete") this.written.delete(o.key);
              else this.written.set(o.key, texts.get(o.key)!);
            }
          }
          for (const w of batch) w.resolve();
        } catch (err) {
          // Not written: the next write must look at these objects again.
          for (const k of changed) this.changed.add(k);
          if (full) this.needFull = true;
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  // ---- identifiers -----------------------------------------------------------

  newUuid(): string {
    return randomUUID();
  }

  /** A MAC with the given (or the cluster's) prefix, unique in the cluster. */
  generateMac(prefix?: string | null): string {
    const pfx = prefix || this.data.cluster.mac_prefix;
    const used = this.usedMacs();
    for (let i = 0; i < 1000; i++) {
      const b = randomBytes(3);
      const mac = `${pfx}:${[...b].map((x) => x.toString(16).padStart(2, "0")).join(":")}`;
      if (!used.has(mac) && !this.reservedMacs.has(mac)) {
        this.reservedMacs.add(mac);
        return mac;
      }
    }
    throw new OpPrereqError("Can't generate unique MAC address", "resource_not_unique");
  }

  /** Release MACs reserved by generateMac once they are in the config (or unused). */
  releaseMacs(macs: Iterable<string>): void {
    for (const m of macs) this.reservedMacs.delete(m);
  }

  usedMacs(): Set<string> {
    const used = new Set<string>();
    for (const inst of Object.values(this.data.instances)) for (const nic of inst.nics) used.add(nic.mac.toLowerCase());
    return used;
  }

  /**
   * A port for an instance's console or a drbd disk, as Ganeti's
   * AllocatePort: from the cluster's pool of released ports, else the next
   * above the highest used (the cluster object changes: persisted by the
   * mutation that adds the port's owner).
   */
  allocatePort(): number {
    return allocatePort(this.data);
  }

  // ---- lookups -------------------------------------------------------------

  get cluster() {
    return this.data.cluster;
  }
  get masterNode(): NodeObject {
    const n = this.data.nodes[this.data.cluster.master_node];
    if (!n) throw new Error("config has no master node");
    return n;
  }
  nodes(): NodeObject[] {
    return Object.values(this.data.nodes).sort((a, b) => a.name.localeCompare(b.name));
  }
  instances(): InstanceObject[] {
    return Object.values(this.data.instances).sort((a, b) => a.name.localeCompare(b.name));
  }
  groups(): GroupObject[] {
    return Object.values(this.data.nodegroups).sort((a, b) => a.name.localeCompare(b.name));
  }
  networks(): NetworkObject[] {
    return Object.values(this.data.networks).sort((a, b) => a.name.localeCompare(b.name));
  }

  node(uuid: string): NodeObject {
    const n = own(this.data.nodes, uuid);
    if (!n) throw new OpPrereqError(`Node '${uuid}' not known`, "unknown_entity");
    return n;
  }
  instance(uuid: string): InstanceObject {
    const i = own(this.data.instances, uuid);
    if (!i) throw new OpPrereqError(`Instance '${uuid}' not known`, "unknown_entity");
    return i;
  }
  group(uuid: string): GroupObject {
    const g = own(this.data.nodegroups, uuid);
    if (!g) throw new OpPrereqError(`Group '${uuid}' not found`, "unknown_entity");
    return g;
  }
  network(uuid: string): NetworkObject {
    const n = own(this.data.networks, uuid);
    if (!n) throw new OpPrereqError(`Network '${uuid}' not found`, "unknown_entity");
    return n;
  }
  disk(uuid: string): DiskObject {
    const d = own(this.data.disks, uuid);
    if (!d) throw new OpPrereqError(`Disk '${uuid}' not known`, "unknown_entity");
    return d;
  }

  /**
   * Resolve a name the way Ganeti does: exact name, uuid, or a unique prefix
   * match on the first DNS label ("node1" for "node1.example.com").
   */
  private expand<T extends { name: string; uuid: string }>(items: T[], name: string): T | undefined {
    const exact = items.find((i) => i.name === name || i.uuid === name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    const matches = items.filter((i) => i.name.toLowerCase().startsWith(`${lower}.`));
    return matches.length === 1 ? matches[0] : undefined;
  }
  findNode(name: string): NodeObject | undefined {
    return this.byExactName(this.data.nodes, this.nodeNames, name) ?? this.expand(Object.values(this.data.nodes), name);
  }
  findInstance(name: string): InstanceObject | undefined {
    return this.byExactName(this.data.instances, this.instanceNames, name) ?? this.expand(Object.values(this.data.instances), name);
  }

  /** name → object, rebuilt when a lookup misses or finds a renamed/removed object. */
  private nodeNames = new Map<string, NodeObject>();
  private instanceNames = new Map<string, InstanceObject>();

  /**
   * An exact uuid or name without scanning the table (every job looks up its
   * instance): the index is only a hint, each hit is checked against the
   * live table, and a miss rebuilds it once before expand()'s full search.
   */
  private byExactName<T extends { name: string; uuid: string }>(
    table: Record<string, T>,
    index: Map<string, T>,
    name: string,
  ): T | undefined {
    const byUuid = own(table, name);
    if (byUuid) return byUuid;
    const valid = (o: T | undefined) => o !== undefined && o.name === name && own(table, o.uuid) === o;
    let hit = index.get(name);
    if (valid(hit)) return hit;
    index.clear();
    for (const o of Object.values(table)) index.set(o.name, o);
    hit = index.get(name);
    return valid(hit) ? hit : undefined;
  }
  findGroup(name: string): GroupObject | undefined {
    const gs = Object.values(this.data.nodegroups);
    return gs.find((g) => g.name === name) ?? gs.find((g) => g.uuid === name);
  }
  findNetwork(name: string): NetworkObject | undefined {
    const ns = Object.values(this.data.networks);
    return ns.find((n) => n.name === name) ?? ns.find((n) => n.uuid === name);
  }

  /** Ganeti's ExpandNodeUuidAndName: throws OpPrereqError(unknown_entity). */
  expandNode(name: string): NodeObject {
    const n = this.findNode(name);
    if (!n) throw new OpPrereqError(`Node '${name}' not known`, "unknown_entity");
    return n;
  }
  expandInstance(name: string): InstanceObject {
    const i = this.findInstance(name);
    if (!i) throw new OpPrereqError(`Instance '${name}' not known`, "unknown_entity");
    return i;
  }
  expandGroup(name: string): GroupObject {
    const g = this.findGroup(name);
    if (!g) throw new OpPrereqError(`Group '${name}' not found`, "unknown_entity");
    return g;
  }
  expandNetwork(name: string): NetworkObject {
    const n = this.findNetwork(name);
    if (!n) throw new OpPrereqError(`Network '${name}' not found`, "unknown_entity");
    return n;
  }

  nodeGroupOf(node: NodeObject): GroupObject {
    return this.group(node.group);
  }
  groupNodes(groupUuid: string): NodeObject[] {
    return this.nodes().filter((n) => n.group === groupUuid);
  }
  instanceDisks(inst: InstanceObject): DiskObject[] {
    return inst.disks.map((u) => this.disk(u));
  }
  /** Primary first, then secondaries (uuids). */
  instanceNodes(inst: InstanceObject): string[] {
    return [inst.primary_node, ...inst.secondary_nodes];
  }
  primaryInstances(nodeUuid: string): InstanceObject[] {
    return this.instances().filter((i) => i.primary_node === nodeUuid);
  }
  secondaryInstances(nodeUuid: string): InstanceObject[] {
    return this.instances().filter((i) => i.secondary_nodes.includes(nodeUuid));
  }

  // ---- filled parameters -----------------------------------------------------

  filledBeparams(inst: Pick<InstanceObject, "beparams">): Params {
    return fillDict(DEFAULT_BEPARAMS, this.cluster.beparams["default"], inst.beparams);
  }
  filledHvparams(inst: Pick<InstanceObject, "hypervisor" | "os" | "hvparams">): Params {
    const osName = inst.os.split("+")[0] ?? inst.os;
    const osHvp = (os: string) => {
      const perOs = own(this.cluster.os_hvp, os);
      return perOs ? own(perOs, inst.hypervisor) : undefined;
    };
    return fillDict(
      own(DEFAULT_HVPARAMS as Record<string, Params>, inst.hypervisor),
      own(this.cluster.hvparams, inst.hypervisor),
      osHvp(osName),
      osHvp(inst.os),
      inst.hvparams,
    );
  }
  filledOsparams(inst: Pick<InstanceObject, "os" | "osparams">): Params {
    const osName = inst.os.split("+")[0] ?? inst.os;
    return fillDict(own(this.cluster.osparams, osName), own(this.cluster.osparams, inst.os), inst.osparams);
  }
  filledNdparams(node: NodeObject): Params {
    const group = this.data.nodegroups[node.group];
    return fillDict(DEFAULT_NDPARAMS, this.cluster.ndparams, group?.ndparams, node.ndparams);
  }
  filledGroupNdparams(group: GroupObject): Params {
    return fillDict(DEFAULT_NDPARAMS, this.cluster.ndparams, group.ndparams);
  }
  filledIpolicy(group: GroupObject): Params {
    return fillDict(this.cluster.ipolicy, group.ipolicy);
  }
  filledDiskparams(group: GroupObject): Record<string, Params> {
    const out: Record<string, Params> = {};
    const templates = new Set([...Object.keys(this.cluster.diskparams), ...Object.keys(group.diskparams)]);
    for (const t of templates) out[t] = fillDict(this.cluster.diskparams[t], group.diskparams[t]);
    return out;
  }
  /** NIC parameters: cluster default ← network connection of the node's group ← NIC overrides. */
  filledNicparams(nic: { nicparams: Params; network: string | null }, groupUuid?: string): Params {
    const conn = nic.network && groupUuid ? this.data.nodegroups[groupUuid]?.networks[nic.network] : undefined;
    return fillDict(DEFAULT_NICPARAMS, this.cluster.nicparams["default"], conn, nic.nicparams);
  }

  // ---- node-side views -------------------------------------------------------

  /**
   * A disk as a node sees it. `nodeUuid` is the node the call goes to: a
   * composite disk's view depends on it (drbd: which side it is).
   */
  rpcDisk(disk: DiskObject, nodeUuid?: string): RpcDisk {
    // A drbd disk told to one of its nodes carries that node's side (Ganeti's dynamic params).
    if (disk.dev_type === "drbd" && nodeUuid && disk.logical_id.length === 6) return rpcDrbdDisk(this, disk, nodeUuid);
    return {
      uuid: disk.uuid,
      dev_type: disk.dev_type,
      size: disk.size,
      mode: disk.mode,
      name: disk.name,
      logical_id: disk.logical_id,
      params: disk.params,
      ...(disk.children
        ? {
            children: disk.children.map((c) => ({
              uuid: c.uuid,
              dev_type: c.dev_type,
              size: c.size,
              mode: disk.mode,
              name: null,
              logical_id: c.logical_id,
              params: c.params,
            })),
          }
        : {}),
    };
  }

  /** An instance as a node sees it; its disks as `nodeUuid` (default the primary) sees them. */
  rpcInstance(inst: InstanceObject, nodeUuid?: string): RpcInstance {
    const pnode = this.node(inst.primary_node);
    const nics: RpcNic[] = inst.nics.map((nic) => {
      const p = this.filledNicparams(nic, pnode.group);
      return {
        uuid: nic.uuid,
        name: nic.name,
        mac: nic.mac,
        ip: nic.ip,
        mode: String(p["mode"] ?? "bridged"),
        link: String(p["link"] ?? ""),
        vlan: String(p["vlan"] ?? ""),
        network: nic.network,
        network_name: nic.network ? (this.data.networks[nic.network]?.name ?? null) : null,
      };
    });
    return {
      name: inst.name,
      uuid: inst.uuid,
      hypervisor: inst.hypervisor,
      os: inst.os,
      hvparams: this.filledHvparams(inst),
      beparams: this.filledBeparams(inst),
      osparams: this.filledOsparams(inst),
      osparams_private: inst.osparams_private,
      nics,
      disks: this.instanceDisks(inst).map((d) => this.rpcDisk(d, nodeUuid ?? inst.primary_node)),
      disk_template: inst.disk_template,
      primary_node: pnode.name,
      secondary_nodes: inst.secondary_nodes.map((u) => this.node(u).name),
      tags: inst.tags,
      // The instance's cluster-allocated port (kvm: its VNC display), when it has one.
      ...(inst.network_port !== null && inst.network_port !== undefined ? { network_port: inst.network_port } : {}),
    };
  }
}

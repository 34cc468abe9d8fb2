// Allocation of what a replicated (`drbd`) disk holds in the configuration,
// with Ganeti's semantics: a TCP port from the cluster's pool (shared with
// instance network ports), one minor per node unique among that node's drbd
// disks, a shared secret, and two plain volumes (data, 128 MiB of metadata)
// in a volume group. logical_id is Ganeti's
// [primary node uuid, secondary node uuid, port, primary minor, secondary minor, secret].
//
// Minors handed out but not yet in the configuration (a job between
// generating its disks and adding them) are held in memory per config, as
// Ganeti's temporary reservations: released when the disk reaches the config
// (it is counted from there), or by releaseDrbdMinors when the job gives up.
import { randomBytes } from "node:crypto";
import type { ClusterObject, ConfigData, DiskChildObject, DiskObject, DrbdDynamicParams, RpcDisk } from "@ganeti-ts/schema";
import { ConfigurationError, OpPrereqError } from "../lib/errors.js";
import type { ClusterConfig } from "./cluster-config.js";

/** Ganeti's constants.FIRST_DRBD_PORT / LAST_DRBD_PORT. */
export const FIRST_DRBD_PORT = 11000;
export const LAST_DRBD_PORT = 14999;
/** Ganeti's constants.DRBD_META_SIZE (MiB): the metadata volume of every drbd disk. */
export const DRBD_META_SIZE = 128;
/** Ganeti's constants.DRBD_SECRET_LENGTH: random bytes, written as hex. */
const DRBD_SECRET_BYTES = 20;

/** A drbd disk's logical_id, named. */
export interface DrbdLogicalId {
  pnode: string;
  snode: string;
  port: number;
  pminor: number;
  sminor: number;
  secret: string;
}

/** A drbd logical_id read back; a malformed one is a ConfigurationError naming the disk. */
export function parseDrbdLogicalId(disk: Pick<DiskObject, "uuid" | "logical_id">): DrbdLogicalId {
  const [pnode, snode, port, pminor, sminor, secret] = disk.logical_id;
  const int = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
  if (
    disk.logical_id.length !== 6 ||
    typeof pnode !== "string" ||
    typeof snode !== "string" ||
    !int(port) ||
    !int(pminor) ||
    !int(sminor) ||
    typeof secret !== "string"
  )
    throw new ConfigurationError(`drbd disk ${disk.uuid} has an invalid logical_id ${JSON.stringify(disk.logical_id)}`);
  return { pnode, snode, port: port as number, pminor: pminor as number, sminor: sminor as number, secret };
}

/** The disk's drbd logical_id, or null for any other disk (or a malformed one). */
function drbdIdOrNull(disk: DiskObject): DrbdLogicalId | null {
  if (disk.dev_type !== "drbd") return null;
  try {
    return parseDrbdLogicalId(disk);
  } catch {
    return null;
  }
}

// ---- ports ------------------------------------------------------------------

/** Every port the configuration holds: instances' network ports and drbd disks' ports. */
export function usedPorts(data: ConfigData): Set<number> {
  const used = new Set<number>();
  for (const inst of Object.values(data.instances)) if (inst.network_port !== null) used.add(inst.network_port);
  for (const disk of Object.values(data.disks)) {
    const id = drbdIdOrNull(disk);
    if (id) used.add(id.port);
  }
  return used;
}

/**
 * Ganeti's AllocatePort: the first port of the cluster's tcpudp_port_pool,
 * else highest_used_port + 1 (refused past LAST_DRBD_PORT). Changes the
 * cluster object (call inside a mutation, or before one that persists it).
 * A config written before these fields existed starts from the highest port
 * in use. A pool entry already in use (a damaged pool) is dropped, not handed out twice.
 */
export function allocatePort(data: ConfigData): number {
  const cluster = data.cluster;
  const used = usedPorts(data);
  if (cluster.highest_used_port === undefined) cluster.highest_used_port = Math.max(FIRST_DRBD_PORT - 1, ...used);
  const pool = cluster.tcpudp_port_pool ?? [];
  while (pool.length > 0) {
    const port = pool.shift()!;
    if (!used.has(port)) {
      cluster.tcpudp_port_pool = pool;
      return port;
    }
  }
  cluster.tcpudp_port_pool = pool;
  if (cluster.highest_used_port >= LAST_DRBD_PORT)
    throw new ConfigurationError(`The highest used port is greater than ${LAST_DRBD_PORT}. Aborting.`);
  cluster.highest_used_port += 1;
  return cluster.highest_used_port;
}

/** Ganeti's AddTcpUdpPort: a port no longer used goes back to the pool (first out next). */
export function releasePort(cluster: ClusterObject, port: number): void {
  cluster.tcpudp_port_pool = [port, ...(cluster.tcpudp_port_pool ?? []).filter((p) => p !== port)];
}

// ---- minors -----------------------------------------------------------------

/** node uuid → minor → disk uuids using it (more than one: a conflict). */
type MinorUse = Map<string, Map<number, Set<string>>>;

/** Temporary minor reservations per config: node uuid → minor → disk uuid. */
const reservations = new WeakMap<ClusterConfig, Map<string, Map<number, string>>>();

function reservationsOf(cfg: ClusterConfig): Map<string, Map<number, string>> {
  let r = reservations.get(cfg);
  if (!r) reservations.set(cfg, (r = new Map()));
  // A reservation whose disk has reached the config is counted from there.
  for (const [node, minors] of r) {
    for (const [minor, disk] of minors) if (Object.hasOwn(cfg.data.disks, disk)) minors.delete(minor);
    if (minors.size === 0) r.delete(node);
  }
  return r;
}

function minorUse(data: ConfigData, reserved?: Map<string, Map<number, string>>): MinorUse {
  const use: MinorUse = new Map();
  const add = (node: string, minor: number, disk: string) => {
    let m = use.get(node);
    if (!m) use.set(node, (m = new Map()));
    let s = m.get(minor);
    if (!s) m.set(minor, (s = new Set()));
    s.add(disk);
  };
  for (const disk of Object.values(data.disks)) {
    const id = drbdIdOrNull(disk);
    if (!id) continue;
    add(id.pnode, id.pminor, disk.uuid);
    add(id.snode, id.sminor, disk.uuid);
  }
  for (const [node, minors] of reserved ?? []) for (const [minor, disk] of minors) add(node, minor, disk);
  return use;
}

/** Minors used twice on one node: "node uuid/minor: disk, disk" lines (empty when consistent). */
export function drbdMinorConflicts(data: ConfigData): string[] {
  const out: string[] = [];
  for (const [node, minors] of minorUse(data)) {
    for (const [minor, disks] of [...minors].sort((a, b) => a[0] - b[0])) {
      if (disks.size > 1) out.push(`${node}/${minor}: ${[...disks].sort().join(", ")}`);
    }
  }
  return out;
}

/**
 * Ganeti's ComputeDRBDMap: node uuid → minor → disk uuid, over the config's
 * drbd disks and the minors reserved for disks not yet in it; every node
 * has an entry (empty when it holds no drbd disk). A minor used twice on a
 * node is a ConfigurationError.
 */
export function computeDrbdMinorMap(cfg: ClusterConfig): Record<string, Record<number, string>> {
  const use = minorUse(cfg.data, reservationsOf(cfg));
  const out: Record<string, Record<number, string>> = {};
  for (const node of Object.keys(cfg.data.nodes)) out[node] = {};
  const dups: string[] = [];
  for (const [node, minors] of use) {
    const row = (out[node] ??= {});
    for (const [minor, disks] of minors) {
      if (disks.size > 1) dups.push(`${node}/${minor}: ${[...disks].join(", ")}`);
      row[minor] = [...disks][0]!;
    }
  }
  if (dups.length) throw new ConfigurationError(`Duplicate DRBD minors detected: ${dups.join("; ")}`);
  return out;
}

/**
 * Ganeti's AllocateDRBDMinor: for each node (no node twice), the lowest
 * minor not used by a drbd disk on it nor reserved; reserved for `diskUuid`
 * until the disk is in the config or releaseDrbdMinors(diskUuid).
 */
export function allocateDrbdMinors(cfg: ClusterConfig, nodeUuids: string[], diskUuid: string): number[] {
  if (new Set(nodeUuids).size !== nodeUuids.length)
    throw new ConfigurationError(`Duplicate nodes detected in list '${JSON.stringify(nodeUuids)}'`);
  const reserved = reservationsOf(cfg);
  const use = minorUse(cfg.data, reserved);
  return nodeUuids.map((node) => {
    const taken = use.get(node);
    let minor = 0;
    while (taken?.has(minor)) minor++;
    let r = reserved.get(node);
    if (!r) reserved.set(node, (r = new Map()));
    r.set(minor, diskUuid);
    return minor;
  });
}

/** Ganeti's ReleaseDRBDMinors: drop the minors reserved for a disk that will not reach the config. */
export function releaseDrbdMinors(cfg: ClusterConfig, diskUuid: string): void {
  const r = reservations.get(cfg);
  if (!r) return;
  for (const [node, minors] of r) {
    for (const [minor, disk] of minors) if (disk === diskUuid) minors.delete(minor);
    if (minors.size === 0) r.delete(node);
  }
}

// ---- secrets ----------------------------------------------------------------

/** Secrets handed out and not yet in the config, per config (as Ganeti's temporary reservations). */
const reservedSecrets = new WeakMap<ClusterConfig, Set<string>>();

/** Ganeti's GenerateDRBDSecret: 20 random bytes as hex, unlike any drbd disk's. */
export function generateDrbdSecret(cfg: ClusterConfig): string {
  const existing = new Set<string>();
  for (const disk of Object.values(cfg.data.disks)) {
    const id = drbdIdOrNull(disk);
    if (id) existing.add(id.secret);
  }
  let held = reservedSecrets.get(cfg);
  if (!held) reservedSecrets.set(cfg, (held = new Set()));
  for (const s of held) if (existing.has(s)) held.delete(s);
  for (let i = 0; i < 64; i++) {
    const secret = randomBytes(DRBD_SECRET_BYTES).toString("hex");
    if (!existing.has(secret) && !held.has(secret)) {
      held.add(secret);
      return secret;
    }
  }
  throw new ConfigurationError("Not able generate new resource");
}

// ---- disks ------------------------------------------------------------------

/** One disk to generate, as the opcode gave it. */
export interface DrbdDiskSpec {
  size: number; // MiB
  mode: "rw" | "ro";
  name: string | null;
  spindles: number | null;
  /** Volume group of the data volume (Ganeti's disk "vg"); default the cluster's. */
  vg?: string | null;
  /** Volume group of the metadata volume (Ganeti's "metavg"); default the drbd disk parameter metavg. */
  metavg?: string | null;
}

export interface GenerateDrbdOptions {
  instanceUuid: string;
  pnodeUuid: string;
  snodeUuid: string;
  /** iv_name index of the first disk ("disk/N"). */
  baseIndex?: number;
  /** Filled drbd disk parameters of the primary's group (metavg); default the cluster's. */
  drbdParams?: Record<string, unknown>;
}

/** Ganeti's volume names for disk `index`: "<unique id>.disk<index>_data" and "..._meta". */
export function drbdVolumeNames(cfg: ClusterConfig, index: number): [string, string] {
  const prefix = `${cfg.newUuid()}.disk${index}`;
  return [`${prefix}_data`, `${prefix}_meta`];
}

function plainChild(cfg: ClusterConfig, size: number, vg: string, name: string): DiskChildObject {
  return { uuid: cfg.newUuid(), dev_type: "plain", size, logical_id: [vg, name], params: {} };
}

/**
 * Ganeti's _GenerateDRBD8Branch for one disk: port, minors on both nodes,
 * secret, and the data/meta children as plain volumes. Not yet in the
 * config: add it in a mutation (its minors are reserved until then), or
 * releaseDrbdDisk it when the job gives up.
 */
export function generateDrbdDisk(cfg: ClusterConfig, spec: DrbdDiskSpec, index: number, opts: GenerateDrbdOptions): DiskObject {
  if (opts.pnodeUuid === opts.snodeUuid) throw new OpPrereqError("The secondary node cannot be the primary node", "wrong_input");
  const vg = spec.vg || cfg.cluster.volume_group_name;
  const params = opts.drbdParams ?? cfg.cluster.diskparams["drbd"] ?? {};
  const metavg = spec.metavg || (typeof params["metavg"] === "string" && params["metavg"]) || vg;
  if (!vg || !metavg) throw new OpPrereqError("Cluster does not support lvm-based instances (no volume group is set)", "wrong_input");
  const [dataName, metaName] = drbdVolumeNames(cfg, index);
  const uuid = cfg.newUuid();
  const port = allocatePort(cfg.data);
  const secret = generateDrbdSecret(cfg);
  const [pminor, sminor] = allocateDrbdMinors(cfg, [opts.pnodeUuid, opts.snodeUuid], uuid) as [number, number];
  const now = cfg.now();
  return {
    uuid,
    serial_no: 1,
    ctime: now,
    mtime: now,
    name: spec.name,
    dev_type: "drbd",
    size: spec.size,
    mode: spec.mode,
    spindles: spec.spindles,
    logical_id: [opts.pnodeUuid, opts.snodeUuid, port, pminor, sminor, secret],
    children: [plainChild(cfg, spec.size, vg, dataName), plainChild(cfg, DRBD_META_SIZE, metavg, metaName)],
    nodes: [opts.pnodeUuid, opts.snodeUuid],
    iv_name: `disk/${index}`,
    params: {},
    instance: opts.instanceUuid,
  };
}

/** Ganeti's GenerateDiskTemplate for drbd: one disk per spec, numbered from baseIndex. */
export function generateDrbdDisks(cfg: ClusterConfig, specs: DrbdDiskSpec[], opts: GenerateDrbdOptions): DiskObject[] {
  const base = opts.baseIndex ?? 0;
  const out: DiskObject[] = [];
  try {
    specs.forEach((s, i) => out.push(generateDrbdDisk(cfg, s, base + i, opts)));
  } catch (err) {
    for (const d of out) releaseDrbdDisk(cfg, d);
    throw err;
  }
  return out;
}

/**
 * A drbd disk leaves (instance or disk removed, or a generated disk
 * abandoned): its port goes back to the cluster's pool, its reserved minors
 * and secret are dropped (minors in the config are free once the disk is
 * gone from it). Call inside the mutation that removes the disk. Other disks: no-op.
 */
export function releaseDrbdDisk(cfg: ClusterConfig, disk: DiskObject): void {
  if (disk.dev_type !== "drbd") return;
  releaseDrbdMinors(cfg, disk.uuid);
  const id = drbdIdOrNull(disk);
  if (!id) return;
  reservedSecrets.get(cfg)?.delete(id.secret);
  releasePort(cfg.data.cluster, id.port);
}

// ---- node-side views ----------------------------------------------------------

function rpcChild(child: DiskChildObject, mode: "rw" | "ro"): RpcDisk {
  return {
    uuid: child.uuid,
    dev_type: child.dev_type,
    size: child.size,
    mode,
    name: null,
    logical_id: child.logical_id,
    params: child.params,
  };
}

/**
 * What node `nodeUuid` is told about a drbd disk (Ganeti's dynamic params):
 * its own and the peer's replication address (secondary IPs), minors, and
 * whether it is the primary. A node that is neither of the disk's nodes is a
 * ConfigurationError.
 */
export function drbdDynamicParams(cfg: ClusterConfig, disk: DiskObject, nodeUuid: string): DrbdDynamicParams {
  const id = parseDrbdLogicalId(disk);
  let primary: boolean;
  if (nodeUuid === id.pnode) primary = true;
  else if (nodeUuid === id.snode) primary = false;
  else throw new ConfigurationError(`drbd disk ${disk.uuid} is not on node ${nodeUuid}`);
  const local = cfg.node(nodeUuid);
  const peer = cfg.node(primary ? id.snode : id.pnode);
  return {
    local_ip: local.secondary_ip,
    remote_ip: peer.secondary_ip,
    local_minor: primary ? id.pminor : id.sminor,
    remote_minor: primary ? id.sminor : id.pminor,
    primary,
  };
}

/** A drbd disk as node `nodeUuid` sees it: children and that node's dynamic params. */
export function rpcDrbdDisk(cfg: ClusterConfig, disk: DiskObject, nodeUuid: string): RpcDisk {
  return {
    uuid: disk.uuid,
    dev_type: disk.dev_type,
    size: disk.size,
    mode: disk.mode,
    name: disk.name,
    logical_id: disk.logical_id,
    params: disk.params,
    children: (disk.children ?? []).map((c) => rpcChild(c, disk.mode)),
    dynamic_params: drbdDynamicParams(cfg, disk, nodeUuid),
  };
}

// drbd: each disk replicated between the instance's primary and secondary
// node (Ganeti's DRBD8 template) on the nodes' user-space replication
// engine. The config side (port, minors, secret, children) is
// config/drbd.ts; here are the node calls and their order, read from
// Ganeti's instance_storage.py and instance_migration.py.
//
// Every call carries the disk as that node sees it: its children and its
// dynamic params (own and peer address, minors, role). The role follows the
// disk's logical_id, which this implementation keeps listing the instance's
// current primary first (setDrbdPrimary rewrites it when the roles swap).
// The engine's primary mirrors into the secondary's export as soon as it is
// assembled, so the secondary always goes first (Ganeti creates on the
// primary first and lets DRBD wait for its peer).
import type { DiskObject, InstanceObject, NodeObject, RpcDisk } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { generateDrbdDisks, parseDrbdLogicalId } from "../../config/drbd.js";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { errText, logInfo, logWarning } from "../common/messages.js";
import { SingleNodeStrategy } from "./single-node.js";
import type { AssembleRow, DiskGenerateRequest } from "./strategy.js";

const sleep = (ctx: LuContext, ms: number): Promise<void> =>
  ctx.sleep ? ctx.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));

/** The longest pause between two looks at a syncing mirror (Ganeti: the estimate, up to 60 s). */
const MAX_SYNC_POLL_MS = 5_000;

/** Ganeti's utils.FormatSeconds: "1h 2m 5s". */
export function formatSeconds(secs: number): string {
  let s = Math.round(secs);
  const parts: string[] = [];
  if (s > 0) {
    for (const [unit, one] of [
      ["d", 86400],
      ["h", 3600],
      ["m", 60],
    ] as const) {
      const complete = Math.floor(s / one);
      s -= complete * one;
      if (complete || parts.length) parts.push(`${complete}${unit}`);
    }
  }
  parts.push(`${s}s`);
  return parts.join(" ");
}

/** Ganeti's "%5.2f": two decimals, padded to five characters. */
const pct = (n: number): string => n.toFixed(2).padStart(5, " ");

/** The nodes of a drbd disk: [primary, secondary], as its logical_id lists them. */
export function drbdNodes(cfg: ClusterConfig, disk: DiskObject): [NodeObject, NodeObject] {
  const id = parseDrbdLogicalId(disk);
  return [cfg.node(id.pnode), cfg.node(id.snode)];
}

export class DrbdStrategy extends SingleNodeStrategy {
  readonly template = "drbd" as const;

  generate(cfg: ClusterConfig, req: DiskGenerateRequest): DiskObject[] {
    const snode = req.secondaries[0];
    if (!snode) throw new OpPrereqError("The networked disk templates need a mirror node", "wrong_input");
    return generateDrbdDisks(cfg, req.specs, {
      instanceUuid: req.instanceUuid,
      pnodeUuid: req.primary,
      snodeUuid: snode,
      baseIndex: req.baseIndex,
    });
  }

  /** Ganeti's CreateDisks for one disk: the whole tree on each node (the node makes the children itself). */
  override async create(ctx: LuContext, inst: InstanceObject, disk: DiskObject, _primary: NodeObject): Promise<void> {
    const cfg = ctx.config;
    const [pnode, snode] = drbdNodes(cfg, disk);
    const done: NodeObject[] = [];
    for (const node of [snode, pnode]) {
      try {
        await ctx.rpc.call(node, "blockdev_create", {
          disk: this.rpcDisk(cfg, disk, node),
          owner: inst.name,
          on_primary: node.uuid === pnode.uuid,
        });
        done.push(node);
      } catch (err) {
        for (const n of done) await this.removeOn(ctx, disk, n, "Failed to remove newly-created disk");
        throw new OpExecError(`Can't create block device ${disk.iv_name} on node ${node.name} for instance ${inst.name}: ${errText(err)}`, {
          cause: err,
        });
      }
    }
  }

  override async undoCreate(ctx: LuContext, _inst: InstanceObject, disk: DiskObject): Promise<void> {
    for (const n of drbdNodes(ctx.config, disk)) await this.removeOn(ctx, disk, n, "Failed to remove newly-created disk");
  }

  private async removeOn(ctx: LuContext, disk: DiskObject, node: NodeObject, what: string): Promise<void> {
    try {
      await ctx.rpc.call(node, "blockdev_remove", { disk: this.rpcDisk(ctx.config, disk, node) });
    } catch (err) {
      logWarning(ctx, `${what} ${disk.iv_name} on node ${node.name}: ${errText(err)}`);
    }
  }

  /**
   * Ganeti's two passes of AssembleInstanceDisks: the secondary as
   * secondary, then the primary as primary (which starts mirroring to it).
   * A secondary that fails counts unless ignored or offline.
   */
  override async assemble(
    ctx: LuContext,
    inst: InstanceObject,
    disk: DiskObject,
    opts: { ignoreSecondaries?: boolean } = {},
  ): Promise<{ ok: boolean; rows: AssembleRow[] }> {
    const cfg = ctx.config;
    const [pnode, snode] = drbdNodes(cfg, disk);
    let ok = true;
    try {
      await ctx.rpc.call(snode, "blockdev_assemble", { disk: this.rpcDisk(cfg, disk, snode), instance: inst.name, on_primary: false });
    } catch (err) {
      logWarning(ctx, `Could not prepare block device ${disk.iv_name} on node ${snode.name} (is_primary=False, pass=1): ${errText(err)}`);
      if (!(opts.ignoreSecondaries || snode.offline)) ok = false;
    }
    try {
      const path = await ctx.rpc.call(pnode, "blockdev_assemble", {
        disk: this.rpcDisk(cfg, disk, pnode),
        instance: inst.name,
        on_primary: true,
      });
      return { ok, rows: [[pnode.name, disk.iv_name, path]] };
    } catch (err) {
      logWarning(ctx, `Could not prepare block device ${disk.iv_name} on node ${pnode.name} (is_primary=True, pass=2): ${errText(err)}`);
      return { ok: false, rows: [[pnode.name, disk.iv_name, null]] };
    }
  }

  /** Both sides grow, the secondary first (the engine restarts a primary's mirror after its grow). */
  override async grow(ctx: LuContext, _inst: InstanceObject, disk: DiskObject, amount: number): Promise<void> {
    const cfg = ctx.config;
    const [pnode, snode] = drbdNodes(cfg, disk);
    for (const dryrun of [true, false]) {
      for (const n of [snode, pnode]) {
        try {
          await ctx.rpc.call(n, "blockdev_grow", { disk: this.rpcDisk(cfg, disk, n), amount, dryrun });
        } catch (err) {
          const what = dryrun ? "Dry-run grow request" : "Grow request";
          throw new OpExecError(`${what} failed to node ${n.name}: ${errText(err)}`, { cause: err });
        }
      }
    }
  }

  /**
   * Ganeti's WaitForSync: poll the primary's mirror status until no disk is
   * syncing, logging each syncing disk's progress; a disk still degraded at
   * the end (its peer gone) is looked at ten more times, a second apart.
   * Returns false when a disk stayed degraded. `oneshot`: one look only.
   */
  override async waitForSync(
    ctx: LuContext,
    inst: InstanceObject,
    disks: DiskObject[],
    opts: { oneshot?: boolean } = {},
  ): Promise<boolean> {
    const cfg = ctx.config;
    const mirrored = disks.filter((d) => d.dev_type === "drbd");
    if (!mirrored.length) return true;
    if (!opts.oneshot) logInfo(ctx, `Waiting for instance ${inst.name} to sync disks`);
    const pnode = cfg.node(inst.primary_node);
    let retries = 0;
    let degradedRetries = 10;
    for (;;) {
      let stats;
      try {
        stats = await ctx.rpc.call(pnode, "blockdev_getmirrorstatus", { disks: mirrored.map((d) => this.rpcDisk(cfg, d, pnode)) });
      } catch (err) {
        logWarning(ctx, `Can't get any data from node ${pnode.name}: ${errText(err)}`);
        if (++retries >= 10) throw new OpExecError(`Can't contact node ${pnode.name} for mirror data, aborting.`, { cause: err });
        await sleep(ctx, 6_000);
        continue;
      }
      retries = 0;
      let done = true;
      let degraded = false;
      let maxTime = 0;
      stats.forEach((st, i) => {
        const d = mirrored[i]!;
        if (!st) {
          logWarning(ctx, `Can't compute data for node ${pnode.name}/${d.iv_name}`);
          return;
        }
        degraded ||= st.is_degraded && st.sync_percent === null;
        if (st.sync_percent === null) return;
        done = false;
        let remaining: string;
        if (st.estimated_time !== null) {
          remaining = `${formatSeconds(st.estimated_time)} remaining (estimated)`;
          maxTime = st.estimated_time;
        } else {
          remaining = "no time estimate";
          maxTime = 5;
        }
        logInfo(ctx, `- device ${d.iv_name}: ${pct(st.sync_percent)}% done, ${remaining}`);
      });
      if ((done || opts.oneshot) && degraded && degradedRetries > 0) {
        degradedRetries -= 1;
        await sleep(ctx, 1_000);
        continue;
      }
      if (done || opts.oneshot) {
        if (done) logInfo(ctx, `Instance ${inst.name}'s disks are in sync`);
        return !degraded;
      }
      await sleep(ctx, Math.min(MAX_SYNC_POLL_MS, Math.max(maxTime, 1) * 1000));
    }
  }
}

// ---- the mirror between the two nodes (migration, failover, replace-disks) ----

/** The drbd disks of an instance as `node` sees them. */
export function drbdRpcDisks(cfg: ClusterConfig, inst: InstanceObject, node: NodeObject): RpcDisk[] {
  return cfg
    .instanceDisks(inst)
    .filter((d) => d.dev_type === "drbd")
    .map((d) => cfg.rpcDisk(d, node.uuid));
}

/**
 * Ganeti's CheckDiskConsistency: the disk exists on `node` and is not
 * degraded there (ldisk: its local storage is okay); on the primary its
 * children are looked at too.
 */
export async function checkDiskConsistency(
  ctx: LuContext,
  inst: InstanceObject,
  disk: DiskObject,
  node: NodeObject,
  onPrimary: boolean,
  ldisk = false,
): Promise<boolean> {
  const cfg = ctx.config;
  const rd = cfg.rpcDisk(disk, node.uuid);
  const look = async (d: RpcDisk, useLdisk: boolean): Promise<boolean> => {
    let st;
    try {
      st = await ctx.rpc.call(node, "blockdev_find", { disk: d });
    } catch (err) {
      logWarning(ctx, `Can't find disk on node ${node.name}: ${errText(err)}`);
      return false;
    }
    if (!st) {
      logWarning(ctx, `Can't find disk on node ${node.name}`);
      return false;
    }
    return useLdisk ? st.ldisk_status === 1 : !st.is_degraded;
  };
  let ok = await look(rd, ldisk);
  // Ganeti looks at plain children only on the primary (they are not assembled on a secondary).
  if (onPrimary) for (const c of rd.children ?? []) ok = ok && (await look(c, false));
  void inst;
  return ok;
}

/** Ganeti's _GoStandalone: every node stops replicating. */
export async function drbdDisconnect(ctx: LuContext, inst: InstanceObject, nodes: NodeObject[]): Promise<void> {
  ctx.log("* changing into standalone mode");
  for (const n of nodes) {
    try {
      await ctx.rpc.call(n, "drbd_disconnect_net", { disks: drbdRpcDisks(ctx.config, inst, n) });
    } catch (err) {
      throw new OpExecError(`Cannot disconnect disks node ${n.name}: ${errText(err)}`, { cause: err });
    }
  }
}

/**
 * Ganeti's _GoReconnect: every node reconnects with the roles in the
 * config (the secondary first, so that the primary finds its peer).
 * multimaster: both may hold the running instance's disks (migration).
 */
export async function drbdAttach(ctx: LuContext, inst: InstanceObject, nodes: NodeObject[], multimaster: boolean): Promise<void> {
  ctx.log(`* changing disks into ${multimaster ? "dual-master" : "single-master"} mode`);
  const ordered = [...nodes.filter((n) => n.uuid !== inst.primary_node), ...nodes.filter((n) => n.uuid === inst.primary_node)];
  for (const n of ordered) {
    try {
      await ctx.rpc.call(n, "drbd_attach_net", {
        disks: drbdRpcDisks(ctx.config, inst, n),
        instance_name: inst.name,
        multimaster,
      });
    } catch (err) {
      throw new OpExecError(`Cannot change disks config on node ${n.name}: ${errText(err)}`, { cause: err });
    }
  }
}

/** Ganeti's _WaitUntilSync (migration): drbd_wait_sync on every node until all are done. */
export async function drbdWaitUntilSync(ctx: LuContext, inst: InstanceObject, nodes: NodeObject[]): Promise<void> {
  ctx.log("* wait until resync is done");
  for (;;) {
    let allDone = true;
    let minPercent = 100;
    for (const n of nodes) {
      let r;
      try {
        r = await ctx.rpc.call(n, "drbd_wait_sync", { disks: drbdRpcDisks(ctx.config, inst, n) });
      } catch (err) {
        throw new OpExecError(`Cannot resync disks on node ${n.name}: ${errText(err)}`, { cause: err });
      }
      allDone &&= r.alldone;
      minPercent = Math.min(minPercent, r.min_resync);
    }
    if (allDone) return;
    if (minPercent < 100) ctx.log(`   - progress: ${minPercent.toFixed(1)}%`);
    await sleep(ctx, 2_000);
  }
}

/**
 * Make `newPrimary` the primary of a drbd instance in the config (inside a
 * mutation): the instance's primary/secondary, and each drbd disk's
 * logical_id and nodes with that node first, minors following their nodes.
 */
export function setDrbdPrimary(cfg: ClusterConfig, inst: InstanceObject, newPrimary: string): void {
  const old = inst.primary_node;
  if (old === newPrimary) return;
  for (const d of cfg.instanceDisks(inst)) {
    if (d.dev_type !== "drbd") continue;
    const id = parseDrbdLogicalId(d);
    if (id.pnode === newPrimary) continue;
    if (id.snode !== newPrimary) throw new OpExecError(`Disk ${d.iv_name} of instance ${inst.name} is not on node ${newPrimary}`);
    d.logical_id = [id.snode, id.pnode, id.port, id.sminor, id.pminor, id.secret];
    d.nodes = [id.snode, id.pnode];
    cfg.touch(d);
  }
  inst.primary_node = newPrimary;
  inst.secondary_nodes = [old];
  cfg.touch(inst);
}

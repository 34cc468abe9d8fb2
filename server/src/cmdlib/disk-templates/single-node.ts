// The node steps every template shares where a disk is one volume on the
// instance's primary (file, sharedfile): created, assembled and grown there
// with one call each. Mirrored templates override what differs.
import type { DiskObject, DiskTemplate, InstanceObject, NodeObject, RpcDisk } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpExecError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { errText, logDiskSync, logWarning } from "../common/messages.js";
import type { AssembleOptions, AssembleRow, DirMove, DiskGenerateRequest, DiskStrategy } from "./strategy.js";

export abstract class SingleNodeStrategy implements DiskStrategy {
  abstract readonly template: DiskTemplate;
  abstract generate(cfg: ClusterConfig, req: DiskGenerateRequest): DiskObject[];

  storageDir(_disk: DiskObject | undefined): string | null {
    return null;
  }

  rpcDisk(cfg: ClusterConfig, disk: DiskObject, node: NodeObject): RpcDisk {
    return cfg.rpcDisk(disk, node.uuid);
  }

  async create(ctx: LuContext, inst: InstanceObject, disk: DiskObject, primary: NodeObject): Promise<void> {
    try {
      await ctx.rpc.call(primary, "blockdev_create", {
        disk: this.rpcDisk(ctx.config, disk, primary),
        owner: inst.name,
        on_primary: true,
      });
    } catch (err) {
      throw new OpExecError(
        `Can't create block device ${disk.iv_name} on node ${primary.name} for instance ${inst.name}: ${errText(err)}`,
        { cause: err },
      );
    }
  }

  async undoCreate(ctx: LuContext, _inst: InstanceObject, disk: DiskObject, primary: NodeObject): Promise<void> {
    try {
      await ctx.rpc.call(primary, "blockdev_remove", { disk: this.rpcDisk(ctx.config, disk, primary) });
    } catch (err) {
      logWarning(ctx, `Failed to remove newly-created disk ${disk.iv_name} on node ${primary.name}: ${errText(err)}`);
    }
  }

  async remove(ctx: LuContext, _inst: InstanceObject, disk: DiskObject): Promise<boolean> {
    const cfg = ctx.config;
    let ok = true;
    for (const nu of disk.nodes) {
      const node = cfg.data.nodes[nu];
      if (!node) continue;
      try {
        await ctx.rpc.call(node, "blockdev_remove", { disk: this.rpcDisk(cfg, disk, node) });
      } catch (err) {
        logWarning(ctx, `Could not remove disk ${disk.iv_name} on node ${node.name}: ${errText(err)}, continuing anyway`);
        ok = false;
      }
    }
    return ok;
  }

  async assemble(
    ctx: LuContext,
    inst: InstanceObject,
    disk: DiskObject,
    _opts?: AssembleOptions,
  ): Promise<{ ok: boolean; rows: AssembleRow[] }> {
    const pnode = ctx.config.node(inst.primary_node);
    try {
      const path = await ctx.rpc.call(pnode, "blockdev_assemble", {
        disk: this.rpcDisk(ctx.config, disk, pnode),
        instance: inst.name,
        on_primary: true,
      });
      return { ok: true, rows: [[pnode.name, disk.iv_name, path]] };
    } catch (err) {
      logWarning(ctx, `Could not prepare block device ${disk.iv_name} on node ${pnode.name} (is_primary=True, pass=2): ${errText(err)}`);
      return { ok: false, rows: [[pnode.name, disk.iv_name, null]] };
    }
  }

  async shutdown(ctx: LuContext, inst: InstanceObject, disk: DiskObject, opts: { ignorePrimary?: boolean }): Promise<boolean> {
    const cfg = ctx.config;
    let ok = true;
    for (const nu of disk.nodes) {
      const node = cfg.data.nodes[nu];
      if (!node || node.offline) continue;
      try {
        await ctx.rpc.call(node, "blockdev_shutdown", { disk: this.rpcDisk(cfg, disk, node) });
      } catch (err) {
        logWarning(ctx, `Could not shutdown block device ${disk.iv_name} on node ${node.name}: ${errText(err)}`);
        if (!(nu === inst.primary_node && opts.ignorePrimary)) ok = false;
      }
    }
    return ok;
  }

  async grow(ctx: LuContext, _inst: InstanceObject, disk: DiskObject, amount: number): Promise<void> {
    const cfg = ctx.config;
    const nodes = disk.nodes.map((u) => cfg.node(u));
    for (const n of nodes) {
      try {
        await ctx.rpc.call(n, "blockdev_grow", { disk: this.rpcDisk(cfg, disk, n), amount, dryrun: true });
      } catch (err) {
        throw new OpExecError(`Dry-run grow request failed to node ${n.name}: ${errText(err)}`, { cause: err });
      }
    }
    for (const n of nodes) {
      try {
        await ctx.rpc.call(n, "blockdev_grow", { disk: this.rpcDisk(cfg, disk, n), amount, dryrun: false });
      } catch (err) {
        throw new OpExecError(`Grow request failed to node ${n.name}: ${errText(err)}`, { cause: err });
      }
    }
  }

  renameInConfig(_cfg: ClusterConfig, _disks: DiskObject[], _newName: string): DirMove | null {
    return null;
  }

  async renameOnNodes(_ctx: LuContext, _inst: InstanceObject, _move: DirMove): Promise<void> {}

  /** One volume has nothing to sync: Ganeti's two lines only. */
  async waitForSync(ctx: LuContext, inst: InstanceObject, _disks: DiskObject[], opts: { oneshot?: boolean } = {}): Promise<boolean> {
    if (opts.oneshot) return true;
    logDiskSync(ctx, inst.name, "start");
    logDiskSync(ctx, inst.name, "done");
    return true;
  }
}

// OP_INSTANCE_RECREATE_DISKS (Ganeti's LUInstanceRecreateDisks): empty disks
// again, optionally with new sizes and on a new node.
import type { OpInstanceRecreateDisks } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import type { LockDecl, LockLevel, LockSet } from "../base.js";
import { checkInstanceState, INSTANCE_NOT_RUNNING } from "../common/instance-state.js";
import { checkNodeOnline, checkNodeVmCapable } from "../common/node-checks.js";
import { computeDiskSpecs } from "../common/disk-specs.js";
import { createDisks } from "../common/disks.js";
import { errText, logInfo, logWarning } from "../common/messages.js";
import { allocateRequest, allocatorName, requiredNodes, resultNodes, runAllocator } from "../iallocator.js";
import { InstanceLU } from "./instance-lu.js";

const MODIFIABLE = ["size", "spindles", "vg", "metavg"];

export class LUInstanceRecreateDisks extends InstanceLU<OpInstanceRecreateDisks> {
  private disks = new Map<number, Record<string, unknown>>();
  private newNodes: string[] = [];

  override checkArguments(): void {
    const list = this.op.disks as unknown[];
    const pairs: Array<[number, Record<string, unknown>]> = list.map((d) =>
      typeof d === "number" ? [d, {}] : (d as [number, Record<string, unknown>]),
    );
    const seen = new Set<number>();
    const dups = new Set<number>();
    for (const [i] of pairs) (seen.has(i) ? dups : seen).add(i);
    if (dups.size) throw new OpPrereqError(`Some disks have been specified more than once: ${[...dups].join(", ")}`, "wrong_input");
    if (this.op.iallocator && this.op.nodes.length) throw new OpPrereqError("Do not specify both, iallocator and node", "wrong_input");
    for (const [i, params] of pairs) {
      const bad = Object.keys(params).filter((k) => !MODIFIABLE.includes(k));
      if (bad.length)
        throw new OpPrereqError(`Parameters for disk ${i} try to change unmodifyable parameter(s): ${bad.join(", ")}`, "wrong_input");
      this.disks.set(i, params);
    }
  }

  override expandNames(): LockDecl {
    const decl = super.expandNames();
    this.newNodes = this.op.nodes.map((n) => this.cfg.expandNode(n).uuid);
    // With an allocator any node may be chosen.
    if (this.op.iallocator) decl.node = { names: "all", shared: false };
    return decl;
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level === "node" && this.op.iallocator) return { names: "all", shared: false };
    const base = super.declareLocks(level);
    if (level === "node" && base && base.names !== "all") return { ...base, names: [...new Set([...base.names, ...this.newNodes])] };
    return base;
  }

  async checkPrereq(): Promise<void> {
    const inst = this.instance;
    const instNodes = this.cfg.instanceNodes(inst);
    if (this.newNodes.length && this.newNodes.length !== instNodes.length)
      throw new OpPrereqError(
        `Instance ${inst.name} currently has ${instNodes.length} nodes, but new node configuration has ${this.newNodes.length} nodes`,
        "wrong_input",
      );
    if (inst.disk_template === "diskless") throw new OpPrereqError(`Instance '${this.op.instance_name}' has no disks`, "wrong_input");
    const oldPnode = this.pnode;
    if (!((this.op.iallocator || this.newNodes.length) && oldPnode.offline))
      await checkInstanceState(this.ctx, inst, INSTANCE_NOT_RUNNING, "cannot recreate disks");
    if (this.disks.size === 0) inst.disks.forEach((_, i) => this.disks.set(i, {}));
    const maxIdx = Math.max(...this.disks.keys());
    if (maxIdx >= inst.disks.length) throw new OpPrereqError(`Invalid disk index '${maxIdx}'`, "wrong_input");
    if ((this.newNodes.length || this.op.iallocator) && this.disks.size !== inst.disks.length)
      throw new OpPrereqError("Can't recreate disks partially and change the nodes at the same time", "wrong_input");
    for (const [, params] of this.disks) if (params["size"] !== undefined) computeDiskSpecs([params]);
    if (this.op.iallocator) {
      const name = allocatorName(this.cfg, this.op.iallocator);
      const be = this.cfg.filledBeparams(inst);
      const disks = this.cfg.instanceDisks(inst);
      const res = await runAllocator(
        this.ctx,
        name,
        allocateRequest({
          name: inst.name,
          disk_template: inst.disk_template,
          tags: inst.tags,
          os: inst.os,
          vcpus: Number(be["vcpus"]),
          memory: Number(be["maxmem"]),
          spindle_use: Number(be["spindle_use"]),
          disks: disks.map((d) => ({ size: d.size, mode: d.mode, spindles: d.spindles })),
          nics: inst.nics.map((n) => ({ mac: n.mac, ip: n.ip, mode: null, link: null, network: n.network })),
          hypervisor: inst.hypervisor,
        }),
        { hypervisor: inst.hypervisor },
      );
      this.newNodes = resultNodes(this.cfg, name, res, requiredNodes(inst.disk_template)).map((n) => n.uuid);
      logInfo(
        this.ctx,
        `Selected nodes for instance ${inst.name} via iallocator ${name}: ${this.newNodes.map((u) => this.cfg.node(u).name).join(", ")}`,
      );
    }
    for (const u of this.newNodes) {
      const n = this.cfg.node(u);
      checkNodeOnline(n);
      checkNodeVmCapable(n);
    }
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    const disks = cfg.instanceDisks(inst);
    const chosen = [...this.disks.keys()].sort((a, b) => a - b).map((i) => disks[i]!);
    for (const d of chosen) {
      for (const nu of d.nodes) {
        const node = cfg.data.nodes[nu];
        if (!node || node.offline) continue;
        try {
          await this.ctx.rpc.call(node, "blockdev_remove", { disk: cfg.rpcDisk(d) });
        } catch (err) {
          logWarning(this.ctx, `Could not remove disk ${d.iv_name} on node ${node.name}: ${errText(err)}`);
        }
      }
    }
    const newPrimary = this.newNodes[0];
    await cfg.mutate(() => {
      for (const [i, params] of this.disks) {
        const d = disks[i]!;
        if (params["size"] !== undefined) d.size = computeDiskSpecs([params])[0]!.size;
        if (params["spindles"] !== undefined) d.spindles = Number(params["spindles"]);
        if (newPrimary) d.nodes = [newPrimary];
        cfg.touch(d);
      }
      if (newPrimary) inst.primary_node = newPrimary;
      cfg.touch(inst);
    });
    await createDisks(this.ctx, inst, chosen);
    return null;
  }
}

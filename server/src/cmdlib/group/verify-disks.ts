// OP_GROUP_VERIFY_DISKS (Ganeti's LUGroupVerifyDisks): for the instances of
// a group whose disks should be active, find the disks missing on their
// nodes and the nodes that could not be asked. Result, as Ganeti's:
// [{node uuid: error}, [instances needing activate-disks], {instance:
// [[node uuid, volume], ...]}]. File disks are never "offline" (there is
// nothing to assemble), so the second list stays empty for them. drbd disks
// are asked for their mirror state on each of their nodes (each node its
// own side): one not assembled on a node (its storage daemon gone, e.g.
// after a reboot) puts the instance in the second list, as Ganeti's
// drbd_needs_activation does; activate-disks then restarts it and the
// primary resyncs the peer.
import type { GroupVerifyDisksResult, InstanceObject, NodeObject, OpGroupVerifyDisks } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";

export class LUGroupVerifyDisks extends LogicalUnit<OpGroupVerifyDisks> {
  private groupUuid = "";

  private instances(): InstanceObject[] {
    return Object.values(this.data.instances)
      .filter((i) => this.data.nodes[i.primary_node]?.group === this.groupUuid)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  expandNames(): LockDecl {
    this.groupUuid = this.cfg.expandGroup(this.op.group_name).uuid;
    return {
      nodegroup: { names: [this.groupUuid], shared: true },
      instance: { names: this.instances().map((i) => i.uuid), shared: true },
      node: { names: [], shared: true },
    };
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level !== "node") return undefined;
    const nodes = new Set<string>();
    for (const uuid of this.ctx.held("instance")) {
      const inst = this.data.instances[uuid];
      if (inst) for (const n of [inst.primary_node, ...inst.secondary_nodes]) if (this.data.nodes[n]) nodes.add(n);
    }
    return { names: [...nodes], shared: true };
  }

  checkPrereq(): void {}

  async exec(): Promise<GroupVerifyDisksResult> {
    const nodeErrors: Record<string, string> = {};
    const missing: Record<string, string[][]> = {};
    const needActivation = new Set<string>();
    // node uuid → [instance, disk] to look at there
    const perNode = new Map<string, [InstanceObject, string][]>();
    for (const inst of this.instances()) {
      if (!inst.disks_active) continue;
      for (const duuid of inst.disks) {
        const disk = this.data.disks[duuid];
        if (!disk) continue;
        for (const n of disk.nodes.length ? disk.nodes : [inst.primary_node]) {
          const node = this.data.nodes[n];
          if (!node || !node.vm_capable) continue;
          perNode.set(n, [...(perNode.get(n) ?? []), [inst, duuid]]);
        }
      }
    }
    const nodes = [...perNode.keys()].map((u) => this.data.nodes[u]).filter((n): n is NodeObject => n !== undefined);
    await Promise.all(
      nodes.map(async (node) => {
        if (node.offline) return;
        const all = perNode.get(node.uuid)!;
        const mirrored = all.filter(([, d]) => this.cfg.disk(d).dev_type === "drbd");
        const entries = all.filter(([, d]) => this.cfg.disk(d).dev_type !== "drbd");
        let sizes: (number | null)[];
        let states: unknown[];
        try {
          [sizes, states] = await Promise.all([
            entries.length
              ? this.ctx.rpc.call(node, "blockdev_getsizes", { disks: entries.map(([, d]) => this.cfg.rpcDisk(this.cfg.disk(d))) })
              : Promise.resolve([]),
            mirrored.length
              ? this.ctx.rpc.call(node, "blockdev_getmirrorstatus", {
                  disks: mirrored.map(([, d]) => this.cfg.rpcDisk(this.cfg.disk(d), node.uuid)),
                })
              : Promise.resolve([]),
          ]);
        } catch (err) {
          nodeErrors[node.uuid] = err instanceof Error ? err.message : String(err);
          return;
        }
        mirrored.forEach(([inst], i) => {
          if (states[i] === null || states[i] === undefined) needActivation.add(inst.name);
        });
        entries.forEach(([inst, d], i) => {
          if (sizes[i] !== null && sizes[i] !== undefined) return;
          const disk = this.cfg.disk(d);
          const vol = typeof disk.logical_id[1] === "string" ? disk.logical_id[1] : disk.uuid;
          (missing[inst.name] ??= []).push([node.uuid, vol]);
        });
      }),
    );
    for (const v of Object.values(missing)) v.sort((a, b) => a.join("\0").localeCompare(b.join("\0")));
    return [nodeErrors, [...needActivation].sort(), missing];
  }
}

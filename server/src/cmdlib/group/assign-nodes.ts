// OP_GROUP_ASSIGN_NODES: move nodes into a group. Splitting an internally
// mirrored (drbd) instance across groups needs force.
import type { OpGroupAssignNodes } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type LockSet } from "../base.js";
import { commaJoin, getWantedNodes, INT_MIRROR_TEMPLATES, logWarning, niceSort } from "../common/node.js";

export class LUGroupAssignNodes extends LogicalUnit<OpGroupAssignNodes> {
  private groupUuid = "";
  private nodeUuids: string[] = [];

  expandNames(): LockDecl {
    this.groupUuid = this.cfg.expandGroup(this.op.group_name).uuid;
    this.nodeUuids = getWantedNodes(this.cfg, this.op.nodes).map((n) => n.uuid);
    return {
      nodegroup: { names: [this.groupUuid], shared: false },
      node: { names: [...this.nodeUuids], shared: false },
    };
  }

  private involvedGroups(): string[] {
    return [...new Set([this.groupUuid, ...this.nodeUuids.map((u) => this.cfg.node(u).group)])];
  }

  override declareLocks(level: string): LockSet | undefined {
    // Source groups are read optimistically and re-checked in checkPrereq.
    if (level === "nodegroup") return { names: this.involvedGroups(), shared: false };
    return undefined;
  }

  checkPrereq(): void {
    const held = this.ctx.held("nodegroup");
    const expected = this.involvedGroups();
    if (held.length > 0 && (expected.some((g) => !held.includes(g)) || held.some((g) => !expected.includes(g))))
      throw new OpExecError(
        `Nodes changed groups since locks were acquired, current groups are '${commaJoin(expected)}', used to be '${commaJoin(held)}'`,
      );
    const { newSplits, previousSplits } = this.splitInstances();
    if (newSplits.length > 0) {
      const names = commaJoin(niceSort(newSplits));
      if (!this.op.force) throw new OpExecError(`The following instances get split by this change and --force was not given: ${names}`);
      logWarning(this.ctx, `This operation will split the following instances: ${names}`);
      if (previousSplits.length > 0)
        logWarning(
          this.ctx,
          `In addition, these already-split instances continue to be split across groups: ${commaJoin(niceSort(previousSplits))}`,
        );
    }
  }

  /** Ganeti's CheckAssignmentForSplitInstances (instance names). */
  private splitInstances(): { newSplits: string[]; previousSplits: string[] } {
    const nodes = this.data.nodes;
    const changed = new Map(this.nodeUuids.filter((u) => nodes[u]!.group !== this.groupUuid).map((u) => [u, this.groupUuid]));
    const newSplits: string[] = [];
    const previousSplits: string[] = [];
    for (const inst of this.cfg.instances()) {
      if (!INT_MIRROR_TEMPLATES.includes(inst.disk_template)) continue;
      const instNodes = this.cfg.instanceNodes(inst);
      const before = new Set(instNodes.map((u) => nodes[u]?.group));
      const after = new Set(instNodes.map((u) => changed.get(u) ?? nodes[u]?.group));
      if (after.size > 1 && before.size > 1) previousSplits.push(inst.name);
      else if (after.size > 1) newSplits.push(inst.name);
    }
    return { newSplits, previousSplits };
  }

  async exec(): Promise<null> {
    await this.cfg.mutate((d) => {
      const touched = new Set<string>();
      for (const u of this.nodeUuids) {
        const node = this.cfg.node(u);
        if (node.group === this.groupUuid) continue;
        touched.add(node.group).add(this.groupUuid);
        node.group = this.groupUuid;
        this.cfg.touch(node);
      }
      for (const g of touched) if (d.nodegroups[g]) this.cfg.touch(d.nodegroups[g]);
    });
    return null;
  }
}

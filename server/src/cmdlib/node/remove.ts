// OP_NODE_REMOVE: remove a node that no instance uses (never the master); the
// candidate pool is refilled and the node is told to leave the cluster.
import type { NodeObject, OpNodeRemove } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { adjustCandidatePool, logWarning } from "../common/node.js";

export class LUNodeRemove extends LogicalUnit<OpNodeRemove> {
  private node!: NodeObject;

  expandNames(): LockDecl {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    return { cluster: { names: ["cluster"], shared: false }, node: { names: "all", shared: false } };
  }

  checkPrereq(): void {
    if (this.node.uuid === this.data.cluster.master_node)
      throw new OpPrereqError("Node is the master node, failover to another node is required", "wrong_input");
    for (const inst of this.cfg.instances())
      if (this.cfg.instanceNodes(inst).includes(this.node.uuid))
        throw new OpPrereqError(`Instance ${inst.name} is still running on the node, please remove first`, "wrong_input");
  }

  async exec(): Promise<null> {
    const node = this.node;
    await this.cfg.mutate((d) => {
      adjustCandidatePool(this.ctx, d, [node.uuid]);
      delete d.nodes[node.uuid];
    });
    try {
      await this.ctx.rpc.call(node, "node_leave_cluster", { modify_ssh_setup: false });
    } catch (err) {
      logWarning(
        this.ctx,
        `Errors encountered on the remote node while leaving the cluster: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return null;
  }
}

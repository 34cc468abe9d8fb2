// OP_NODE_MIGRATE: one OP_INSTANCE_MIGRATE job per primary instance of the
// node. Result: {"jobs": [[true, id], ...]}.
import type { NodeObject, OpNodeMigrate } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type OpcodeInput, type SubmitResult } from "../base.js";
import { nodePrimaryInstances } from "../common/node.js";

export class LUNodeMigrate extends LogicalUnit<OpNodeMigrate> {
  private node!: NodeObject;

  expandNames(): LockDecl {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    return { node: { names: [this.node.uuid], shared: true } };
  }

  checkPrereq(): void {}

  async exec(): Promise<{ jobs: SubmitResult[] }> {
    const jobs: OpcodeInput[][] = nodePrimaryInstances(this.cfg, this.node.uuid).map((inst) => {
      const op: OpcodeInput = {
        OP_ID: "OP_INSTANCE_MIGRATE",
        instance_name: inst.name,
        allow_runtime_changes: this.op.allow_runtime_changes,
        ignore_ipolicy: this.op.ignore_ipolicy,
      };
      // Unset (null) options are left out so the migrate opcode's defaults apply.
      if (this.op.mode !== null) op["mode"] = this.op.mode;
      if (this.op.live !== null) op["live"] = this.op.live;
      if (this.op.iallocator !== null) op["iallocator"] = this.op.iallocator;
      if (this.op.target_node !== null) op["target_node"] = this.op.target_node;
      return [op];
    });
    return { jobs: jobs.length ? await this.ctx.submitJobs(jobs) : [] };
  }
}
